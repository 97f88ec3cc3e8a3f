package escape

// Red-team probes against the end marks (shim/marks.go): after each
// statement of a pipe session, and after each line of an interactive one,
// bash prints ESC ] 6973 ; TOKEN BEL where chaperone's relay finds it, and
// the statement's output recording ends there. An agent steered by
// untrusted text tries to end a recording early (hiding what a statement
// printed from the audit log), to have a later statement's output land in
// an earlier record, to stall a session with a mark that never comes, to
// leak marks into what the caller sees, or to reach the session's own
// container and control folder.

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/audit"
	"github.com/chaperone-dev/chaperone/internal/itest"
	"github.com/chaperone-dev/chaperone/models"
)

// recorded returns the audit records of w whose command holds cmd (the
// last first), with the output each recorded.
func recorded(t *testing.T, w *world, cmd string) (evs []models.Event, outs []string) {
	t.Helper()
	dir := filepath.Join(w.state, "chaperone", "audit")
	all, err := audit.ReadAll(dir)
	if err != nil {
		t.Fatalf("read the audit log: %v", err)
	}
	cmd = w.x(cmd)
	for i := len(all) - 1; i >= 0; i-- {
		ev := all[i]
		if !strings.Contains(ev.Command, cmd) {
			continue
		}
		text := ""
		if p := audit.OutputPath(dir, ev); p != "" {
			if c, err := audit.ReadCast(p); err == nil {
				text = c.Text()
			}
		}
		evs, outs = append(evs, ev), append(outs, text)
	}
	return evs, outs
}

// recordHolds fails the test unless the (last) record of the statement
// holding cmd recorded want as its output.
func recordHolds(t *testing.T, w *world, cmd, want string) {
	t.Helper()
	want = w.x(want)
	var evs []models.Event
	var outs []string
	for end := time.Now().Add(5 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if evs, outs = recorded(t, w, cmd); len(evs) > 0 || time.Now().After(end) {
			break
		}
	}
	if len(evs) == 0 {
		t.Errorf("HIDDEN: no audit record of %q", w.x(cmd))
		return
	}
	if !strings.Contains(outs[0], want) {
		t.Errorf("HIDDEN: the record of %q lacks its output %q: recorded %q", w.x(cmd), want, clip(outs[0], 400))
	}
}

// ---- pipe sessions ----------------------------------------------------------

// A statement prints what looks like a mark, whole or in part (the start
// of one at its very end, which the relay holds back a moment): the
// caller sees exactly what bash printed, the record holds it, and the
// session does not wait for the rest of a mark that never comes.
func TestRedTeamMarkLookalikeShown(t *testing.T) {
	sessionBackends(t, worldOpts{deny: true}, func(t *testing.T, w *world) {
		s := startSession(t, w)
		const look = `A\e]6973;0123abcd\aB\e]6973;\e]6973;ff\aC\e]6973;` + "%064d" + `\aD\e]6973;` + "%065d" + `\aE`
		r := s.run(`printf '` + look + `\n' 0 0; printf '` + look + `\n' 0 0 >&2`)
		want := "A\x1b]6973;0123abcd\aB\x1b]6973;\x1b]6973;ff\aC\x1b]6973;" + strings.Repeat("0", 64) + "\aD\x1b]6973;" + strings.Repeat("0", 65) + "\aE\n"
		if r.stdout != want {
			t.Errorf("LEAK: stdout %q, bash printed %q", r.stdout, want)
		}
		if r.stderr != want {
			t.Errorf("LEAK: stderr %q, bash printed %q", r.stderr, want)
		}
		// The start of a mark at the very end of a statement's output.
		for _, tail := range []string{`\e`, `\e]69`, `\e]6973;`, `\e]6973;abc`, `\e]6973;` + strings.Repeat("a", 64)} {
			start := time.Now()
			r, ok := s.try(`printf 'T`+tail+`'; printf 'T`+tail+`' >&2`, 20*time.Second)
			want := "T" + strings.NewReplacer(`\e`, "\x1b").Replace(tail)
			if !ok {
				t.Errorf("STALL: a statement that ended with %q did not finish (stdout %q)", want, r.stdout)
				continue
			}
			if r.stdout != want || r.stderr != want {
				t.Errorf("LEAK: a statement that printed %q: stdout %q, stderr %q", want, r.stdout, r.stderr)
			}
			if d := time.Since(start); d > 4*time.Second {
				t.Errorf("STALL: a statement that ended with %q took %v", want, d)
			}
		}
		s.run("echo last-@ID@")
		if c := s.close(); c != 0 {
			t.Errorf("the session ended with %d", c)
		}
		recordHolds(t, w, "printf 'A", "0123abcd")
	})
}

// A statement's output after a lookalike mark, and after its own copy of
// the mark-shaped text that the driver prints, is still its own: the
// record holds all of it.
func TestRedTeamMarkLookalikeEndsRecord(t *testing.T) {
	sessionBackends(t, worldOpts{deny: true}, func(t *testing.T, w *world) {
		s := startSession(t, w)
		s.run(`printf '\e]6973;%s\a' 0 a 1234 $(seq -w 0 99 | tr -d '\n' | head -c 64); echo AFTER-$((@N@+3))`)
		s.close()
		recordHolds(t, w, "echo AFTER-", fmt.Sprintf("AFTER-%d", w.n+3))
	})
}

// A job a statement leaves in the background reaches the inner bash's
// descriptors through /proc (its pid is $$), by a name the rater does not
// take for one (/proc/$$/f?/1[0]: while a statement runs, bash keeps its
// copy of the channel's "a" at 10): it reads the channel's next message,
// the "#oTOKEN" of the running statement's end mark. The mark never comes
// (chaperone waits for it, then goes on) and, with the token in hand, the
// job ends a later statement's recording whenever it likes: that
// statement's output is in no record.
func TestRedTeamMarkBackgroundStealsToken(t *testing.T) {
	sessionBackends(t, worldOpts{deny: true}, func(t *testing.T, w *world) {
		s := startSession(t, w)
		s.run(`(sleep 1; m=$(head -c 35 /proc/$$/f?/1[0] | tr -d '\0'); sleep 8; printf '\e]6973;%s\a' "${m:2}") 2>/dev/null &`)
		start := time.Now()
		s.try("sleep 3", 30*time.Second)
		if d := time.Since(start); d > 4500*time.Millisecond {
			t.Logf("STALL: a statement of 3 s took %v (its end mark was taken)", d)
		}
		s.try("sleep 9; echo SECRET-$((@N@+5))", 40*time.Second)
		s.close()
		recordHolds(t, w, "echo SECRET-", fmt.Sprintf("SECRET-%d", w.n+5))
	})
}

// The same job reads the channel for good: it takes the statements
// themselves, which never run, and chaperone must not wait for their
// status for ever.
func TestRedTeamMarkBackgroundStealsStatement(t *testing.T) {
	sessionBackends(t, worldOpts{deny: true}, func(t *testing.T, w *world) {
		s := startSession(t, w)
		s.run(`(sleep 1; timeout 60 cat /proc/$$/f?/1[0] >/dev/null) 2>/dev/null &`)
		s.try("sleep 3", 30*time.Second)
		if _, ok := s.try("echo stolen-@ID@", 30*time.Second); !ok {
			t.Errorf("STALL: a statement a background job took from the channel never finished")
		}
	})
}

// ---- interactive sessions ---------------------------------------------------

// PROMPT_COMMAND tells chaperone a line's end over the control folder's
// FIFO q, which every process of the sandbox may write, and its token
// is bash's: a line that writes an end of its own there, and prints its
// mark, ends its own recording (and gives its own status) before what it
// prints next.
func TestRedTeamMarkInteractiveForgedEnd(t *testing.T) {
	interactiveWorlds(t, backends, worldOpts{deny: true}, func(s *ptySession) {
		t, w := s.t, s.w
		// The FIFO is reached by a link in the project, so that the
		// line writes to a file of the project.
		s.line(`ln -s /run/chaperone-ctl/q notes-@ID@.txt`)
		s.settle(30 * time.Second)
		s.line(`printf 'D\x1f0\x1f424242\0' >>notes-@ID@.txt; printf '\e]6973;424242\a'; sleep 1; echo HIDDEN-@ID@-$((6*7)); false`)
		if !s.waitFor("HIDDEN-@ID@-42", 30*time.Second) {
			t.Fatalf("the line did not run")
		}
		s.settle(30 * time.Second)
		s.end()
		recordHolds(t, w, "echo HIDDEN-@ID@", "HIDDEN-@ID@-42")
		if evs, _ := recorded(t, w, "echo HIDDEN-@ID@"); len(evs) > 0 && (evs[0].Exit == nil || *evs[0].Exit != 1) {
			t.Errorf("FORGED: the line's status is recorded as %v, bash's was 1", exitOf(evs[0]))
		}
	})
}

// ---- the session's own container ------------------------------------------

// A session runs in a container of its own: gone once the session ends,
// its control folder read-only, and another session of the same project
// does not see it.
func TestRedTeamMarkSessionContainer(t *testing.T) {
	t.Parallel()
	for _, b := range []string{"docker", "podman"} {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			itest.Require(t, b, available(b))
			w := newWorld(t, b, worldOpts{deny: true})
			w.begin(t)
			a := startSession(t, w)
			a.run("sleep @N@ >/dev/null 2>&1 </dev/null & echo started")
			r := a.run(`for d in ` + ctlDirs + `; do touch "$d/x-@ID@" && echo WROTE-"$d"; mkfifo "$d/f-@ID@" && echo WROTE-"$d"; done 2>/dev/null; true`)
			if strings.Contains(r.stdout, "WROTE-") {
				t.Errorf("the session's control folder is writable: %q", r.stdout)
			}
			bs := startSession(t, w)
			r = bs.run(`ps -eo args 2>/dev/null | grep -c '[s]leep @N@'; ls -A /run/chaperone-out 2>/dev/null | head -50`)
			if n := strings.TrimSpace(strings.SplitN(r.stdout, "\n", 2)[0]); n != "0" && n != "" {
				t.Errorf("another session of the project sees this one's processes (%s)", n)
			}
			t.Logf("the exchange folder as another session sees it: %q", r.stdout)
			a.close()
			bs.close()
			time.Sleep(2 * time.Second)
			out, _ := exec.Command(b, "ps", "-a", "--filter", "label=chaperone.project="+w.proj, "--format", "{{.Names}} {{.Status}}").Output()
			for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				if strings.Contains(l, "-once-") {
					t.Errorf("a session's container outlived the session: %s", l)
				}
			}
		})
	}
}

// exitOf is ev's recorded status ("none" when it has none).
func exitOf(ev models.Event) string {
	if ev.Exit == nil {
		return "none"
	}
	return fmt.Sprint(*ev.Exit)
}
