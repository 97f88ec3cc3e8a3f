package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/internal/safefile"
)

// within runs f and fails the test if it has not returned after a few
// seconds: a read that blocks on a FIFO never returns.
func within(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("blocked: chaperone would hang here")
	}
}

func mkfifo(t *testing.T, p string) {
	t.Helper()
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
}

// What a sandboxed command can leave at a project's .chaperone.toml, as
// an attacker would try it: LoadProject and Trust never block, never read
// outside the project, and say which file is wrong.
func TestProjectFileAttacks(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	outside := t.TempDir()
	secret := filepath.Join(outside, "id_rsa")
	os.WriteFile(secret, []byte("backend = \"SECRET-KEY-MATERIAL\"\n"), 0o600)

	tests := []struct {
		name  string
		plant func(t *testing.T, proj string)
		want  string // in the error
		is    error  // errors.Is, when set
	}{
		{"a FIFO", func(t *testing.T, proj string) { mkfifo(t, filepath.Join(proj, ProjectFile)) },
			"FIFO, not a regular file", safefile.ErrNotRegular},
		{"a link to a FIFO inside the project", func(t *testing.T, proj string) {
			mkfifo(t, filepath.Join(proj, "pipe"))
			os.Symlink("pipe", filepath.Join(proj, ProjectFile))
		}, "FIFO, not a regular file", safefile.ErrNotRegular},
		{"a folder", func(t *testing.T, proj string) { os.Mkdir(filepath.Join(proj, ProjectFile), 0o755) },
			"folder, not a regular file", safefile.ErrNotRegular},
		{"a socket", func(t *testing.T, proj string) {
			// A socket path is limited to 108 bytes: make it in a short folder.
			short, err := os.MkdirTemp("/tmp", "cf")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(short) })
			fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer syscall.Close(fd)
			if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: filepath.Join(short, "s")}); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(filepath.Join(short, "s"), filepath.Join(proj, ProjectFile)); err != nil {
				t.Fatal(err)
			}
		}, "socket, not a regular file", safefile.ErrNotRegular},
		{"a link to a secret outside the project", func(t *testing.T, proj string) {
			os.Symlink(secret, filepath.Join(proj, ProjectFile))
		}, "symbolic link that leads out of the project", nil},
		{"a relative link climbing out", func(t *testing.T, proj string) {
			rel, _ := filepath.Rel(proj, secret)
			os.Symlink(rel, filepath.Join(proj, ProjectFile))
		}, "symbolic link that leads out of the project", nil},
		{"a link through a folder link that leads out", func(t *testing.T, proj string) {
			os.Symlink(outside, filepath.Join(proj, "sub"))
			os.Symlink("sub/id_rsa", filepath.Join(proj, ProjectFile))
		}, "symbolic link that leads out of the project", nil},
		{"a link to a device", func(t *testing.T, proj string) {
			os.Symlink("/dev/zero", filepath.Join(proj, ProjectFile))
		}, "symbolic link that leads out of the project", nil},
		{"a huge file", func(t *testing.T, proj string) {
			f, err := os.Create(filepath.Join(proj, ProjectFile))
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString("backend = \"docker\"\n#")
			f.Truncate(maxFile + 10) // sparse: no disk needed
			f.Close()
		}, "larger than 4 MiB", safefile.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proj := t.TempDir()
			tt.plant(t, proj)
			path := filepath.Join(proj, ProjectFile)
			check := func(what string, err error) {
				t.Helper()
				var ce *Error
				if !errors.As(err, &ce) || ce.Path != path || !strings.Contains(err.Error(), tt.want) || ce.Fix == "" {
					t.Errorf("%s: got %v; want an *Error naming %s, saying %q, with a fix", what, err, path, tt.want)
				}
				if tt.is != nil && !errors.Is(err, tt.is) {
					t.Errorf("%s: %v is not %v", what, err, tt.is)
				}
				if err != nil && strings.Contains(err.Error(), "SECRET-KEY-MATERIAL") {
					t.Errorf("%s: the error shows the secret: %v", what, err)
				}
			}
			within(t, func() {
				c, err := LoadProject(proj)
				if c != nil {
					t.Errorf("LoadProject loaded %+v", c)
				}
				check("LoadProject", err)
			})
			within(t, func() {
				_, _, err := Trust(proj)
				check("Trust", err)
			})
			if m, _ := readTrust(); len(m) != 0 {
				t.Errorf("something was trusted: %v", m)
			}
		})
	}
}

// A symbolic link that stays inside the project is read like the file
// itself; a link to nothing is no file.
func TestProjectFileLinks(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	t.Run("inside the project", func(t *testing.T) {
		proj := t.TempDir()
		os.Mkdir(filepath.Join(proj, "conf"), 0o755)
		os.WriteFile(filepath.Join(proj, "conf", "chaperone.toml"), []byte("backend = \"docker\"\n"), 0o644)
		os.Symlink("conf/chaperone.toml", filepath.Join(proj, ProjectFile))
		if _, err := LoadProject(proj); !errors.Is(err, ErrUntrusted) {
			t.Fatalf("untrusted: got %v", err)
		}
		if _, _, err := Trust(proj); err != nil {
			t.Fatal(err)
		}
		if c, err := LoadProject(proj); err != nil || c.Backend != "docker" {
			t.Fatalf("trusted: got %+v, %v", c, err)
		}
	})
	t.Run("to nothing", func(t *testing.T) {
		proj := t.TempDir()
		os.Symlink("missing.toml", filepath.Join(proj, ProjectFile))
		if c, err := LoadProject(proj); c != nil || err != nil {
			t.Errorf("LoadProject = %v, %v; want nothing", c, err)
		}
		if _, _, err := Trust(proj); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Trust = %v; want a missing file", err)
		}
	})
	t.Run("a project that is itself reached through a link", func(t *testing.T) {
		real := t.TempDir()
		os.WriteFile(filepath.Join(real, ProjectFile), []byte("backend = \"docker\"\n"), 0o644)
		link := filepath.Join(t.TempDir(), "proj")
		os.Symlink(real, link)
		if _, err := LoadProject(link); !errors.Is(err, ErrUntrusted) {
			t.Errorf("LoadProject = %v; want ErrUntrusted", err)
		}
	})
}

// chaperone's own files (the user's config, the trust records) live where
// no sandbox can reach, but one that is not a file still gives an error,
// never a hang.
func TestOwnFilesNeverBlock(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_STATE_HOME", dir)
	t.Setenv("XDG_CONFIG_HOME", dir)
	os.MkdirAll(filepath.Join(dir, "chaperone"), 0o700)
	mkfifo(t, UserPath())
	mkfifo(t, trustPath())
	mkfifo(t, projectsPath())
	within(t, func() {
		var ce *Error
		if _, err := Load(); !errors.As(err, &ce) || ce.Path != UserPath() || !errors.Is(err, safefile.ErrNotRegular) {
			t.Errorf("Load = %v", err)
		}
		if _, err := readTrust(); !errors.As(err, &ce) || ce.Path != trustPath() {
			t.Errorf("readTrust = %v", err)
		}
		if _, err := TrustedProjects(); !errors.As(err, &ce) || ce.Path != projectsPath() {
			t.Errorf("TrustedProjects = %v", err)
		}
	})
	// A user's config linked from a dotfiles folder is followed.
	os.Remove(UserPath())
	dot := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(dot, []byte("backend = \"bwrap\"\n"), 0o644)
	os.Symlink(dot, UserPath())
	if c, err := Load(); err != nil || c.Backend != "bwrap" {
		t.Errorf("linked config: %+v, %v", c, err)
	}
}
