package config

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestRegistries reads [rules] registries, the package sources a user
// adds to the public registries.
func TestRegistries(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte("[rules]\nregistries = [\"npm.corp.example\", \"https://git.corp.example/pypi\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"npm.corp.example", "https://git.corp.example/pypi"}; !slices.Equal(c.Rules.Registries, want) {
		t.Errorf("registries = %q, want %q", c.Rules.Registries, want)
	}
}
