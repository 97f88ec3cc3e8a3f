// Package peercred tells who is at the other end of a unix socket: the
// kernel's word for the peer's process and user (SO_PEERCRED), and whether
// that process lives where this one does — same user, same mount, PID and
// user namespaces. chaperone's sockets (the broker's, the shell servers')
// serve only such peers: a sandboxed process that can reach a socket file
// (bubblewrap binds, a container's volume) is in other namespaces, and is
// hung up on.
package peercred

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Cred is the peer of a unix socket as the kernel reports it, translated
// into this process's PID and user namespaces. PID is 0 when the peer's
// process is not visible from this PID namespace.
type Cred struct {
	PID, UID, GID int
}

// Of returns the credentials of the process at the other end of c (taken
// by the kernel when the connection was made).
func Of(c *net.UnixConn) (Cred, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return Cred{}, fmt.Errorf("peer credentials: %w", err)
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return Cred{}, fmt.Errorf("peer credentials: %w", err)
	}
	if cerr != nil {
		return Cred{}, fmt.Errorf("peer credentials: %w", cerr)
	}
	return Cred{PID: int(cred.Pid), UID: int(cred.Uid), GID: int(cred.Gid)}, nil
}

// Namespaces names the mount, PID and user namespaces of process pid, as
// one string ("" when they cannot be read: no such process, or not ours
// to look at).
func Namespaces(pid int) string {
	if pid <= 0 {
		return ""
	}
	var b strings.Builder
	for _, ns := range []string{"mnt", "pid", "user"} {
		l, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/" + ns)
		if err != nil {
			return ""
		}
		b.WriteString(l)
		b.WriteByte(' ')
	}
	return b.String()
}

// own is this process's namespaces, read once (a process does not change
// them: chaperone never calls setns or unshare on itself).
var own = sync.OnceValue(func() string { return Namespaces(os.Getpid()) })

// ErrForeign is returned by Check for a peer that is another user's
// process, or one in other namespaces than this process (a sandbox).
var ErrForeign = errors.New("peer is not this user's process on this host")

// Check returns the credentials of the process at the other end of c, and
// ErrForeign (wrapped) unless it runs as this process's user in this
// process's mount, PID and user namespaces. When the namespaces cannot be
// read (no /proc, a peer not visible from here) it fails closed.
func Check(c *net.UnixConn) (Cred, error) {
	cred, err := Of(c)
	if err != nil {
		return cred, err
	}
	if cred.UID != os.Getuid() {
		return cred, fmt.Errorf("%w: uid %d", ErrForeign, cred.UID)
	}
	mine := own()
	if mine == "" {
		return cred, fmt.Errorf("%w: this process's namespaces cannot be read", ErrForeign)
	}
	// What this cannot see: a peer that handed its connection to another
	// process and exited, its PID then reused by a host process of ours
	// before the readlinks (SO_PEERPIDFD would close that gap).
	if theirs := Namespaces(cred.PID); theirs != mine {
		return cred, fmt.Errorf("%w: pid %d is in other namespaces", ErrForeign, cred.PID)
	}
	return cred, nil
}
