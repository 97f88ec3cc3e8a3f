package sandbox_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/internal/itest"
	"github.com/chaperone-dev/chaperone/sandbox"
)

// TestMain makes the test binary behave as chaperone does: inside a sandbox
// it is plain bash (the Codex re-exec test mounts it at the shell path), and
// with CHAPERONE_TEST_SHIM it runs one job, as a shim would, for the kill
// tests (with CHAPERONE_TEST_OPEN=1, one whose write to the guarded files a
// person approved).
func TestMain(m *testing.M) {
	if sandbox.Inside() {
		err := sandbox.ExecBash(os.Args)
		fmt.Fprintln(os.Stderr, "chaperone:", err)
		os.Exit(127)
	}
	if spec := os.Getenv("GUARD_TEST_HOLD"); spec != "" {
		os.Exit(sandbox.HoldChild(spec))
	}
	if name := os.Getenv("CHAPERONE_TEST_SHIM"); name != "" {
		os.Exit(shimMain(name))
	}
	code := m.Run()
	itest.RemovePrograms()
	os.Exit(code)
}

// shimMain runs the script in $CHAPERONE_TEST_SCRIPT through backend name,
// in the current directory, like the shim would (ctx ends on SIGTERM/INT).
func shimMain(name string) int {
	ctx, stop := signalContext()
	defer stop()
	b, err := sandbox.Choose(name, testConfig(os.Getenv("CHAPERONE_TEST_EXTRA")), os.Environ())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if eng, ok := b.(sandbox.Engine); ok {
		eng.Reaper = os.Getenv("CHAPERONE_TEST_REAPER")
		b = eng
	}
	dir, _ := os.Getwd()
	go func() {
		<-ctx.Done()
		fmt.Fprintln(os.Stderr, time.Now().Format("15:04:05.000"), "signalled")
	}()
	code, err := b.Run(ctx, &sandbox.Job{Script: os.Getenv("CHAPERONE_TEST_SCRIPT"), Dir: dir, Env: os.Environ(),
		StdinFile: os.Stdin, StdoutFile: os.Stdout, StderrFile: os.Stderr, OpenGuarded: os.Getenv("CHAPERONE_TEST_OPEN") == "1"})
	fmt.Fprintln(os.Stderr, time.Now().Format("15:04:05.000"), "run returned", code, err)
	return code
}

// testConfig is the sandbox config of the tests: the test image, small
// limits, and extra as an extra read-only mount.
func testConfig(extra string) config.SandboxConfig {
	return config.SandboxConfig{Image: testImage(), Memory: "256m", CPUs: "1", Pids: 200, Mounts: []string{extra}}
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
}

func testImage() string {
	if v := os.Getenv("CHAPERONE_TEST_IMAGE"); v != "" {
		return v
	}
	return "chaperone-test:latest"
}

func has(kind, image string) bool {
	if _, err := exec.LookPath(kind); err != nil {
		return false
	}
	if kind == "bwrap" {
		return exec.Command("bwrap", "--unshare-user", "--unshare-net", "--ro-bind", "/", "/", "/bin/true").Run() == nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, kind, "image", "inspect", image).Run() == nil
}

// env is a fixture: a project (a git repo) and a fake home with secrets.
type env struct {
	backend sandbox.Backend
	project string
	home    string
	tmp     string
	vars    []string
}

func newEnv(t *testing.T, kind string) *env {
	t.Helper()
	itest.Require(t, kind+" (with image "+testImage()+")", has(kind, testImage()))
	root := t.TempDir()
	e := &env{project: filepath.Join(root, "proj"), home: filepath.Join(root, "home"), tmp: filepath.Join(root, "tmp")}
	for _, d := range []string{e.project + "/.git/hooks", e.project + "/sub", e.home + "/.ssh", e.home + "/.claude/shell-snapshots", e.tmp, root + "/state"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(e.project+"/.git/config", []byte("[core]\n"), 0o644)
	os.WriteFile(e.project+"/hello.txt", []byte("from-host\n"), 0o644)
	os.WriteFile(e.home+"/.ssh/id_ed25519", []byte("PRIVATE KEY\n"), 0o600)
	e.vars = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + e.home, "TMPDIR=" + e.tmp, "TERM=xterm",
		"XDG_STATE_HOME=" + root + "/state", "LANG=C.UTF-8",
		"GEMINI_API_KEY=gem-secret", "AWS_SECRET_ACCESS_KEY=aws-secret", "GITHUB_TOKEN=gh-secret", "MY_API_TOKEN=tok-secret"}
	extra := filepath.Join(root, "extra")
	os.MkdirAll(extra, 0o755)
	os.WriteFile(extra+"/data.txt", []byte("extra-data\n"), 0o644)
	e.vars = append(e.vars, "CHAPERONE_TEST_EXTRA="+extra)
	b, err := sandbox.Choose(kind, testConfig(extra), e.vars)
	if err != nil {
		t.Fatal(err)
	}
	e.backend = b
	if eng, ok := b.(sandbox.Engine); ok {
		// The test binary is not static; the commands' reaper is
		// chaperone-shell, built as scripts/install does.
		eng.Reaper = filepath.Join(itest.Programs(t), "chaperone-shell")
		e.vars = append(e.vars, "CHAPERONE_TEST_REAPER="+eng.Reaper)
		e.backend = eng
		t.Cleanup(func() { eng.Down(context.Background(), e.project, e.vars) })
	}
	return e
}

// run runs script in dir (relative to the project) with pipes.
func (e *env) run(t *testing.T, script, stdin string) (string, string, int) {
	t.Helper()
	return e.runJob(t, &sandbox.Job{Script: script, Stdin: strings.NewReader(stdin)})
}

// runJob runs j (with the env's folder and variables) and returns its
// stdout, stderr and status.
func (e *env) runJob(t *testing.T, j *sandbox.Job) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	script := j.Script
	j.Dir, j.Env, j.Stdout, j.Stderr = e.project, e.vars, &out, &errb
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code, err := e.backend.Run(ctx, j)
	if err != nil {
		t.Fatalf("run %q: %v (stderr %q)", script, err, errb.String())
	}
	return out.String(), errb.String(), code
}

var kinds = []string{"docker", "podman", "bwrap"}

func TestBackends(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, kind)
			e.run(t, "true", "") // creates the container, if any
			cases := []struct {
				name, script, stdin string
				check               func(t *testing.T, out, errs string, code int)
			}{
				{"output and exit code", "echo out; echo err >&2; exit 3", "", func(t *testing.T, out, errs string, code int) {
					if out != "out\n" || errs != "err\n" || code != 3 {
						t.Errorf("got out %q err %q code %d; want out, err, 3", out, errs, code)
					}
				}},
				{"stdin", "tr a-z A-Z", "piped input\n", func(t *testing.T, out, errs string, code int) {
					if out != "PIPED INPUT\n" || code != 0 {
						t.Errorf("got %q code %d", out, code)
					}
				}},
				{"signal exit status", "kill -TERM $$", "", func(t *testing.T, out, errs string, code int) {
					if code != 143 {
						t.Errorf("got code %d, want 143", code)
					}
				}},
				{"shared tree", "pwd; cat hello.txt; echo from-sandbox > made.txt", "", func(t *testing.T, out, errs string, code int) {
					if out != e.project+"\nfrom-host\n" {
						t.Errorf("got %q (%s)", out, errs)
					}
					if b, _ := os.ReadFile(e.project + "/made.txt"); string(b) != "from-sandbox\n" {
						t.Errorf("file made in the sandbox reads %q on the host", b)
					}
				}},
				{"no network", "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '", "", func(t *testing.T, out, errs string, code int) {
					if out != "lo\n" {
						t.Errorf("interfaces %q, want only lo", out)
					}
				}},
				{"no capabilities", "grep CapEff /proc/self/status", "", func(t *testing.T, out, errs string, code int) {
					if !strings.Contains(out, "0000000000000000") {
						t.Errorf("got %q", out)
					}
				}},
				{"read-only root", "touch /probe-root", "", func(t *testing.T, out, errs string, code int) {
					if code == 0 {
						t.Error("could write /")
					}
				}},
				{"git hooks and config read-only", "touch .git/hooks/pre-commit; echo x >> .git/config", "", func(t *testing.T, out, errs string, code int) {
					if _, err := os.Stat(e.project + "/.git/hooks/pre-commit"); err == nil {
						t.Error("a hook was planted")
					}
					if b, _ := os.ReadFile(e.project + "/.git/config"); string(b) != "[core]\n" {
						t.Errorf(".git/config changed to %q", b)
					}
				}},
				{"secrets absent", "env", "", func(t *testing.T, out, errs string, code int) {
					for _, s := range []string{"GEMINI_API_KEY", "AWS_", "_TOKEN", "secret"} {
						if strings.Contains(out, s) {
							t.Errorf("%s reached the sandbox", s)
						}
					}
					if !strings.Contains(out, "TERM=xterm") || !strings.Contains(out, "HOME="+e.home) {
						t.Errorf("allowed variables missing: %s", out)
					}
				}},
				{"home invisible", `ls -A "$HOME"; cat "$HOME/.ssh/id_ed25519"`, "", func(t *testing.T, out, errs string, code int) {
					if strings.Contains(out, "PRIVATE") || strings.Contains(out, ".ssh") {
						t.Errorf("host home visible: %q", out)
					}
				}},
				{"marker", "test -f /run/chaperone-sandbox && echo inside", "", func(t *testing.T, out, errs string, code int) {
					if out != "inside\n" {
						t.Errorf("got %q", out)
					}
				}},
				{"no docker socket", "ls /var/run/docker.sock /run/docker.sock /run/podman/podman.sock 2>&1 | grep -v 'No such'", "", func(t *testing.T, out, errs string, code int) {
					if out != "" {
						t.Errorf("engine socket visible: %q", out)
					}
				}},
				{"extra read-only mount", "cat ../extra/data.txt; touch ../extra/new", "", func(t *testing.T, out, errs string, code int) {
					if out != "extra-data\n" || code == 0 {
						t.Errorf("got %q, code %d; want the file, and no write", out, code)
					}
				}},
				{"pipes without a terminal", "[ -t 0 ] || [ -t 1 ] || echo pipes", "", func(t *testing.T, out, errs string, code int) {
					if out != "pipes\n" {
						t.Errorf("got %q", out)
					}
				}},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					out, errs, code := e.run(t, c.script, c.stdin)
					c.check(t, out, errs, code)
				})
			}
			t.Run("ready before the command", func(t *testing.T) { testReady(t, e) })
			if eng, ok := e.backend.(sandbox.Engine); ok {
				t.Run("limits", func(t *testing.T) { testLimits(t, eng, e) })
			}
			t.Run("terminal", func(t *testing.T) { testTTY(t, e, false) })
			t.Run("claude wrapper", func(t *testing.T) { testClaude(t, e) })
			t.Run("gemini wrapper", func(t *testing.T) { testGemini(t, e) })
			t.Run("codex re-exec", func(t *testing.T) { testCodex(t, e) })
			for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGKILL} {
				t.Run("kill "+sig.String(), func(t *testing.T) { testKill(t, e, kind, sig) })
			}
		})
	}
}

// testTTY runs a job on a terminal: it must see one, of the agent's size,
// read what is typed, and follow a resize. open: the job is one whose
// write to the guarded files a person approved.
func testTTY(t *testing.T, e *env, open bool) {
	master, slave, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	pty.Setsize(master, &pty.Winsize{Rows: 33, Cols: 77})
	var mu sync.Mutex
	var out bytes.Buffer
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := master.Read(b)
			mu.Lock()
			out.Write(b[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	// The size first, and after a resize (SIGWINCH, as a terminal sends
	// its foreground processes).
	j := &sandbox.Job{Script: "[ -t 0 ] && [ -t 1 ] && echo is-a-tty; stty size; read -r line; echo got $line; " +
		// docker resizes the container's terminal through the daemon,
		// which a busy machine (the whole suite at once) makes slow.
		"for i in $(seq 200); do s=$(stty size); [ \"$s\" = '44 99' ] && break; sleep 0.1; done; echo $s",
		Dir: e.project, Env: e.vars, StdinFile: slave, StdoutFile: slave, StderrFile: slave, OpenGuarded: open}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	go func() {
		for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			mu.Lock()
			s := out.String()
			mu.Unlock()
			if strings.Contains(s, "33 77") {
				break
			}
		}
		pty.Setsize(master, &pty.Winsize{Rows: 44, Cols: 99})
		syscall.Kill(os.Getpid(), syscall.SIGWINCH)
		time.Sleep(300 * time.Millisecond) // let the resize land
		master.Write([]byte("typed\r"))
	}()
	code, err := e.backend.Run(ctx, j)
	if err != nil || code != 0 {
		t.Fatalf("code %d, err %v", code, err)
	}
	// The output may still be on its way through the terminal.
	var s string
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		s = out.String()
		mu.Unlock()
		if strings.Contains(s, "44 99") {
			break
		}
	}
	if !strings.Contains(s, "is-a-tty") || !strings.Contains(s, "33 77") || !strings.Contains(s, "got typed") || !strings.Contains(s, "44 99") {
		t.Errorf("terminal output %q; want is-a-tty, size 33 77, got typed, then size 44 99", s)
	}
}

func testClaude(t *testing.T, e *env) {
	snap := e.home + "/.claude/shell-snapshots/snapshot-bash-1-abc.sh"
	os.WriteFile(snap, []byte("snapfn() { echo snapshot-sourced; }\n"), 0o644)
	cwdFile := e.tmp + "/claude-1a2b-cwd"
	script := "source " + snap + ` 2>/dev/null || true && \builtin shopt -u extglob 2>/dev/null || true && eval 'snapfn; cd sub' < /dev/null && pwd -P >| ` + cwdFile
	// The files the shim found in the wrapper (shim's Unwrap).
	out, errs, code := e.runJob(t, &sandbox.Job{Script: script, Outputs: []string{cwdFile}, Inputs: []string{snap}})
	if out != "snapshot-sourced\n" || code != 0 {
		t.Errorf("got %q, %q, code %d", out, errs, code)
	}
	if b, err := os.ReadFile(cwdFile); err != nil || string(b) != e.project+"/sub\n" {
		t.Errorf("cwd file on the host: %q, %v; want %q", b, err, e.project+"/sub\n")
	}
}

func testGemini(t *testing.T, e *env) {
	os.MkdirAll(e.tmp+"/gemini-shell-xyz", 0o700)
	bg := e.tmp + "/gemini-shell-xyz/bgpids.tmp"
	script := "shopt -u promptvars nullglob extglob nocaseglob dotglob; _bgpids_file=" + bg + "\n(\n  trap 'jobs -p > \"$_bgpids_file\"' EXIT\necho gemini-ok; sleep 0.2 &\n)\n__code=$?\nexit $__code"
	out, errs, code := e.runJob(t, &sandbox.Job{Script: script, Outputs: []string{bg}})
	if out != "gemini-ok\n" || code != 0 {
		t.Errorf("got %q, %q, code %d", out, errs, code)
	}
	if b, err := os.ReadFile(bg); err != nil || len(strings.TrimSpace(string(b))) == 0 {
		t.Errorf("bgpids file on the host: %q, %v", b, err)
	}
}

func testCodex(t *testing.T, e *env) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The agent knows chaperone by this path; inside, it must be bash.
	var out, errb bytes.Buffer
	j := &sandbox.Job{Script: "exec '" + self + "' -c 'echo codex-ok $0 $#' a b", Dir: e.project, Env: e.vars, Shell: self,
		Stdout: &out, Stderr: &errb}
	code, err := e.backend.Run(context.Background(), j)
	if err != nil || code != 0 || out.String() != "codex-ok a 1\n" {
		t.Errorf("got %q, %q, code %d, %v", out.String(), errb.String(), code, err)
	}
}

// testKill starts a shim process running a heartbeat loop in the sandbox,
// kills the shim's whole process group with sig, and checks that the loop
// stops within 2 s. vars are more variables for the shim.
func testKill(t *testing.T, e *env, kind string, sig syscall.Signal, vars ...string) {
	beat := filepath.Join(e.project, "beat-"+sig.String()+strings.Join(vars, ""))
	cmd := exec.Command(os.Args[0])
	cmd.Dir = e.project
	cmd.Env = append(append(e.vars, "CHAPERONE_TEST_SHIM="+kind,
		"CHAPERONE_TEST_SCRIPT=while :; do echo x >> "+beat+"; sleep 0.1; done"), vars...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	defer func() {
		if t.Failed() {
			t.Logf("shim stderr: %s", errb.String())
		}
	}()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for size(beat) == 0 {
		if time.Now().After(deadline) {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			cmd.Wait()
			t.Fatal("the loop never started")
		}
		time.Sleep(50 * time.Millisecond)
	}
	syscall.Kill(-cmd.Process.Pid, sig)
	killed := time.Now()
	t.Logf("%s %v sent", killed.Format("15:04:05.000"), sig)
	go cmd.Wait()
	time.Sleep(2 * time.Second)
	before := size(beat)
	time.Sleep(600 * time.Millisecond)
	if after := size(beat); after != before {
		if fi, err := os.Stat(beat); err == nil {
			t.Logf("beat last written %s", fi.ModTime().Format("15:04:05.000"))
		}
		t.Errorf("the sandboxed loop still runs %v after %v to the shim", time.Since(killed).Round(time.Millisecond), sig)
		if eng, ok := e.backend.(sandbox.Engine); ok {
			exec.Command(eng.Kind, "rm", "-f", sandbox.ContainerName(e.project)).Run()
		}
	}
}

func size(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// testLimits reads the container's settings back from the engine.
func testLimits(t *testing.T, eng sandbox.Engine, e *env) {
	out, err := exec.Command(eng.Kind, "container", "inspect", "--format",
		"{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} {{.HostConfig.ReadonlyRootfs}} {{.HostConfig.NetworkMode}} {{.HostConfig.CapDrop}} {{.HostConfig.SecurityOpt}}",
		sandbox.ContainerName(e.project)).CombinedOutput()
	if err != nil {
		t.Fatalf("inspect: %v: %s", err, out)
	}
	got := strings.TrimSpace(string(out))
	for _, want := range []string{"268435456 1000000000 200 true none", "no-new-privileges"} {
		if !strings.Contains(got, want) {
			t.Errorf("container settings %q lack %q", got, want)
		}
	}
	// docker says ALL; podman lists the default capabilities it dropped.
	if !strings.Contains(got, "ALL") && !strings.Contains(got, "CAP_SETUID") {
		t.Errorf("container settings %q drop no capabilities", got)
	}
}

// testReady checks that the job's Ready hook has run, once and to its end,
// before the command starts (bwrap runs it while the jail is being set up,
// and holds the command until it returns).
func testReady(t *testing.T, e *env) {
	flag := filepath.Join(e.project, "ready.flag")
	calls := 0
	var out, errb bytes.Buffer
	j := &sandbox.Job{Script: "cat ready.flag", Dir: e.project, Env: e.vars, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Ready: func() {
			calls++
			time.Sleep(100 * time.Millisecond) // the command must wait for this
			os.WriteFile(flag, []byte("ready\n"), 0o644)
		}}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code, err := e.backend.Run(ctx, j)
	if err != nil || code != 0 || out.String() != "ready\n" || calls != 1 {
		t.Errorf("got %q, code %d, err %v, Ready called %d times (stderr %q); want the flag Ready wrote, read once it returned", out.String(), code, err, calls, errb.String())
	}
}
