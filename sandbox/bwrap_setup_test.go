package sandbox_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/internal/itest"
	"github.com/chaperone-dev/chaperone/sandbox"
)

// Under the full suite, docker and podman tests create and remove
// containers while bwrap jobs start; bwrap then, now and then, fails its
// setup ("Can't bind mount /oldroot/ on /newroot/: Unable to apply mount
// flags: remount …/overlay2/…/merged: Invalid argument"), and the command
// failed with it. The race cannot be made to happen on demand, so these
// tests give the backend a bwrap that fails that way (before it reads its
// gate) the first times, then is the real one.

// flakyBwrap writes a bwrap that fails its setup `fails` times, then runs
// the real bwrap; it returns its path and the file that counts its runs.
// A failed run does as bwrap does: it reports its child when it has a
// status descriptor (a handoff), prints its error and exits 1, without
// reading its gate.
func flakyBwrap(t *testing.T, fails int) (path, count string) {
	t.Helper()
	real, err := exec.LookPath("bwrap")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path, count = filepath.Join(dir, "bwrap"), filepath.Join(dir, "runs")
	script := fmt.Sprintf(`#!/bin/sh
n=$(cat %[1]q 2>/dev/null || echo 0); n=$((n+1)); echo $n > %[1]q
if [ $n -le %[2]d ]; then
	case " $* " in *" --json-status-fd 4 "*) printf '{ "child-pid": 2 }\n{ "exit-code": 1 }\n' >&4 ;; esac
	echo "bwrap: Can't bind mount /oldroot/ on /newroot/: Unable to apply mount flags: remount (run $n): Invalid argument" >&2
	exit 1
fi
exec %[3]q "$@"
`, count, fails, real)
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, count
}

// runs is how many times the flaky bwrap ran.
func runs(t *testing.T, count string) string {
	t.Helper()
	b, _ := os.ReadFile(count)
	return strings.TrimSpace(string(b))
}

const startedAgain = "chaperone: bwrap ended before it ran the command (its setup failed); nothing ran; starting it again\n"

// TestBwrapSetupFailureStartsAgain: a sandbox whose setup failed is
// started again, and the command runs once; Ready is called once.
func TestBwrapSetupFailureStartsAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "bwrap")
	cases := []struct {
		name       string
		fails      int
		stdin      func(t *testing.T) *sandbox.Job // the job's stdin
		script     string
		code       int
		runs       string
		ran, again int // lines in ran.txt; "starting it again" lines
	}{
		{name: "once", fails: 1, script: "echo ran >> ran.txt", runs: "2", ran: 1, again: 1},
		{name: "twice", fails: 2, script: "echo ran >> ran.txt", runs: "3", ran: 1, again: 2},
		{name: "every time: three tries, then its error", fails: 9, script: "echo ran >> ran.txt", code: 1, runs: "3", again: 2},
		// The command itself failing is its own status, not a setup
		// failure: bwrap had read its gate.
		{name: "the command fails", fails: 0, script: "echo ran >> ran.txt; exit 1", code: 1, runs: "1", ran: 1},
		{name: "the command is killed", fails: 0, script: "echo ran >> ran.txt; kill -9 $$", code: 137, runs: "1", ran: 1},
		// stdin copied from a reader may have been read already: not
		// started again.
		{name: "stdin from a reader", fails: 1, script: "cat >> ran.txt", code: 1, runs: "1",
			stdin: func(*testing.T) *sandbox.Job { return &sandbox.Job{Stdin: strings.NewReader("ran\n")} }},
		// stdin given as a file is bwrap's as it is: nothing read it.
		{name: "stdin from a file", fails: 1, script: "cat >> ran.txt", runs: "2", ran: 1, again: 1,
			stdin: func(t *testing.T) *sandbox.Job {
				f := filepath.Join(t.TempDir(), "in")
				os.WriteFile(f, []byte("ran\n"), 0o644)
				in, err := os.Open(f)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { in.Close() })
				return &sandbox.Job{StdinFile: in}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := bwrapBackend(t, e)
			var count string
			b.Path, count = flakyBwrap(t, c.fails)
			dir := filepath.Join(e.project, "sub", strings.ReplaceAll(c.name, " ", "-"))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			j := &sandbox.Job{}
			if c.stdin != nil {
				j = c.stdin(t)
			}
			readies := 0
			var out, errb bytes.Buffer
			j.Script, j.Dir, j.Env, j.Stdout, j.Stderr = c.script, dir, e.vars, &out, &errb
			j.Ready = func() { readies++ }
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			code, err := b.Run(ctx, j)
			if err != nil {
				t.Fatalf("Run: %v (stderr %q)", err, errb.String())
			}
			ran, _ := os.ReadFile(filepath.Join(dir, "ran.txt"))
			if code != c.code || runs(t, count) != c.runs || strings.Count(string(ran), "ran\n") != c.ran ||
				strings.Count(errb.String(), startedAgain) != c.again {
				t.Errorf("code %d, bwrap ran %s times, the command wrote %q, stderr %q; want code %d, %s runs, %d lines, %d times %q",
					code, runs(t, count), ran, errb.String(), c.code, c.runs, c.ran, c.again, startedAgain)
			}
			if readies > 1 {
				t.Errorf("Ready was called %d times; want once at most", readies)
			}
		})
	}
}

// TestHandoffSetupFailed: a handed-over sandbox whose setup failed is
// reported as ErrSetupFailed (nothing ran); the server then runs the job
// itself, and Ready, called for the handoff, is not called again.
func TestHandoffSetupFailed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "bwrap")
	b := bwrapBackend(t, e)
	var count string
	b.Path, count = flakyBwrap(t, 1)
	s := newStdio(t, "")
	readies := 0
	j := s.job(&sandbox.Job{Script: "echo ran >> ran-handoff.txt", Dir: e.project, Env: e.vars, Ready: func() { readies++ }})
	h, err := b.Handoff(j)
	if err != nil {
		t.Fatal(err)
	}
	cmd := execute(t, h, h.Path, h.Argv...)
	code, err := h.Wait(waitCtx(t))
	if !errors.Is(err, sandbox.ErrSetupFailed) || code != 126 {
		t.Errorf("Wait = %d, %v; want 126, ErrSetupFailed", code, err)
	}
	exitCode(t, cmd)
	if _, err := os.Stat(filepath.Join(e.project, "ran-handoff.txt")); err == nil {
		t.Fatal("the command ran, yet Wait says it did not")
	}
	code, err = b.Run(waitCtx(t), j)
	s.close()
	ran, _ := os.ReadFile(filepath.Join(e.project, "ran-handoff.txt"))
	if err != nil || code != 0 || string(ran) != "ran\n" || runs(t, count) != "2" || readies != 1 {
		t.Errorf("run again: code %d, %v, wrote %q, bwrap ran %s times, Ready called %d times; want 0, ran once, 2 runs, Ready once",
			code, err, ran, runs(t, count), readies)
	}
	if errs := read(t, s.stderr, "stderr"); !strings.Contains(errs, "(run 1)") {
		t.Errorf("stderr %q; want bwrap's own error", errs)
	}
}

// TestHandoffNotRetriedWhenRun: a handed-over command that ran and failed
// is its own status (bwrap read its gate), not a setup failure.
func TestHandoffNotRetriedWhenRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "bwrap")
	s := newStdio(t, "")
	h, cmd := handOver(t, e, s, &sandbox.Job{Script: "exit 1", Dir: e.project, Env: e.vars})
	code, err := h.Wait(waitCtx(t))
	if err != nil || code != 1 {
		t.Errorf("Wait = %d, %v; want 1, nil", code, err)
	}
	exitCode(t, cmd)
}

// TestBwrapStoreGoneStartsAgain: a credential store to blank that goes
// away between the finding and bwrap's setup (another user deleting a
// file) fails the setup, as its mount point is gone; the sandbox started
// again finds the stores again, and the command runs (seen in the full
// suite, where tests write homes under /home while others run).
func TestBwrapStoreGoneStartsAgain(t *testing.T) {
	itest.Require(t, "root, to write another user's home", os.Geteuid() == 0)
	e := newEnv(t, "bwrap")
	other, err := os.MkdirTemp("/home", "chaperone-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(other) })
	store := filepath.Join(other, ".aws", "credentials")
	os.MkdirAll(filepath.Dir(store), 0o700)
	if err := os.WriteFile(store, []byte("SECRET\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	real, err := exec.LookPath("bwrap")
	if err != nil {
		t.Fatal(err)
	}
	// bwrap as it would fail with the store gone: the first run takes the
	// store away (its whole folder), then runs the real bwrap.
	dir := t.TempDir()
	count := filepath.Join(dir, "runs")
	script := fmt.Sprintf(`#!/bin/sh
n=$(cat %[1]q 2>/dev/null || echo 0); n=$((n+1)); echo $n > %[1]q
[ $n -eq 1 ] && rm -rf %[2]q
exec %[3]q "$@"
`, count, filepath.Dir(store), real)
	b := bwrapBackend(t, e)
	b.Path = filepath.Join(dir, "bwrap")
	if err := os.WriteFile(b.Path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	j := &sandbox.Job{Script: "echo ran", Dir: e.project, Env: e.vars, Stdout: &out, Stderr: &errb}
	code, err := b.Run(waitCtx(t), j)
	if err != nil || code != 0 || out.String() != "ran\n" || runs(t, count) != "2" {
		t.Errorf("code %d, %v, out %q, bwrap ran %s times, stderr %q; want the command run by the second", code, err, out.String(), runs(t, count), errb.String())
	}
}
