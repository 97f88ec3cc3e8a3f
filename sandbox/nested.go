package sandbox

import (
	"cmp"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/chaperone-dev/chaperone/internal/safefile"
	"github.com/chaperone-dev/chaperone/models"
)

// SweepChanged moves out, below the project's top, what a command changed
// that host tools run: changed are the project-relative paths it created
// or modified (the audit's tree watch: a folder's path ends in "/"). The
// top is Protect's and Sweep's; below it, in a monorepo's packages, the
// same names count — a package's .vscode/tasks.json runs when the person
// opens that package, its .claude/settings.json when an agent starts
// there — and so does a new repository whose git folder makes git run
// something (see dangerousGitDir): host git, a prompt's `git status`, runs
// in it as soon as someone is in its folder. A repository as `git init`
// or `git clone` makes it is left alone. Like Sweep, it moves nothing
// outside the project and follows no link there. It returns what it moved
// and where it went.
func (w *Watch) SweepChanged(quarantine string, changed []string) (moved []string, dest string, err error) {
	if w == nil {
		return nil, "", nil
	}
	s := &sweeper{w: &w.s, quarantine: quarantine, lk: newLooker(w.s.Project, nil)}
	seen := map[string]bool{}
	for _, c := range changed {
		rel := filepath.ToSlash(filepath.Clean(strings.TrimSuffix(c, "/")))
		if !filepath.IsLocal(rel) || !strings.Contains(rel, "/") {
			continue // the top: Sweep's
		}
		parts := strings.Split(rel, "/")
		if i := slices.Index(parts, ".git"); i >= 0 {
			if i == 0 {
				continue // the project's own git folder: Sweep's
			}
			git := strings.Join(parts[:i+1], "/")
			if !seen[git] {
				seen[git] = true
				if n := s.lk.look(git); n.At == "" && n.State != "" && dangerousGitDir(filepath.Join(w.s.Project, filepath.FromSlash(git))) {
					s.out(git)
				}
			}
			continue
		}
		if !seen[rel] && (w.shadowsOnRelativePath(rel) || models.HostExecPath(rel)) {
			seen[rel] = true
			if n := s.lk.look(rel); n.State != "" {
				s.out(cmp.Or(n.At, rel)) // a link on the way, or rel
			}
		}
	}
	return s.moved, s.dest, s.err
}

// dangerousGitDir reports whether the git folder (or .git file) at p makes
// git run something that `git init` or `git clone` never set up: a .git
// file (its git folder is elsewhere), a config with a program, hooks path
// or include, a hook that is not a sample, another object store, or a
// linked work tree's pointers.
func dangerousGitDir(p string) bool {
	fi, err := os.Lstat(p)
	if err != nil || !fi.IsDir() {
		return err == nil
	}
	for _, f := range []string{"commondir", "config.worktree", "objects/info/alternates", "objects/info/http-alternates", "worktrees"} {
		if _, err := os.Lstat(filepath.Join(p, f)); err == nil {
			return true
		}
	}
	b, err := safefile.ReadFollow(filepath.Join(p, "config"), maxConfig)
	if err != nil && !os.IsNotExist(err) {
		return true // a config git would read and chaperone cannot
	}
	for _, e := range parseConfig(b) {
		name := e.name()
		if name == "core.hookspath" || name == "include.path" || e.section == "includeif" || matchKey(name, gitPrograms) {
			return true
		}
	}
	ents, err := os.ReadDir(filepath.Join(p, "hooks"))
	if err != nil && !os.IsNotExist(err) {
		return true
	}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".sample") {
			return true
		}
	}
	return false
}

// shadowsOnRelativePath reports whether rel is in a folder a relative
// entry of the agent's PATH names (bin, node_modules/.bin, ".") and has
// the name of a host program: a host process in the folder above runs it
// by that name.
func (w *Watch) shadowsOnRelativePath(rel string) bool {
	dir, name := path.Split(rel)
	dir = strings.TrimSuffix(dir, "/")
	for _, e := range w.s.RelPath {
		if e == "." || dir == e || strings.HasSuffix(dir, "/"+e) {
			for _, l := range w.s.RelLater {
				if hostProgram(filepath.Join(l, name)) {
					return true
				}
			}
			return false
		}
	}
	return false
}
