package rater

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps the parser and the rater free of the TUI and of the
// packages above them.
func TestDeps(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go tool not on PATH")
	}
	out, err := exec.Command("go", "list", "-mod=mod", "-deps", "github.com/chaperone-dev/chaperone/rater", "github.com/chaperone-dev/chaperone/parser").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, bad := range []string{"charm.land/", "github.com/charmbracelet/", "chaperone/tui", "chaperone/shim", "chaperone/sandbox", "chaperone/broker", "chaperone/audit", "chaperone/cmd/"} {
			if strings.Contains(dep, bad) {
				t.Errorf("rater or parser depends on %s", dep)
			}
		}
	}
}
