package sandbox

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/chaperone-dev/chaperone/internal/safefile"
)

// Watch is how what host tools run looked before a command, where a
// mount cannot keep it so (or a mount was not there: a container made
// earlier, a path made since): the guarded names (.git, HostExec, the
// user's list, what their links lead to), the files git reads that it does
// not make itself (commondir, alternates, …) in every git folder host git
// runs in, what the git configs name in the project; each absent, a
// symbolic link with its target, or a file or folder by identity. And, for
// each of those git folders, the gitlinks of its index, its module
// folders, and the exec lines of a rebase or cherry-pick in progress.
// Sweep looks again after the command. A Watch is not safe for concurrent
// use.
type Watch struct {
	s watchState
}

// watchState is a Watch's content, as it is kept on disk while its
// command runs (see Hold).
type watchState struct {
	Project  string          `json:"project"`
	Before   map[string]node `json:"before"` // project-relative path → how it was (see look)
	Repos    []watchedRepo   `json:"repos,omitempty"`
	Whole    []string        `json:"whole,omitempty"`     // folders read-only whole (project-relative)
	Patterns []string        `json:"patterns,omitempty"`  // guarded names with a * (new matches are swept)
	GitID    string          `json:"git_id,omitempty"`    // identity of the project's git folder: never moved
	Path     []pathWatch     `json:"path,omitempty"`      // the project's folders on the agent's PATH (WatchPath)
	RelPath  []string        `json:"rel_path,omitempty"`  // its relative PATH entries ("." for the empty one)
	RelLater []string        `json:"rel_later,omitempty"` // its PATH's folders outside the project, resolved
}

// watchedRepo is a git folder host git runs in, as it was.
type watchedRepo struct {
	Dir     string   `json:"dir"`            // the git folder, project-relative
	Work    string   `json:"work,omitempty"` // its work tree, project-relative ("." the project, "" unknown)
	Hash    int      `json:"hash,omitempty"`
	Index   node     `json:"index"`
	Links   []string `json:"links,omitempty"`   // gitlinks of its index
	Modules []string `json:"modules,omitempty"` // what modules/ held (see moduleNames)
	Exec    []string `json:"exec,omitempty"`    // exec lines of its rebase and sequencer todos
}

// node is how a path was: State is "" (absent), "link:TARGET", or its kind
// and identity. At is set when a link on the way was looked at instead:
// the project-relative path of that link.
type node struct {
	At    string `json:"at,omitempty"`
	State string `json:"state,omitempty"`
}

// gitWatched are the files in a git folder that git reads but never makes
// in an ordinary repository (a folder cannot be made empty in their
// place, as hooks and info are): made by a command, they are moved out. So
// is a modules folder.
var gitWatched = []string{"commondir", "config.worktree", "objects/info/alternates", "objects/info/http-alternates",
	"remotes", "branches", "worktrees", "modules"}

// todos are the files of a rebase or cherry-pick in progress whose exec
// lines git runs on `--continue`, and the folder each belongs to.
var todos = [][2]string{{"rebase-merge/git-rebase-todo", "rebase-merge"}, {"sequencer/todo", "sequencer"}}

// WatchTop records what Sweep compares against, for project (extra as for
// Protect). It looks at what Protect does: the guarded names, every git
// folder guarded, their configs and indexes. The error (a *GuardError)
// says that host git may run something chaperone cannot see (an index it
// cannot read, too many repositories): the command should not run. The
// Watch is usable all the same.
func WatchTop(project string, extra []string) (*Watch, error) {
	pl := plan(project, extra, false)
	w := &Watch{s: watchState{Project: pl.project, Before: map[string]node{}, Patterns: pl.patterns}}
	lk := newLooker(pl.project, pl.top)
	for _, p := range pl.watch {
		if rel := relProject(p, pl.project); rel != "" {
			w.s.Before[rel] = lk.look(rel)
		}
	}
	for i, r := range pl.repos {
		wr := watchedRepo{Dir: relProject(r.dir, pl.project), Hash: r.hash, Links: r.links, Exec: execLines(r.dir)}
		if r.work == pl.project {
			wr.Work = "."
		} else if r.work != "" {
			wr.Work = relProject(r.work, pl.project)
		}
		wr.Index = lk.look(path.Join(wr.Dir, "index"))
		wr.Modules = moduleNames(r.dir)
		w.s.Repos = append(w.s.Repos, wr)
		if i == 0 {
			w.s.GitID = lk.look(wr.Dir).State
		}
	}
	for _, d := range pl.whole {
		w.s.Whole = append(w.s.Whole, relProject(d, pl.project))
	}
	if pl.err != nil {
		return w, pl.err
	}
	return w, nil
}

// looker looks at paths in a project (look), remembering the folders it
// found on the way and, when it has them (top), the names at the project's
// top: one read of that folder is cheaper than a look up of each of the
// many guarded names there, most of them absent.
type looker struct {
	project string
	top     map[string]bool // nil: not read
	dirs    map[string]bool
}

func newLooker(project string, top map[string]bool) *looker {
	return &looker{project: project, top: top, dirs: map[string]bool{}}
}

// look returns how the path rel (inside the project) is, following no
// link: a folder on the way that is a link is looked at instead (At); one
// that is missing or no folder makes the path absent.
func (lk *looker) look(rel string) node {
	if first, _, _ := strings.Cut(rel, "/"); lk.top != nil && !lk.top[first] {
		return node{}
	}
	for i := 0; ; {
		j := strings.IndexByte(rel[i:], '/')
		if j < 0 {
			break
		}
		d := rel[:i+j]
		if !lk.dirs[d] {
			fi, err := os.Lstat(filepath.Join(lk.project, d))
			switch {
			case err == nil && fi.Mode()&os.ModeSymlink != 0:
				return node{At: d, State: state(filepath.Join(lk.project, d))}
			case err != nil || !fi.IsDir():
				return node{}
			}
			lk.dirs[d] = true
		}
		i += j + 1
	}
	return node{State: state(filepath.Join(lk.project, rel))}
}

// state is how p is: "" absent, "link:TARGET", or its kind and identity
// (with a regular file's size and modification time).
func state(p string) string {
	fi, err := os.Lstat(p)
	switch {
	case err != nil:
		return ""
	case fi.Mode()&os.ModeSymlink != 0:
		t, _ := os.Readlink(p)
		return "link:" + t
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case ok && fi.Mode().IsRegular():
		// Size and time too: a file removed and made again may get the
		// same inode.
		return fmt.Sprintf("%s:%d:%d:%d:%d", fi.Mode().Type(), st.Dev, st.Ino, fi.Size(), fi.ModTime().UnixNano())
	case ok:
		return fmt.Sprintf("%s:%d:%d", fi.Mode().Type(), st.Dev, st.Ino)
	}
	return "present"
}

// moduleNames lists gitDir/modules as moduleDirs looks at it: the names
// in it, and in those of its folders that are no git folder (names with
// slashes), slash-separated.
func moduleNames(gitDir string) []string {
	var out []string
	var walk func(rel string, depth int)
	walk = func(rel string, depth int) {
		ents, _ := readDirN(filepath.Join(gitDir, "modules", filepath.FromSlash(rel)), -1)
		for _, e := range ents {
			name := path.Join(rel, e.Name())
			out = append(out, name)
			sub := filepath.Join(gitDir, "modules", filepath.FromSlash(name))
			if e.IsDir() && depth < 2 && !exists(filepath.Join(sub, "HEAD")) && !exists(filepath.Join(sub, "config")) {
				walk(name, depth+1)
			}
		}
	}
	walk("", 0)
	return out
}

// execLines returns the exec lines of the todos of gitDir (a rebase or
// cherry-pick in progress), as written; a todo that cannot be read counts
// as one line that never matches a readable one.
func execLines(gitDir string) []string {
	var out []string
	for _, t := range todos {
		b, err := safefile.Read(filepath.Join(gitDir, filepath.FromSlash(t[0])), 4<<20)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			out = append(out, "\x00unreadable "+t[0])
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, len(b)+1)
		for sc.Scan() {
			// git's todo syntax: the command, then blanks, then the rest;
			// exec may be spelled x.
			l := strings.TrimLeft(sc.Text(), " \t")
			cmd, _, _ := strings.Cut(strings.ReplaceAll(l, "\t", " "), " ")
			if strings.EqualFold(cmd, "exec") || strings.EqualFold(cmd, "x") {
				out = append(out, l)
			}
		}
	}
	return out
}

// Sweep undoes what a command did that the sandbox could not stop: a
// watched path created where there was none, replaced, or a symbolic link
// changed, is moved into a new folder under quarantine (and a link put
// back as it was); in every git folder watched, so is an index chaperone
// can no longer read, the git folder of a repository the command added to
// the index or made where a gitlink had none (unless it is a .git file
// naming a git folder that was guarded), a new module folder, and a rebase
// or cherry-pick whose todo got exec lines. It moves nothing outside the
// project, follows no link there (a link on the way is moved itself, or
// left when git would skip it), and never moves the project's own git
// folder. It returns the project-relative paths it moved and where they
// went. A nil Watch sweeps nothing.
func (w *Watch) Sweep(quarantine string) (moved []string, dest string, err error) {
	if w == nil {
		return nil, "", nil
	}
	top := topNames(w.s.Project)
	s := &sweeper{w: &w.s, quarantine: quarantine, lk: newLooker(w.s.Project, top)}
	for _, r := range w.s.Repos {
		s.repo(r)
	}
	for _, rel := range slices.Sorted(maps.Keys(w.s.Before)) {
		s.path(rel, w.s.Before[rel])
	}
	for _, name := range w.s.Patterns {
		for _, p := range expand(w.s.Project, top, name) {
			if rel := relProject(p, w.s.Project); rel != "" {
				if _, ok := w.s.Before[rel]; !ok {
					s.path(rel, node{}) // a new match
				}
			}
		}
	}
	for _, pw := range w.s.Path {
		s.pathFolder(pw)
	}
	return s.moved, s.dest, s.err
}

// sweeper is one Sweep's work.
type sweeper struct {
	w          *watchState
	quarantine string
	lk         *looker
	moved      []string
	dest       string
	err        error
}

// path sweeps the watched path rel, which was as before.
func (s *sweeper) path(rel string, before node) {
	now := s.lk.look(rel)
	if now == before {
		return
	}
	if now.State != "" {
		switch {
		case now.At != "":
			s.out(now.At) // a link on the way: host tools would follow it
		case before.State == "" && strings.HasSuffix(rel, "/.git") && s.guardedGitFile(rel):
		default:
			s.out(rel)
		}
	}
	// A link that went (or was replaced) is put back.
	if t, ok := strings.CutPrefix(before.State, "link:"); ok {
		at := cmp.Or(before.At, rel)
		if newLooker(s.w.Project, nil).look(at) == (node{}) {
			s.err = errors.Join(s.err, relink(s.w.Project, at, t))
		}
	}
}

// repo sweeps in the git folder r what no mount kept as it was.
func (s *sweeper) repo(r watchedRepo) {
	dir := filepath.Join(s.w.Project, filepath.FromSlash(r.Dir))
	if n := s.lk.look(r.Dir); n.At != "" || !strings.HasPrefix(n.State, "d") {
		return // no folder now (the path sweep sees to it)
	}
	index := path.Join(r.Dir, "index")
	links, err := gitlinks(dir, cmp.Or(r.Hash, 20))
	if err != nil {
		if s.lk.look(index) != r.Index {
			s.out(index) // made unreadable by the command: host git would go by it
		}
	} else if r.Work != "" {
		for _, l := range links {
			l, ok := cleanLink(l)
			if !ok || slices.Contains(r.Links, l) {
				continue
			}
			dotgit := path.Join(r.Work, l, ".git")
			if n := s.lk.look(dotgit); n.State == "" || n.At != "" || s.guardedGitFile(dotgit) {
				continue // none, or through a link (git skips it), or a submodule's
			}
			s.out(dotgit)
		}
	}
	// New module folders (a new modules folder is moved whole: path).
	if n, ok := s.w.Before[path.Join(r.Dir, "modules")]; !ok || n.State != "" {
		for _, m := range moduleNames(dir) {
			if !slices.Contains(r.Modules, m) && (!strings.Contains(m, "/") || slices.Contains(r.Modules, path.Dir(m))) {
				s.out(path.Join(r.Dir, "modules", m))
			}
		}
	}
	for _, l := range execLines(dir) {
		if !slices.Contains(r.Exec, l) {
			for _, t := range todos {
				if exists(filepath.Join(dir, t[1])) {
					s.out(path.Join(r.Dir, t[1]))
				}
			}
			break
		}
	}
}

// guardedGitFile reports whether the .git at rel is what `git submodule
// update` makes: a .git file naming a git folder that was guarded before
// the command.
func (s *sweeper) guardedGitFile(rel string) bool {
	p := filepath.Join(s.w.Project, filepath.FromSlash(rel))
	fi, err := os.Lstat(p)
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	d := relProject(gitdirOf(p), s.w.Project)
	if d == "" {
		return false
	}
	for _, r := range s.w.Repos {
		if d == r.Dir {
			return true
		}
	}
	for _, wh := range s.w.Whole {
		if within(d, wh) {
			return true
		}
	}
	return false
}

// out moves the project-relative path rel into the quarantine.
func (s *sweeper) out(rel string) {
	for _, m := range s.moved {
		if within(rel, m) {
			return // gone with it
		}
	}
	if s.dest == "" {
		var b [4]byte
		rand.Read(b[:])
		dest := filepath.Join(s.quarantine, time.Now().UTC().Format("20060102-150405")+"-"+hex.EncodeToString(b[:]))
		if err := os.MkdirAll(dest, 0o700); err != nil {
			s.err = errors.Join(s.err, fmt.Errorf("quarantine: %w", err))
			return
		}
		s.dest = dest
	}
	to := filepath.Join(s.dest, filepath.FromSlash(rel))
	for i := 1; exists(to); i++ {
		to = filepath.Join(s.dest, fmt.Sprintf("%s.%d", filepath.FromSlash(rel), i)) // a folder holding one moved before
	}
	os.MkdirAll(filepath.Dir(to), 0o700)
	err := moveOut(s.w.Project, rel, to, s.w.GitID)
	if errors.Is(err, unix.ENAMETOOLONG) {
		// Deep in the project, too deep for the quarantine's longer path:
		// kept under a short name (the record says where it came from).
		to = filepath.Join(s.dest, fmt.Sprintf("%d-%s", len(s.moved)+1, filepath.Base(rel)))
		err = moveOut(s.w.Project, rel, to, s.w.GitID)
	}
	if err != nil {
		s.err = errors.Join(s.err, fmt.Errorf("quarantine %s: %w", rel, err))
		return
	}
	// Kept as evidence, never to be run from there (a link a command
	// leaves may point into the quarantine).
	if fi, err := os.Lstat(to); err == nil && fi.Mode().IsRegular() {
		os.Chmod(to, 0o600)
	}
	s.moved = append(s.moved, rel)
}

// errKeep is what moveOut returns for the project's own git folder.
var errKeep = errors.New("the project's own git folder stays")

// moveOut moves the project-relative path rel to dst, or copies and
// removes it when they are on different file systems. The folders from
// the project to rel are opened one by one, following no link (one on the
// way is an error), so that what moves is inside the project whatever a
// running command changes meanwhile; rel itself is moved as it is (a link
// as a link). Nothing whose identity is keep moves.
func moveOut(project, rel, dst, keep string) error {
	dirfd, name, err := openParent(project, rel)
	if err != nil {
		return err
	}
	defer unix.Close(dirfd)
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	if keep != "" && strings.HasSuffix(keep, fmt.Sprintf(":%d:%d", st.Dev, st.Ino)) {
		return errKeep
	}
	err = unix.Renameat(dirfd, name, unix.AT_FDCWD, dst)
	if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
		// The command took the write permission off the folder (or, for
		// a folder moved, off itself), which it owns: give it back for
		// the move, as the owner may, and put the folder's mode back.
		defer grant(dirfd, "")()
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			defer grant(dirfd, name)()
		}
		err = unix.Renameat(dirfd, name, unix.AT_FDCWD, dst)
	}
	if !errors.Is(err, unix.EXDEV) {
		return err
	}
	if err := copyAt(dirfd, name, dst); err != nil {
		return err
	}
	return removeAt(dirfd, name)
}

// openParent opens the folder holding the project-relative path rel,
// following no link below the project, and returns it (an O_PATH
// descriptor) and rel's last name.
func openParent(project, rel string) (int, string, error) {
	parts := strings.Split(rel, "/")
	for _, p := range parts {
		if p == "" || p == "." || p == ".." {
			return -1, "", fmt.Errorf("%q is no path inside the project", rel)
		}
	}
	fd, err := unix.Open(project, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, "", &os.PathError{Op: "open", Path: project, Err: err}
	}
	for _, p := range parts[:len(parts)-1] {
		next, err := unix.Openat(fd, p, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.EACCES) {
			// No search permission, taken off by the command: see moveOut.
			restore := grant(fd, "")
			next, err = unix.Openat(fd, p, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			restore()
		}
		unix.Close(fd)
		if err != nil {
			return -1, "", &os.PathError{Op: "open", Path: p, Err: err}
		}
		fd = next
	}
	return fd, parts[len(parts)-1], nil
}

// grant gives the owner read, write and search permission on the folder
// dirfd (name ""), or on the folder name in it, and returns what puts the
// mode back. It works on O_PATH descriptors (through /proc/self/fd) and
// never follows a link at name. Where it cannot, it does nothing.
func grant(dirfd int, name string) (restore func()) {
	path := "/proc/self/fd/" + strconv.Itoa(dirfd)
	var st unix.Stat_t
	if name == "" {
		if unix.Fstat(dirfd, &st) != nil {
			return func() {}
		}
	} else {
		if unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return func() {}
		}
		path += "/" + name
	}
	mode := st.Mode & 0o7777
	if mode&0o700 == 0o700 || unix.Chmod(path, mode|0o700) != nil {
		return func() {}
	}
	return func() { unix.Chmod(path, mode) }
}

// relink puts the link at the project-relative path rel back, to target.
func relink(project, rel, target string) error {
	dirfd, name, err := openParent(project, rel)
	if err != nil {
		return err
	}
	defer unix.Close(dirfd)
	if err := unix.Symlinkat(target, dirfd, name); err != nil {
		return &os.PathError{Op: "symlink", Path: rel, Err: err}
	}
	return nil
}

// copyAt copies name in the folder dirfd to dst, following no link:
// folders, regular files and links are copied; FIFOs, sockets and devices
// are left out (nothing to keep).
func copyAt(dirfd int, name, dst string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		f := os.NewFile(uintptr(fd), name)
		defer f.Close()
		if err := os.Mkdir(dst, 0o700); err != nil {
			return err
		}
		names, err := f.Readdirnames(-1)
		for _, n := range names {
			err = errors.Join(err, copyAt(fd, n, filepath.Join(dst, n)))
		}
		return err
	case unix.S_IFLNK:
		buf := make([]byte, 4096)
		n, err := unix.Readlinkat(dirfd, name, buf)
		if err != nil {
			return err
		}
		return os.Symlink(string(buf[:n]), dst)
	case unix.S_IFREG:
		fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		in := os.NewFile(uintptr(fd), name)
		defer in.Close()
		out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		_, err = io.Copy(out, in)
		return errors.Join(err, out.Close())
	}
	return nil
}

// removeAt removes name in the folder dirfd and all it holds, following
// no link.
func removeAt(dirfd int, name string) error {
	err := unix.Unlinkat(dirfd, name, 0)
	if err == nil || errors.Is(err, unix.ENOENT) {
		return nil
	}
	fd, err2 := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err2 != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), name)
	names, _ := f.Readdirnames(-1)
	for _, n := range names {
		removeAt(fd, n)
	}
	f.Close()
	return unix.Unlinkat(dirfd, name, unix.AT_REMOVEDIR)
}

// ---- watches kept on disk -------------------------------------------------

// Sweep runs in the process that ran the command, after it. When that
// process is killed first (SIGKILL, as an agent ends a command past its
// timeout), the command's sandbox dies with it but nothing is swept. So
// a Watch is kept on disk while its command runs (Hold), locked by the
// process that holds it; the lock goes with the process however it ends.
// Another chaperone that finds a record it can lock sweeps in its place:
// the sweeper (KeepSweeping, started with the first command and kept while
// commands run), which waits on each lock and so sweeps as soon as its
// process is gone, and every chaperone as it starts (SweepPending).

// SweeperName is the argv[0] by which chaperone runs as the sweeper (see
// KeepSweeping).
const SweeperName = "chaperone-sweeper"

// pendingRecord is a held Watch on disk.
type pendingRecord struct {
	PID        int        `json:"pid"` // for a person reading it; the lock tells
	Quarantine string     `json:"quarantine"`
	Watch      watchState `json:"watch"`
}

// Pending is a Watch held on disk while its command runs. A nil Pending
// holds nothing.
type Pending struct {
	f    *os.File
	path string
}

// Hold keeps w on disk in dir (chaperone's folder for them, made when
// missing) until Done, so that it is swept into quarantine even if this
// process is killed before its own Sweep. A nil Watch holds nothing.
func (w *Watch) Hold(dir, quarantine string) (*Pending, error) {
	if w == nil {
		return nil, nil
	}
	b, err := json.Marshal(pendingRecord{PID: os.Getpid(), Quarantine: quarantine, Watch: w.s})
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("keep the watch: %w", err)
	}
	var id [8]byte
	rand.Read(id[:])
	name := hex.EncodeToString(id[:])
	// Written and locked under a name the others skip, then named.
	tmp := filepath.Join(dir, "."+name+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("keep the watch: %w", err)
	}
	p := filepath.Join(dir, name+".json")
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err == nil {
		if _, err = f.Write(b); err == nil {
			err = os.Rename(tmp, p)
		}
	}
	if err != nil {
		os.Remove(tmp)
		f.Close()
		return nil, fmt.Errorf("keep the watch: %w", err)
	}
	return &Pending{f: f, path: p}, nil
}

// Done removes the record: its Watch was swept.
func (p *Pending) Done() {
	if p == nil {
		return
	}
	os.Remove(p.path)
	p.f.Close()
}

// Swept is what was swept in place of a chaperone that was killed.
type Swept struct {
	Project string   `json:"project"`
	Moved   []string `json:"moved,omitempty"`
	Dest    string   `json:"dest,omitempty"`
	Err     string   `json:"err,omitempty"`
}

// SweepPending sweeps the watches held in dir whose process is gone, and
// returns what it moved, with what the sweeper moved since the last call
// (its notes, removed as they are read). It costs one read of dir when
// there is nothing.
func SweepPending(dir string) []Swept {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []Swept
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		switch {
		case strings.HasSuffix(e.Name(), ".json"):
			if s, ok := sweepRecord(p, false); ok && (len(s.Moved) > 0 || s.Err != "") {
				out = append(out, s)
			}
		case strings.HasSuffix(e.Name(), ".done"):
			var s Swept
			if b, err := safefile.Read(p, 1<<20); err == nil && json.Unmarshal(b, &s) == nil {
				out = append(out, s)
			}
			os.Remove(p)
		case strings.HasSuffix(e.Name(), ".tmp"):
			// A process killed while it held it: nothing ran yet.
			if f, err := os.Open(p); err == nil {
				if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
					os.Remove(p)
				}
				f.Close()
			}
		}
	}
	return out
}

// sweepRecord sweeps the held watch at p once its holder is gone (block:
// wait for that; else only if it is gone already), removes it, and says
// what it did; false when there was nothing to do (held, or swept by its
// holder).
func sweepRecord(p string, block bool) (Swept, bool) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return Swept{}, false
	}
	defer f.Close()
	how := unix.LOCK_EX
	if !block {
		how |= unix.LOCK_NB
	}
	if err := unix.Flock(int(f.Fd()), how); err != nil {
		return Swept{}, false
	}
	if fi, err := f.Stat(); err != nil || fi.Sys().(*syscall.Stat_t).Nlink == 0 {
		return Swept{}, false // swept by its holder, which removed it
	}
	defer os.Remove(p)
	b, err := io.ReadAll(io.LimitReader(f, 64<<20))
	var rec pendingRecord
	if err != nil || json.Unmarshal(b, &rec) != nil || !rec.valid() {
		return Swept{}, false
	}
	w := &Watch{s: rec.Watch}
	moved, dest, err := w.Sweep(rec.Quarantine)
	if block {
		// The holder's sandbox dies with it, a moment later: once more.
		time.Sleep(time.Second)
		m2, d2, err2 := w.Sweep(rec.Quarantine)
		moved, err = append(moved, m2...), errors.Join(err, err2)
		dest = cmp.Or(dest, d2)
	}
	s := Swept{Project: rec.Watch.Project, Moved: moved, Dest: dest}
	if err != nil {
		s.Err = err.Error()
	}
	return s, true
}

// valid reports whether the record names only paths a Sweep may touch: a
// project that is an absolute path, paths relative to it and inside it.
func (rec *pendingRecord) valid() bool {
	w := rec.Watch
	if !filepath.IsAbs(w.Project) || filepath.Clean(w.Project) != w.Project || w.Project == "/" || !filepath.IsAbs(rec.Quarantine) {
		return false
	}
	local := func(rel string) bool { return rel == "." || filepath.IsLocal(rel) }
	for rel, n := range w.Before {
		if !filepath.IsLocal(rel) || n.At != "" && !filepath.IsLocal(n.At) {
			return false
		}
	}
	for _, r := range w.Repos {
		if !filepath.IsLocal(r.Dir) || r.Work != "" && !local(r.Work) {
			return false
		}
	}
	for _, d := range append(w.Whole, w.Patterns...) {
		if !filepath.IsLocal(d) {
			return false
		}
	}
	return true
}

// SweeperRunning reports whether a sweeper serves dir.
func SweeperRunning(dir string) bool {
	f, err := os.OpenFile(filepath.Join(dir, "sweeper.lock"), os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return false
	}
	defer f.Close()
	return unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB) != nil
}

// KeepSweeping is the sweeper of dir: it waits on the lock of every watch
// held there and sweeps it as soon as its holder is gone without having
// swept (killed), leaving a note that the next chaperone tells
// (SweepPending). It returns when another sweeper serves dir, when dir is
// gone, or when nothing was held there for idle.
func KeepSweeping(dir string, idle time.Duration) error {
	lock, err := os.OpenFile(filepath.Join(dir, "sweeper.lock"), os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close()
	if unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
		return nil
	}
	waiting := map[string]bool{}
	done := make(chan string)
	last := time.Now()
	for {
		held := 0
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil // gone
		}
		for _, e := range ents {
			p := filepath.Join(dir, e.Name())
			if !strings.HasSuffix(p, ".json") {
				continue
			}
			held++
			if !waiting[p] {
				waiting[p] = true
				go func() {
					if s, ok := sweepRecord(p, true); ok && (len(s.Moved) > 0 || s.Err != "") {
						if b, err := json.Marshal(s); err == nil {
							os.WriteFile(strings.TrimSuffix(p, ".json")+".done", b, 0o600)
						}
					}
					done <- p
				}()
			}
		}
		if held > 0 || len(waiting) > 0 {
			last = time.Now()
		} else if time.Since(last) >= idle {
			// Let go, then look once more: a chaperone that saw this
			// sweeper running may have held a watch meanwhile.
			unix.Flock(int(lock.Fd()), unix.LOCK_UN)
			if ents, _ := filepath.Glob(filepath.Join(dir, "*.json")); len(ents) == 0 ||
				unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
				return nil
			}
		}
		select {
		case p := <-done:
			delete(waiting, p)
		case <-time.After(250 * time.Millisecond):
		}
	}
}
