package sessions

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/chaperone-dev/chaperone/internal/itest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	sweepContainers()
	itest.RemovePrograms()
	os.Exit(code)
}

// roots are the folders of every world made, for sweepContainers.
var roots struct {
	sync.Mutex
	dirs []string
}

// sweepContainers removes what containers chaperone left for any world
// after all tests (one may still have been starting when its world
// removed its project's).
func sweepContainers() {
	roots.Lock()
	defer roots.Unlock()
	for _, engine := range []string{"docker", "podman"} {
		if len(roots.dirs) == 0 || !available(engine) {
			continue
		}
		out, _ := exec.Command(engine, "ps", "-aq", "--filter", "label=chaperone.project").Output()
		ids := strings.Fields(string(out))
		if len(ids) == 0 {
			continue
		}
		out, _ = exec.Command(engine, append([]string{"inspect", "-f", `{{.Id}} {{index .Config.Labels "chaperone.project"}}`}, ids...)...).Output()
		var mine []string
		for _, l := range strings.Split(string(out), "\n") {
			id, project, _ := strings.Cut(l, " ")
			for _, r := range roots.dirs {
				if strings.HasPrefix(project, r+"/") {
					mine = append(mine, id)
					break
				}
			}
		}
		if len(mine) > 0 {
			exec.Command(engine, append([]string{"rm", "-f"}, mine...)...).Run()
		}
	}
}

// testImage is the image of the docker and podman sandboxes (built by
// .ci/run; never pulled).
const testImage = "chaperone-test:latest"

// backends are the sandboxes every session runs on.
var backends = []string{"bwrap", "docker", "podman"}

var avail struct {
	sync.Mutex
	m map[string]bool
}

// available reports whether the backend can run here.
func available(name string) bool {
	avail.Lock()
	defer avail.Unlock()
	if v, ok := avail.m[name]; ok {
		return v
	}
	var ok bool
	switch name {
	case "bwrap":
		ok = exec.Command("bwrap", "--unshare-user", "--unshare-pid", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true").Run() == nil
	case "docker":
		ok = exec.Command("docker", "image", "inspect", testImage).Run() == nil
	case "podman":
		ok = exec.Command("podman", "image", "exists", testImage).Run() == nil
	}
	if avail.m == nil {
		avail.m = map[string]bool{}
	}
	avail.m[name] = ok
	return ok
}

// world is one fake user: HOME with a fake private key, the XDG folders,
// a git project with a sub folder holding a venv-style activate script
// and a program in the venv's bin, and chaperone's config for one
// backend. No panel runs: a held statement is denied after the short
// hold timeout.
type world struct {
	t       testing.TB
	backend string
	bin     string // chaperone's programs
	root    string
	home    string
	proj    string
	state   string
	conf    string // chaperone's config file's text
	env     []string
}

func newWorld(t testing.TB, backend string) *world {
	t.Helper()
	itest.Require(t, backend, available(backend))
	bin := itest.Programs(t)
	root, err := os.MkdirTemp("", "chs") // short: socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	roots.Lock()
	roots.dirs = append(roots.dirs, root)
	roots.Unlock()
	w := &world{t: t, backend: backend, bin: bin, root: root, home: root + "/home", state: root + "/state"}
	w.proj = w.home + "/proj"
	t.Cleanup(func() {
		w.removeContainers()
		os.RemoveAll(root)
	})
	conf := fmt.Sprintf("backend = %q\nhold_timeout = \"300ms\"\n", backend)
	if backend == "docker" || backend == "podman" {
		conf += "\n[sandbox]\nimage = \"" + testImage + "\"\nmemory = \"512m\"\ncpus = \"1\"\n"
	}
	w.conf = conf
	venv := w.proj + "/sub/.venv"
	for _, f := range []struct {
		path, text string
		mode       os.FileMode
	}{
		{root + "/config/chaperone/config.toml", conf, 0o600},
		{w.home + "/.ssh/id_rsa", "-----BEGIN OPENSSH PRIVATE KEY-----\nFAKE-KEY\n-----END OPENSSH PRIVATE KEY-----\n", 0o600},
		{w.proj + "/README.md", "# a project\n", 0o644},
		{venv + "/bin/activate", "# source me\nexport VIRTUAL_ENV=" + venv + "\nexport PATH=\"$VIRTUAL_ENV/bin:$PATH\"\n", 0o644},
		{venv + "/bin/venv-hello", "#!/bin/sh\necho \"venv-hello from $VIRTUAL_ENV\"\n", 0o755},
	} {
		if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f.path, []byte(f.text), f.mode); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{root + "/run", root + "/tmp", w.state} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("git", "init", "-q", w.proj).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	w.env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + w.home, "XDG_CONFIG_HOME=" + root + "/config",
		"XDG_STATE_HOME=" + w.state, "XDG_RUNTIME_DIR=" + root + "/run", "TMPDIR=" + root + "/tmp", "LANG=C.UTF-8",
		"TERM=xterm-256color", "CHAPERONE_HOLD_TIMEOUT=300ms"}
	return w
}

// appendConfig adds text to the world's config file.
func (w *world) appendConfig(text string) {
	w.t.Helper()
	w.conf += text
	if err := os.WriteFile(filepath.Join(w.root, "config", "chaperone", "config.toml"), []byte(w.conf), 0o600); err != nil {
		w.t.Fatal(err)
	}
}

// otherConfig writes text as the config file of another config folder
// of the world, and returns the world's environment with that folder as
// XDG_CONFIG_HOME.
func (w *world) otherConfig(name, text string) []string {
	w.t.Helper()
	dir := filepath.Join(w.root, name)
	if err := os.MkdirAll(filepath.Join(dir, "chaperone"), 0o700); err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "chaperone", "config.toml"), []byte(text), 0o600); err != nil {
		w.t.Fatal(err)
	}
	return append(slices.Clip(w.env), "XDG_CONFIG_HOME="+dir) // the last one counts
}

// auditDir is where the world's chaperone keeps its audit log.
func (w *world) auditDir() string { return filepath.Join(w.state, "chaperone", "audit") }

// removeContainers removes the containers chaperone made for the
// world's project.
func (w *world) removeContainers() {
	if w.backend != "docker" && w.backend != "podman" {
		return
	}
	out, _ := exec.Command(w.backend, "ps", "-aq", "--filter", "label=chaperone.project="+w.proj).Output()
	if ids := strings.Fields(string(out)); len(ids) > 0 {
		exec.Command(w.backend, append([]string{"rm", "-f"}, ids...)...).Run()
	}
}

// transports are the two ways an agent's commands reach a session.
var transports = []string{"pty", "pipe"}

// shell is chaperone started as a session in the world's project, with
// stdin (and stdout and stderr, together) a PTY or pipes.
type shell struct {
	t   testing.TB
	cmd *exec.Cmd
	in  io.WriteCloser
	out outBuf
	// done is closed when chaperone has ended (err is Wait's).
	done chan struct{}
	err  error
}

// start starts chaperone in the project's dir (relative to the
// project) with stdin, stdout and stderr a new PTY (transport "pty") or
// stdin a pipe and stdout and stderr one other pipe ("pipe").
func (w *world) start(transport, dir string) *shell {
	w.t.Helper()
	cmd := exec.Command(filepath.Join(w.bin, "chaperone"))
	cmd.Dir, cmd.Env = filepath.Join(w.proj, dir), w.env
	sh := &shell{t: w.t, cmd: cmd, done: make(chan struct{})}
	var src io.Reader
	switch transport {
	case "pty":
		ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 250})
		if err != nil {
			w.t.Fatal(err)
		}
		sh.in, src = ptmx, ptmx
	case "pipe":
		inR, inW, err := os.Pipe()
		if err != nil {
			w.t.Fatal(err)
		}
		outR, outW, err := os.Pipe()
		if err != nil {
			w.t.Fatal(err)
		}
		cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, outW
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			w.t.Fatal(err)
		}
		inR.Close()
		outW.Close()
		sh.in, src = inW, outR
	default:
		w.t.Fatalf("unknown transport %q", transport)
	}
	go sh.out.fill(src)
	go func() { sh.err = cmd.Wait(); close(sh.done) }()
	w.t.Cleanup(func() {
		select {
		case <-sh.done:
		default:
			cmd.Process.Kill()
			<-sh.done
		}
		sh.in.Close()
	})
	return sh
}

// outBuf is all that chaperone wrote, with how much of it was read.
type outBuf struct {
	mu   sync.Mutex
	b    bytes.Buffer
	read int
	eof  bool
}

func (o *outBuf) fill(r io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		o.mu.Lock()
		o.b.Write(buf[:n])
		if err != nil {
			o.eof = true
		}
		o.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// write writes text to the session's stdin.
func (sh *shell) write(text string) {
	sh.t.Helper()
	if _, err := io.WriteString(sh.in, text); err != nil {
		sh.t.Fatalf("write %q: %v", text, err)
	}
}

// expect waits until what was written since the last expect matches re,
// and returns that text up to the match's start (\r\n made \n) and the
// match's groups.
func (sh *shell) expect(re *regexp.Regexp, timeout time.Duration) (before string, groups []string) {
	sh.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		sh.out.mu.Lock()
		rest := sh.out.b.Bytes()[sh.out.read:]
		m := re.FindSubmatchIndex(rest)
		eof := sh.out.eof
		if m != nil {
			before = string(rest[:m[0]])
			for i := 0; i < len(m); i += 2 {
				if m[i] < 0 {
					groups = append(groups, "")
					continue
				}
				groups = append(groups, string(rest[m[i]:m[i+1]]))
			}
			sh.out.read += m[1]
		}
		all := sh.out.b.String()
		sh.out.mu.Unlock()
		if m != nil {
			return strings.ReplaceAll(before, "\r\n", "\n"), groups
		}
		if eof || time.Now().After(deadline) {
			sh.t.Fatalf("no %s in chaperone's output (ended: %v):\n%s", re, eof, all)
		}
		time.Sleep(time.Millisecond)
	}
}

// wait waits for chaperone to end and returns its exit status.
func (sh *shell) wait(timeout time.Duration) int {
	sh.t.Helper()
	select {
	case <-sh.done:
	case <-time.After(timeout):
		sh.cmd.Process.Kill()
		<-sh.done
		sh.out.mu.Lock()
		defer sh.out.mu.Unlock()
		sh.t.Fatalf("chaperone did not end within %v:\n%s", timeout, sh.out.b.String())
	}
	return sh.cmd.ProcessState.ExitCode()
}
