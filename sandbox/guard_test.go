package sandbox

// Attacks on the guard (Protect, WatchTop, Sweep), one class per test,
// played as a command in the sandbox would play them: what it can do is
// write anything in the project but what the mounts keep (a unit test has
// no mounts: it writes where a mount would have stopped it only to check
// that Sweep catches what no mount can).

import (
	"bytes"
	"crypto/sha1"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/chaperone-dev/chaperone/internal/itest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// guardWorld is a project (a git repository) beside a home folder with a
// repository of its own, under one temporary folder, and a quarantine.
type guardWorld struct {
	t                            *testing.T
	root, proj, home, quarantine string
}

func newGuardWorld(t *testing.T) *guardWorld {
	t.Helper()
	_, err := exec.LookPath("git")
	itest.Require(t, "git", err == nil)
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := &guardWorld{t: t, root: root, proj: filepath.Join(root, "home", "proj"), home: filepath.Join(root, "home"),
		quarantine: filepath.Join(root, "state", "quarantine")}
	w.mkdir("home/proj")
	w.git(w.proj, "init", "-q")
	w.write("home/proj/README", "x")
	w.git(w.proj, "add", "README")
	w.git(w.proj, "commit", "-q", "-m", "init")
	w.mkdir("home/other")
	w.git(filepath.Join(root, "home", "other"), "init", "-q")
	return w
}

func (w *guardWorld) abs(rel string) string { return filepath.Join(w.root, filepath.FromSlash(rel)) }

func (w *guardWorld) mkdir(rel string) {
	w.t.Helper()
	if err := os.MkdirAll(w.abs(rel), 0o755); err != nil {
		w.t.Fatal(err)
	}
}

func (w *guardWorld) write(rel, content string) {
	w.t.Helper()
	w.mkdir(filepath.Dir(rel))
	if err := os.WriteFile(w.abs(rel), []byte(content), 0o644); err != nil {
		w.t.Fatal(err)
	}
}

func (w *guardWorld) link(target, rel string) {
	w.t.Helper()
	if err := os.Symlink(target, w.abs(rel)); err != nil {
		w.t.Fatal(err)
	}
}

// git runs git in dir, with no user or system config.
func (w *guardWorld) git(dir string, args ...string) string {
	w.t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "init.defaultBranch=main", "-c", "protocol.file.allow=always"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1", "GIT_EDITOR=true", "GIT_AUTHOR_NAME=t",
		"GIT_AUTHOR_EMAIL=t@e", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@e")
	out, err := cmd.CombinedOutput()
	if err != nil {
		w.t.Fatalf("git %v in %s: %v\n%s", args, dir, err, out)
	}
	return strings.TrimSpace(string(out))
}

// gitlink records a gitlink at path in the project's index, without
// looking at the work tree (as `git update-index --cacheinfo` does).
func (w *guardWorld) gitlink(repoDir, path string) {
	w.t.Helper()
	w.git(repoDir, "update-index", "--add", "--cacheinfo", "160000,"+w.git(w.proj, "rev-parse", "HEAD")+","+path)
}

// submodule gives the project a submodule lib, its git folder absorbed in
// .git/modules/lib.
func (w *guardWorld) submodule() {
	w.t.Helper()
	src := w.abs("libsrc")
	w.mkdir("libsrc")
	w.git(src, "init", "-q")
	w.write("libsrc/lib.txt", "lib")
	w.git(src, "add", "lib.txt")
	w.git(src, "commit", "-q", "-m", "lib")
	w.git(w.proj, "submodule", "add", "-q", src, "lib")
	w.git(w.proj, "commit", "-q", "-m", "lib")
}

// embedded gives the project a repository of its own in vendor/lib (its
// .git a folder there), recorded as a gitlink.
func (w *guardWorld) embedded() {
	w.t.Helper()
	w.mkdir("home/proj/vendor/lib")
	lib := w.abs("home/proj/vendor/lib")
	w.git(lib, "init", "-q")
	w.git(lib, "commit", "-q", "--allow-empty", "-m", "lib")
	w.git(w.proj, "add", "vendor/lib")
	w.git(w.proj, "commit", "-q", "-m", "vendored")
}

// watch is WatchTop, which must not fail.
func (w *guardWorld) watch(extra ...string) *Watch {
	w.t.Helper()
	wt, err := WatchTop(w.proj, extra)
	if err != nil {
		w.t.Fatalf("WatchTop: %v", err)
	}
	return wt
}

// sweep sweeps and returns what moved, sorted.
func (w *guardWorld) sweep(wt *Watch) []string {
	w.t.Helper()
	moved, _, err := wt.Sweep(w.quarantine)
	if err != nil {
		w.t.Errorf("Sweep: %v", err)
	}
	slices.Sort(moved)
	return moved
}

// checkGuard fails for any mount path that is not strictly inside the
// project, or is reached through a link.
func (w *guardWorld) checkGuard(g Guard) {
	w.t.Helper()
	for _, p := range append(append([]string{}, g.Pinned...), g.ReadOnly...) {
		if !within(p, w.proj) || p == w.proj {
			w.t.Errorf("mount %s is not inside the project", p)
			continue
		}
		for d := p; d != w.proj; d = filepath.Dir(d) {
			if fi, err := os.Lstat(d); err != nil || fi.Mode()&os.ModeSymlink != 0 {
				w.t.Errorf("mount %s goes through %s, a link or nothing", p, d)
			}
		}
	}
}

// TestGitlinkPathsFollowNoLink: gitlinks whose path runs through a link
// (y -> ., x -> .., z -> the home's other repository) make Protect mount
// nothing outside the project or through a link, and Sweep move neither
// the project's .git nor a host repository's, whether the gitlinks were
// there before the command or it made them.
func TestGitlinkPathsFollowNoLink(t *testing.T) {
	t.Parallel()
	w := newGuardWorld(t)
	w.submodule()
	plant := func() {
		w.link(".", "home/proj/y")
		w.link("..", "home/proj/x")
		w.link("../other", "home/proj/z")
		w.write("home/proj/sub/.git", "gitdir: "+w.proj+"/.git/modules/lib\n")
		for _, p := range []string{"y", "x/proj/sub", "z"} {
			w.gitlink(w.proj, p)
		}
	}
	gitBefore, otherBefore := state(w.abs("home/proj/.git")), state(w.abs("home/other/.git"))

	t.Run("made by the command", func(t *testing.T) {
		wt := w.watch()
		plant()
		if moved := w.sweep(wt); len(moved) != 0 {
			t.Errorf("moved %q: git skips a gitlink through a link", moved)
		}
	})
	t.Run("there before", func(t *testing.T) {
		g := Protect(w.proj, nil, false)
		w.checkGuard(g)
		for _, p := range g.Pinned {
			if strings.HasPrefix(filepath.Base(p), "x") || strings.Contains(p, "/y") || strings.Contains(p, "/z") {
				t.Errorf("pinned %s, through a link", p)
			}
		}
		wt := w.watch()
		// The command swaps the links about.
		os.Remove(w.abs("home/proj/y"))
		w.link("..", "home/proj/y")
		if moved := w.sweep(wt); !slices.Equal(moved, []string{"y"}) {
			t.Errorf("moved %q, want the relinked y alone", moved)
		}
		if got, _ := os.Readlink(w.abs("home/proj/y")); got != "." {
			t.Errorf("y links to %q, want it put back to .", got)
		}
	})
	if state(w.abs("home/proj/.git")) != gitBefore || state(w.abs("home/other/.git")) != otherBefore {
		t.Error("a .git folder was moved")
	}
}

// TestMoveOutRace: a command swaps a folder on the way for a link between
// Sweep's look and its move (a command running beside the one swept):
// nothing outside the project moves.
func TestMoveOutRace(t *testing.T) {
	t.Parallel()
	w := newGuardWorld(t)
	w.mkdir("home/proj/a/b/.git")
	w.mkdir("home/outside/b/.git")
	// Looked at: a/b/.git is a folder. Then a becomes a link out.
	must2(t, os.Rename(w.abs("home/proj/a"), w.abs("home/proj/a.old")))
	w.link("../outside", "home/proj/a")
	err := moveOut(w.proj, "a/b/.git", filepath.Join(w.root, "q"), "")
	if err == nil || !exists(w.abs("home/outside/b/.git")) {
		t.Errorf("moved through a link (err %v)", err)
	}
	// Nor the project's own git folder, whatever path leads to it.
	gitID := state(w.abs("home/proj/.git"))
	w.link(".", "home/proj/y")
	if err := moveOut(w.proj, ".git", filepath.Join(w.root, "q2"), gitID); !errors.Is(err, errKeep) {
		t.Errorf("moveOut(.git) = %v, want errKeep", err)
	}
	if err := moveOut(w.proj, "y/.git", filepath.Join(w.root, "q3"), gitID); err == nil {
		t.Error("moved through y -> .")
	}
	if err := moveOut(w.proj, "../other/.git", filepath.Join(w.root, "q4"), ""); err == nil {
		t.Error("moved ../other/.git")
	}
}

// TestWatchEveryGitFolder: what git reads but never makes (commondir,
// alternates, config.worktree, …), planted in a submodule's git folder or
// an embedded repository's, is swept as it is in the project's.
func TestWatchEveryGitFolder(t *testing.T) {
	t.Parallel()
	w := newGuardWorld(t)
	w.submodule()
	w.embedded()
	g := Protect(w.proj, nil, false)
	w.checkGuard(g)
	rel := func(ps []string) []string {
		var out []string
		for _, p := range ps {
			out = append(out, relProject(p, w.proj))
		}
		return out
	}
	for _, want := range []string{".git/modules/lib/config", ".git/modules/lib/hooks", "vendor/lib/.git/config",
		"vendor/lib/.git/hooks", "lib/.git"} {
		if !slices.Contains(rel(g.ReadOnly), want) {
			t.Errorf("%s is not read-only: %q", want, rel(g.ReadOnly))
		}
	}
	for _, want := range []string{".git/modules/lib", "vendor/lib/.git", "vendor/lib", "vendor", "lib"} {
		if !slices.Contains(rel(g.Pinned), want) {
			t.Errorf("%s is not pinned: %q", want, rel(g.Pinned))
		}
	}
	wt := w.watch()
	planted := []string{".git/modules/lib/commondir", ".git/modules/lib/objects/info/alternates",
		"vendor/lib/.git/commondir", "vendor/lib/.git/config.worktree", ".git/commondir"}
	for _, p := range planted {
		w.write("home/proj/"+p, "../../../evil\n")
	}
	slices.Sort(planted)
	if moved := w.sweep(wt); !slices.Equal(moved, planted) {
		t.Errorf("moved %q, want %q", moved, planted)
	}
}

// TestNestedGitlinks: a repository made inside a submodule or an embedded
// repository and added to its index is swept; one there before is guarded
// like the others.
func TestNestedGitlinks(t *testing.T) {
	t.Parallel()
	w := newGuardWorld(t)
	w.submodule()
	w.embedded()
	nest := func(dir string) {
		w.mkdir(dir + "/nested")
		w.git(w.abs(dir+"/nested"), "init", "-q")
		w.git(w.abs(dir+"/nested"), "commit", "-q", "--allow-empty", "-m", "n")
		w.git(w.abs(dir), "add", "nested")
	}
	wt := w.watch()
	nest("home/proj/lib")
	nest("home/proj/vendor/lib")
	want := []string{"lib/nested/.git", "vendor/lib/nested/.git"}
	if moved := w.sweep(wt); !slices.Equal(moved, want) {
		t.Errorf("moved %q, want %q", moved, want)
	}

	// An index written by hand can hold what git never adds, a gitlink
	// inside .git, and host git recurses into it all the same.
	wt = w.watch()
	w.mkdir("home/proj/.git/y/sub")
	w.git(w.abs("home/proj/.git/y/sub"), "init", "-q")
	w.gitlink(w.proj, "ysub")
	index := w.abs("home/proj/.git/index")
	b, err := os.ReadFile(index)
	must2(t, err)
	must2(t, os.WriteFile(index, renameEntry(t, b, "ysub", ".git/y/sub"), 0o644))
	if moved := w.sweep(wt); !slices.Equal(moved, []string{".git/y/sub/.git"}) {
		t.Errorf("moved %q, want the repository in .git", moved)
	}

	// There before (the person's own): guarded, two levels down.
	nest("home/proj/lib")
	g := Protect(w.proj, nil, false)
	if !slices.Contains(g.ReadOnly, w.abs("home/proj/lib/nested/.git/config")) {
		t.Errorf("the nested repository's config is not read-only: %q", g.ReadOnly)
	}
	wt = w.watch()
	w.write("home/proj/lib/nested/.git/commondir", "x\n")
	if moved := w.sweep(wt); !slices.Equal(moved, []string{"lib/nested/.git/commondir"}) {
		t.Errorf("moved %q", moved)
	}
}

// renameEntry renames the entry from in the version 2 index b (the names
// stay sorted as long as to sorts where from did) and returns the index.
func renameEntry(t *testing.T, b []byte, from, to string) []byte {
	t.Helper()
	if string(b[4:8]) != "\x00\x00\x00\x02" {
		t.Fatal("not a version 2 index")
	}
	n := int(binary.BigEndian.Uint32(b[8:12]))
	out := append([]byte{}, b[:12]...)
	off := 12
	for range n {
		end := off + 62 + bytes.IndexByte(b[off+62:], 0)
		name := b[off+62 : end]
		next := off + ((62 + len(name) + 8) &^ 7)
		if string(name) == from {
			name = []byte(to)
		}
		e := append(append([]byte{}, b[off:off+60]...), 0, byte(len(name)))
		e = append(e, name...)
		out = append(out, append(e, make([]byte, ((62+len(name)+8)&^7)-len(e))...)...)
		off = next
	}
	out = append(out, b[off:len(b)-20]...) // extensions
	sum := sha1.Sum(out)
	return append(out, sum[:]...)
}

// gitlinksOf is what git itself says the index of dir records as gitlinks.
func gitlinksOf(w *guardWorld, dir string) []string {
	var out []string
	for _, l := range strings.Split(w.git(dir, "ls-files", "-s"), "\n") {
		if mode, rest, ok := strings.Cut(l, " "); ok && mode == "160000" {
			_, name, _ := strings.Cut(rest, "\t")
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// TestSplitIndex: a split index keeps its entries in a shared index, with
// deletions and replacements (a file made a gitlink) recorded in the
// split part: gitlinks reads them as git does.
func TestSplitIndex(t *testing.T) {
	t.Parallel()
	w := newGuardWorld(t)
	for _, p := range []string{"a", "b", "c", "d", "e"} {
		w.gitlink(w.proj, "links/"+p)
	}
	w.write("home/proj/f", "a file")
	w.git(w.proj, "add", "f")
	w.git(w.proj, "config", "splitIndex.maxPercentChange", "100") // keep the shared part as it is
	w.git(w.proj, "update-index", "--split-index")
	// Now in the split part only: one deleted, one replaced by a gitlink,
	// one added.
	w.git(w.proj, "update-index", "--force-remove", "links/b")
	w.git(w.proj, "update-index", "--force-remove", "f")
	w.gitlink(w.proj, "f")
	w.gitlink(w.proj, "links/z")
	w.git(w.proj, "update-index", "--cacheinfo", "160000,"+w.git(w.proj, "rev-parse", "HEAD~0^{tree}")+",links/c")
	if m, _ := filepath.Glob(filepath.Join(w.proj, ".git", "sharedindex.*")); len(m) == 0 {
		t.Fatal("no shared index made")
	}
	b, _ := os.ReadFile(filepath.Join(w.proj, ".git", "index"))
	if ix, err := parseIndex(b, 20); err != nil || len(ix.deleted) == 0 || len(ix.replace) == 0 || len(ix.links) == 0 {
		t.Fatalf("the split part does not delete, replace and add: %+v, %v", ix, err)
	}
	got, err := gitlinks(filepath.Join(w.proj, ".git"), 20)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if want := gitlinksOf(w, w.proj); !slices.Equal(got, want) {
		t.Errorf("gitlinks = %q, git says %q", got, want)
	}

	// The shared part gone: unreadable, so the guard fails closed.
	shared, _ := filepath.Glob(filepath.Join(w.proj, ".git", "sharedindex.*"))
	for _, s := range shared {
		os.Rename(s, s+".away")
	}
	var ge *GuardError
	if _, err := WatchTop(w.proj, nil); !errors.As(err, &ge) || !strings.Contains(ge.Path, "index") {
		t.Errorf("WatchTop with the shared index gone: %v, want a GuardError naming the index", err)
	}
}

// TestUnreadableIndex: an index chaperone cannot read fails closed: a
// command does not run with one (WatchTop's GuardError), and one a
// command leaves is moved out. An index that is no file (a FIFO, a link to
// a secret) neither blocks nor leaks, and is moved out when a command made
// it.
func TestUnreadableIndex(t *testing.T) {
	t.Parallel()
	w := newGuardWorld(t)
	index := w.abs("home/proj/.git/index")
	for name, spoil := range map[string]func(){
		"corrupt":        func() { os.WriteFile(index, []byte("DIRC\x00\x00\x00\x02\x00\x00\x00\x09short"), 0o644) },
		"other version":  func() { os.WriteFile(index, []byte("DIRC\x00\x00\x00\x07\x00\x00\x00\x00"), 0o644) },
		"link to secret": func() { w.write("home/secret", "KEY"); os.Symlink(w.abs("home/secret"), index) },
		"fifo":           func() { syscall.Mkfifo(index, 0o644) },
	} {
		t.Run(name, func(t *testing.T) {
			w.git(w.proj, "read-tree", "HEAD") // a good index
			wt := w.watch()
			os.Remove(index)
			spoil()
			done := make(chan struct{})
			go func() { defer close(done); wt.Sweep(w.quarantine) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Sweep blocked")
			}
			if exists(index) {
				t.Error("the index a command made unreadable is still there")
			}
			spoil()
			_, err := WatchTop(w.proj, nil)
			var ge *GuardError
			if fifo := name == "fifo"; fifo != (err == nil) || !fifo && !errors.As(err, &ge) {
				t.Errorf("WatchTop: %v", err)
			}
			if err != nil && strings.Contains(err.Error(), "KEY") {
				t.Error("the error shows what the index links to")
			}
			os.Remove(index)
		})
	}
}

// TestManyModules: thousands of module folders made in a submodule's git
// folder keep the guard small (later commands start), and are swept in
// one move; too many repositories to guard fail closed.
func TestManyModules(t *testing.T) {
	t.Parallel()
	w := newGuardWorld(t)
	w.submodule()
	wt := w.watch()
	flood := func() {
		for i := range 1500 {
			w.write(fmt.Sprintf("home/proj/.git/modules/lib/modules/m%d/HEAD", i), "ref: refs/heads/main\n")
		}
	}
	flood()
	g := Protect(w.proj, nil, false)
	w.checkGuard(g)
	if n := len(g.Pinned) + len(g.ReadOnly); n > 300 {
		t.Errorf("%d mounts", n)
	}
	if !slices.Contains(g.ReadOnly, w.abs("home/proj/.git/modules/lib/modules")) {
		t.Error("the flooded modules folder is not read-only whole")
	}
	if moved := w.sweep(wt); !slices.Equal(moved, []string{".git/modules/lib/modules"}) {
		t.Errorf("moved %q", moved)
	}

	// Too many repositories inside the project to guard even whole.
	for i := range maxRepos + maxWhole + 2 {
		dir := fmt.Sprintf("home/proj/r%d", i)
		w.mkdir(dir + "/.git")
		w.gitlink(w.proj, fmt.Sprintf("r%d", i))
	}
	var ge *GuardError
	if _, err := WatchTop(w.proj, nil); !errors.As(err, &ge) {
		t.Errorf("WatchTop with %d repositories: %v, want a GuardError", maxRepos+maxWhole+2, err)
	}
}

// TestReadOnlyParentsPinned: every folder between the project and what is
// read-only is pinned (a read-only file's folder could be renamed away and
// a new one put in its place), and a guarded name with a slash is watched.
func TestReadOnlyParentsPinned(t *testing.T) {
	t.Parallel()
	w := newGuardWorld(t)
	w.write("home/proj/scripts/pre-commit.sh", "exit 0\n")
	w.link("../../scripts/pre-commit.sh", "home/proj/.git/hooks/pre-commit")
	w.write("home/proj/tools/githooks/pre-push", "exit 0\n")
	w.git(w.proj, "config", "core.hooksPath", "tools/githooks")
	w.write("home/proj/config/deep/envrc", "# direnv\n")
	w.link("config/deep/envrc", "home/proj/.envrc")
	w.write("home/proj/ops/deploy/run.sh", "echo deploy\n")
	g := Protect(w.proj, []string{"ops/deploy/run.sh"}, false)
	w.checkGuard(g)
	for _, want := range []string{"scripts", "tools", "config", "config/deep", "ops", "ops/deploy"} {
		if !slices.Contains(g.Pinned, w.abs("home/proj/"+want)) {
			t.Errorf("%s is not pinned: %q", want, g.Pinned)
		}
	}
	for _, want := range []string{"scripts/pre-commit.sh", "tools/githooks", "config/deep/envrc", "ops/deploy/run.sh"} {
		if !slices.Contains(g.ReadOnly, w.abs("home/proj/"+want)) {
			t.Errorf("%s is not read-only: %q", want, g.ReadOnly)
		}
	}
	// Where no mount was (a container made before): the rename is swept.
	wt := w.watch("ops/deploy/run.sh")
	for _, d := range []string{"scripts", "config", "ops"} {
		must2(t, os.Rename(w.abs("home/proj/"+d), w.abs("home/proj/"+d+".old")))
	}
	w.write("home/proj/scripts/pre-commit.sh", "evil\n")
	w.write("home/proj/config/deep/envrc", "evil\n")
	w.write("home/proj/ops/deploy/run.sh", "evil\n")
	want := []string{"config/deep/envrc", "ops/deploy/run.sh", "scripts/pre-commit.sh"}
	if moved := w.sweep(wt); !slices.Equal(moved, want) {
		t.Errorf("moved %q, want %q", moved, want)
	}
}

// TestGitConfigNamesInTheProject: files a git config includes (include,
// includeIf, an include of an include) and programs it runs, in the work
// tree, are read-only; one it names that is missing is swept when made.
func TestGitConfigNamesInTheProject(t *testing.T) {
	t.Parallel()
	w := newGuardWorld(t)
	w.write("home/proj/.gitconfig", "[include]\n\tpath = conf/more.inc\n")
	w.write("home/proj/conf/more.inc", "[alias]\n\tst = status\n")
	w.write("home/proj/tools/fsmon.sh", "exit 0\n")
	w.git(w.proj, "config", "include.path", "../.gitconfig")
	w.git(w.proj, "config", "includeIf.gitdir:/nowhere/.path", "../conf/cond.inc")
	w.git(w.proj, "config", "core.fsmonitor", "tools/fsmon.sh --flag")
	w.git(w.proj, "config", "filter.x.clean", "'./tools/clean x' %f")
	g := Protect(w.proj, nil, false)
	w.checkGuard(g)
	for _, want := range []string{".gitconfig", "conf/more.inc", "tools/fsmon.sh"} {
		if !slices.Contains(g.ReadOnly, w.abs("home/proj/"+want)) {
			t.Errorf("%s is not read-only: %q", want, g.ReadOnly)
		}
	}
	wt := w.watch()
	w.write("home/proj/conf/cond.inc", "[core]\n\tfsmonitor = evil\n")
	w.write("home/proj/tools/clean x", "evil\n")
	want := []string{"conf/cond.inc", "tools/clean x"}
	if moved := w.sweep(wt); !slices.Equal(moved, want) {
		t.Errorf("moved %q, want %q", moved, want)
	}
}

// TestParseConfig reads git's config syntax as git does.
func TestParseConfig(t *testing.T) {
	t.Parallel()
	src := "# comment\n[core]\n\thooksPath = \"tools/my hooks\" ; comment\n[include] path = a.inc\n" +
		"[includeIf \"gitdir:~/w/\"]\n\tpath = b\\\n.inc\n[Filter \"Sub.X\"]\n\tclean = run \\\"q\\\" # c\n[x.y]\nflag\n"
	var got []string
	for _, e := range parseConfig([]byte(src)) {
		got = append(got, e.name()+"="+e.value)
	}
	want := []string{"core.hookspath=tools/my hooks", "include.path=a.inc", "includeif.gitdir:~/w/.path=b.inc",
		"filter.Sub.X.clean=run \"q\"", "x.y.flag=true"}
	if !slices.Equal(got, want) {
		t.Errorf("parseConfig = %q, want %q", got, want)
	}
}

// TestRebaseTodoExec: a rebase left stopped with exec lines the command
// wrote is swept (host git would run them on --continue); a rebase stopped
// on a conflict with nothing to exec, or going on with the person's own
// exec lines, is left alone.
func TestRebaseTodoExec(t *testing.T) {
	t.Parallel()
	w := newGuardWorld(t)
	rebase := func(todo string) {
		cmd := exec.Command("git", "-c", "user.name=t", "-c", "user.email=t@e", "rebase", "-q", "-i", "HEAD~2")
		cmd.Dir = w.proj
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_SEQUENCE_EDITOR=cp "+todo)
		out, _ := cmd.CombinedOutput() // stops
		t.Logf("rebase: %s", out)
	}
	w.git(w.proj, "commit", "-q", "--allow-empty", "-m", "two")
	w.git(w.proj, "commit", "-q", "--allow-empty", "-m", "three")
	pick := func(rev string) string { return "pick " + w.git(w.proj, "rev-parse", rev) + " x\n" }
	w.write("todo-exec", pick("HEAD~1")+"break\nexec touch pwned\n"+pick("HEAD"))
	w.write("todo-break", pick("HEAD~1")+"break\n"+pick("HEAD"))

	wt := w.watch()
	rebase(w.abs("todo-exec"))
	if moved := w.sweep(wt); !slices.Equal(moved, []string{".git/rebase-merge"}) {
		t.Errorf("moved %q, want the rebase with exec lines", moved)
	}
	w.git(w.proj, "reset", "-q", "--hard", "ORIG_HEAD")

	wt = w.watch()
	rebase(w.abs("todo-break"))
	if moved := w.sweep(wt); len(moved) != 0 {
		t.Errorf("moved %q of an ordinary rebase", moved)
	}
	w.git(w.proj, "rebase", "--abort")

	rebase(w.abs("todo-exec")) // the person's own, on the host
	wt = w.watch()
	w.git(w.proj, "rebase", "--edit-todo") // no change; git rewrites it
	if moved := w.sweep(wt); len(moved) != 0 {
		t.Errorf("moved %q of the person's rebase", moved)
	}
}

// TestNewHostExecNames: names host tools run, some matched by pattern
// (lefthook's, lint-staged's, a VS Code workspace), some below the top,
// are swept when made.
func TestNewHostExecNames(t *testing.T) {
	t.Parallel()
	w := newGuardWorld(t)
	w.write("home/proj/.config/nvim/init.lua", "-- not guarded\n")
	w.write("home/proj/lefthook.yml", "pre-commit: {}\n") // there before: read-only
	g := Protect(w.proj, nil, false)
	if !slices.Contains(g.ReadOnly, w.abs("home/proj/lefthook.yml")) {
		t.Errorf("lefthook.yml is not read-only: %q", g.ReadOnly)
	}
	wt := w.watch()
	made := []string{".config/lefthook-local.yml", ".config/mise/config.toml", ".cursor/mcp.json", ".lintstagedrc.json",
		".yarn/releases/yarn.cjs", ".zed/tasks.json", "lefthook-local.yml", "mise.toml", "x.code-workspace"}
	for _, p := range append(made, ".config/nvim/other.lua", ".yarn/cache/x.zip", "src/mise.go") {
		w.write("home/proj/"+p, "x")
	}
	want := []string{".config/lefthook-local.yml", ".config/mise", ".cursor", ".lintstagedrc.json", ".yarn/releases",
		".zed", "lefthook-local.yml", "mise.toml", "x.code-workspace"}
	if moved := w.sweep(wt); !slices.Equal(moved, want) {
		t.Errorf("moved %q, want %q", moved, want)
	}
}

// TestHeldWatchSweptWhenKilled: a chaperone killed (SIGKILL) while its
// command runs leaves its watch on disk; the next chaperone sweeps it.
// The child is this test binary (see HoldChild and TestMain).
func TestHeldWatchSweptWhenKilled(t *testing.T) {
	t.Parallel()
	w := newGuardWorld(t)
	pending := filepath.Join(w.root, "state", "pending")
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "GUARD_TEST_HOLD="+w.proj+"\n"+pending+"\n"+w.quarantine)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := out.Read(buf); err != nil || string(buf) != "ready" {
		t.Fatalf("child: %q %v", buf, err)
	}
	// Held: not swept while its chaperone lives.
	if s := SweepPending(pending); len(s) != 0 || !exists(w.abs("home/proj/.envrc")) {
		t.Fatalf("swept a watch whose chaperone lives: %+v", s)
	}
	cmd.Process.Kill()
	cmd.Wait()
	s := SweepPending(pending)
	if len(s) != 1 || s[0].Project != w.proj || !slices.Equal(s[0].Moved, []string{".envrc", ".git/commondir"}) {
		t.Errorf("SweepPending = %+v", s)
	}
	if exists(w.abs("home/proj/.envrc")) || exists(w.abs("home/proj/.git/commondir")) {
		t.Error("what the killed command made is still there")
	}
	if ents, _ := os.ReadDir(pending); len(ents) != 0 {
		t.Errorf("left in pending: %v", ents)
	}
}

// HoldChild is the chaperone TestHeldWatchSweptWhenKilled kills (run by
// the test binary's TestMain when GUARD_TEST_HOLD is set): it watches,
// holds the watch, plays its command, and waits. It returns an exit status.
func HoldChild(spec string) int {
	args := strings.Split(spec, "\n")
	if len(args) != 3 {
		return 2
	}
	wt, err := WatchTop(args[0], nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if _, err := wt.Hold(args[1], args[2]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	os.WriteFile(filepath.Join(args[0], ".envrc"), []byte("evil"), 0o644)
	os.WriteFile(filepath.Join(args[0], ".git", "commondir"), []byte("../evil"), 0o644)
	os.Stdout.WriteString("ready")
	time.Sleep(time.Minute)
	return 0
}

// TestSweeper: the sweeper sweeps as soon as a holder lets go without
// having swept, and leaves a note the next chaperone tells; a watch its
// holder swept is only removed.
func TestSweeper(t *testing.T) {
	t.Parallel()
	w := newGuardWorld(t)
	pending := filepath.Join(w.root, "state", "pending")
	os.MkdirAll(pending, 0o700)
	done := make(chan error)
	go func() { done <- KeepSweeping(pending, 200*time.Millisecond) }()
	for !SweeperRunning(pending) {
		time.Sleep(10 * time.Millisecond)
	}

	swept, err := w.watch().Hold(pending, w.quarantine) // swept by its holder
	if err != nil {
		t.Fatal(err)
	}
	killed, _ := w.watch().Hold(pending, w.quarantine)
	w.write("home/proj/.vscode/tasks.json", "{}")
	time.Sleep(400 * time.Millisecond) // the sweeper waits on both
	swept.Done()
	killed.f.Close() // as when its process dies
	deadline := time.Now().Add(5 * time.Second)
	for exists(w.abs("home/proj/.vscode")) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if exists(w.abs("home/proj/.vscode")) {
		t.Fatal("the sweeper did not sweep")
	}
	var notes []Swept
	for time.Now().Before(deadline) && len(notes) == 0 {
		time.Sleep(50 * time.Millisecond)
		notes = SweepPending(pending)
	}
	if len(notes) != 1 || !slices.Equal(notes[0].Moved, []string{".vscode"}) {
		t.Errorf("notes %+v", notes)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Error("the sweeper did not end once idle")
	}
}

// TestForgedPendingRecord: a record naming paths outside its project, or
// a project that is no folder path, is dropped without a sweep.
func TestForgedPendingRecord(t *testing.T) {
	t.Parallel()
	w := newGuardWorld(t)
	pending := filepath.Join(w.root, "state", "pending")
	os.MkdirAll(pending, 0o700)
	w.write("home/secret/key", "x")
	for i, rec := range []pendingRecord{
		{Quarantine: w.quarantine, Watch: watchState{Project: w.home, Before: map[string]node{"../home/secret": {}}}},
		{Quarantine: w.quarantine, Watch: watchState{Project: "/", Before: map[string]node{w.abs("home/secret")[1:]: {}}}},
		{Quarantine: w.quarantine, Watch: watchState{Project: w.proj, Repos: []watchedRepo{{Dir: "../secret"}}}},
	} {
		b, _ := json.Marshal(rec)
		os.WriteFile(filepath.Join(pending, fmt.Sprintf("%d.json", i)), b, 0o600)
	}
	SweepPending(pending)
	if !exists(w.abs("home/secret/key")) {
		t.Error("a forged record moved a file")
	}
}

// BenchmarkHeldWatchSweep is what a command pays in all for the sweep:
// the pending sweeps' look, WatchTop, the watch held on disk, and Sweep.
func BenchmarkHeldWatchSweep(b *testing.B) {
	wd, _ := os.Getwd()
	proj := filepath.Dir(wd)
	dir, q := b.TempDir(), b.TempDir()
	for b.Loop() {
		SweepPending(dir)
		w, _ := WatchTop(proj, nil)
		p, err := w.Hold(dir, q)
		if err != nil {
			b.Fatal(err)
		}
		SweeperRunning(dir)
		w.Sweep(q)
		p.Done()
	}
}

func must2(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestMoveOutAcrossFileSystems: a quarantine on another file system gets a
// copy, and the original is removed, links and all, without following a
// link to what is outside the project.
func TestMoveOutAcrossFileSystems(t *testing.T) {
	t.Parallel()
	q, err := os.MkdirTemp("/dev/shm", "quarantine")
	if err != nil {
		t.Skip("no /dev/shm")
	}
	t.Cleanup(func() { os.RemoveAll(q) })
	w := newGuardWorld(t)
	w.write("home/keep/file", "host file")
	w.write("home/proj/.vscode/tasks.json", "{}")
	w.link("../../keep", "home/proj/.vscode/out")
	must2(t, syscall.Mkfifo(w.abs("home/proj/.vscode/fifo"), 0o644))
	if err := moveOut(w.proj, ".vscode", filepath.Join(q, ".vscode"), ""); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(q, ".vscode", "tasks.json")); err != nil || string(b) != "{}" {
		t.Errorf("copied %q, %v", b, err)
	}
	if l, _ := os.Readlink(filepath.Join(q, ".vscode", "out")); l != "../../keep" {
		t.Errorf("the link was copied as %q", l)
	}
	if exists(w.abs("home/proj/.vscode")) || !exists(w.abs("home/keep/file")) {
		t.Error("the original stayed, or what its link leads to went")
	}
}
