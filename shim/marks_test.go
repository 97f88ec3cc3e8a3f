package shim

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/audit"
	"github.com/chaperone-dev/chaperone/models"
)

func TestFindMark(t *testing.T) {
	for _, c := range []struct {
		in   string
		tok  string
		want bool
	}{
		{"a\x1b]6973;0f1e\ab", "0f1e", true},
		{"\x1b]6973;\a", "", false},                                // no token
		{"\x1b]6973;0F\a", "", false},                              // upper case
		{"\x1b]6973;12 \a", "", false},                             // not hex
		{"\x1b]69\x1b]6973;77\a", "77", true},                      // a false start first
		{"\x1b]6973;" + strings.Repeat("a", 65) + "\a", "", false}, // too long
	} {
		_, _, tok, ok := findMark([]byte(c.in))
		if ok != c.want || tok != c.tok {
			t.Errorf("findMark(%q) = %q, %v; want %q, %v", c.in, tok, ok, c.tok, c.want)
		}
	}
}

func TestPartialMark(t *testing.T) {
	for in, want := range map[string]int{
		"abc":             0,
		"abc\x1b":         1,
		"abc\x1b]69":      4,
		"abc\x1b]6973;ab": 9,
		"abc\x1b]6973;a ": 0,
		"abc\x1b[0m":      0,
		"\x1b]6973;ab\a":  0, // a whole mark
	} {
		if got := partialMark([]byte(in)); got != want {
			t.Errorf("partialMark(%q) = %d, want %d", in, got, want)
		}
	}
}

// The relay takes out the mark it waits for, wherever the reads split
// it, and passes on any other text that looks like a mark.
func TestRelayMarks(t *testing.T) {
	rl, out := testRelay(t)
	tok := newMarkToken()
	seen := rl.expect(tok)
	forged := "\x1b]6973;" + strings.Repeat("0", 32) + "\a"
	mark := string(markOf(tok))
	stream := "one\n" + forged + "two\x1b]69" + mark + "three"
	for i := 0; i < len(stream); i += 3 { // split everywhere
		rl.w.Write([]byte(stream[i:min(i+3, len(stream))]))
		time.Sleep(time.Millisecond)
	}
	select {
	case <-seen:
	case <-time.After(5 * time.Second):
		t.Fatal("the mark was not seen")
	}
	rl.close()
	got, _ := os.ReadFile(out.Name())
	if want := "one\n" + forged + "two\x1b]69three"; !bytes.Equal(got, []byte(want)) {
		t.Errorf("relayed %q, want %q", got, want)
	}
}

// The start of a mark that never comes is given out after a moment.
func TestRelayHeldGivenOut(t *testing.T) {
	rl, out := testRelay(t)
	defer rl.close()
	rl.expect(newMarkToken())
	rl.w.Write([]byte("prompt$ \x1b]6973;ab"))
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		got, _ := os.ReadFile(out.Name())
		if string(got) == "prompt$ \x1b]6973;ab" {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	got, _ := os.ReadFile(out.Name())
	t.Errorf("relayed %q; the held start was not given out", got)
}

// recorded runs chunks through an interactive session's output side, with
// the line's end told (as PROMPT_COMMAND's D) after chunk number told,
// and returns what the line's recording holds.
func recorded(t *testing.T, chunks []string, told int, tok string) string {
	t.Helper()
	log := testLog(t)
	ev := &models.Event{Time: time.Now(), Command: "x"}
	rec := testRecorder(t, log, ev, audit.WithRawNewlines())
	is := &interactive{line: ev, rec: rec}
	done := make(chan struct{})
	for k, c := range chunks {
		is.mu.Lock()
		is.took([]byte(c))
		is.mu.Unlock()
		if k == told {
			go func() { is.waitEnd(tok); close(done) }()
			time.Sleep(20 * time.Millisecond)
		}
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("waitEnd did not return")
	}
	is.mu.Lock()
	seen := is.ended == tok
	is.mu.Unlock()
	if !seen {
		t.Fatalf("the end mark %s was not seen", tok)
	}
	out, err := rec.Close()
	if err != nil {
		t.Fatal(err)
	}
	return castText(t, log, out)
}

func TestInteractiveLineEndsAtItsMark(t *testing.T) {
	end := "\x1b]6973;4242\a"
	forged := "\x1b]6973;1111\a"
	for name, c := range map[string]struct {
		chunks []string
		told   int
		want   string
	}{
		"told first":         {[]string{"out", "put\r\n" + end + "$ prompt"}, 0, "output\r\n"},
		"mark first":         {[]string{"out", "put\r\n" + end + "$ prompt"}, 1, "output\r\n"},
		"mark split":         {[]string{"output\x1b]69", "73;42", "42\a$ "}, 0, "output"},
		"forged by the line": {[]string{"a" + forged + "b", "c" + end + "$ "}, 1, "a" + forged + "bc"},
		"forged, told first": {[]string{"a" + forged, "b" + end}, 0, "a" + forged + "b"},
	} {
		t.Run(name, func(t *testing.T) {
			if got := recorded(t, c.chunks, c.told, "4242"); got != c.want {
				t.Errorf("recorded %q, want %q", got, c.want)
			}
		})
	}
}

// A statement's mark that comes late, once the next statement's recording
// has begun (a job left in the background took its token from the
// session's channel, and prints it when it likes), is taken out of the
// stream but does not end the next statement's recording.
func TestRelayLateMarkEndsNothing(t *testing.T) {
	log := testLog(t)
	rl, out := testRelay(t)
	first := testRecorder(t, log, &models.Event{Time: time.Now(), Command: "first"})
	rl.recordTo(first)
	tok := newMarkToken()
	seen := rl.expect(tok) // the mark that does not come in time
	rl.recordTo(nil)
	next := testRecorder(t, log, &models.Event{Time: time.Now(), Command: "next"})
	rl.recordTo(next)
	rl.w.Write([]byte("before\n" + string(markOf(tok)) + "after\n"))
	select {
	case <-seen:
	case <-time.After(5 * time.Second):
		t.Fatal("the late mark was not seen")
	}
	rl.close()
	got, _ := os.ReadFile(out.Name())
	if want := "before\nafter\n"; string(got) != want {
		t.Errorf("relayed %q, want %q", got, want)
	}
	o, err := next.Close()
	if err != nil || o == nil {
		t.Fatalf("close the recording: %v", err)
	}
	if text := castText(t, log, o); !strings.Contains(text, "after") {
		t.Errorf("the next statement's recording ended at the late mark: %q", text)
	}
}

// A line that tells an end of its own (any process of the sandbox may
// write the FIFO, and the token is bash's), and prints its mark, before
// more output: the real end that follows takes in what came between,
// and its status is the line's.
func TestInteractiveForgedEndTakenIn(t *testing.T) {
	log := testLog(t)
	ev := &models.Event{Time: time.Now(), Command: "x"}
	rec := testRecorder(t, log, ev, audit.WithRawNewlines())
	is := &interactive{s: &Shim{}, line: ev, rec: rec}
	for _, c := range []struct{ out, st, tok string }{
		{"shown\r\n\x1b]6973;1111\a", "0", "1111"},  // the forged end, its mark first
		{"hidden\r\n", "0", "2222"},                 // a forged end whose mark never comes
		{"more\r\n\x1b]6973;4242\a$ ", "1", "4242"}, // bash's
	} {
		is.mu.Lock()
		is.took([]byte(c.out))
		is.mu.Unlock()
		is.answer(t.Context(), "D\x1f"+c.st+"\x1f"+c.tok)
	}
	is.mu.Lock()
	is.took([]byte("typed"))
	is.mu.Unlock()
	is.finishLine(new(int)) // the next question

	if ev.Exit == nil || *ev.Exit != 1 {
		t.Errorf("status %v, want 1", ev.Exit != nil && *ev.Exit == 1)
	}
	if ev.Output == nil {
		t.Fatal("no output recorded")
	}
	if got, want := castText(t, log, ev.Output), "shown\r\nhidden\r\nmore\r\n"; got != want {
		t.Errorf("recorded %q, want %q", got, want)
	}
}

// testRelay is a relay to a file of the test's.
func testRelay(t *testing.T) (*relay, *os.File) {
	t.Helper()
	out, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	rl, err := newRelay(out)
	if err != nil {
		t.Fatal(err)
	}
	return rl, out
}

// testLog is an audit log in a folder of the test's.
func testLog(t *testing.T) *audit.Log {
	t.Helper()
	log, err := audit.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return log
}

// testRecorder starts recording ev's output in log.
func testRecorder(t *testing.T, log *audit.Log, ev *models.Event, opts ...audit.RecorderOption) *audit.Recorder {
	t.Helper()
	rec, err := log.NewRecorder(ev, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// castText is the text of the output recorded as out in log.
func castText(t *testing.T, log *audit.Log, out *models.Output) string {
	t.Helper()
	c, err := audit.ReadCast(filepath.Join(log.Dir(), out.Path))
	if err != nil {
		t.Fatal(err)
	}
	return c.Text()
}

// A line is recorded at the next question, but its time ends with its
// end told: the person's pause before the next line is not the line's.
func TestInteractiveLineTimeEndsAtItsEnd(t *testing.T) {
	ev := &models.Event{Time: time.Now(), Command: "x"}
	is := &interactive{s: &Shim{}, line: ev, start: time.Now()}
	is.mu.Lock()
	is.took([]byte("out\x1b]6973;77\a"))
	is.mu.Unlock()
	is.answer(t.Context(), "D\x1f0\x1f77")
	time.Sleep(500 * time.Millisecond) // the person types the next line
	is.finishLine(new(int))
	if ev.Duration >= 500 {
		t.Errorf("the line took %.1f ms: the pause after it was counted", ev.Duration)
	}
}
