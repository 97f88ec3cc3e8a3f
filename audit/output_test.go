package audit

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/internal/itest"
	"github.com/chaperone-dev/chaperone/models"
)

func TestRecorderTeeAndReadBack(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l := mustOpen(t, dir)
	ev := &models.Event{Session: "s1", Command: "make test"}
	rec, err := l.NewRecorder(ev, WithSize(120, 40))
	if err != nil {
		t.Fatal(err)
	}
	if ev.ID == "" {
		t.Fatal("NewRecorder did not set the event's ID")
	}
	var stdout, stderr bytes.Buffer
	o, e := rec.Tee(&stdout), rec.Tee(&stderr)
	o.Write([]byte("building…\n"))
	time.Sleep(20 * time.Millisecond)
	e.Write([]byte("warning: x\n"))
	o.Write([]byte("progress 50%\rprogress 100%\n"))
	o.Write([]byte("no newline at end"))
	out, err := rec.Close()
	if err != nil {
		t.Fatal(err)
	}
	// What the agent sees is exactly what was written.
	if stdout.String() != "building…\nprogress 50%\rprogress 100%\nno newline at end" || stderr.String() != "warning: x\n" {
		t.Errorf("tee changed the output: %q %q", stdout.String(), stderr.String())
	}
	if out.Bytes != int64(stdout.Len()+stderr.Len()) || out.Truncated || out.SHA256 == "" ||
		!strings.HasPrefix(out.Path, "output/") {
		t.Errorf("output %+v", out)
	}
	c, err := ReadCast(filepath.Join(dir, out.Path))
	if err != nil {
		t.Fatal(err)
	}
	if c.Header.Version != 2 || c.Header.Width != 120 || c.Header.Command != "make test" {
		t.Errorf("header %+v", c.Header)
	}
	want := "building…\r\nwarning: x\r\nprogress 50%\rprogress 100%\r\nno newline at end"
	if got := c.Text(); got != want {
		t.Errorf("cast text %q, want %q", got, want)
	}
	if len(c.Events) < 3 || c.Events[1].Time < 0.015 {
		t.Errorf("events lost their timing: %+v", c.Events)
	}
}

// A recording's file is made when its output is written out (past the
// buffer, or at Close), not when the recording starts: a session's
// statement does not wait for it. One that cannot be made is said at
// Close, with no output to store.
func TestRecorderFileMadeLate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l := mustOpen(t, dir)
	rec, err := l.NewRecorder(&models.Event{Command: "echo hi"})
	if err != nil {
		t.Fatal(err)
	}
	rec.Write([]byte("hi\n"))
	casts, _ := filepath.Glob(filepath.Join(dir, "output", "*", "*.cast"))
	if len(casts) != 0 {
		t.Errorf("a file before any output was written out: %q", casts)
	}
	out, err := rec.Close()
	if err != nil || out == nil {
		t.Fatalf("Close: %v %v", out, err)
	}
	if c, err := ReadCast(filepath.Join(dir, out.Path)); err != nil || c.Text() != "hi\r\n" {
		t.Errorf("cast after Close: %v %v", c, err)
	}

	big, err := l.NewRecorder(&models.Event{Command: "yes"})
	if err != nil {
		t.Fatal(err)
	}
	big.Write(bytes.Repeat([]byte("y\n"), 40<<10))
	if casts, _ := filepath.Glob(filepath.Join(dir, "output", "*", "*.cast")); len(casts) != 2 {
		t.Errorf("past the buffer, the file is still not made: %q", casts)
	}
	big.Close()

	bad, err := l.NewRecorder(&models.Event{Command: "echo lost"})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad.f.path, []byte("not ours"), 0o600); err != nil { // never replaced
		t.Fatal(err)
	}
	if out, err := bad.Close(); out != nil || err == nil {
		t.Errorf("a file that cannot be made: %v %v, want no output and an error", out, err)
	}
	if b, _ := os.ReadFile(bad.f.path); string(b) != "not ours" {
		t.Errorf("the file in the way was replaced: %q", b)
	}
}

func TestRecorderCap(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l := mustOpen(t, dir, WithOutputCap(1000))
	ev := &models.Event{}
	rec, _ := l.NewRecorder(ev)
	var sink bytes.Buffer
	w := rec.Tee(&sink)
	line := strings.Repeat("x", 99) + "\n"
	for range 50 {
		w.Write([]byte(line))
	}
	out, err := rec.Close()
	if err != nil {
		t.Fatal(err)
	}
	if sink.Len() != 5000 {
		t.Errorf("the agent got %d bytes, want all 5000", sink.Len())
	}
	if !out.Truncated || out.Bytes != 5000 || out.Recorded != 1000 {
		t.Errorf("output %+v, want 1000 of 5000 recorded, truncated", out)
	}
	c, _ := ReadCast(filepath.Join(dir, out.Path))
	txt := c.Text()
	if !strings.Contains(txt, "[chaperone: output truncated: 1000 of 5000 bytes recorded]") || strings.Count(txt, "x") != 990 { // 10 lines of 99 x and a newline
		t.Errorf("cast text has %d x and ends %q", strings.Count(txt, "x"), txt[len(txt)-80:])
	}
	fi, _ := os.Stat(filepath.Join(dir, out.Path))
	if fi.Size() > 4000 {
		t.Errorf("cast file is %d bytes for 1000 recorded", fi.Size())
	}
}

func TestRecorderConcurrentStreams(t *testing.T) {
	t.Parallel()
	l := mustOpen(t, t.TempDir())
	rec, _ := l.NewRecorder(&models.Event{})
	var wg sync.WaitGroup
	for _, s := range []string{"out", "err"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := rec.Tee(&bytes.Buffer{})
			for range 200 {
				w.Write([]byte(s + " line\n"))
			}
		}()
	}
	wg.Wait()
	out, _ := rec.Close()
	c, err := ReadCast(filepath.Join(l.Dir(), out.Path))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(c.Text(), "out line\r\n") + strings.Count(c.Text(), "err line\r\n"); n != 400 {
		t.Errorf("%d whole lines recorded, want 400", n)
	}
}

func TestNilRecorder(t *testing.T) {
	t.Parallel()
	l := mustOpen(t, t.TempDir(), WithOutputCap(0))
	rec, err := l.NewRecorder(&models.Event{})
	if rec != nil || err != nil {
		t.Fatalf("NewRecorder with cap 0 = %v, %v; want nil, nil", rec, err)
	}
	if w := rec.Tee(os.Stdout); w != os.Stdout {
		t.Error("nil Recorder's Tee must return the writer itself")
	}
	if out, err := rec.Close(); out != nil || err != nil {
		t.Error("nil Recorder's Close must return nil, nil")
	}
}

// TestAsciinemaPlays plays a recorded cast with the real asciinema.
func TestAsciinemaPlays(t *testing.T) {
	t.Parallel()
	_, err := exec.LookPath("asciinema")
	itest.Require(t, "asciinema", err == nil)
	dir := t.TempDir()
	l := mustOpen(t, dir)
	rec, _ := l.NewRecorder(&models.Event{Command: "echo hi"})
	rec.Write([]byte("hello from the log\nsecond line ünïcode\n"))
	out, _ := rec.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "asciinema", "play", "-i", "0.01", filepath.Join(dir, out.Path))
	cmd.Stdin = nil
	got, err := cmd.Output()
	if err != nil {
		t.Fatalf("asciinema play: %v", err)
	}
	if !bytes.Contains(got, []byte("hello from the log\r\nsecond line ünïcode\r\n")) {
		t.Errorf("asciinema played %q", got)
	}
}
