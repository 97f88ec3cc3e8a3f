package sandbox_test

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/chaperone-dev/chaperone/sandbox"
)

// stdio are a job's standard files as the agent would give them: pipes
// whose other ends this test holds.
type stdio struct {
	in, out, errs  *os.File // the job's ends
	stdout, stderr chan string
}

// newStdio makes the pipes, feeds stdin (then closes it) and reads stdout
// and stderr to their end.
func newStdio(t *testing.T, stdin string) *stdio {
	t.Helper()
	s := &stdio{stdout: make(chan string, 1), stderr: make(chan string, 1)}
	var inW, outR, errR *os.File
	var err error
	if s.in, inW, err = os.Pipe(); err != nil {
		t.Fatal(err)
	}
	if outR, s.out, err = os.Pipe(); err != nil {
		t.Fatal(err)
	}
	if errR, s.errs, err = os.Pipe(); err != nil {
		t.Fatal(err)
	}
	go func() {
		io.WriteString(inW, stdin)
		inW.Close()
	}()
	for r, c := range map[*os.File]chan string{outR: s.stdout, errR: s.stderr} {
		go func() {
			b, _ := io.ReadAll(r)
			r.Close()
			c <- string(b)
		}()
	}
	t.Cleanup(s.close)
	return s
}

// close closes the job's ends (what the shell server does once they are
// handed over).
func (s *stdio) close() {
	s.in.Close()
	s.out.Close()
	s.errs.Close()
}

// job fills the job's stdio files.
func (s *stdio) job(j *sandbox.Job) *sandbox.Job {
	j.StdinFile, j.StdoutFile, j.StderrFile = s.in, s.out, s.errs
	return j
}

// read returns what c delivers, or fails t after a while.
func read(t *testing.T, c chan string, what string) string {
	t.Helper()
	select {
	case s := <-c:
		return s
	case <-time.After(20 * time.Second):
		t.Fatalf("%s did not end", what)
		return ""
	}
}

func bwrapBackend(t *testing.T, e *env) sandbox.Bwrap {
	t.Helper()
	b, ok := e.backend.(sandbox.Bwrap)
	if !ok {
		t.Fatalf("Choose(bwrap) gave a %T", e.backend)
	}
	return b
}

// execute is the other process: it starts path with the handoff's argv,
// environment and files (as 0 to 5), then the handoff is Sent. It runs in
// a process group of its own, killed at the end of the test (with whatever
// bwrap left in it).
func execute(t *testing.T, h *sandbox.Handoff, path string, argv ...string) *exec.Cmd {
	t.Helper()
	cmd := &exec.Cmd{Path: path, Args: argv, Env: h.Env,
		Stdin: h.Files[0], Stdout: h.Files[1], Stderr: h.Files[2], ExtraFiles: h.Files[3:],
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true}}
	if err := cmd.Start(); err != nil {
		h.Abort()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	h.Sent()
	return cmd
}

// handOver prepares j, has the other process execute bwrap, and closes the
// job's files on this side.
func handOver(t *testing.T, e *env, s *stdio, j *sandbox.Job) (*sandbox.Handoff, *exec.Cmd) {
	t.Helper()
	h, err := bwrapBackend(t, e).Handoff(s.job(j))
	if err != nil {
		t.Fatalf("Handoff: %v", err)
	}
	if h.Argv[0] != "bwrap" || !filepath.IsAbs(h.Path) {
		t.Fatalf("Handoff gives path %q, argv[0] %q; want bwrap's absolute path and bwrap", h.Path, h.Argv[0])
	}
	cmd := execute(t, h, h.Path, h.Argv...)
	s.close()
	return h, cmd
}

// exitCode is how the other process ended, as its parent (the agent) sees
// it: the exit status, or 128+signal.
func exitCode(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("bwrap did not end")
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestHandoff(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "bwrap")
	cases := []struct {
		name, script, stdin string
		args                []string
		out, errs           string
		code                int
	}{
		{name: "output", script: "echo out; echo err >&2", out: "out\n", errs: "err\n"},
		{name: "exit 7", script: "echo before; exit 7", out: "before\n", code: 7},
		{name: "stdin", script: "tr a-z A-Z", stdin: "piped input\n", out: "PIPED INPUT\n"},
		{name: "arguments", script: `echo "$0|$1|$2"`, args: []string{"zero", "one", "two words"}, out: "zero|one|two words\n"},
		{name: "killed by SIGTERM", script: "kill -TERM $$", code: 143},
		{name: "in the tree", script: "pwd; cat hello.txt", out: e.project + "\nfrom-host\n"},
		{name: "marker", script: "test -f /run/chaperone-sandbox && echo inside", out: "inside\n"},
		{name: "gate and status not inherited", script: "for fd in 3 4; do { : >&$fd; } 2>/dev/null && echo has $fd; done; true"},
		{name: "secrets absent", script: `echo "${GITHUB_TOKEN:-none}"`, out: "none\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newStdio(t, c.stdin)
			h, cmd := handOver(t, e, s, &sandbox.Job{Script: c.script, Args: c.args, Dir: e.project, Env: e.vars})
			code, err := h.Wait(waitCtx(t))
			out, errs := read(t, s.stdout, "stdout"), read(t, s.stderr, "stderr")
			if err != nil || code != c.code || out != c.out || errs != c.errs {
				t.Errorf("got out %q, err %q, code %d, %v; want out %q, err %q, code %d", out, errs, code, err, c.out, c.errs, c.code)
			}
			if agent := exitCode(t, cmd); agent != c.code {
				t.Errorf("the process that executed bwrap ended with %d, want %d", agent, c.code)
			}
		})
	}
}

func TestHandoffReady(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "bwrap")
	flag := filepath.Join(e.project, "handoff-ready.flag")
	calls := 0
	s := newStdio(t, "")
	h, _ := handOver(t, e, s, &sandbox.Job{Script: "cat handoff-ready.flag", Dir: e.project, Env: e.vars,
		Ready: func() {
			calls++
			time.Sleep(200 * time.Millisecond) // the command must wait for this
			os.WriteFile(flag, []byte("ready\n"), 0o644)
		}})
	code, err := h.Wait(waitCtx(t))
	out, errs := read(t, s.stdout, "stdout"), read(t, s.stderr, "stderr")
	if err != nil || code != 0 || out != "ready\n" || calls != 1 {
		t.Errorf("got %q, code %d, err %v, Ready called %d times (stderr %q); want the flag Ready wrote, read once it returned",
			out, code, err, calls, errs)
	}
}

// TestHandoffKilled kills the process that executed bwrap (as the agent
// would kill its shell) while the command sleeps: Wait reports 128+SIGKILL,
// and the command ends with it.
func TestHandoffKilled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "bwrap")
	s := newStdio(t, "")
	h, cmd := handOver(t, e, s, &sandbox.Job{Script: "echo started; sleep 1000; echo still-here", Dir: e.project, Env: e.vars})
	type result struct {
		code int
		err  error
	}
	waited := make(chan result, 1)
	ctx := waitCtx(t)
	go func() {
		code, err := h.Wait(ctx)
		waited <- result{code, err}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !running(cmd.Process.Pid, "sleep") {
		if time.Now().After(deadline) {
			t.Fatal("the command never started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	var r result
	select {
	case r = <-waited:
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not return after bwrap was killed")
	}
	if r.err != nil || r.code != 128+int(syscall.SIGKILL) {
		t.Errorf("Wait = %d, %v; want %d", r.code, r.err, 128+int(syscall.SIGKILL))
	}
	// stdout ends only when nothing in the sandbox holds it any more.
	select {
	case out := <-s.stdout:
		if out != "started\n" {
			t.Errorf("stdout %q, want started and no more", out)
		}
	case <-time.After(5 * time.Second):
		t.Error("the sandboxed command still runs after bwrap was killed")
	}
}

// running reports whether a process named name runs among pid's
// descendants.
func running(pid int, name string) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + strconv.Itoa(pid) + "/children")
	if err != nil {
		return false
	}
	for _, c := range strings.Fields(string(b)) {
		child, _ := strconv.Atoi(c)
		if comm, _ := os.ReadFile("/proc/" + c + "/comm"); strings.TrimSpace(string(comm)) == name || running(child, name) {
			return true
		}
	}
	return false
}

// TestHandoffNotStarted: the other process closes its files and exits
// without executing bwrap; Wait says the command did not start, and the
// job's Ready hook is not called (the sandbox never started).
func TestHandoffNotStarted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "bwrap")
	s := newStdio(t, "")
	readies := 0
	h, err := bwrapBackend(t, e).Handoff(s.job(&sandbox.Job{Script: "echo ran > ran.txt", Dir: e.project, Env: e.vars,
		Ready: func() { readies++ }}))
	if err != nil {
		t.Fatal(err)
	}
	cmd := execute(t, h, "/bin/sh", "sh", "-c", "exit 0")
	s.close()
	code, err := h.Wait(waitCtx(t))
	if !errors.Is(err, sandbox.ErrNotStarted) || code != 126 {
		t.Errorf("Wait = %d, %v; want 126, ErrNotStarted", code, err)
	}
	if readies != 0 {
		t.Errorf("Ready was called %d times for a sandbox that never started", readies)
	}
	exitCode(t, cmd)
	if _, err := os.Stat(filepath.Join(e.project, "ran.txt")); err == nil {
		t.Error("the command ran")
	}
}

// TestHandoffAbort: a handoff given up before it was sent leaves no end of
// its pipes open, and the job's own files as they were.
func TestHandoffAbort(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "bwrap")
	s := newStdio(t, "")
	h, err := bwrapBackend(t, e).Handoff(s.job(&sandbox.Job{Script: "true", Dir: e.project, Env: e.vars}))
	if err != nil {
		t.Fatal(err)
	}
	pipes := map[string]bool{}
	for _, f := range h.Files[3:] {
		l, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
		if err != nil || !strings.HasPrefix(l, "pipe:") {
			t.Fatalf("handoff file %s is %q, %v; want a pipe", f.Name(), l, err)
		}
		pipes[l] = true
	}
	h.Abort()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ents {
		if l, err := os.Readlink("/proc/self/fd/" + d.Name()); err == nil && pipes[l] {
			t.Errorf("fd %s is still open on the gate or status %s", d.Name(), l)
		}
	}
	if _, err := s.out.WriteString("still open\n"); err != nil {
		t.Errorf("the job's stdout after Abort: %v", err)
	}
	s.close()
	if out := read(t, s.stdout, "stdout"); out != "still open\n" {
		t.Errorf("stdout %q", out)
	}
}

// TestHandoffContextEnded: Wait with a ctx that has already ended returns
// at once, but the gate opens all the same (the command has been decided),
// and the command runs to its end in the other process, whose parent (the
// agent) sees the command's own status and the end of its output.
func TestHandoffContextEnded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "bwrap")
	s := newStdio(t, "")
	h, cmd := handOver(t, e, s, &sandbox.Job{Script: "sleep 0.2; echo ran; exit 3", Dir: e.project, Env: e.vars})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	code, err := h.Wait(ctx)
	if !errors.Is(err, context.Canceled) || time.Since(start) > 300*time.Millisecond {
		t.Errorf("Wait with an ended ctx = %d, %v after %v; want context.Canceled at once", code, err, time.Since(start))
	}
	select {
	case out := <-s.stdout:
		if out != "ran\n" {
			t.Errorf("stdout %q, want the command's output", out)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the command's output never ended (is a bwrap process stuck, holding it?)")
	}
	if agent := exitCode(t, cmd); agent != 3 {
		t.Errorf("the process that executed bwrap ended with %d, want the command's 3", agent)
	}
}

// TestHandoffContextEnds: ctx ends while the command runs; Wait returns,
// and the command goes on to its end with its own status.
func TestHandoffContextEnds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "bwrap")
	s := newStdio(t, "")
	h, cmd := handOver(t, e, s, &sandbox.Job{Script: "echo started; sleep 1; echo ran; exit 3", Dir: e.project, Env: e.vars})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	waited := make(chan error, 1)
	go func() {
		_, err := h.Wait(ctx)
		waited <- err
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !running(cmd.Process.Pid, "sleep") {
		if time.Now().After(deadline) {
			t.Fatal("the command never started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-waited:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Wait = %v, want context.Canceled", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Wait did not return when ctx ended")
	}
	if out := read(t, s.stdout, "stdout"); out != "started\nran\n" {
		t.Errorf("stdout %q, want the command's whole output", out)
	}
	if agent := exitCode(t, cmd); agent != 3 {
		t.Errorf("the process that executed bwrap ended with %d, want the command's 3", agent)
	}
}

func TestHandoffRefuses(t *testing.T) {
	t.Parallel()
	t.Run("a terminal", func(t *testing.T) {
		t.Parallel()
		master, slave, err := pty.Open()
		if err != nil {
			t.Fatal(err)
		}
		defer master.Close()
		defer slave.Close()
		h, err := sandbox.Bwrap{}.Handoff(&sandbox.Job{Script: "true", StdinFile: slave, StdoutFile: slave, StderrFile: slave})
		if err == nil || h != nil {
			t.Errorf("Handoff of a job on a terminal = %v, %v; want an error", h, err)
		}
	})
	t.Run("no files", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, "bwrap")
		h, err := bwrapBackend(t, e).Handoff(&sandbox.Job{Script: "true", Dir: e.project, Env: e.vars,
			Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard})
		if err == nil || h != nil {
			t.Errorf("Handoff of a job without stdio files = %v, %v; want an error", h, err)
		}
	})
}
