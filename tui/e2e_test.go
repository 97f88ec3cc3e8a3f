package tui

// End-to-end tests of the panel under a real tmux: the panel runs in a
// tmux pane (this test binary re-executed in panel mode, running exactly
// what `chaperone tui` runs), shims ask through the broker client, and the
// test reads the pane with capture-pane and types with send-keys.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/audit"
	"github.com/chaperone-dev/chaperone/broker"
	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/engine"
	"github.com/chaperone-dev/chaperone/internal/itest"
	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/shape"
)

const (
	envPanel = "CHAPERONE_E2E_PANEL" // run the panel instead of the tests
	envAsk   = "CHAPERONE_E2E_ASK"   // ask the broker this JSON request, print the verdict

	panelPane = "e2e:0.0" // the tmux pane the panel runs in
)

func TestMain(m *testing.M) {
	switch {
	case os.Getenv(envPanel) == "1":
		os.Exit(panelMain())
	case os.Getenv(envAsk) != "":
		os.Exit(askMain(os.Getenv(envAsk)))
	}
	code := m.Run()
	itest.RemovePrograms()
	os.Exit(code)
}

// panelMain is runTUI without flag parsing.
func panelMain() int {
	srv, err := broker.Listen("")
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaperone:", err)
		return 1
	}
	defer srv.Close()
	if err := Run(context.Background(), srv, Options{ConfigPath: config.UserPath(), Socket: srv.Path(), AuditDir: config.AuditConfig{}.AuditDir()}); err != nil {
		fmt.Fprintln(os.Stderr, "chaperone:", err)
		return 1
	}
	return 0
}

// askMain is a shim that only asks.
func askMain(js string) int {
	var req models.HoldRequest
	if err := json.Unmarshal([]byte(js), &req); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	v, err := (&broker.Client{}).Ask(context.Background(), req)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	json.NewEncoder(os.Stdout).Encode(v)
	return 0
}

// tmuxT is a private tmux server with the panel in its one pane.
type tmuxT struct {
	t    testing.TB
	sock string
	env  []string
	dir  string
}

func hasTmux() bool { _, err := exec.LookPath("tmux"); return err == nil }

// newTmux starts a tmux server whose environment points the broker and
// the user config into a temp dir. The panel is not started yet.
func newTmux(t testing.TB) *tmuxT {
	t.Helper()
	itest.Require(t, "tmux", hasTmux())
	dir, err := os.MkdirTemp("", "chp") // short: unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	x := &tmuxT{t: t, sock: filepath.Join(dir, "tmux.sock"), dir: dir}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TMUX") && !strings.HasPrefix(kv, "XDG_") && !strings.HasPrefix(kv, "CHAPERONE_") {
			x.env = append(x.env, kv)
		}
	}
	x.env = append(x.env, "XDG_RUNTIME_DIR="+filepath.Join(dir, "run"), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"XDG_STATE_HOME="+filepath.Join(dir, "state"), "TERM=xterm-256color")
	os.MkdirAll(filepath.Join(dir, "run"), 0o700)
	t.Setenv("XDG_RUNTIME_DIR", filepath.Join(dir, "run"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	t.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	t.Setenv(broker.HoldTimeoutEnv, "")
	x.run("new-session", "-d", "-x", "120", "-y", "50", "-s", "e2e", "sh")
	t.Cleanup(func() { x.tmux("kill-server") })
	return x
}

func (x *tmuxT) tmux(args ...string) (string, error) {
	cmd := exec.Command("tmux", append([]string{"-S", x.sock, "-f", "/dev/null"}, args...)...)
	cmd.Env = x.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (x *tmuxT) run(args ...string) string {
	x.t.Helper()
	out, err := x.tmux(args...)
	if err != nil {
		x.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// socket is where the panel of this tmux listens (XDG_RUNTIME_DIR is
// $dir/run).
func (x *tmuxT) socket() string { return filepath.Join(x.dir, "run", "chaperone", broker.SocketName) }

// client is a shim's broker client bound to this test's socket.
func (x *tmuxT) client(timeout time.Duration) *broker.Client {
	return &broker.Client{Path: x.socket(), Timeout: timeout}
}

// waitListening waits until a panel listens on this test's socket, and
// fails with what and the pane when none does within 10s.
func (x *tmuxT) waitListening(what string) {
	x.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !broker.Running(x.socket()) {
		if time.Now().After(deadline) {
			x.t.Fatalf("%s:\n%s", what, x.screen())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startPanel runs the panel in the pane and waits until it listens.
func (x *tmuxT) startPanel() {
	x.t.Helper()
	exe, err := os.Executable()
	if err != nil {
		x.t.Fatal(err)
	}
	x.run("respawn-pane", "-k", "-t", panelPane, "-e", envPanel+"=1", exe)
	x.waitListening("panel did not start")
	x.waitFor("chaperone · ", 5*time.Second)
}

func (x *tmuxT) screen() string {
	out, _ := x.tmux("capture-pane", "-p", "-t", panelPane)
	return out
}

// waitFor polls the pane until it shows want; it returns when it did.
func (x *tmuxT) waitFor(want string, timeout time.Duration) time.Time {
	x.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := x.screen()
		now := time.Now()
		if strings.Contains(s, want) {
			return now
		}
		if now.After(deadline) {
			x.t.Fatalf("pane never showed %q:\n%s", want, s)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitGone polls the pane until it no longer shows text.
func (x *tmuxT) waitGone(text string, timeout time.Duration) {
	x.t.Helper()
	deadline := time.Now().Add(timeout)
	for strings.Contains(x.screen(), text) {
		if time.Now().After(deadline) {
			x.t.Fatalf("pane still shows %q:\n%s", text, x.screen())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (x *tmuxT) keys(keys ...string) time.Time {
	x.t.Helper()
	t0 := time.Now()
	x.run(append([]string{"send-keys", "-t", panelPane}, keys...)...)
	return t0
}

// settle waits past the panel's guard against keys meant for a request
// that was replaced.
func settle() { time.Sleep(DefaultGuard + 50*time.Millisecond) }

type asked struct {
	v   models.Verdict
	err error
	at  time.Time
}

func goAsk(c *broker.Client, req models.HoldRequest) <-chan asked {
	ch := make(chan asked, 1)
	go func() {
		v, err := c.Ask(context.Background(), req)
		ch <- asked{v, err, time.Now()}
	}()
	return ch
}

func wait(t *testing.T, ch <-chan asked) asked {
	t.Helper()
	select {
	case a := <-ch:
		return a
	case <-time.After(10 * time.Second):
		t.Fatal("Ask never returned")
		panic("unreachable")
	}
}

func request(cmd string) models.HoldRequest {
	r := keyRead
	r.ID = ""
	r.Command = cmd
	r.Rating.Findings = []models.Finding{{Rule: "secrets.read", Risk: models.High, Reason: "reads a private key outside the project", Span: cmd}}
	r.Facts = &models.Facts{Commands: []models.Command{{Argv: []models.Word{{Lit: "cat"}, {Lit: "/home/u/.ssh/" + filepath.Base(cmd)}}, PipeFrom: -1}}}
	return r
}

// latencies collects the figures the issue asks for.
var latencies = struct{ show, key []time.Duration }{}

func TestE2EApproveDenyNote(t *testing.T) {
	x := newTmux(t)
	x.startPanel()
	c := x.client(20 * time.Second)
	for _, tc := range []struct {
		name string
		keys func() time.Time
		want models.Verdict
	}{
		{"y approves", func() time.Time { return x.keys("y") }, models.Verdict{Approved: true, By: models.ByPerson}},
		{"n denies", func() time.Time { return x.keys("n") }, models.Verdict{Approved: false, By: models.ByPerson}},
		{"N delivers the note", func() time.Time {
			x.keys("N")
			x.keys("-l", "use testdata/key.pem")
			x.waitFor("key.pem", 2*time.Second)
			return x.keys("Enter")
		}, models.Verdict{Approved: false, By: models.ByPerson, Note: "use testdata/key.pem"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := "cat ~/.ssh/id_" + strings.ReplaceAll(tc.name[:1], " ", "") + "xxxxx"
			t0 := time.Now()
			got := goAsk(c, request(cmd))
			shown := x.waitFor(cmd, 5*time.Second)
			latencies.show = append(latencies.show, shown.Sub(t0))
			s := x.screen()
			// The reason is the panel's own (its rules'), not the one sent.
			for _, want := range []string{"secrets.read: reads credentials or secrets outside the project", "HIGH", "agent claude-code"} {
				if !strings.Contains(s, want) {
					t.Errorf("pane lacks %q:\n%s", want, s)
				}
			}
			if title := strings.TrimSpace(x.run("display", "-p", "-t", panelPane, "#{pane_title}")); title != "chaperone: 1 held" {
				t.Errorf("pane title %q", title)
			}
			settle()
			k := tc.keys()
			a := wait(t, got)
			latencies.key = append(latencies.key, a.at.Sub(k))
			tc.want.ID = a.v.ID
			if a.err != nil || a.v != tc.want {
				t.Fatalf("verdict %+v, %v; want %+v", a.v, a.err, tc.want)
			}
			x.waitFor("nothing held", 2*time.Second)
			if tc.want.Approved {
				return
			}
			if msg := broker.DenyMessage(a.v, request(cmd).Rating); tc.want.Note != "" && !strings.HasSuffix(msg, ": "+tc.want.Note) {
				t.Errorf("deny message %q lacks the note", msg)
			}
		})
	}
}

func TestE2ERemember(t *testing.T) {
	x := newTmux(t)
	x.startPanel()
	c := x.client(20 * time.Second)
	req := request("cat ~/.ssh/id_rsa")
	got := goAsk(c, req)
	x.waitFor("cat ~/.ssh/id_rsa", 5*time.Second)
	settle()
	x.keys("A")
	a := wait(t, got)
	if !a.v.Approved || !a.v.Remembered {
		t.Fatalf("verdict %+v", a.v)
	}
	x.waitFor("remembered exactly `cat ~/.ssh/id_rsa` in /home/u/proj", 2*time.Second)
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	seen := func(r models.HoldRequest) shape.Seen {
		return shape.Seen{Project: r.Project, Cwd: r.Cwd, Command: r.Command, Facts: r.Facts, Rating: r.Rating}
	}
	if m, ok := shape.Match(cfg.Remember, seen(req)); !ok || m.Key() != a.v.Memory {
		t.Fatalf("the command approved is not covered (%+v); remembered %+v", m, cfg.Remember)
	}
	next := request("cat ~/.ssh/id_ecdsa") // another key: not what the person saw
	if _, ok := shape.Match(cfg.Remember, seen(next)); ok {
		t.Fatalf("another key is covered by A on cat ~/.ssh/id_rsa; remembered %+v", cfg.Remember)
	}
	other := req
	other.Project = "/elsewhere"
	if _, ok := shape.Match(cfg.Remember, seen(other)); ok {
		t.Fatal("remembered for another project too")
	}
}

// TestE2EForgedHold is the finding's attack on the real panel: a client
// whose hold claims `git status`, low, with the facts of `git status`,
// while its command reads a private key. The panel shows the command and
// its own high rating; `A` remembers the shape of the command that runs,
// so afterwards the shim lets another key read through and `git status`
// is not what was approved.
func TestE2EForgedHold(t *testing.T) {
	x := newTmux(t)
	x.startPanel()
	req := request("cat ~/.ssh/id_rsa")
	req.Inner = "git status"
	req.Rating = models.Rating{Risk: models.Low, Source: models.SourceRules}
	req.Facts = &models.Facts{Commands: []models.Command{{Argv: []models.Word{{Lit: "git"}, {Lit: "status"}}, PipeFrom: -1}}}
	got := goAsk(x.client(20*time.Second), req)
	x.waitFor("cat ~/.ssh/id_rsa", 5*time.Second)
	s := x.screen()
	if strings.Contains(s, "git status") || !strings.Contains(s, "HIGH") ||
		!strings.Contains(s, "secrets.read: reads credentials or secrets outside the project") {
		t.Fatalf("pane does not show the panel's own view of the command:\n%s", s)
	}
	settle()
	x.keys("A")
	if a := wait(t, got); !a.v.Approved || !a.v.Remembered {
		t.Fatalf("verdict %+v", a.v)
	}
	x.waitFor("remembered exactly `cat ~/.ssh/id_rsa` in /home/u/proj", 2*time.Second)

	text, err := os.ReadFile(config.UserPath())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadFile(config.UserPath())
	if err != nil {
		t.Fatal(err)
	}
	want := config.Remembered{Scope: config.ScopeExact, Project: "/home/u/proj", Command: "cat ~/.ssh/id_rsa", Rules: []string{"secrets.read"}}
	if len(cfg.Remember) != 1 || cfg.Remember[0].Command != want.Command || cfg.Remember[0].Scope != want.Scope || !slices.Equal(cfg.Remember[0].Rules, want.Rules) ||
		cfg.Remember[0].Project != want.Project || strings.Contains(string(text), "git status") {
		t.Fatalf("saved config:\n%s\nwant only %+v", text, want)
	}
	// What the shim then decides, rating as it does (engine) and matching
	// what was remembered (shape.Match).
	eng, err := engine.New(cfg, req.Project)
	if err != nil {
		t.Fatal(err)
	}
	covered := func(cmd string) (models.Risk, bool) {
		j := eng.Judge(context.Background(), engine.Command{Text: cmd, Cwd: req.Project, Project: req.Project,
			Getenv: func(k string) string { return map[string]string{"HOME": "/home/u"}[k] }})
		_, ok := shape.Match(cfg.Remember, shape.Seen{Project: req.Project, Cwd: req.Cwd, Command: cmd, Facts: j.Facts, Rating: j.Rating})
		return j.Rating.Risk, ok
	}
	if risk, ok := covered("cat ~/.ssh/id_rsa"); risk != models.High || !ok {
		t.Errorf("cat ~/.ssh/id_rsa: %v, covered %v; want high and covered by A on it", risk, ok)
	}
	if risk, ok := covered("cat ~/.ssh/id_ed25519"); risk != models.High || ok {
		t.Errorf("cat ~/.ssh/id_ed25519: %v, covered %v; want high and not covered by A on cat ~/.ssh/id_rsa", risk, ok)
	}
	if _, ok := covered("git status"); ok {
		t.Error("git status is covered by the remembered approval")
	}
}

// TestE2EBell: a new held command rings the bell, which tmux shows on the
// panel's window when the person is looking at another one.
func TestE2EBell(t *testing.T) {
	x := newTmux(t)
	x.startPanel()
	x.run("new-window", "-t", "e2e", "sh") // the person works in another window
	if flag := strings.TrimSpace(x.run("display", "-p", "-t", "e2e:0", "#{window_bell_flag}")); flag != "0" {
		t.Fatalf("bell flag before any request: %q", flag)
	}
	got := goAsk(x.client(20*time.Second), request("cat ~/.ssh/id_bell"))
	x.waitFor("id_bell", 5*time.Second)
	deadline := time.Now().Add(2 * time.Second)
	for strings.TrimSpace(x.run("display", "-p", "-t", "e2e:0", "#{window_bell_flag}")) != "1" {
		if time.Now().After(deadline) {
			t.Fatal("no bell on the panel's window")
		}
		time.Sleep(10 * time.Millisecond)
	}
	settle()
	x.keys("n")
	wait(t, got)
}

func TestE2ETimeout(t *testing.T) {
	x := newTmux(t)
	x.startPanel()
	t.Setenv(broker.HoldTimeoutEnv, "700ms")
	got := goAsk(x.client(0), request("cat ~/.ssh/id_timeout"))
	x.waitFor("id_timeout", 5*time.Second)
	a := wait(t, got)
	if a.v.Approved || a.v.By != models.ByTimeout || !strings.Contains(a.v.Reason, "chaperone tui") {
		t.Fatalf("verdict %+v", a.v)
	}
	x.waitFor("withdrawn", 2*time.Second)
	x.waitFor("nothing held", 2*time.Second)
}

func TestE2ENoPanel(t *testing.T) {
	x := newTmux(t) // only for the private environment
	t.Setenv(broker.HoldTimeoutEnv, "200ms")
	a := wait(t, goAsk(x.client(0), request("cat ~/.ssh/id_nopanl")))
	if a.v.Approved || a.v.By != models.ByNoPanel || !strings.Contains(broker.DenyMessage(a.v, request("x").Rating), "start `chaperone tui`") {
		t.Fatalf("verdict %+v", a.v)
	}
}

func TestE2ETwoShimsAndLatePanel(t *testing.T) {
	x := newTmux(t)
	c := x.client(20 * time.Second)
	first := goAsk(c, request("cat ~/.ssh/id_first"))
	second := goAsk(c, request("cat ~/.ssh/id_secnd"))
	time.Sleep(200 * time.Millisecond) // both wait with no panel
	x.startPanel()
	x.waitFor("2 held", 5*time.Second)
	s := x.screen()
	if !strings.Contains(s, "id_first") || !strings.Contains(s, "id_secnd") {
		t.Fatalf("pane:\n%s", s)
	}
	settle()
	// The first in the queue gets y, the next one n.
	x.keys("y")
	x.waitFor("1 held", 2*time.Second)
	settle()
	x.keys("n")
	a, b := wait(t, first), wait(t, second)
	if a.v.Approved == b.v.Approved || a.v.By != models.ByPerson || b.v.By != models.ByPerson {
		t.Fatalf("verdicts %+v / %+v: want one approved and one denied, both by the person", a.v, b.v)
	}
	x.waitFor("nothing held", 2*time.Second)
}

func TestE2EKilledShimDisappears(t *testing.T) {
	x := newTmux(t)
	x.startPanel()
	exe, _ := os.Executable()
	js, _ := json.Marshal(request("cat ~/.ssh/id_killed"))
	shim := exec.Command(exe)
	shim.Env = append(os.Environ(), envAsk+"="+string(js))
	var out bytes.Buffer
	shim.Stdout = &out
	if err := shim.Start(); err != nil {
		t.Fatal(err)
	}
	x.waitFor("id_killed", 5*time.Second)
	shim.Process.Kill()
	shim.Wait()
	x.waitGone("cat ~/.ssh/id_killed\n", 2*time.Second)
	x.waitFor("nothing held", 2*time.Second)
	if out.Len() != 0 {
		t.Errorf("killed shim printed a verdict: %s", out.String())
	}
}

func TestE2EFeed(t *testing.T) {
	x := newTmux(t)
	x.startPanel()
	ev := models.Event{Time: time.Now(), Command: "go test ./...", Project: "/home/u/proj", Rating: models.Rating{Risk: models.Low}}
	if err := broker.Notify(ev); err != nil {
		t.Fatal(err)
	}
	x.waitFor("proj go test ./...", 2*time.Second)
	x.keys("f")
	x.waitFor("paused", 2*time.Second)
	ev.Command = "npm install left-pad"
	broker.Notify(ev)
	x.waitFor("paused (1 new)", 2*time.Second)
	if strings.Contains(x.screen(), "left-pad") {
		t.Fatal("paused feed moved")
	}
	x.keys("f")
	x.waitFor("left-pad", 2*time.Second)
}

func TestE2EFeedFromAudit(t *testing.T) {
	x := newTmux(t)
	x.startPanel()
	log, err := audit.Open(config.AuditConfig{}.AuditDir())
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	code := 0
	ev := &models.Event{Time: time.Now(), Session: "s1", Command: "git status --short", Project: "/home/u/proj",
		Rating: models.Rating{Risk: models.Low}, Decision: models.Allow, DecidedBy: models.ByRules, Exit: &code}
	if err := log.Append(ev); err != nil {
		t.Fatal(err)
	}
	x.waitFor("proj git status --short", 3*time.Second)
}

// TestE2ELatency reports the measured figures (run with -v); it fails when
// a median is over the 100ms.
func TestE2ELatency(t *testing.T) {
	x := newTmux(t)
	x.startPanel()
	c := x.client(20 * time.Second)
	var show, key []time.Duration
	for i := range 10 {
		cmd := fmt.Sprintf("cat ~/.ssh/id_lat%02d", i)
		t0 := time.Now()
		got := goAsk(c, request(cmd))
		show = append(show, x.waitFor(cmd, 5*time.Second).Sub(t0))
		settle()
		k := x.keys("y")
		a := wait(t, got)
		key = append(key, a.at.Sub(k))
		x.waitFor("nothing held", 2*time.Second)
	}
	show = append(show, latencies.show...)
	key = append(key, latencies.key...)
	ms, mk := median(show), median(key)
	t.Logf("shim asks → panel shows (capture-pane polling included): median %v, max %v over %d", ms, slices.Max(show), len(show))
	t.Logf("keypress (tmux send-keys) → shim has the verdict: median %v, max %v over %d", mk, slices.Max(key), len(key))
	if ms > 100*time.Millisecond || mk > 100*time.Millisecond {
		t.Errorf("median over 100ms: show %v, key %v", ms, mk)
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Sorted(slices.Values(d))
	return s[len(s)/2]
}

// A connection held by the egress proxy, as a person sees and answers it in
// the real panel: y lets it through once; A allows the host and port for
// the project in the user's config, which the proxy's next policy reads.
func TestE2ENetworkHold(t *testing.T) {
	x := newTmux(t)
	x.startPanel()
	c := x.client(20 * time.Second)
	hold := func(host string, port int) models.HoldRequest {
		return models.HoldRequest{Project: "/home/u/proj", Cwd: "/home/u/proj", Agent: "claude-code", Session: "s-net",
			Command: "npm test", EventID: "20261206T000000.000000-abcdef",
			Network: &models.NetworkHold{Host: host, Port: port, Method: "CONNECT", Reason: "not a package registry and not in [network] allow"}}
	}
	got := goAsk(c, hold("once.example", 443))
	x.waitFor("connect to once.example:443 (CONNECT)", 5*time.Second)
	s := x.screen()
	for _, want := range []string{"NETWORK", "from: npm test", "record 20261206T000000.000000-abcdef"} {
		if !strings.Contains(s, want) {
			t.Errorf("pane lacks %q:\n%s", want, s)
		}
	}
	settle()
	x.keys("y")
	if a := wait(t, got); !a.v.Approved || a.v.Remembered || a.v.By != models.ByPerson {
		t.Fatalf("y: verdict %+v", a.v)
	}
	got = goAsk(c, hold("always.example", 8443))
	x.waitFor("connect to always.example:8443", 5*time.Second)
	settle()
	x.keys("A")
	if a := wait(t, got); !a.v.Approved || !a.v.Remembered {
		t.Fatalf("A: verdict %+v", a.v)
	}
	x.waitFor("allowed always.example:8443 for /home/u/proj", 2*time.Second)
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Network.Projects) != 1 || !slices.Equal(cfg.Network.Projects[0].Allow, []string{"always.example:8443"}) {
		t.Errorf("config after A: %+v", cfg.Network.Projects)
	}
}
