package audit

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeDays writes 5 records on each of two days and returns the files.
func writeDays(t *testing.T, dir string) (day1, day2 string) {
	t.Helper()
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	l := mustOpen(t, dir, WithClock(func() time.Time { return now }))
	for d := range 2 {
		now = time.Date(2026, 11, 27+d, 10, 0, 0, 0, time.UTC)
		for i := range 5 {
			ev := realisticEvent(i)
			ev.Time = now
			if err := l.Append(ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	return filepath.Join(dir, "2026-11-27.jsonl"), filepath.Join(dir, "2026-11-28.jsonl")
}

func editLines(t *testing.T, path string, edit func([]string) []string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	out := strings.Join(edit(lines), "\n")
	if out != "" {
		out += "\n"
	}
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestTamper changes an intact log in each way the chain must catch and
// checks that Verify names the right record and says how it is broken.
// Lines are 1-based; line 1 of each file is its anchor (record 1), so
// line n holds record n.
func TestTamper(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tamper func(t *testing.T, day1, day2 string)
		file   string // the file the error must name ("" for day2)
		line   int
		how    string
	}{
		{name: "edit", tamper: func(t *testing.T, _, day2 string) {
			editLines(t, day2, func(l []string) []string {
				l[2] = strings.Replace(l[2], "git diff", "git dirf", 1)
				return l
			})
		}, line: 3, how: "changed after it was written"},
		{name: "edit-unparsable", tamper: func(t *testing.T, _, day2 string) {
			editLines(t, day2, func(l []string) []string { l[2] = l[2][:40]; return l })
		}, line: 3, how: "not a valid record"},
		{name: "edit-last", tamper: func(t *testing.T, _, day2 string) {
			editLines(t, day2, func(l []string) []string {
				l[5] = strings.Replace(l[5], `"exit":`, `"exit":1`, 1)
				return l
			})
		}, line: 6, how: "last record was changed"},
		{name: "edit-last-of-older-file", tamper: func(t *testing.T, day1, _ string) {
			editLines(t, day1, func(l []string) []string {
				l[5] = strings.Replace(l[5], "docker", "podman", 1)
				return l
			})
		}, file: "2026-11-27.jsonl", line: 6, how: "anchor of 2026-11-28.jsonl holds a different hash"},
		{name: "delete", tamper: func(t *testing.T, _, day2 string) {
			editLines(t, day2, func(l []string) []string { return append(l[:2], l[3:]...) })
		}, line: 3, how: "record 3 is missing"},
		{name: "delete-two", tamper: func(t *testing.T, _, day2 string) {
			editLines(t, day2, func(l []string) []string { return append(l[:2], l[4:]...) })
		}, line: 3, how: "records 3 to 4 are missing"},
		{name: "reorder", tamper: func(t *testing.T, _, day2 string) {
			editLines(t, day2, func(l []string) []string { l[2], l[3] = l[3], l[2]; return l })
		}, line: 3, how: "reordered"},
		{name: "insert-copy", tamper: func(t *testing.T, _, day2 string) {
			editLines(t, day2, func(l []string) []string {
				return append(l[:4], append([]string{l[3]}, l[4:]...)...)
			})
		}, line: 5, how: "appears twice"},
		{name: "truncate-records", tamper: func(t *testing.T, _, day2 string) {
			editLines(t, day2, func(l []string) []string { return l[:4] })
		}, line: 4, how: "truncated"},
		{name: "truncate-mid-line", tamper: func(t *testing.T, _, day2 string) {
			data, _ := os.ReadFile(day2)
			os.WriteFile(day2, data[:len(data)-100], 0o600)
		}, line: 5, how: "truncated"},
		{name: "truncate-older-file", tamper: func(t *testing.T, day1, _ string) {
			editLines(t, day1, func(l []string) []string { return l[:4] })
		}, file: "2026-11-27.jsonl", line: 4, how: "removed from (or added to) its end"},
		{name: "delete-start-of-file", tamper: func(t *testing.T, _, day2 string) {
			editLines(t, day2, func(l []string) []string { return l[2:] })
		}, line: 1, how: "does not start with its anchor"},
		{name: "delete-file", tamper: func(t *testing.T, day1, _ string) {
			os.Remove(day1)
		}, line: 1, how: "2026-11-27.jsonl is missing"},
		{name: "empty-file", tamper: func(t *testing.T, _, day2 string) {
			os.WriteFile(day2, nil, 0o600)
		}, file: "2026-11-27.jsonl", line: 6, how: "truncated"},
		{name: "head-deleted", tamper: func(t *testing.T, day1, _ string) {
			os.Remove(filepath.Join(filepath.Dir(day1), headName))
		}, file: headName, how: "head file is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			day1, day2 := writeDays(t, dir)
			mustVerify(t, dir)
			tt.tamper(t, day1, day2)
			_, err := Verify(dir)
			var be *BrokenError
			if !errors.As(err, &be) {
				t.Fatalf("verify after %s: %v, want a BrokenError", tt.name, err)
			}
			file := tt.file
			if file == "" {
				file = "2026-11-28.jsonl"
			}
			if be.File != file || be.Line != tt.line || !strings.Contains(be.How, tt.how) {
				t.Errorf("got %v\nwant %s line %d: …%s…", be, file, tt.line, tt.how)
			}
		})
	}
}

func TestTamperOutput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l := mustOpen(t, dir)
	ev := realisticEvent(1)
	rec, err := l.NewRecorder(ev)
	if err != nil {
		t.Fatal(err)
	}
	rec.Write([]byte("hello\n"))
	ev.Output, _ = rec.Close()
	l.Append(ev)
	mustVerify(t, dir)
	path := OutputPath(dir, *ev)
	data, _ := os.ReadFile(path)
	os.WriteFile(path, []byte(strings.Replace(string(data), "hello", "HELLO", 1)), 0o600)
	_, err = Verify(dir)
	var be *BrokenError
	if !errors.As(err, &be) || !strings.Contains(be.How, "output of record") {
		t.Fatalf("verify after editing the output: %v", err)
	}
}

func TestVerifyEmpty(t *testing.T) {
	t.Parallel()
	rep, err := Verify(filepath.Join(t.TempDir(), "none"))
	if err != nil || rep.Records != 0 {
		t.Fatalf("verify of a missing dir: %+v, %v", rep, err)
	}
}

// TestVerifyWhileWriting: verification during appends never reports a
// break (the head and the files are read under the lock).
func TestVerifyWhileWriting(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l := mustOpen(t, dir)
	l.Append(realisticEvent(0))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 300 {
			l.Append(realisticEvent(i))
		}
	}()
	for checks := 0; ; checks++ {
		select {
		case <-done:
			mustVerify(t, dir)
			return
		default:
		}
		if _, err := Verify(dir); err != nil {
			t.Fatalf("verify during appends (check %d): %v", checks, err)
		}
	}
}
