package sandbox

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/chaperone-dev/chaperone/internal/atomicfile"
	"github.com/chaperone-dev/chaperone/internal/inside"
)

// MarkerPath is where every sandboxed backend mounts its marker file,
// read-only. Inside reports whether it is there.
const MarkerPath = inside.MarkerPath

// markerText is the marker file's content.
const markerText = inside.MarkerText

// Inside reports whether this process runs inside a chaperone sandbox, where
// chaperone must behave as plain bash (see inside.Sandbox).
func Inside() bool { return inside.Sandbox() }

// ExecBash replaces the process with the real bash, keeping argv and the
// environment. It returns only on failure.
func ExecBash(argv []string) error { return inside.ExecBash(argv) }

// RealBash returns the path of a bash that is not chaperone itself.
func RealBash() (string, error) { return inside.RealBash() }

// writeMarker makes the host-side marker file under dir (once) and returns
// its path.
func writeMarker(dir string) (string, error) {
	return stateFile(dir, "marker", markerText, 0o444)
}

// stateFile makes the file name in dir hold text, unless it already does,
// and returns its path.
func stateFile(dir, name, text string, mode os.FileMode) (string, error) {
	p := filepath.Join(dir, name)
	if b, err := os.ReadFile(p); err == nil && string(b) == text {
		return p, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("sandbox state folder: %w", err)
	}
	if err := atomicfile.WriteFile(p, []byte(text), mode, nil); err != nil {
		return "", err
	}
	return p, nil
}
