package tui

import (
	"testing"

	"github.com/chaperone-dev/chaperone/models"
)

// TestPidText: the panel names the kernel's peer, and the shim's own PID
// when the shell server asked on its behalf.
func TestPidText(t *testing.T) {
	for _, c := range []struct {
		peer, claimed int
		want          string
	}{
		{0, 0, ""},
		{0, 42, ""},
		{17, 0, "17"},
		{17, 17, "17"},
		{17, 42, "42 (through chaperone 17)"},
	} {
		it := &item{HeldMsg: HeldMsg{PeerPID: c.peer, Req: models.HoldRequest{PID: c.claimed}}}
		if got := pidText(it); got != c.want {
			t.Errorf("peer %d, claimed %d: %q, want %q", c.peer, c.claimed, got, c.want)
		}
	}
}
