package broker

import (
	"fmt"
	"net"

	"golang.org/x/sys/unix"

	"github.com/chaperone-dev/chaperone/models"
)

// Message types.
const (
	TypeHold    = "hold"    // shim → panel: a held command; the shim waits
	TypeRan     = "ran"     // shim → panel: a low/medium command ran; no answer
	TypeVerdict = "verdict" // panel → shim: the answer to a hold
)

// Message is one line of the protocol.
type Message struct {
	Type    string              `json:"type"`
	Hold    *models.HoldRequest `json:"hold,omitempty"`
	Event   *models.Event       `json:"event,omitempty"`
	Verdict *models.Verdict     `json:"verdict,omitempty"`
}

// maxLine bounds one protocol line (facts of a long script can be large).
const maxLine = 8 << 20

// peer returns the process id and user id at the other end of c.
func peer(c *net.UnixConn) (pid, uid int, err error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, 0, err
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return 0, 0, err
	}
	if credErr != nil {
		return 0, 0, fmt.Errorf("peer credentials: %w", credErr)
	}
	return int(cred.Pid), int(cred.Uid), nil
}
