package sandbox_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaperone-dev/chaperone/models"
)

// TestBwrapSystemSecretsBlank: a bubblewrap sandbox shows the host's root,
// and as root the machine's own credential stores in it (/etc/shadow, the
// ssh host keys, /etc/ssl/private, /var/lib/docker) were readable by any
// command rated low, however it named them. They are blank now; the rest
// of /etc is there.
func TestBwrapSystemSecretsBlank(t *testing.T) {
	// Not parallel: the home it writes, then removes, is among the stores
	// every bubblewrap command of this package blanks, and one gone in
	// the middle of a setup fails it (Run starts it again; a bare
	// handoff, as TestHandoff's, reports it).
	e := newEnv(t, "bwrap")
	var files, dirs []string
	if os.Geteuid() == 0 {
		// Another user's home, which root can read.
		other, err := os.MkdirTemp("/home", "chaperone-test-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(other) })
		for _, f := range []string{".aws/credentials", ".ssh/id_ed25519", ".config/gh/hosts.yml"} {
			os.MkdirAll(filepath.Join(other, filepath.Dir(f)), 0o700)
			if err := os.WriteFile(filepath.Join(other, f), []byte("SECRET\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			files = append(files, filepath.Join(other, f))
		}
		os.WriteFile(filepath.Join(other, "notes.txt"), []byte("plain\n"), 0o644)
		defer func() {
			if out, _, _ := e.run(t, "cat "+filepath.Join(other, "notes.txt"), ""); out != "plain\n" {
				t.Errorf("the rest of another home: %q, want its file", out)
			}
		}()
	}
	for _, s := range models.SystemSecrets {
		paths := []string{strings.TrimSuffix(s, "/")}
		if strings.HasSuffix(s, "_") {
			paths, _ = filepath.Glob(s + "*")
		}
		for _, p := range paths {
			fi, err := os.Stat(p)
			switch {
			case err != nil:
			case fi.IsDir():
				if ents, err := os.ReadDir(p); err == nil && len(ents) > 0 {
					dirs = append(dirs, p)
				}
			default:
				if b, err := os.ReadFile(p); err == nil && len(b) > 0 {
					files = append(files, p)
				}
			}
		}
	}
	if os.Geteuid() == 0 && len(files) == 3 {
		t.Fatal("as root, no credential store of the machine is readable here to test with (/etc/shadow?)")
	}
	for _, f := range files {
		out, errs, code := e.run(t, "cat -- "+f+" | wc -c", "")
		if strings.TrimSpace(out) != "0" {
			t.Errorf("the sandbox reads %d bytes of %s (code %d, stderr %q); want none", len(out), f, code, errs)
		}
	}
	for _, d := range dirs {
		out, errs, code := e.run(t, "ls -A -- "+d+" | wc -l", "")
		if strings.TrimSpace(out) != "0" {
			t.Errorf("the sandbox lists %s entries in %s (code %d, stderr %q); want none", strings.TrimSpace(out), d, code, errs)
		}
	}
	// The rest of /etc is the host's.
	if out, _, _ := e.run(t, "grep -c '^root:' /etc/passwd", ""); strings.TrimSpace(out) != "1" {
		t.Errorf("/etc/passwd in the sandbox: %q, want root's line", out)
	}
	t.Logf("blank: files %v, folders %v", files, dirs)
}
