package rundir_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chaperone-dev/chaperone/internal/rundir"
)

func TestDir(t *testing.T) {
	uid := strconv.Itoa(os.Getuid())
	t.Run("XDG_RUNTIME_DIR", func(t *testing.T) {
		t.Setenv("XDG_RUNTIME_DIR", "/run/user/1234")
		t.Setenv("TMPDIR", "/var/tmp")
		if got := rundir.Dir(); got != "/run/user/1234/chaperone" {
			t.Errorf("Dir() = %q, want /run/user/1234/chaperone", got)
		}
	})
	t.Run("temp dir without XDG_RUNTIME_DIR", func(t *testing.T) {
		t.Setenv("XDG_RUNTIME_DIR", "")
		t.Setenv("TMPDIR", "/var/tmp")
		want := "/var/tmp/chaperone-" + uid
		if got := rundir.Dir(); got != want {
			t.Errorf("Dir() = %q, want %q", got, want)
		}
		if got := rundir.Fallback(); got != want {
			t.Errorf("Fallback() = %q, want %q", got, want)
		}
	})
	t.Run("Fallback ignores XDG_RUNTIME_DIR", func(t *testing.T) {
		t.Setenv("XDG_RUNTIME_DIR", "/run/user/1234")
		t.Setenv("TMPDIR", "/var/tmp")
		if got, want := rundir.Fallback(), "/var/tmp/chaperone-"+uid; got != want {
			t.Errorf("Fallback() = %q, want %q", got, want)
		}
	})
	t.Run("/tmp without TMPDIR", func(t *testing.T) {
		t.Setenv("XDG_RUNTIME_DIR", "")
		t.Setenv("TMPDIR", "")
		if got, want := rundir.Dir(), "/tmp/chaperone-"+uid; got != want {
			t.Errorf("Dir() = %q, want %q", got, want)
		}
	})
}

func TestDirFrom(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", "/not/this/one")
	t.Setenv("TMPDIR", "/nor/this")
	uid := strconv.Itoa(os.Getuid())
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"XDG_RUNTIME_DIR", map[string]string{"XDG_RUNTIME_DIR": "/run/user/7", "TMPDIR": "/t"}, "/run/user/7/chaperone"},
		{"TMPDIR", map[string]string{"TMPDIR": "/t"}, "/t/chaperone-" + uid},
		{"neither", map[string]string{}, "/tmp/chaperone-" + uid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := rundir.DirFrom(func(name string) string { return c.env[name] })
			if got != c.want {
				t.Errorf("DirFrom(%v) = %q, want %q", c.env, got, c.want)
			}
		})
	}
}

func TestMake(t *testing.T) {
	t.Parallel()
	t.Run("creates a private folder", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "a", "chaperone")
		if err := rundir.Make(dir); err != nil {
			t.Fatalf("Make: %v", err)
		}
		fi, err := os.Lstat(dir)
		if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
			t.Fatalf("after Make: %v, %v; want a 0700 directory", fi.Mode(), err)
		}
		if err := rundir.Make(dir); err != nil {
			t.Errorf("Make on its own folder: %v", err)
		}
	})
	t.Run("refuses an open folder", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(t.TempDir(), "open")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		os.Chmod(dir, 0o755) // whatever the umask
		if err := rundir.Make(dir); !errors.Is(err, rundir.ErrNotPrivate) {
			t.Errorf("Make(0755 folder) = %v, want ErrNotPrivate", err)
		}
	})
	t.Run("cannot create", func(t *testing.T) {
		t.Parallel()
		file := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(file, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := rundir.Make(filepath.Join(file, "sub")); err == nil {
			t.Error("Make under a regular file succeeded")
		}
	})
}

func TestCheck(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	mkdir := func(name string, mode os.FileMode) string {
		p := filepath.Join(root, name)
		if err := os.Mkdir(p, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // whatever the umask
			t.Fatal(err)
		}
		return p
	}
	private := mkdir("private", 0o700)
	link := filepath.Join(root, "link")
	if err := os.Symlink(private, link); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, nil, 0o700); err != nil {
		t.Fatal(err)
	}
	// Another user's folder: made so when we are root; otherwise / (root's,
	// and the owner is checked before the mode).
	foreign := "/"
	if os.Getuid() == 0 {
		foreign = mkdir("foreign", 0o700)
		if err := os.Chown(foreign, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name string
		dir  string
		want []string // in the error, beside ErrNotPrivate; nil: no error
	}{
		{"private folder", private, nil},
		{"private, read-only", mkdir("readonly", 0o500), nil},
		{"symlink to a private folder", link, []string{"not a plain directory"}},
		{"regular file", file, []string{"not a plain directory"}},
		{"0755", mkdir("open", 0o755), []string{"mode", "fix: chmod 700 " + filepath.Join(root, "open")}},
		{"group writable", mkdir("group", 0o770), []string{"fix: chmod 700"}},
		{"others may enter", mkdir("others", 0o701), []string{"fix: chmod 700"}},
		{"another user's", foreign, []string{"owned by another user"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := rundir.Check(c.dir)
			if c.want == nil {
				if err != nil {
					t.Errorf("Check(%s) = %v, want nil", c.dir, err)
				}
				return
			}
			if !errors.Is(err, rundir.ErrNotPrivate) {
				t.Fatalf("Check(%s) = %v, want ErrNotPrivate", c.dir, err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Check(%s) = %q, which does not say %q", c.dir, err, w)
				}
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		t.Parallel()
		err := rundir.Check(filepath.Join(root, "missing"))
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Check(missing) = %v, want a not-exist error", err)
		}
	})
}
