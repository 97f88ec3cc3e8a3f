package sandbox

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestMoveFile: an output reaches the host only as a regular file, and
// only into a regular file or where there was none: a symbolic link or a
// FIFO at either end is not followed, opened for good or waited on.
func TestMoveFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	os.WriteFile(secret, []byte("host file\n"), 0o600)
	out := func(name, content string) string {
		p := filepath.Join(dir, "out-"+name)
		os.WriteFile(p, []byte(content), 0o600)
		return p
	}
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			return "<" + err.Error() + ">"
		}
		return string(b)
	}
	cases := []struct {
		name  string
		setup func() (src, dst string)
		check func(t *testing.T, dst string)
	}{
		{"new file", func() (string, string) { return out("new", "cwd\n"), filepath.Join(dir, "dst-new") },
			func(t *testing.T, dst string) {
				if got := read(dst); got != "cwd\n" {
					t.Errorf("destination holds %q", got)
				}
			}},
		{"over a file, mode kept", func() (string, string) {
			dst := filepath.Join(dir, "dst-old")
			os.WriteFile(dst, []byte("a much longer old content\n"), 0o640)
			return out("old", "new\n"), dst
		}, func(t *testing.T, dst string) {
			fi, _ := os.Stat(dst)
			if got := read(dst); got != "new\n" || fi.Mode().Perm() != 0o640 {
				t.Errorf("destination holds %q, mode %v; want new, 0640", got, fi.Mode().Perm())
			}
		}},
		{"destination a link to a host file", func() (string, string) {
			dst := filepath.Join(dir, "dst-link")
			os.Symlink(secret, dst)
			return out("link", "overwrite\n"), dst
		}, func(t *testing.T, dst string) {
			if got := read(secret); got != "host file\n" {
				t.Errorf("the host file behind the link now holds %q", got)
			}
		}},
		{"destination a dangling link", func() (string, string) {
			dst := filepath.Join(dir, "dst-dangling")
			os.Symlink(filepath.Join(dir, "made-through-link"), dst)
			return out("dangling", "x\n"), dst
		}, func(t *testing.T, dst string) {
			if _, err := os.Lstat(filepath.Join(dir, "made-through-link")); err == nil {
				t.Error("a file was made through the link")
			}
		}},
		{"destination a FIFO", func() (string, string) {
			dst := filepath.Join(dir, "dst-fifo")
			syscall.Mkfifo(dst, 0o600)
			return out("fifo", "x\n"), dst
		}, func(t *testing.T, dst string) {}},
		{"source a link to a host file", func() (string, string) {
			src := filepath.Join(dir, "out-srclink")
			os.Symlink(secret, src)
			return src, filepath.Join(dir, "dst-srclink")
		}, func(t *testing.T, dst string) {
			if _, err := os.Lstat(dst); err == nil {
				t.Errorf("something was written: %q", read(dst))
			}
		}},
		{"source a FIFO", func() (string, string) {
			src := filepath.Join(dir, "out-srcfifo")
			syscall.Mkfifo(src, 0o600)
			return src, filepath.Join(dir, "dst-srcfifo")
		}, func(t *testing.T, dst string) {}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src, dst := c.setup()
			done := make(chan struct{})
			go func() { moveFile(src, dst); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("moveFile blocked")
			}
			if _, err := os.Lstat(src); err == nil {
				t.Error("the exchange file was left")
			}
			c.check(t, dst)
		})
	}
}
