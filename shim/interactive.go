package shim

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/chaperone-dev/chaperone/audit"
	"github.com/chaperone-dev/chaperone/broker"
	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/netproxy"
	"github.com/chaperone-dev/chaperone/rater"
	"github.com/chaperone-dev/chaperone/sandbox"
)

// An interactive session (chaperone on a terminal with no command) is a
// real interactive bash inside the sandbox, on a terminal of its own:
// readline, history, completion, job control and the prompt are bash's.
// What chaperone adds is a gate, in bash's own hooks (gateRC):
//
//   - PS0, which bash expands after it has read a line and before any of
//     it runs, asks chaperone about the line (as bash's history has it, so
//     a multi-line command or a here-document is one question) over the
//     session's private channel (ctl), and waits for the answer: chaperone
//     rates it as `-c` would and holds it for the panel when it is high.
//     The asking subshell then reads chaperone's verdict file and prints a
//     token only when the verdict is "run" for its own question and the
//     very text it sent. Anything else (a deny, a hold withdrawn with
//     Ctrl-C, a question answered for another text, a subshell that could
//     not start or was killed) leaves PS0 assigning to a read-only
//     variable, an error that makes bash drop the whole line before any of
//     it runs: no command, no function definition, no expansion.
//   - A DEBUG trap with extdebug runs before every command and skips it
//     unless chaperone approved the line it belongs to (a file named by its
//     history number in the control folder, which only chaperone writes),
//     so that nothing runs between lines but the gate's own hooks: not the
//     prompt, not what readline would expand or execute.
//
// The verdict is in files only chaperone writes, so a line cannot answer
// for itself; the question travels over a FIFO that any process of the
// sandbox may write, so the asker checks that the verdict is about what it
// asked. The control folder is read-only in the sandbox on every backend
// (docker and podman run a session in a container of its own, which no
// other command's processes share). One limit: a process that may ptrace
// bash (same user, no Yama) can change it at will. The gate's own state is read-only (its functions,
// PS0, PROMPT_COMMAND, the variables bash keeps for it); what the prompt
// would run between lines (PS1's command substitutions) is skipped, and
// could not reach the gate from its subshell anyway. What would undo the
// gate from inside (trap, set +o history, enable, exec, a function named
// like a builtin …) is rated high (rater's session.gate rule), and so is
// what would run code no line shows in this bash, or hand the terminal to
// a program that runs what is typed to it (rater.TypedLine).

// gateRC is the inner bash's startup file: the gate, and nothing of the
// sandbox's ~/.bashrc, which commands of the sandbox may have written and
// which would run before the gate with the gate's powers. In order:
//
//   - bash's own variables the gate reads, read-only (unset, FUNCNAME,
//     BASH_COMMAND and SRANDOM would lose their meaning); no aliases; less
//     without its shell escapes (man and git page with it);
//   - __chaperone_ask, which runs in PS0's command substitution: in POSIX
//     mode (so that unset is bash's own) it removes any function named like
//     a builtin it uses, asks about the line with what bash holds (its
//     variables and functions, before any of the asker's own: the line is
//     rated with those it uses; the working folder, $PWD only when it
//     names it, which a line may set), and prints $__chaperone_t only if
//     chaperone's verdict is "run" for its id, its text and that state
//     (another writer of the FIFO may have spliced its own into the
//     question);
//   - PS0, which sets __chaperone_t from SRANDOM, keeps the asker's
//     output in __chaperone_got[__chaperone_t] (inside expansions that
//     print nothing), and looks up __chaperone_ok[ok<what is left of
//     $__chaperone_t once that output is taken off its front>] with :=,
//     which assigns (and fails, the array being read-only) unless the
//     asker printed exactly $__chaperone_t;
//   - readline's commands that run or expand shell code unbound;
//   - the DEBUG trap, keywords only (nothing a function could stand in
//     for): the gate's own hooks, or a line chaperone approved.
const gateRC = `exec 3<&-
declare -r __chaperone_ctl="$CHAPERONE_CTL"
unset CHAPERONE_CTL
set -o history
shopt -s cmdhist extdebug
shopt -u lithist expand_aliases
unalias -a
[[ ${HISTSIZE-} =~ ^[1-9][0-9]*$ ]] || HISTSIZE=1000
declare -r HISTCONTROL= HISTIGNORE= HISTCMD FUNCNAME BASH_COMMAND SRANDOM
declare -rx LESSSECURE=1
__chaperone_ask() {
	POSIXLY_CORRECT=y
	unset -f builtin command printf read exec local declare history shopt kill unset || return
	set +eu
	shopt -u nocasematch
	local __chaperone_s
	__chaperone_s=$(builtin declare -p; builtin printf '\x1f'; builtin declare -f) || return
	local LC_ALL=C TMOUT= id=$BASHPID.$SRANDOM ok=1 h a m k t w p=$PWD
	[[ -o history ]] && shopt -q cmdhist && ((HISTSIZE > 0)) || ok=0
	[[ $p == /* && $p -ef . ]] || p=$(builtin pwd -P) || p=
	h=$(HISTTIMEFORMAT= builtin history 1) || return
	printf 'Q\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\0' "$id" "$1" "$ok" "${#p}" "$p" "${#__chaperone_s}" "$__chaperone_s" "$h" >"$__chaperone_ctl/q" || return
	exec {a}<"$__chaperone_ctl/a" || return
	while IFS= read -r -d '' m <&"$a"; do
		[[ $m == "$id"$'\x1f'* ]] || continue
		m=${m#*$'\x1f'}
		k=${m%%$'\x1f'*}
		t=${m#*$'\x1f'}
		[[ -n $t ]] && printf '%s\n' "$t" >&2
		[[ $k == say ]] || break
	done
	exec {a}<&-
	IFS= read -r -d '' w <"$__chaperone_ctl/v"
	[[ $w == "$id run"$'\n'"$h"$'\x1f'"$__chaperone_s"$'\n' ]] && printf '%s' "$__chaperone_t" && return
	kill -INT $$
}
__chaperone_done() {
	__chaperone_got=()
	local t=$SRANDOM$SRANDOM
	printf 'D\x1f%s\x1f%s\0' "$1" "$t" >"$__chaperone_ctl/q"
	{ printf '\e]6973;%s\a' "$t" >/dev/tty; } 2>/dev/null || printf '\e]6973;%s\a' "$t"
}
readonly -f __chaperone_ask __chaperone_done
declare -r __chaperone_zero=0
declare -ar __chaperone_nil=()
declare -Ar __chaperone_ok=([ok]=1)
declare -a __chaperone_got=()
declare -ar PROMPT_COMMAND=('\__chaperone_done "$?"')
declare -r PS0='${__chaperone_nil[__chaperone_t=SRANDOM]-}${__chaperone_nil[${__chaperone_zero#${__chaperone_got[__chaperone_t]:=$(\__chaperone_ask "$?")}}]-}${__chaperone_nil[${__chaperone_ok[ok${__chaperone_t#"${__chaperone_got[__chaperone_t]-}"}]:=}*0]-}'
for __chaperone_t in emacs-standard emacs-meta emacs-ctlx vi-command vi-insert; do
	for __chaperone_m in edit-and-execute-command vi-edit-and-execute-command shell-expand-line re-read-init-file; do
		bind -m "$__chaperone_t" -u "$__chaperone_m"
	done
done 2>/dev/null
unset __chaperone_t __chaperone_m
trap '[[ ${FUNCNAME[0]-} == __chaperone_ask || ${FUNCNAME[0]-} == __chaperone_done || $BASH_COMMAND == "\\__chaperone_ask \"\$?\"" || $BASH_COMMAND == "\\__chaperone_done \"\$?\"" || -e $__chaperone_ctl/r/$HISTCMD ]]' DEBUG
`

// interactiveScript starts the interactive bash with gateRC (from a
// here-document on descriptor 3, closed once read) as its startup file.
// It executes the very program running it (/proc/self/exe), not $BASH: a
// sandbox runs the session's bash sealed (reaper.Setup.Seal), from a copy
// it cannot read, and only that copy keeps it so (it is bash all the same,
// and named so).
const interactiveScript = `exec -a bash /proc/self/exe --noprofile --rcfile /dev/fd/3 -i 3<<'__CHAPERONE_RC__'
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
	line    *models.Event   // the line that ran last, recorded at the next question (or the session's end)
	rec     *audit.Recorder // its output's recording
	cancel  func()          // withdraws the line held now
	asker   string          // the id of the question being answered
	lastNum int             // the history number of the last line asked about
	lastOut time.Time       // when bash's terminal last printed

	// The line's output is recorded up to its end mark (see marks.go),
	// which PROMPT_COMMAND prints after telling chaperone its token.
	pend   []byte    // what bash's terminal printed that is not recorded yet
	marks  []markAt  // marks in pend whose token no end has named yet
	want   string    // the token of the end told, while its mark is not seen
	ended  string    // the token of the last end whose mark was seen
	closed bool      // the line's recording has ended at its mark
	after  []byte    // what came after that mark, while the line is not finished
	told   *int      // the status of the line's last end told
	start  time.Time // when the line was let run
	toldAt time.Time // when its last end was told
}

// markAt is a mark in interactive.pend.
type markAt struct {
	tok        string
	start, end int
}

// maxPend is how much output after a mark no end has named is kept from
// the recording: a line can print what looks like a mark. It is also how
// much output after the line's end mark is kept aside until the line is
// finished (see answer); past it, the recording goes on.
const maxPend = 1 << 20

// interactiveSession runs job as an interactive bash on the caller's
// terminal, gated line by line (see above), and returns its exit status.
func (s *Shim) interactiveSession(ctx context.Context, job *sandbox.Job, getenv func(string) string) error {
	is := &interactive{s: s, job: job, getenv: getenv, tty: s.Stdin, lastNum: -1}
	s.sessionID = newSessionID(getenv, cmp.Or(s.PPID, os.Getppid()))
	master, slave, err := pty.Open()
	if err != nil {
		return fmt.Errorf("terminal: %w", err)
	}
	defer master.Close()
	is.master = master
	pty.InheritSize(is.tty, master)
	job.Script, job.Args = interactiveScript, nil
	job.Control = is.makeControl
	s.Rater = typedRater{s.Rater}
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
	is.settleIfRunning()
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
			is.lastOut = time.Now()
			is.took(buf[:n])
			is.mu.Unlock()
		}
		if err != nil {
			is.mu.Lock()
			is.commit(len(is.pend))
			is.mu.Unlock()
			return
		}
	}
}

// took looks for end marks in what bash's terminal printed and records
// what it can. Called with mu held.
func (is *interactive) took(p []byte) {
	scan := max(0, len(is.pend)-partialMark(is.pend))
	if len(is.marks) > 0 {
		scan = max(scan, is.marks[len(is.marks)-1].end)
	}
	is.pend = append(is.pend, p...)
	for {
		i, j, tok, ok := findMark(is.pend[scan:])
		if !ok {
			break
		}
		m := markAt{tok, scan + i, scan + j}
		scan = m.end
		if tok == is.want {
			is.endAt(m)
			scan -= m.end
			continue
		}
		is.marks = append(is.marks, m)
	}
	keep := len(is.pend) - partialMark(is.pend)
	if len(is.marks) > 0 {
		if len(is.pend)-is.marks[0].start > maxPend {
			is.marks = nil // none of them was an end: the line's output
		} else {
			keep = min(keep, is.marks[0].start)
		}
	}
	is.commit(keep)
}

// endAt ends the line's recording at m, its end mark: what came before
// is the line's, what comes after is not. Called with mu held.
func (is *interactive) endAt(m markAt) {
	if is.closed {
		// An earlier end of the same line: what came since its mark
		// is the line's too.
		is.closed = false
		if is.rec != nil {
			is.rec.Write(is.after)
		}
	}
	is.after = nil
	is.commit(m.start)
	is.closed = true
	is.ended, is.want = m.tok, ""
	is.pend = is.pend[m.end-m.start:]
	var rest []markAt
	for _, o := range is.marks {
		if o.start >= m.end {
			rest = append(rest, markAt{o.tok, o.start - m.end, o.end - m.end})
		}
	}
	is.marks = rest
}

// commit records the first n bytes of pend (unless the line's recording
// has ended) and lets them go. Called with mu held.
func (is *interactive) commit(n int) {
	if n <= 0 {
		return
	}
	if is.rec != nil && !is.closed {
		is.rec.Write(is.pend[:n])
	} else if is.rec != nil {
		is.after = append(is.after, is.pend[:n]...)
		if len(is.after) > maxPend {
			is.rec.Write(is.after)
			is.after, is.closed = nil, false
		}
	}
	is.pend = is.pend[n:]
	for k := range is.marks {
		is.marks[k].start -= n
		is.marks[k].end -= n
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
//
// The line's recording ends at the mark of the last "D" told before the
// next question, when the line is recorded: any process of the sandbox
// may write to the FIFO, the line's own included, and the token is
// bash's, which the line can know. A "D" the line forged, with its mark,
// before more output would otherwise end its recording there, and one
// whose mark never comes would end it at once: the real one that follows
// takes in what came between.
func (is *interactive) answer(ctx context.Context, m string) {
	if rest, ok := strings.CutPrefix(m, "D\x1f"); ok {
		st, tok, _ := strings.Cut(rest, "\x1f")
		if code, err := strconv.Atoi(st); err == nil {
			is.waitEnd(tok)
			is.mu.Lock()
			if is.line != nil {
				is.told, is.toldAt = &code, time.Now()
			}
			is.mu.Unlock()
		}
		return
	}
	is.ask(ctx, m)
}

// ask decides the line a question is about (see parseQuestion). The
// verdict goes to the verdict file, with the asker's id and the text it
// sent (the asker runs the line only if both are its own), and, when the
// line may run, to the approval named by its history number (what the
// DEBUG trap looks for) — before the answer, which only wakes the asker.
func (is *interactive) ask(ctx context.Context, m string) {
	q, ok := parseQuestion(m)
	if !ok {
		return // not bash's gate: nothing runs on it
	}
	is.settleIfRunning()
	is.finishLine(&q.status)
	is.mu.Lock()
	is.asker = q.id
	is.mu.Unlock()
	deny := func(why string) {
		is.decide(q, "deny")
		is.reply(q.id, "deny", "chaperone: denied: "+why)
	}
	switch {
	case !q.parsed || !q.historyOn:
		deny("this line did not reach bash's history, which the gate reads it from; `set -o history` and `shopt -s cmdhist` must stay on")
		return
	case q.pwd == "":
		deny("the working folder is not known (was it removed?); cd to one that is there")
		return
	case q.num <= is.lastNum:
		// Never decided twice: a number asked about again, or going
		// back, is not a line of bash's history.
		deny("this line did not reach bash's history (its number did not grow), which the gate reads it from")
		return
	}
	is.lastNum = q.num
	is.decide(q, "hold")
	s, job := is.s, is.job
	job.Dir = q.pwd
	hctx, cancel := context.WithCancelCause(ctx)
	is.mu.Lock()
	is.cancel = func() { cancel(errWithdrawn) }
	is.mu.Unlock()
	sc := shellContext{s: s, getenv: is.getenv, pwd: q.pwd, project: job.Project}
	rated := sc.fromState(hctx, q.text, q.vars, q.funcs)
	ev, _, run := s.judge(hctx, job, rated, nil, is.getenv, &statement{text: q.text})
	is.mu.Lock()
	is.cancel = nil
	is.mu.Unlock()
	cancel(nil)
	if !run {
		is.decide(q, "deny")
		is.reply(q.id, "deny", "")
		return
	}
	if job.OpenGuarded {
		job.OpenGuarded = false
		s.msgOut().Write([]byte("chaperone: note: in a session, what host tools run stays read-only even when approved; run it with chaperone -c to write it\n"))
	}
	is.mu.Lock()
	is.line = ev
	is.rec = is.newRecorder(ev)
	is.start = time.Now()
	is.mu.Unlock()
	is.decide(q, "run")
	is.reply(q.id, "run", "")
}

// decide writes verdict ("hold", "deny" or "run") on q: the approval of
// its history number first (made for "run", removed otherwise: one a
// forged question made before is gone), then the verdict file.
func (is *interactive) decide(q question, verdict string) {
	if q.parsed {
		approval := filepath.Join(is.ctl.dir, approvals, strconv.Itoa(q.num))
		if verdict == "run" {
			if f, err := os.OpenFile(approval, os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
				f.Close()
			}
		} else {
			os.Remove(approval)
		}
	}
	is.ctl.verdict(q.id + " " + verdict + "\n" + q.history + "\x1f" + q.state)
}

// approvals is the control folder's folder of approved lines, each an
// empty file named by its history number.
const approvals = "r"

// makeControl fills the job's control folder: the channel (ctl.make) and
// the folder of approvals.
func (is *interactive) makeControl(dir string) error {
	if err := os.Mkdir(filepath.Join(dir, approvals), 0o755); err != nil {
		return fmt.Errorf("control channel: %w", err)
	}
	return is.ctl.make(dir)
}

// question is one question of bash's gate.
type question struct {
	id        string // the asker's: BASHPID.SRANDOM
	status    int    // of the line before
	historyOn bool   // bash's history settings hold
	pwd       string
	state     string // `declare -p`, \x1f, `declare -f`: the verdict file repeats it
	vars      string // `declare -p`: the variables bash holds
	funcs     string // `declare -f`: its functions
	history   string // `history 1` as sent: the verdict file repeats it
	num       int    // parsed from history
	text      string
	parsed    bool
}

// parseQuestion reads "Q", the asker's id, the status of the line before,
// whether bash's history settings hold ("1"), then the working folder and
// bash's state, each as its length in bytes and itself, and `history 1`'s
// output, separated by \x1f. Any of the last three may hold \x1f: the
// first two are taken by their lengths, the history is the rest. The
// state is `declare -p` (which quotes any control character), \x1f and
// `declare -f`. ok is false for what is no question.
func parseQuestion(m string) (q question, ok bool) {
	f := strings.SplitN(m, "\x1f", 5)
	if len(f) != 5 || f[0] != "Q" || !validAsker(f[1]) {
		return q, false
	}
	rest := f[4]
	for _, field := range []*string{&q.pwd, &q.state} {
		if *field, rest, ok = cutCounted(rest); !ok {
			return question{}, false
		}
	}
	q.vars, q.funcs, _ = strings.Cut(q.state, "\x1f")
	q.id, q.historyOn, q.history = f[1], f[3] == "1", rest
	q.status, _ = strconv.Atoi(f[2])
	q.num, q.text, q.parsed = parseHistory(q.history)
	return q, true
}

// cutCounted cuts "N\x1f", N bytes and "\x1f" off the front of s.
func cutCounted(s string) (field, rest string, ok bool) {
	ns, rest, ok := strings.Cut(s, "\x1f")
	n, err := strconv.Atoi(ns)
	if !ok || err != nil || n < 0 || n >= len(rest) || rest[n] != '\x1f' {
		return "", "", false
	}
	return rest[:n], rest[n+1:], true
}

// validAsker reports whether id is an asker's id: digits, a dot, digits.
func validAsker(id string) bool {
	pid, rnd, ok := strings.Cut(id, ".")
	digits := func(s string) bool {
		return s != "" && strings.Trim(s, "0123456789") == ""
	}
	return ok && digits(pid) && digits(rnd)
}

// settle waits, a moment at most, for the line's last output to come
// through the terminals between bash and chaperone (it is written before
// bash says the line ended, but the relays copy it later): until the
// master has nothing to read and nothing came for settleQuiet (counted
// from the call at least).
func (is *interactive) settle() {
	start := time.Now()
	for end := start.Add(settleMax); time.Now().Before(end); time.Sleep(time.Millisecond) {
		n := 0
		if sc, err := is.master.SyscallConn(); err == nil {
			sc.Control(func(fd uintptr) { n, _ = unix.IoctlGetInt(int(fd), unix.TIOCINQ) })
		}
		is.mu.Lock()
		last := is.lastOut
		if last.Before(start) {
			last = start // output may still be on its way: wait from now
		}
		quiet := time.Since(last) >= settleQuiet
		is.mu.Unlock()
		if n == 0 && quiet {
			return
		}
	}
}

// settleIfRunning settles the output of a line whose end chaperone was
// not told (see waitEnd).
func (is *interactive) settleIfRunning() {
	is.mu.Lock()
	running := is.line != nil && is.told == nil
	is.mu.Unlock()
	if running {
		is.settle()
	}
}

// How long settle waits for output in flight.
const (
	settleQuiet = 30 * time.Millisecond
	settleMax   = 300 * time.Millisecond
)

// waitEnd waits, a while at most, for the end mark with token tok: the
// line's output has then all been recorded. Without it (no token, or a
// mark that does not come: a line that took the terminal's output away),
// it waits for the output to settle.
func (is *interactive) waitEnd(tok string) {
	if tok == "" || strings.Trim(tok, "0123456789") != "" {
		is.settle()
		return
	}
	is.mu.Lock()
	if k := slices.IndexFunc(is.marks, func(m markAt) bool { return m.tok == tok }); k >= 0 {
		is.endAt(is.marks[k])
	} else {
		is.want = tok
	}
	is.mu.Unlock()
	for end := time.Now().Add(endMax); time.Now().Before(end); time.Sleep(200 * time.Microsecond) {
		is.mu.Lock()
		seen := is.ended == tok
		is.mu.Unlock()
		if seen {
			return
		}
	}
	is.mu.Lock()
	is.want = ""
	is.mu.Unlock()
	is.settle()
}

// endMax is how long a line's end mark is waited for at most.
const endMax = 2 * time.Second

// finishLine records the line that ran last with its status.
func (is *interactive) finishLine(status *int) {
	is.mu.Lock()
	if !is.closed {
		is.commit(len(is.pend) - partialMark(is.pend))
	}
	ev, rec := is.line, is.rec
	end := time.Now()
	if is.told != nil {
		status, end = is.told, is.toldAt
	}
	took := end.Sub(is.start)
	is.line, is.rec, is.closed, is.after, is.told = nil, nil, false, nil, nil
	is.mu.Unlock()
	if ev == nil {
		return
	}
	code := *status
	ev.Exit = &code
	ev.Duration = float64(took.Microseconds()) / 1000
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

// typedRater rates a line typed at the session as Rater does, then as a
// line of a session whose gate is in the bash that reads the terminal
// (rater.TypedLine).
type typedRater struct{ Rater }

func (r typedRater) Rate(ctx context.Context, req rater.Request) (models.Rating, *models.Facts) {
	rating, facts := r.Rater.Rate(ctx, req)
	return rater.TypedLine(rating, facts), facts
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
