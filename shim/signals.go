package shim

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// stopSignals are the signals that stop a command cleanly: what runs in
// the sandbox is ended and the audit log says so.
var stopSignals = []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP}

// signals cancels a context on SIGTERM, SIGINT or SIGHUP from the moment it
// is armed. Arming is not free (os/signal starts threads of its own), and
// chaperone starts for every command, so the shim arms it only when there is
// something to stop: a hold that waits for a person, or a command about to
// run (armed while the sandbox is being set up). Before that a signal ends
// chaperone as it ends any program: nothing has started.
type signals struct {
	cancel context.CancelFunc
	once   sync.Once
}

// withSignals returns a context that signals, once armed, cancel.
func withSignals(parent context.Context) (context.Context, *signals) {
	ctx, cancel := context.WithCancel(parent)
	return ctx, &signals{cancel: cancel}
}

// arm starts listening; later calls do nothing. A nil *signals does nothing.
func (s *signals) arm() {
	if s == nil {
		return
	}
	s.once.Do(func() {
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, stopSignals...)
		go func() {
			<-ch
			s.cancel()
		}()
	})
}
