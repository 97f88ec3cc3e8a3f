package sandbox

import (
	"github.com/chaperone-dev/chaperone/internal/itest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// TestGitlinks makes real indexes (versions 2, 3 and 4, SHA-1 and SHA-256)
// holding files and gitlinks, and reads the gitlinks back.
func TestGitlinks(t *testing.T) {
	_, err := exec.LookPath("git")
	itest.Require(t, "git", err == nil)
	for _, format := range []string{"sha1", "sha256"} {
		for _, version := range []int{2, 3, 4} {
			t.Run(format+"/v"+strconv.Itoa(version), func(t *testing.T) {
				dir := t.TempDir()
				git := func(args ...string) {
					t.Helper()
					cmd := exec.Command("git", args...)
					cmd.Dir = dir
					cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null")
					if out, err := cmd.CombinedOutput(); err != nil {
						t.Fatalf("git %v: %v\n%s", args, err, out)
					}
				}
				git("init", "-q", "--object-format="+format)
				for _, f := range []string{"a.txt", "src/deep/name-of-some-length.go", "vendor/zz.txt"} {
					os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755)
					os.WriteFile(filepath.Join(dir, f), []byte(f), 0o644)
				}
				git("add", ".")
				oid := "1234567890123456789012345678901234567890"
				if format == "sha256" {
					oid += "123456789012345678901234"
				}
				git("update-index", "--add", "--cacheinfo", "160000,"+oid+",vendor/lib")
				git("update-index", "--add", "--cacheinfo", "160000,"+oid+",src/deep/sub")
				if version == 3 {
					os.WriteFile(filepath.Join(dir, "new.txt"), []byte("x"), 0o644)
					git("add", "--intent-to-add", "new.txt") // extended flags
				}
				git("update-index", "--index-version", strconv.Itoa(version))
				hash := 20
				if format == "sha256" {
					hash = 32
				}
				got, err := gitlinks(filepath.Join(dir, ".git"), hash)
				if err != nil {
					t.Fatal(err)
				}
				slices.Sort(got)
				if want := []string{"src/deep/sub", "vendor/lib"}; !slices.Equal(got, want) {
					t.Errorf("gitlinks = %q, want %q", got, want)
				}
			})
		}
	}
	t.Run("garbage", func(t *testing.T) {
		for _, b := range [][]byte{nil, []byte("DIRC"), []byte("DIRC\x00\x00\x00\x02\x00\x00\x00\x05short"), []byte("XXXX\x00\x00\x00\x02\x00\x00\x00\x00")} {
			if _, err := parseIndex(b, 20); err == nil {
				t.Errorf("parseIndex(%q) did not fail", b)
			}
		}
	})
}

func FuzzParseIndex(f *testing.F) {
	f.Add([]byte("DIRC\x00\x00\x00\x04\x00\x00\x00\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		parseIndex(b, 20) // no panic, no hang
	})
}

// TestSweepGit plays what a command can do to git that no mount stops, and
// what git itself does that must stay.
func TestSweepGit(t *testing.T) {
	_, err := exec.LookPath("git")
	itest.Require(t, "git", err == nil)
	proj, quarantine := t.TempDir(), t.TempDir()
	git := func(dir string, args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@e",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@e", "GIT_ALLOW_PROTOCOL=file")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git(proj, "init", "-q")
	// A submodule initialised before the command: its git folder is in
	// .git/modules/lib, its work tree has a .git file.
	os.MkdirAll(filepath.Join(proj, ".git", "modules", "lib"), 0o755)
	os.WriteFile(filepath.Join(proj, ".git", "modules", "lib", "HEAD"), []byte("ref: refs/heads/main\n"), 0o644)
	oid := "1234567890123456789012345678901234567890"
	git(proj, "update-index", "--add", "--cacheinfo", "160000,"+oid+",lib")
	git(proj, "update-index", "--add", "--cacheinfo", "160000,"+oid+",old")
	w, err := WatchTop(proj, nil)
	if err != nil {
		t.Fatal(err)
	}

	// The command: plants .git/commondir, makes a repository and adds it,
	// makes a git folder in an old gitlink with none, adds a module folder,
	// and does what `git submodule update` does for lib.
	os.MkdirAll(filepath.Join(proj, "nested"), 0o755)
	git(filepath.Join(proj, "nested"), "init", "-q")
	git(filepath.Join(proj, "nested"), "config", "core.fsmonitor", "touch /tmp/pwned")
	git(filepath.Join(proj, "nested"), "commit", "-q", "--allow-empty", "-m", "x")
	git(proj, "add", "nested")
	os.MkdirAll(filepath.Join(proj, "old", ".git"), 0o755)
	os.MkdirAll(filepath.Join(proj, ".git", "modules", "evil"), 0o755)
	os.MkdirAll(filepath.Join(proj, "lib"), 0o755)
	os.WriteFile(filepath.Join(proj, "lib", ".git"), []byte("gitdir: ../.git/modules/lib\n"), 0o644)
	os.WriteFile(filepath.Join(proj, ".git", "commondir"), []byte("../evil\n"), 0o644) // last: git stops working

	moved, _, err := w.Sweep(quarantine)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(moved)
	want := []string{".git/commondir", ".git/modules/evil", "nested/.git", "old/.git"}
	if !slices.Equal(moved, want) {
		t.Errorf("moved %q, want %q", moved, want)
	}
	if _, err := os.Stat(filepath.Join(proj, "lib", ".git")); err != nil {
		t.Error("the submodule's .git file (git's own) was moved")
	}
	for _, gone := range want {
		if _, err := os.Lstat(filepath.Join(proj, gone)); err == nil {
			t.Errorf("%s is still in the project", gone)
		}
	}
}

// BenchmarkWatchSweep is the cost a command pays for Watch and Sweep in a
// real repository (this one).
func BenchmarkWatchSweep(b *testing.B) {
	wd, _ := os.Getwd()
	proj := filepath.Dir(wd)
	q := b.TempDir()
	for b.Loop() {
		w, _ := WatchTop(proj, nil)
		w.Sweep(q)
	}
}

// BenchmarkProtect is the cost of planning the guard mounts of this
// repository.
func BenchmarkProtect(b *testing.B) {
	wd, _ := os.Getwd()
	proj := filepath.Dir(wd)
	for b.Loop() {
		Protect(proj, nil, false)
	}
}
