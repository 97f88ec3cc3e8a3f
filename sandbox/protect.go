package sandbox

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/chaperone-dev/chaperone/internal/safefile"
	"github.com/chaperone-dev/chaperone/models"
)

// HostExec are the names at a project's top that host tools run, or read
// as settings that make them run something, outside any sandbox: direnv's
// .envrc, the coding agents' and editors' project settings (hooks, tasks,
// MCP servers, environment blocks), dev containers, chaperone's own project
// file. Inside the sandbox they are read-only; one that a command creates
// is moved out of the project when the command ends (Guard.Sweep). .git is
// handled on its own (see Protect).
var HostExec = models.HostExecNames

// Guard is what must stay unchanged in a project while a command runs in
// the sandbox: the mounts that keep it so, and what Sweep checks after.
type Guard struct {
	// Pinned are folders bound onto themselves read-write so that they
	// are mount points, which cannot be renamed, removed or replaced: .git
	// and the git folders of submodules. Shallowest first.
	Pinned []string
	// ReadOnly are existing paths bound read-only over the project: git's
	// config, hooks, info and worktree links, the HostExec names, the
	// user's own list, chaperone's programs when they live in the project.
	// Shallowest first; mounted after Pinned.
	ReadOnly []string
}

// Protect plans the guard of project. extra are more names (relative to the
// project) that the user's config protects. open: the person approved this
// command's write to these files, so the HostExec names and git's executed
// parts are left writable for it (.git stays pinned).
func Protect(project string, extra []string, open bool) Guard {
	var g Guard
	for _, name := range guarded(extra) {
		p := filepath.Join(project, name)
		fi, err := os.Lstat(p)
		if err != nil {
			continue // absent: Sweep sees to it
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			// The link itself cannot be pinned (a mount follows it); Sweep
			// puts it back if it changes. Where it leads inside the
			// project is guarded like the name itself.
			real, err := filepath.EvalSymlinks(p)
			if err != nil || !within(real, project) || real == project {
				continue
			}
			p = real
			if fi, err = os.Stat(p); err != nil {
				continue
			}
		}
		if name == ".git" {
			g.git(project, p, fi, open)
			continue
		}
		if !open {
			g.ReadOnly = append(g.ReadOnly, p)
		}
	}
	// chaperone's own programs, when a developer builds them in the project.
	if exe, err := os.Executable(); err == nil {
		for _, p := range []string{exe, filepath.Join(filepath.Dir(exe), "chaperone-shell"), filepath.Join(filepath.Dir(exe), "chaperone-panel")} {
			if within(p, project) && exists(p) {
				g.ReadOnly = append(g.ReadOnly, p)
			}
		}
	}
	g.Pinned, g.ReadOnly = byDepth(g.Pinned), byDepth(g.ReadOnly)
	return g
}

// git guards the project's .git at p: a folder is pinned with its executed
// parts read-only; a file (gitdir: …) is read-only, and the folder it names
// is guarded too when it is inside the project.
func (g *Guard) git(project, p string, fi os.FileInfo, open bool) {
	dir := p
	if !fi.IsDir() {
		g.ReadOnly = append(g.ReadOnly, p) // even when open: the pointer never changes
		if dir = gitdirOf(p); dir == "" || !within(dir, project) || dir == project {
			return
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return
		}
	}
	g.gitDir(project, dir, open)
	// Repositories inside the project that the index records (submodules,
	// repositories added with `git add`): host git runs in them too.
	links, _ := gitlinks(dir)
	for _, l := range links {
		work := filepath.Join(project, filepath.FromSlash(l))
		inner := filepath.Join(work, ".git")
		fi, err := os.Lstat(inner)
		if err != nil || fi.Mode()&os.ModeSymlink != 0 {
			continue // absent (Watch sees to a new one) or a link, which a mount cannot pin
		}
		if fi.IsDir() {
			g.gitDir(project, inner, open)
			continue
		}
		g.pin(project, work)
		g.ReadOnly = append(g.ReadOnly, inner)
		if d := gitdirOf(inner); d != "" && within(d, project) && d != project {
			if st, err := os.Stat(d); err == nil && st.IsDir() {
				g.gitDir(project, d, open)
			}
		}
	}
}

// pin pins dir and every folder between the project and it, so that none
// of them can be renamed away with dir inside (a folder holding a mount
// point can be renamed; a mount point cannot).
func (g *Guard) pin(project, dir string) {
	for d := dir; within(d, project) && d != project; d = filepath.Dir(d) {
		g.Pinned = append(g.Pinned, d)
	}
}

// guarded are the names (relative to a project) that Protect and Watch
// look after: .git, HostExec, and the user's extra, cleaned.
func guarded(extra []string) []string {
	var out []string
	for _, name := range append(append([]string{".git"}, HostExec...), extra...) {
		name = filepath.Clean(name)
		if name == "." || filepath.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") || slices.Contains(out, name) {
			continue
		}
		out = append(out, name)
	}
	return out
}

// gitDir pins the git folder dir and makes its executed parts read-only,
// then does the same for every submodule's git folder in dir/modules.
func (g *Guard) gitDir(project, dir string, open bool) {
	g.pin(project, dir)
	// Hooks and info folders are made when missing, so that none can be
	// planted (the files git reads that cannot be made empty are watched,
	// see WatchTop).
	os.Mkdir(filepath.Join(dir, "hooks"), 0o755)
	os.Mkdir(filepath.Join(dir, "info"), 0o755)
	if !open {
		// A hook that is a link into the work tree (a common set-up) runs
		// what it links to.
		for _, hooks := range []string{filepath.Join(dir, "hooks"), hooksPath(filepath.Join(dir, "config"), project)} {
			ents, _ := os.ReadDir(hooks)
			for _, e := range ents {
				if e.Type()&os.ModeSymlink == 0 {
					continue
				}
				if real, err := filepath.EvalSymlinks(filepath.Join(hooks, e.Name())); err == nil && within(real, project) && real != project {
					g.ReadOnly = append(g.ReadOnly, real)
				}
			}
		}
		for _, name := range models.GitExecuted {
			if name == "modules" {
				continue // each submodule's git folder is guarded below
			}
			if p := filepath.Join(dir, name); exists(p) {
				g.ReadOnly = append(g.ReadOnly, p)
			}
		}
		// A hooks folder the config names inside the project (husky's
		// .husky, a tracked .githooks) runs like .git/hooks.
		if h := hooksPath(filepath.Join(dir, "config"), project); h != "" && exists(h) {
			g.ReadOnly = append(g.ReadOnly, h)
		}
	}
	mods, _ := os.ReadDir(filepath.Join(dir, "modules"))
	for _, m := range mods {
		sub := filepath.Join(dir, "modules", m.Name())
		if m.IsDir() && (exists(filepath.Join(sub, "HEAD")) || exists(filepath.Join(sub, "config"))) {
			g.gitDir(project, sub, open)
		} else if m.IsDir() {
			// modules/<group>/<name> for names with slashes.
			inner, _ := os.ReadDir(sub)
			for _, i := range inner {
				if s := filepath.Join(sub, i.Name()); i.IsDir() && exists(filepath.Join(s, "HEAD")) {
					g.gitDir(project, s, open)
				}
			}
		}
	}
}

// gitdirOf reads a .git file ("gitdir: PATH") and returns the folder it
// names, absolute ("" when it cannot be read).
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
	dir = strings.TrimSpace(dir)
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(filepath.Dir(file), dir)
	}
	return filepath.Clean(dir)
}

// hooksPath returns core.hooksPath from the git config file when it names
// a folder inside the project ("" otherwise). A plain reading of the file
// is enough: the config itself is read-only in the sandbox.
func hooksPath(config, project string) string {
	b, err := safefile.Read(config, 1<<20)
	if err != nil {
		return ""
	}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "[") {
			section = ""
			if f := strings.Fields(strings.Trim(l, "[]")); len(f) > 0 {
				section = strings.ToLower(f[0])
			}
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok || section != "core" || !strings.EqualFold(strings.TrimSpace(k), "hookspath") {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"`)
		if !filepath.IsAbs(v) {
			v = filepath.Join(project, v)
		}
		if v = filepath.Clean(v); within(v, project) && v != project {
			return v
		}
	}
	return ""
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// byDepth sorts paths shallowest first (a mount must come before the ones
// inside it) and drops duplicates.
func byDepth(paths []string) []string {
	var out []string
	for _, p := range paths {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.SortStableFunc(out, func(a, b string) int {
		return strings.Count(a, "/") - strings.Count(b, "/")
	})
	return out
}
