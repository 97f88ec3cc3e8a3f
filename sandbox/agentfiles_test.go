package sandbox

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// A shell snapshot that later commands source is an output only while it
// does not exist: every trick to have the sandbox write over one is
// refused, and a new one is made here, empty, for the command to fill.
func TestAgentFilesFreshSnapshot(t *testing.T) {
	w := newWorld(t)
	snaps := filepath.Join(w.home, ".claude", "shell-snapshots")
	must(t, os.MkdirAll(snaps, 0o700))
	snap := func(id string) string { return filepath.Join(snaps, "snapshot-bash-1733400000000-"+id+".sh") }
	rc := filepath.Join(w.home, ".bashrc")
	cwd := filepath.Join(w.p("tmp"), "claude-8f99-cwd")
	must(t, os.WriteFile(cwd, []byte("/old\n"), 0o600))

	existing := snap("existing")
	must(t, os.WriteFile(existing, []byte("snapfn() { echo SNAPSHOT-LOADED; }\n"), 0o600))
	fifo := snap("fifo")
	mkfifo(t, fifo)
	dangling := snap("dangling") // a link to where the sandbox would write
	must(t, os.Symlink(rc, dangling))
	toExisting := snap("linked")
	must(t, os.Symlink(existing, toExisting))
	fresh := snap("fresh")

	tests := []struct {
		name string
		path string
		ok   bool
	}{
		{"an existing snapshot", existing, false},
		{"a FIFO", fifo, false},
		{"a link to nothing (would create its target)", dangling, false},
		{"a link to an existing snapshot", toExisting, false},
		{"a new snapshot", fresh, true},
		{"the cwd file, which may exist", cwd, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := &Job{Dir: w.p("home/proj"), Project: w.p("home/proj"), Env: w.env, Outputs: []string{tt.path}}
			done := make(chan []string)
			go func() { outs, _ := agentFiles(j); done <- outs }()
			var outs []string
			select {
			case outs = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("agentFiles blocked")
			}
			if got := slices.Contains(outs, tt.path); got != tt.ok {
				t.Errorf("agentFiles outputs = %q; %s shown: %v, want %v", outs, tt.path, got, tt.ok)
			}
		})
	}
	if b, _ := os.ReadFile(existing); string(b) != "snapfn() { echo SNAPSHOT-LOADED; }\n" {
		t.Errorf("the existing snapshot changed: %q", b)
	}
	if _, err := os.Lstat(rc); err == nil {
		t.Error("the dangling link's target was made")
	}
	if fi, err := os.Lstat(fresh); err != nil || !fi.Mode().IsRegular() || fi.Size() != 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("the new snapshot: %v, %v", fi, err)
	}
	// Asked again (a second command in the same form, or a race between
	// two): the snapshot the first one made is not shown to the second.
	j := &Job{Dir: w.p("home/proj"), Project: w.p("home/proj"), Env: w.env, Outputs: []string{fresh}}
	if outs, _ := agentFiles(j); len(outs) != 0 {
		t.Errorf("the snapshot made for one command was shown to the next: %q", outs)
	}
	// As an input (the wrapper that sources it) it is still shown.
	j = &Job{Dir: w.p("home/proj"), Project: w.p("home/proj"), Env: w.env, Inputs: []string{existing}}
	if _, ins := agentFiles(j); !slices.Equal(ins, []string{existing}) {
		t.Errorf("inputs = %q", ins)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
