package sandbox

import (
	"cmp"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// The agent's PATH passes into the sandbox as it is, and it may name
// folders of the project: an activated .venv/bin, node_modules/.bin,
// direnv's PATH_add bin. A program a command puts there under the name of
// one the host has (git, python3, ssh) is what the agent, and anything
// else on the host with that PATH, runs next time by that name. The
// functions here find those folders and the names in them that matter.
//
// Before a command, Watch.WatchPath notes each such folder, the names in
// it that Shadowing lists, and what each runs (see runs). After it, Sweep
// asks Shadowing again of each folder, looked at through whatever symbolic
// links are there then, as the host will: a name it lists that is new, or
// that runs something else than before, is moved into the quarantine.
// Nothing is mounted: a mount would stop `rm -rf .venv node_modules` and
// their rebuilding, which put back what was there (the same links, the
// same scripts), and so move nothing.
//
// A program that shadows nothing (pip install black → .venv/bin/black) is
// left alone: only exact names of programs found later on PATH count. The
// libraries such a program loads (a venv's site-packages) are not
// guarded: a project folder on the host's PATH runs project code by design.

// PathFolder is a folder on the agent's PATH that a command in the
// project can write, now or by replacing a symbolic link or making a
// folder.
type PathFolder struct {
	// Dir is the PATH entry, absolute and lexically cleaned (a relative
	// entry, the empty one included, joined to the folder it is taken
	// from: see PathFolders).
	Dir string
	// Real is the folder Dir leads to now, symbolic links resolved, when
	// it exists and is inside the project; "" when Dir does not exist (yet)
	// or leads out of the project. It is what a mount can keep.
	Real string
	// Later are the folders after Dir on PATH that are not the project's,
	// cleaned, each once: where the programs that an entry of Dir would
	// shadow are found.
	Later []string
}

// PathFolders returns the folders on env's PATH (the last PATH in env)
// that a command in project (an absolute path) can write, in PATH order,
// each once: an entry inside the project as written, or one that leads
// into it through symbolic links outside (~/bin -> project/tools/bin),
// whether or not it exists yet. A relative entry is taken from the
// agent's working folder, which the host resolves it against: from PWD
// in env and from the project's top, both. No PATH: nil.
//
// It costs a few lstat calls per PATH entry (realPrefix).
func PathFolders(project string, env []string) []PathFolder {
	path, ok := lookupEnvOK(env, "PATH")
	if !ok || !filepath.IsAbs(project) {
		return nil
	}
	project = filepath.Clean(project)
	projReal := realPrefix(project)
	inside := func(p string) bool {
		return within(p, project) || within(p, projReal)
	}
	var bases []string // what a relative entry is joined to
	if pwd := lookup(env, "PWD"); filepath.IsAbs(pwd) {
		bases = append(bases, filepath.Clean(pwd))
	}
	bases = append(bases, project)

	type entry struct {
		dir, real string // real: realPrefix(dir)
		project   bool
	}
	var entries []entry
	seen := map[string]bool{}
	for _, e := range filepath.SplitList(path) {
		e = tildePath(e, env)
		dirs := []string{filepath.Clean(e)}
		if !filepath.IsAbs(e) {
			dirs = dirs[:0]
			for _, b := range bases {
				dirs = append(dirs, filepath.Join(b, e))
			}
		}
		for _, d := range dirs {
			if seen[d] {
				continue
			}
			seen[d] = true
			r := realPrefix(d)
			entries = append(entries, entry{dir: d, real: r, project: inside(d) || inside(r)})
		}
	}

	var out []PathFolder
	for i, e := range entries {
		if !e.project {
			continue
		}
		f := PathFolder{Dir: e.dir}
		// An existing folder: e.real is where it leads, links resolved.
		if st, err := os.Stat(e.dir); err == nil && st.IsDir() && inside(e.real) {
			f.Real = inProject(e.real, project, projReal)
		}
		later := map[string]bool{}
		for _, l := range entries[i+1:] {
			if l.project {
				continue
			}
			d := l.real // /bin and /usr/bin are often one folder
			if !later[d] {
				later[d] = true
				f.Later = append(f.Later, d)
			}
		}
		out = append(out, f)
	}
	return out
}

// Shadowing returns the names in dir (sorted) that are also programs in
// one of the folders later (an executable file, or a link to one): the
// names by which a program in dir is run instead of the host's. Every kind
// of entry counts, a folder or a dangling link too, since a command can
// turn it into a program later. A dir that cannot be read gives nil.
//
// It costs a ReadDir of dir and a stat per name and later folder; or, when
// that would be more than 256 stats, a reading of the names in each later
// folder and a stat per name found in both. Only folders are opened (a FIFO in
// the way is refused, never waited on).
func Shadowing(dir string, later []string) []string {
	if len(later) == 0 {
		return nil
	}
	d, err := openDir(dir)
	if err != nil {
		return nil
	}
	ents, _ := d.ReadDir(-1)
	d.Close()
	if len(ents) == 0 {
		return nil
	}
	slices.SortFunc(ents, func(a, b os.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	// Where to look for each name: every later folder (a stat each), or,
	// when that would be many stats, the folders that list it.
	where := func(string) []string { return later }
	if len(ents)*len(later) > 256 {
		host := map[string][]string{}
		for _, l := range later {
			for _, n := range dirNames(l) {
				host[n] = append(host[n], l)
			}
		}
		where = func(name string) []string { return host[name] }
	}
	var out []string
	for _, e := range ents {
		for _, l := range where(e.Name()) {
			if hostProgram(filepath.Join(l, e.Name())) {
				out = append(out, e.Name())
				break
			}
		}
	}
	return out
}

// dirNames lists the names in dir, without a stat of each (nil when it
// cannot be read).
func dirNames(dir string) []string {
	f, err := openDir(dir)
	if err != nil {
		return nil
	}
	defer f.Close()
	names, _ := f.Readdirnames(-1)
	return names
}

// openDir opens the folder dir (through symbolic links) for listing; a
// FIFO or anything else that is not a folder is refused without blocking.
func openDir(dir string) (*os.File, error) {
	return os.OpenFile(dir, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
}

// hostProgram reports whether p is a program exec would run: a file with
// an execute bit, through any symbolic links.
func hostProgram(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// realPrefix is where p leads: symbolic links resolved in the part of it
// that exists, a dangling link followed to where it points, and the rest,
// which does not exist yet, joined on as written.
func realPrefix(p string) string {
	for hops := 0; hops < 40; hops++ {
		rest := ""
		d := p
		for {
			if r, err := filepath.EvalSymlinks(d); err == nil {
				return filepath.Join(r, rest)
			}
			if fi, err := os.Lstat(d); err == nil && fi.Mode()&os.ModeSymlink != 0 {
				break // a link to nothing: follow it by hand
			}
			if d == "/" || d == "." {
				return p
			}
			rest = filepath.Join(filepath.Base(d), rest)
			d = filepath.Dir(d)
		}
		t, err := os.Readlink(d)
		if err != nil {
			return p
		}
		if !filepath.IsAbs(t) {
			t = filepath.Join(filepath.Dir(d), t)
		}
		p = filepath.Join(t, rest)
	}
	return p
}

// inProject writes r, a path inside the project's real folder projReal,
// under project as the caller named it (the two differ when the project's
// own path runs through a symbolic link).
func inProject(r, project, projReal string) string {
	if within(r, project) || !within(r, projReal) {
		return r
	}
	return filepath.Join(project, strings.TrimPrefix(r, projReal))
}

// pathWatch is a folder of PathFolders as it was before a command: the
// names in it that shadowed a host program, and what each ran (runs).
type pathWatch struct {
	Dir   string            `json:"dir"`
	Later []string          `json:"later,omitempty"`
	Names map[string]string `json:"names,omitempty"`
	// Rel is Dir relative to the project when it is written inside it, and
	// Link the link on the way there from the project (Dir included), as
	// linkOn gives it.
	Rel  string `json:"rel,omitempty"`
	Link string `json:"link,omitempty"`
}

// WatchNone returns a Watch of project that looks at nothing, for
// WatchPath to add to.
func WatchNone(project string) *Watch {
	return &Watch{s: watchState{Project: filepath.Clean(project), Before: map[string]node{}}}
}

// WatchPath has Sweep look at the folders on env's PATH that a command in
// w's project can write (PathFolders): a name in one that shadows a host
// program (Shadowing) and is new after the command, or runs something
// else, is moved out. env is the agent's environment, whose PATH the host
// goes by. Call it before Hold.
func (w *Watch) WatchPath(env []string) {
	// A relative entry leads into whatever folder a host process is in:
	// SweepChanged looks at every folder of that name the command wrote.
	if path, ok := lookupEnvOK(env, "PATH"); ok {
		var rel, later []string
		for _, e := range filepath.SplitList(path) {
			if e = tildePath(e, env); filepath.IsAbs(e) {
				if d := realPrefix(filepath.Clean(e)); !within(d, w.s.Project) && !slices.Contains(later, d) {
					later = append(later, d)
				}
			} else if e = filepath.Clean(e); filepath.IsLocal(e) && !slices.Contains(rel, e) {
				rel = append(rel, filepath.ToSlash(e))
			}
		}
		if len(rel) > 0 {
			w.s.RelPath, w.s.RelLater = rel, later
		}
	}
	projReal := realPrefix(w.s.Project)
	for _, f := range PathFolders(w.s.Project, env) {
		pw := pathWatch{Dir: f.Dir, Later: f.Later, Names: map[string]string{}}
		if pw.Rel = relProject(inProject(f.Dir, w.s.Project, projReal), w.s.Project); pw.Rel != "" {
			pw.Link = linkOn(w.s.Project, pw.Rel)
		}
		for _, n := range Shadowing(f.Dir, f.Later) {
			pw.Names[n] = runs(filepath.Join(f.Dir, n))
		}
		w.s.Path = append(w.s.Path, pw)
	}
}

// pathFolder sweeps the PATH folder pw: what shadows a host program there
// now and is new, or runs something else than before, is moved out, when
// it is inside the project (as the folder is reached now).
func (s *sweeper) pathFolder(pw pathWatch) {
	project := s.w.Project
	// A link on the way that is new or leads elsewhere now is moved out,
	// wherever it leads: the host follows it from the agent's folder (a
	// /proc/self/… link leads elsewhere for chaperone), to a folder no
	// command may write again, or back into the project.
	if pw.Rel != "" {
		if l := linkOn(project, pw.Rel); l != "" && l != pw.Link {
			at, _, _ := strings.Cut(l, "\x00")
			s.out(at)
			return
		}
	}
	dir := inProject(realPrefix(pw.Dir), project, realPrefix(project))
	rel := relProject(dir, project)
	if rel == "" {
		return // outside the project: nothing a command there wrote
	}
	for _, n := range Shadowing(pw.Dir, pw.Later) {
		if before, ok := pw.Names[n]; ok && before == runs(filepath.Join(pw.Dir, n)) {
			continue
		}
		s.out(filepath.ToSlash(filepath.Join(rel, n)))
	}
}

// maxHashed is the largest program runs reads: a bigger one (a copied
// interpreter) is told by its identity instead.
const maxHashed = 1 << 20

// runs describes what exec of p runs, so that two descriptions differ
// when that does: the targets of the links on the way, and the file's
// mode and content (a digest), or, past maxHashed, its identity and times.
// A rebuilt venv's links and scripts, the same as before, describe the
// same.
func runs(p string) string {
	var b strings.Builder
	for hops := 0; hops < 40; hops++ {
		t, err := os.Readlink(p)
		if err != nil {
			break
		}
		fmt.Fprintf(&b, "link:%s\x00", t)
		if !filepath.IsAbs(t) {
			t = filepath.Join(filepath.Dir(p), t)
		}
		p = t
	}
	fi, err := os.Stat(p)
	switch {
	case err != nil:
		return b.String() + "none"
	case !fi.Mode().IsRegular():
		return b.String() + fi.Mode().Type().String()
	case fi.Size() > maxHashed:
		st, _ := fi.Sys().(*syscall.Stat_t)
		if st == nil {
			return b.String() + "big"
		}
		return b.String() + fmt.Sprintf("%v:%d:%d:%d:%d.%d", fi.Mode(), fi.Size(), st.Dev, st.Ino, st.Ctim.Sec, st.Ctim.Nsec)
	}
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return b.String() + "unreadable"
	}
	defer f.Close()
	h := sha256.New()
	io.Copy(h, io.LimitReader(f, maxHashed+1))
	return b.String() + fmt.Sprintf("%v:%x", fi.Mode(), h.Sum(nil))
}

// linkOn returns the first symbolic link on the way from project to the
// project-relative folder rel, rel included, as "PATH\x00TARGET" (PATH
// project-relative), or "" when there is none. It follows no link and
// looks no further than the first (looker.look).
func linkOn(project, rel string) string {
	n := newLooker(project, nil).look(filepath.ToSlash(rel))
	if t, ok := strings.CutPrefix(n.State, "link:"); ok {
		return cmp.Or(n.At, rel) + "\x00" + t
	}
	return ""
}

// tildePath expands a leading ~ or ~user of a PATH entry, as bash does
// when it looks a program up (HOME from env for ~). An entry it cannot
// expand is returned as it is.
func tildePath(e string, env []string) string {
	if !strings.HasPrefix(e, "~") {
		return e
	}
	name, rest, _ := strings.Cut(e[1:], "/")
	home := lookup(env, "HOME")
	if name != "" {
		u, err := user.Lookup(name)
		if err != nil {
			return e
		}
		home = u.HomeDir
	}
	if !filepath.IsAbs(home) {
		return e
	}
	return filepath.Join(home, rest)
}
