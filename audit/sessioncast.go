package audit

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/chaperone-dev/chaperone/models"
)

// ErrNoSession says that the audit log holds no command of a session.
var ErrNoSession = errors.New("no such session in the audit log")

// deniedStatus is the $? a denied command leaves (shim.DeniedStatus).
const deniedStatus = 126

// sessionIdle is the idle_time_limit of a session cast: pauses between an
// agent's commands are shortened as audit replay shortens them.
const sessionIdle = 2

// WriteSessionCast writes the commands of session, from the log in dir,
// to w as one asciicast v2 document: the session's terminal as a shell
// would have shown it. For each command, in the order of the log:
//
//   - a marker event ("m") labelled with the command, for players that
//     jump between markers;
//   - a prompt (the working directory's name and "$"), the command, and a
//     "> " before each further line of a multi-line command;
//   - for a command a person, a remembered approval or the hold timeout
//     decided (approved or denied), its DecisionLine;
//   - its recorded output at the recorded pace;
//   - the end of the command.
//
// OSC 133 marks (Mark) open the prompt, the command and the output, and
// end each command with its exit status: 126 for a denied command that
// did not run, none when the status is unknown. The command's text and
// the decision line are written with their control characters made
// visible (^[), so that no record can inject marks or escapes; the
// output is the terminal stream as it was recorded.
//
// Times count from the session's first record: a command starts at its
// record's Time, its output at the recorded offsets from there and its
// end Duration after it. No time goes back: an event that would (two
// commands that overlapped, a command held for a person) comes at the
// time of the one before it. The header gives the largest terminal size
// of the session's outputs (80x24 without any), the first record's time,
// a title naming the session, and an idle_time_limit of 2 s.
//
// The log is checked as Verify checks it, with the session's outputs,
// before anything is written: when the chain is broken, or an output is
// missing or not what its record says, WriteSessionCast returns the
// *BrokenError and writes nothing. (An output that changes while it is
// being written is reported after what came before it.) An output whose
// record gives no hash of it is left out, and a line says so. A session
// with no command in the log is ErrNoSession.
func WriteSessionCast(w io.Writer, dir, session string) error {
	_, cmds, err := verifyChain(dir)
	if err != nil {
		return err
	}
	var evs []models.Event
	for _, ev := range cmds {
		if ev.Session == session { // "" too: records that name no session
			evs = append(evs, ev)
		}
	}
	if len(evs) == 0 {
		return fmt.Errorf("%w: %q", ErrNoSession, session)
	}
	h := CastHeader{Version: 2, Title: "chaperone session " + session, IdleTimeLimit: sessionIdle, Env: castEnv()}
	start := evs[0].Time
	for _, ev := range evs {
		if ev.Time.Before(start) {
			start = ev.Time
		}
		if c, err := sessionOutput(dir, ev); err != nil {
			return err
		} else if c != nil {
			h.Width, h.Height = max(h.Width, c.Header.Width), max(h.Height, c.Header.Height)
		}
	}
	if h.Width <= 0 || h.Height <= 0 {
		h.Width, h.Height = 80, 24
	}
	h.Timestamp = start.Unix()

	cw := &castWriter{w: bufio.NewWriter(w)}
	hb, _ := marshal(h)
	cw.w.Write(hb)
	cw.w.WriteByte('\n')
	for _, ev := range evs {
		at := ev.Time.Sub(start).Seconds()
		cmd := strings.TrimRight(cmp.Or(ev.Inner, ev.Command), "\n")
		cw.event(at, "m", markerLabel(cmd))
		cw.event(at, "o", Mark(PromptStart, nil)+prompt(ev)+Mark(CommandStart, nil)+
			strings.Join(mapLines(cmd, visible), "\r\n> ")+"\r\n"+Mark(OutputStart, nil))
		if ev.Decision == models.Approved || ev.Decision == models.Denied {
			cw.event(at, "o", visible(DecisionLine(ev))+"\r\n")
		}
		c, err := sessionOutput(dir, ev)
		if err != nil {
			cw.w.Flush()
			return err
		}
		switch {
		case c != nil:
			for _, e := range c.Events {
				if e.Type == "o" {
					cw.event(at+e.Time, "o", e.Data)
				}
			}
		case OutputPath(dir, ev) != "":
			cw.event(at, "o", "[chaperone: output left out: its record gives no hash to check it by]\r\n")
		}
		cw.event(at+ev.Duration/1000, "o", Mark(CommandEnd, exitStatus(ev)))
	}
	return cw.w.Flush()
}

// sessionOutput reads ev's recorded output, checked against its record's
// hash; nil when there is none, or when the record gives no hash.
func sessionOutput(dir string, ev models.Event) (*Cast, error) {
	if OutputPath(dir, ev) == "" || ev.Output.SHA256 == "" {
		return nil, nil
	}
	data, err := readOutput(dir, ev)
	if err != nil {
		return nil, err
	}
	return parseCast(bytes.NewReader(data), ev.Output.Path)
}

// castWriter writes the events of a cast, never going back in time.
type castWriter struct {
	w    *bufio.Writer
	last float64
}

func (c *castWriter) event(t float64, typ, data string) {
	c.last = max(c.last, t)
	b, _ := marshal([]any{json.Number(fmt.Sprintf("%.6f", c.last)), typ, data})
	c.w.Write(b)
	c.w.WriteByte('\n')
}

// castEnv is the env of chaperone's casts.
func castEnv() map[string]string {
	return map[string]string{"SHELL": "/bin/bash", "TERM": "xterm-256color"}
}

// exitStatus is the status for ev's end mark: its exit status, 126 for a
// denied command that did not run, nil when unknown.
func exitStatus(ev models.Event) *int {
	if ev.Exit == nil && ev.Decision == models.Denied {
		s := deniedStatus
		return &s
	}
	return ev.Exit
}

// prompt is the prompt ev's command is shown at: "webshop $ ".
func prompt(ev models.Event) string {
	if ev.Cwd == "" {
		return "$ "
	}
	return visible(filepath.Base(ev.Cwd)) + " $ "
}

// markerLabel is a command as a marker's label: its first line, at most
// 80 characters, with "…" when there is more.
func markerLabel(cmd string) string {
	first, _, more := strings.Cut(cmd, "\n")
	first = visible(first)
	if utf8.RuneCountInString(first) > 80 {
		first, more = string([]rune(first)[:79]), true
	}
	if more {
		first += "…"
	}
	return first
}

// mapLines applies f to each line of s.
func mapLines(s string, f func(string) string) []string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = f(l)
	}
	return lines
}

// visible writes the control characters of s as a terminal's caret
// notation (ESC as ^[, CR as ^M) or, for C1 controls, as \u0085, so that
// s cannot move the cursor or write escape sequences. Tabs stay.
func visible(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t':
			b.WriteRune(r)
		case r < 0x20:
			b.WriteByte('^')
			b.WriteRune(r + 0x40)
		case r == 0x7f:
			b.WriteString("^?")
		case r >= 0x80 && r < 0xa0:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
