package shim

import (
	"context"
	"strings"
	"testing"

	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/sandbox"
)

// killingBackend is a backend that reports having killed what the command
// left.
type killingBackend struct{ killed []string }

func (*killingBackend) Name() string { return "fake" }
func (b *killingBackend) Run(_ context.Context, j *sandbox.Job) (int, error) {
	if j.Killed != nil {
		*j.Killed = append(*j.Killed, b.killed...)
	}
	return 0, nil
}

// TestKilledRecorded checks that what the backend had to kill when the
// command ended reaches the audit record, and that nothing is recorded
// when nothing was killed.
func TestKilledRecorded(t *testing.T) {
	for _, killed := range [][]string{{"42 (sleep) sleep 300", "stray 7 (sh) sh -c x"}, nil} {
		t.Run(strings.Join(killed, ","), func(t *testing.T) {
			s, _, rec, _ := newShim(t, models.Rating{Risk: models.Low}, nil)
			s.Backend = &killingBackend{killed: killed}
			if err := s.Run(context.Background(), "bash", &Invocation{Mode: ModeCommand, Script: "sleep 300 &"}); err != nil {
				t.Fatal(err)
			}
			if len(rec.evs) != 1 || strings.Join(rec.evs[0].Killed, "|") != strings.Join(killed, "|") {
				t.Errorf("recorded %+v; want Killed %q", rec.evs, killed)
			}
		})
	}
}
