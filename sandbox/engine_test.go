package sandbox_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/sandbox"
)

// containerID returns the id of the project's container, "" when there is
// none.
func containerID(t *testing.T, e *env) string {
	t.Helper()
	eng := e.backend.(sandbox.Engine)
	out, _ := exec.Command(eng.Kind, "container", "inspect", "--format", "{{.Id}}", sandbox.ContainerName(e.project)).Output()
	return strings.TrimSpace(string(out))
}

// buildProbe builds testdata/seccomp-probe, static, into dir.
func buildProbe(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "seccomp-probe")
	cmd := exec.Command("go", "build", "-o", p, "./testdata/seccomp-probe")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the probe: %v\n%s", err, out)
	}
	return p
}

// TestEngineSeccomp: no command in a container makes a new namespace, a
// mount, a keyring, bpf, io_uring or pushes terminal input; ordinary
// commands run. Podman's default profile allows the first ones, so
// chaperone gives it a profile of its own; docker keeps its default one,
// which refuses namespaces.
func TestEngineSeccomp(t *testing.T) {
	for _, kind := range engines {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, kind)
			for _, c := range []struct{ name, script, want string }{
				{"user namespace", "unshare -U true && echo made", ""},
				{"user namespace, mapped root", "unshare -Ur true && echo made", ""},
				{"mount namespace", "unshare -m true && echo made", ""},
				{"seccomp on, no new privileges", "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status | tr -d ' \\t'", "NoNewPrivs:1\nSeccomp:2\n"},
				{"a pipeline", "echo a | sed s/a/b/ | tr b c; sh -c 'ls / | grep -c etc'", "c\n1\n"},
				{"a background job", "sleep 0.1 & wait $!; echo bg $?", "bg 0\n"},
				{"busybox tools", "seq 3 | sort -r | head -1; find . -maxdepth 0; date +%Y >/dev/null && echo date", "3\n.\ndate\n"},
				{"bash features", "f() { echo \"$1-$((2+3))\"; }; f x; echo $(echo sub) <(true) >/dev/null; echo ok", "x-5\nok\n"},
			} {
				t.Run(c.name, func(t *testing.T) {
					out, errs, code := e.run(t, c.script, "")
					if out != c.want || c.want != "" && code != 0 {
						t.Errorf("got %q (status %d, stderr %q); want %q", out, code, errs, c.want)
					}
				})
			}
			if kind != "podman" {
				return // docker's own profile: what it allows is docker's (see the report in the probe test's log)
			}
			t.Run("system calls", func(t *testing.T) {
				buildProbe(t, e.project)
				out, errs, code := e.run(t, "./seccomp-probe", "")
				want := "unshare-user EPERM\nunshare-ns EPERM\nclone-user EPERM\nclone3 ENOSYS\nsetns EPERM\nmount EPERM\n" +
					"keyctl EPERM\nbpf EPERM\nuserfaultfd EPERM\nio_uring_setup EPERM\nfsopen ENOSYS\n" +
					"tiocsti EPERM\ntiocsti-high EPERM\ntcgets ENOTTY\nfork ok\n"
				if out != want || code != 0 {
					t.Errorf("probe (status %d, stderr %q):\n%s\nwant\n%s", code, errs, out, want)
				}
			})
		})
	}
}

// TestEngineHomeFresh: what a command plants in the container's home
// (~/.bash_profile, ~/.gitconfig…) is not there for the next one, which a
// person may have approved: alone in the container, a command gets an
// empty home, as in bubblewrap; beside a running one, the files shells and
// tools read at their start are removed, and the running one's other files
// are kept.
func TestEngineHomeFresh(t *testing.T) {
	for _, kind := range engines {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, kind)
			ran := filepath.Join(e.project, "profile-ran")
			plant := `printf 'echo planted >> ` + ran + `\n' | tee ~/.bash_profile ~/.profile ~/.bashrc > ~/.bash_login; ` +
				`printf '[alias]\n\tx = !echo planted\n' > ~/.gitconfig; mkdir -p ~/.config/git ~/.ssh; echo x > ~/.config/git/config; ` +
				`echo 'Host *' > ~/.ssh/config; echo 'set editing-mode vi' > ~/.inputrc; echo planted`
			check := `bash -l -c 'for f in .gitconfig .config/git/config .ssh/config .inputrc .bashrc; do test -e ~/$f && echo "$f is there"; done; echo ok'`
			t.Run("alone", func(t *testing.T) {
				if out, errs, code := e.run(t, plant+"; touch ~/other; ls -A ~ | wc -l", ""); code != 0 || !strings.HasPrefix(out, "planted\n") {
					t.Fatalf("planting: %q, %q, status %d", out, errs, code)
				}
				out, errs, code := e.run(t, check+`; ls -A ~`, "")
				if out != "ok\n" || code != 0 {
					t.Errorf("the next command: %q (stderr %q, status %d); want only ok, and an empty home", out, errs, code)
				}
				if b, err := os.ReadFile(ran); err == nil {
					t.Errorf("a planted profile ran: %q", b)
				}
			})
			t.Run("beside a running command", func(t *testing.T) {
				os.Remove(ran)
				started, stop := filepath.Join(e.project, "started"), filepath.Join(e.project, "stop")
				var wg sync.WaitGroup
				var out bytes.Buffer
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
					defer cancel()
					e.backend.Run(ctx, &sandbox.Job{Script: "mkdir -p ~/.cache; echo kept > ~/.cache/work; touch started; " +
						"until [ -e stop ]; do sleep 0.05; done; cat ~/.cache/work",
						Dir: e.project, Env: e.vars, Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out})
				}()
				defer func() { os.WriteFile(stop, nil, 0o644); wg.Wait() }()
				for end := time.Now().Add(30 * time.Second); !exists(started); time.Sleep(20 * time.Millisecond) {
					if time.Now().After(end) {
						t.Fatal("the long command never started")
					}
				}
				if out, errs, code := e.run(t, plant, ""); code != 0 || out != "planted\n" {
					t.Fatalf("planting: %q, %q, status %d", out, errs, code)
				}
				if out, errs, code := e.run(t, check, ""); out != "ok\n" || code != 0 {
					t.Errorf("the next command: %q (stderr %q, status %d); want only ok", out, errs, code)
				}
				if b, err := os.ReadFile(ran); err == nil {
					t.Errorf("a planted profile ran: %q", b)
				}
				os.WriteFile(stop, nil, 0o644)
				wg.Wait()
				if out.String() != "kept\n" {
					t.Errorf("the running command's file: %q; want it kept", out.String())
				}
			})
		})
	}
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// TestEngineInputs: an agent's input files (a new shell snapshot for each
// session) reach the command through the exchange folder: the container
// is not replaced for them, each job sources its own, and no copy is left.
func TestEngineInputs(t *testing.T) {
	for _, kind := range engines {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, kind)
			e.run(t, "true", "")
			id := containerID(t, e)
			dir := e.home + "/.claude/shell-snapshots"
			for i, word := range []string{"one", "two", "three"} {
				snap := filepath.Join(dir, "snapshot-bash-1"+strings.Repeat("1", i)+"-"+word+".sh")
				os.WriteFile(snap, []byte("snapfn() { echo "+word+"; }\n"), 0o644)
				out, errs, code := e.runJob(t, &sandbox.Job{Script: "source " + snap + " && snapfn", Inputs: []string{snap}})
				if out != word+"\n" || code != 0 {
					t.Errorf("job %d: %q (stderr %q, status %d); want %q", i, out, errs, code, word)
				}
			}
			if now := containerID(t, e); now != id || id == "" {
				t.Errorf("container %q became %q", id, now)
			}
			outs := filepath.Join(lookupVar(e.vars, "XDG_STATE_HOME"), "chaperone", "sandbox", sandbox.ContainerName(e.project), "out")
			if ents, _ := os.ReadDir(outs); len(ents) > 0 {
				var names []string
				for _, x := range ents {
					names = append(names, x.Name())
				}
				t.Errorf("left in the exchange folder: %q", names)
			}
		})
	}
}

func lookupVar(env []string, name string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

// onceContainers lists the containers made for one job of the project.
func onceContainers(t *testing.T, e *env) string {
	t.Helper()
	eng := e.backend.(sandbox.Engine)
	out, err := exec.Command(eng.Kind, "ps", "-a", "--filter", "name="+sandbox.ContainerName(e.project)+"-once-",
		"--format", "{{.Names}}").CombinedOutput()
	if err != nil {
		t.Fatalf("ps: %v: %s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestEngineOpenGuarded: a write to the guarded files that a person
// approved (Job.OpenGuarded) lands on the host, in a container made for
// that job alone and gone with it; without approval it fails; the
// project's container is not replaced by either.
func TestEngineOpenGuarded(t *testing.T) {
	for _, kind := range engines {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, kind)
			e.run(t, "true", "")
			id := containerID(t, e)
			config := filepath.Join(e.project, ".git", "config")
			out, errs, code := e.runJob(t, &sandbox.Job{Script: "echo '[core]' >> .git/config && pwd && echo $HOME", OpenGuarded: true})
			if code != 0 || out != e.project+"\n"+e.home+"\n" {
				t.Errorf("approved write: %q (stderr %q, status %d)", out, errs, code)
			}
			if b, _ := os.ReadFile(config); string(b) != "[core]\n[core]\n" {
				t.Errorf("host .git/config after the approved write: %q", b)
			}
			_, _, code = e.run(t, "echo '[core]' >> .git/config", "")
			if code == 0 {
				t.Error("an unapproved write to .git/config succeeded")
			}
			if b, _ := os.ReadFile(config); string(b) != "[core]\n[core]\n" {
				t.Errorf("host .git/config after the unapproved write: %q", b)
			}
			// Still pinned: .git cannot be replaced, even when open.
			e.runJob(t, &sandbox.Job{Script: "mv .git .git-old", OpenGuarded: true})
			if _, err := os.Stat(filepath.Join(e.project, ".git", "config")); err != nil {
				t.Errorf(".git was moved away by an approved command: %v", err)
			}
			t.Run("terminal", func(t *testing.T) { testTTY(t, e, true) })
			if now := containerID(t, e); now != id || id == "" {
				t.Errorf("container %q became %q", id, now)
			}
			left := onceContainers(t, e)
			for end := time.Now().Add(10 * time.Second); left != "" && time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
				left = onceContainers(t, e)
			}
			if left != "" {
				t.Errorf("the job's own containers are left: %s", left)
			}
		})
	}
}

// TestEngineOpenGuardedKilled: the container made for one job ends with
// chaperone, however it is killed.
func TestEngineOpenGuardedKilled(t *testing.T) {
	for _, kind := range engines {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, kind)
			for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
				t.Run(sig.String(), func(t *testing.T) {
					testKill(t, e, kind, sig, "CHAPERONE_TEST_OPEN=1")
					left := onceContainers(t, e)
					for end := time.Now().Add(10 * time.Second); left != "" && time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
						left = onceContainers(t, e)
					}
					if left != "" {
						t.Errorf("the job's own container is left: %s", left)
					}
				})
			}
		})
	}
}
