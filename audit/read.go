package audit

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/chaperone-dev/chaperone/models"
)

// storedLine is one line of a log file as stored.
type storedLine struct {
	no  int // 1-based line number
	raw []byte
}

// readLines reads a log file: its newline-terminated lines and any bytes
// after the last newline (a record cut short).
func readLines(path string) ([]storedLine, []byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var lines []storedLine
	no := 0
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return lines, data, nil
		}
		no++
		lines = append(lines, storedLine{no: no, raw: data[:i]})
		data = data[i+1:]
	}
	return lines, nil, nil
}

// parseRecord decodes a stored line; it fails for anything that is not a
// whole record written by Append.
func parseRecord(raw []byte) (models.Event, bool) {
	var ev models.Event
	if _, ok := parseSeq(raw); !ok {
		return ev, false
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		return ev, false
	}
	return ev, true
}

// ReadAll returns the command records in dir, in the order they were
// written (oldest file first). Audit's own records and unreadable lines
// are skipped: Verify is what reports those. A missing dir has no records.
func ReadAll(dir string) ([]models.Event, error) {
	files, err := logFiles(dir)
	if err != nil {
		return nil, err
	}
	var out []models.Event
	for _, f := range files {
		lines, partial, err := readLines(filepath.Join(dir, f))
		if err != nil {
			return nil, err
		}
		if partial != nil {
			lines = append(lines, storedLine{raw: partial})
		}
		for _, l := range lines {
			if ev, ok := parseRecord(l.raw); ok && ev.Kind == models.KindCommand {
				out = append(out, ev)
			}
		}
	}
	return out, nil
}

// Filter selects records.
type Filter struct {
	Session      string    // "" for any
	Since, Until time.Time // zero for unbounded; Until is exclusive
}

// Select returns the events matching f.
func Select(evs []models.Event, f Filter) []models.Event {
	var out []models.Event
	for _, ev := range evs {
		if f.Session != "" && ev.Session != f.Session {
			continue
		}
		if !f.Since.IsZero() && ev.Time.Before(f.Since) {
			continue
		}
		if !f.Until.IsZero() && !ev.Time.Before(f.Until) {
			continue
		}
		out = append(out, ev)
	}
	return out
}

// LatestSession returns the session of the last record ("" when none).
func LatestSession(evs []models.Event) string {
	if len(evs) == 0 {
		return ""
	}
	return evs[len(evs)-1].Session
}

// UserCommand reports whether ev records the user's own command (`chaperone
// sandbox exec`), which chaperone ran as the person asked, without rating
// it: it has no risk, and nothing to rate again.
func UserCommand(ev models.Event) bool { return ev.DecidedBy == models.ByUser }

// SessionSummary describes one session of records.
type SessionSummary struct {
	Session     string
	Agent       string
	Project     string
	First, Last time.Time
	Commands    int
	// ByRisk counts the rated commands; the user's own (UserCommand) are
	// counted in Commands and ByDecision only.
	ByRisk     map[models.Risk]int
	ByDecision map[models.Decision]int
}

// Sessions summarises evs by session, oldest session first.
func Sessions(evs []models.Event) []SessionSummary {
	idx := map[string]int{}
	var out []SessionSummary
	for _, ev := range evs {
		i, ok := idx[ev.Session]
		if !ok {
			i = len(out)
			idx[ev.Session] = i
			out = append(out, SessionSummary{Session: ev.Session, First: ev.Time, Last: ev.Time,
				ByRisk: map[models.Risk]int{}, ByDecision: map[models.Decision]int{}})
		}
		s := &out[i]
		if s.Agent == "" {
			s.Agent = ev.Agent
		}
		if s.Project == "" {
			s.Project = ev.Project
		}
		if ev.Time.Before(s.First) {
			s.First = ev.Time
		}
		if ev.Time.After(s.Last) {
			s.Last = ev.Time
		}
		s.Commands++
		if !UserCommand(ev) {
			s.ByRisk[ev.Rating.Risk.Effective()]++
		}
		s.ByDecision[ev.Decision]++
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].First.Before(out[b].First) })
	return out
}

// OutputPath returns the absolute path of ev's recorded output, or "".
func OutputPath(dir string, ev models.Event) string {
	if ev.Output == nil || ev.Output.Path == "" {
		return ""
	}
	return filepath.Join(dir, filepath.FromSlash(ev.Output.Path))
}
