package sandbox

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaperone-dev/chaperone/internal/itest"
)

// TestReaperProgram checks which programs may be mounted as the reaper:
// only a static ELF program, else ErrReaper saying why.
func TestReaperProgram(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "script")
	os.WriteFile(script, []byte("#!/bin/sh\necho hi\n"), 0o755)
	cases := []struct {
		name, path string
		why        string // "" when it must be accepted
	}{
		{"static chaperone-shell", filepath.Join(itest.Programs(t), "chaperone-shell"), ""},
		{"dynamic program", "/bin/ls", "dynamically linked"},
		{"script", script, "not a program"},
		{"missing", filepath.Join(dir, "none"), "no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Engine{Kind: "docker", Reaper: c.path}.reaperProgram()
			if c.why == "" {
				if err != nil || got != c.path {
					t.Errorf("got %q, %v; want %s accepted", got, err, c.path)
				}
				return
			}
			if !errors.Is(err, ErrReaper) || !strings.Contains(err.Error(), c.why) || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
				t.Errorf("error %v; want ErrReaper saying %q and how to build", err, c.why)
			}
		})
	}
}
