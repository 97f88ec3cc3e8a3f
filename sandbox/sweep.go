package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Watch is how what host tools run looked before a command, where a
// mount cannot keep it so: the guarded names at the project's top (.git,
// HostExec, the user's list) and the files git reads that it does not make
// itself (commondir, alternates, …), each absent, a symbolic link with its
// target, or a file or folder by identity; and the repositories inside the
// project that host git runs in (gitlinks, submodules' git folders). Sweep
// looks again after the command.
type Watch struct {
	project string
	before  map[string]string // project-relative path → state (see state)
	gitDir  string            // the project's git folder ("" none)
	links   map[string]bool   // gitlinks before
	modules map[string]bool   // names in gitDir/modules before
}

// gitWatched are the files in a git folder that git reads but never makes
// in an ordinary repository (a folder cannot be made empty in their
// place, as hooks and info are): made by a command, they are moved out.
var gitWatched = []string{"commondir", "config.worktree", "objects/info/alternates", "objects/info/http-alternates",
	"remotes", "branches", "worktrees"}

// WatchTop records what Sweep compares against, for project (extra as for
// Protect). It costs an lstat per name and a read of the git index.
func WatchTop(project string, extra []string) *Watch {
	w := &Watch{project: project, before: map[string]string{}, links: map[string]bool{}, modules: map[string]bool{}}
	for _, name := range guarded(extra) {
		if !strings.Contains(name, "/") {
			w.before[name] = state(filepath.Join(project, name))
		}
	}
	w.gitDir = projectGitDir(project)
	if w.gitDir == "" {
		return w
	}
	for _, name := range gitWatched {
		w.watch(filepath.Join(w.gitDir, name))
	}
	links, _ := gitlinks(w.gitDir)
	for _, l := range links {
		w.links[l] = true
		w.watch(filepath.Join(project, filepath.FromSlash(l), ".git"))
	}
	for _, m := range moduleDirs(w.gitDir) {
		w.modules[m] = true
	}
	return w
}

// watch records the state of p, a path inside the project.
func (w *Watch) watch(p string) {
	if rel := relProject(p, w.project); rel != "" {
		w.before[rel] = state(p)
	}
}

// projectGitDir is the project's git folder when it is inside the project:
// its .git folder, or the folder a .git file names ("" otherwise).
func projectGitDir(project string) string {
	p := filepath.Join(project, ".git")
	fi, err := os.Lstat(p)
	switch {
	case err != nil || fi.Mode()&os.ModeSymlink != 0:
		return ""
	case fi.IsDir():
		return p
	}
	if d := gitdirOf(p); d != "" && within(d, project) && d != project {
		return d
	}
	return ""
}

// moduleDirs lists gitDir/modules, one level and the groups of names with
// a slash, as paths relative to gitDir/modules.
func moduleDirs(gitDir string) []string {
	var out []string
	base := filepath.Join(gitDir, "modules")
	ents, _ := os.ReadDir(base)
	for _, e := range ents {
		out = append(out, e.Name())
		if inner, err := os.ReadDir(filepath.Join(base, e.Name())); err == nil && !exists(filepath.Join(base, e.Name(), "HEAD")) {
			for _, i := range inner {
				out = append(out, e.Name()+"/"+i.Name())
			}
		}
	}
	return out
}

// state is how p is: "" absent, "link:TARGET", or its kind and identity.
func state(p string) string {
	fi, err := os.Lstat(p)
	switch {
	case err != nil:
		return ""
	case fi.Mode()&os.ModeSymlink != 0:
		t, _ := os.Readlink(p)
		return "link:" + t
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fmt.Sprintf("%s:%d:%d", fi.Mode().Type(), st.Dev, st.Ino)
	}
	return "present"
}

// Sweep undoes what a command did that the sandbox could not stop: a
// watched name created where there was none, replaced, or a symbolic link
// changed, is moved into a new folder under quarantine (and a link put
// back as it was); so is the git folder of a repository the command added
// to the index, or made where a gitlink had none, unless it is a .git file
// naming a submodule git folder that was there before; so is a new folder
// in the git folder's modules. It returns the project-relative paths it
// moved and where they went. A nil Watch sweeps nothing.
func (w *Watch) Sweep(quarantine string) (moved []string, dest string, err error) {
	if w == nil {
		return nil, "", nil
	}
	out := func(rel string) {
		if dest == "" {
			var b [4]byte
			rand.Read(b[:])
			dest = filepath.Join(quarantine, time.Now().UTC().Format("20060102-150405")+"-"+hex.EncodeToString(b[:]))
			if e := os.MkdirAll(dest, 0o700); e != nil {
				err = errors.Join(err, fmt.Errorf("quarantine: %w", e))
				return
			}
		}
		to := filepath.Join(dest, rel)
		os.MkdirAll(filepath.Dir(to), 0o700)
		if e := move(filepath.Join(w.project, rel), to); e != nil {
			err = errors.Join(err, fmt.Errorf("quarantine %s: %w", rel, e))
			return
		}
		moved = append(moved, rel)
	}
	for rel, before := range w.before {
		p := filepath.Join(w.project, rel)
		now := state(p)
		if now == before {
			continue
		}
		if now != "" {
			if strings.HasSuffix(rel, "/.git") && w.submoduleLink(p, before) {
				continue
			}
			out(rel)
		}
		// A link that went (or was replaced) is put back.
		if t, ok := strings.CutPrefix(before, "link:"); ok && state(p) == "" {
			err = errors.Join(err, os.Symlink(t, p))
		}
	}
	if w.gitDir == "" {
		return moved, dest, err
	}
	links, _ := gitlinks(w.gitDir)
	for _, l := range links {
		p := filepath.Join(w.project, filepath.FromSlash(l), ".git")
		if w.links[l] || state(p) == "" || w.submoduleLink(p, "") {
			continue
		}
		if rel := relProject(p, w.project); rel != "" {
			out(rel)
		}
	}
	for _, m := range moduleDirs(w.gitDir) {
		if !w.modules[m] && !w.modules[strings.SplitN(m, "/", 2)[0]] {
			if rel := relProject(filepath.Join(w.gitDir, "modules", filepath.FromSlash(m)), w.project); rel != "" {
				out(rel)
			}
		}
	}
	return moved, dest, err
}

// submoduleLink reports whether p is what `git submodule update` makes
// where there was nothing: a .git file naming a submodule git folder that
// was there before the command (and so was guarded by Protect).
func (w *Watch) submoduleLink(p, before string) bool {
	fi, err := os.Lstat(p)
	if before != "" || err != nil || !fi.Mode().IsRegular() {
		return false
	}
	d := gitdirOf(p)
	rel, e := filepath.Rel(filepath.Join(w.gitDir, "modules"), d)
	return d != "" && e == nil && !strings.HasPrefix(rel, "..") && w.modules[filepath.ToSlash(rel)]
}

// move renames src to dst, or copies and removes it when they are on
// different file systems. Symbolic links are moved as links, never
// followed; FIFOs, sockets and devices are removed (nothing to keep).
func move(src, dst string) error {
	err := os.Rename(src, dst)
	if err == nil || !errors.Is(err, syscall.EXDEV) {
		return err
	}
	if err := copyTree(src, dst); err != nil {
		return err
	}
	return os.RemoveAll(src)
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		switch t := d.Type(); {
		case t.IsDir():
			return os.MkdirAll(to, 0o700)
		case t&fs.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(l, to)
		case t.IsRegular():
			in, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
			if err != nil {
				return err
			}
			defer in.Close()
			out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(out, in)
			return errors.Join(err, out.Close())
		}
		return nil
	})
}
