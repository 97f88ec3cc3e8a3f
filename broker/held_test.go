package broker

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/models"
)

var heldRating = models.Rating{Risk: models.High, Findings: []models.Finding{{Rule: "secrets.read", Risk: models.High, Reason: "reads a private key"}}}

// TestHeldToldBeforeTheWait: OnHold runs before the panel even has the
// request, with the hold timeout as the deadline, so the person is told
// at once rather than after the wait.
func TestHeldToldBeforeTheWait(t *testing.T) {
	t.Setenv(HoldTimeoutEnv, "")
	path := sockPath(t)
	p := startPanel(t, path)
	var told atomic.Bool
	var line string
	c := &Client{Path: path, Timeout: 90 * time.Second, OnHold: func(req models.HoldRequest, panel bool) {
		line = HeldMessage(req, panel)
		told.Store(true)
	}}
	got := ask(c, context.Background(), models.HoldRequest{Command: "cat ~/.ssh/id_rsa", Rating: heldRating})
	h := recv(t, p.holds)
	if !told.Load() {
		t.Fatal("the panel had the request before the person was told")
	}
	h.Answer(models.Verdict{By: models.ByPerson})
	recv(t, got)
	if want := "chaperone: held: reads a private key (secrets.read) — approve in chaperone tui (denied in 1m30s)"; line != want {
		t.Errorf("line %q, want %q", line, want)
	}
}

// TestAskNoPanelGrace: with no panel, a held command is denied after the
// grace, not the hold timeout, and the person was told so at once.
func TestAskNoPanelGrace(t *testing.T) {
	t.Setenv(HoldTimeoutEnv, "")
	t.Setenv(NoPanelGraceEnv, "")
	var line string
	var toldAfter time.Duration
	start := time.Now()
	c := &Client{Path: sockPath(t), Timeout: time.Hour, Grace: 200 * time.Millisecond, OnHold: func(req models.HoldRequest, panel bool) {
		toldAfter = time.Since(start)
		line = HeldMessage(req, panel)
	}}
	v, err := c.Ask(context.Background(), models.HoldRequest{Command: "x", Rating: heldRating})
	d := time.Since(start)
	if err != nil || v.Approved || v.By != models.ByNoPanel || !strings.Contains(v.Reason, "start `chaperone tui`") {
		t.Fatalf("Ask = %+v, %v; want a no-panel denial saying what to start", v, err)
	}
	if d < 200*time.Millisecond || d > 5*time.Second {
		t.Errorf("denied after %v, want about the 200ms grace", d)
	}
	if toldAfter > 200*time.Millisecond || !strings.HasPrefix(line, "chaperone: held: reads a private key (secrets.read) — no approval panel is running: start `chaperone tui`") ||
		!strings.HasSuffix(line, "(denied in 200ms)") {
		t.Errorf("told after %v: %q", toldAfter, line)
	}
}

// TestAskNoPanelGraceFromEnv: $CHAPERONE_NO_PANEL_GRACE overrides the
// configured grace, and the person is told the grace it sets.
func TestAskNoPanelGraceFromEnv(t *testing.T) {
	t.Setenv(HoldTimeoutEnv, "")
	t.Setenv(NoPanelGraceEnv, "150ms")
	var line string
	start := time.Now()
	c := &Client{Path: sockPath(t), Timeout: time.Hour, Grace: time.Hour, OnHold: func(req models.HoldRequest, panel bool) {
		line = HeldMessage(req, panel)
	}}
	v, err := c.Ask(context.Background(), models.HoldRequest{Command: "x", Rating: heldRating})
	if d := time.Since(start); err != nil || v.By != models.ByNoPanel || d < 150*time.Millisecond || d > 5*time.Second {
		t.Fatalf("Ask = %+v, %v after %v; want a no-panel denial after about 150ms", v, err, d)
	}
	if !strings.HasSuffix(line, "(denied in 150ms)") || !strings.Contains(v.Reason, "none started within 150ms") {
		t.Errorf("told %q, reason %q", line, v.Reason)
	}
}

// TestNetworkHoldNotToldNoGrace: a held connection is still refused at
// once with no panel, and the command's held line is not printed for it.
func TestNetworkHoldNotToldNoGrace(t *testing.T) {
	t.Setenv(HoldTimeoutEnv, "")
	told := false
	c := &Client{Path: sockPath(t), Timeout: time.Hour, Grace: time.Hour, OnHold: func(models.HoldRequest, bool) { told = true }}
	start := time.Now()
	v, _ := c.Ask(context.Background(), models.HoldRequest{Command: "x", Network: &models.NetworkHold{Host: "h", Port: 443}})
	if v.Approved || v.By != models.ByNoPanel || time.Since(start) > 2*time.Second || told {
		t.Errorf("Ask = %+v after %v, told %v", v, time.Since(start), told)
	}
}

// BenchmarkHeldLine measures how long after Ask is called the person is
// told, with no panel running (the case the issue is about).
func BenchmarkHeldLine(b *testing.B) {
	b.Setenv(HoldTimeoutEnv, "")
	path := sockPath(b)
	var total time.Duration
	for b.Loop() {
		ctx, cancel := context.WithCancel(context.Background())
		start := time.Now()
		c := &Client{Path: path, Timeout: time.Hour, OnHold: func(req models.HoldRequest, panel bool) {
			total += time.Since(start)
			cancel()
		}}
		c.Ask(ctx, models.HoldRequest{Command: "x", Rating: heldRating})
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N), "µs-to-held-line")
}
