package engine

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps the engine, and the broker that rates with it in the
// panel's process, below the packages that run commands or draw: the
// engine links neither the shim, the sandbox, the broker, the audit log nor
// the TUI, and the broker neither the shim, the sandbox nor the TUI.
func TestDeps(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go tool not on PATH")
	}
	const mod = "github.com/chaperone-dev/chaperone/"
	for pkg, bad := range map[string][]string{
		"engine": {"charm.land/", "github.com/charmbracelet/", mod + "tui", mod + "shim", mod + "sandbox", mod + "broker", mod + "audit", mod + "cmd/"},
		"broker": {"charm.land/", "github.com/charmbracelet/", mod + "tui", mod + "shim", mod + "sandbox", mod + "cmd/"},
	} {
		out, err := exec.Command("go", "list", "-mod=mod", "-deps", mod+pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, b := range bad {
				if strings.HasPrefix(dep, b) {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
}
