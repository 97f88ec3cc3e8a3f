// Package tui is the approval panel (`chaperone tui`): a bubbletea program
// that serves the broker socket, shows held commands oldest first, lets
// the person approve or deny each with one key, and shows a live feed of
// the commands that ran without asking.
//
// Only a keypress on the panel's terminal approves: the model answers a
// hold only from a key message, and the broker protocol carries no
// approvals from clients.
package tui

import (
	"cmp"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/chaperone-dev/chaperone/broker"
	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/fewshot"
	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/shape"
)

// HeldMsg is a held command arriving from a shim.
type HeldMsg struct {
	// ID is unique among the panel's requests (broker.Hold.ID).
	ID string
	// Req is the request with the broker's own inner command, rating and
	// facts (broker.Hold.Req): what is shown and what `A` remembers.
	Req models.HoldRequest
	// Claim is the shim's claim of a higher risk than Req.Rating, shown
	// as the shim's (broker.Hold.Claim); nil when it claimed no more.
	Claim *broker.Claim
	// PeerPID is the shim's process id as the kernel reports it.
	PeerPID  int
	Received time.Time
	// Answer delivers the verdict to the waiting shim (broker.Hold.Answer).
	Answer func(models.Verdict) error
}

// GoneMsg says the shim behind a held command hung up before an answer.
type GoneMsg struct{ ID string }

// RanMsg is a low or medium command that ran, for the live feed.
type RanMsg struct{ Event models.Event }

type tickMsg time.Time

type mode int

const (
	modeQueue mode = iota
	modeNote
	modeDetails
)

// feedSize is how many recent commands the feed keeps.
const feedSize = 200

// DefaultGuard is how long after the selected request changed under the
// person (the one they looked at was withdrawn) approval keys are ignored,
// so a keypress meant for one request cannot approve another.
const DefaultGuard = 300 * time.Millisecond

// Model is the panel's state. Create it with New. It is not safe for
// concurrent use; bubbletea calls it from one goroutine.
type Model struct {
	keys   KeyMap
	help   help.Model
	note   textinput.Model
	mode   mode
	queue  []*item
	sel    int
	feed   []models.Event
	frozen []models.Event // the feed as shown when paused (nil: live)
	missed int            // events that arrived while paused
	width  int
	height int
	status string
	opts   Options
	now    time.Time
	// ticking: a tick is on its way. The clock runs only while something
	// is held (the ages and deadlines it draws); an idle panel sleeps.
	ticking bool
	// quitAsked: q was pressed with commands held; y quits.
	quitAsked bool
}

type item struct {
	HeldMsg
	selectedAt time.Time // when it became the selection without the person moving to it
	keep       bool      // `e`: keep the person's decision as a few-shot example
	widerShown bool      // `W` once: what the wider scope covers is on the status line
}

// Options configure the panel.
type Options struct {
	// ConfigPath is the user's config file, where `A` remembers shapes
	// (config.UserPath()). Empty disables `A`.
	ConfigPath string
	// ExamplesDir is where `e` keeps decisions as few-shot examples for the
	// model ($XDG_CONFIG_HOME/chaperone/fewshot). Empty disables `e`.
	ExamplesDir string
	// Socket is shown when the queue is empty, to say where shims connect.
	Socket string
	// AuditDir is the audit log the feed follows (config's audit dir);
	// empty: the feed shows only what shims report through the broker.
	AuditDir string
	// Guard overrides DefaultGuard; negative means no guard (tests).
	Guard time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// New returns the panel's model.
func New(opts Options) Model {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Guard == 0 {
		opts.Guard = DefaultGuard
	}
	ti := textinput.New()
	ti.Placeholder = "what the agent should do instead"
	ti.CharLimit = 500
	return Model{keys: DefaultKeys(), help: help.New(), note: ti, opts: opts, now: opts.Now(), width: 80, height: 24}
}

// Init starts nothing: the clock that ages the waiting requests starts
// with the first one (Update, HeldMsg).
func (m Model) Init() tea.Cmd { return nil }

func tick() tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// Update handles one message.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m.now = m.opts.Now()
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.help.SetWidth(msg.Width)
		m.note.SetWidth(max(10, msg.Width-20))
		return m, nil
	case tickMsg:
		if len(m.queue) == 0 {
			m.ticking = false
			return m, nil
		}
		return m, tick()
	case HeldMsg:
		if msg.Received.IsZero() {
			msg.Received = m.now
		}
		m.queue = append(m.queue, &item{HeldMsg: msg})
		if len(m.queue) == 1 {
			m.sel = 0
			m.queue[0].selectedAt = m.now
		}
		m.status = ""
		if m.ticking {
			return m, tea.Raw("\a")
		}
		m.ticking = true
		return m, tea.Batch(tea.Raw("\a"), tick())
	case GoneMsg:
		return m.remove(msg.ID, "withdrawn by its shim (killed or timed out)"), nil
	case RanMsg:
		return m.addFeed(msg.Event), nil
	case tea.KeyPressMsg:
		return m.key(msg)
	}
	if m.mode == modeNote {
		var cmd tea.Cmd
		m.note, cmd = m.note.Update(msg)
		return m, cmd
	}
	return m, nil
}

// addFeed adds ev to the feed: every command that ran, and every decision
// on a held one (who, when, which memory). The same command may come from
// the panel's own decision, the broker and the audit log: the later copy
// (with its exit status) replaces the first.
func (m Model) addFeed(ev models.Event) Model {
	for i := len(m.feed) - 1; i >= 0 && i >= len(m.feed)-64; i-- {
		if same(m.feed[i], ev) {
			m.feed[i] = ev
			return m
		}
	}
	m.feed = append(m.feed, ev)
	if len(m.feed) > feedSize {
		m.feed = m.feed[len(m.feed)-feedSize:]
	}
	if m.frozen != nil {
		m.missed++
	}
	return m
}

// same reports whether a and b record the same command run.
func same(a, b models.Event) bool {
	if a.ID != "" && b.ID != "" {
		return a.ID == b.ID
	}
	return a.Time.Equal(b.Time) && a.Session == b.Session && a.Command == b.Command
}

// remove drops the request id from the queue, keeping the selection on
// the same request when it stays, and says why in the status line.
func (m Model) remove(id, why string) Model {
	i := m.index(id)
	if i < 0 {
		return m
	}
	if why != "" {
		m.status = fmt.Sprintf("%s: %s", oneLine(display(m.queue[i].Req), 60), why)
	}
	q := make([]*item, 0, len(m.queue)-1)
	q = append(q, m.queue[:i]...)
	m.queue = append(q, m.queue[i+1:]...)
	switch {
	case i < m.sel:
		m.sel--
	case i == m.sel:
		if m.sel >= len(m.queue) {
			m.sel = len(m.queue) - 1
		}
		if m.sel >= 0 {
			m.queue[m.sel].selectedAt = m.now // changed under the person
		}
		if m.mode != modeQueue {
			m.mode = modeQueue
			m.note.Blur()
		}
	}
	if m.sel < 0 {
		m.sel = 0
	}
	return m
}

func (m Model) index(id string) int {
	for i, it := range m.queue {
		if it.ID == id {
			return i
		}
	}
	return -1
}

func (m Model) selected() *item {
	if m.sel < 0 || m.sel >= len(m.queue) {
		return nil
	}
	return m.queue[m.sel]
}

func (m Model) key(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	if m.mode == modeNote {
		switch {
		case key.Matches(k, m.keys.Back):
			m.mode = modeQueue
			m.note.Blur()
			m.note.Reset()
			m.status = "note cancelled; nothing was sent"
			return m, nil
		case key.Matches(k, m.keys.Send):
			note := strings.TrimSpace(m.note.Value())
			m.note.Blur()
			m.note.Reset()
			m.mode = modeQueue
			return m.decide(models.Verdict{Approved: false, By: models.ByPerson, Note: note}, "denied with a note")
		}
		var cmd tea.Cmd
		m.note, cmd = m.note.Update(k)
		return m, cmd
	}
	if !key.Matches(k, m.keys.Wider) {
		for _, it := range m.queue {
			it.widerShown = false // "any other key: not"
		}
	}
	if m.quitAsked {
		m.quitAsked = false
		if k.String() == "y" || k.String() == "ctrl+c" {
			return m, tea.Quit
		}
		m.status = "not quitting"
		return m, nil // the key answered the question, nothing else
	}
	switch {
	case key.Matches(k, m.keys.Quit):
		if n := len(m.queue); n > 0 {
			m.quitAsked = true
			m.status = fmt.Sprintf("%d held: quit anyway? Their shims wait for the next panel until they are denied. y quits, any other key stays", n)
			return m, nil
		}
		return m, tea.Quit
	case key.Matches(k, m.keys.Help):
		m.help.ShowAll = !m.help.ShowAll
		return m, nil
	case key.Matches(k, m.keys.Feed):
		if m.frozen == nil {
			m.frozen = append([]models.Event{}, m.feed...)
			m.missed = 0
		} else {
			m.frozen, m.missed = nil, 0
		}
		return m, nil
	case m.mode == modeDetails && (key.Matches(k, m.keys.Back) || key.Matches(k, m.keys.Details)):
		m.mode = modeQueue
		return m, nil
	case key.Matches(k, m.keys.Up):
		if m.sel > 0 {
			m.sel--
		}
		return m, nil
	case key.Matches(k, m.keys.Down):
		if m.sel < len(m.queue)-1 {
			m.sel++
		}
		return m, nil
	}
	it := m.selected()
	if it == nil {
		return m, nil
	}
	switch {
	case key.Matches(k, m.keys.Details):
		m.mode = modeDetails
		return m, nil
	case key.Matches(k, m.keys.Deny):
		return m.decide(models.Verdict{Approved: false, By: models.ByPerson}, "denied")
	case key.Matches(k, m.keys.DenyNote):
		m.mode = modeNote
		m.status = ""
		return m, m.note.Focus()
	case key.Matches(k, m.keys.Approve):
		if m.guarded(it) {
			return m, nil
		}
		return m.decide(models.Verdict{Approved: true, By: models.ByPerson}, "approved once")
	case key.Matches(k, m.keys.Example):
		if it.Req.Network != nil {
			m.status = "a held connection is not an example for the model"
			return m, nil
		}
		if m.opts.ExamplesDir == "" {
			m.status = "cannot keep examples: no user config folder"
			return m, nil
		}
		it.keep = !it.keep
		if it.keep {
			m.status = "your decision on this command will be kept as an example for the model (e again to undo)"
		} else {
			m.status = "your decision on this command will not be kept"
		}
		return m, nil
	case key.Matches(k, m.keys.Remember), key.Matches(k, m.keys.Wider):
		wide := key.Matches(k, m.keys.Wider)
		if m.guarded(it) {
			return m, nil
		}
		if m.opts.ConfigPath == "" {
			m.status = "cannot remember approvals: no user config file"
			return m, nil
		}
		if n := it.Req.Network; n != nil {
			if wide {
				m.status = "nothing wider to remember for a held connection: A allows this host and port"
				return m, nil
			}
			return m.allowHost(it, n)
		}
		remember, how := remembers, "A"
		if wide {
			remember, how = wider, "W"
		}
		rem, err := remember(it.Req)
		if err != nil {
			m.status = how + ": cannot remember this (" + err.Error() + "); y approves it once"
			if wide {
				m.status += ", A remembers the exact command"
			}
			return m, nil
		}
		if wide && !it.widerShown {
			// Say what it would cover before anything is saved.
			it.widerShown = true
			m.status = "W again approves and remembers " + shape.Describe(rem) + "; any other key: not"
			return m, nil
		}
		if err := shape.Save(m.opts.ConfigPath, rem, display(it.Req)); err != nil {
			m.status = "could not remember it: " + err.Error()
			return m, nil
		}
		return m.decide(models.Verdict{Approved: true, By: models.ByPerson, Remembered: true, Memory: rem.Key()},
			"approved; remembered "+shape.Describe(rem)+" as "+rem.Key())
	}
	return m, nil
}

// allowHost answers a held connection with `A`: the host and port are
// allowed for the project from now on ([[network.project]] in the user's
// config). An upload held past the limit is let through for the session
// (the session memory keeps that), as the host is allowed already.
func (m Model) allowHost(it *item, n *models.NetworkHold) (tea.Model, tea.Cmd) {
	target := net.JoinHostPort(n.Host, strconv.Itoa(n.Port))
	if n.Upload > 0 {
		return m.decide(models.Verdict{Approved: true, By: models.ByPerson}, "upload to "+target+" allowed for this session")
	}
	if it.Req.Project == "" {
		m.status = "cannot allow " + target + " for a project: the command has none; y allows it once"
		return m, nil
	}
	if err := config.AllowHost(m.opts.ConfigPath, it.Req.Project, target, target+" for: "+oneLine(display(it.Req), 120)); err != nil {
		m.status = "could not allow " + target + ": " + err.Error()
		return m, nil
	}
	return m.decide(models.Verdict{Approved: true, By: models.ByPerson, Remembered: true},
		"allowed "+target+" for "+it.Req.Project)
}

// guarded reports (and says) that the selection changed under the person
// too recently for an approval key to be taken as meant for it.
func (m *Model) guarded(it *item) bool {
	if m.opts.Guard < 0 || it.selectedAt.IsZero() || m.now.Sub(it.selectedAt) >= m.opts.Guard {
		return false
	}
	m.status = "the selection just changed: look again, then press the key again"
	return true
}

// decide answers the selected request and removes it from the queue.
func (m Model) decide(v models.Verdict, what string) (tea.Model, tea.Cmd) {
	it := m.selected()
	if it == nil {
		return m, nil
	}
	err := it.Answer(v)
	cmd := oneLine(display(it.Req), 60)
	m = m.remove(it.ID, "")
	m.mode = modeQueue
	if err != nil {
		m.status = cmd + ": its shim went away before the answer; nothing ran"
		return m, nil
	}
	m.status = cmd + ": " + what
	if it.Req.Network == nil {
		m = m.addFeed(decided(it.Req, v, m.now))
	}
	if it.keep {
		if err := fewshot.Add(m.opts.ExamplesDir, exampleOf(it.Req, v)); err != nil {
			m.status += "; could not keep it as an example: " + err.Error()
		} else {
			m.status += "; kept as an example"
		}
	}
	return m, nil
}

// decided is the feed's record of the person's decision on r, until the
// shim's audit record (the same Time, Session and Command) replaces it.
func decided(r models.HoldRequest, v models.Verdict, now time.Time) models.Event {
	ev := models.Event{Time: r.Time, Session: r.Session, Agent: r.Agent, Project: r.Project, Cwd: r.Cwd,
		Command: r.Command, Inner: r.Inner, Rating: r.Rating, Decision: models.Denied, DecidedBy: v.By, Note: v.Note}
	if v.Approved {
		ev.Decision = models.Approved
	}
	if v.Remembered {
		ev.Memory = v.Memory // what was remembered now (the shim's record names none)
	}
	if ev.Time.IsZero() {
		ev.Time = now
	}
	return ev
}

// remembers is what `A` remembers for r: the exact command the panel
// shows, with the broker's own facts and rating (shape.For). A command the
// panel's rules do not rate high (only the shim claimed it) has nothing
// to remember.
func remembers(r models.HoldRequest) (config.Remembered, error) {
	if err := panelHigh(r); err != nil {
		return config.Remembered{}, err
	}
	return shape.For(seen(r))
}

// wider is what `W` remembers for r: its shape with any path inside the
// project (shape.Wider), where that may be offered.
func wider(r models.HoldRequest) (config.Remembered, error) {
	if err := panelHigh(r); err != nil {
		return config.Remembered{}, err
	}
	return shape.Wider(seen(r))
}

func panelHigh(r models.HoldRequest) error {
	if risk := r.Rating.Risk.Effective(); risk < models.High {
		return fmt.Errorf("%w: the panel's own rules rate it %s; only the shim claims more", shape.ErrNoShape, risk)
	}
	return nil
}

func seen(r models.HoldRequest) shape.Seen {
	return shape.Seen{Project: r.Project, Cwd: r.Cwd, Command: display(r), Facts: r.Facts, Rating: r.Rating}
}

// exampleOf turns a person's decision into a few-shot example: approved
// means acceptable here (low), denied means high, with the person's note or
// the rules' reason as the reason.
func exampleOf(r models.HoldRequest, v models.Verdict) fewshot.Example {
	ex := fewshot.Example{Cmd: display(r), Risk: models.High, Reason: "denied by a person: " + broker.MainReason(r.Rating)}
	if v.Note != "" {
		ex.Reason = "denied by a person: " + v.Note
	}
	if v.Approved {
		ex.Risk, ex.Reason = models.Low, "approved by a person in this project"
	}
	return ex
}

// display is the command a person should judge: the inner command of an
// agent wrapper when there is one (as the broker recognised it).
func display(r models.HoldRequest) string { return cmp.Or(r.Inner, r.Command, "(an empty command)") }
