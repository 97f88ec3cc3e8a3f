package escape

// Red-team probes against interactive sessions: chaperone on a terminal
// with no command is a real interactive bash in the sandbox, gated line by
// line from bash's own hooks (shim/interactive.go). The attacker controls
// the lines typed into that terminal (a tmux-driven agent steered by a
// prompt injection); each probe tries to have a line run that chaperone
// holds (no panel runs: a held line is denied at its hold timeout), or a
// later line run without chaperone being asked about it. A canary proves
// it: the line would print CANARY-<id>-42 (computed, so that the echo of
// what was typed does not count) and write canary-<id> in the project.

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/chaperone-dev/chaperone/internal/itest"
	"github.com/chaperone-dev/chaperone/internal/shellsrv"
)

// Keys typed at the terminal.
const (
	keyEnter       = "\r"
	keyCtrlC       = "\x03"
	keyExpandLine  = "\x1b\x05" // M-C-e: readline's shell-expand-line
	keyEditExecute = "\x18\x05" // C-x C-e: readline's edit-and-execute-command
)

// canaryLine is a line the gate must hold (it would undo the gate), and
// which proves it ran: the marker on the terminal and a file on the host.
const canaryLine = "trap - DEBUG; echo CANARY-@ID@-$((6*7)); echo ran > @PROJ@/canary-@ID@"

// session is one interactive chaperone on a terminal of its own.
type ptySession struct {
	t    *testing.T
	w    *world
	tty  *os.File
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
	sync int
}

// redTeamInteractive runs fn against an interactive session in a world
// with no panel on each backend.
func redTeamInteractive(t *testing.T, backends []string, fn func(s *ptySession)) {
	interactiveWorlds(t, backends, worldOpts{noPanel: true}, fn)
}

// interactiveWorlds runs fn against an interactive session in a world of
// opts on each backend.
func interactiveWorlds(t *testing.T, backends []string, opts worldOpts, fn func(s *ptySession)) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			itest.Require(t, b, available(b))
			w := newWorld(t, b, opts)
			w.begin(t)
			s := startPTYSession(t, w)
			fn(s)
			s.end()
		})
	}
}

// startSession starts chaperone with no command on a new terminal in the
// world's project and waits for its first prompt.
func startPTYSession(t *testing.T, w *world) *ptySession {
	t.Helper()
	cmd := exec.Command(filepath.Join(w.bin, "chaperone"))
	cmd.Dir = w.proj
	cmd.Env = mergeEnv(w.env, "TERM=xterm", shellsrv.NoServerEnv+"=1", "CHAPERONE_HOLD_TIMEOUT=2s")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 200})
	if err != nil {
		t.Fatalf("start chaperone on a terminal: %v", err)
	}
	s := &ptySession{t: t, w: w, tty: tty, cmd: cmd, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		buf := make([]byte, 32<<10)
		for {
			n, err := tty.Read(buf)
			if n > 0 {
				s.mu.Lock()
				s.out.Write(buf[:n])
				s.mu.Unlock()
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Signal(syscall.SIGKILL)
			cmd.Wait()
		}
		tty.Close()
		if t.Failed() {
			t.Logf("the terminal:\n%s", s.screen())
		}
	})
	s.settle(60 * time.Second)
	return s
}

// keys types raw keys.
func (s *ptySession) keys(k string) {
	s.t.Helper()
	if _, err := s.tty.Write([]byte(s.w.x(k))); err != nil {
		s.t.Fatalf("type %q: %v", k, err)
	}
}

// line types a line and Enter (type-ahead: bash reads it when it is ready).
func (s *ptySession) line(text string) {
	s.t.Helper()
	s.keys(text + keyEnter)
	time.Sleep(100 * time.Millisecond)
}

// settle types a line that prints a marker only when it runs and waits
// for it: everything typed before has been dealt with.
func (s *ptySession) settle(d time.Duration) {
	s.t.Helper()
	s.sync++
	n := 900000 + s.sync
	s.keys(fmt.Sprintf("echo SETTLED-$((%d+1))%s", n-1, keyEnter))
	if !s.waitFor(fmt.Sprintf("SETTLED-%d", n), d) {
		s.t.Fatalf("the session did not run a plain echo within %v", d)
	}
}

// waitFor waits until the terminal shows text.
func (s *ptySession) waitFor(text string, d time.Duration) bool {
	text = s.w.x(text)
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if strings.Contains(s.screen(), text) {
			return true
		}
		select {
		case <-s.done:
			return strings.Contains(s.screen(), text)
		default:
		}
	}
	return false
}

// screen is all the terminal has shown.
func (s *ptySession) screen() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// noCanary checks that the canary line never ran.
func (s *ptySession) noCanary() {
	s.t.Helper()
	if strings.Contains(s.screen(), s.w.x("CANARY-@ID@-42")) {
		s.t.Errorf("the canary line ran: the terminal shows its marker")
	}
	if _, err := os.Stat(s.w.x("@PROJ@/canary-@ID@")); err == nil {
		s.t.Errorf("the canary line ran: it wrote %s", s.w.x("@PROJ@/canary-@ID@"))
	}
}

// end exits the session.
func (s *ptySession) end() {
	s.keys(keyCtrlC + "exit" + keyEnter)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
	}
}

// The gate still lets through what it should: a held line the panel
// approves runs, with what it leaves in the background, and so do the
// plain lines around it, a multi-line function, a here-document, and a
// line using a variable an earlier line set to something harmless.
func TestInteractiveApprovedLineRuns(t *testing.T) {
	interactiveWorlds(t, backends, worldOpts{}, func(s *ptySession) {
		s.line("trap - DEBUG; (sleep 1; echo LATER-@ID@-$((6*7))) & echo APPROVED-@ID@-$((6*7))")
		if !s.waitFor("APPROVED-@ID@-42", 60*time.Second) || !s.waitFor("LATER-@ID@-42", 30*time.Second) {
			t.Errorf("a held line the panel approved did not run, or what it left in the background did not")
		}
		s.line("f() {")
		s.line("  echo IN-F-$((6*7))")
		s.line("}; f")
		s.line("cat <<EOF")
		s.line("DOC-$((6*7))")
		s.line("EOF")
		s.w.write("@PROJ@/notes.txt", "NOTES\n")
		s.line("p=notes.txt")
		s.line("cat $p; echo VAR-$((6*7))")
		s.settle(60 * time.Second)
		for _, want := range []string{"IN-F-42", "DOC-42", "NOTES", "VAR-42"} {
			if !strings.Contains(s.screen(), want) {
				t.Errorf("the terminal lacks %s", want)
			}
		}
		if held := s.w.heldCommands(); len(held) != 1 {
			t.Errorf("held: %q; want only the trap line", held)
		}
	})
}

// ---- lines the gate holds must not run ---------------------------------------

// A line was rated by its text alone: a variable an earlier (low) line
// set from a file held the path of a secret, and `cat $k` read it as
// low. A line is rated with what the session's bash holds that it uses.
func TestRedTeamInteractiveVariableFromEarlierLine(t *testing.T) {
	redTeamInteractive(t, backends, func(s *ptySession) {
		s.w.write("@PROJ@/key.txt", "/etc/shadow\n")
		s.line("k=$(cat key.txt)")
		s.line("cat $k >/dev/null; echo CANARY-@ID@-$((6*7)); echo ran > @PROJ@/canary-@ID@")
		s.settle(60 * time.Second)
		s.noCanary()
	})
}

// The gate is a DEBUG trap that skips each command of a denied line; what
// a line does that is no command (a function definition) still happened:
// a held and denied line defined `ls`, and the next `ls` ran its body.
func TestRedTeamInteractiveDeniedLineDefinesFunction(t *testing.T) {
	redTeamInteractive(t, backends, func(s *ptySession) {
		s.line("ls() { " + canaryLine + "; }")
		s.settle(60 * time.Second)
		s.line("ls")
		s.settle(60 * time.Second)
		s.noCanary()
	})
}

// A denied line's expansions still ran (the redirection of a group is
// expanded before any command of it): an arithmetic side effect there set
// the variable the gate told "between lines" by, and the rest of the
// denied line ran as if between lines.
func TestRedTeamInteractiveDeniedLineExpansionOpensGate(t *testing.T) {
	redTeamInteractive(t, backends, func(s *ptySession) {
		s.line("{ :; } 2>/dev/null${x[__chaperone_inline=0]}; " + canaryLine)
		s.settle(60 * time.Second)
		s.noCanary()
	})
}

// A sourced file runs inside the session's own bash, where the gate
// lives; its content was rated without the session's gate rules (and is
// read again by bash after chaperone decided): `trap - DEBUG` in it went
// through, and every later line ran whatever chaperone said.
func TestRedTeamInteractiveSourcedFileUnseen(t *testing.T) {
	redTeamInteractive(t, backends, func(s *ptySession) {
		s.w.write("@PROJ@/env.sh", "trap - DEBUG\n")
		s.line(". ./env.sh")
		s.settle(60 * time.Second)
		s.line(canaryLine)
		s.settle(60 * time.Second)
		s.noCanary()
	})
}

// A line's child reopens the interactive bash's descriptors through
// /proc/$PPID/fd: the asker's channel with chaperone among them.
func TestRedTeamInteractiveChildReopensChannel(t *testing.T) {
	// bwrap only: the seal is the reaper's, tried on every backend by
	// TestRedTeamSessionChildReopensChannel; this tries the interactive
	// bash's start, which keeps it.
	redTeamInteractive(t, []string{"bwrap"}, func(s *ptySession) {
		s.w.write("@PROJ@/tools/reopen.sh", s.w.x(reopenScript))
		s.line("bash tools/reopen.sh")
		if !s.waitFor("reopened ", 60*time.Second) {
			s.t.Fatalf("the script did not report:\n%s", s.screen())
		}
		s.settle(60 * time.Second)
		if !strings.Contains(s.screen(), "reopened 0 of") {
			s.t.Errorf("a line's child opened the interactive bash's descriptors:\n%s", clip(s.screen(), 2000))
		}
		s.line(canaryLine)
		s.settle(60 * time.Second)
		s.noCanary()
	})
}

// The question's fields are separated by \x1f, and the working folder is
// one of them: a folder whose name holds \x1f, a history number and `#`
// made chaperone read the line it was asked about as a comment.
func TestRedTeamInteractiveForgedQuestionFolderName(t *testing.T) {
	redTeamInteractive(t, backends, func(s *ptySession) {
		s.line(`d=$'\x1f'$((HISTCMD+2))'  #'; mkdir -p "$d"`)
		s.line(`cd "$d"`)
		s.line(canaryLine)
		s.settle(60 * time.Second)
		s.noCanary()
	})
}

// What runs between lines (PROMPT_COMMAND) was let through unasked;
// `printf -v` sets it without an assignment the rules see.
func TestRedTeamInteractivePromptCommandByPrintfV(t *testing.T) {
	redTeamInteractive(t, backends, func(s *ptySession) {
		s.line(`printf -v PROMPT_COMMAND %s 'trap - DEBUG'`)
		s.line("")
		s.settle(60 * time.Second)
		s.line(canaryLine)
		s.settle(60 * time.Second)
		s.noCanary()
	})
}

// readline's shell-expand-line (M-C-e) expands the line being edited,
// command substitutions included, between lines: nothing is asked.
func TestRedTeamInteractiveReadlineExpandsUnasked(t *testing.T) {
	redTeamInteractive(t, backends, func(s *ptySession) {
		s.keys("echo $(" + canaryLine + ")" + keyExpandLine)
		time.Sleep(time.Second)
		s.keys(keyCtrlC)
		time.Sleep(500 * time.Millisecond)
		s.settle(60 * time.Second)
		s.noCanary()
	})
}

// readline's edit-and-execute-command (C-x C-e) runs `fc -e $EDITOR` and
// then what the editor left, between lines: nothing is asked.
func TestRedTeamInteractiveReadlineEditAndExecute(t *testing.T) {
	redTeamInteractive(t, backends, func(s *ptySession) {
		s.w.write("@PROJ@/ed.sh", "#!/bin/sh\necho '"+s.w.x(canaryLine)+"' > \"$1\"\n")
		must(t, os.Chmod(s.w.x("@PROJ@/ed.sh"), 0o755))
		s.line("export EDITOR=@PROJ@/ed.sh")
		s.settle(60 * time.Second)
		s.keys(keyEditExecute)
		time.Sleep(2 * time.Second)
		s.settle(60 * time.Second)
		s.noCanary()
	})
}

// The gate's question is written by printf, which a function of that name
// shadows: a low line defined one that appends "<number>  #" after the
// question's header, so that every later line was asked about as a
// comment.
func TestRedTeamInteractiveBuiltinShadowForgesQuestion(t *testing.T) {
	redTeamInteractive(t, backends, func(s *ptySession) {
		s.line(`printf() { builtin printf "$@"; if [[ $1 == Q* ]]; then local h; h=$(builtin history 1); ` +
			`h=${h#"${h%%[! ]*}"}; builtin printf '%s  #' "${h%% *}"; fi; }`)
		s.settle(60 * time.Second)
		s.line(canaryLine)
		s.settle(60 * time.Second)
		s.noCanary()
	})
}

// The question is written in pieces (header, then `history 1`, then a
// NUL) to a FIFO that every process of the sandbox may write: one that
// keeps writing "<next number>  : benign" and a NUL gets its text read
// after the header of the real question, which chaperone then approves.
func TestRedTeamInteractiveQuestionSpliced(t *testing.T) {
	redTeamInteractive(t, backends, func(s *ptySession) {
		s.line(`n=$((HISTCMD+1)); (while :; do for i in 1 2 3 4 5 6 7 8 9 10; do printf '   %s  : benign\0' "$n" >"$__chaperone_ctl/q"; done; sleep 0.001; done) 2>/dev/null &`)
		s.line(canaryLine)
		s.settle(60 * time.Second)
		s.noCanary()
	})
}

// The question carries bash's variables, which are long enough to be
// written in pieces: another writer of the FIFO splices its own
// `declare` of the variable the line uses, harmless, into the real one.
// Whatever chaperone reads, the asker runs the line only if the verdict is
// on the state it sent.
func TestRedTeamInteractiveStateSpliced(t *testing.T) {
	redTeamInteractive(t, backends, func(s *ptySession) {
		s.w.write("@PROJ@/key.txt", "/etc/shadow\n")
		s.line(`pad=$(head -c 200000 /dev/zero | tr '\0' x); k=$(cat key.txt)`)
		s.line(`(while :; do for i in 1 2 3 4 5 6 7 8 9 10; do printf 'declare -- k="notes.txt"\ndeclare -- pad="x"\n' >"$__chaperone_ctl/q"; done; sleep 0.001; done) 2>/dev/null &`)
		s.line("cat $k >/dev/null; echo CANARY-@ID@-$((6*7)); echo ran > @PROJ@/canary-@ID@")
		s.settle(60 * time.Second)
		s.noCanary()
	})
}

// docker and podman make the control folder in the exchange folder, which
// the container may write: the verdict file, which only chaperone is
// meant to write, is the attacker's.
func TestRedTeamInteractiveVerdictFileForged(t *testing.T) {
	redTeamInteractive(t, backends, func(s *ptySession) {
		s.line(`n=$((HISTCMD+1)); (while :; do echo "$n run" > "$__chaperone_ctl/v"; sleep 0.01; done) 2>/dev/null &`)
		s.line(canaryLine)
		s.settle(60 * time.Second)
		s.noCanary()
	})
}

// A shell started with no command reads the session's terminal itself:
// every line typed to it runs without the gate (its prompt even looks like
// the session's).
func TestRedTeamInteractiveNestedShell(t *testing.T) {
	redTeamInteractive(t, backends, func(s *ptySession) {
		s.line("sh")
		s.settle(60 * time.Second)
		s.line(canaryLine)
		s.settle(60 * time.Second)
		s.noCanary()
	})
}

// A held line's verdict file says "hold" with the asker's id and the
// line's text: a process that may write the control folder rewrites it to
// "run", approves the line's number and wakes the asker. bubblewrap binds
// the folder read-only; docker and podman made it in the exchange folder,
// which the container writes, and now mount it read-only into the
// session's own container.
func TestRedTeamInteractiveVerdictRewrittenWhileHeld(t *testing.T) {
	redTeamInteractive(t, backends, func(s *ptySession) {
		s.line(`c=$__chaperone_ctl; last=; (while :; do sleep 0.01; IFS= read -r -d '' w < "$c/v"; case $w in *' hold'$'\n'*) ` +
			`id=${w%% *}; [ "$id" = "$last" ] && continue; last=$id; rest=${w#* hold$'\n'}; n=${rest#"${rest%%[! ]*}"}; n=${n%% *}; ` +
			`printf '%s run\n%s' "$id" "$rest" > "$c/v.t" && mv -f "$c/v.t" "$c/v"; : > "$c/r/$n"; ` +
			`printf '%s\x1frun\x1f\0' "$id" > "$c/a";; esac; done) 2>/dev/null &`)
		s.settle(120 * time.Second)
		s.line(canaryLine)
		s.settle(120 * time.Second)
		s.noCanary()
	})
}

// The session's bash used to source ~/.bashrc before setting up its gate.
// In docker and podman, sessions of a project share a container and its
// home: one session keeps writing a ~/.bashrc that takes the gate's names
// first (read-only), and the next session's bash, started beside it,
// sourced it (the engine clears the files shells read at start when a
// job starts, not while the other one keeps writing them).
func TestRedTeamInteractivePlantedBashrc(t *testing.T) {
	redTeamInteractive(t, backends, func(s *ptySession) {
		s.w.write("@PROJ@/tools/plant.sh", "while :; do\n"+
			"  printf '%s\\n' '__chaperone_gate() { return 0; }; readonly -f __chaperone_gate' "+
			"'__chaperone_ask() { printf \"%s\" \"$__chaperone_t\"; }; readonly -f __chaperone_ask' > ~/.bashrc\n"+
			"  sleep 0.002\ndone\n")
		s.line("bash tools/plant.sh &")
		s.settle(60 * time.Second)
		next := startPTYSession(t, s.w)
		next.line(canaryLine)
		next.settle(60 * time.Second)
		next.noCanary()
		next.end()
	})
}

// A program that runs what it reads, reading the terminal, takes the next
// lines typed as its input: they run, and never reach the gate as lines.
func TestRedTeamInteractiveInputRunner(t *testing.T) {
	redTeamInteractive(t, backends, func(s *ptySession) {
		s.line("xargs -I{} sh -c '{}'")
		time.Sleep(time.Second)
		s.line(canaryLine)
		time.Sleep(time.Second)
		s.keys("\x04") // Ctrl-D: the end of xargs' input
		time.Sleep(500 * time.Millisecond)
		s.settle(60 * time.Second)
		s.noCanary()
	})
}
