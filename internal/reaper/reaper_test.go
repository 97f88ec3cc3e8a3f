package reaper_test

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/internal/reaper"
)

// TestMain makes the test binary the reaper when it is started under the
// reaper's name, as chaperone and chaperone-shell are.
func TestMain(m *testing.M) {
	if reaper.Is(os.Args[0]) {
		os.Exit(reaper.Main(os.Args))
	}
	os.Exit(m.Run())
}

// reaperCmd returns the test binary started as the reaper with args, its
// result file in dir.
func reaperCmd(t *testing.T, dir string, args ...string) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := &exec.Cmd{Path: self, Args: append([]string{reaper.Name}, args...), Dir: dir,
		Env: append(os.Environ(), "D="+dir, reaper.ResultEnv+"="+filepath.Join(dir, "result")),
		// A leftover holding a pipe must not hang the test when the reaper
		// fails to end it.
		WaitDelay: 2 * time.Second}
	return cmd
}

// result reads the reaper's result file in dir.
func result(t *testing.T, dir string) reaper.Result {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "result"))
	if err != nil {
		t.Fatalf("no result file: %v", err)
	}
	r, err := reaper.ParseResult(b)
	if err != nil {
		t.Fatalf("result file %q: %v", b, err)
	}
	return r
}

// exitStatus returns cmd's exit status after Run, or fails.
func exitStatus(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee) && ee.Exited():
		return ee.ExitCode()
	}
	t.Fatalf("reaper: %v", err)
	return -1
}

// pidIn reads the pid a leftover wrote to file.
func pidIn(t *testing.T, file string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	pid, perr := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || perr != nil {
		t.Fatalf("pid file %s: %q, %v", file, b, err)
	}
	return pid
}

// running reports whether pid is a live process (not a zombie).
func running(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || len(b) < i+3 || b[i+2] != 'Z'
}

// entryFor returns the Killed entry of pid, or "".
func entryFor(r reaper.Result, pid int) string {
	for _, e := range r.Killed {
		if strings.HasPrefix(e, strconv.Itoa(pid)+" (") {
			return e
		}
	}
	return ""
}

// leftovers are the ways a command may leave a process behind: each writes
// its pid to $D/NAME, then stays (sleep 300 or a loop).
var leftovers = []struct {
	name, script string
	want         string // in its Killed entry
	argv0        string // what it stays
}{
	{"new session without the job tag", `env -u CHAPERONE_JOB setsid sh -c 'echo $$ > "$D/new session without the job tag"; exec sleep 300' &`, "(sleep) sleep 300", "sleep"},
	{"double fork", `( ( sh -c 'echo $$ > "$D/double fork"; exec sleep 300' & ) & )`, "(sleep) sleep 300", "sleep"},
	{"nohup", `nohup sh -c 'echo $$ > "$D/nohup"; exec sleep 300' >/dev/null 2>&1 &`, "(sleep) sleep 300", "sleep"},
	{"disown", `sh -c 'echo $$ > "$D/disown"; exec sleep 300' & disown`, "(sleep) sleep 300", "sleep"},
	{"renamed", `bash -c 'echo $$ > "$D/renamed"; exec -a innocent sleep 300' &`, "(sleep) innocent 300", "innocent"},
	{"ignores signals", `sh -c 'trap "" TERM HUP INT QUIT; echo $$ > "$D/ignores signals"; exec sleep 300' &`, "(sleep) sleep 300", "sleep"},
	{"keeps forking", `setsid sh -c 'echo $$ > "$D/keeps forking"; while :; do sleep 300 & sleep 0.01; done' &`, "(sh) sh -c", "sh"},
}

// waitFor is the script that waits until the leftover name has written its
// pid and, unless argv0 is empty, become the program it stays (argv[0]).
func waitFor(name, argv0 string) string {
	w := "\nuntil [ -s \"$D/" + name + "\" ]"
	if argv0 != "" {
		w += " && IFS= read -r -d '' a < /proc/$(<\"$D/" + name + "\")/cmdline && [ \"$a\" = " + argv0 + " ]"
	}
	return w + "; do sleep 0.01; done"
}

// TestLeftoversKilled runs, under the reaper, commands that leave a process
// behind in each way, and checks that the reaper's exit leaves none alive,
// names each in its result, and keeps the command's status.
func TestLeftoversKilled(t *testing.T) {
	for _, c := range leftovers {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			cmd := reaperCmd(t, dir, "job1", "--", "bash", "-c", c.script+waitFor(c.name, c.argv0)+"\nexit 7")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			code := exitStatus(t, cmd.Run())
			pid := pidIn(t, filepath.Join(dir, c.name))
			if running(pid) {
				syscall.Kill(pid, syscall.SIGKILL)
				t.Errorf("the leftover (pid %d) still runs after the reaper exited", pid)
			}
			r := result(t, dir)
			if code != 7 || r.Status != 7 {
				t.Errorf("exit %d, result status %d; want the command's 7 (stderr %q)", code, r.Status, stderr.String())
			}
			if e := entryFor(r, pid); !strings.Contains(e, c.want) {
				t.Errorf("killed %q; want pid %d listed with %q", r.Killed, pid, c.want)
			}
			if r.Left != 0 {
				t.Errorf("%d processes left", r.Left)
			}
		})
	}
}

// TestLeftoversSurviveWithoutReaper is the control: the same commands run
// by bash alone do leave their processes alive, so the check above can
// fail.
func TestLeftoversSurviveWithoutReaper(t *testing.T) {
	dir := t.TempDir()
	var script strings.Builder
	for _, c := range leftovers {
		script.WriteString(c.script + waitFor(c.name, c.argv0) + "\n")
	}
	cmd := exec.Command("bash", "-c", script.String())
	cmd.Env = append(os.Environ(), "D="+dir)
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	for _, c := range leftovers {
		pid := pidIn(t, filepath.Join(dir, c.name))
		if !running(pid) {
			t.Errorf("%s: without the reaper, the leftover did not survive", c.name)
		}
		if c.name == "keeps forking" {
			syscall.Kill(-pid, syscall.SIGKILL) // its own session and group
		}
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// TestStatus checks the status the reaper exits with and reports.
func TestStatus(t *testing.T) {
	cases := []struct {
		name string
		argv []string
		want int
	}{
		{"success", []string{"true"}, 0},
		{"exit code", []string{"sh", "-c", "exit 3"}, 3},
		{"killed by a signal", []string{"sh", "-c", "kill -TERM $$"}, 143},
		{"not found", []string{"no-such-program-here"}, 127},
		{"not executable", []string{"/dev/null"}, 126},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			code := exitStatus(t, reaperCmd(t, dir, append([]string{"job1", "--"}, c.argv...)...).Run())
			if r := result(t, dir); code != c.want || r.Status != c.want {
				t.Errorf("exit %d, result %d; want %d", code, r.Status, c.want)
			}
		})
	}
}

// TestResultHidden checks that the command does not learn where the
// result goes: not from its environment, nor, unless it is root (whom
// nothing stops on the host; the container tests check it there), from
// the reaper's.
func TestResultHidden(t *testing.T) {
	dir := t.TempDir()
	out, err := reaperCmd(t, dir, "job1", "--", "sh", "-c", `env; echo ---; tr '\0' '\n' < /proc/$PPID/environ`).Output()
	exitStatus(t, err)
	own, reapers, _ := strings.Cut(string(out), "---\n")
	if strings.Contains(own, reaper.ResultEnv) {
		t.Errorf("the command's environment has %s", reaper.ResultEnv)
	}
	if os.Getuid() != 0 && strings.Contains(reapers, reaper.ResultEnv) {
		t.Errorf("the command can read %s in the reaper's environment", reaper.ResultEnv)
	}
}

// TestResultNotFollowed plants a symbolic link where the result goes: the
// reaper must not write through it.
func TestResultNotFollowed(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious\n"), 0o600)
	os.Symlink(victim, filepath.Join(dir, "result"))
	cmd := reaperCmd(t, dir, "job1", "--", "true")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	exitStatus(t, cmd.Run())
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Errorf("the reaper wrote through the link: %q", b)
	}
	if !strings.Contains(stderr.String(), "cannot write the command's result") {
		t.Errorf("stderr %q; want the failure said", stderr.String())
	}
}

// TestTermEndsTree sends SIGTERM to the reaper (as the engine does to
// cancel) while its command ignores SIGTERM and has a leftover: within the
// grace and a little, everything is gone, and the result says what was
// killed.
func TestTermEndsTree(t *testing.T) {
	dir := t.TempDir()
	cmd := reaperCmd(t, dir, "job1", "--", "bash", "-c",
		`trap "" TERM; sh -c 'echo $$ > "$D/child"; exec sleep 300' & `+waitFor("child", "sleep")+`
echo $$ > "$D/cmd"; while :; do sleep 0.05; done`)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFile(t, filepath.Join(dir, "cmd"))
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	code := exitStatus(t, cmd.Wait())
	if d := time.Since(start); d < reaper.Grace || d > reaper.Grace+time.Second {
		t.Errorf("the reaper took %v after SIGTERM; want the grace, %v, and little more", d, reaper.Grace)
	}
	r := result(t, dir)
	for _, f := range []string{"cmd", "child"} {
		pid := pidIn(t, filepath.Join(dir, f))
		if running(pid) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Errorf("%s (pid %d) survived", f, pid)
		}
		if entryFor(r, pid) == "" {
			t.Errorf("%s (pid %d) not in the killed list %q", f, pid, r.Killed)
		}
	}
	if code != 137 || r.Status != 137 {
		t.Errorf("status %d, result %d; want 137 (the command was killed)", code, r.Status)
	}
}

// TestSignalsForwarded checks that SIGINT and SIGTERM sent to the reaper
// reach the command, which may handle them.
func TestSignalsForwarded(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			cmd := reaperCmd(t, dir, "job1", "--", "bash", "-c",
				`trap 'echo got; exit 5' INT TERM HUP QUIT; echo > "$D/ready"; while :; do sleep 0.02; done`)
			var out bytes.Buffer
			cmd.Stdout = &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitFile(t, filepath.Join(dir, "ready"))
			cmd.Process.Signal(sig)
			code := exitStatus(t, cmd.Wait())
			if out.String() != "got\n" || code != 5 {
				t.Errorf("output %q, status %d; want the command's trap to run (got, 5)", out.String(), code)
			}
		})
	}
}

// TestKillMode runs `chaperone-reaper -kill JOB` against a running job: its
// command and leftover end and are listed, and so its reaper ends; another
// job is left alone.
func TestKillMode(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	script := `setsid sh -c 'echo $$ > "$D/child"; exec sleep 300' & ` + waitFor("child", "sleep") + `
echo $$ > "$D/cmd"; sleep 300`
	job := reaperCmd(t, dir, "jobA", "--", "bash", "-c", script)
	bystander := reaperCmd(t, other, "jobB", "--", "bash", "-c", script)
	for _, c := range []*exec.Cmd{job, bystander} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		bystander.Process.Signal(syscall.SIGTERM)
		bystander.Wait()
	}()
	waitFile(t, filepath.Join(dir, "cmd"))
	waitFile(t, filepath.Join(other, "cmd"))
	out, err := reaperCmd(t, dir, "-kill", "jobA").Output()
	if err != nil {
		t.Fatalf("-kill: %v", err)
	}
	r, err := reaper.ParseResult(out)
	if err != nil {
		t.Fatalf("-kill printed %q: %v", out, err)
	}
	ended := make(chan error, 1)
	go func() { ended <- job.Wait() }()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		job.Process.Kill()
		t.Errorf("job A's reaper still runs 5 s after -kill")
	}
	for _, f := range []string{"cmd", "child"} {
		pid := pidIn(t, filepath.Join(dir, f))
		if running(pid) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Errorf("job A's %s (pid %d) survived", f, pid)
		}
		if entryFor(r, pid) == "" {
			t.Errorf("job A's %s (pid %d) not listed in %q", f, pid, r.Killed)
		}
	}
	for _, f := range []string{"cmd", "child"} {
		if pid := pidIn(t, filepath.Join(other, f)); !running(pid) {
			t.Errorf("job B's %s (pid %d) was killed too", f, pid)
		}
	}
}

// TestTermMode runs `chaperone-reaper -term JOB`: the job's reaper ends
// the command and what it left, and reports them.
func TestTermMode(t *testing.T) {
	dir := t.TempDir()
	job := reaperCmd(t, dir, "jobT", "--", "bash", "-c",
		`sh -c 'echo $$ > "$D/child"; exec sleep 300' & `+waitFor("child", "sleep")+`
echo $$ > "$D/cmd"; sleep 300`)
	if err := job.Start(); err != nil {
		t.Fatal(err)
	}
	waitFile(t, filepath.Join(dir, "cmd"))
	if err := reaperCmd(t, dir, "-term", "jobT").Run(); err != nil {
		t.Fatalf("-term: %v", err)
	}
	code := exitStatus(t, job.Wait())
	r := result(t, dir)
	if code != 143 || r.Status != 143 {
		t.Errorf("status %d, result %d; want 143 (the command died of SIGTERM)", code, r.Status)
	}
	pid := pidIn(t, filepath.Join(dir, "child"))
	if running(pid) || entryFor(r, pid) == "" {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Errorf("the leftover (pid %d): running %v, killed list %q", pid, running(pid), r.Killed)
	}
}

// TestManyLeftovers leaves more processes than the list names: all die, and
// the list ends with how many more there were.
func TestManyLeftovers(t *testing.T) {
	dir := t.TempDir()
	n := reaper.MaxListed + 20
	code := exitStatus(t, reaperCmd(t, dir, "job1", "--", "bash", "-c",
		`for i in $(seq `+strconv.Itoa(n)+`); do ( sleep 300 & ); done`).Run())
	r := result(t, dir)
	if code != 0 || len(r.Killed) != reaper.MaxListed+1 || r.Killed[reaper.MaxListed] != "and 20 more" {
		t.Errorf("status %d, killed %q; want 0, %d entries, the last \"and 20 more\"", code, r.Killed, reaper.MaxListed+1)
	}
}

// TestUsage checks that a malformed command line is refused.
func TestUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"job"}, {"job", "--"}, {"-x", "--", "true"}, {"job", "true"}, {"-kill"}} {
		err := reaperCmd(t, t.TempDir(), args...).Run()
		if code := exitStatus(t, err); code != 2 {
			t.Errorf("%q: status %d, want 2", args, code)
		}
	}
}

// waitFile waits until file exists (a command started), or fails.
func waitFile(t *testing.T, file string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if fi, err := os.Stat(file); err == nil && fi.Size() > 0 {
			return
		}
	}
	t.Fatalf("%s never appeared", file)
}

// TestKilledEntryForm leaves a process whose command line tries to forge a
// line of the result and is long: its entry stays one line, names the
// program the kernel knows, and is cut short.
func TestKilledEntryForm(t *testing.T) {
	dir := t.TempDir()
	script := `bash -c 'echo $$ > "$D/odd"; exec -a "$(printf "evil\nkilled 1 (init) forged\nleft 0\nx")` + strings.Repeat("x", 400) + `" sleep 300' &` + waitFor("odd", "") +
		"\nuntil [ \"$(cat /proc/$(cat \"$D/odd\")/comm)\" = sleep ]; do sleep 0.01; done" // exec'd
	exitStatus(t, reaperCmd(t, dir, "job1", "--", "bash", "-c", script).Run())
	r := result(t, dir)
	pid := pidIn(t, filepath.Join(dir, "odd"))
	e := entryFor(r, pid)
	if len(r.Killed) != 1 || !strings.HasPrefix(e, strconv.Itoa(pid)+" (sleep) evil?killed 1 (init) forged?left 0?xxx") {
		t.Errorf("killed %q; want only pid %d's entry, its newlines shown as ?", r.Killed, pid)
	}
	if len(e) > 200 || !strings.HasSuffix(e, "…") {
		t.Errorf("entry of %d bytes %q; want it cut to 200 with …", len(e), e)
	}
}

// TestParseResult reads results, and refuses what a reaper does not write.
func TestParseResult(t *testing.T) {
	cases := []struct {
		name, in string
		want     reaper.Result
		err      bool
	}{
		{"status only", "status 0\n", reaper.Result{}, false},
		{"killed and left", "status 137\nkilled 12 (sleep) sleep 300\nkilled stray 13 (sh) sh\nleft 2\n",
			reaper.Result{Status: 137, Killed: []string{"12 (sleep) sleep 300", "stray 13 (sh) sh"}, Left: 2}, false},
		{"empty", "", reaper.Result{}, true},
		{"no status", "killed 12 (sleep) sleep 300\n", reaper.Result{}, true},
		{"status out of range", "status 300\n", reaper.Result{}, true},
		{"unknown line", "status 0\nhello\n", reaper.Result{}, true},
		{"bad left", "status 0\nleft x\n", reaper.Result{}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := reaper.ParseResult([]byte(c.in))
			if (err != nil) != c.err {
				t.Fatalf("error %v, want error %v", err, c.err)
			}
			if c.err {
				if !errors.Is(err, reaper.ErrResult) {
					t.Errorf("error %v, want ErrResult", err)
				}
				return
			}
			if got.Status != c.want.Status || got.Left != c.want.Left || strings.Join(got.Killed, "|") != strings.Join(c.want.Killed, "|") {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
			if again, _ := reaper.ParseResult(got.Encode()); strings.Join(again.Killed, "|") != strings.Join(got.Killed, "|") || again.Status != got.Status || again.Left != got.Left {
				t.Errorf("Encode then ParseResult gave %+v, want %+v", again, got)
			}
		})
	}
}

// TestSealed runs a command sealed (Setup.Seal): its children cannot read
// what it executes through /proc. Where the reaper keeps a capability that
// reads any file (root on the host, not in a sandbox), the copy it runs
// from is readable after all, and it refuses to run the command open.
func TestSealed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := reaperCmd(t, dir, "job1", "--", "bash", "-c", `echo "BASH=$BASH"; sh -c 'readlink /proc/$PPID/exe >/dev/null 2>&1 && echo open || echo sealed'`)
	cmd.Env = append(cmd.Env, reaper.SetupEnv+"="+reaper.Setup{Seal: true}.Encode())
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	code := exitStatus(t, cmd.Run())
	if os.Geteuid() == 0 {
		if code != 126 || out.String() != "" || !strings.Contains(errb.String(), "cannot seal it") {
			t.Errorf("as root on the host: code %d, out %q, err %q; want 126, nothing run, the reason", code, out.String(), errb.String())
		}
		return
	}
	if code != 0 || out.String() != "BASH=/usr/bin/bash\nsealed\n" && out.String() != "BASH=/bin/bash\nsealed\n" {
		t.Errorf("code %d, out %q, err %q; want bash, sealed", code, out.String(), errb.String())
	}
}

// TestChannel gives the command a session's channel (Setup.Channel): a
// connection to the folder's socket "s", on descriptors 3 and 4, that no
// name reopens (a FIFO it held could be reopened through /proc/self/fd).
func TestChannel(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(dir, "s"), Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cmd := reaperCmd(t, dir, "job1", "--", "bash", "-c", `[[ -S /dev/fd/3 ]] && echo socket
{ : >/proc/self/fd/4; } 2>/dev/null && echo reopened || echo not-reopened
IFS= read -r -d '' m <&3; printf 'got:%s\0' "$m" >&4`)
	cmd.Env = append(cmd.Env, reaper.SetupEnv+"="+reaper.Setup{Channel: dir}.Encode())
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	l.SetDeadline(time.Now().Add(10 * time.Second))
	conn, err := l.AcceptUnix()
	if err != nil {
		t.Fatalf("the reaper did not connect: %v", err)
	}
	defer conn.Close()
	conn.Write([]byte("hello\x00"))
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	b := make([]byte, 64)
	n, _ := conn.Read(b)
	if got := string(b[:n]); got != "got:hello\x00" {
		t.Errorf("the channel carried back %q, want the answer to what was sent", got)
	}
	if code := exitStatus(t, cmd.Wait()); code != 0 || out.String() != "socket\nnot-reopened\n" {
		t.Errorf("code %d, out %q; want a socket that is not reopened", code, out.String())
	}
}
