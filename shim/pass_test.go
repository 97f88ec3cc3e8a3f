package shim

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPass(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	argv := []string{"-c", "echo hi"}
	pass, marker, err := MintPass(argv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("no marker: %v", err)
	}
	if UsePass(pass, []string{"-c", "echo hi; rm -rf ~"}) {
		t.Error("a pass for one command accepted another")
	}
	if UsePass(pass, []string{"-x", "-c", "echo hi"}) {
		t.Error("a pass accepted other flags")
	}
	forged := strings.Join(append(strings.Split(pass, ".")[:2], "AAAA"), ".")
	if UsePass(forged, argv) {
		t.Error("a forged MAC was accepted")
	}
	if !UsePass(pass, argv) {
		t.Fatal("the pass was refused for its own command")
	}
	if UsePass(pass, argv) {
		t.Error("a pass was accepted twice")
	}

	// A key readable by others is not trusted, nor a dir open to others.
	dir, err := RuntimeDir()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	pass2, _, err := MintPass(argv)
	if err == nil && UsePass(pass2, argv) {
		t.Error("a pass was used from a runtime dir open to others")
	}
	os.Chmod(dir, 0o700)
	if _, err := os.Stat(filepath.Join(dir, "pass.key")); err != nil {
		t.Errorf("no key file: %v", err)
	}
}

func TestPassExpired(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	argv := []string{"-c", "ls"}
	pass, _, err := MintPass(argv)
	if err != nil {
		t.Fatal(err)
	}
	p := strings.Split(pass, ".")
	p[1] = "1000" // long ago; the MAC no longer matches either
	if UsePass(strings.Join(p, "."), argv) {
		t.Error("an expired pass was accepted")
	}
}
