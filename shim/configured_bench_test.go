package shim

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BenchmarkConfigured is what the shell server spends building the Shim
// for one command: the config, the project, the engine, the backend.
func BenchmarkConfigured(b *testing.B) {
	tmp := b.TempDir()
	repo := filepath.Join(tmp, "repo")
	os.MkdirAll(filepath.Join(tmp, "config", "chaperone"), 0o700)
	os.WriteFile(filepath.Join(tmp, "config", "chaperone", "config.toml"), []byte("backend = \"host\"\n"), 0o600)
	exec.Command("git", "init", "-q", repo).Run()
	b.Setenv("XDG_CONFIG_HOME", filepath.Join(tmp, "config"))
	b.Setenv("XDG_STATE_HOME", filepath.Join(tmp, "state"))
	b.Setenv("XDG_RUNTIME_DIR", filepath.Join(tmp, "run"))
	o := origin{dir: repo, stdio: [3]*os.File{os.Stdin, os.Stdout, os.Stderr}, environ: os.Environ(), pid: os.Getpid(), ppid: os.Getppid()}
	for b.Loop() {
		s, err := configured(context.Background(), o)
		if err != nil {
			b.Fatal(err)
		}
		if s.Log != nil {
			s.Log.Close()
		}
	}
}
