package memory

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	st := Store{Dir: t.TempDir()}
	notes := []Note{
		{Op: OpWrite, Path: "/p/tool", How: Downloaded, Origin: "https://x.example/tool"},
		{Op: OpChmod, Path: "/p/tool"},
		{Op: OpWrite, Path: "/p/b.sh", How: Written, Text: "echo a\n"},
		{Op: OpAppend, Path: "/p/b.sh", How: Written, Text: "curl x | sh\n"},
		{Op: OpCopy, From: "/p/tool", Path: "/p/tool2"},
		{Op: OpMove, From: "/p/tool2", Path: "/p/bin/t"},
		{Op: OpWrite, Path: "/p/env.txt", How: Secret, Origin: "the environment"},
		{Op: OpKnown, Project: "/p", Value: "git@github.com:a/b.git"},
		{Op: OpRemote, Project: "/p", Name: "origin", Value: "https://evil.example/b.git", Push: true},
		{Op: OpSetting, Project: "", Name: "Credential.Helper", Value: "!x"},
		{Op: OpStage, Project: "/p", Path: "/p/env.txt"},
	}
	if err := st.Append("s1", notes[:4]...); err != nil {
		t.Fatal(err)
	}
	if err := st.Append("s1", notes[4:]...); err != nil {
		t.Fatal(err)
	}
	s, err := st.Load("s1")
	if err != nil {
		t.Fatal(err)
	}
	check := func(s *Session) {
		t.Helper()
		if f := s.File("/p/tool"); f == nil || f.How != Downloaded|Executable || f.Origin != "https://x.example/tool" {
			t.Errorf("tool: %+v", f)
		}
		if f := s.File("/p/b.sh"); f == nil || f.How != Written || f.Text != "echo a\ncurl x | sh\n" {
			t.Errorf("b.sh: %+v", f)
		}
		if s.File("/p/tool2") != nil || s.File("/p/bin/t") == nil || s.File("/p/bin/t").How&Downloaded == 0 {
			t.Errorf("copy then move: %v %v", s.File("/p/tool2"), s.File("/p/bin/t"))
		}
		if r := s.Remotes[RemoteKey("/p", "origin")]; r == nil || r.URLs[0] != "https://evil.example/b.git" {
			t.Errorf("remote %+v", r)
		}
		if s.Settings[SettingKey("", "credential.helper")] != "!x" || !s.Staged["/p"] || len(s.Known["/p"]) != 1 {
			t.Errorf("settings %v staged %v known %v", s.Settings, s.Staged, s.Known)
		}
	}
	check(s)
	// Compaction keeps the same memory.
	c := &Session{}
	for _, n := range s.Notes() {
		c.Apply(n)
	}
	check(c)
	// Sessions are apart.
	if o, _ := st.Load("s2"); len(o.Files) != 0 {
		t.Errorf("another session sees %v", o.Files)
	}
	// Removing a folder forgets what is under it.
	s.Apply(Note{Op: OpRemove, Path: "/p/bin"})
	if s.File("/p/bin/t") != nil {
		t.Error("rm -r did not forget")
	}
}

// TestCorrupt: lines that do not decode are skipped, a half-written last
// line is ignored, garbage gives an empty memory and never an error that
// would stop a command.
func TestCorrupt(t *testing.T) {
	t.Parallel()
	st := Store{Dir: t.TempDir()}
	st.Append("s", Note{Op: OpWrite, Path: "/p/a", How: Downloaded})
	f, _ := os.OpenFile(st.Path("s"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("not a note\n\x00\x01\nwrite\t/p/x\t\tnan\t\t\t\t0\t\t\nwrite\t/p/y\t\t1\t\t\t\t0\t\t\\q\n")
	f.Write(appendNote(nil, Note{Op: OpWrite, Path: "/p/b", How: Downloaded}))
	f.WriteString("write\t/p/c\t\t1\t")
	f.Close()
	s, err := st.Load("s")
	if err != nil || s.File("/p/a") == nil || s.File("/p/b") == nil || s.File("/p/c") != nil || s.File("/p/x") != nil || s.File("/p/y") != nil {
		t.Errorf("got %v, %v", s.Files, err)
	}
	os.WriteFile(st.Path("g"), []byte(strings.Repeat("\xff garbage", 1000)), 0o600)
	if s, err := st.Load("g"); err != nil || len(s.Files) != 0 {
		t.Errorf("garbage: %v, %v", s.Files, err)
	}
	// Appending after a torn line still lands whole lines.
	st.Append("s", Note{Op: OpWrite, Path: "/p/d", How: Decoded})
	if s, _ := st.Load("s"); s.File("/p/d") == nil && s.File("/p/a") == nil {
		t.Errorf("after a torn line: %v", s.Files)
	}
	// An unreadable file (a folder in its place): empty, with an error.
	os.Mkdir(st.Path("dir"), 0o700)
	if s, err := st.Load("dir"); err == nil || s == nil || len(s.Files) != 0 {
		t.Errorf("folder: %v, %v", s, err)
	}
}

// TestConcurrentAppend: goroutines of this process and other processes
// append to one session at once; every note lands, through compactions.
func TestConcurrentAppend(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st := Store{Dir: dir, MaxBytes: 4 << 10} // compact often
	const workers, each = 4, 40
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := st.Append("s", Note{Op: OpWrite, Path: fmt.Sprintf("/g%d/f%d", w, i), How: Downloaded}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var procs []*exec.Cmd
	for w := range 2 {
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), "MEMORY_HELPER_DIR="+dir, "MEMORY_HELPER_ID="+strconv.Itoa(w))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs = append(procs, cmd)
	}
	wg.Wait()
	for _, p := range procs {
		if err := p.Wait(); err != nil {
			t.Fatalf("helper: %v", err)
		}
	}
	s, err := st.Load("s")
	if err != nil {
		t.Fatal(err)
	}
	want := workers*each + 2*each
	if len(s.Files) != min(want, MaxFiles) {
		t.Errorf("%d files remembered, want %d", len(s.Files), min(want, MaxFiles))
	}
	if want > MaxFiles && !s.Lost {
		t.Error("risky files were forgotten without marking the session Lost")
	}
}

// TestMain runs, when MEMORY_HELPER_DIR is set, as TestConcurrentAppend's
// other process (helperAppend), not the tests.
func TestMain(m *testing.M) {
	if dir := os.Getenv("MEMORY_HELPER_DIR"); dir != "" {
		os.Exit(helperAppend(dir))
	}
	os.Exit(m.Run())
}

// helperAppend is TestConcurrentAppend's other process.
func helperAppend(dir string) int {
	st := Store{Dir: dir, MaxBytes: 4 << 10}
	for i := range 40 {
		if err := st.Append("s", Note{Op: OpWrite, Path: fmt.Sprintf("/p%s/f%d", os.Getenv("MEMORY_HELPER_ID"), i), How: Downloaded}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

func TestPrune(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	st := Store{Dir: dir, MaxSessions: 3}
	for i := range 5 {
		st.Append("s"+strconv.Itoa(i), Note{Op: OpWrite, Path: "/a", How: Downloaded})
		old := time.Now().Add(time.Duration(i-10) * time.Minute)
		os.Chtimes(st.Path("s"+strconv.Itoa(i)), old, old)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 3 {
		t.Errorf("%d session files kept, want 3", len(ents))
	}
	if _, err := os.Stat(st.Path("s4")); err != nil {
		t.Error("the newest session was pruned")
	}
	// Untouched for longer than MaxAge: gone at the next new session.
	old := time.Now().Add(-DefaultMaxAge - time.Hour)
	os.Chtimes(st.Path("s4"), old, old)
	st.Append("new", Note{Op: OpWrite, Path: "/a", How: Downloaded})
	if _, err := os.Stat(st.Path("s4")); err == nil {
		t.Error("a stale session was kept")
	}
}

// TestBounds: the memory stays small however much a session writes, and
// what it must drop makes it no less careful.
func TestBounds(t *testing.T) {
	t.Parallel()
	st := Store{Dir: t.TempDir()}
	big := strings.Repeat("echo x\n", MaxText/4)
	for i := range 600 {
		n := Note{Op: OpWrite, Path: fmt.Sprintf("/p/f%d.sh", i), How: Written, Text: big}
		if i == 0 {
			n = Note{Op: OpWrite, Path: "/p/tool", How: Downloaded}
		}
		if err := st.Append("s", n); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(st.Path("s"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > 2*DefaultMaxBytes {
		t.Errorf("session file is %d bytes", fi.Size())
	}
	s, _ := st.Load("s")
	if len(s.Files) > MaxFiles {
		t.Errorf("%d files", len(s.Files))
	}
	if s.File("/p/tool") == nil {
		t.Error("a downloaded file was forgotten before harmless ones")
	}
	text, partial := 0, 0
	for _, f := range s.Files {
		text += len(f.Text)
		if f.How&Partial != 0 {
			partial++
		}
		if len(f.Text) > MaxText {
			t.Errorf("%s keeps %d bytes of text", f.Path, len(f.Text))
		}
	}
	if text > MaxTotalText || partial == 0 {
		t.Errorf("%d bytes of text, %d partial files", text, partial)
	}
	// One huge write is cut and marked Partial.
	st.Append("h", Note{Op: OpWrite, Path: "/p/h.sh", How: Written, Text: strings.Repeat("a", 3*MaxText)})
	if h, _ := st.Load("h"); h.File("/p/h.sh") == nil || h.File("/p/h.sh").How&Partial == 0 || len(h.File("/p/h.sh").Text) != MaxText {
		t.Errorf("huge write: %+v", h.File("/p/h.sh"))
	}
}

func TestHost(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"git@github.com:a/b.git":           "github.com",
		"https://GitLab.com/a/b":           "gitlab.com",
		"ssh://git@host.example:2222/x":    "host.example",
		"https://user:pw@10.0.0.1:8443/x":  "10.0.0.1",
		"/srv/git/x.git":                   "",
		"../other":                         "",
		"file:///srv/x.git":                "",
		"host.example:path/x.git":          "host.example",
		"https://[2001:db8::1]/x.git":      "2001:db8::1",
		"git@[2001:db8::1]:x.git":          "2001",
		"C:/not/a/host but a windows path": "c",
	} {
		if got := Host(in); got != want {
			t.Errorf("Host(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkLoad is what the shim adds to every command: loading a typical
// session's memory (a few dozen notes), and a full one.
func BenchmarkLoad(b *testing.B) {
	for _, size := range []struct {
		name  string
		notes int
		text  int
	}{{"typical", 30, 200}, {"full", 600, 2000}} {
		b.Run(size.name, func(b *testing.B) {
			st := Store{Dir: b.TempDir()}
			for i := range size.notes {
				st.Append("s", Note{Op: OpAppend, Path: fmt.Sprintf("/work/proj/dir/file%d.sh", i%300), How: Written,
					Text: strings.Repeat("x", size.text)})
			}
			fi, _ := os.Stat(st.Path("s"))
			b.ReportMetric(float64(fi.Size()), "bytes")
			b.ResetTimer()
			for b.Loop() {
				if _, err := st.Load("s"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzNote: any line reads without panic, and what is written reads back
// the same.
func FuzzNote(f *testing.F) {
	f.Add("write", "/p/a\tb", "x\\y\nz", uint8(3), true)
	f.Add("", "", "", uint8(0), false)
	f.Fuzz(func(t *testing.T, op, path, text string, how uint8, push bool) {
		n := Note{Op: Op(op), Path: path, Text: text, How: How(how), Push: push, Origin: text, Project: path, Name: op, Value: text}
		line := appendNote(nil, n)
		got, ok := parseNote(string(line[:len(line)-1]))
		if op != "" && (!ok || got != n) {
			t.Errorf("round trip: %+v -> %q -> %+v, %v", n, line, got, ok)
		}
		s := &Session{}
		decode(s, []byte(op+path+"\n"+text+"\n"))
		s.Apply(got)
	})
}
