package reaper

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
)

// tree makes files (a trailing "/" makes a folder; "NAME -> TARGET" a
// symbolic link) under dir.
func tree(t *testing.T, dir string, entries ...string) {
	t.Helper()
	for _, e := range entries {
		p := filepath.Join(dir, e)
		if name, target, ok := strings.Cut(e, " -> "); ok {
			p = filepath.Join(dir, name)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if strings.HasSuffix(e, "/") {
			os.MkdirAll(p, 0o755)
			continue
		}
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// list returns every path under dir, relative, sorted.
func list(dir string) []string {
	var out []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && p != dir {
			out = append(out, strings.TrimPrefix(p, dir+"/"))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

func openDev(t *testing.T, dir string) (int, uint64) {
	t.Helper()
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	var st syscall.Stat_t
	syscall.Fstat(fd, &st)
	return fd, uint64(st.Dev)
}

func TestSweepHome(t *testing.T) {
	t.Parallel()
	planted := []string{".bash_profile", ".profile", ".bashrc", ".bash_login", ".bash_logout", ".inputrc",
		".gitconfig", ".config/git/config", ".npmrc", ".ssh/config", ".pythonrc",
		".local/lib/python3.11/site-packages/evil.pth"}
	t.Run("alone: emptied, links not followed", func(t *testing.T) {
		t.Parallel()
		root := t.TempDir()
		home, outside := filepath.Join(root, "home"), filepath.Join(root, "outside")
		tree(t, outside, "secret", "sub/file")
		tree(t, home, append(planted, ".cache/go-build/a/b", "work/notes", "deep/a/b/c/d/e/f",
			"out -> "+outside, "dir-link -> "+outside+"/sub", "dangling -> /nowhere", ".config/other/x")...)
		fd, dev := openDev(t, home)
		sweepHome(fd, dev, false)
		if left := list(home); len(left) != 0 {
			t.Errorf("left in home: %q", left)
		}
		if got := list(outside); !slices.Equal(got, []string{"secret", "sub", "sub/file"}) {
			t.Errorf("outside the home, through links: %q", got)
		}
	})
	t.Run("others running: the start files only", func(t *testing.T) {
		t.Parallel()
		root := t.TempDir()
		home, outside := filepath.Join(root, "home"), filepath.Join(root, "outside")
		tree(t, outside, "git/config")
		tree(t, home, append(planted, ".cache/go-build/a", "work/notes", ".config/other/x",
			".claude/shell-snapshots/snap.sh -> /run/chaperone-out/1-in0")...)
		// A link where a start file's folder is: removed, not followed.
		tree(t, home, ".config/fish -> "+outside)
		fd, dev := openDev(t, home)
		sweepHome(fd, dev, true)
		want := []string{".cache", ".cache/go-build", ".cache/go-build/a", ".claude", ".claude/shell-snapshots",
			".claude/shell-snapshots/snap.sh", ".config", ".config/other", ".config/other/x", ".local", "work", "work/notes"}
		if got := list(home); !slices.Equal(got, want) {
			t.Errorf("home after the sweep:\n%q\nwant\n%q", got, want)
		}
		if got := list(outside); !slices.Equal(got, []string{"git", "git/config"}) {
			t.Errorf("outside the home, through a link: %q", got)
		}
	})
}

// TestClearHomeMounts: only a home folder that is a tmpfs of its own is
// swept, and what is mounted in it (the project) is kept. It needs root to
// mount.
func TestClearHomeMounts(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("mounting needs root")
	}
	root := t.TempDir()
	home, project := filepath.Join(root, "home"), filepath.Join(root, "project")
	tree(t, project, "main.go", ".git/config")
	os.MkdirAll(home, 0o700)
	if err := syscall.Mount("tmpfs", home, "tmpfs", 0, "mode=0700"); err != nil {
		t.Skipf("mount a tmpfs: %v", err)
	}
	defer syscall.Unmount(home, syscall.MNT_DETACH)
	inner := filepath.Join(home, "src", "project")
	os.MkdirAll(inner, 0o755)
	if err := syscall.Mount(project, inner, "", syscall.MS_BIND, ""); err != nil {
		t.Fatalf("bind the project: %v", err)
	}
	defer syscall.Unmount(inner, syscall.MNT_DETACH)
	tree(t, home, ".bash_profile", ".gitconfig", "src/other")
	fd, err := syscall.Open(home, syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	clearHome(fd, home, false)
	if got := list(home); !slices.Equal(got, []string{"src", "src/project", "src/project/.git", "src/project/.git/config", "src/project/main.go"}) {
		t.Errorf("home after the sweep: %q; want only the way to the project, and the project whole", got)
	}
	// Not a tmpfs mount point: left alone.
	plain := filepath.Join(root, "plain")
	tree(t, plain, ".bash_profile")
	pfd, _ := openDev(t, plain)
	clearHome(pfd, plain, false)
	if got := list(plain); !slices.Equal(got, []string{".bash_profile"}) {
		t.Errorf("a plain folder was swept: %q", got)
	}
}
