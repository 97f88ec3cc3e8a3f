package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeps keeps what starts for every command small: chaperone-shell
// depends on the standard library's basics and five small packages of
// ours only, and chaperone itself does not carry the terminal UI (that is
// chaperone-panel's).
func TestDeps(t *testing.T) {
	deps := func(pkg string) []string {
		out, err := exec.Command("go", "list", "-mod=mod", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		return strings.Fields(string(out))
	}
	ours := map[string]bool{
		"github.com/chaperone-dev/chaperone/cmd/chaperone-shell": true,
		"github.com/chaperone-dev/chaperone/internal/cloexec":    true,
		"github.com/chaperone-dev/chaperone/internal/inside":     true,
		"github.com/chaperone-dev/chaperone/internal/rundir":     true,
		"github.com/chaperone-dev/chaperone/internal/shellsrv":   true,
		// The per-job reaper of docker and podman sandboxes: the engine
		// mounts chaperone-shell, small and static, into the container
		// and runs each command under it.
		"github.com/chaperone-dev/chaperone/internal/reaper": true,
		// The reaper's forwarder to the egress proxy (on syscalls, not
		// package net).
		"github.com/chaperone-dev/chaperone/internal/egress": true,
	}
	for _, dep := range deps("github.com/chaperone-dev/chaperone/cmd/chaperone-shell") {
		switch {
		case ours[dep]:
		case strings.Contains(dep, "."), strings.HasPrefix(dep, "net"), strings.HasPrefix(dep, "crypto"), dep == "encoding/json", dep == "regexp":
			t.Errorf("chaperone-shell depends on %s", dep)
		}
	}
	for _, dep := range deps("github.com/chaperone-dev/chaperone/cmd/chaperone") {
		if strings.HasPrefix(dep, "charm.land/") || strings.HasPrefix(dep, "github.com/charmbracelet/") || strings.HasSuffix(dep, "chaperone/tui") {
			t.Errorf("chaperone depends on %s (the panel's part)", dep)
		}
	}
}
