package broker

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/models"
)

// sockPath returns a socket path in a fresh private directory.
func sockPath(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "chaperone", SocketName)
}

// panel is a test panel: it records what arrives and answers holds with
// decide (nil: never answers).
type panel struct {
	srv   *Server
	holds chan *Hold
	gone  chan string
	ran   chan models.Event
}

func startPanel(t testing.TB, path string) *panel {
	t.Helper()
	srv, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	p := &panel{srv: srv, holds: make(chan *Hold, 10), gone: make(chan string, 10), ran: make(chan models.Event, 10)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ctx, Handlers{
			OnHold: func(h *Hold) { p.holds <- h },
			OnGone: func(id string) { p.gone <- id },
			OnRan:  func(ev models.Event) { p.ran <- ev },
		})
	}()
	t.Cleanup(func() { cancel(); <-done; srv.Close() })
	return p
}

func recv[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("timed out waiting")
		panic("unreachable")
	}
}

type answer struct {
	v   models.Verdict
	err error
}

func ask(c *Client, ctx context.Context, req models.HoldRequest) <-chan answer {
	ch := make(chan answer, 1)
	go func() {
		v, err := c.Ask(ctx, req)
		ch <- answer{v, err}
	}()
	return ch
}

func TestListenPrivate(t *testing.T) {
	path := sockPath(t)
	startPanel(t, path)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode = %v, want socket 0600", fi.Mode())
	}
	di, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm() != 0o700 {
		t.Errorf("dir mode = %v, want 0700", di.Mode().Perm())
	}
	if _, err := Listen(path); !errors.Is(err, ErrPanelRunning) {
		t.Errorf("second Listen: err = %v, want ErrPanelRunning", err)
	}
}

func TestListenRefusesOpenDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "chaperone")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	if _, err := Listen(filepath.Join(dir, SocketName)); !errors.Is(err, ErrNotPrivate) {
		t.Fatalf("Listen in a 0755 dir: err = %v, want ErrNotPrivate", err)
	}
	c := &Client{Path: filepath.Join(dir, SocketName), Timeout: 50 * time.Millisecond}
	v, err := c.Ask(context.Background(), models.HoldRequest{Command: "x"})
	if err != nil || v.Approved || v.By != models.ByNoPanel {
		t.Fatalf("Ask through a 0755 dir = %+v, %v; want denied by no-panel", v, err)
	}
}

func TestAskAnswered(t *testing.T) {
	t.Setenv(HoldTimeoutEnv, "")
	for _, tc := range []struct {
		name string
		give models.Verdict
	}{
		{"approve", models.Verdict{Approved: true, By: models.ByPerson}},
		{"deny", models.Verdict{Approved: false, By: models.ByPerson}},
		{"deny with note", models.Verdict{Approved: false, By: models.ByPerson, Note: "use the test key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := sockPath(t)
			p := startPanel(t, path)
			c := &Client{Path: path, Timeout: 5 * time.Second}
			got := ask(c, context.Background(), models.HoldRequest{ID: "r1", Command: "cat ~/.ssh/id_rsa", Project: "/p"})
			h := recv(t, p.holds)
			if h.Req.Command != "cat ~/.ssh/id_rsa" || h.Req.Project != "/p" || h.PeerPID != os.Getpid() {
				t.Errorf("hold = %+v (peer %d)", h.Req, h.PeerPID)
			}
			if h.Req.Deadline.IsZero() {
				t.Error("hold has no deadline")
			}
			if err := h.Answer(tc.give); err != nil {
				t.Fatal(err)
			}
			if err := h.Answer(tc.give); !errors.Is(err, ErrAnswered) {
				t.Errorf("second Answer: %v, want ErrAnswered", err)
			}
			a := recv(t, got)
			want := tc.give
			want.ID = "r1"
			if a.err != nil || a.v != want {
				t.Errorf("Ask = %+v, %v; want %+v", a.v, a.err, want)
			}
		})
	}
}

func TestAskNoPanel(t *testing.T) {
	t.Setenv(HoldTimeoutEnv, "")
	c := &Client{Path: sockPath(t), Timeout: 100 * time.Millisecond}
	start := time.Now()
	v, err := c.Ask(context.Background(), models.HoldRequest{Command: "x"})
	if err != nil || v.Approved || v.By != models.ByNoPanel || !strings.Contains(v.Reason, "chaperone tui") {
		t.Fatalf("Ask = %+v, %v; want a no-panel denial naming chaperone tui", v, err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 2*time.Second {
		t.Errorf("waited %v, want about the 100ms timeout", d)
	}
}

func TestAskTimeoutWithdraws(t *testing.T) {
	t.Setenv(HoldTimeoutEnv, "150ms")
	path := sockPath(t)
	p := startPanel(t, path)
	c := &Client{Path: path, Timeout: time.Hour} // the env wins
	got := ask(c, context.Background(), models.HoldRequest{Command: "x"})
	h := recv(t, p.holds)
	a := recv(t, got)
	if a.err != nil || a.v.Approved || a.v.By != models.ByTimeout {
		t.Fatalf("Ask = %+v, %v; want a timeout denial", a.v, a.err)
	}
	if id := recv(t, p.gone); id != h.ID {
		t.Errorf("gone %q, want %q", id, h.ID)
	}
	if err := h.Answer(models.Verdict{Approved: true}); err == nil {
		t.Error("answering a withdrawn hold succeeded")
	}
}

func TestPanelStartedLater(t *testing.T) {
	t.Setenv(HoldTimeoutEnv, "")
	path := sockPath(t)
	c := &Client{Path: path, Timeout: 5 * time.Second}
	got := ask(c, context.Background(), models.HoldRequest{Command: "late"})
	time.Sleep(150 * time.Millisecond)
	p := startPanel(t, path)
	h := recv(t, p.holds)
	if left := time.Until(h.Req.Deadline); left < 4*time.Second {
		t.Errorf("a panel started in the grace has %v left, want the hold timeout's", left)
	}
	h.Answer(models.Verdict{Approved: true, By: models.ByPerson})
	if a := recv(t, got); !a.v.Approved {
		t.Fatalf("Ask = %+v, %v; want approved", a.v, a.err)
	}
}

func TestPanelRestarted(t *testing.T) {
	t.Setenv(HoldTimeoutEnv, "")
	path := sockPath(t)
	srv, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	first := make(chan *Hold, 1)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { srv.Serve(ctx, Handlers{OnHold: func(h *Hold) { first <- h }}); close(served) }()
	c := &Client{Path: path, Timeout: 5 * time.Second}
	got := ask(c, context.Background(), models.HoldRequest{Command: "again"})
	recv(t, first)
	cancel()
	<-served
	srv.Close()
	p := startPanel(t, path)
	h := recv(t, p.holds)
	if h.Req.Command != "again" {
		t.Fatalf("second panel got %q", h.Req.Command)
	}
	h.Answer(models.Verdict{By: models.ByPerson})
	if a := recv(t, got); a.v.Approved || a.v.By != models.ByPerson {
		t.Fatalf("Ask = %+v", a.v)
	}
}

func TestKilledShimWithdraws(t *testing.T) {
	t.Setenv(HoldTimeoutEnv, "")
	path := sockPath(t)
	p := startPanel(t, path)
	ctx, cancel := context.WithCancel(context.Background())
	c := &Client{Path: path, Timeout: 5 * time.Second}
	got := ask(c, ctx, models.HoldRequest{Command: "x"})
	h := recv(t, p.holds)
	cancel()
	if a := recv(t, got); a.err == nil || a.v.Approved {
		t.Errorf("cancelled Ask = %+v, %v; want denied with an error", a.v, a.err)
	}
	if id := recv(t, p.gone); id != h.ID {
		t.Errorf("gone %q, want %q", id, h.ID)
	}
}

func TestSeveralShims(t *testing.T) {
	t.Setenv(HoldTimeoutEnv, "")
	path := sockPath(t)
	p := startPanel(t, path)
	c := &Client{Path: path, Timeout: 5 * time.Second}
	var wg sync.WaitGroup
	results := make([]answer, 5)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := c.Ask(context.Background(), models.HoldRequest{Command: "cmd", Session: string(rune('a' + i))})
			results[i] = answer{v, err}
		}()
	}
	ids := map[string]bool{}
	for range results {
		h := recv(t, p.holds)
		if ids[h.ID] {
			t.Errorf("duplicate hold id %s", h.ID)
		}
		ids[h.ID] = true
		h.Answer(models.Verdict{Approved: h.Req.Session < "c", By: models.ByPerson})
	}
	wg.Wait()
	for i, a := range results {
		if want := i < 2; a.err != nil || a.v.Approved != want {
			t.Errorf("shim %d: %+v, %v; want approved=%v", i, a.v, a.err, want)
		}
	}
}

// TestNoClientApproval: a client that sends a verdict (trying to approve
// someone's hold, or its own) is hung up on and nothing is approved.
func TestNoClientApproval(t *testing.T) {
	path := sockPath(t)
	p := startPanel(t, path)
	c := &Client{Path: path, Timeout: 5 * time.Second}
	got := ask(c, context.Background(), models.HoldRequest{ID: "victim", Command: "x"})
	h := recv(t, p.holds)

	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, m := range []Message{
		{Type: TypeVerdict, Verdict: &models.Verdict{ID: "victim", Approved: true, By: models.ByPerson}},
		{Type: TypeHold, Hold: &models.HoldRequest{Command: "mine"}},
	} {
		b, _ := json.Marshal(m)
		conn.Write(append(b, '\n'))
	}
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 100)
	if n, err := conn.Read(buf); err == nil {
		t.Errorf("server answered a forged verdict: %q", buf[:n])
	}
	select {
	case a := <-got:
		t.Fatalf("the victim's Ask returned %+v after a forged verdict", a.v)
	case h2 := <-p.holds:
		t.Fatalf("a hold after a forged verdict reached the panel: %+v", h2.Req)
	case <-time.After(100 * time.Millisecond):
	}
	h.Answer(models.Verdict{By: models.ByPerson})
	if a := recv(t, got); a.v.Approved {
		t.Fatal("approved")
	}
}

func TestNotify(t *testing.T) {
	path := sockPath(t)
	c := &Client{Path: path}
	start := time.Now()
	if err := c.Notify(models.Event{Command: "ls"}); !errors.Is(err, ErrNoPanel) {
		t.Errorf("Notify without a panel: %v, want ErrNoPanel", err)
	}
	if d := time.Since(start); d > 10*time.Millisecond {
		t.Errorf("Notify without a panel took %v", d)
	}
	p := startPanel(t, path)
	if err := c.Notify(models.Event{Command: "ls -la", Rating: models.Rating{Risk: models.Low}}); err != nil {
		t.Fatal(err)
	}
	if ev := recv(t, p.ran); ev.Command != "ls -la" || ev.Rating.Risk != models.Low {
		t.Errorf("ran = %+v", ev)
	}
}

func TestHoldTimeout(t *testing.T) {
	for _, tc := range []struct {
		env  string
		conf time.Duration
		want time.Duration
	}{
		{"", 0, DefaultHoldTimeout},
		{"", 30 * time.Second, 30 * time.Second},
		{"10s", 30 * time.Second, 10 * time.Second},
		{"nonsense", 30 * time.Second, 30 * time.Second},
		{"-5s", 0, DefaultHoldTimeout},
	} {
		t.Setenv(HoldTimeoutEnv, tc.env)
		if got := HoldTimeout(tc.conf); got != tc.want {
			t.Errorf("HoldTimeout(%v) with env %q = %v, want %v", tc.conf, tc.env, got, tc.want)
		}
	}
}

func TestNoPanelGrace(t *testing.T) {
	for _, tc := range []struct {
		env  string
		conf time.Duration
		want time.Duration
	}{
		{"", 0, DefaultNoPanelGrace},
		{"", 10 * time.Second, 10 * time.Second},
		{"500ms", 10 * time.Second, 500 * time.Millisecond},
		{"nonsense", 10 * time.Second, 10 * time.Second},
		{"0s", 0, DefaultNoPanelGrace},
	} {
		t.Setenv(NoPanelGraceEnv, tc.env)
		if got := NoPanelGrace(tc.conf); got != tc.want {
			t.Errorf("NoPanelGrace(%v) with env %q = %v, want %v", tc.conf, tc.env, got, tc.want)
		}
	}
}

func TestDenyMessage(t *testing.T) {
	r := models.Rating{Risk: models.High, Findings: []models.Finding{
		{Rule: "net.fetch", Risk: models.Medium, Reason: "fetches from the network"},
		{Rule: "secrets.read", Risk: models.High, Reason: "reads a private key"},
	}}
	for _, tc := range []struct {
		v    models.Verdict
		want string
	}{
		{models.Verdict{By: models.ByPerson}, "chaperone: denied: reads a private key (secrets.read)"},
		{models.Verdict{By: models.ByPerson, Note: "use testdata/key"}, "chaperone: denied: reads a private key (secrets.read): use testdata/key"},
		{models.Verdict{By: models.ByNoPanel, Reason: "start `chaperone tui`"}, "chaperone: denied: reads a private key (secrets.read): start `chaperone tui`"},
	} {
		if got := DenyMessage(tc.v, r); got != tc.want {
			t.Errorf("DenyMessage(%+v) =\n%q, want\n%q", tc.v, got, tc.want)
		}
	}
	if got := DenyMessage(models.Verdict{}, models.Rating{}); got != "chaperone: denied: the command is rated high risk" {
		t.Errorf("empty rating: %q", got)
	}
}

// BenchmarkRoundTrip measures a shim asking until the panel's handler
// has the request, and the panel answering until Ask returns.
func BenchmarkRoundTrip(b *testing.B) {
	path := sockPath(b)
	p := startPanel(b, path)
	c := &Client{Path: path, Timeout: 5 * time.Second}
	var toPanel, toShim time.Duration
	for b.Loop() {
		start := time.Now()
		got := ask(c, context.Background(), models.HoldRequest{Command: "x"})
		h := recv(b, p.holds)
		toPanel += time.Since(start)
		start = time.Now()
		h.Answer(models.Verdict{Approved: true})
		recv(b, got)
		toShim += time.Since(start)
	}
	b.ReportMetric(float64(toPanel.Microseconds())/float64(b.N), "µs-ask→panel")
	b.ReportMetric(float64(toShim.Microseconds())/float64(b.N), "µs-answer→shim")
}

// BenchmarkNotifyNoPanel is what reporting a low command costs a shim
// when no panel runs.
func BenchmarkNotifyNoPanel(b *testing.B) {
	c := &Client{Path: sockPath(b)}
	for b.Loop() {
		c.Notify(models.Event{Command: "ls"})
	}
}

// BenchmarkNotifyPanel is the same with a panel listening.
func BenchmarkNotifyPanel(b *testing.B) {
	path := sockPath(b)
	p := startPanel(b, path)
	go func() {
		for range p.ran {
		}
	}()
	c := &Client{Path: path}
	for b.Loop() {
		c.Notify(models.Event{Command: "ls"})
	}
}

// TestFallbackPath: a shim whose environment lost XDG_RUNTIME_DIR finds a
// panel there, and one with it finds a panel in the temp-dir fallback.
func TestFallbackPath(t *testing.T) {
	tmp, err := os.MkdirTemp("", "chpfb")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	t.Setenv("TMPDIR", tmp)
	t.Setenv("XDG_RUNTIME_DIR", "")
	t.Setenv(HoldTimeoutEnv, "")
	if want := filepath.Join(tmp, "chaperone-"+strconv.Itoa(os.Getuid()), SocketName); SocketPath() != want {
		t.Fatalf("SocketPath() = %q, want %q", SocketPath(), want)
	}
	p := startPanel(t, "") // in the fallback
	t.Setenv("XDG_RUNTIME_DIR", filepath.Join(tmp, "xdg"))
	if !Running("") {
		t.Fatal("Running does not see the panel in the fallback")
	}
	got := ask(&Client{Timeout: 5 * time.Second}, context.Background(), models.HoldRequest{Command: "x"})
	recv(t, p.holds).Answer(models.Verdict{Approved: true, By: models.ByPerson})
	if a := recv(t, got); !a.v.Approved {
		t.Fatalf("Ask = %+v", a.v)
	}
}
