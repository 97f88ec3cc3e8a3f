// Package inside tells whether this process runs inside a chaperone
// sandbox, and becomes the real bash there. It imports next to nothing, so
// the small chaperone-shell can use it too (package sandbox mounts the
// marker it looks for).
package inside

import (
	"bytes"
	"errors"
	"os"
	"syscall"
)

// MarkerPath is where every sandboxed backend mounts its marker file,
// read-only.
const MarkerPath = "/run/chaperone-sandbox"

// MarkerText is the marker file's content.
const MarkerText = "chaperone sandbox v1\n"

// stRdonly is statfs's flag for a read-only mount (ST_RDONLY).
const stRdonly = 0x1

// Sandbox reports whether this process runs inside a chaperone sandbox,
// where chaperone must behave as plain bash (the command was rated
// outside).
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
func Sandbox() bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs(MarkerPath, &st); err != nil || st.Flags&stRdonly == 0 {
		return false
	}
	fi, err := os.Lstat(MarkerPath)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != int64(len(MarkerText)) {
		return false
	}
	b, err := os.ReadFile(MarkerPath)
	return err == nil && bytes.Equal(b, []byte(MarkerText))
}

// ExecBash replaces the process with the real bash, keeping argv (argv[0]
// included) and the environment: what chaperone does inside a sandbox. It
// skips any bash that is this very program. It returns only on failure.
func ExecBash(argv []string) error {
	bash, err := RealBash()
	if err != nil {
		return err
	}
	err = syscall.Exec(bash, argv, os.Environ())
	return &os.PathError{Op: "exec", Path: bash, Err: err}
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
