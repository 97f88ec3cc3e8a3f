package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/chaperone-dev/chaperone/internal/safefile"
	"github.com/chaperone-dev/chaperone/models"
)

// HostExec are the names in a project that host tools run, or read as
// settings that make them run something, outside any sandbox: direnv's
// .envrc, the coding agents' and editors' project settings (hooks, tasks,
// MCP servers, environment blocks), dev containers, git hook managers,
// chaperone's own project file. Inside the sandbox they are read-only; one
// that a command creates is moved out of the project when the command ends
// (Watch.Sweep). .git is handled on its own (see Protect).
var HostExec = models.HostExecNames

// Guard is what must stay unchanged in a project while a command runs in
// the sandbox: the mounts that keep it so. Every path in it is strictly
// inside the project and reached from it without a symbolic link, when
// Protect looks.
type Guard struct {
	// Pinned are folders bound onto themselves read-write so that they
	// are mount points, which cannot be renamed, removed or replaced: the
	// git folders host git runs in, and every folder between the project
	// and what is read-only. Shallowest first.
	Pinned []string
	// ReadOnly are existing paths bound read-only over the project: git's
	// config, hooks, info and the other parts of a git folder that make
	// git run something, the files they name in the work tree (hooks
	// linked there, core.hooksPath, included config files, programs), the
	// HostExec names, the user's own list, chaperone's programs when they
	// live in the project. Shallowest first; mounted after Pinned.
	ReadOnly []string
}

// Bounds on what a project can make chaperone guard: beyond them, commands
// still run, with more made read-only whole (or, at the very end, none;
// see GuardError).
const (
	// maxRepos is how many git folders are guarded one by one (pinned,
	// their executed parts read-only): the project's, its submodules',
	// the repositories inside it and inside those.
	maxRepos = 32
	// maxWhole is how many more are made read-only whole (a module
	// folder's whole modules/ counts once).
	maxWhole = 64
	// maxDepth is how deep repositories inside repositories are followed.
	maxDepth = 8
	// maxIncludes is how deep git config includes are followed (git's own
	// limit is 10).
	maxIncludes = 10
	// maxConfig bounds a git config file read.
	maxConfig = 1 << 20
)

// GuardError says that chaperone could not see everything host git runs
// in a project, so that a command cannot run safely there; what the person
// can do is in Fix.
type GuardError struct {
	Path string // the file or folder at fault
	Why  string
	Fix  string
}

func (e *GuardError) Error() string {
	return fmt.Sprintf("cannot guard %s: %s; %s; nothing was run", e.Path, e.Why, e.Fix)
}

// Protect plans the guard of project. extra are more names (relative to the
// project) that the user's config protects. open: the person approved this
// command's write to these files, so the HostExec names and git's executed
// parts are left writable for it (the git folders stay pinned).
func Protect(project string, extra []string, open bool) Guard {
	return plan(project, extra, open).guard()
}

// planner works out what a project's guard is: what Protect mounts and
// what WatchTop watches. It follows no symbolic link below the project but
// where a host tool would (a guarded name, a hook, a .git file), and keeps
// only what such a link leads to inside the project.
type planner struct {
	project  string
	open     bool
	pinned   []string
	ro       []string
	watch    []string         // paths inside the project whose state Sweep compares
	repos    []*repo          // the git folders guarded one by one, the project's first
	whole    []string         // folders (of git folders) read-only whole
	patterns []string         // guarded names with a * (Sweep looks for new matches)
	top      map[string]bool  // the names at the project's top
	seen     map[string]*repo // repos by git folder
	dirs     map[string]bool  // folders known to be reached without a link
	err      error
}

// repo is a git folder host git runs in.
type repo struct {
	dir     string   // the git folder
	work    string   // its work tree ("" when unknown: a module folder of no checked-out submodule)
	modules string   // the modules/ folder it is in ("" none)
	depth   int      // 0 for the project's
	hash    int      // object id size
	links   []string // its index's gitlinks, clean, relative to work
}

// plan works out the guard of project (see Protect).
func plan(project string, extra []string, open bool) *planner {
	project = filepath.Clean(project)
	pl := &planner{project: project, open: open, seen: map[string]*repo{}, dirs: map[string]bool{project: true}}
	top := topNames(project)
	pl.top = top
	if top[".envrc"] {
		extra = append(slices.Clip(extra), envrcFiles(filepath.Join(project, ".envrc"))...)
	}
	for _, name := range guarded(extra) {
		paths := []string{filepath.Join(project, name)}
		if hasMeta(name) {
			pl.patterns = append(pl.patterns, name)
			paths = expand(project, top, name)
		}
		for _, p := range paths {
			pl.watchPath(p)
			first, _, _ := strings.Cut(relProject(p, project), "/")
			if !top[first] || name == ".git" {
				continue // absent (Sweep sees to a new one); .git: below
			}
			// A link is followed as the host tool would; where it leads
			// inside the project is guarded like the name itself (the
			// link cannot be pinned: a mount follows it; Sweep puts it
			// back).
			if real, ok := pl.resolve(p); ok {
				pl.readOnly(real)
			}
		}
	}
	if gd, file := projectGitDir(project); file != "" || gd != "" {
		if file != "" {
			pl.readOnlyAlways(file) // even when open: the pointer never changes
		}
		if gd != "" {
			pl.discover(&repo{dir: gd, work: project})
		}
	}
	// chaperone's own programs, when a developer builds them in the project.
	if exe, err := os.Executable(); err == nil {
		for _, p := range []string{exe, filepath.Join(filepath.Dir(exe), "chaperone-shell"), filepath.Join(filepath.Dir(exe), "chaperone-panel")} {
			if pl.inside(p) && exists(p) {
				pl.readOnly(p)
			}
		}
	}
	return pl
}

// guard is the plan's mounts, each checked once more to be reached from
// the project without a link.
func (pl *planner) guard() Guard {
	var g Guard
	for _, p := range byDepth(pl.pinned) {
		if fi, ok := pl.plain(p); ok && fi.IsDir() {
			g.Pinned = append(g.Pinned, p)
		}
	}
	for _, p := range byDepth(pl.ro) {
		if _, ok := pl.plain(p); ok {
			g.ReadOnly = append(g.ReadOnly, p)
		}
	}
	return g
}

// topNames are the names in the project's top folder (one read of the
// folder, cheaper than looking up each guarded name).
func topNames(project string) map[string]bool {
	names := map[string]bool{}
	f, err := os.Open(project)
	if err != nil {
		return names
	}
	defer f.Close()
	ns, _ := f.Readdirnames(-1)
	for _, n := range ns {
		names[n] = true
	}
	return names
}

// hasMeta reports whether a guarded name is a pattern.
func hasMeta(name string) bool { return strings.ContainsAny(name, "*?[") }

// expand returns the paths in project that match the guarded name (a
// path.Match pattern in each of its parts); top are the names at the
// project's top. At most 64.
func expand(project string, top map[string]bool, name string) []string {
	rels := []string{""}
	for _, part := range strings.Split(name, "/") {
		var next []string
		for _, pre := range rels {
			if !hasMeta(part) {
				next = append(next, path.Join(pre, part))
				continue
			}
			match := func(n string) {
				if ok, _ := path.Match(part, n); ok && len(next) < 64 {
					next = append(next, path.Join(pre, n))
				}
			}
			if pre == "" {
				for n := range top {
					match(n)
				}
				continue
			}
			if first, _, _ := strings.Cut(pre, "/"); !top[first] {
				continue // not there
			}
			ents, _ := readDirN(filepath.Join(project, filepath.FromSlash(pre)), -1)
			for _, e := range ents {
				match(e.Name())
			}
		}
		rels = next
	}
	var out []string
	for _, r := range rels {
		out = append(out, filepath.Join(project, filepath.FromSlash(r)))
	}
	slices.Sort(out)
	return out
}

// inside reports whether p is strictly inside the project.
func (pl *planner) inside(p string) bool { return within(p, pl.project) && p != pl.project }

// plain returns p's file info when p is strictly inside the project and
// reached from it without a symbolic link: every folder on the way is a
// folder, and p itself exists and is no link.
func (pl *planner) plain(p string) (os.FileInfo, bool) {
	if !pl.inside(p) || filepath.Clean(p) != p {
		return nil, false
	}
	// The folders on the way not known yet, checked from the top down.
	var way []string
	for d := filepath.Dir(p); !pl.dirs[d]; d = filepath.Dir(d) {
		way = append(way, d)
	}
	for i := len(way) - 1; i >= 0; i-- {
		fi, err := os.Lstat(way[i])
		if err != nil || !fi.IsDir() {
			return nil, false // a link, or no folder
		}
		pl.dirs[way[i]] = true
	}
	fi, err := os.Lstat(p)
	if err != nil || fi.Mode()&os.ModeSymlink != 0 {
		return nil, false
	}
	if fi.IsDir() {
		pl.dirs[p] = true
	}
	return fi, true
}

// plainDir reports whether p is a folder reached from the project without
// a link.
func (pl *planner) plainDir(p string) bool {
	fi, ok := pl.plain(p)
	return ok && fi.IsDir()
}

// resolve follows p as the kernel (and so a host tool) does and returns
// where it leads, when that exists strictly inside the project.
func (pl *planner) resolve(p string) (string, bool) {
	real, err := filepath.EvalSymlinks(p)
	if err != nil || !pl.inside(real) {
		return "", false
	}
	return real, true
}

// readOnly makes p read-only (unless open) and pins every folder between
// the project and it, so that none of them can be renamed away with p
// inside and a new one put in its place; Sweep watches p.
func (pl *planner) readOnly(p string) {
	pl.watchPath(p)
	if !pl.open {
		pl.readOnlyAlways(p)
	}
}

// readOnlyAlways is readOnly, even when open.
func (pl *planner) readOnlyAlways(p string) {
	pl.watchPath(p)
	pl.ro = append(pl.ro, p)
	pl.pin(filepath.Dir(p))
}

// pin pins dir and every folder between the project and it (a folder
// holding a mount point can be renamed; a mount point cannot).
func (pl *planner) pin(dir string) {
	for d := dir; pl.inside(d); d = filepath.Dir(d) {
		if slices.Contains(pl.pinned, d) {
			return // and so are the ones above it
		}
		pl.pinned = append(pl.pinned, d)
	}
}

// watchPath has Sweep compare p (when it is inside the project).
func (pl *planner) watchPath(p string) {
	if pl.inside(p) {
		pl.watch = append(pl.watch, p)
	}
}

// fail records the first reason the guard is incomplete.
func (pl *planner) fail(err *GuardError) {
	if pl.err == nil {
		pl.err = err
	}
}

// guarded are the names (relative to a project) that Protect and Watch
// look after: .git, HostExec, and the user's extra, cleaned.
func guarded(extra []string) []string {
	var out []string
	for _, name := range append(append([]string{".git"}, HostExec...), extra...) {
		name = filepath.Clean(name)
		if !filepath.IsLocal(name) || slices.Contains(out, name) {
			continue
		}
		out = append(out, name)
	}
	return out
}

// projectGitDir returns the project's git folder when it is inside the
// project (its .git folder, or the one a .git file or link leads to), and
// the .git file, if it is one.
func projectGitDir(project string) (dir, file string) {
	p := filepath.Join(project, ".git")
	fi, err := os.Lstat(p)
	if err != nil {
		return "", ""
	}
	var d string
	switch {
	case fi.IsDir():
		return p, ""
	case fi.Mode().IsRegular():
		file, d = p, gitdirOf(p)
	default:
		d, _ = filepath.EvalSymlinks(p)
	}
	if d == "" || !within(d, project) || d == project {
		return "", file
	}
	if st, err := os.Stat(d); err != nil || !st.IsDir() {
		return "", file
	}
	return d, file
}

// discover guards the git folder of root and, breadth first, those of the
// repositories inside it that host git runs in: the ones its index records
// as gitlinks (their work tree has a .git folder, file or link), and the
// module folders of its submodules, within the bounds above.
func (pl *planner) discover(root *repo) {
	queue := []*repo{root}
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		if old := pl.seen[r.dir]; old != nil {
			if old.work == "" && r.work != "" {
				old.work = r.work // a module folder reached by its work tree too
				queue = append(queue, pl.linked(old)...)
			}
			continue
		}
		if !pl.plainDir(r.dir) {
			continue
		}
		if len(pl.repos) >= maxRepos || r.depth > maxDepth {
			pl.overflow(r)
			continue
		}
		pl.seen[r.dir] = r
		pl.repos = append(pl.repos, r)
		pl.gitDir(r)
		queue = append(queue, pl.linked(r)...)
		queue = append(queue, pl.modules(r, maxRepos-len(pl.repos)-len(queue))...)
	}
}

// overflow guards r, a git folder beyond the bounds, whole: the modules/
// folder it is in (once for all its module folders), or its own folder.
func (pl *planner) overflow(r *repo) {
	dir := r.dir
	if r.modules != "" {
		dir = r.modules
	}
	if slices.Contains(pl.whole, dir) {
		return
	}
	if len(pl.whole) >= maxWhole {
		pl.fail(&GuardError{Path: r.dir, Why: fmt.Sprintf("the project holds more repositories than chaperone can guard (%d)", maxRepos+maxWhole),
			Fix: "remove the repositories you do not need from inside the project, or run this project with the host backend"})
		return
	}
	pl.whole = append(pl.whole, dir)
	if pl.open {
		pl.pin(dir)
	} else {
		pl.readOnlyAlways(dir)
	}
}

// linked returns the repositories r's index records as gitlinks that have
// a git folder inside the project. A gitlink whose path goes through a
// link or a file is skipped, as git skips it.
func (pl *planner) linked(r *repo) []*repo {
	if r.work == "" {
		return nil
	}
	index := filepath.Join(r.dir, "index")
	links, err := gitlinks(r.dir, r.hash)
	if err != nil && !errors.Is(err, errOddIndex) {
		pl.fail(&GuardError{Path: index, Why: err.Error() + ", so host git may run repositories chaperone cannot see",
			Fix: "move it aside on the host (mv " + index + " " + index + ".bad) and rebuild it with `git reset`"})
	}
	var out []*repo
	for _, l := range links {
		l, ok := cleanLink(l)
		if !ok {
			continue
		}
		r.links = append(r.links, l)
		work := filepath.Join(r.work, filepath.FromSlash(l))
		pl.watchPath(filepath.Join(work, ".git")) // one made by a command is swept
		if !pl.plainDir(work) {
			continue // absent, or through a link: git skips it too
		}
		if c := pl.repoAt(work, r); c != nil {
			out = append(out, c)
		}
	}
	return out
}

// cleanLink returns a gitlink's path cleaned, and whether it names a folder
// inside the work tree. (One inside .git is no exception: git never adds
// it, but recurses into it when an index written by hand has it.)
func cleanLink(l string) (string, bool) {
	c := path.Clean(l)
	if l == "" || c == "." || path.IsAbs(c) || c == ".." || strings.HasPrefix(c, "../") {
		return "", false
	}
	return c, true
}

// repoAt returns the repository whose work tree is work (a gitlink of
// parent): its .git folder, or the folder its .git file or link names
// inside the project. The .git file itself is read-only; the .git is
// watched.
func (pl *planner) repoAt(work string, parent *repo) *repo {
	dotgit := filepath.Join(work, ".git")
	fi, err := os.Lstat(dotgit)
	if err != nil {
		return nil // none (Sweep sees to a new one)
	}
	c := &repo{dir: dotgit, work: work, depth: parent.depth + 1}
	switch {
	case fi.IsDir():
	case fi.Mode().IsRegular():
		pl.readOnlyAlways(dotgit)
		c.dir = gitdirOf(dotgit)
	default:
		c.dir, _ = pl.resolve(dotgit)
	}
	if !pl.inside(c.dir) {
		return nil
	}
	c.modules = pl.modulesOf(c.dir)
	return c
}

// modulesOf returns the modules/ folder of a guarded git folder that dir
// is in ("" none).
func (pl *planner) modulesOf(dir string) string {
	for _, r := range pl.repos {
		m := filepath.Join(r.dir, "modules")
		if within(dir, m) && dir != m {
			return m
		}
	}
	return ""
}

// modules returns the module folders of r's submodules (modules/NAME, the
// name may have slashes), to be guarded. When there are more than room
// for, the whole modules/ folder is read-only instead.
func (pl *planner) modules(r *repo, room int) []*repo {
	base := filepath.Join(r.dir, "modules")
	names, more := moduleDirs(r.dir, max(room, 0)+1)
	if len(names) == 0 && !more {
		return nil
	}
	if more || len(names) > room || r.depth >= maxDepth {
		pl.overflow(&repo{dir: base, modules: base})
		return nil
	}
	var out []*repo
	for _, n := range names {
		out = append(out, &repo{dir: filepath.Join(base, filepath.FromSlash(n)), modules: base, depth: r.depth + 1})
	}
	return out
}

// moduleDirs lists the git folders in gitDir/modules (a folder with a HEAD
// or config), looking into folders that are none for names with slashes
// (two levels more), as slash-separated paths relative to modules/; at
// most n of them (more: there are others).
func moduleDirs(gitDir string, n int) (names []string, more bool) {
	var walk func(rel string, depth int)
	walk = func(rel string, depth int) {
		ents, _ := readDirN(filepath.Join(gitDir, "modules", filepath.FromSlash(rel)), 4*n)
		for _, e := range ents {
			if !e.IsDir() || more {
				continue
			}
			name := path.Join(rel, e.Name())
			sub := filepath.Join(gitDir, "modules", filepath.FromSlash(name))
			switch {
			case exists(filepath.Join(sub, "HEAD")) || exists(filepath.Join(sub, "config")):
				if len(names) == n {
					more = true
					return
				}
				names = append(names, name)
			case depth < 2:
				walk(name, depth+1)
			}
		}
	}
	walk("", 0)
	return names, more
}

// readDirN reads at most n entries of the folder dir, without following a
// link at dir itself.
func readDirN(dir string, n int) ([]fs.DirEntry, error) {
	f, err := os.OpenFile(dir, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_DIRECTORY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadDir(n)
}

// gitDir guards the git folder of r: pinned, with the parts that make git
// run something read-only (config, hooks, info, …) and what they name in
// the project (hooks linked into the work tree, core.hooksPath, included
// config files, programs); the files git reads but never makes are
// watched (see gitWatched).
func (pl *planner) gitDir(r *repo) {
	pl.pin(r.dir)
	// Hooks and info folders are made when missing, so that none can be
	// planted (the files git reads that cannot be made empty are watched).
	os.Mkdir(filepath.Join(r.dir, "hooks"), 0o755)
	os.Mkdir(filepath.Join(r.dir, "info"), 0o755)
	c := pl.readConfig(r)
	r.hash = c.hash
	for _, name := range models.GitExecuted {
		p := filepath.Join(r.dir, filepath.FromSlash(name))
		switch name {
		case "modules", "rebase-merge", "sequencer":
			continue // guarded one by one; watched (see Watch)
		}
		if exists(p) {
			pl.readOnly(p)
		}
	}
	for _, name := range gitWatched {
		pl.watchPath(filepath.Join(r.dir, filepath.FromSlash(name)))
	}
	// A hook that is a link into the work tree (a common set-up) runs
	// what it links to.
	hooks := []string{filepath.Join(r.dir, "hooks")}
	for _, h := range c.hooks {
		if real, ok := pl.resolve(h); ok {
			hooks = append(hooks, real)
		}
	}
	for _, hooks := range hooks {
		ents, _ := readDirN(hooks, 1000)
		for _, e := range ents {
			if e.Type()&os.ModeSymlink == 0 {
				continue
			}
			if real, ok := pl.resolve(filepath.Join(hooks, e.Name())); ok {
				pl.readOnly(real)
			}
		}
	}
	// What the config names in the project: a hooks folder (husky's
	// .husky, a tracked .githooks), included files, programs git runs.
	for _, p := range c.paths {
		if real, ok := pl.resolve(p); ok {
			pl.readOnly(real)
		} else {
			pl.watchPath(filepath.Clean(p)) // made by a command: swept
		}
	}
}

// envrcFiles returns the files (project-relative) that the .envrc at p
// has direnv load into the person's shell as they are, beyond the ones
// every project's guard has: the dotenv files (.env by default; every
// variable, PATH and LD_PRELOAD too, on each cd) and the files it sources.
func envrcFiles(p string) []string {
	b, err := safefile.ReadFollow(p, maxConfig)
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(strings.NewReplacer(";", " ", "&&", " ", "||", " ").Replace(line))
		for i, w := range f {
			switch w {
			case "dotenv", "dotenv_if_exists", "source_env", "source_env_if_exists":
				name := ".env"
				if w != "dotenv" && w != "dotenv_if_exists" {
					name = ""
				}
				if i+1 < len(f) && !strings.HasPrefix(f[i+1], "#") {
					name = strings.Trim(f[i+1], `"'`)
				}
				if name != "" && filepath.IsLocal(name) {
					out = append(out, filepath.Clean(name))
				}
			}
		}
	}
	return out
}

// gitConfig is what chaperone reads in a git folder's config files.
type gitConfig struct {
	hash  int      // object id size
	hooks []string // core.hooksPath, when it is inside the project
	paths []string // files and folders in the project that git runs or reads config from (unresolved)
}

// gitPrograms are the config keys (lower case, * for a subsection) whose
// value is a command git runs; its program, when it is a path, is guarded.
var gitPrograms = []string{"core.fsmonitor", "core.sshcommand", "core.editor", "core.pager", "core.askpass",
	"sequence.editor", "diff.external", "credential.helper", "gpg.program",
	"filter.*.clean", "filter.*.smudge", "filter.*.process", "diff.*.textconv", "diff.*.command",
	"merge.*.driver", "credential.*.helper", "gpg.*.program", "alias.*", "pager.*",
	"difftool.*.cmd", "mergetool.*.cmd", "uploadpack.packobjectshook", "core.gitproxy", "remote.*.receivepack",
	"remote.*.uploadpack"}

// readConfig reads r's config (and config.worktree), with the files they
// include, as deep as git goes.
func (pl *planner) readConfig(r *repo) gitConfig {
	c := gitConfig{hash: 20}
	var read func(file string, depth int)
	read = func(file string, depth int) {
		b, err := safefile.ReadFollow(file, maxConfig)
		if err != nil {
			return
		}
		for _, e := range parseConfig(b) {
			name := e.name()
			switch {
			case name == "extensions.objectformat" && e.value == "sha256" && depth == 0:
				c.hash = 32
			case name == "include.path" || e.section == "includeif" && e.key == "path":
				p := pl.pathIn(e.value, filepath.Dir(file))
				if p == "" {
					continue
				}
				if pl.inside(filepath.Clean(p)) {
					c.paths = append(c.paths, p)
				}
				if depth < maxIncludes {
					read(p, depth+1)
				}
			case name == "core.hookspath":
				if p := pl.pathIn(e.value, r.work); p != "" && pl.inside(filepath.Clean(p)) {
					c.hooks = append(c.hooks, p)
					c.paths = append(c.paths, p)
				}
			case matchKey(name, gitPrograms):
				// The program and every path it is given: `sh tools/x.sh`
				// runs tools/x.sh as surely as `tools/x.sh` does.
				for _, w := range programPaths(e.value) {
					if p := pl.pathIn(w, r.work); p != "" && pl.inside(filepath.Clean(p)) {
						c.paths = append(c.paths, p)
					}
				}
			}
		}
	}
	read(filepath.Join(r.dir, "config"), 0)
	read(filepath.Join(r.dir, "config.worktree"), 0)
	return c
}

// pathIn is the path v names (as git reads it, relative to dir), unresolved
// and uncleaned, so that the kernel resolves it as git would; "" when it
// names none.
func (pl *planner) pathIn(v, dir string) string {
	v = strings.TrimPrefix(v, ":(optional)")
	switch {
	case v == "":
		return ""
	case strings.HasPrefix(v, "~/"):
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		return home + v[1:]
	case strings.HasPrefix(v, "~"):
		return "" // another user's home
	case filepath.IsAbs(v):
		return v
	case dir == "":
		return ""
	}
	return dir + "/" + v
}

// program returns the program of a command git runs (its first word, the
// ! of an alias aside) when it is a path ("" otherwise).
func program(cmd string) string {
	cmd = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(cmd), "!"))
	var word string
	if q := cmd; q != "" && (q[0] == '"' || q[0] == '\'') {
		word, _, _ = strings.Cut(q[1:], q[:1])
	} else {
		word, _, _ = strings.Cut(cmd, " ")
		word, _, _ = strings.Cut(word, "\t")
	}
	if !strings.Contains(word, "/") {
		return ""
	}
	return word
}

// programPaths returns the words of a command git runs that are paths
// (they have a slash): its program and the files it is given (an option's
// value after = too), quotes taken off; URLs are no paths.
func programPaths(cmd string) []string {
	var out []string
	if p := program(cmd); p != "" {
		out = append(out, p)
	}
	cmd = strings.TrimPrefix(strings.TrimSpace(cmd), "!")
	for _, f := range strings.Fields(strings.NewReplacer(`"`, " ", "'", " ", ";", " ", "|", " ", "&", " ", "(", " ", ")", " ").Replace(cmd)) {
		if _, v, ok := strings.Cut(f, "="); ok && strings.HasPrefix(f, "-") {
			f = v
		}
		if strings.Contains(f, "/") && !strings.Contains(f, "://") && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// matchKey reports whether the config key name matches one of keys (a *
// matches one subsection, dots included).
func matchKey(name string, keys []string) bool {
	for _, k := range keys {
		pre, post, star := strings.Cut(k, "*")
		if !star && name == k || star && strings.HasPrefix(name, pre) && strings.HasSuffix(name, post) && len(name) > len(pre)+len(post) {
			return true
		}
	}
	return false
}

// configEntry is one variable of a git config file.
type configEntry struct {
	section, sub, key, value string // section and key lower case
}

// name is the entry's name as `git config` spells it: section.sub.key
// (section.key without a subsection), lower case but the subsection.
func (e configEntry) name() string {
	if e.sub == "" {
		return e.section + "." + e.key
	}
	return e.section + "." + e.sub + "." + e.key
}

// parseConfig reads a git config file (git's syntax: [section],
// [section "sub"], [section.sub], key = value with quotes, escapes,
// comments and continued lines; a key alone is true). What it cannot read
// is skipped.
func parseConfig(b []byte) []configEntry {
	var out []configEntry
	var section, sub string
	s := string(b)
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\n' || c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '#' || c == ';':
			i = lineEnd(s, i)
		case c == '[':
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return out
			}
			section, sub = header(s[i+1 : i+end])
			i += end + 1
		case isAlpha(c):
			j := i
			for j < len(s) && (isAlpha(s[j]) || s[j] >= '0' && s[j] <= '9' || s[j] == '-') {
				j++
			}
			key := strings.ToLower(s[i:j])
			for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
				j++
			}
			value := "true"
			if j < len(s) && s[j] == '=' {
				value, j = configValue(s, j+1)
			} else {
				j = lineEnd(s, j)
			}
			out = append(out, configEntry{section: section, sub: sub, key: key, value: value})
			i = j
		default:
			i = lineEnd(s, i)
		}
	}
	return out
}

// header reads a section header's inside: section, "section \"sub\"" or
// section.sub.
func header(h string) (section, sub string) {
	name, rest, quoted := strings.Cut(h, "\"")
	name = strings.TrimSpace(name)
	if quoted {
		var b strings.Builder
		for i := 0; i < len(rest) && rest[i] != '"'; i++ {
			if rest[i] == '\\' && i+1 < len(rest) {
				i++
			}
			b.WriteByte(rest[i])
		}
		return strings.ToLower(name), b.String()
	}
	section, sub, _ = strings.Cut(name, ".")
	return strings.ToLower(section), strings.ToLower(sub)
}

// configValue reads a value from s[i:] up to the end of its line and
// returns it and where the next line starts.
func configValue(s string, i int) (string, int) {
	var b strings.Builder
	quote := false
	space := 0 // trailing unquoted blanks, dropped at the end
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\n':
			return b.String()[:b.Len()-space], i + 1
		case !quote && (c == '#' || c == ';'):
			return b.String()[:b.Len()-space], lineEnd(s, i)
		case c == '"':
			quote = !quote
			space = 0
			continue
		case c == '\\' && i+1 < len(s):
			i++
			switch s[i] {
			case '\n':
				continue // a continued line
			case 'n':
				c = '\n'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			default:
				c = s[i]
			}
			space = 0
		case !quote && (c == ' ' || c == '\t' || c == '\r'):
			if b.Len() == 0 {
				continue // leading blanks
			}
			space++
		default:
			space = 0
		}
		b.WriteByte(c)
	}
	return b.String()[:b.Len()-space], i
}

// lineEnd is where the line after the one holding s[i] starts.
func lineEnd(s string, i int) int {
	if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
		return i + j + 1
	}
	return len(s)
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// gitdirOf reads a .git file ("gitdir: PATH") and returns the folder it
// names, absolute and resolved as git resolves it (links followed); ""
// when it cannot be read or names nothing.
func gitdirOf(file string) string {
	b, err := safefile.Read(file, 4096)
	if err != nil {
		return ""
	}
	line, _, _ := strings.Cut(string(b), "\n")
	dir, ok := strings.CutPrefix(strings.TrimSpace(line), "gitdir:")
	if !ok {
		return ""
	}
	if dir = strings.TrimSpace(dir); !filepath.IsAbs(dir) {
		dir = filepath.Dir(file) + "/" + dir
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return ""
	}
	return real
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// byDepth sorts paths shallowest first (a mount must come before the ones
// inside it) and drops duplicates.
func byDepth(paths []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range paths {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	slices.SortStableFunc(out, func(a, b string) int {
		return strings.Count(a, "/") - strings.Count(b, "/")
	})
	return out
}
