package sessions

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/audit"
	"github.com/chaperone-dev/chaperone/models"
)

// endRE is the marker each command is followed by, as it prints: the
// command's $? (the marker's own text, echoed by a terminal, shows "$?").
var endRE = regexp.MustCompile(`__END__(\d+)\r?\n`)

// run writes a command to the session as an agent does — in parts, a
// moment apart, as writes arrive — then the marker, and returns what came
// before the marker's output and the command's $? as the marker printed
// it.
func (sh *shell) run(parts ...string) (string, int) {
	sh.t.Helper()
	for i, p := range parts {
		if i > 0 {
			time.Sleep(50 * time.Millisecond)
		}
		sh.write(p)
	}
	sh.write("echo __END__$?\n")
	out, g := sh.expect(endRE, time.Minute)
	status, _ := strconv.Atoi(g[1])
	return out, status
}

// csiRE is a terminal control sequence (a PTY's output has bash's
// bracketed-paste switches around each line read).
var csiRE = regexp.MustCompile(`\x1b\[[0-9;?]*[@-~]`)

// hasLine reports whether out has line as a whole line, control
// sequences and carriage returns left out.
func hasLine(out, line string) bool {
	out = csiRE.ReplaceAllString(strings.ReplaceAll(out, "\r", ""), "")
	return slices.Contains(strings.Split(out, "\n"), line)
}

// TestAgentSession drives chaperone as SWE-agent drives its bash: one
// process, commands written one at a time, output read until a marker,
// starting as SWE-ReX's BashSession does (a literal PS1).
// Shell state carries from one command to the next (cd, export, a
// sourced venv, functions); a statement rated high is denied (no panel
// runs) with $? 126 (130 on a terminal) and the session goes on; a function definition and a
// here-document arrive over several writes. Every backend, with stdin a
// PTY and a pipe that stays open (where each command's output arrives
// before the next is written: the marker is read first).
func TestAgentSession(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		for _, transport := range transports {
			t.Run(backend+"/"+transport, func(t *testing.T) {
				t.Parallel()
				agentSession(t, backend, transport)
			})
		}
	}
}

func agentSession(t *testing.T, backend, transport string) {
	w := newWorld(t, backend)
	sub, venv := w.proj+"/sub", w.proj+"/sub/.venv"
	sh := w.start(transport, "")
	ran := 0 // statements written
	// A denied statement's status: 126 on a pipe; on a terminal bash drops
	// the whole line as it drops one interrupted by Ctrl-C (130): bash
	// keeps no other way for its own hook to refuse a line.
	denied := 126
	if transport == "pty" {
		denied = 130
	}
	step := func(name string, wantStatus int, parts ...string) string {
		t.Helper()
		out, status := sh.run(parts...)
		ran += 2
		if status != wantStatus {
			t.Errorf("%s: $? %d, want %d; output:\n%s", name, status, wantStatus, out)
		}
		return out
	}
	if _, status := sh.run(); status != 0 { // the session is up
		t.Fatalf("first marker: $? %d", status)
	}
	ran++

	// SWE-ReX's BashSession starts its bash so: a literal prompt to wait
	// for, and no continuation prompt.
	if out := step("SWE-ReX's start", 0, "umask 002; export PS1='SHELLPS1PREFIX'; export PS2=''\n"); strings.Contains(out, "chaperone: denied") {
		t.Errorf("SWE-ReX's start (a literal PS1) was denied:\n%s", out)
	}
	if out := step("PS1", 0, "echo \"PS1=$PS1\"\n"); !hasLine(out, "PS1=SHELLPS1PREFIX") {
		t.Errorf("PS1 after SWE-ReX's start: got:\n%s", out)
	}

	step("cd", 0, "cd sub\n")
	step("export", 0, "export X=7\n")
	if out := step("echo $X; pwd", 0, "echo $X; pwd\n"); !hasLine(out, "7") || !hasLine(out, sub) {
		t.Errorf("echo $X; pwd after cd sub and export X=7: want 7 and %s; got:\n%s", sub, out)
	}

	step("source", 0, "source .venv/bin/activate\n")
	if out := step("venv", 0, "echo \"venv=$VIRTUAL_ENV\"; venv-hello\n"); !hasLine(out, "venv="+venv) || !hasLine(out, "venv-hello from "+venv) {
		t.Errorf("after source .venv/bin/activate: want VIRTUAL_ENV and the venv's program on PATH; got:\n%s", out)
	}

	// A statement rated high: no panel runs, so it is denied.
	if out := step("held statement", denied, "cat ~/.ssh/id_rsa\n"); !strings.Contains(out, "chaperone: denied: ") || strings.Contains(out, "FAKE-KEY") {
		t.Errorf("cat ~/.ssh/id_rsa: want chaperone's denial and no key; got:\n%s", out)
	}
	if out := step("after the denial", 0, "echo \"X=$X in $PWD\"\n"); !hasLine(out, "X=7 in "+sub) {
		t.Errorf("the session did not go on as it was after the denial; got:\n%s", out)
	}
	// A denied definition defines nothing.
	step("denied function definition", denied, "leak() { cat ~/.ssh/id_rsa; }\n")
	if out := step("the denied function", 1, "type leak >/dev/null 2>&1\n"); strings.Contains(out, "FAKE-KEY") {
		t.Errorf("the denied function ran:\n%s", out)
	}

	// A function definition and a here-document over several writes.
	step("function definition", 0, "greet() {\n", "  echo \"hello $1, X=$X\"\n", "}\n")
	if out := step("function call", 0, "greet agent\n"); !hasLine(out, "hello agent, X=7") {
		t.Errorf("greet agent: got:\n%s", out)
	}
	if out := step("here-document", 0, "cat <<EOF\n", "line one X=$X\n", "line two in $PWD\n", "EOF\n"); !hasLine(out, "line one X=7") || !hasLine(out, "line two in "+sub) {
		t.Errorf("here-document: got:\n%s", out)
	}

	sh.write("exit 5\n")
	ran++
	if code := sh.wait(30 * time.Second); code != 5 {
		t.Errorf("exit 5: chaperone ended with %d", code)
	}

	// Each statement is its own record, of one session.
	evs, err := audit.ReadAll(w.auditDir())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range evs {
		got = append(got, fmt.Sprintf("%q %s by %s session %s", ev.Command, ev.Decision, ev.DecidedBy, ev.Session))
	}
	if len(evs) != ran {
		t.Errorf("%d audit records for %d statements:\n%s", len(evs), ran, strings.Join(got, "\n"))
	}
	find := func(cmd string) *models.Event {
		for i := range evs {
			if strings.TrimSpace(evs[i].Command) == cmd {
				return &evs[i]
			}
		}
		t.Errorf("no record of %q:\n%s", cmd, strings.Join(got, "\n"))
		return nil
	}
	if ev := find("export X=7"); ev != nil && (ev.Decision != models.Allow || ev.Exit == nil || *ev.Exit != 0) {
		t.Errorf("export X=7: %+v", ev)
	}
	if ev := find("cat ~/.ssh/id_rsa"); ev != nil && (ev.Decision != models.Denied || ev.Exit != nil) {
		t.Errorf("cat ~/.ssh/id_rsa: decision %s, exit %v; want denied, not run", ev.Decision, ev.Exit)
	}
	if ev := find("exit 5"); ev != nil && (ev.Exit == nil || *ev.Exit != 5) {
		t.Errorf("exit 5: exit %v", ev.Exit)
	}
	for i, ev := range evs {
		if ev.Session == "" || ev.Session != evs[0].Session {
			t.Errorf("record %d (%q): session %q, want the session's own (%q)", i, ev.Command, ev.Session, evs[0].Session)
		}
	}
}

// TestOutputRecorded: each statement's record has its own output, also
// for statements that end as soon as they have written it (a builtin's
// echo), one right after the other.
func TestOutputRecorded(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		for _, transport := range transports {
			t.Run(backend+"/"+transport, func(t *testing.T) {
				t.Parallel()
				w := newWorld(t, backend)
				sh := w.start(transport, "")
				sh.run() // the session is up
				const n = 30
				for i := range n {
					sh.write(fmt.Sprintf("echo line-%02d\n", i))
				}
				sh.write("exit\n")
				if code := sh.wait(30 * time.Second); code != 0 {
					t.Errorf("exit: chaperone ended with %d", code)
				}
				evs, err := audit.ReadAll(w.auditDir())
				if err != nil {
					t.Fatal(err)
				}
				lost := 0
				for i := range n {
					cmd := fmt.Sprintf("echo line-%02d", i)
					idx := slices.IndexFunc(evs, func(ev models.Event) bool { return strings.TrimSpace(ev.Command) == cmd })
					if idx < 0 {
						t.Errorf("no record of %q", cmd)
						continue
					}
					text := ""
					if p := audit.OutputPath(w.auditDir(), evs[idx]); p != "" {
						if c, err := audit.ReadCast(p); err == nil {
							text = c.Text()
						}
					}
					if !strings.Contains(text, cmd[5:]) {
						lost++
						t.Errorf("record of %q: output %q lacks %q", cmd, text, cmd[5:])
					}
				}
				if lost > 0 {
					t.Logf("%d of %d outputs not recorded", lost, n)
				}
			})
		}
	}
}
