package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/internal/itest"
	"github.com/chaperone-dev/chaperone/models"
)

// sessionStart is when writeSession's session begins.
var sessionStart = time.Date(2026, 11, 28, 14, 30, 0, 0, time.UTC)

// writeSession writes a session "s1" of four commands through Append and
// the Recorder, with a command of another session between them: ls (low,
// allowed, output recorded at 100x30, still running when the next one
// came), rm -rf ~ (denied by a person, no output), make test (warn, exit
// 2, output) and a two-line command with an escape in its text. It
// returns the records as appended.
func writeSession(t *testing.T, dir string) []*models.Event {
	t.Helper()
	now := sessionStart
	l := mustOpen(t, dir, WithClock(func() time.Time { return now }))
	zero, two := 0, 2
	evs := []*models.Event{
		{Time: sessionStart, Command: "ls", Rating: models.Rating{Risk: models.Low}, Decision: models.Allow,
			DecidedBy: models.ByRules, Exit: &zero, Duration: 6000},
		{Time: sessionStart.Add(5 * time.Second), Command: "rm -rf ~", Decision: models.Denied, DecidedBy: models.ByPerson,
			Note: "no way", Rating: models.Rating{Risk: models.High,
				Findings: []models.Finding{{Rule: "rm.home", Risk: models.High, Reason: "deletes the home directory"}}}},
		{Time: sessionStart.Add(9 * time.Second), Command: "make test", Rating: models.Rating{Risk: models.Medium},
			Decision: models.Warn, DecidedBy: models.ByModel, Exit: &two, Duration: 1500},
		{Time: sessionStart.Add(20 * time.Second), Command: "echo a\necho \x1b]133;D;0\a\x1b[31mred\n",
			Rating: models.Rating{Risk: models.Low}, Decision: models.Allow, DecidedBy: models.ByRules, Exit: &zero},
	}
	outputs := map[int]string{0: "README.md\nmain.go\n", 2: "FAIL: TestCart\n"}
	for i, ev := range evs {
		ev.Session, ev.Project, ev.Cwd = "s1", "/home/dev/webshop", "/home/dev/webshop"
		now = ev.Time
		if out, ok := outputs[i]; ok {
			rec, err := l.NewRecorder(ev, WithSize(100, 30))
			if err != nil {
				t.Fatal(err)
			}
			rec.Write([]byte(out))
			if ev.Output, err = rec.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Append(ev); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			other := &models.Event{Time: ev.Time.Add(time.Second), Session: "s2", Command: "pwd", Decision: models.Allow}
			if err := l.Append(other); err != nil {
				t.Fatal(err)
			}
		}
	}
	return evs
}

// castLine is one event line of a cast.
type castLine struct {
	t    float64
	typ  string
	data string
}

// parseSessionCast reads a cast as a player must: a JSON header line, then
// one [time, type, data] array a line.
func parseSessionCast(t *testing.T, b []byte) (CastHeader, []castLine) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	var h CastHeader
	if err := json.Unmarshal([]byte(lines[0]), &h); err != nil {
		t.Fatalf("header %q: %v", lines[0], err)
	}
	var evs []castLine
	for _, l := range lines[1:] {
		var raw []any
		if err := json.Unmarshal([]byte(l), &raw); err != nil || len(raw) != 3 {
			t.Fatalf("event line %q is not a 3-element JSON array: %v", l, err)
		}
		tm, ok1 := raw[0].(float64)
		typ, ok2 := raw[1].(string)
		data, ok3 := raw[2].(string)
		if !ok1 || !ok2 || !ok3 {
			t.Fatalf("event line %q is not [number, string, string]", l)
		}
		evs = append(evs, castLine{tm, typ, data})
	}
	return h, evs
}

// osc133 finds the OSC 133 marks in a terminal stream.
var osc133 = regexp.MustCompile("\x1b\\]133;([ABCD])(?:;([0-9]+))?\a")

func TestWriteSessionCast(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	recs := writeSession(t, dir)
	var buf bytes.Buffer
	if err := WriteSessionCast(&buf, dir, "s1"); err != nil {
		t.Fatal(err)
	}
	h, evs := parseSessionCast(t, buf.Bytes())

	t.Run("header", func(t *testing.T) {
		if h.Version != 2 || h.Width != 100 || h.Height != 30 || h.Timestamp != sessionStart.Unix() ||
			!strings.Contains(h.Title, "s1") || h.IdleTimeLimit != 2 {
			t.Errorf("header %+v", h)
		}
	})
	t.Run("times never go back", func(t *testing.T) {
		for i := 1; i < len(evs); i++ {
			if evs[i].t < evs[i-1].t {
				t.Errorf("event %d at %v comes after event %d at %v", i, evs[i].t, i-1, evs[i-1].t)
			}
		}
	})
	t.Run("commands at their records' times", func(t *testing.T) {
		var starts []float64
		for _, e := range evs {
			if e.typ == "o" && strings.Contains(e.data, Mark(PromptStart, nil)) {
				starts = append(starts, e.t)
			}
		}
		// ls ran 6 s, so rm -rf ~ (5 s) comes when it ended.
		want := []float64{0, 6, 9, 20}
		if len(starts) != len(want) {
			t.Fatalf("prompts at %v, want at %v", starts, want)
		}
		for i := range want {
			if starts[i] != want[i] {
				t.Errorf("prompt %d at %v, want %v", i, starts[i], want[i])
			}
		}
		for _, e := range evs {
			// make test (9 s) ran 1.5 s: its end mark is at 10.5 s.
			if strings.Contains(e.data, Mark(CommandEnd, recs[2].Exit)) && e.t != 10.5 {
				t.Errorf("make test ends at %v, want 10.5", e.t)
			}
		}
	})
	t.Run("markers", func(t *testing.T) {
		var labels []string
		for _, e := range evs {
			if e.typ == "m" {
				labels = append(labels, e.data)
			}
		}
		want := []string{"ls", "rm -rf ~", "make test", "echo a…"}
		if strings.Join(labels, "|") != strings.Join(want, "|") {
			t.Errorf("marker labels %q, want %q", labels, want)
		}
	})
	t.Run("marks, prompts, commands and outputs in order", func(t *testing.T) {
		var term strings.Builder
		for _, e := range evs {
			if e.typ == "o" {
				term.WriteString(e.data)
			}
		}
		s := term.String()
		marks := osc133.FindAllStringSubmatchIndex(s, -1)
		var got []string
		for _, m := range marks {
			k := s[m[2]:m[3]]
			if m[4] >= 0 {
				k += ";" + s[m[4]:m[5]]
			}
			got = append(got, k)
		}
		want := []string{"A", "B", "C", "D;0", "A", "B", "C", "D;126", "A", "B", "C", "D;2", "A", "B", "C", "D;0"}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("marks %v, want %v", got, want)
		}
		// What lies between the marks of each command: the prompt (A–B),
		// the command (B–C) and the output (C–D).
		between := func(i int) string { return s[marks[i][1]:marks[i+1][0]] }
		cmds := []string{"ls\r\n", "rm -rf ~\r\n", "make test\r\n", "echo a\r\n> echo ^[]133;D;0^G^[[31mred\r\n"}
		outs := []string{"README.md\r\nmain.go\r\n", DecisionLine(*recs[1]) + "\r\n", "FAIL: TestCart\r\n", ""}
		for c := range 4 {
			if p := between(4 * c); p != "webshop $ " {
				t.Errorf("command %d: prompt %q, want %q", c, p, "webshop $ ")
			}
			if got := between(4*c + 1); got != cmds[c] {
				t.Errorf("command %d: text %q, want %q", c, got, cmds[c])
			}
			if got := between(4*c + 2); got != outs[c] {
				t.Errorf("command %d: output %q, want %q", c, got, outs[c])
			}
		}
		if !strings.Contains(outs[1], "high: denied by person") {
			t.Errorf("the denied command's decision line is %q", outs[1])
		}
		if strings.Contains(s, "pwd") {
			t.Error("the cast holds a command of another session")
		}
	})
}

func TestWriteSessionCastRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// tamper changes the log and returns what the refusal must say.
		tamper func(t *testing.T, dir string, recs []*models.Event) string
	}{
		{"an edited output", func(t *testing.T, dir string, recs []*models.Event) string {
			path := OutputPath(dir, *recs[2])
			data, _ := os.ReadFile(path)
			os.WriteFile(path, bytes.Replace(data, []byte("FAIL"), []byte("PASS"), 1), 0o600)
			return "the output of record " + recs[2].ID + " was changed after it was written"
		}},
		{"a missing output", func(t *testing.T, dir string, recs []*models.Event) string {
			os.Remove(OutputPath(dir, *recs[0]))
			return "the output of record " + recs[0].ID + " is missing"
		}},
		{"an edited record", func(t *testing.T, dir string, recs []*models.Event) string {
			editLines(t, filepath.Join(dir, "2026-11-28.jsonl"), func(ls []string) []string {
				ls[2] = strings.Replace(ls[2], "rm -rf ~", "rm -rf .", 1)
				return ls
			})
			return "the record was changed after it was written"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			recs := writeSession(t, dir)
			how := tc.tamper(t, dir, recs)
			var buf bytes.Buffer
			err := WriteSessionCast(&buf, dir, "s1")
			var be *BrokenError
			if !errors.As(err, &be) {
				t.Fatalf("WriteSessionCast after %s: %v, want a *BrokenError", tc.name, err)
			}
			if !strings.Contains(be.How, how) {
				t.Errorf("refused with %q, want it to say %q", be.How, how)
			}
			if buf.Len() != 0 {
				t.Errorf("a refused cast wrote %d bytes", buf.Len())
			}
		})
	}
}

func TestWriteSessionCastUnknownSession(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeSession(t, dir)
	var buf bytes.Buffer
	for _, session := range []string{"nope", ""} {
		if err := WriteSessionCast(&buf, dir, session); !errors.Is(err, ErrNoSession) {
			t.Errorf("session %q: %v, want ErrNoSession", session, err)
		}
		if buf.Len() != 0 {
			t.Errorf("wrote %q for session %q", buf.String(), session)
		}
	}
}

// TestAsciinemaPlaysSession plays a session cast with the real asciinema.
// (asciinema 2's cat reads /dev/tty, so play stands in for it.)
func TestAsciinemaPlaysSession(t *testing.T) {
	t.Parallel()
	_, err := exec.LookPath("asciinema")
	itest.Require(t, "asciinema", err == nil)
	dir := t.TempDir()
	writeSession(t, dir)
	path := filepath.Join(t.TempDir(), "s1.cast")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteSessionCast(f, dir, "s1"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := exec.CommandContext(ctx, "asciinema", "play", "-i", "0.01", path).Output()
	if err != nil {
		t.Fatalf("asciinema play: %v", err)
	}
	for _, want := range []string{"webshop $ \x1b]133;B\als\r\n", "README.md\r\nmain.go\r\n", "[chaperone] high: denied by person",
		"FAIL: TestCart\r\n\x1b]133;D;2\a"} {
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("asciinema played %q, without %q", got, want)
		}
	}
}

// An output whose record gives no hash cannot be vouched for: it is left
// out, and the cast says so.
func TestWriteSessionCastOutputWithoutHash(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l := mustOpen(t, dir)
	ev := &models.Event{Session: "s1", Command: "cat notes", Decision: models.Allow}
	rec, err := l.NewRecorder(ev)
	if err != nil {
		t.Fatal(err)
	}
	rec.Write([]byte("unchecked\n"))
	ev.Output, _ = rec.Close()
	ev.Output.SHA256 = ""
	if err := l.Append(ev); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteSessionCast(&buf, dir, "s1"); err != nil {
		t.Fatal(err)
	}
	if s := buf.String(); strings.Contains(s, "unchecked") || !strings.Contains(s, "output left out: its record gives no hash") {
		t.Errorf("cast %q", s)
	}
}
