package broker

import (
	"path/filepath"

	"github.com/chaperone-dev/chaperone/internal/rundir"
)

// SocketName is the file name of the broker socket inside Dir.
const SocketName = "broker.sock"

// Dir returns the directory that holds the broker socket:
// $XDG_RUNTIME_DIR/chaperone, or chaperone-<uid> in the temp dir.
func Dir() string { return rundir.Dir() }

// SocketPath returns the path of the broker socket.
func SocketPath() string { return filepath.Join(Dir(), SocketName) }

// socketPaths are where a client looks for the panel: SocketPath() first,
// then the temp-dir fallback, so a shim started without XDG_RUNTIME_DIR
// (agents that scrub the environment) still finds a panel that has it.
func socketPaths() []string {
	p := SocketPath()
	fallback := filepath.Join(rundir.Fallback(), SocketName)
	if fallback == p {
		return []string{p}
	}
	return []string{p, fallback}
}

// ErrNotPrivate is returned when the socket directory could be reached by
// another user (wrong owner, group/other permissions, or a symlink).
var ErrNotPrivate = rundir.ErrNotPrivate
