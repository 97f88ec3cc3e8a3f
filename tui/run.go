package tui

import (
	"context"
	"errors"
	"fmt"
	"sync"

	tea "charm.land/bubbletea/v2"

	"github.com/chaperone-dev/chaperone/audit"
	"github.com/chaperone-dev/chaperone/broker"
	"github.com/chaperone-dev/chaperone/models"
)

// panelFPS caps how often the panel's frame is drawn.
const panelFPS = 20

// feedBacklog is how many past commands the feed starts with.
const feedBacklog = 20

// Run shows the panel on the process's terminal and serves srv until the
// person quits or ctx ends. Requests still held when it returns are not
// answered: their shims wait for the next panel until their timeout.
func Run(ctx context.Context, srv *broker.Server, opts Options, popts ...tea.ProgramOption) error {
	if opts.Socket == "" {
		opts.Socket = srv.Path()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// 20 frames a second at most: a frame is drawn within 50ms of a key,
	// and an idle panel wakes a third as often as at bubbletea's 60.
	p := tea.NewProgram(New(opts), append([]tea.ProgramOption{tea.WithContext(ctx), tea.WithFPS(panelFPS)}, popts...)...)
	var wg sync.WaitGroup
	if opts.AuditDir != "" {
		events, err := audit.Follow(ctx, opts.AuditDir, feedBacklog)
		if err != nil {
			return fmt.Errorf("follow the audit log: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ev := range events {
				p.Send(RanMsg{Event: ev})
			}
		}()
	}
	wg.Add(1)
	var serveErr error
	go func() {
		defer wg.Done()
		serveErr = srv.Serve(ctx, broker.Handlers{
			OnHold: func(h *broker.Hold) {
				p.Send(HeldMsg{ID: h.ID, Req: h.Req, Claim: h.Claim, PeerPID: h.PeerPID, Received: h.Received, Answer: h.Answer})
			},
			OnGone: func(id string) { p.Send(GoneMsg{ID: id}) },
			OnRan:  func(ev models.Event) { p.Send(RanMsg{Event: ev}) },
		})
		if serveErr != nil {
			p.Quit()
		}
	}()
	_, err := p.Run()
	cancel()
	wg.Wait()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("panel: %w", err)
	}
	if serveErr != nil {
		return fmt.Errorf("broker: %w", serveErr)
	}
	return nil
}
