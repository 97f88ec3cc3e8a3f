package sandbox_test

import (
	"os"
	"testing"

	"github.com/chaperone-dev/chaperone/sandbox"
)

// Claude Code's snapshot start-up form through each backend: a new
// snapshot is written on the host; an existing one, which later commands
// source, is left as it was whatever the command writes.
func TestBackendsSnapshotOutput(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, kind)
			dir := e.home + "/.claude/shell-snapshots/"
			form := func(snap, line string) string {
				return "SNAPSHOT_FILE=" + snap + "\necho '# Snapshot file' >| \"$SNAPSHOT_FILE\" 2>/dev/null\n" +
					"echo '" + line + "' >> \"$SNAPSHOT_FILE\" 2>/dev/null\necho done"
			}

			fresh := dir + "snapshot-bash-1733400000000-new.sh"
			out, errs, code := e.runJob(t, &sandbox.Job{Script: form(fresh, "snapfn() { :; }"), Outputs: []string{fresh}})
			if out != "done\n" || code != 0 {
				t.Errorf("new snapshot: got %q, %q, code %d", out, errs, code)
			}
			if b, err := os.ReadFile(fresh); err != nil || string(b) != "# Snapshot file\nsnapfn() { :; }\n" {
				t.Errorf("new snapshot on the host: %q, %v", b, err)
			}

			old := dir + "snapshot-bash-1733400000000-old.sh"
			const keep = "snapfn() { echo SNAPSHOT-LOADED; }\n"
			if err := os.WriteFile(old, []byte(keep), 0o600); err != nil {
				t.Fatal(err)
			}
			e.runJob(t, &sandbox.Job{Script: form(old, "echo INJECTED"), Outputs: []string{old}})
			if b, err := os.ReadFile(old); err != nil || string(b) != keep {
				t.Errorf("existing snapshot rewritten: %q, %v", b, err)
			}
		})
	}
}
