package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/audit"
	"github.com/chaperone-dev/chaperone/internal/itest"
)

// TestSignalStopsCommand runs this test binary as chaperone (linked as
// bash), lets it start a heartbeat loop, and sends it SIGTERM, as an agent
// does on a timeout: chaperone arms its signal handling only once the
// command is about to run, so it must still end the loop, exit by itself
// (not die of the signal) and record the command in the audit log.
func TestSignalStopsCommand(t *testing.T) {
	for _, backend := range []string{"host", "bwrap"} {
		t.Run(backend, func(t *testing.T) {
			if backend == "bwrap" {
				_, err := exec.LookPath("bwrap")
				itest.Require(t, "bwrap", err == nil)
			}
			root := t.TempDir()
			proj := filepath.Join(root, "proj")
			for _, d := range []string{proj + "/.git", root + "/home", root + "/run", root + "/bin", root + "/config/chaperone"} {
				if err := os.MkdirAll(d, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			// The backend from the user's config (the only place that may
			// name the host).
			if err := os.WriteFile(root+"/config/chaperone/config.toml", []byte("backend = \""+backend+"\"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			self, err := os.Executable()
			if err != nil {
				t.Fatal(err)
			}
			bash := filepath.Join(root, "bin", "bash")
			if err := os.Symlink(self, bash); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bash, "-c", "echo started; while :; do date +%s%N > beat; sleep 0.05; done")
			cmd.Dir = proj
			cmd.Env = []string{"CHAPERONE_TESTSCRIPT=1", "PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + root + "/home",
				"XDG_CONFIG_HOME=" + root + "/config", "XDG_STATE_HOME=" + root + "/state", "XDG_RUNTIME_DIR=" + root + "/run"}
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, _ := bufio.NewReader(out).ReadString('\n')
			if line != "started\n" {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("first line %q, want started (stderr %q)", line, stderr.String())
			}
			cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				cmd.Process.Kill()
				t.Fatal("chaperone still runs 5 s after SIGTERM")
			}
			if ws := cmd.ProcessState.Sys().(syscall.WaitStatus); ws.Signaled() || ws.ExitStatus() < 128 {
				t.Errorf("chaperone ended with %v, want an exit status of 128 or more of its own (stderr %q)", cmd.ProcessState, stderr.String())
			}
			beat := filepath.Join(proj, "beat")
			before, _ := os.ReadFile(beat)
			time.Sleep(300 * time.Millisecond)
			if after, _ := os.ReadFile(beat); string(after) != string(before) {
				t.Errorf("the loop still beats after chaperone ended")
			}
			evs, err := audit.ReadAll(filepath.Join(root, "state", "chaperone", "audit"))
			if err != nil {
				t.Fatal(err)
			}
			var found bool
			for _, ev := range evs {
				if strings.Contains(ev.Command, "echo started") && ev.Exit != nil && *ev.Exit >= 128 {
					found = true
				}
			}
			if !found {
				t.Errorf("no audit record of the stopped command among %d records", len(evs))
			}
		})
	}
}
