package shim

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	"golang.org/x/term"

	"github.com/chaperone-dev/chaperone/audit"
	"github.com/chaperone-dev/chaperone/broker"
	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/netproxy"
	"github.com/chaperone-dev/chaperone/sandbox"
)

// An interactive session (chaperone on a terminal with no command) is a
// real interactive bash inside the sandbox, on a terminal of its own:
// readline, history, completion, job control and the prompt are bash's.
// What chaperone adds is a gate, in bash's own hooks (gateRC):
//
//   - PS0, which bash expands after it has read a line and before any of it
//     runs, asks chaperone about the line (as bash's history has it, so a
//     multi-line command or a here-document is one question) over the
//     session's private channel (ctl), and waits for the answer: chaperone
//     rates it as `-c` would and holds it for the panel when it is high.
//   - A DEBUG trap with extdebug runs before every command and skips it
//     unless chaperone's verdict file says the line it belongs to may run.
//     The verdict is a file only chaperone writes, so the line being asked
//     about cannot answer for itself.
//
// What would undo the gate from inside (trap, set +o history, enable,
// exec …) is rated high (rater's session.gate rule).

// gateRC is the inner bash's startup file: the person's ~/.bashrc (as the
// sandbox has it), then the gate.
const gateRC = `[ -r ~/.bashrc ] && . ~/.bashrc
exec 3<&-
declare -r __chaperone_ctl="$CHAPERONE_CTL"
unset CHAPERONE_CTL
set -o history
shopt -s cmdhist extdebug
shopt -u lithist
[[ ${HISTSIZE-} =~ ^[1-9][0-9]*$ ]] || HISTSIZE=1000
declare -r HISTCONTROL= HISTIGNORE= HISTCMD
__chaperone_ask() {
	local id=$BASHPID.$SRANDOM ok=1 a m k t
	[[ -o history ]] && shopt -q cmdhist && ((HISTSIZE > 0)) || ok=0
	{ printf 'Q\x1f%s\x1f%s\x1f%s\x1f%s\x1f' "$id" "$1" "$ok" "$PWD"; HISTTIMEFORMAT= builtin history 1; printf '\0'; } >"$__chaperone_ctl/q"
	exec {a}<"$__chaperone_ctl/a"
	while IFS= read -r -d '' m <&"$a"; do
		[[ $m == "$id"$'\x1f'* ]] || continue
		m=${m#*$'\x1f'}
		k=${m%%$'\x1f'*}
		t=${m#*$'\x1f'}
		[[ -n $t ]] && printf '%s\n' "$t" >&2
		[[ $k == say ]] || break
	done
	exec {a}<&-
}
__chaperone_gate() {
	[[ ${FUNCNAME[1]-} == __chaperone_ask ]] && return 0
	[[ ${__chaperone_inline-} == "$HISTCMD" ]] || return 0
	local s v
	{ read -r s v <"$__chaperone_ctl/v"; } 2>/dev/null
	if [[ $s == "$HISTCMD" ]]; then
		[[ $v == run ]] || return 1
		__chaperone_seen=$s
		return 0
	fi
	[[ $BASHPID != "$$" && ${__chaperone_seen-} == "$HISTCMD" ]]
}
__chaperone_done() { printf 'D\x1f%s\0' "$1" >"$__chaperone_ctl/q"; }
readonly -f __chaperone_ask __chaperone_gate __chaperone_done
declare -a __chaperone_pc=("${PROMPT_COMMAND[@]}")
PROMPT_COMMAND=('__chaperone_done "$?"' "${__chaperone_pc[@]}")
unset __chaperone_pc
declare -r PS0='${__chaperone_nil[__chaperone_inline=HISTCMD-1]-}$(__chaperone_ask "$?")'
trap __chaperone_gate DEBUG
`

// interactiveScript starts the interactive bash with gateRC (from a
// here-document on descriptor 3, closed once read) as its startup file.
const interactiveScript = `exec "$BASH" --noprofile --rcfile /dev/fd/3 -i 3<<'__CHAPERONE_RC__'
` + gateRC + `__CHAPERONE_RC__
`

// interactive is one interactive session on the terminal s.Stdin.
type interactive struct {
	s      *Shim
	job    *sandbox.Job
	getenv func(string) string
	ctl    ctl
	proxy  *netproxy.Proxy
	tty    *os.File // the caller's terminal, raw while the session runs
	master *os.File // chaperone's terminal's master; bash's side is job's stdio

	mu      sync.Mutex
	line    *models.Event   // the line that ran last, recorded once its status is known
	rec     *audit.Recorder // its output's recording
	cancel  func()          // withdraws the line held now
	asker   string          // the id of the question being answered
	lastNum int             // the history number of the last line asked about
}

// interactiveSession runs job as an interactive bash on the caller's
// terminal, gated line by line (see above), and returns its exit status.
func (s *Shim) interactiveSession(ctx context.Context, job *sandbox.Job, getenv func(string) string) error {
	is := &interactive{s: s, job: job, getenv: getenv, tty: s.Stdin, lastNum: -1}
	master, slave, err := pty.Open()
	if err != nil {
		return fmt.Errorf("terminal: %w", err)
	}
	defer master.Close()
	is.master = master
	pty.InheritSize(is.tty, master)
	job.Script, job.Args = interactiveScript, nil
	job.Control = is.ctl.make
	job.Stdin, job.StdinFile, job.Stdout, job.StdoutFile, job.Stderr, job.StderrFile = slave, slave, slave, slave, slave, slave
	is.proxy = s.sessionProxy(ctx, job, crlfWriter{is.tty}, is.askNetwork)
	// What chaperone says goes to the terminal through the asking bash
	// (in order with bash's own output), as "say" answers.
	say := &sayWriter{is: is}
	s.msgs = say
	defer func() { s.msgs = nil }()
	if c, ok := s.Approver.(*broker.Client); ok {
		cc := *c
		cc.OnHold = func(req models.HoldRequest, panel bool) {
			heldNotice{stderr: say, getenv: getenv}.onHold(req, panel)
			say.Write([]byte("chaperone: Ctrl-C withdraws it\n"))
		}
		s.Approver = &cc
	}

	old, err := term.MakeRaw(int(is.tty.Fd()))
	if err != nil {
		slave.Close()
		return fmt.Errorf("terminal: %w", err)
	}
	defer term.Restore(int(is.tty.Fd()), old)
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	defer signal.Stop(winch)
	go func() {
		for range winch {
			pty.InheritSize(is.tty, master)
		}
	}()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ended := make(chan bashResult, 1)
	go func() {
		code, err := s.Backend.Run(ctx, job)
		slave.Close()
		ended <- bashResult{code, err}
	}()
	go is.input()
	out := make(chan struct{})
	go func() { is.output(); close(out) }()
	select {
	case <-is.ctl.readyChan():
		go is.questions(ctx)
	case <-ended:
	}
	r := <-ended
	select {
	case <-out:
	case <-time.After(drainWait):
	}
	is.ctl.close()
	if is.proxy != nil {
		is.proxy.Close()
	}
	is.finishLine(&r.code)
	return r.result(s.Backend.Name())
}

// input copies what the person types to bash's terminal. A Ctrl-C while
// a line is held withdraws it (and reaches bash too, which stops waiting).
func (is *interactive) input() {
	buf := make([]byte, 4096)
	for {
		n, err := is.tty.Read(buf)
		if n > 0 {
			if bytes.IndexByte(buf[:n], 3) >= 0 {
				is.mu.Lock()
				if is.cancel != nil {
					is.cancel()
				}
				is.mu.Unlock()
			}
			if _, werr := is.master.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// output copies bash's terminal to the person's, and to the recording of
// the line running.
func (is *interactive) output() {
	buf := make([]byte, 32<<10)
	for {
		n, err := is.master.Read(buf)
		if n > 0 {
			is.tty.Write(buf[:n])
			is.mu.Lock()
			if is.rec != nil {
				is.rec.Write(buf[:n])
			}
			is.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// questions answers bash's questions until the channel closes.
func (is *interactive) questions(ctx context.Context) {
	for {
		m, err := is.ctl.next()
		if err != nil {
			return
		}
		is.answer(ctx, m)
	}
}

// answer takes one message of bash's gate: "D" and the status of the line
// that has just ended (PROMPT_COMMAND), or a question (ask).
func (is *interactive) answer(ctx context.Context, m string) {
	if st, ok := strings.CutPrefix(m, "D\x1f"); ok {
		if code, err := strconv.Atoi(st); err == nil {
			is.finishLine(&code)
		}
		return
	}
	is.ask(ctx, m)
}

// ask decides the line a question is about: "Q", the asker's id, the
// status of the line before, whether bash's history settings hold ("1"),
// the working folder, and `history 1`'s output.
func (is *interactive) ask(ctx context.Context, m string) {
	f := strings.SplitN(m, "\x1f", 6)
	if len(f) != 6 || f[0] != "Q" {
		return // not bash's gate: nothing runs on it
	}
	id, ok, pwd := f[1], f[3] == "1", f[4]
	status, _ := strconv.Atoi(f[2])
	num, text, parsed := parseHistory(f[5])
	is.finishLine(&status)
	is.mu.Lock()
	is.asker = id
	is.mu.Unlock()
	deny := func(why string) {
		is.ctl.verdict(strconv.Itoa(num) + " deny")
		is.reply(id, "deny", "chaperone: denied: "+why)
	}
	switch {
	case !parsed || !ok:
		deny("this line did not reach bash's history, which the gate reads it from; `set -o history` and `shopt -s cmdhist` must stay on")
		return
	case num == is.lastNum:
		deny("this line did not reach bash's history (its number did not change), which the gate reads it from")
		return
	}
	is.lastNum = num
	is.ctl.verdict(strconv.Itoa(num) + " hold")
	s, job := is.s, is.job
	job.Dir = pwd
	hctx, cancel := context.WithCancel(ctx)
	is.mu.Lock()
	is.cancel = cancel
	is.mu.Unlock()
	ev, _, run := s.judge(hctx, job, text, nil, is.getenv, &statement{text: text})
	is.mu.Lock()
	is.cancel = nil
	is.mu.Unlock()
	cancel()
	if !run {
		is.ctl.verdict(strconv.Itoa(num) + " deny")
		is.reply(id, "deny", "")
		return
	}
	if job.OpenGuarded {
		job.OpenGuarded = false
		s.msgOut().Write([]byte("chaperone: note: in a session, what host tools run stays read-only even when approved; run it with chaperone -c to write it\n"))
	}
	is.mu.Lock()
	is.line = ev
	is.rec = is.newRecorder(ev)
	is.mu.Unlock()
	ev.Duration = float64(time.Now().UnixMicro()) // start, until finishLine
	is.ctl.verdict(strconv.Itoa(num) + " run")
	is.reply(id, "run", "")
}

// finishLine records the line that ran last with its status.
func (is *interactive) finishLine(status *int) {
	is.mu.Lock()
	ev, rec := is.line, is.rec
	is.line, is.rec = nil, nil
	is.mu.Unlock()
	if ev == nil {
		return
	}
	code := *status
	ev.Exit = &code
	ev.Duration = (float64(time.Now().UnixMicro()) - ev.Duration) / 1000
	if rec != nil {
		if out, err := rec.Close(); out != nil {
			ev.Output = out
		} else if err != nil {
			fmt.Fprintf(is.s.msgOut(), "chaperone: %v\n", err)
		}
	}
	is.s.record(ev)
}

func (is *interactive) newRecorder(ev *models.Event) *audit.Recorder {
	if is.s.Log == nil {
		return nil
	}
	rec, err := is.s.Log.NewRecorder(ev, audit.WithRawNewlines())
	if err != nil {
		return nil
	}
	return rec
}

// reply answers the asker id: kind "say" (a line for the terminal; more
// follows), "run" or "deny".
func (is *interactive) reply(id, kind, text string) {
	is.ctl.send(id + "\x1f" + kind + "\x1f" + strings.TrimSuffix(text, "\n"))
}

// askNetwork holds a connection a line wants to make.
func (is *interactive) askNetwork(ctx context.Context, r netproxy.Request) models.Verdict {
	is.mu.Lock()
	ev := is.line
	is.mu.Unlock()
	if ev == nil {
		return models.Verdict{By: models.ByNoPanel}
	}
	return is.s.askConnection(ctx, ev, r)
}

// sayWriter sends what chaperone writes for the person to the terminal
// through the asking bash, a line at a time.
type sayWriter struct {
	is *interactive
}

func (w *sayWriter) Write(p []byte) (int, error) {
	w.is.mu.Lock()
	id := w.is.asker
	w.is.mu.Unlock()
	for _, line := range strings.SplitAfter(string(p), "\n") {
		if line != "" {
			w.is.reply(id, "say", line)
		}
	}
	return len(p), nil
}

// parseHistory reads `history 1` with an empty HISTTIMEFORMAT: the
// entry's number, "*" when it was edited or a space, a space, the text.
func parseHistory(s string) (num int, text string, ok bool) {
	s = strings.TrimLeft(s, " ")
	i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	if i <= 0 {
		return 0, "", false
	}
	num, err := strconv.Atoi(s[:i])
	if err != nil {
		return 0, "", false
	}
	rest := s[i:] // "%5d%c %s": the mark is "*" for an edited entry, else " "
	if len(rest) < 2 || rest[0] != ' ' && rest[0] != '*' || rest[1] != ' ' {
		return 0, "", false
	}
	return num, strings.TrimSuffix(rest[2:], "\n"), true
}

// crlfWriter writes to a terminal in raw mode: each "\n" as "\r\n".
type crlfWriter struct{ w io.Writer }

func (c crlfWriter) Write(p []byte) (int, error) {
	if _, err := c.w.Write(bytes.ReplaceAll(p, []byte("\n"), []byte("\r\n"))); err != nil {
		return 0, err
	}
	return len(p), nil
}
