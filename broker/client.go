package broker

import (
	"bufio"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chaperone-dev/chaperone/internal/peercred"
	"github.com/chaperone-dev/chaperone/internal/rundir"
	"github.com/chaperone-dev/chaperone/models"
)

// DefaultHoldTimeout is how long a held command waits for a person when
// neither the config nor the environment says otherwise. It stays below
// the agents' own command timeouts (two minutes and more).
const DefaultHoldTimeout = 90 * time.Second

// HoldTimeoutEnv names the environment variable that overrides the
// config's hold_timeout, written like "30s".
const HoldTimeoutEnv = "CHAPERONE_HOLD_TIMEOUT"

// HoldTimeout returns the hold timeout: $CHAPERONE_HOLD_TIMEOUT when it is
// a valid positive duration, else configured when positive, else
// DefaultHoldTimeout. An invalid environment value is ignored here (a
// shorter or longer wait never loosens policy); config.Load refuses it
// first, naming the variable (config.CheckEnv).
func HoldTimeout(configured time.Duration) time.Duration {
	if s := os.Getenv(HoldTimeoutEnv); s != "" {
		if d, err := time.ParseDuration(s); err == nil && d > 0 {
			return d
		}
	}
	if configured > 0 {
		return configured
	}
	return DefaultHoldTimeout
}

// DefaultNoPanelGrace is how long a held command waits for a panel to
// start when none is running as it is held, before it is denied with
// instructions (config no_panel_grace).
const DefaultNoPanelGrace = 3 * time.Second

// NoPanelGraceEnv names the environment variable that overrides the
// config's no_panel_grace, written like "10s".
const NoPanelGraceEnv = "CHAPERONE_NO_PANEL_GRACE"

// NoPanelGrace returns the no-panel grace: $CHAPERONE_NO_PANEL_GRACE when
// it is a valid positive duration, else configured when positive, else
// DefaultNoPanelGrace. As with HoldTimeout, an invalid environment value
// is ignored here; config.Load refuses it first, naming the variable
// (config.CheckEnv).
func NoPanelGrace(configured time.Duration) time.Duration {
	if s := os.Getenv(NoPanelGraceEnv); s != "" {
		if d, err := time.ParseDuration(s); err == nil && d > 0 {
			return d
		}
	}
	if configured > 0 {
		return configured
	}
	return DefaultNoPanelGrace
}

// Client is the shim's end of the socket. The zero value is ready to use:
// it finds the socket at SocketPath() and waits HoldTimeout(0). It is
// safe for concurrent use and satisfies shim.Approver.
type Client struct {
	// Path is the socket; "" means SocketPath().
	Path string
	// Timeout is the configured hold timeout (config hold_timeout);
	// $CHAPERONE_HOLD_TIMEOUT overrides it, see HoldTimeout.
	Timeout time.Duration
	// Grace is how long a command held while no panel runs waits for one
	// to start (config no_panel_grace); 0 means DefaultNoPanelGrace.
	// $CHAPERONE_NO_PANEL_GRACE overrides it, see NoPanelGrace. It is
	// never longer than the hold timeout.
	Grace time.Duration
	// Poll is how often a waiting shim looks for a panel that is not
	// running yet (or went away); 0 means 20ms.
	Poll time.Duration
	// OnHold, when set, is called once a command (not a held connection)
	// is held, before Ask waits for anyone: with req.Deadline set to when
	// it will be denied and whether a panel is running. The shim tells
	// the person there (HeldMessage). It must not block.
	OnHold func(req models.HoldRequest, panel bool)
}

func (c *Client) paths() []string {
	if c == nil || c.Path == "" {
		return socketPaths()
	}
	return []string{c.Path}
}

// dial connects to the panel at the first of paths that answers.
func dial(paths []string, timeout time.Duration) (*net.UnixConn, error) {
	var first error
	for _, p := range paths {
		conn, err := dialPath(p, timeout)
		if err == nil {
			return conn, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

// dialPath connects to the panel at p, checking the socket directory and
// that the panel is a process of our user in our own namespaces: a
// sandboxed process that could put a socket where a shim looks must not
// be able to answer its holds.
func dialPath(p string, timeout time.Duration) (*net.UnixConn, error) {
	if _, err := os.Lstat(p); err != nil {
		return nil, err
	}
	if err := rundir.Check(filepath.Dir(p)); err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: timeout}
	nc, err := d.Dial("unix", p)
	if err != nil {
		return nil, err
	}
	uc := nc.(*net.UnixConn)
	if _, err := peercred.Check(uc); err != nil {
		uc.Close()
		return nil, fmt.Errorf("broker socket %s is not served by this user's panel on this host: %w", p, err)
	}
	return uc, nil
}

// Ask sends a held command to the panel and waits for the person's
// verdict. A held connection (req.Network) is refused at once when no
// panel runs. For a command, when no panel runs Ask keeps looking for one
// for the grace period (a panel started meanwhile picks the request up
// and has until the hold timeout), and when the panel goes away it waits
// for the next one, within the hold timeout. Past these it returns a
// denial By models.ByTimeout (a panel had the request) or
// models.ByNoPanel (none was reachable), with a Reason for the person.
// The error is non-nil only when ctx ends first (the shim is being
// stopped); the verdict is then a denial too.
//
// req.Home, req.ClaudeConfigDir and req.CodexHome, when empty, are taken
// from this process's environment, which is the command's (the shim's; a
// shell server serves only its own environment).
func (c *Client) Ask(ctx context.Context, req models.HoldRequest) (models.Verdict, error) {
	timeout := HoldTimeout(c.timeout())
	grace := min(c.grace(), timeout)
	now := time.Now()
	req.Home = cmp.Or(req.Home, os.Getenv("HOME"))
	req.ClaudeConfigDir = cmp.Or(req.ClaudeConfigDir, os.Getenv("CLAUDE_CONFIG_DIR"))
	req.CodexHome = cmp.Or(req.CodexHome, os.Getenv("CODEX_HOME"))
	if req.ID == "" {
		req.ID = newID()
	}
	if req.Time.IsZero() {
		req.Time = now
	}
	if req.PID == 0 {
		req.PID = os.Getpid()
	}
	req.Deadline = now.Add(timeout)
	line, err := json.Marshal(Message{Type: TypeHold, Hold: &req})
	if err != nil {
		return deny(req.ID, models.ByNoPanel, "the request could not be encoded"), fmt.Errorf("encode hold: %w", err)
	}
	line = append(line, '\n')

	paths, poll := c.paths(), c.poll() // once: the loop below runs every poll
	conn, err := dial(paths, poll)
	if err != nil && req.Network != nil {
		// A connection must not hang for the whole hold timeout when
		// nobody can answer: the program waiting on it would too.
		return deny(req.ID, models.ByNoPanel, "no approval panel is running (start `chaperone tui` to answer, or add the host to [network] allow)"), nil
	}
	if c != nil && c.OnHold != nil && req.Network == nil {
		shown := req
		if conn == nil {
			shown.Deadline = now.Add(grace)
		}
		c.OnHold(shown, conn != nil)
	}
	wait, cancel := context.WithDeadline(ctx, req.Deadline)
	defer cancel()
	reached := false
	for {
		if conn == nil {
			conn, err = dial(paths, poll)
		}
		if err == nil && conn != nil {
			reached = true
			v, ok := exchange(wait, conn, line)
			conn = nil
			if ok {
				v.ID = req.ID
				return v, nil
			}
		} else if !reached && time.Since(now) >= grace && ctx.Err() == nil {
			return deny(req.ID, models.ByNoPanel, fmt.Sprintf("no approval panel is running (none started within %v): start `chaperone tui` beside the agent to approve held commands", grace)), nil
		}
		if wait.Err() == nil {
			t := time.NewTimer(poll)
			select {
			case <-wait.Done():
			case <-t.C:
			}
			t.Stop()
		}
		if wait.Err() != nil {
			switch {
			case ctx.Err() != nil:
				return deny(req.ID, models.ByTimeout, "the command was stopped while it waited for approval"), ctx.Err()
			case reached:
				return deny(req.ID, models.ByTimeout, fmt.Sprintf("nobody answered within %v; the approval panel (`chaperone tui`) must be watched to approve held commands", timeout)), nil
			default:
				return deny(req.ID, models.ByNoPanel, fmt.Sprintf("no approval panel answered within %v; start `chaperone tui` beside the agent to approve held commands", timeout)), nil
			}
		}
	}
}

// HeldMessage is the line a shim prints on stderr (without a newline) as
// soon as a command is held, req.Deadline being when it will be denied:
//
//	chaperone: held: <reason> — approve in chaperone tui (denied in 90s)
//
// or, with no panel running, what to start.
func HeldMessage(req models.HoldRequest, panel bool) string {
	in := time.Until(req.Deadline).Round(time.Second)
	if in < time.Second {
		in = time.Until(req.Deadline).Round(10 * time.Millisecond)
	}
	if !panel {
		return fmt.Sprintf("chaperone: held: %s — no approval panel is running: start `chaperone tui` beside the agent to approve it (denied in %v)", MainReason(req.Rating), in)
	}
	return fmt.Sprintf("chaperone: held: %s — approve in chaperone tui (denied in %v)", MainReason(req.Rating), in)
}

// exchange sends the hold line on conn and waits for the verdict; ok is
// false when ctx ended or the panel went away first. conn is closed.
func exchange(ctx context.Context, conn *net.UnixConn, line []byte) (v models.Verdict, ok bool) {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if _, err := conn.Write(line); err != nil {
		return v, false
	}
	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	for sc.Scan() {
		var m Message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return v, false
		}
		if m.Type == TypeVerdict && m.Verdict != nil {
			return *m.Verdict, true
		}
	}
	return v, false
}

func (c *Client) timeout() time.Duration {
	if c == nil {
		return 0
	}
	return c.Timeout
}

func (c *Client) grace() time.Duration {
	if c == nil {
		return NoPanelGrace(0)
	}
	return NoPanelGrace(c.Grace)
}

func (c *Client) poll() time.Duration {
	if c == nil || c.Poll <= 0 {
		return 20 * time.Millisecond
	}
	return c.Poll
}

func deny(id, by, reason string) models.Verdict {
	return models.Verdict{ID: id, Approved: false, By: by, Reason: reason}
}

func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// notifyTimeout bounds what Notify may cost a shim when a panel runs.
const notifyTimeout = 50 * time.Millisecond

// ErrNoPanel is returned by Notify when no panel is listening.
var ErrNoPanel = errors.New("no approval panel is running")

// Notify tells the panel's live feed that a low or medium command ran. It
// never waits for the panel: with no panel it returns ErrNoPanel at once
// (a failed stat per socket path), and with one it costs a connect and a write, bounded
// by 50ms. Callers may ignore the error.
func (c *Client) Notify(ev models.Event) error {
	conn, err := dial(c.paths(), notifyTimeout)
	if err != nil {
		return ErrNoPanel
	}
	defer conn.Close()
	ev.Facts = nil // the feed shows the command, not its facts; keep the line small
	b, err := json.Marshal(Message{Type: TypeRan, Event: &ev})
	if err != nil {
		return fmt.Errorf("encode event: %w", err)
	}
	conn.SetWriteDeadline(time.Now().Add(notifyTimeout))
	if _, err := conn.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("notify panel: %w", err)
	}
	return nil
}

// Notify is (&Client{}).Notify: report a ran command to the panel at the
// default socket.
func Notify(ev models.Event) error { return (&Client{}).Notify(ev) }

// DenyMessage is the line a shim prints on stderr (without a newline) when
// a held command is not run:
//
//	chaperone: denied: <reason>[: <note>]
//
// where reason is the rating's main reason (the first high finding's) and,
// when nobody decided, why (v.Reason); note is the person's note.
func DenyMessage(v models.Verdict, r models.Rating) string {
	var b strings.Builder
	b.WriteString("chaperone: denied: ")
	b.WriteString(MainReason(r))
	if v.Reason != "" {
		b.WriteString(": ")
		b.WriteString(v.Reason)
	}
	if v.Note != "" {
		b.WriteString(": ")
		b.WriteString(v.Note)
	}
	return b.String()
}

// MainReason is the reason a person reads first: the first finding of the
// rating's risk (the rule id in parentheses), or a generic one.
func MainReason(r models.Rating) string {
	risk := r.Risk.Effective()
	for _, f := range r.Findings {
		if f.Risk.Effective() >= risk && f.Reason != "" {
			if f.Rule != "" {
				return f.Reason + " (" + f.Rule + ")"
			}
			return f.Reason
		}
	}
	for _, f := range r.Findings {
		if f.Reason != "" {
			return f.Reason
		}
	}
	return "the command is rated " + risk.String() + " risk"
}

// Running reports whether a panel is listening at path (when empty: where
// a shim looks, SocketPath() or the temp-dir fallback).
func Running(path string) bool {
	conn, err := dial((&Client{Path: path}).paths(), notifyTimeout)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}
