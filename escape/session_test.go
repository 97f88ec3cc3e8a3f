package escape

// Statement sessions (issue 14): chaperone reading a script from a pipe
// that stays open runs each complete statement, rated as it arrives, in
// one bash per session inside the sandbox. These tests drive it as
// SWE-agent drives bash (write a statement, read until a marker the next
// statement prints), on every backend; then attack it as an agent that
// controls the statements would: the sandbox stays the boundary, and no
// text that chaperone would hold runs without a hold, however the session
// is bent (its private channel to the inner bash, the inner bash's own
// state, the statements' stdin, earlier statements' variables).

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/internal/itest"
	"github.com/chaperone-dev/chaperone/internal/shellsrv"
)

// ---- driving a session ------------------------------------------------------

// session is one chaperone reading statements from a pipe the test keeps
// open, with what it printed so far.
type session struct {
	t    *testing.T
	w    *world
	cmd  *exec.Cmd
	in   *os.File // the pipe's end the test writes
	out  *stream  // stdout
	errs *stream  // stderr
	done chan struct{}
	code int // chaperone's exit status, once done is closed
	mark int // markers handed out
}

// stream collects what a descriptor of chaperone's prints.
type stream struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	read int // what waitFor has handed out
	more chan struct{}
	eof  chan struct{}
}

func newStream(r io.Reader) *stream {
	s := &stream{more: make(chan struct{}, 1), eof: make(chan struct{})}
	go func() {
		defer close(s.eof)
		b := make([]byte, 32<<10)
		for {
			n, err := r.Read(b)
			if n > 0 {
				s.mu.Lock()
				s.buf.Write(b[:n])
				s.mu.Unlock()
				select {
				case s.more <- struct{}{}:
				default:
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return s
}

// all is everything printed so far.
func (s *stream) all() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// waitFor waits until what was printed after the last wait holds
// marker, and returns it, up to the end of marker's line; ok is false
// when d passed or the stream ended first (got is what came).
func (s *stream) waitFor(marker string, d time.Duration) (got string, ok bool) {
	deadline := time.After(d)
	for {
		s.mu.Lock()
		rest := s.buf.String()[s.read:]
		if i := strings.Index(rest, marker); i >= 0 {
			end := i + len(marker)
			if nl := strings.IndexByte(rest[end:], '\n'); nl >= 0 {
				end += nl + 1
				s.read += end
				s.mu.Unlock()
				return rest[:end], true
			}
		}
		s.mu.Unlock()
		select {
		case <-s.more:
		case <-deadline:
			return rest, false
		case <-s.eof:
			s.mu.Lock()
			rest = s.buf.String()[s.read:]
			s.mu.Unlock()
			if strings.Contains(rest, marker) && strings.HasSuffix(rest, "\n") {
				continue
			}
			return rest, false
		}
	}
}

// startSession starts chaperone in w's project with its stdin a pipe
// (a session), env over the world's.
func startSession(t *testing.T, w *world, env ...string) *session {
	t.Helper()
	r, in, err := os.Pipe()
	must(t, err)
	or, ow, err := os.Pipe()
	must(t, err)
	er, ew, err := os.Pipe()
	must(t, err)
	cmd := exec.Command(filepath.Join(w.bin, "chaperone"))
	cmd.Dir = w.proj
	cmd.Env = mergeEnv(w.env, append([]string{shellsrv.NoServerEnv + "=1", "CHAPERONE_HOLD_TIMEOUT=1s"}, w.xs(env)...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = r, ow, ew
	// Its own process group, so that a stalled session is ended with
	// everything it started on the host.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	must(t, cmd.Start())
	r.Close()
	ow.Close()
	ew.Close()
	s := &session{t: t, w: w, cmd: cmd, in: in, out: newStream(or), errs: newStream(er), done: make(chan struct{})}
	go func() {
		cmd.Wait()
		s.code = cmd.ProcessState.ExitCode()
		close(s.done)
	}()
	t.Cleanup(func() {
		s.in.Close()
		select {
		case <-s.done:
		case <-time.After(20 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-s.done
		}
		<-s.out.eof
		<-s.errs.eof
		t.Logf("session stdout:\n%s\nsession stderr:\n%s", clip(s.out.all(), 4000), clip(s.errs.all(), 4000))
	})
	return s
}

// write writes text to the session's stdin in one write.
func (s *session) write(text string) {
	s.t.Helper()
	if _, err := s.in.WriteString(s.w.x(text)); err != nil {
		s.t.Fatalf("write to the session: %v (it ended with %d?)", err, s.exitCode(0))
	}
}

// marker is a line no statement's text holds: the next statement prints
// it with the status before it.
func (s *session) marker() string {
	s.mark++
	return fmt.Sprintf("__DONE_%s_%d__", s.w.id, s.mark)
}

// step is one statement run as SWE-agent runs it, and what it printed.
type stepOut struct {
	stdout, stderr string
	status         int
	took           time.Duration
}

// run writes stmt (which may span lines) and a statement that prints its
// status after a marker, on stdout and on stderr, and waits for both: what
// stmt printed, and its status. A session that ends or stalls fails the
// test.
func (s *session) run(stmt string) stepOut {
	s.t.Helper()
	r, ok := s.try(stmt, 60*time.Second)
	if !ok {
		s.t.Fatalf("the session did not finish %q (ended: %v): stdout %q, stderr %q", clip(s.w.x(stmt), 200), s.ended(), clip(r.stdout, 500), clip(r.stderr, 500))
	}
	return r
}

// try is run, reporting whether both markers came within d.
func (s *session) try(stmt string, d time.Duration) (stepOut, bool) {
	s.t.Helper()
	m := s.marker()
	start := time.Now()
	s.write(stmt + "\necho " + m + "$?\necho " + m + " >&2\n")
	out, ok := s.out.waitFor(m, d)
	errs, eok := s.errs.waitFor(m, time.Until(start.Add(d))+time.Second)
	r := stepOut{stdout: out, stderr: errs, took: time.Since(start), status: -1}
	if ok {
		i := strings.LastIndex(out, m)
		r.stdout = out[:i]
		r.status, _ = strconv.Atoi(strings.TrimSpace(out[i+len(m):]))
	}
	if eok {
		r.stderr = errs[:strings.LastIndex(errs, m)]
	}
	return r, ok && eok
}

// ended reports whether chaperone has exited.
func (s *session) ended() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// close ends the script (closes stdin) and returns chaperone's exit status.
func (s *session) close() int {
	s.t.Helper()
	s.in.Close()
	return s.exitCode(30 * time.Second)
}

// exitCode waits up to d for chaperone to exit and returns its status
// (-1: it did not).
func (s *session) exitCode(d time.Duration) int {
	select {
	case <-s.done:
		return s.code
	case <-time.After(d):
		return -1
	}
}

// sessionBackends runs f in a fresh world on every backend, in parallel.
func sessionBackends(t *testing.T, o worldOpts, f func(t *testing.T, w *world)) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			itest.Require(t, b, available(b))
			w := newWorld(t, b, o)
			w.begin(t)
			f(t, w)
		})
	}
}

// ctlDirs is where the inner bash's control folder is on each backend.
const ctlDirs = "/run/chaperone-ctl /run/chaperone-out/*.ctl"

// ---- how an agent uses it --------------------------------------------------

// TestSessionAsSWEAgent drives a session as SWE-agent does: one statement
// at a time over a pipe that stays open, reading each one's output until
// its marker before writing the next; shell state carries over.
func TestSessionAsSWEAgent(t *testing.T) {
	sessionBackends(t, worldOpts{noPanel: true}, func(t *testing.T, w *world) {
		w.mkdir("@PROJ@/sub", 0o755)
		w.write("@PROJ@/.venv/bin/activate", w.x("# an activate script, as venv writes one\n"+
			"deactivate() { export PATH=\"$_OLD_PATH\"; unset VIRTUAL_ENV _OLD_PATH; unset -f deactivate; }\n"+
			"VIRTUAL_ENV=\"@PROJ@/.venv\"\nexport VIRTUAL_ENV\n_OLD_PATH=\"$PATH\"\nPATH=\"$VIRTUAL_ENV/bin:$PATH\"\nexport PATH\n"+
			"PS1=\"(.venv) ${PS1:-}\"\nexport PS1\nhash -r 2>/dev/null\n"))
		w.write("@PROJ@/.venv/bin/venvtool", w.x("#!/bin/sh\necho venvtool-ran-@ID@\n"))
		must(t, os.Chmod(w.x("@PROJ@/.venv/bin/venvtool"), 0o755))
		s := startSession(t, w)

		// The first statement's output arrives while the pipe is still open
		// and before the next statement is written (run waits for it).
		r := s.run("echo first-@ID@")
		if r.stdout != w.x("first-@ID@\n") || r.status != 0 {
			t.Fatalf("first statement: stdout %q, status %d", r.stdout, r.status)
		}

		s.run("cd sub")
		s.run("export X=7")
		if r := s.run("echo $X; pwd"); r.stdout != w.x("7\n@PROJ@/sub\n") {
			t.Errorf("echo $X; pwd after cd sub and export X=7: %q", r.stdout)
		}

		// A function that arrives over several writes runs nothing until
		// it is complete.
		s.write("greet() {\n")
		time.Sleep(300 * time.Millisecond)
		s.write("  echo \"hello-$1-@ID@\"\n")
		time.Sleep(300 * time.Millisecond)
		if got := s.out.all(); strings.Contains(got, "hello-") {
			t.Errorf("part of a function definition ran: %q", got)
		}
		s.write("}\n")
		if r := s.run("greet bob"); r.stdout != w.x("hello-bob-@ID@\n") {
			t.Errorf("greet bob: %q", r.stdout)
		}

		// A here-document over several writes.
		s.write("cat > notes.txt <<'EOF'\n")
		time.Sleep(200 * time.Millisecond)
		s.write("line one $X\n")
		time.Sleep(200 * time.Millisecond)
		s.write("line two\nEOF\n")
		if r := s.run("cat notes.txt"); r.stdout != "line one $X\nline two\n" {
			t.Errorf("the here-document wrote %q", r.stdout)
		}
		s.write("if [ -e notes.txt ]; then\n  echo yes-@ID@\n")
		time.Sleep(200 * time.Millisecond)
		s.write("else echo no; fi\n")
		if r := s.run(""); r.stdout != w.x("yes-@ID@\n") {
			t.Errorf("an if over two writes printed %q", r.stdout)
		}

		// An activate script: what it sets is there for later statements.
		s.run("cd ..")
		if r := s.run("source .venv/bin/activate"); r.status != 0 {
			t.Errorf("source .venv/bin/activate: status %d, stderr %q", r.status, r.stderr)
		}
		if r := s.run("echo \"$VIRTUAL_ENV\"; venvtool"); r.stdout != w.x("@PROJ@/.venv\nvenvtool-ran-@ID@\n") {
			t.Errorf("after activate: %q (stderr %q)", r.stdout, r.stderr)
		}
		if r := s.run("deactivate; echo \"[$VIRTUAL_ENV]\""); r.stdout != "[]\n" {
			t.Errorf("after deactivate: %q (stderr %q)", r.stdout, r.stderr)
		}

		// A held statement in the middle: no panel, so it is denied; the
		// next statement sees 126, and the session goes on.
		r = s.run("cat ~/.ssh/id_rsa")
		if r.status != 126 || strings.Contains(r.stdout, w.secret) || !strings.Contains(r.stderr, "chaperone: denied") {
			t.Errorf("the held statement: status %d, stdout %q, stderr %q", r.status, r.stdout, r.stderr)
		}
		if r := s.run("echo after-$X"); r.stdout != "after-7\n" {
			t.Errorf("after the denied statement: %q", r.stdout)
		}

		s.write("exit 3\n")
		if code := s.exitCode(30 * time.Second); code != 3 {
			t.Errorf("exit 3 ended the session with %d", code)
		}
	})
}

// TestSessionExitStatus: the session ends with its last statement's status
// when its stdin ends, and at once with the status of `exit N`, the rest
// not run.
func TestSessionExitStatus(t *testing.T) {
	sessionBackends(t, worldOpts{noPanel: true}, func(t *testing.T, w *world) {
		s := startSession(t, w)
		s.run("true")
		s.write("(exit 5)\n")
		if code := s.close(); code != 5 {
			t.Errorf("a session whose last statement failed with 5 ended with %d", code)
		}

		s = startSession(t, w)
		s.write("exit 4\necho not-run-@ID@ > ran-@ID@\n")
		if code := s.exitCode(30 * time.Second); code != 4 {
			t.Errorf("exit 4 ended the session with %d", code)
		}
		if _, err := os.Stat(w.x("@PROJ@/ran-@ID@")); err == nil {
			t.Errorf("a statement after exit ran")
		}

		// The last line without its newline runs, as bash runs it.
		s = startSession(t, w)
		s.write("echo first\necho last-@ID@")
		if code := s.close(); code != 0 || !strings.Contains(s.out.all(), w.x("last-@ID@")) {
			t.Errorf("a last line without a newline: exit %d, stdout %q", code, s.out.all())
		}
	})
}

// ---- attacks on the session ---------------------------------------------------

// inject is a statement for the inner bash that no statement's text
// holds as it prints: its output (injected) proves that text chaperone
// never rated ran.
const inject = `echo INJ-$((@N@+1))`

func injected(w *world) string { return fmt.Sprintf("INJ-%d", w.n+1) }

// noInjection fails the test when the injected statement ran.
func noInjection(t *testing.T, s *session) {
	t.Helper()
	time.Sleep(500 * time.Millisecond)
	if line := lineWith(s.out.all(), injected(s.w)); line != "" {
		t.Errorf("INJECTED: text chaperone never rated ran in the session: %q", clip(line, 200))
	}
}

// held fails the test unless the panel was asked about a statement that
// holds want (and, the panel saying no, it did not run: status 126).
func (s *session) held(r stepOut, want string) {
	s.t.Helper()
	want = s.w.x(want)
	if r.status != 126 {
		s.t.Errorf("NOT HELD: %q ran (status %d, stdout %q, stderr %q)", want, r.status, clip(r.stdout, 200), clip(r.stderr, 300))
	}
	for _, h := range s.w.heldCommands() {
		if strings.Contains(h, want) {
			return
		}
	}
	s.t.Errorf("NOT HELD: the panel was never asked about %q (held: %q)", want, s.w.heldCommands())
}

// The control folder's FIFO "a" is what the inner bash runs: a statement
// that writes to it (here by a relative name, after cd) must not get
// text run that chaperone never rated.
func TestRedTeamSessionControlFolderWrite(t *testing.T) {
	sessionBackends(t, worldOpts{deny: true}, func(t *testing.T, w *world) {
		s := startSession(t, w)
		s.try(`for d in `+ctlDirs+`; do (cd "$d" && printf '0:%s\0' '`+inject+`' > a); done 2>/dev/null; true`, 15*time.Second)
		s.try("echo next-@ID@", 15*time.Second)
		noInjection(t, s)
	})
}

// The inner bash keeps its channel open (and, while a statement runs,
// copies of it): a statement that writes to /dev/fd/N reaches it.
func TestRedTeamSessionDescriptorWrite(t *testing.T) {
	sessionBackends(t, worldOpts{deny: true}, func(t *testing.T, w *world) {
		s := startSession(t, w)
		s.try(`for n in $(seq 3 20) 200 201 255; do printf '0:%s\0' '`+inject+`' > /dev/fd/$n; done 2>/dev/null; true`, 15*time.Second)
		s.try("echo next-@ID@", 15*time.Second)
		noInjection(t, s)
	})
}

// reopenScript is a project's script (unread by the rater: it only
// knows that it runs one) that reopens, through /proc, every descriptor
// of the process that ran it: the session's bash, with its channel saved
// at high numbers while the statement runs. It writes the injected
// statement to each, and says how many it could open. A child of a sealed
// bash opens none (reaper.Setup.Seal).
const reopenScript = `b=/pr; b=${b}oc/$PPID/fd; n=0
for f in "$b"/*; do
	{ printf '0:%s\0' '` + inject + `' > "$f"; } 2>/dev/null && n=$((n+1))
done
echo "reopened $n of $(ls "$b" | wc -l)"
`

// A statement's child reopens the session bash's descriptors through
// /proc/$PPID/fd (no text of the statement names them): the channel's
// FIFO took text that was never rated, which ran after the statement.
func TestRedTeamSessionChildReopensChannel(t *testing.T) {
	sessionBackends(t, worldOpts{deny: true}, func(t *testing.T, w *world) {
		w.write("@PROJ@/tools/reopen.sh", w.x(reopenScript))
		s := startSession(t, w)
		r, _ := s.try("bash tools/reopen.sh", 15*time.Second)
		if !strings.Contains(r.stdout, "reopened 0 of") {
			t.Errorf("a statement's child opened the session bash's descriptors: %q", r.stdout)
		}
		s.try("echo next-@ID@", 15*time.Second)
		noInjection(t, s)
	})
}

// A background job of a low statement writes to the channel later, after
// a statement that chaperone holds was denied.
func TestRedTeamSessionBackgroundDescriptorWrite(t *testing.T) {
	sessionBackends(t, worldOpts{deny: true}, func(t *testing.T, w *world) {
		s := startSession(t, w)
		s.try(`(sleep 2; for n in $(seq 3 20) 200 201 255; do printf '0:%s\0' '`+inject+`' > /dev/fd/$n; done) 2>/dev/null &`, 15*time.Second)
		s.try("cat ~/.ssh/id_rsa", 15*time.Second)
		s.try("sleep 3", 15*time.Second)
		s.try("echo next-@ID@", 15*time.Second)
		noInjection(t, s)
	})
}

// A statement that writes a status to the channel's other FIFO: chaperone
// would take the statement for finished with the forged status (and
// working folder), and the session's $? would be the forger's.
func TestRedTeamSessionForgedStatus(t *testing.T) {
	sessionBackends(t, worldOpts{deny: true}, func(t *testing.T, w *world) {
		s := startSession(t, w)
		r, _ := s.try(`for n in $(seq 3 20) 200 201 255; do printf '77:h:/etc\0' >&$n; done 2>/dev/null; sleep 1; true`, 15*time.Second)
		if r.status == 77 {
			t.Errorf("FORGED: the statement's status is the one it wrote to the channel (77)")
		}
		if r, _ := s.try("pwd", 15*time.Second); strings.Contains(r.stdout, "/etc") {
			t.Errorf("FORGED: %q", r.stdout)
		}
	})
}

// A NUL byte ends a message on the channel: text after it in a comment
// (which the rater skips) would run as a statement of its own.
func TestRedTeamSessionNULSplitsStatement(t *testing.T) {
	sessionBackends(t, worldOpts{deny: true}, func(t *testing.T, w *world) {
		s := startSession(t, w)
		r, _ := s.try("echo hi-@ID@ # x\x000:"+inject, 15*time.Second)
		s.try("echo next-@ID@", 15*time.Second)
		noInjection(t, s)
		if !strings.Contains(r.stdout, w.x("hi-@ID@")) {
			t.Errorf("the statement around the NUL did not run as bash runs it (bash drops NUL bytes): %q", r.stdout)
		}
	})
}

// The inner bash's loop calls read, printf, eval: a statement that defines
// a function of that name runs code in the loop, between statements.
func TestRedTeamSessionShadowsDriverRead(t *testing.T) {
	sessionBackends(t, worldOpts{deny: true}, func(t *testing.T, w *world) {
		s := startSession(t, w)
		s.try(`read() { builtin read "$@"; printf -v __chaperone_m '0:%s' '`+inject+`'; }`, 15*time.Second)
		s.try("echo next-@ID@", 15*time.Second)
		noInjection(t, s)
	})
}

// The same through a function named builtin, from a project file that a
// statement sources (the rater reads the file; what it defines is
// checked nowhere else).
func TestRedTeamSessionShadowsBuiltinFromSourcedFile(t *testing.T) {
	sessionBackends(t, worldOpts{deny: true}, func(t *testing.T, w *world) {
		w.write("@PROJ@/lib.sh", "builtin() {\n  if [ \"$1\" = read ]; then\n    shift; command read \"$@\"; __chaperone_m=$(cat payload)\n"+
			"  else\n    command \"$@\"\n  fi\n}\n")
		w.write("@PROJ@/payload", w.x("0:"+inject))
		s := startSession(t, w)
		s.try("source lib.sh", 15*time.Second)
		s.try("echo next-@ID@", 15*time.Second)
		s.try("echo again-@ID@", 15*time.Second)
		noInjection(t, s)
	})
}

// The inner bash's loop keeps its channel's descriptors in variables: a
// statement that points them at a file of its own feeds the loop.
func TestRedTeamSessionDescriptorVariable(t *testing.T) {
	sessionBackends(t, worldOpts{deny: true}, func(t *testing.T, w *world) {
		w.write("@PROJ@/payload", w.x("0:"+inject+"\x00"))
		s := startSession(t, w)
		s.try("printf -v __chaperone_a 5; exec 5<payload", 15*time.Second)
		s.try("echo next-@ID@", 15*time.Second)
		noInjection(t, s)
	})
}

// A variable set by an earlier statement is what a later one reads: split
// over two statements, a read of a secret is held as it is in one.
func TestRedTeamSessionVariableSplit(t *testing.T) {
	sessionBackends(t, worldOpts{deny: true}, func(t *testing.T, w *world) {
		s := startSession(t, w)
		s.run("f=~/.ssh/id_rsa")
		s.held(s.run("cat $f"), "cat $f")
		s.run("X=cat; Y=~/.ssh/id_rsa")
		s.held(s.run("$X $Y"), "$X $Y")
		s.run("d=/dev/fd")
		s.held(s.run("printf x > $d/12"), "printf x > $d/12")
		s.run("A=(README.md ~/.ssh/id_rsa)")
		s.held(s.run(`cat "${A[@]}"`), `cat "${A[@]}"`)
	})
}

// A file a statement sources runs in the session's shell: a trap it sets
// runs before the inner bash's loop takes the next statement, and could
// replace it.
func TestRedTeamSessionTrapFromSourcedFile(t *testing.T) {
	sessionBackends(t, worldOpts{deny: true}, func(t *testing.T, w *world) {
		w.write("@PROJ@/lib.sh", w.x(`trap '[[ $BASH_COMMAND == *eval* ]] && __chaperone_m="0:`+inject+`; trap - DEBUG"' DEBUG`+"\n"))
		w.write("@PROJ@/sub/lib.sh", w.x(`trap '`+inject+`' EXIT`+"\n"))
		s := startSession(t, w)
		s.held(s.run("source lib.sh"), "source lib.sh")
		s.run("echo next-@ID@")
		s.run("cd sub")
		s.held(s.run(". ./lib.sh"), ". ./lib.sh")
		s.close()
		noInjection(t, s)
	})
}

// What a statement sources from its own input is code no rule reads.
func TestRedTeamSessionSourceStdin(t *testing.T) {
	sessionBackends(t, worldOpts{deny: true}, func(t *testing.T, w *world) {
		s := startSession(t, w)
		s.held(s.run("source /dev/stdin <<< '"+inject+"'"), "source /dev/stdin")
		s.held(s.run(". /dev/fd/0 <<'EOF'\n"+inject+"\nEOF"), ". /dev/fd/0")
		s.held(s.run("echo '"+inject+"' | bash /dev/stdin"), "bash /dev/stdin")
		noInjection(t, s)
	})
}

// Another command of the agent, run with chaperone -c while a session
// runs, looks for the session's channel through /proc/PID/fd to have text
// run in the session that no rating saw (the command itself rates medium:
// it writes to a path only known at run time). It shared the project's
// container with the session's bash on docker and podman; a session now
// has a container of its own (bubblewrap gives each job its own pid
// namespace).
func TestRedTeamSessionInjectedByConcurrentCommand(t *testing.T) {
	sessionBackends(t, worldOpts{deny: true}, func(t *testing.T, w *world) {
		s := startSession(t, w)
		s.run("echo started")
		s.write("sleep 6\n")
		time.Sleep(2 * time.Second)
		r := w.run(step{cmd: `for f in /proc/[0-9]*/fd/*; do case "$(readlink "$f")" in *ctl*/a*) ` +
			`printf '0:%s\0' '` + inject + `' > "$f" && echo wrote "$f";; esac; done 2>/dev/null; true`}, viaC)
		t.Logf("the concurrent command: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		s.run("echo next-@ID@")
		noInjection(t, s)
	})
}

// A function from a file a statement sourced is rated with its
// definition where it is called, as one the statements defined is.
func TestRedTeamSessionFunctionFromSourcedFile(t *testing.T) {
	sessionBackends(t, worldOpts{deny: true}, func(t *testing.T, w *world) {
		w.write("@PROJ@/lib.sh", "show() { cat \"$HOME/.$1\"; }\n")
		s := startSession(t, w)
		if r := s.run("source lib.sh"); r.status != 0 {
			t.Fatalf("source lib.sh: %d %q", r.status, r.stderr)
		}
		s.held(s.run("show aws/credentials"), "show aws/credentials")
		s.run(`view() { cat "$HOME/.$1"; }`)
		s.held(s.run("view aws/credentials"), "view aws/credentials")
	})
}

// A function that shadows a command, defined low, then called: rated
// with its body at the call, as the same text in one statement is.
func TestRedTeamSessionShadowsCommand(t *testing.T) {
	sessionBackends(t, worldOpts{deny: true}, func(t *testing.T, w *world) {
		s := startSession(t, w)
		s.held(s.run(`ls() { cat ~/.ssh/id_rsa; }`), "ls() { cat ~/.ssh/id_rsa; }")
		// A function named like a builtin is held where it is defined
		// (rater: session.gate); were it not, the call would be held by
		// its body, which the statement is rated with.
		s.held(s.run(`cd() { builtin cd "$@" && cat "$HOME/.$X"; }`), `cd() { builtin cd "$@" && cat "$HOME/.$X"; }`)
		s.run("X=aws/credentials")
		if r := s.run("cd sub; type -t cd"); strings.Contains(r.stdout, "function") {
			t.Errorf("cd is still a function after its definition was denied: %q", r.stdout)
		}
		if r := s.run("ls -d ."); r.stdout != ".\n" {
			t.Errorf("ls is not ls: %q %q", r.stdout, r.stderr)
		}
	})
}

// What would run code later, unseen by the rating of the statement that
// runs it, or undo the gate, is held: aliases, traps, BASH_ENV,
// PROMPT_COMMAND, another shell in the session's place.
func TestRedTeamSessionGateUndone(t *testing.T) {
	sessionBackends(t, worldOpts{deny: true}, func(t *testing.T, w *world) {
		s := startSession(t, w)
		for _, stmt := range []string{
			"shopt -s expand_aliases; alias ls='cat ~/.ssh/id_rsa'",
			"shopt -s expand_aliases",
			"alias ll='ls -l'",
			`trap 'echo TRAP-$((@N@+1))' EXIT`,
			`trap 'echo TRAP-$((@N@+1))' DEBUG`,
			`trap 'echo TRAP-$((@N@+1))' ERR`,
			"export BASH_ENV=@PROJ@/env.sh",
			`PROMPT_COMMAND='echo TRAP-$((@N@+1))'`,
			"exec bash",
			"exec sh -c 'echo TRAP-$((@N@+1))'",
			"enable -n cd",
			"set -o posix",
		} {
			s.held(s.run(stmt), stmt)
		}
		s.run("false")
		s.run("ls -d .")
		if code := s.close(); code != 0 {
			t.Errorf("the session ended with %d", code)
		}
		if line := lineWith(s.out.all(), fmt.Sprintf("TRAP-%d", w.n+1)); line != "" {
			t.Errorf("RAN: %q", line)
		}
	})
}

// A statement's stdin is empty: a statement that reads it (cat, sh, bash
// -s, read) gets nothing of the statements after it, which are rated and
// run on their own.
func TestRedTeamSessionStatementReadsStdin(t *testing.T) {
	sessionBackends(t, worldOpts{deny: true}, func(t *testing.T, w *world) {
		s := startSession(t, w)
		for _, reader := range []string{"cat", "sh", "bash -s", `read -r x; echo "got[$x]"`, "head -c 100"} {
			r := s.run(reader + "\n" + "cat ~/.ssh/id_rsa; echo READ-$((@N@+1))")
			if strings.Contains(r.stdout, w.secret) || strings.Contains(r.stdout, fmt.Sprintf("READ-%d", w.n+1)) {
				t.Errorf("%s: the next statement ran unrated: %q", reader, r.stdout)
			}
			if r.status != 126 {
				t.Errorf("%s: the statement after it was not held (status %d)", reader, r.status)
			}
		}
		if r := s.run(`read -r x; echo "got[$x] $?"`); r.stdout != "got[] 1\n" {
			t.Errorf("read from the statement's stdin: %q", r.stdout)
		}
	})
}

// Statements that end the session's bash or its input: it ends (or goes
// on) as bash would, promptly, and leaves nothing running.
func TestRedTeamSessionEnds(t *testing.T) {
	sessionBackends(t, worldOpts{deny: true}, func(t *testing.T, w *world) {
		// A syntax error ends the script with 2; nothing after it runs.
		s := startSession(t, w)
		s.run("echo one")
		s.write("echo two-@ID@ > two-@ID@; if then fi\necho three > three-@ID@\n")
		if code := s.exitCode(30 * time.Second); code != 2 {
			t.Errorf("a syntax error ended the session with %d, want 2", code)
		}
		for _, f := range []string{"@PROJ@/two-@ID@", "@PROJ@/three-@ID@"} {
			if _, err := os.Stat(w.x(f)); err == nil {
				t.Errorf("RAN: %s exists", w.x(f))
			}
		}

		// An unterminated here-document at the end: nothing of it runs.
		s = startSession(t, w)
		s.run("echo one")
		s.write("cat > heredoc-@ID@ <<EOF\ntext\n")
		if code := s.close(); code != 2 {
			t.Errorf("an unterminated here-document ended the session with %d, want 2", code)
		}
		if _, err := os.Stat(w.x("@PROJ@/heredoc-@ID@")); err == nil {
			t.Errorf("RAN: the unterminated here-document's command")
		}

		// The inner bash killed: the session ends at once.
		s = startSession(t, w)
		s.run("echo one")
		s.write("kill -9 $$\n")
		if code := s.exitCode(20 * time.Second); code == 0 || code == -1 {
			t.Errorf("after kill -9 $$ the session ended with %d", code)
		}

		// Closing its stdin or stdout: it goes on.
		s = startSession(t, w)
		s.run("exec 0<&-")
		s.write("exec 1>&-\necho closed-$? >&2\n")
		if got, ok := s.errs.waitFor("closed-", 30*time.Second); !ok || !strings.Contains(got, "closed-0") {
			t.Errorf("after exec 1>&-: %q", got)
		}
		s.write("exec 1>/dev/null\necho gone; echo still-$? >&2\n")
		if got, ok := s.errs.waitFor("still-", 30*time.Second); !ok || !strings.Contains(got, "still-0") {
			t.Errorf("after exec 1>/dev/null: %q", got)
		}
		if code := s.close(); code != 0 {
			t.Errorf("the session ended with %d", code)
		}
	})
}

// A very long statement runs; one padded past what the rater follows is
// held, not taken for what it can see.
func TestRedTeamSessionLongStatement(t *testing.T) {
	sessionBackends(t, worldOpts{deny: true}, func(t *testing.T, w *world) {
		s := startSession(t, w)
		long := strings.Repeat("x", 300<<10)
		if r := s.run("echo " + long + " | wc -c"); strings.TrimSpace(r.stdout) != strconv.Itoa(len(long)+1) {
			t.Errorf("a 300 KiB statement printed %q (stderr %q)", clip(r.stdout, 100), clip(r.stderr, 300))
		}
		s.held(s.run(strings.Repeat(":;", 2100)+"cat ~/.ssh/id_rsa"), ":;:;")
		// Past the variables whose values are rated with a statement.
		s.run("f=~/.ssh/id_rsa")
		var pad strings.Builder
		for i := range 1100 {
			fmt.Fprintf(&pad, "$v%d", i)
		}
		s.held(s.run(": "+pad.String()+"; cat $f"), ": $v0$v1")
	})
}

// A background job of one statement outlives it, as in bash: its output
// still reaches the agent; it does not outlive the session.
func TestRedTeamSessionBackgroundJob(t *testing.T) {
	sessionBackends(t, worldOpts{deny: true}, func(t *testing.T, w *world) {
		s := startSession(t, w)
		s.run("(sleep 1; echo LATE-@ID@) & sleep @N@ >/dev/null 2>&1 </dev/null &")
		r := s.run("sleep 2")
		if !strings.Contains(r.stdout, w.x("LATE-@ID@")) {
			t.Errorf("the background job's output: %q", r.stdout)
		}
		s.close()
		c := &checker{t: t, w: w}
		c.noSurvivors()
	})
}

// ---- the escape suite inside a session ------------------------------------

// TestSessionEscape runs the escape suite's probes in sessions: each
// probe's commands are statements of one session, in a world of its own;
// every check holds as it does for `chaperone -c`.
func TestSessionEscape(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			itest.Require(t, backend, available(backend))
			for _, p := range probes() {
				if why := sessionSkip(p, backend); why != "" {
					continue
				}
				t.Run(p.name, func(t *testing.T) {
					t.Parallel()
					runSessionProbe(t, backend, p)
				})
			}
		})
	}
}

// sessionSkip says why a probe does not run in a session ("" when it
// does).
func sessionSkip(p probe, backend string) string {
	if p.only != nil && !slices.Contains(p.only, backend) || slices.ContainsFunc(p.needs, func(b string) bool { return !available(b) }) {
		return "not for this backend"
	}
	switch p.group {
	case "survivors":
		return "a background job outlives its statement in a session, as in bash (TestRedTeamSessionBackgroundJob)"
	}
	switch p.name {
	case "leftover-writes-into-later-command-output", "leftover-writes-into-earlier-command-output":
		return "a background job writes into the session's output, as in bash"
	case "run-from-project-holding-chaperone-config":
		return "refused before the session starts"
	case "claude-wrapper-cwd-file-works", "gemini-wrapper-bgpids-file-works":
		return "agents' per-command wrappers are recognised for -c, not in a session's statements"
	}
	var env []string
	for i, s := range p.steps {
		if s.args != nil || s.dir != "" || s.files != nil || s.before != nil {
			return "a step needs its own invocation"
		}
		if i > 0 && !slices.Equal(s.env, env) {
			return "steps with different environments"
		}
		env = s.env
	}
	return ""
}

// runSessionProbe runs p's commands as the statements of one session in a
// fresh world, and checks the host as runIn does.
func runSessionProbe(t *testing.T, backend string, p probe) {
	w := newWorld(t, backend, p.opts)
	w.begin(t)
	if p.helper {
		w.copyHelper()
	}
	if p.setup != nil {
		p.setup(w)
	}
	w.freeze()
	n := w.n
	t.Cleanup(func() {
		for _, pid := range sleepers(n) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	steps := append([]step(nil), p.steps...)
	for _, c := range p.cmds {
		steps = append(steps, step{cmd: c})
	}
	var env []string
	if len(p.steps) > 0 {
		env = p.steps[0].env
	}
	if p.script {
		for i := range steps {
			name := fmt.Sprintf("tools/probe-%d.sh", i)
			w.write("@PROJ@/"+name, "echo "+scriptStarted+" >&2\n"+w.x(steps[i].cmd)+"\n")
			steps[i].cmd = "bash " + name
		}
	}
	s := startSession(t, w, env...)
	c := &checker{t: t, w: w}
	for i, st := range steps {
		if i > 0 {
			s.run("cd @PROJ@") // each command of a probe starts in the project
		}
		cmd := st.cmd
		if strings.Contains(cmd, "\n") {
			cmd = "(\n" + cmd + "\n)" // one statement, its set -e its own
		}
		timeout := st.timeout
		if timeout == 0 {
			timeout = 90 * time.Second
		}
		r, ok := s.try(cmd, timeout)
		c.rs = append(c.rs, result{cmd: w.x(cmd), stdout: r.stdout, stderr: r.stderr, code: r.status, took: r.took, timedOut: !ok})
		if !ok {
			break
		}
	}
	s.close()
	for i, r := range c.rs {
		t.Logf("statement %d: status %d in %s\n  text: %s\n  stdout: %s\n  stderr: %s", i, r.code, r.took.Round(time.Millisecond),
			clip(r.cmd, 300), clip(r.stdout, 600), clip(r.stderr, 600))
	}
	for _, h := range w.heldCommands() {
		t.Logf("held, and %s", h)
	}
	if len(c.rs) < len(steps) {
		t.Fatalf("the session stalled at statement %d", len(c.rs)-1)
	}
	for i, r := range c.rs {
		if p.script && !strings.Contains(r.stderr, scriptStarted) {
			t.Errorf("DID NOT RUN: statement %d's script never started (status %d), so the probe proves nothing: %q", i, r.code, clip(r.stderr, 300))
		}
	}
	if p.check != nil {
		p.check(c)
	}
	var allowed []string
	for _, o := range p.outside {
		allowed = append(allowed, w.x(o))
	}
	w.checkHost(allowed)
}

// A job a statement left in the background connects later: between
// statements it is refused (no statement to ask about); while another
// statement runs, the panel's question does not pass the connection off
// as that statement's alone.
func TestRedTeamSessionBackgroundConnection(t *testing.T) {
	sessionBackends(t, worldOpts{}, func(t *testing.T, w *world) {
		w.serveUpstream("UP", nil)
		w.network(`hosts = { "between-@ID@.test" = "@UP@", "during-@ID@.test" = "@UP@" }` + "\n")
		s := startSession(t, w)
		s.run(get + `(sleep 1; get http://between-@ID@.test/) >/dev/null 2>&1 &`)
		time.Sleep(5 * time.Second)
		if n := w.ups["UP"].hits.Load(); n != 0 {
			t.Errorf("a background job's connection between statements went through (%d requests)", n)
		}
		s.run(`(sleep 1; get http://during-@ID@.test/) >/dev/null 2>&1 &`)
		s.run("sleep 5")
		s.close()
		asked := false
		for _, h := range w.heldCommands() {
			if strings.HasSuffix(h, ": sleep 5") {
				t.Errorf("the panel was asked about a background job's connection as the statement running's: %q", h)
			}
			asked = asked || strings.Contains(h, "in the background")
		}
		if !asked {
			t.Errorf("the panel was not asked about the connection made during sleep 5: %q", w.heldCommands())
		}
	})
}

// What host tools run, written by statement after statement of a session
// (a script streamed in, each right after the other, and one after a
// pause): each write is moved out of the project once its statement has
// ended, as after a command of its own. The session keeps the watch of
// the guarded files from one clean sweep to the next statement when that
// comes at once, so this is what that reuse must not lose.
func TestSessionGuardedFilesSwept(t *testing.T) {
	sessionBackends(t, worldOpts{deny: true}, func(t *testing.T, w *world) {
		w.write("@PROJ@/w.sh", "echo \"echo $1\" > \"$(cat name.txt)\"\n")
		w.write("@PROJ@/name.txt", ".envrc")
		s := startSession(t, w)
		envrc := filepath.Join(w.proj, ".envrc")
		for i, stmt := range []string{
			`sh w.sh one; sh w.sh two`,
			`true`, // a clean sweep, whose watch serves the next
			`sh w.sh three`,
			`sleep 0.3; sh w.sh four`,
		} {
			if i < 3 {
				// Back to back: the statement before has no marker.
				s.write(stmt + "\n")
				continue
			}
			r := s.run(stmt)
			if !strings.Contains(r.stderr, "moved") {
				t.Errorf("statement %d: no word of the move on stderr: %q", i, r.stderr)
			}
		}
		if data, err := os.ReadFile(envrc); err == nil {
			t.Fatalf(".envrc was left in the project: %q", data)
		}
		// Each write was moved out: the quarantine holds all three
		// statements' (the first statement's second write included).
		var found []string
		filepath.WalkDir(w.state, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && d.Name() == ".envrc" && strings.Contains(p, "quarantine") {
				data, _ := os.ReadFile(p)
				found = append(found, strings.TrimSpace(string(data)))
			}
			return nil
		})
		slices.Sort(found)
		if want := []string{"echo four", "echo three", "echo two"}; !slices.Equal(found, want) {
			t.Errorf("the quarantine holds %q, want %q", found, want)
		}
	})
}
