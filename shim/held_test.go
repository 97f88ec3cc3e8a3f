package shim

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/models"
)

func TestHeldNotice(t *testing.T) {
	req := models.HoldRequest{Command: "cat ~/.ssh/id_rsa #(touch /tmp/pwned)", Deadline: time.Now().Add(90 * time.Second),
		Rating: models.Rating{Risk: models.High, Findings: []models.Finding{{Rule: "secrets.read", Risk: models.High, Reason: "reads a private key"}}}}
	for _, tc := range []struct {
		name  string
		env   map[string]string
		panel bool
		line  string
		tmux  []string
	}{
		{"outside tmux", nil, true, "chaperone: held: reads a private key (secrets.read) — approve in chaperone tui (denied in 1m30s)", nil},
		{"inside tmux", map[string]string{"TMUX": "/tmp/tmux-0/default,1,0", "TMUX_PANE": "%3"}, true, "approve in chaperone tui",
			[]string{"display-message", "-d", "5000", "-t", "%3", "chaperone: a command is held: approve or deny it in chaperone tui"}},
		{"no panel", map[string]string{"TMUX": "/tmp/tmux-0/default,1,0"}, false, "no approval panel is running: start `chaperone tui`",
			[]string{"display-message", "-d", "5000", "chaperone: a command is held and no approval panel runs: start chaperone tui"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			var tmux []string
			bells := 0
			n := heldNotice{stderr: &stderr, getenv: func(k string) string { return tc.env[k] },
				tmux: func(args ...string) { tmux = args }, bell: func() { bells++ }}
			n.onHold(req, tc.panel)
			if s := stderr.String(); !strings.HasPrefix(s, "chaperone: held: ") || !strings.Contains(s, tc.line) || strings.Count(s, "\n") != 1 {
				t.Errorf("stderr %q, want one line with %q", s, tc.line)
			}
			if !slices.Equal(tmux, tc.tmux) {
				t.Errorf("tmux %q, want %q", tmux, tc.tmux)
			}
			if bells != 1 {
				t.Errorf("%d bells", bells)
			}
		})
	}
}
