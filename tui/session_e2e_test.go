package tui

// End-to-end tests of an interactive session as a person has it: the
// built chaperone runs on bubblewrap as the shell of a tmux pane beside
// the panel (split window, panel on the left); the test types into the
// shell's pane with send-keys, reads both panes with capture-pane, and
// reads what the audit log recorded with package audit.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/audit"
	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/internal/itest"
	"github.com/chaperone-dev/chaperone/models"
)

const (
	shellPane = "e2e:0.1" // the pane chaperone runs in, right of the panel
	prompt    = "chp$ "   // the inner bash's prompt, once the test has set it
)

// sessionT is a tmux with the panel in one pane and chaperone, as an
// interactive shell, in the other; HOME, the config, the state (audit)
// and runtime (broker) folders are fresh.
type sessionT struct {
	*tmuxT
	home, proj string
}

func hasBwrap() bool {
	return exec.Command("bwrap", "--unshare-user", "--unshare-pid", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true").Run() == nil
}

// newSession starts the panel and, beside it, chaperone in the project
// of a fake HOME (a fake private key in ~/.ssh), waits for the session's
// first prompt and sets the prompt to chp$ (the sandbox has no ~/.bashrc:
// the first prompt is the system's). A prompt can run code, so setting it
// is held (session.gate): the panel approves it.
func newSession(t testing.TB) *sessionT {
	t.Helper()
	x := newTmux(t)
	itest.Require(t, "bwrap", hasBwrap())
	bin := itest.Programs(t)
	s := &sessionT{tmuxT: x, home: filepath.Join(x.dir, "home")}
	s.proj = filepath.Join(s.home, "proj")
	for _, f := range []struct{ path, text string }{
		{filepath.Join(x.dir, "config", "chaperone", "config.toml"), "backend = \"bwrap\"\nhold_timeout = \"2m\"\n"},
		{filepath.Join(s.home, ".ssh", "id_rsa"), "-----BEGIN OPENSSH PRIVATE KEY-----\nFAKE-KEY\n-----END OPENSSH PRIVATE KEY-----\n"},
		{filepath.Join(s.proj, "uniquefile-abc.txt"), "content-xyz\n"},
		{filepath.Join(s.proj, "README.md"), "# a project\n"},
	} {
		if err := os.MkdirAll(filepath.Dir(f.path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f.path, []byte(f.text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command("git", "init", "-q", s.proj).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	// Two panes of 120 columns; the shell's stays when chaperone ends,
	// with its status (tmux's own #{pane_dead_status} is not always
	// filled in).
	x.run("resize-window", "-t", "e2e", "-x", "241", "-y", "50")
	x.run("set-option", "-w", "-t", "e2e:0", "remain-on-exit", "on")
	x.startPanel()
	x.run("split-window", "-h", "-t", panelPane, "-e", "HOME="+s.home, "-c", s.proj,
		"'"+filepath.Join(bin, "chaperone")+"'; echo \"chaperone exited with $?\"")
	s.waitShellFunc("a prompt", func(sc string) bool { return strings.TrimSpace(sc) != "" }, 20*time.Second)
	s.typeLine("PS1='"+prompt+"'", "Enter")
	x.waitFor("PS1=", 10*time.Second)
	settle()
	x.keys("y")
	s.waitShell("\n"+prompt, 10*time.Second)
	x.waitFor("nothing held", 5*time.Second)
	return s
}

// shell is the shell pane's text, wrapped lines joined.
func (s *sessionT) shell() string {
	out, _ := s.tmux("capture-pane", "-p", "-J", "-t", shellPane)
	return out
}

// waitShell polls the shell pane until it shows want.
func (s *sessionT) waitShell(want string, timeout time.Duration) time.Time {
	s.t.Helper()
	return s.waitShellFunc(fmt.Sprintf("%q", want), func(sc string) bool { return strings.Contains(sc, want) }, timeout)
}

// waitShellCount polls the shell pane until it shows want n times.
func (s *sessionT) waitShellCount(want string, n int, timeout time.Duration) {
	s.t.Helper()
	s.waitShellFunc(fmt.Sprintf("%d × %q", n, want), func(sc string) bool { return strings.Count(sc, want) >= n }, timeout)
}

func (s *sessionT) waitShellFunc(what string, ok func(string) bool, timeout time.Duration) time.Time {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		sc := s.shell()
		now := time.Now()
		if ok(sc) {
			return now
		}
		if now.After(deadline) {
			s.t.Fatalf("shell pane never showed %s:\n%s\npanel:\n%s", what, sc, s.screen())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// lastLine is a screen's last line that is not blank.
func lastLine(screen string) string {
	lines := strings.Split(strings.TrimRight(screen, "\n "), "\n")
	return lines[len(lines)-1]
}

// typeLine types text into the shell pane (literally), then the keys.
func (s *sessionT) typeLine(text string, keys ...string) time.Time {
	s.t.Helper()
	if text != "" {
		s.run("send-keys", "-t", shellPane, "-l", text)
	}
	t0 := time.Now()
	if len(keys) > 0 {
		s.run(append([]string{"send-keys", "-t", shellPane}, keys...)...)
	}
	return t0
}

// TestE2ESession is a person's interactive session, line by line, with
// the panel beside it: typing, Tab completion, history, a held line
// approved in the panel, another withdrawn with Ctrl-C, and exit; then
// the audit log has each line as its own record.
func TestE2ESession(t *testing.T) {
	s := newSession(t)

	// Typing a command shows its output.
	s.typeLine("echo hello-$((6*7))", "Enter")
	s.waitShell("\nhello-42\n", 10*time.Second)

	// Tab completes the project's only file named so; its output follows.
	s.typeLine("cat uniq", "Tab")
	s.waitShell(prompt+"cat uniquefile-abc.txt", 5*time.Second)
	s.typeLine("", "Enter")
	s.waitShellCount("\ncontent-xyz\n", 1, 10*time.Second)

	// Up recalls the previous line; Enter runs it again.
	s.waitShellCount(prompt, 4, 5*time.Second)
	s.typeLine("", "Up")
	recalled := strings.TrimSpace(prompt + "cat uniquefile-abc.txt")
	s.waitShellFunc("the recalled line", func(sc string) bool { return strings.TrimSpace(lastLine(sc)) == recalled }, 5*time.Second)
	s.typeLine("", "Enter")
	s.waitShellCount("\ncontent-xyz\n", 2, 10*time.Second)

	// A line rated high is held: the terminal says so, the panel shows
	// it, and nothing of it runs until y.
	approved := "echo APPROVED-$((40+2)) $EPOCHREALTIME; cat ~/.ssh/id_rsa"
	t0 := s.typeLine(approved, "Enter")
	shown := s.waitFor(approved, 10*time.Second)
	s.waitShell("chaperone: held: ", 5*time.Second)
	if sc := s.shell(); !strings.Contains(sc, "approve in chaperone tui") || !strings.Contains(sc, "Ctrl-C withdraws it") {
		t.Errorf("the terminal does not say where to approve the held line, or how to withdraw it:\n%s", sc)
	}
	if p := s.screen(); !strings.Contains(p, "1 held") || !strings.Contains(p, "secrets.read") {
		t.Errorf("panel does not show the held line with its finding:\n%s", p)
	}
	settle()
	if strings.Contains(s.shell(), "APPROVED-42") {
		t.Fatalf("the held line ran before it was approved:\n%s", s.shell())
	}
	k := s.keys("y")
	s.waitShell("\nAPPROVED-42 ", 10*time.Second)
	if ran, ok := ranAt(s.shell(), "APPROVED-42"); ok {
		t.Logf("held line: Enter → panel shows it %v; y → it runs %v", shown.Sub(t0), ran.Sub(k))
	}
	s.waitFor("nothing held", 5*time.Second)

	// Another held line, withdrawn with Ctrl-C in the shell: it never
	// runs, and the panel no longer holds it.
	canary := filepath.Join(s.proj, "canary-withdrawn")
	withdrawn := "touch " + canary + "; cat ~/.ssh/id_rsa"
	s.typeLine(withdrawn, "Enter")
	s.waitFor(withdrawn, 10*time.Second)
	s.waitShellCount("chaperone: held: ", 2, 5*time.Second)
	s.typeLine("", "C-c")
	s.waitFor("nothing held", 5*time.Second)
	if p := s.screen(); strings.Contains(p, "held ·") || strings.Contains(p, "▶") {
		t.Errorf("panel still shows a held line after Ctrl-C:\n%s", p)
	}
	s.waitShellCount(prompt, 7, 5*time.Second)
	s.typeLine("echo still-$((1+1))", "Enter")
	s.waitShell("\nstill-2\n", 10*time.Second)

	// exit ends the session with its status.
	s.typeLine("exit 3", "Enter")
	s.waitShell("chaperone exited with ", 10*time.Second)
	if sc := s.shell(); !strings.Contains(sc, "chaperone exited with 3\n") {
		t.Errorf("chaperone's status after `exit 3` is not 3:\n%s", sc)
	}
	if _, err := os.Stat(canary); err == nil {
		t.Errorf("the withdrawn line ran: %s exists", canary)
	}

	// Each line is its own record, in order, of one session, with its
	// decision, status and output.
	dir := config.AuditConfig{}.AuditDir()
	evs, err := audit.ReadAll(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		cmd      string
		decision models.Decision
		by       string
		exit     int // -1: none (it did not run); -2: any
		output   string
	}{
		{"PS1='" + prompt + "'", models.Approved, models.ByPerson, 0, ""},
		{"echo hello-$((6*7))", models.Allow, models.ByRules, 0, "hello-42"},
		{"cat uniquefile-abc.txt", models.Allow, models.ByRules, 0, "content-xyz"},
		{"cat uniquefile-abc.txt", models.Allow, models.ByRules, 0, "content-xyz"},
		{approved, models.Approved, models.ByPerson, -2, "APPROVED-42"},
		{withdrawn, models.Denied, "", -1, ""},
		{"echo still-$((1+1))", models.Allow, models.ByRules, 0, "still-2"},
		{"exit 3", models.Allow, models.ByRules, 3, ""},
	}
	var got []string
	for _, ev := range evs {
		got = append(got, fmt.Sprintf("%q %s by %s exit %v session %s", ev.Command, ev.Decision, ev.DecidedBy, exitOf(ev), ev.Session))
	}
	if len(evs) != len(want) {
		t.Fatalf("audit has %d records, want one per line (%d):\n%s", len(evs), len(want), strings.Join(got, "\n"))
	}
	for i, w := range want {
		ev := evs[i]
		if strings.TrimSpace(ev.Command) != w.cmd || ev.Decision != w.decision || w.by != "" && ev.DecidedBy != w.by {
			t.Errorf("record %d: %s; want %q %s by %s", i, got[i], w.cmd, w.decision, w.by)
		}
		if ev.Session == "" || ev.Session != evs[0].Session {
			t.Errorf("record %d: session %q, want the session's own (%q)", i, ev.Session, evs[0].Session)
		}
		switch {
		case w.exit == -1 && ev.Exit != nil:
			t.Errorf("record %d: %s has an exit status: it ran", i, got[i])
		case w.exit >= 0 && (ev.Exit == nil || *ev.Exit != w.exit):
			t.Errorf("record %d: %s; want exit %d", i, got[i], w.exit)
		case w.exit == -2 && ev.Exit == nil:
			t.Errorf("record %d: %s has no exit status", i, got[i])
		}
		if w.output == "" {
			continue
		}
		path := audit.OutputPath(dir, ev)
		if path == "" {
			t.Errorf("record %d (%q): no output recorded", i, ev.Command)
			continue
		}
		c, err := audit.ReadCast(path)
		if err != nil {
			t.Errorf("record %d: %v", i, err)
			continue
		}
		if !strings.Contains(c.Text(), w.output) {
			t.Errorf("record %d (%q): output %q lacks %q", i, ev.Command, c.Text(), w.output)
		}
	}
}

func exitOf(ev models.Event) string {
	if ev.Exit == nil {
		return "none"
	}
	return strconv.Itoa(*ev.Exit)
}

// ranAtRE is a held line's first output: its marker and $EPOCHREALTIME
// as the line started running.
var ranAtRE = regexp.MustCompile(`(?m)^(\S+) (\d+)\.(\d{6})$`)

// ranAt finds marker's output line on the screen and returns the time it
// printed.
func ranAt(screen, marker string) (time.Time, bool) {
	for _, m := range ranAtRE.FindAllStringSubmatch(screen, -1) {
		if m[1] != marker {
			continue
		}
		sec, _ := strconv.ParseInt(m[2], 10, 64)
		usec, _ := strconv.ParseInt(m[3], 10, 64)
		return time.Unix(sec, usec*1000), true
	}
	return time.Time{}, false
}

// BenchmarkE2ESessionHold measures, on an interactive session in tmux
// beside the panel, the two figures of the issue for a held line: from
// Enter in the shell's pane until the panel shows the line (the issue's
// target: 100 ms), and from y in the panel until the line runs (its
// $EPOCHREALTIME; target 20 ms). Both include tmux: send-keys is a
// process start (its own time is reported as send-keys-ms), and the panel
// is read by polling capture-pane. Run with -bench E2ESessionHold
// -benchtime 20x; ns/op is the whole round.
func BenchmarkE2ESessionHold(b *testing.B) {
	s := newSession(b)
	var show, run, keys []time.Duration
	i := 0
	for b.Loop() {
		i++
		marker := fmt.Sprintf("RAN-%d", i)
		line := fmt.Sprintf("echo %s $EPOCHREALTIME; cat ~/.ssh/id_rsa # %d", marker, i)
		if i%8 == 0 {
			s.typeLine("clear", "Enter")
			s.waitShellFunc("a cleared screen", func(sc string) bool { return strings.Count(sc, prompt) == 1 }, 5*time.Second)
		}
		t0 := s.typeLine(line, "Enter")
		show = append(show, s.waitFor(fmt.Sprintf("# %d", i), 10*time.Second).Sub(t0))
		settle()
		k := s.keys("y")
		keys = append(keys, time.Since(k))
		s.waitShell("\n"+marker+" ", 10*time.Second)
		at, ok := ranAt(s.shell(), marker)
		if !ok {
			b.Fatalf("no time printed by %s:\n%s", marker, s.shell())
		}
		run = append(run, at.Sub(k))
		s.waitFor("nothing held", 5*time.Second)
	}
	b.ReportMetric(float64(median(show).Microseconds())/1000, "show-ms")
	b.ReportMetric(float64(slices.Max(show).Microseconds())/1000, "show-max-ms")
	b.ReportMetric(float64(median(run).Microseconds())/1000, "approve-run-ms")
	b.ReportMetric(float64(slices.Max(run).Microseconds())/1000, "approve-run-max-ms")
	b.ReportMetric(float64(median(keys).Microseconds())/1000, "send-keys-ms")
}
