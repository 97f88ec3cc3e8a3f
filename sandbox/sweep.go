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

// Watch is how the guarded names at a project's top (.git and HostExec,
// see Protect) looked before a command: each absent, a symbolic link with
// its target, or present. A mount cannot keep a name from being created,
// nor pin a symbolic link, so Sweep looks again after the command.
type Watch struct {
	project string
	before  map[string]string // name → "" absent, "link:TARGET", "present"
}

// WatchTop records the guarded names of project (extra as for Protect).
// It costs one lstat per name.
func WatchTop(project string, extra []string) *Watch {
	w := &Watch{project: project, before: map[string]string{}}
	for _, name := range guarded(extra) {
		if !strings.Contains(name, "/") {
			w.before[name] = topState(filepath.Join(project, name))
		}
	}
	return w
}

func topState(p string) string {
	fi, err := os.Lstat(p)
	switch {
	case err != nil:
		return ""
	case fi.Mode()&os.ModeSymlink != 0:
		t, _ := os.Readlink(p)
		return "link:" + t
	}
	return "present"
}

// Sweep undoes what a command did to the guarded names that the sandbox
// could not stop: a name created where there was none, or a symbolic link
// changed, is moved into a new folder under quarantine (and a link put
// back as it was). It returns the project-relative names it moved and
// where they went. A nil Watch sweeps nothing.
func (w *Watch) Sweep(quarantine string) (moved []string, dest string, err error) {
	if w == nil {
		return nil, "", nil
	}
	for name, before := range w.before {
		p := filepath.Join(w.project, name)
		now := topState(p)
		if now == before || (now == "present" && before == "present") {
			continue
		}
		if now == "" {
			// A pinned or read-only name cannot go; a link can: put it back.
			if t, ok := strings.CutPrefix(before, "link:"); ok {
				err = errors.Join(err, os.Symlink(t, p))
			}
			continue
		}
		if dest == "" {
			var b [4]byte
			rand.Read(b[:])
			dest = filepath.Join(quarantine, time.Now().UTC().Format("20060102-150405")+"-"+hex.EncodeToString(b[:]))
			if e := os.MkdirAll(dest, 0o700); e != nil {
				return moved, "", fmt.Errorf("quarantine: %w", e)
			}
		}
		if e := move(p, filepath.Join(dest, name)); e != nil {
			err = errors.Join(err, fmt.Errorf("quarantine %s: %w", name, e))
			continue
		}
		moved = append(moved, name)
		if t, ok := strings.CutPrefix(before, "link:"); ok {
			err = errors.Join(err, os.Symlink(t, p))
		}
	}
	return moved, dest, err
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
