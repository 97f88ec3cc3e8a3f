package sandbox

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/chaperone-dev/chaperone/internal/atomicfile"
)

// MarkerPath is where every sandboxed backend mounts its marker file,
// read-only. Inside reports whether it is there.
const MarkerPath = "/run/chaperone-sandbox"

// markerText is the marker file's content.
const markerText = "chaperone sandbox v1\n"

// Inside reports whether this process runs inside a chaperone sandbox, where
// chaperone must behave as plain bash (the command was rated outside).
//
// It is true only when MarkerPath is a regular file with the marker text on
// a read-only mount. An environment variable could be set by the agent (its
// own settings files are in its reach); this cannot be faked that way. On the
// host, /run belongs to root, so an agent running as the user can neither
// create the file nor mount over it without a new user and mount namespace,
// and making one is itself a command that goes through chaperone (and runs in
// the sandbox). The backends hide the host's /run (bubblewrap mounts a tmpfs
// there; containers have their own), so a marker always comes from the
// sandbox that mounted it. Cost: one statfs and one small read.
func Inside() bool {
	var st unix.Statfs_t
	if err := unix.Statfs(MarkerPath, &st); err != nil || st.Flags&unix.ST_RDONLY == 0 {
		return false
	}
	fi, err := os.Lstat(MarkerPath)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != int64(len(markerText)) {
		return false
	}
	b, err := os.ReadFile(MarkerPath)
	return err == nil && bytes.Equal(b, []byte(markerText))
}

// ExecBash replaces the process with the real bash, keeping argv (argv[0]
// included) and the environment: what chaperone does inside a sandbox. It
// skips any bash that is this very program. It returns only on failure.
func ExecBash(argv []string) error {
	bash, err := RealBash()
	if err != nil {
		return err
	}
	return fmt.Errorf("exec %s: %w", bash, syscall.Exec(bash, argv, os.Environ()))
}

// RealBash returns the path of a bash that is not chaperone itself.
func RealBash() (string, error) {
	self, _ := os.Stat("/proc/self/exe")
	for _, p := range []string{"/bin/bash", "/usr/bin/bash", "/usr/local/bin/bash", "/bin/bash-static"} {
		fi, err := os.Stat(p)
		if err != nil || fi.IsDir() {
			continue
		}
		if self != nil && os.SameFile(self, fi) {
			continue
		}
		return p, nil
	}
	return "", errors.New("no bash found (looked in /bin, /usr/bin, /usr/local/bin)")
}

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
