package broker

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// SocketName is the file name of the broker socket inside Dir.
const SocketName = "broker.sock"

// Dir returns the directory that holds the broker socket:
// $XDG_RUNTIME_DIR/chaperone, or chaperone-<uid> in the temp dir.
func Dir() string {
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		return filepath.Join(d, "chaperone")
	}
	return fallbackDir()
}

// fallbackDir is the socket directory when XDG_RUNTIME_DIR is unset.
func fallbackDir() string {
	return filepath.Join(os.TempDir(), "chaperone-"+strconv.Itoa(os.Getuid()))
}

// SocketPath returns the path of the broker socket.
func SocketPath() string { return filepath.Join(Dir(), SocketName) }

// socketPaths are where a client looks for the panel: SocketPath() first,
// then the temp-dir fallback, so a shim started without XDG_RUNTIME_DIR
// (agents that scrub the environment) still finds a panel that has it.
func socketPaths() []string {
	p := SocketPath()
	fallback := filepath.Join(fallbackDir(), SocketName)
	if fallback == p {
		return []string{p}
	}
	return []string{p, fallback}
}

// ErrNotPrivate is returned when the socket directory could be reached by
// another user (wrong owner, group/other permissions, or a symlink).
var ErrNotPrivate = errors.New("socket directory is not private")

// makeDir creates dir (0700) when missing and checks that it is private.
func makeDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create socket directory: %w", err)
	}
	return checkDir(dir)
}

// checkDir checks that dir is a real directory owned by us with no group
// or other permissions, so nobody else can plant a socket in it.
func checkDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case fi.Mode()&fs.ModeSymlink != 0, !fi.IsDir():
		return fmt.Errorf("%s: %w: not a plain directory", dir, ErrNotPrivate)
	case !ok || int(st.Uid) != os.Getuid():
		return fmt.Errorf("%s: %w: owned by another user", dir, ErrNotPrivate)
	case fi.Mode().Perm()&0o077 != 0:
		return fmt.Errorf("%s: %w: mode %v, want 0700 (fix: chmod 700 %s)", dir, ErrNotPrivate, fi.Mode().Perm(), dir)
	}
	return nil
}
