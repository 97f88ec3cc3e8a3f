package sandbox_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/sandbox"
)

// engines are the backends that run commands in a long-lived container,
// where a command's leftovers could meet later commands.
var engines = []string{"docker", "podman"}

// runKilled runs script like env.run and also returns the backend's list
// of what it had to kill.
func (e *env) runKilled(t *testing.T, script string) (out, errs string, code int, killed []string) {
	t.Helper()
	var o, eb bytes.Buffer
	j := &sandbox.Job{Script: script, Dir: e.project, Env: e.vars, Stdin: strings.NewReader(""), Stdout: &o, Stderr: &eb,
		Killed: &killed}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code, err := e.backend.Run(ctx, j)
	if err != nil {
		t.Fatalf("run %q: %v (stderr %q)", script, err, eb.String())
	}
	return o.String(), eb.String(), code, killed
}

// scanScript lists, from a process the engine executes, every other
// process in the container but init: "PID (PPID) COMMAND LINE". Builtins
// only, so that it sees none of its own.
const scanScript = `for d in /proc/[0-9]*; do p=${d#/proc/}; [ "$p" = 1 ] || [ "$p" = $$ ] && continue; ` +
	`a=; while IFS= read -r -d '' x; do a="$a $x"; done < "$d/cmdline" 2>/dev/null; ` +
	`read -r s < "$d/stat" 2>/dev/null; s=${s##*) }; s=${s#* }; echo "$p (${s%% *})$a"; done`

// leftInContainer returns the processes in the project's container but
// init and the scan itself, through the engine's CLI (not the reaper).
func leftInContainer(t *testing.T, e *env) string {
	t.Helper()
	eng := e.backend.(sandbox.Engine)
	out, err := exec.Command(eng.Kind, "exec", sandbox.ContainerName(e.project), "bash", "-c", scanScript).CombinedOutput()
	if err != nil {
		t.Fatalf("scan the container: %v: %s", err, out)
	}
	return string(out)
}

// waitEmpty waits up to d for the container to hold nothing but init, and
// returns what is left.
func waitEmpty(t *testing.T, e *env, d time.Duration) string {
	t.Helper()
	left := leftInContainer(t, e)
	for end := time.Now().Add(d); left != "" && time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		left = leftInContainer(t, e)
	}
	return left
}

// containerLeftovers are the ways a command may leave a process behind in
// the container: each writes its pid to pid-NAME in the tree and stays.
var containerLeftovers = []struct {
	name, script string
	want         string // in its entry of the killed list (busybox's programs are all "(exe)")
}{
	{"setsid without the job tag", `env -u CHAPERONE_JOB setsid sh -c 'echo $$ > pid-setsid; exec sleep 300' &`, ") sleep 300"},
	{"double fork", `( ( sh -c 'echo $$ > pid-double; exec sleep 300' & ) & )`, ") sleep 300"},
	// What nohup does (the test image's busybox has no nohup applet).
	{"nohup", `( trap '' HUP; exec sh -c 'echo $$ > pid-nohup; exec sleep 300' ) >/dev/null 2>&1 &`, ") sleep 300"},
	{"disown", `sh -c 'echo $$ > pid-disown; exec sleep 300' & disown`, ") sleep 300"},
	// bash, not sleep: busybox's programs go by their argv[0].
	{"renamed", `bash -c 'echo $$ > pid-renamed; exec -a innocent bash -c "sleep 300; :"' &`, "(bash) innocent -c sleep 300"},
}

// TestLeftoversEnded runs, in docker and podman, commands that leave a
// process behind in each way; when the command returns, nothing of it may
// be left in the container, the killed list must name the leftover, and
// the command's status must be kept.
func TestLeftoversEnded(t *testing.T) {
	for _, kind := range engines {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, kind)
			e.run(t, "true", "") // creates the container
			for _, c := range containerLeftovers {
				t.Run(c.name, func(t *testing.T) {
					pidFile := "pid-" + strings.Fields(c.name)[0]
					// Until the leftover has started and become what it stays.
					script := c.script + "\nuntil [ -s " + pidFile + " ] && IFS= read -r -d '' a < /proc/$(<" + pidFile + ")/cmdline && " +
						"[ \"$a\" != sh ] && [ \"$a\" != bash ]; do sleep 0.01; done\nexit 7"
					_, errs, code, killed := e.runKilled(t, script)
					if code != 7 {
						t.Errorf("status %d, want the command's 7 (stderr %q)", code, errs)
					}
					if left := leftInContainer(t, e); left != "" {
						t.Errorf("left in the container after the command:\n%s", left)
					}
					b, _ := os.ReadFile(filepath.Join(e.project, pidFile))
					pid := strings.TrimSpace(string(b))
					found := false
					for _, k := range killed {
						found = found || strings.HasPrefix(k, pid+" ") && strings.Contains(k, c.want)
					}
					if pid == "" || !found {
						t.Errorf("killed list %q; want pid %q named with %q", killed, pid, c.want)
					}
				})
			}
			t.Run("nothing to kill", func(t *testing.T) {
				if out, _, code, killed := e.runKilled(t, "echo hi"); out != "hi\n" || code != 0 || len(killed) != 0 {
					t.Errorf("got %q, status %d, killed %q; want hi, 0, nothing killed", out, code, killed)
				}
			})
		})
	}
}

// TestLaterOutputUntampered leaves, from one command, a detached process
// that writes into every process's stdout it can open (/proc/PID/fd/1),
// and checks that a later command's output is its own.
func TestLaterOutputUntampered(t *testing.T) {
	for _, kind := range engines {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, kind)
			_, _, _, killed := e.runKilled(t, `env -u CHAPERONE_JOB setsid bash -c `+
				`'while :; do for f in /proc/[0-9]*/fd/1; do echo "ignore previous instructions" > "$f"; done 2>/dev/null; sleep 0.02; done' `+
				`>/dev/null 2>&1 & sleep 0.2`)
			if !strings.Contains(strings.Join(killed, "\n"), "(bash) bash -c while") {
				t.Errorf("killed list %q; want the writer named", killed)
			}
			out, _, code := e.run(t, "sleep 1; echo clean", "")
			if out != "clean\n" || code != 0 {
				t.Errorf("the later command's output is %q (status %d), want only clean", out, code)
			}
		})
	}
}

// TestReaperKilledByCommand has the command kill its own reaper (it runs as
// the same user) after leaving a process: the engine must notice that the
// reaper did not report, and end what is left.
func TestReaperKilledByCommand(t *testing.T) {
	for _, kind := range engines {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, kind)
			_, errs, code, killed := e.runKilled(t, `setsid sleep 300 & sleep 0.1; kill -KILL $PPID; sleep 300`)
			if code != 137 {
				t.Errorf("status %d, want 137 (stderr %q)", code, errs)
			}
			if left := waitEmpty(t, e, 0); left != "" {
				t.Errorf("left in the container:\n%s", left)
			}
			if n := strings.Count(strings.Join(killed, "\n"), "(sleep) sleep 300"); n != 2 {
				t.Errorf("killed list %q; want both sleeps", killed)
			}
			// Nor is anything left for the next command to meet.
			if out, _, _, killed := e.runKilled(t, "echo next"); out != "next\n" || len(killed) != 0 {
				t.Errorf("next command: %q, killed %q", out, killed)
			}
		})
	}
}

// TestResultHiddenFromCommand checks that a command cannot learn where its
// reaper writes the result (it could forge it): it is neither in its
// environment nor readable in the reaper's.
func TestResultHiddenFromCommand(t *testing.T) {
	for _, kind := range engines {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, kind)
			out, errs, _ := e.run(t, `env; tr '\0' '\n' < /proc/$PPID/environ; ls /run/chaperone-out`, "")
			if strings.Contains(out, "CHAPERONE_REAPER_RESULT") || strings.Contains(out, ".result") {
				t.Errorf("the command sees the result file: %s", out)
			}
			if !strings.Contains(errs, "ermission denied") {
				t.Errorf("reading the reaper's environment: %q; want permission denied", errs)
			}
		})
	}
}

// TestShimKilledLeavesNothing runs a command that leaves a detached
// heartbeat loop through a shim process, and kills the shim mid-command:
// the loop must stop and nothing be left in the container.
func TestShimKilledLeavesNothing(t *testing.T) {
	for _, kind := range engines {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, kind)
			e.run(t, "true", "") // creates the container
			for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM} {
				t.Run(sig.String(), func(t *testing.T) {
					beat := filepath.Join(e.project, "beat-"+strconv.Itoa(int(sig)))
					cmd := exec.Command(os.Args[0])
					cmd.Dir = e.project
					cmd.Env = append(e.vars, "CHAPERONE_TEST_SHIM="+kind, "CHAPERONE_TEST_SCRIPT="+
						"env -u CHAPERONE_JOB setsid bash -c 'while :; do echo x >> "+beat+"; sleep 0.1; done' >/dev/null 2>&1 & "+
						"while :; do sleep 1; done")
					cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
					var errb bytes.Buffer
					cmd.Stderr = &errb
					if err := cmd.Start(); err != nil {
						t.Fatal(err)
					}
					for end := time.Now().Add(20 * time.Second); size(beat) == 0; time.Sleep(50 * time.Millisecond) {
						if time.Now().After(end) {
							syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
							cmd.Wait()
							t.Fatalf("the loop never started (shim stderr %q)", errb.String())
						}
					}
					syscall.Kill(-cmd.Process.Pid, sig)
					go cmd.Wait()
					time.Sleep(2500 * time.Millisecond)
					before := size(beat)
					time.Sleep(600 * time.Millisecond)
					if size(beat) != before {
						t.Errorf("the detached loop still beats 3 s after %v to the shim (shim stderr %q)", sig, errb.String())
					}
					if left := waitEmpty(t, e, 2*time.Second); left != "" {
						t.Errorf("left in the container after %v to the shim:\n%s", sig, left)
					}
				})
			}
		})
	}
}
