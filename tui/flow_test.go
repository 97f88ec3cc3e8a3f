package tui

// The whole flow under tmux: the real chaperone binary as the panel in a
// tmux pane, and the real chaperone binary as the agent's shell holding
// `cat ~/.ssh/id_rsa` (run on the host backend, so no container is needed).

import (
	"bytes"
	"errors"
	"github.com/chaperone-dev/chaperone/internal/itest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/broker"
)

// chaperoneBin returns the path of chaperone built, with chaperone-panel
// (which `chaperone tui` runs) and chaperone-shell beside it.
func chaperoneBin(t *testing.T) string {
	t.Helper()
	return filepath.Join(itest.Programs(t), "chaperone")
}

// flowT is a tmux with `chaperone tui` in its pane and a fake HOME with
// keys in it.
type flowT struct {
	*tmuxT
	exe  string
	home string
	proj string
}

func newFlow(t *testing.T, panel bool) *flowT {
	t.Helper()
	exe := chaperoneBin(t)
	x := newTmux(t)
	f := &flowT{tmuxT: x, exe: exe, home: filepath.Join(x.dir, "home"), proj: filepath.Join(x.dir, "proj")}
	for _, d := range []string{filepath.Join(f.home, ".ssh"), f.proj, filepath.Join(x.dir, "state")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(f.home, ".ssh", "id_rsa"), []byte("FAKE-RSA-KEY\n"), 0o600)
	os.WriteFile(filepath.Join(f.home, ".ssh", "id_ed25519"), []byte("FAKE-ED-KEY\n"), 0o600)
	x.env = append(x.env, "HOME="+f.home, "XDG_STATE_HOME="+filepath.Join(x.dir, "state"))
	// The host backend comes only from the user's config file, never from
	// the environment ($XDG_CONFIG_HOME is $dir/config, see newTmux).
	conf := filepath.Join(x.dir, "config", "chaperone", "config.toml")
	if err := os.MkdirAll(filepath.Dir(conf), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("backend = \"host\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if panel {
		x.run("respawn-pane", "-k", "-t", panelPane, "-c", f.proj, exe, "tui")
		x.waitListening("chaperone tui did not start")
		x.waitFor("nothing held", 5*time.Second)
	}
	return f
}

type shimRun struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	stderr bytes.Buffer
	done   chan struct{}
	code   int
	ended  time.Time
}

// shell runs `chaperone -c script` as an agent would, with extra env.
func (f *flowT) shell(script string, env ...string) *shimRun {
	f.t.Helper()
	return f.start(exec.Command(f.exe, "-c", script), env...)
}

// start starts cmd (a shim) in the project with the flow's env and extra env.
func (f *flowT) start(cmd *exec.Cmd, env ...string) *shimRun {
	f.t.Helper()
	r := &shimRun{cmd: cmd, done: make(chan struct{})}
	r.cmd.Dir = f.proj
	r.cmd.Env = append(append([]string{}, f.env...), env...)
	r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
	if err := r.cmd.Start(); err != nil {
		f.t.Fatal(err)
	}
	go func() {
		err := r.cmd.Wait()
		r.ended = time.Now()
		var ee *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &ee):
			r.code = ee.ExitCode()
		default:
			r.code = -1
		}
		close(r.done)
	}()
	return r
}

func (r *shimRun) wait(t *testing.T, timeout time.Duration) *shimRun {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(timeout):
		r.cmd.Process.Kill()
		<-r.done
		t.Fatalf("chaperone -c did not finish in %v; stderr:\n%s", timeout, r.stderr.String())
	}
	return r
}

func TestFlowApprove(t *testing.T) {
	f := newFlow(t, true)
	t0 := time.Now()
	r := f.shell("cat ~/.ssh/id_rsa")
	shown := f.waitFor("cat ~/.ssh/id_rsa", 10*time.Second)
	f.waitFor("HIGH", time.Second)
	settle()
	k := f.keys("y")
	r.wait(t, 10*time.Second)
	if r.code != 0 || r.stdout.String() != "FAKE-RSA-KEY\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout.String(), r.stderr.String())
	}
	t.Logf("shim started → panel shows: %v (includes the shim's start, rating and capture-pane polling)", shown.Sub(t0))
	t.Logf("keypress → approved command done: %v", r.ended.Sub(k))
	f.waitFor("nothing held", 2*time.Second)

	// A second panel refuses while this one runs.
	second := exec.Command(f.exe, "tui")
	second.Env = f.env
	out, err := second.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "an approval panel is already running") {
		t.Errorf("second panel: %v, %s", err, out)
	}
	// q quits and takes the socket away.
	sock := f.socket()
	f.keys("q")
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := os.Stat(sock); errors.Is(err, os.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("socket still there after q:\n%s", f.screen())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestFlowDenyAndNote(t *testing.T) {
	f := newFlow(t, true)
	r := f.shell("cat ~/.ssh/id_rsa")
	f.waitFor("cat ~/.ssh/id_rsa", 10*time.Second)
	settle()
	f.keys("n")
	r.wait(t, 10*time.Second)
	if r.code != 126 || r.stdout.Len() != 0 || !strings.HasPrefix(r.stderr.String(), "chaperone: held: ") || !strings.Contains(r.stderr.String(), "\nchaperone: denied: ") {
		t.Fatalf("n: exit %d, stdout %q, stderr %q", r.code, r.stdout.String(), r.stderr.String())
	}

	r = f.shell("cat ~/.ssh/id_rsa")
	f.waitFor("cat ~/.ssh/id_rsa", 10*time.Second)
	settle()
	f.keys("N")
	f.keys("-l", "use testdata/key.pem instead")
	f.waitFor("instead", 2*time.Second)
	f.keys("Enter")
	r.wait(t, 10*time.Second)
	if r.code != 126 || r.stdout.Len() != 0 || !strings.Contains(r.stderr.String(), "\nchaperone: denied: ") ||
		!strings.HasSuffix(strings.TrimSpace(r.stderr.String()), ": use testdata/key.pem instead") {
		t.Fatalf("N: exit %d, stdout %q, stderr %q", r.code, r.stdout.String(), r.stderr.String())
	}
}

func TestFlowRemember(t *testing.T) {
	f := newFlow(t, true)
	r := f.shell("cat ~/.ssh/id_rsa")
	f.waitFor("cat ~/.ssh/id_rsa", 10*time.Second)
	settle()
	f.keys("A")
	r.wait(t, 10*time.Second)
	if r.code != 0 || r.stdout.String() != "FAKE-RSA-KEY\n" {
		t.Fatalf("A: exit %d, stdout %q, stderr %q", r.code, r.stdout.String(), r.stderr.String())
	}
	f.waitFor("nothing held", 2*time.Second)
	// The same command runs without asking, saying which memory let it.
	r = f.shell("cat ~/.ssh/id_rsa", broker.HoldTimeoutEnv+"=3s").wait(t, 10*time.Second)
	if r.code != 0 || r.stdout.String() != "FAKE-RSA-KEY\n" || !strings.Contains(r.stderr.String(), "chaperone: approved by your remembered approval ") {
		t.Fatalf("same command after A: exit %d, stdout %q, stderr %q\npanel:\n%s", r.code, r.stdout.String(), r.stderr.String(), f.screen())
	}
	// Another key, of the same shape, is still held (the case).
	r = f.shell("cat ~/.ssh/id_ed25519")
	f.waitFor("cat ~/.ssh/id_ed25519", 10*time.Second)
	settle()
	f.keys("n")
	if r.wait(t, 10*time.Second); r.code != 126 || r.stdout.Len() != 0 {
		t.Fatalf("another key after A: exit %d, stdout %q, stderr %q", r.code, r.stdout.String(), r.stderr.String())
	}
}

func TestFlowTimeoutAndNoPanel(t *testing.T) {
	f := newFlow(t, true)
	r := f.shell("cat ~/.ssh/id_rsa", broker.HoldTimeoutEnv+"=1s")
	f.waitFor("cat ~/.ssh/id_rsa", 10*time.Second)
	r.wait(t, 10*time.Second)
	if r.code != 126 || r.stdout.Len() != 0 || !strings.Contains(r.stderr.String(), "nobody answered within 1s") ||
		!strings.HasPrefix(r.stderr.String(), "chaperone: held: reads credentials or secrets outside the project (secrets.read) — approve in chaperone tui (denied in 1s)\n") {
		t.Fatalf("timeout: exit %d, stdout %q, stderr %q", r.code, r.stdout.String(), r.stderr.String())
	}
	f.waitFor("nothing held", 2*time.Second)

	// No panel: told at once, denied after the grace (3s), not the hold
	// timeout.
	g := newFlow(t, false)
	start := time.Now()
	r = g.shell("cat ~/.ssh/id_rsa", broker.HoldTimeoutEnv+"=60s").wait(t, 20*time.Second)
	lines := strings.Split(strings.TrimSpace(r.stderr.String()), "\n")
	if r.code != 126 || r.stdout.Len() != 0 || len(lines) != 2 ||
		!strings.HasPrefix(lines[0], "chaperone: held: ") || !strings.HasSuffix(lines[0], "no approval panel is running: start `chaperone tui` beside the agent to approve it (denied in 3s)") ||
		!strings.HasPrefix(lines[1], "chaperone: denied: ") || !strings.Contains(lines[1], "start `chaperone tui`") {
		t.Fatalf("no panel: exit %d, stdout %q, stderr %q", r.code, r.stdout.String(), r.stderr.String())
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("no panel: denied after %v, want about the 3s grace", d)
	}
}

func TestFlowTwoShimsAndKill(t *testing.T) {
	f := newFlow(t, true)
	a := f.shell("cat ~/.ssh/id_rsa")
	b := f.shell("cat ~/.ssh/id_ed25519")
	victim := f.shell("cat ~/.ssh/id_rsa # victim")
	f.waitFor("3 held", 10*time.Second)
	victim.cmd.Process.Kill()
	victim.wait(t, 5*time.Second)
	f.waitFor("2 held", 5*time.Second)
	if strings.Contains(f.screen(), "victim\n") {
		t.Fatalf("killed shim still queued:\n%s", f.screen())
	}
	settle()
	f.keys("y")
	f.waitFor("1 held", 5*time.Second)
	settle()
	f.keys("y")
	a.wait(t, 10*time.Second)
	b.wait(t, 10*time.Second)
	if a.code != 0 || b.code != 0 || a.stdout.String() != "FAKE-RSA-KEY\n" || b.stdout.String() != "FAKE-ED-KEY\n" {
		t.Fatalf("exits %d/%d, stdout %q/%q", a.code, b.code, a.stdout.String(), b.stdout.String())
	}
}

func TestFlowSplit(t *testing.T) {
	f := newFlow(t, false)
	f.run("respawn-pane", "-k", "-t", panelPane, "-c", f.proj, "-e", "PS1=$ ", "sh")
	f.keys("-l", f.exe+" tui --split")
	f.keys("Enter")
	deadline := time.Now().Add(10 * time.Second)
	for !broker.Running(f.socket()) {
		if time.Now().After(deadline) {
			t.Fatalf("no panel after --split:\n%s\npanes: %s", f.screen(), f.run("list-panes", "-a"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	panes := strings.Fields(f.run("list-panes", "-t", "e2e:0", "-F", "#{pane_id}"))
	if len(panes) != 2 {
		t.Fatalf("panes %q, want 2", panes)
	}
	f.waitFor("approval panel opened in tmux pane "+panes[1], 5*time.Second)
}

// TestFlowThroughShellServer: a command held through chaperone-shell (the
// shim agents run), whose warm shell server asks the panel, is shown with
// the shim's own PID, runs on y and is refused on n.
func TestFlowThroughShellServer(t *testing.T) {
	f := newFlow(t, true)
	shims := filepath.Join(f.dir, "shims")
	if out, err := exec.Command(f.exe, "shims", shims).CombinedOutput(); err != nil {
		t.Fatalf("shims: %v %s", err, out)
	}
	bash := filepath.Join(shims, "bash")
	f.start(exec.Command(bash, "-c", "true")).wait(t, 10*time.Second) // starts the server
	deadline := time.Now().Add(5 * time.Second)
	for {
		socks, _ := filepath.Glob(filepath.Join(f.dir, "run", "chaperone", "shell-*.sock"))
		if len(socks) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no shell server started")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	r := f.start(exec.Command(bash, "-c", "cat ~/.ssh/id_rsa"))
	f.waitFor("cat ~/.ssh/id_rsa", 10*time.Second)
	f.waitFor("pid "+strconv.Itoa(r.cmd.Process.Pid)+" (through chaperone", 2*time.Second)
	settle()
	f.keys("y")
	r.wait(t, 10*time.Second)
	if r.code != 0 || r.stdout.String() != "FAKE-RSA-KEY\n" {
		t.Fatalf("y: exit %d, stdout %q, stderr %q", r.code, r.stdout.String(), r.stderr.String())
	}
	f.waitFor("nothing held", 2*time.Second)
	r = f.start(exec.Command(bash, "-c", "cat ~/.ssh/id_ed25519"))
	f.waitFor("cat ~/.ssh/id_ed25519", 10*time.Second)
	settle()
	f.keys("n")
	r.wait(t, 10*time.Second)
	if r.code != 126 || r.stdout.Len() != 0 || !strings.HasPrefix(r.stderr.String(), "chaperone: held: ") || !strings.Contains(r.stderr.String(), "\nchaperone: denied: ") {
		t.Fatalf("n: exit %d, stdout %q, stderr %q", r.code, r.stdout.String(), r.stderr.String())
	}
	exec.Command("pkill", "-f", "shell-server --socket "+filepath.Join(f.dir, "run")).Run()
}

// TestFlowQuitWhileHeld: q with a command held asks first; any other key
// (here n, which would deny a command) keeps the panel and the hold; y
// quits, and the held command, with no panel to answer it, is denied at
// its hold timeout.
func TestFlowQuitWhileHeld(t *testing.T) {
	f := newFlow(t, true)
	r := f.shell("cat ~/.ssh/id_rsa", broker.HoldTimeoutEnv+"=6s")
	f.waitFor("cat ~/.ssh/id_rsa", 10*time.Second)
	settle()
	f.keys("q")
	f.waitFor("1 held: quit anyway?", 2*time.Second)
	f.keys("n")
	f.waitFor("not quitting", 2*time.Second)
	time.Sleep(300 * time.Millisecond) // time for a wrong answer to arrive
	select {
	case <-r.done:
		t.Fatalf("n after q answered the held command: exit %d, stderr %q", r.code, r.stderr.String())
	default:
	}
	if !broker.Running(f.socket()) || !strings.Contains(f.screen(), "1 held") {
		t.Fatalf("declining to quit did not keep the panel and the hold:\n%s", f.screen())
	}

	f.keys("q")
	f.waitFor("1 held: quit anyway?", 2*time.Second)
	quit := time.Now()
	f.keys("y")
	for broker.Running(f.socket()) {
		if time.Since(quit) > 5*time.Second {
			t.Fatal("the panel still runs after q, y")
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.wait(t, 15*time.Second)
	if r.code != 126 || r.stdout.Len() != 0 || !strings.Contains(r.stderr.String(), "\nchaperone: denied: ") ||
		!strings.Contains(r.stderr.String(), "nobody answered within 6s") {
		t.Fatalf("after quitting: exit %d, stdout %q, stderr %q", r.code, r.stdout.String(), r.stderr.String())
	}
	if r.ended.Before(quit) {
		t.Error("the held command was answered before the panel quit")
	}
}

// rememberedIDs are the IDs `chaperone remember list` shows with scope.
func (f *flowT) rememberedIDs(t *testing.T, scope string) (ids []string, out string) {
	t.Helper()
	r := f.start(exec.Command(f.exe, "remember", "list")).wait(t, 10*time.Second)
	if r.code != 0 {
		t.Fatalf("remember list: exit %d, stderr %q", r.code, r.stderr.String())
	}
	for _, line := range strings.Split(r.stdout.String(), "\n") {
		if fields := strings.Fields(line); len(fields) > 2 && fields[1] == scope {
			ids = append(ids, fields[0])
		}
	}
	return ids, r.stdout.String()
}

// TestFlowRememberWider: W on a held command shows the wider scope, a
// second W approves and remembers it; another command in that scope then
// runs without a hold, naming the memory, while one outside it (a secret
// read) is still held; remember list shows the memory and remember
// forget removes it, after which the scope is held again.
func TestFlowRememberWider(t *testing.T) {
	f := newFlow(t, true)
	os.WriteFile(filepath.Join(f.proj, "notes.txt"), []byte("notes\n"), 0o644)
	os.MkdirAll(filepath.Join(f.proj, "sub"), 0o755)
	r := f.shell("cp notes.txt .envrc")
	f.waitFor("cp notes.txt .envrc", 10*time.Second)
	f.waitFor("HIGH", time.Second)
	settle()
	f.keys("W")
	scope := "every `cp …` in " + f.proj + ", with any paths inside it"
	f.waitFor("W again approves and remembers "+scope, 2*time.Second)
	if _, err := os.Stat(filepath.Join(f.proj, ".envrc")); err == nil {
		t.Fatal("the first W approved")
	}
	f.keys("W")
	r.wait(t, 10*time.Second)
	if r.code != 0 {
		t.Fatalf("W W: exit %d, stderr %q", r.code, r.stderr.String())
	}
	if b, _ := os.ReadFile(filepath.Join(f.proj, ".envrc")); string(b) != "notes\n" {
		t.Fatalf("W W: .envrc is %q", b)
	}
	f.waitFor("nothing held", 2*time.Second)
	ids, list := f.rememberedIDs(t, "shape")
	if len(ids) != 1 || !strings.Contains(list, ids[0]+"  shape   "+scope+" (rules persist.project)") {
		t.Fatalf("remember list after W W:\n%s", list)
	}
	id := ids[0]

	// In the scope: runs at once (a hold would be denied within 1s).
	r = f.shell("cp notes.txt sub/.envrc", broker.HoldTimeoutEnv+"=1s").wait(t, 10*time.Second)
	if r.code != 0 || !strings.HasPrefix(r.stderr.String(), "chaperone: approved by your remembered approval "+id+": ") {
		t.Fatalf("a command in the scope: exit %d, stderr %q\npanel:\n%s", r.code, r.stderr.String(), f.screen())
	}
	if _, err := os.Stat(filepath.Join(f.proj, "sub", ".envrc")); err != nil {
		t.Fatalf("a command in the scope did not run: %v", err)
	}
	// Outside it: a secret read is never part of a wider scope.
	r = f.shell("cp ~/.ssh/id_rsa .envrc")
	f.waitFor("cp ~/.ssh/id_rsa .envrc", 10*time.Second)
	settle()
	f.keys("n")
	if r.wait(t, 10*time.Second); r.code != 126 {
		t.Fatalf("a secret read after W: exit %d, stderr %q", r.code, r.stderr.String())
	}
	f.waitFor("nothing held", 2*time.Second)

	forget := f.start(exec.Command(f.exe, "remember", "forget", id)).wait(t, 10*time.Second)
	if forget.code != 0 || !strings.HasPrefix(forget.stdout.String(), "forgot "+id+": "+scope) {
		t.Fatalf("remember forget: exit %d, stdout %q, stderr %q", forget.code, forget.stdout.String(), forget.stderr.String())
	}
	if ids, list := f.rememberedIDs(t, "shape"); len(ids) != 0 || strings.Contains(list, id) {
		t.Fatalf("remember list after forget:\n%s", list)
	}
	r = f.shell("cp notes.txt sub/.envrc")
	f.waitFor("cp notes.txt sub/.envrc", 10*time.Second)
	settle()
	f.keys("n")
	if r.wait(t, 10*time.Second); r.code != 126 {
		t.Fatalf("the scope after forget: exit %d, stderr %q", r.code, r.stderr.String())
	}
}
