package shim

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaperone-dev/chaperone/audit"
	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/parser"
	"github.com/chaperone-dev/chaperone/sandbox"
)

// runCaptured runs script with the host backend, stdout and stderr going
// to out and errf, and returns the recorded output's text.
func runCaptured(t *testing.T, script string, out, errf *os.File) (*models.Event, string) {
	t.Helper()
	dir := t.TempDir()
	log, err := audit.Open(dir, audit.WithOutputCap(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	ev := &models.Event{Command: script}
	job := &sandbox.Job{Script: script, Dir: t.TempDir(), StdoutFile: out, StderrFile: errf}
	c := startCapture(context.Background(), log, job, ev, parser.Parse(script), 0, false)
	if _, err := (sandbox.Host{}).Run(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	c.finish(ev)
	if ev.Output == nil || ev.Output.Path == "" {
		t.Fatalf("no output recorded: %+v", ev.Output)
	}
	cast, err := audit.ReadCast(filepath.Join(dir, ev.Output.Path))
	if err != nil {
		t.Fatal(err)
	}
	return ev, strings.ReplaceAll(cast.Text(), "\r\n", "\n")
}

func TestCaptureThroughPipe(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string)
	go func() {
		b := new(strings.Builder)
		buf := make([]byte, 4096)
		for {
			n, err := pr.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				got <- b.String()
				return
			}
		}
	}()
	_, rec := runCaptured(t, "echo one; echo two >&2; echo three", pw, pw)
	pw.Close()
	seen := <-got
	want := "one\ntwo\nthree\n"
	if seen != want {
		t.Errorf("the agent saw %q, want %q", seen, want)
	}
	if rec != want {
		t.Errorf("recorded %q, want %q (one pipe keeps the order)", rec, want)
	}
}

func TestCaptureFollowsRegularFile(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "task.output"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("before\n") // written before the command: not its output
	_, rec := runCaptured(t, "echo out; echo err >&2", f, f)
	b, _ := os.ReadFile(f.Name())
	if string(b) != "before\nout\nerr\n" {
		t.Errorf("file holds %q: the command must write to it itself", b)
	}
	if rec != "out\nerr\n" {
		t.Errorf("recorded %q", rec)
	}
}

func TestReadOnly(t *testing.T) {
	for cmd, want := range map[string]bool{
		"git status; ls -la":          true,
		"grep -r foo . 2>/dev/null":   true,
		"cat a > b":                   false,
		"git commit -m x":             false,
		"make":                        false,
		"$X status":                   false,
		"sudo ls":                     false,
		"echo hi | tee out.txt":       false,
		"wc -l main.go && head -3 go": true,
	} {
		if got := readOnly(parser.Parse(cmd)); got != want {
			t.Errorf("readOnly(%q) = %v, want %v", cmd, got, want)
		}
	}
}
