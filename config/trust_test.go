package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestTrust(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	dir := t.TempDir()
	if c, err := LoadProject(dir); c != nil || err != nil {
		t.Fatalf("no file: got %v, %v", c, err)
	}
	p := filepath.Join(dir, ProjectFile)
	if err := os.WriteFile(p, []byte("backend = \"docker\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadProject(dir); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("untrusted file: got %v", err)
	}
	if _, _, err := Trust(dir); err != nil {
		t.Fatal(err)
	}
	c, err := LoadProject(dir)
	if err != nil || c.Backend != "docker" {
		t.Fatalf("trusted file: got %+v, %v", c, err)
	}
	// An edit after trusting (an agent relaxing its own policy) is refused.
	if err := os.WriteFile(p, []byte("backend = \"host\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadProject(dir); !errors.Is(err, ErrUntrusted) {
		t.Fatalf("edited file: got %v", err)
	}
	// A broken file cannot be trusted.
	os.WriteFile(p, []byte("backend = = 1\n"), 0o644)
	var ce *Error
	if _, _, err := Trust(dir); !errors.As(err, &ce) || ce.Line != 1 {
		t.Fatalf("broken file: got %v", err)
	}
}
