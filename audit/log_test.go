package audit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/models"
)

// The test binary doubles as a writer process for the multi-process
// tests: with AUDIT_TEST_HELPER set, TestMain runs the helper instead.
func TestMain(m *testing.M) {
	switch os.Getenv("AUDIT_TEST_HELPER") {
	case "":
		os.Exit(m.Run())
	case "write":
		os.Exit(helperWrite())
	case "torn":
		os.Exit(helperTorn())
	}
	fmt.Fprintln(os.Stderr, "unknown helper")
	os.Exit(2)
}

// helperWrite appends AUDIT_TEST_N records to AUDIT_TEST_DIR.
func helperWrite() int {
	n, _ := strconv.Atoi(os.Getenv("AUDIT_TEST_N"))
	l := helperOpen()
	if l == nil {
		return 1
	}
	defer l.Close()
	for i := range n {
		ev := realisticEvent(i)
		ev.Session = os.Getenv("AUDIT_TEST_SESSION")
		ev.Command = fmt.Sprintf("echo %s-%d", ev.Session, i)
		if err := l.Append(ev); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

// helperTorn appends one record but writes only half of it, tells the
// parent (by creating AUDIT_TEST_READY) and waits to be killed, holding
// the lock.
func helperTorn() int {
	l := helperOpen()
	if l == nil {
		return 1
	}
	writeRecords = func(f *os.File, b []byte) (int, error) {
		n, err := f.Write(b[:len(b)/2])
		os.WriteFile(os.Getenv("AUDIT_TEST_READY"), nil, 0o600)
		time.Sleep(time.Minute)
		return n, err
	}
	l.Append(realisticEvent(99))
	return 1
}

// helperOpen opens the log in AUDIT_TEST_DIR for a helper process; nil
// (and the error on stderr) when it cannot.
func helperOpen() *Log {
	l, err := Open(os.Getenv("AUDIT_TEST_DIR"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return nil
	}
	return l
}

// helperCmd is this test binary run as the helper named kind (see
// TestMain), with more AUDIT_TEST_* variables in env.
func helperCmd(t *testing.T, kind string, env ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	c := exec.Command(exe)
	c.Env = append(append(os.Environ(), "AUDIT_TEST_HELPER="+kind), env...)
	return c
}

// realisticEvent is a record the size and shape of a real one.
func realisticEvent(i int) *models.Event {
	exit := i % 3
	w := func(s string) models.Word { return models.Word{Lit: s} }
	return &models.Event{
		Time:    time.Now(),
		Session: "claude-4242",
		Agent:   "claude",
		Project: "/home/dev/src/webshop",
		Cwd:     "/home/dev/src/webshop/backend",
		Command: fmt.Sprintf("source /tmp/claude-shell-snapshot-1234 && eval 'git diff HEAD~%d -- src/main.go | grep -n TODO' && pwd -P >| /tmp/claude-cwd", i),
		Inner:   fmt.Sprintf("git diff HEAD~%d -- src/main.go | grep -n TODO", i),
		Facts: &models.Facts{Commands: []models.Command{
			{Argv: []models.Word{w("git"), w("diff"), w("HEAD~" + strconv.Itoa(i)), w("--"), w("src/main.go")}, PipeFrom: -1, Span: "git diff HEAD~1 -- src/main.go"},
			{Argv: []models.Word{w("grep"), w("-n"), w("TODO")}, PipeFrom: 0, Span: "grep -n TODO"},
		}},
		Rating: models.Rating{Risk: models.Medium, Source: models.SourceModel, Undecided: true,
			Findings: []models.Finding{
				{Rule: "git.read", Risk: models.Low, Reason: "reads the repository", Span: "git diff HEAD~1 -- src/main.go"},
				{Rule: "unknown.command", Risk: models.Medium, Reason: "no rule knows this command", Span: "grep -n TODO"},
			},
			Model: &models.ModelAnswer{Model: "qwen2.5-coder:1.5b", Risk: models.Low, Reason: "read-only inspection of the repository", DurationMS: 412.5}},
		Decision:  models.Warn,
		DecidedBy: models.ByRules,
		Exit:      &exit,
		Duration:  37.25,
		Backend:   "docker",
		Files: []models.FileChange{{Op: "modified", Path: "backend/src/main.go"}, {Op: "created", Path: "backend/build/"},
			{Op: "created", Path: "backend/build/app"}, {Op: "removed", Path: "backend/tmp.txt"}},
	}
}

func mustOpen(t testing.TB, dir string, opts ...Option) *Log {
	t.Helper()
	l, err := Open(dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func mustVerify(t *testing.T, dir string) *Report {
	t.Helper()
	rep, err := Verify(dir)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return rep
}

func TestAppendReadVerify(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l := mustOpen(t, dir)
	for i := range 5 {
		if err := l.Append(realisticEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := ReadAll(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 5 {
		t.Fatalf("read %d records, want 5", len(evs))
	}
	for i, ev := range evs {
		// Seq 1 is the file's anchor.
		if ev.Seq != int64(i+2) || ev.Prev == "" || ev.ID == "" {
			t.Errorf("record %d: seq %d prev %q id %q", i, ev.Seq, ev.Prev, ev.ID)
		}
		if !strings.Contains(ev.Inner, fmt.Sprintf("HEAD~%d", i)) {
			t.Errorf("record %d out of order: %q", i, ev.Inner)
		}
	}
	rep := mustVerify(t, dir)
	if rep.Records != 6 || rep.Commands != 5 || rep.Files != 1 {
		t.Errorf("report %+v, want 6 records, 5 commands, 1 file", rep)
	}
	// Every line is a JSON object with the chain fields first.
	data, _ := os.ReadFile(filepath.Join(dir, time.Now().UTC().Format(dayLayout)+".jsonl"))
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if !strings.HasPrefix(line, `{"seq":`) {
			t.Errorf("line does not start with seq: %.60s", line)
		}
	}
}

// TestConcurrentProcesses runs 100 writer processes at once, each
// appending 5 records, and checks every record is there and the chain holds.
func TestConcurrentProcesses(t *testing.T) {
	t.Parallel()
	const procs, each = 100, 5
	dir := t.TempDir()
	cmds := make([]*exec.Cmd, procs)
	for p := range procs {
		c := helperCmd(t, "write", "AUDIT_TEST_DIR="+dir,
			"AUDIT_TEST_N="+strconv.Itoa(each), "AUDIT_TEST_SESSION=s"+strconv.Itoa(p))
		var stderr bytes.Buffer
		c.Stderr = &stderr
		cmds[p] = c
	}
	// Start them all before waiting for any, so they really overlap.
	for _, c := range cmds {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for p, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Errorf("writer %d: %v: %s", p, err, c.Stderr)
		}
	}
	evs, err := ReadAll(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, ev := range evs {
		seen[ev.Command] = true
	}
	for p := range procs {
		for i := range each {
			if c := fmt.Sprintf("echo s%d-%d", p, i); !seen[c] {
				t.Errorf("record %q missing", c)
			}
		}
	}
	if len(evs) != procs*each {
		t.Errorf("%d records, want %d", len(evs), procs*each)
	}
	mustVerify(t, dir)
}

// TestConcurrentGoroutines shares one Log between goroutines.
func TestConcurrentGoroutines(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l := mustOpen(t, dir)
	errs := make(chan error, 50)
	for i := range 50 {
		go func() { errs <- l.Append(realisticEvent(i)) }()
	}
	for range 50 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if rep := mustVerify(t, dir); rep.Commands != 50 {
		t.Errorf("%d commands, want 50", rep.Commands)
	}
}

// TestCrashMidRecord kills -9 a writer that has written half a record
// while holding the lock; the next writer must get the lock, repair the
// tail, and verify must explain the partial line as a crash.
func TestCrashMidRecord(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l := mustOpen(t, dir)
	if err := l.Append(realisticEvent(1)); err != nil {
		t.Fatal(err)
	}
	ready := filepath.Join(t.TempDir(), "ready")
	c := helperCmd(t, "torn", "AUDIT_TEST_DIR="+dir, "AUDIT_TEST_READY="+ready)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		if time.Now().After(deadline) {
			c.Process.Kill()
			t.Fatal("torn writer never got ready")
		}
	}
	c.Process.Signal(syscall.SIGKILL)
	c.Wait()

	// The torn line is at the end, and verify says it is a crash.
	rep := mustVerify(t, dir)
	if len(rep.Notes) == 0 || !strings.Contains(rep.Notes[0], "cut short") {
		t.Errorf("notes %q, want one about a record cut short", rep.Notes)
	}
	if evs, _ := ReadAll(dir); len(evs) != 1 {
		t.Errorf("read %d records before repair, want 1", len(evs))
	}
	// The next writer is not blocked by the dead one's lock and repairs the tail.
	done := make(chan error, 1)
	go func() { done <- l.Append(realisticEvent(2)) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("append blocked after the writer holding the lock was killed")
	}
	if err := l.Append(realisticEvent(3)); err != nil {
		t.Fatal(err)
	}
	rep = mustVerify(t, dir)
	if rep.Commands != 3 || len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0], "crashed mid-write") {
		t.Errorf("report %+v, want 3 commands and a note on the crash", rep)
	}
	evs, _ := ReadAll(dir)
	if len(evs) != 3 || evs[1].Torn == nil {
		t.Fatalf("read %d records; the one after the crash should carry Torn: %+v", len(evs), evs)
	}
}

// TestRetention writes on ten consecutive days keeping three: old files go,
// a prune record says so, and what remains verifies.
func TestRetention(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	day := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return day }
	l := mustOpen(t, dir, WithRetention(3), WithClock(clock))
	for d := range 10 {
		day = time.Date(2026, 11, 1+d, 12, 0, 0, 0, time.UTC)
		for i := range 2 {
			ev := realisticEvent(i)
			ev.Time = day
			rec, err := l.NewRecorder(ev)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(rec.Tee(&bytes.Buffer{}), "day %d\n", d)
			if ev.Output, err = rec.Close(); err != nil {
				t.Fatal(err)
			}
			if err := l.Append(ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	files, _ := logFiles(dir)
	if len(files) != 4 || files[0] != "2026-11-07.jsonl" {
		t.Errorf("files %v, want 4 from 2026-11-07 (3 days back, plus the one the anchor names)", files)
	}
	if _, err := os.Stat(filepath.Join(dir, "output", "2026-11-01")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("output of a pruned day is still there: %v", err)
	}
	rep := mustVerify(t, dir)
	if !strings.Contains(strings.Join(rep.Notes, "\n"), "removed by retention") {
		t.Errorf("notes %q, want one about retention", rep.Notes)
	}
	if rep.Outputs != 8 {
		t.Errorf("checked %d outputs, want 8", rep.Outputs)
	}
	// Deleting a file by hand is not retention.
	os.Remove(filepath.Join(dir, "2026-11-08.jsonl"))
	_, err := Verify(dir)
	var be *BrokenError
	if !errors.As(err, &be) || !strings.Contains(be.How, "2026-11-08.jsonl is missing") {
		t.Errorf("verify after deleting a file: %v", err)
	}
}

func TestClockBackwards(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	day := time.Date(2026, 11, 2, 0, 0, 1, 0, time.UTC)
	l := mustOpen(t, dir, WithClock(func() time.Time { return day }))
	l.Append(realisticEvent(1))
	day = day.Add(-2 * time.Second) // NTP stepped the clock back over midnight
	l.Append(realisticEvent(2))
	if files, _ := logFiles(dir); len(files) != 1 {
		t.Errorf("files %v: a writer went back to an older file", files)
	}
	mustVerify(t, dir)
}

// TestTornFirstWrite: a file holding only part of its first write is
// started again, so that it still begins with its anchor.
func TestTornFirstWrite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l := mustOpen(t, dir)
	name := filepath.Join(dir, time.Now().UTC().Format(dayLayout)+".jsonl")
	os.WriteFile(name, []byte(`{"seq":1,"kind":"anch`), 0o600)
	if err := l.Append(realisticEvent(1)); err != nil {
		t.Fatal(err)
	}
	if rep := mustVerify(t, dir); rep.Commands != 1 {
		t.Errorf("report %+v", rep)
	}
}

// TestTornAcrossDays: the previous day's file ends in a partial record;
// the next day's anchor seals it.
func TestTornAcrossDays(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Date(2026, 11, 27, 23, 0, 0, 0, time.UTC)
	l := mustOpen(t, dir, WithClock(func() time.Time { return now }))
	l.Append(realisticEvent(1))
	f, _ := os.OpenFile(filepath.Join(dir, "2026-11-27.jsonl"), os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte(`{"seq":3,"prev":"abc","time":"2026-11-27T23:`))
	f.Close()
	now = now.Add(2 * time.Hour)
	if err := l.Append(realisticEvent(2)); err != nil {
		t.Fatal(err)
	}
	rep := mustVerify(t, dir)
	if rep.Commands != 2 || len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0], "2026-11-27.jsonl line 3: partial record") {
		t.Errorf("report %+v", rep)
	}
	// Editing the sealed partial is caught.
	data, _ := os.ReadFile(filepath.Join(dir, "2026-11-27.jsonl"))
	os.WriteFile(filepath.Join(dir, "2026-11-27.jsonl"), bytes.Replace(data, []byte(`"abc"`), []byte(`"abd"`), 1), 0o600)
	if _, err := Verify(dir); err == nil || !strings.Contains(err.Error(), "changed afterwards") {
		t.Errorf("verify after editing the partial record: %v", err)
	}
}
