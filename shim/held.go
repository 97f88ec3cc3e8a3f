package shim

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"

	"github.com/chaperone-dev/chaperone/broker"
	"github.com/chaperone-dev/chaperone/models"
)

// heldNotice tells the person at once that a command is held (the broker
// client's OnHold): one line on the command's stderr
// (broker.HeldMessage), a tmux message inside tmux ($TMUX), and the bell
// on the controlling terminal when there is one.
type heldNotice struct {
	stderr io.Writer
	getenv func(string) string
	// tmux runs tmux with args and does not wait for it; nil: startTmux.
	tmux func(args ...string)
	// bell rings the terminal's bell; nil: ringBell.
	bell func()
}

func (n heldNotice) onHold(req models.HoldRequest, panel bool) {
	fmt.Fprintln(n.stderr, broker.HeldMessage(req, panel))
	if n.getenv("TMUX") != "" {
		// Only chaperone's own words: tmux expands #(...) and #{...} in
		// what it displays, and the command text is the agent's.
		msg := "chaperone: a command is held: approve or deny it in chaperone tui"
		if !panel {
			msg = "chaperone: a command is held and no approval panel runs: start chaperone tui"
		}
		args := []string{"display-message", "-d", "5000"}
		if pane := n.getenv("TMUX_PANE"); pane != "" {
			args = append(args, "-t", pane)
		}
		tmux := n.tmux
		if tmux == nil {
			tmux = startTmux
		}
		tmux(append(args, msg)...)
	}
	bell := n.bell
	if bell == nil {
		bell = ringBell
	}
	bell()
}

// startTmux runs tmux with args in the background: neither its start nor
// its end comes before the hold reaches the panel.
func startTmux(args ...string) {
	go func() {
		cmd := exec.Command("tmux", args...)
		if cmd.Start() == nil {
			cmd.Wait()
		}
	}()
}

// ringBell writes the bell to the controlling terminal, if this process
// has one (never to stderr, which the agent reads).
func ringBell() {
	f, err := os.OpenFile("/dev/tty", os.O_WRONLY|syscall.O_NOCTTY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return
	}
	f.Write([]byte("\a"))
	f.Close()
}
