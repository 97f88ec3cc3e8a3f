package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/audit"
	"github.com/chaperone-dev/chaperone/internal/itest"
	"github.com/chaperone-dev/chaperone/internal/shellsrv"
)

// These tests build chaperone and chaperone-shell as scripts/install does,
// write the shims, and drive the shim as an agent would: the first command
// starts a shell server, the next ones are served by it.

func TestMain(m *testing.M) {
	code := m.Run()
	itest.RemovePrograms()
	os.Exit(code)
}

// binaries returns the folder of chaperone's programs built (as
// scripts/install does), with the bash link from `chaperone shims` in
// shims/.
func binaries(t *testing.T) string {
	t.Helper()
	dir := itest.Programs(t)
	if _, err := os.Stat(filepath.Join(dir, "shims", "bash")); err != nil {
		if out, err := exec.Command(filepath.Join(dir, "chaperone"), "shims", filepath.Join(dir, "shims")).CombinedOutput(); err != nil {
			t.Fatalf("shims: %v\n%s", err, out)
		}
	}
	return dir
}

// world is a user's home, config, state and runtime folders and a project.
type world struct {
	t                      *testing.T
	bin, bash, proj, state string
	env                    []string
}

func newWorld(t *testing.T, backend string, extra ...string) *world {
	t.Helper()
	if backend == "bwrap" {
		_, err := exec.LookPath("bwrap")
		itest.Require(t, "bwrap", err == nil)
	}
	bin := binaries(t)
	root := t.TempDir()
	w := &world{t: t, bin: bin, bash: filepath.Join(bin, "shims", "bash"), proj: filepath.Join(root, "proj"), state: filepath.Join(root, "state")}
	for _, d := range []string{w.proj + "/.git/hooks", root + "/home/.ssh", root + "/run"} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(root+"/home/.ssh/id_rsa", []byte("PRIVATE\n"), 0o600)
	// The backend from the user's config (the only place that may name the
	// host).
	if err := os.MkdirAll(root+"/config/chaperone", 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(root+"/config/chaperone/config.toml", []byte("backend = \""+backend+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w.env = append([]string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + root + "/home", "XDG_CONFIG_HOME=" + root + "/config",
		"XDG_STATE_HOME=" + w.state, "XDG_RUNTIME_DIR=" + root + "/run",
		"CHAPERONE_HOLD_TIMEOUT=50ms", "LANG=C.UTF-8"}, extra...)
	t.Cleanup(func() {
		// End this world's server (it would end by itself when idle).
		// It is waited for: one still writing its audit log would keep
		// the test's folder from being removed.
		if sock, err := shellsrv.SocketPath(filepath.Join(bin, "chaperone"), w.env); err == nil {
			pattern := "shell-server --socket " + sock
			exec.Command("pkill", "-f", pattern).Run()
			for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
				if exec.Command("pgrep", "-f", pattern).Run() != nil {
					break // none left
				}
			}
		}
	})
	return w
}

// cmd returns the shim running script in the project.
func (w *world) cmd(script string) *exec.Cmd {
	c := exec.Command(w.bash, "-c", script)
	c.Dir, c.Env = w.proj, w.env
	return c
}

// run runs script through the shim with stdin and returns stdout, stderr
// and the exit status.
func (w *world) run(script, stdin string) (string, string, int) {
	w.t.Helper()
	c := w.cmd(script)
	var out, errb bytes.Buffer
	c.Stdin, c.Stdout, c.Stderr = strings.NewReader(stdin), &out, &errb
	err := c.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		w.t.Fatalf("run %q: %v", script, err)
	}
	return out.String(), errb.String(), c.ProcessState.ExitCode()
}

// serverUp waits until this world's server answers.
func (w *world) serverUp() {
	w.t.Helper()
	sock, err := shellsrv.SocketPath(filepath.Join(w.bin, "chaperone"), w.env)
	if err != nil {
		w.t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
		if err != nil {
			w.t.Fatal(err)
		}
		err = syscall.Connect(fd, &syscall.SockaddrUnix{Name: sock})
		syscall.Close(fd)
		if err == nil {
			return
		}
	}
	w.t.Fatalf("no shell server answers on %s after the first command", sock)
}

// exeWhile starts script, and returns what the shim's own process is
// executing meanwhile, once it is want, or what it was last when the script
// ended or 5.5 s passed: chaperone-shell waiting for the server, bwrap
// handed over by it, or chaperone (no server).
func (w *world) exeWhile(script, want string) string {
	w.t.Helper()
	c := w.cmd(script)
	if err := c.Start(); err != nil {
		w.t.Fatal(err)
	}
	defer c.Wait()
	// Not at once: chaperone-shell is what runs at first in every case.
	time.Sleep(300 * time.Millisecond)
	exe := ""
	// Until well within the command's 6 s: a loaded machine may take
	// seconds to hand the sandbox over.
	for deadline := time.Now().Add(5500 * time.Millisecond); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		l, err := os.Readlink("/proc/" + strconv.Itoa(c.Process.Pid) + "/exe")
		if err != nil {
			break
		}
		exe = filepath.Base(l)
		// A sandbox handed over runs as the shim's child, which waits
		// for it and then for the server's sweep.
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", c.Process.Pid, c.Process.Pid)); err == nil {
			for _, child := range strings.Fields(string(b)) {
				if l, err := os.Readlink("/proc/" + child + "/exe"); err == nil {
					exe += ">" + filepath.Base(l)
				}
			}
		}
		if exe == want {
			break
		}
	}
	return exe
}

func TestServed(t *testing.T) {
	for _, tc := range []struct{ backend, servedAs string }{{"host", "chaperone-shell"}, {"bwrap", "chaperone-shell>bwrap"}} {
		t.Run(tc.backend, func(t *testing.T) {
			w := newWorld(t, tc.backend)
			if out, errs, code := w.run("echo first", ""); out != "first\n" || code != 0 {
				t.Fatalf("first command (no server yet): out %q err %q code %d", out, errs, code)
			}
			w.serverUp()
			// One served command first: the server's first one warms it
			// (config, backend checks), which took over 5 s at the full
			// suite's load.
			if out, errs, code := w.run("echo warm", ""); out != "warm\n" || code != 0 {
				t.Fatalf("first served command: out %q err %q code %d", out, errs, code)
			}
			if got := w.exeWhile("sleep 6", tc.servedAs); got != tc.servedAs {
				t.Errorf("while a served command runs, the shim's process (>its child) executes %s, want %s", got, tc.servedAs)
			}
			if out, errs, code := w.run("echo out; echo err >&2; exit 3", ""); out != "out\n" || errs != "err\n" || code != 3 {
				t.Errorf("served: out %q err %q code %d; want out, err, 3", out, errs, code)
			}
			if out, _, code := w.run("tr a-z A-Z", "piped input\n"); out != "PIPED INPUT\n" || code != 0 {
				t.Errorf("served stdin: out %q code %d", out, code)
			}
			if out, errs, code := w.run("kill -TERM $$", ""); code != 143 {
				t.Errorf("served signal exit: code %d, want 143 (out %q err %q)", code, out, errs)
			}
			if _, errs, code := w.run("cat ~/.ssh/id_rsa", ""); code != 126 || !strings.Contains(errs, "chaperone: denied") {
				t.Errorf("served held command: code %d err %q; want 126 and the denial", code, errs)
			}
			if _, errs, code := w.run("ls", ""); code != 0 || strings.Contains(errs, "chaperone") {
				t.Errorf("served low command speaks: %q (code %d)", errs, code)
			}
			// Only the command's stdio reaches it, not what the agent
			// happened to leave open.
			c := w.cmd("ls /proc/self/fd")
			extra, err := os.Open(os.DevNull)
			if err != nil {
				t.Fatal(err)
			}
			defer extra.Close()
			c.ExtraFiles = []*os.File{extra, extra, extra}
			out, err := c.Output()
			if err != nil || strings.Fields(string(out))[len(strings.Fields(string(out)))-1] != "3" {
				t.Errorf("served command sees descriptors %q (err %v), want 0 1 2 and ls's own 3", out, err)
			}
			// Every served command is in the audit log, with its status.
			want := map[string]int{"echo first": 0, "echo out; echo err >&2; exit 3": 3, "tr a-z A-Z": 0, "kill -TERM $$": 143}
			deadline := time.Now().Add(3 * time.Second)
			for {
				evs, _ := audit.ReadAll(filepath.Join(w.state, "chaperone", "audit"))
				missing := []string{}
				for cmd, code := range want {
					found := false
					for _, ev := range evs {
						if ev.Command == cmd && ev.Exit != nil && *ev.Exit == code {
							found = true
						}
					}
					if !found {
						missing = append(missing, cmd)
					}
				}
				if len(missing) == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("audit log lacks %q with their exit status", missing)
				}
				time.Sleep(50 * time.Millisecond)
			}
			if r, err := audit.Verify(filepath.Join(w.state, "chaperone", "audit")); err != nil {
				t.Errorf("audit verify: %v (%+v)", err, r)
			}
		})
	}
}

// TestServedKill kills the agent's whole process group while a served
// command runs (what Claude Code does on a timeout): the command must end
// within 2 s, although the shell server lives on.
func TestServedKill(t *testing.T) {
	for _, backend := range []string{"host", "bwrap"} {
		t.Run(backend, func(t *testing.T) {
			w := newWorld(t, backend)
			w.run("true", "")
			w.serverUp()
			c := w.cmd("while :; do date +%s%N > beat; sleep 0.05; done")
			c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			beat := filepath.Join(w.proj, "beat")
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				if _, err := os.Stat(beat); err == nil {
					break
				}
				if time.Now().After(deadline) {
					syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
					t.Fatal("the loop never started")
				}
			}
			syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
			c.Wait()
			time.Sleep(2 * time.Second)
			before, _ := os.ReadFile(beat)
			time.Sleep(300 * time.Millisecond)
			if after, _ := os.ReadFile(beat); !bytes.Equal(before, after) {
				t.Errorf("the command still runs 2 s after its shim was killed")
			}
		})
	}
}

// TestNoServer: CHAPERONE_NO_SERVER=1 runs every command in chaperone
// itself, and starts no server.
func TestNoServer(t *testing.T) {
	w := newWorld(t, "host", "CHAPERONE_NO_SERVER=1")
	for range 2 {
		if out, _, code := w.run("echo hi", ""); out != "hi\n" || code != 0 {
			t.Fatalf("got %q code %d", out, code)
		}
	}
	// chaperone itself, with the command as its child or not (a sample
	// may fall before the command starts or after it ended).
	if got := w.exeWhile("sleep 1", "chaperone"); got != "chaperone" && !strings.HasPrefix(got, "chaperone>") {
		t.Errorf("the shim's process executes %s, want chaperone itself", got)
	}
	sock, _ := shellsrv.SocketPath(filepath.Join(w.bin, "chaperone"), w.env)
	if _, err := os.Stat(sock); err == nil {
		t.Errorf("a server socket exists: %s", sock)
	}
}

// TestServerIdle: the server ends, and removes its socket, once idle.
func TestServerIdle(t *testing.T) {
	w := newWorld(t, "host")
	chaperone := filepath.Join(w.bin, "chaperone")
	sock, err := shellsrv.SocketPath(chaperone, w.env)
	if err != nil {
		t.Fatal(err)
	}
	srv := exec.Command(chaperone, "shell-server", "--socket", sock, "--idle", "300ms")
	srv.Env = w.env
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	w.serverUp()
	if out, _, code := w.run("echo served", ""); out != "served\n" || code != 0 {
		t.Errorf("got %q code %d", out, code)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("server ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		srv.Process.Kill()
		t.Fatal("the server still runs 5 s into a 300 ms idle time")
	}
	if _, err := os.Stat(sock); err == nil {
		t.Errorf("the socket is left behind: %s", sock)
	}
}

// TestServerRefusesSandboxedPeer: a process in another mount and user
// namespace (a sandbox that could see the socket) gets no command run by
// the server, on the host. (Turned away, chaperone-shell runs chaperone
// itself, in that sandbox, with what the sandbox allows: here the project
// is read-only in it, so only the server could have written there.)
func TestServerRefusesSandboxedPeer(t *testing.T) {
	w := newWorld(t, "host")
	w.run("true", "")
	w.serverUp()
	_, err := exec.LookPath("bwrap")
	itest.Require(t, "bwrap", err == nil)
	marker := filepath.Join(w.proj, "ran")
	c := exec.Command("bwrap", "--unshare-user", "--unshare-pid", "--bind", "/", "/", "--ro-bind", w.proj, w.proj,
		"--dev", "/dev", "--proc", "/proc", w.bash, "-c", "touch "+marker)
	c.Dir, c.Env = w.proj, w.env
	out, _ := c.CombinedOutput()
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("the server ran a command sent from another namespace (output %q)", out)
	}
	if out, _, code := w.run("echo still served", ""); out != "still served\n" || code != 0 {
		t.Errorf("after the refusal: %q, code %d", out, code)
	}
}

// TestServedSetupFailed: when the handed-over bwrap fails its setup (a
// race with docker removing a container's mount, seen in CI), nothing of
// the command has run; the server runs it itself, and the agent sees the
// command's output and status, after bwrap's error and one line that says
// it was started again.
func TestServedSetupFailed(t *testing.T) {
	real, err := exec.LookPath("bwrap")
	itest.Require(t, "bwrap", err == nil)
	dir := t.TempDir()
	arm := filepath.Join(dir, "fail-next")
	// bwrap as on PATH: it fails the next sandbox it is asked for once
	// armed, before it reads its gate (fd 3), as the real one does.
	script := fmt.Sprintf(`#!/bin/sh
case " $* " in *" --block-fd 3 "*)
	if rm %[1]q 2>/dev/null; then
		case " $* " in *" --json-status-fd 4 "*) printf '{ "child-pid": 2 }\n{ "exit-code": 1 }\n' >&4 ;; esac
		echo "bwrap: Can't bind mount /oldroot/ on /newroot/: Unable to apply mount flags: remount: Invalid argument" >&2
		exit 1
	fi ;;
esac
exec %[2]q "$@"
`, arm, real)
	if err := os.WriteFile(filepath.Join(dir, "bwrap"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, "bwrap")
	for i, e := range w.env {
		if strings.HasPrefix(e, "PATH=") {
			w.env[i] = "PATH=" + dir + ":" + e[len("PATH="):]
		}
	}
	w.run("echo first", "")
	w.serverUp()
	if out, errs, code := w.run("echo warm", ""); out != "warm\n" || code != 0 {
		t.Fatalf("first served command: out %q err %q code %d", out, errs, code)
	}
	if err := os.WriteFile(arm, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code := w.run("echo ran >> ran.txt; cat; exit 4", "from stdin\n")
	ran, _ := os.ReadFile(filepath.Join(w.proj, "ran.txt"))
	if _, err := os.Stat(arm); err == nil {
		t.Fatal("the served command did not reach the armed bwrap")
	}
	if out != "from stdin\n" || code != 4 || string(ran) != "ran\n" ||
		!strings.Contains(errs, "bwrap: Can't bind mount") || !strings.Contains(errs, "nothing ran; starting it again") {
		t.Errorf("out %q, err %q, code %d, the command wrote %q; want its stdin echoed, code 4, ran once, bwrap's error and the line that it was started again",
			out, errs, code, ran)
	}
}
