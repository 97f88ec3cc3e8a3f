// Package rundir is where chaperone keeps its sockets: a private folder,
// $XDG_RUNTIME_DIR/chaperone, or chaperone-<uid> in the temp dir. It
// imports next to nothing, so the small chaperone-shell can use it too.
package rundir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// Dir returns the folder that holds chaperone's sockets.
func Dir() string { return DirFrom(os.Getenv) }

// DirFrom is Dir for the environment that getenv reads.
func DirFrom(getenv func(string) string) string {
	if d := getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "chaperone")
	}
	tmp := getenv("TMPDIR")
	if tmp == "" {
		tmp = "/tmp"
	}
	return filepath.Join(tmp, "chaperone-"+strconv.Itoa(os.Getuid()))
}

// Fallback is the socket folder when XDG_RUNTIME_DIR is unset.
func Fallback() string {
	return filepath.Join(os.TempDir(), "chaperone-"+strconv.Itoa(os.Getuid()))
}

// ErrNotPrivate is returned when the folder could be reached by another
// user (wrong owner, group/other permissions, or a symlink).
var ErrNotPrivate = errors.New("socket directory is not private")

// Make creates dir (0700) when missing and checks that it is private.
func Make(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return &os.PathError{Op: "create socket directory", Path: dir, Err: err}
	}
	return Check(dir)
}

// Check checks that dir is a real directory owned by us with no group or
// other permissions, so nobody else can plant a socket in it.
func Check(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case fi.Mode()&fs.ModeSymlink != 0, !fi.IsDir():
		return &notPrivate{dir, "not a plain directory"}
	case !ok || int(st.Uid) != os.Getuid():
		return &notPrivate{dir, "owned by another user"}
	case fi.Mode().Perm()&0o077 != 0:
		return &notPrivate{dir, "mode " + fi.Mode().Perm().String() + ", want 0700 (fix: chmod 700 " + dir + ")"}
	}
	return nil
}

// notPrivate is ErrNotPrivate for one folder, with the reason. (Not fmt:
// chaperone-shell imports this package and starts for every command.)
type notPrivate struct{ dir, why string }

func (e *notPrivate) Error() string { return e.dir + ": " + ErrNotPrivate.Error() + ": " + e.why }

func (e *notPrivate) Unwrap() error { return ErrNotPrivate }
