package shim

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
	"mvdan.cc/sh/v3/syntax"

	"github.com/chaperone-dev/chaperone/audit"
	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/netproxy"
	"github.com/chaperone-dev/chaperone/parser"
	"github.com/chaperone-dev/chaperone/rater"
	"github.com/chaperone-dev/chaperone/sandbox"
)

// A session (statements read from a pipe that stays open) runs one bash
// inside the sandbox for all its statements, so that what one statement
// leaves (the working folder, variables, functions, an activated venv)
// is there for the next, as in bash. chaperone reads stdin one line at a
// time and parses it as bash would (mvdan.cc/sh's interactive parser);
// each time the text so far ends in complete statements, that text is
// rated and decided exactly as `-c` would be, with what the inner bash
// holds that it uses (see rated), and only then sent to the inner bash
// over the session's private channel (ctl), which answers with its status
// once the text has run. The next line is read after that. A statement
// that is not to run is not sent; the next one sees $? = 126.
//
// The statements are the agent's, and run in the inner bash itself: none
// of what they do there may have text run that was never rated. So the
// channel's names are gone once bash has them open, the loop is immune
// to what a statement leaves in the shell (see driver), and the rater
// holds, in a session, a statement that could write to the channel's
// descriptors or that changes the shell unseen (rater.Request.Gated).
// No other command shares the inner bash's pid namespace (bubblewrap's
// jail, or docker's and podman's container of the session's own), which
// would let it reach them through /proc; a job the session itself left
// in the background still can.
//
// A statement's stdin is /dev/null: the rest of the script is what
// chaperone must rate, and is never handed to a command unrated (bash
// would let a `sh` in the script read the lines after it and run them).

// driver is the inner bash's loop. It reads messages from fd 200 and
// answers on fd 201, each NUL-ended. In a sandbox both are one socket,
// connected to chaperone by the sandbox's reaper and given on fds 3 and 4
// (see ctl.makeSocket): a statement can reopen a FIFO its bash holds,
// through /proc/self/fd by any name that leads there, but not a socket.
// With no reaper (the host backend), bash opens the channel's FIFOs "a"
// and "q" itself (chaperone removes their names once they are open). The
// messages:
//   - "STATUS:TEXT": set $? to STATUS, run TEXT in the shell itself (eval,
//     so that cd, export and functions stay), with the channel's
//     descriptors closed for it; answer "STATUS:FLAGS:PWD\n" (bash's own
//     working folder, whatever $PWD says), then `declare -F` and, in
//     one answer, `declare -p` of preNames (what the next statement's
//     rating needs at least; see recvPre);
//   - "#oTOKEN": print the end mark with TOKEN (see marks.go) on the
//     shell's stdout as it was when the session started; "#bTOKEN": on
//     its stdout and stderr;
//   - "!STATUS": end the session (bash's own exit, whatever a statement
//     defined as exit);
//   - "?q" and names, each after a newline: answer `declare -F` (the
//     functions' names), then for each name `declare -p` of it (bash's
//     own line that would make the variable again, attributes and all;
//     "" when it is unset); "?f NAME": the function's definition (""
//     when it is none).
//
// What a statement leaves in the shell is the statement's: functions,
// traps, variables, descriptors. None of it may change what the loop
// runs: the loop uses builtins only through `builtin`, after removing any
// function of that name in POSIX mode (where a function cannot hide a
// special builtin such as unset or exit; assigning POSIXLY_CORRECT is
// syntax, which nothing hides), reads into a variable it first removes
// (with any attribute a statement gave it), keeps its descriptors at
// fixed numbers that bash restores after each eval, and sets $? with a
// read-only function. A state it cannot undo (a read-only variable or
// function of its own) ends the session. `ret N && :` sets $? without
// tripping set -e; `|| [[ 1 ]]` ignores a failure under set -e. A shell
// started in POSIX mode (chaperone run as sh) stays in it.
const driver = `if [[ -S /dev/fd/3 ]]; then exec 200<&3 201>&4 3<&- 4<&- || exit 126
else exec 200<"$CHAPERONE_CTL/a" 201>"$CHAPERONE_CTL/q" || exit 126; fi
exec 202>&1 203>&2 || exit 126
unset CHAPERONE_CTL
__chaperone_ret() { return "$1"; }
__chaperone_q() {
	builtin declare -F >&201
	builtin printf '\0' >&201
	__chaperone_m=$1
	while [[ $__chaperone_m == $'\n'* ]]; do
		__chaperone_m=${__chaperone_m#$'\n'}
		__chaperone_n=${__chaperone_m%%$'\n'*}
		__chaperone_m=${__chaperone_m#"$__chaperone_n"}
		builtin declare -p -- "$__chaperone_n" >&201 2>/dev/null || [[ 1 ]]
		builtin printf '\0' >&201
	done
}
readonly -f __chaperone_ret __chaperone_q
if [[ -o posix ]]; then readonly __chaperone_posix=y; else readonly __chaperone_posix=; fi
while :; do
	POSIXLY_CORRECT=y
	unset -f builtin || exit 126
	unset -n __chaperone_m __chaperone_n || exit 126
	[[ $__chaperone_posix ]] || unset POSIXLY_CORRECT
	if [[ -n ${__chaperone_st-} ]]; then
		builtin printf '%s:%s:' "$__chaperone_st" "$__chaperone_f" >&201
		builtin pwd >&201 2>/dev/null || [[ 1 ]]
		builtin printf '\0' >&201
		__chaperone_st=
		builtin declare -F >&201
		builtin printf '\0' >&201
		builtin declare -p HOME PATH IFS >&201 2>/dev/null || [[ 1 ]]
		builtin printf '\0' >&201
	fi
	IFS= builtin read -r -d '' __chaperone_m <&200 || builtin exit 126
	case $__chaperone_m in
	'!'*)
		POSIXLY_CORRECT=y
		exit "${__chaperone_m#!}" ;;
	'?q'*)
		__chaperone_q "${__chaperone_m#'?q'}" ;;
	'?f '*)
		builtin declare -f -- "${__chaperone_m#'?f '}" >&201 2>/dev/null || [[ 1 ]]
		builtin printf '\0' >&201 ;;
	'#'*)
		builtin printf '\e]6973;%s\a' "${__chaperone_m:2}" >&202 2>/dev/null || [[ 1 ]]
		if [[ ${__chaperone_m:1:1} == b ]]; then
			builtin printf '\e]6973;%s\a' "${__chaperone_m:2}" >&203 2>/dev/null || [[ 1 ]]
		fi ;;
	*)
		__chaperone_ret "${__chaperone_m%%:*}" && :
		builtin eval "${__chaperone_m#*:}" 200<&- 201>&- 202>&- 203>&-
		__chaperone_st=$? __chaperone_f=$- ;;
	esac
done
`

// preNames are the variables bash reports after each statement (see
// driver): those every statement's rating asks for (varNames).
var preNames = []string{"HOME", "PATH", "IFS"}

// streamed reports whether bash would read its script from f as it comes,
// statement by statement: a pipe, a socket or a device that is not a
// terminal. A regular file is read whole (and rated whole).
func streamed(f *os.File) bool {
	if f == nil || isTerminal(f) {
		return false
	}
	fi, err := f.Stat()
	return err == nil && !fi.Mode().IsRegular()
}

// writtenWhole reads what f (a pipe) holds now, without waiting; whole
// says that its writer had already closed it, so that got is the whole
// script. Past maxWhole it stops looking: a script that long is streamed.
func writtenWhole(f *os.File) (got []byte, whole bool) {
	fd := int(f.Fd())
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, false
	}
	defer unix.SetNonblock(fd, false)
	buf := make([]byte, 64<<10)
	for len(got) < maxWhole {
		n, err := unix.Read(fd, buf)
		switch {
		case n > 0:
			got = append(got, buf[:n]...)
		case err == unix.EINTR:
		case err == nil: // 0 bytes: end of file
			return got, true
		default: // EAGAIN: the writer is still there
			return got, false
		}
	}
	return got, false
}

// maxWhole is how much of a pipe writtenWhole reads at most.
const maxWhole = 64 << 20

// stmtSession is one session of statements read from a stream.
type stmtSession struct {
	s      *Shim
	job    *sandbox.Job
	getenv func(string) string
	ctl    ctl
	proxy  *netproxy.Proxy

	stdout, stderr *relay

	mu  sync.Mutex
	cur *models.Event // the statement running, for the proxy's questions
	bg  bool          // a statement started a job in the background

	status int    // $? for the next statement
	flags  string // the inner bash's $- after the last statement
	pwd    string // and its working folder
	pre    answer // and its functions' names and preNames' values

	watch *sandbox.Watch // of the guarded files, as the last sweep found them unchanged
	swept time.Time      // when
}

// answer is what bash answered to "?q": the names of its functions, and
// the variables asked about.
type answer struct {
	fnames map[string]bool
	values map[string]string
}

// statements runs job's bash as a session fed from in, one complete
// statement at a time (see above), and returns its exit status as Run
// does.
func (s *Shim) statements(ctx context.Context, job *sandbox.Job, in io.Reader, getenv func(string) string) error {
	ss := &stmtSession{s: s, job: job, getenv: getenv, pwd: job.Dir}
	s.sessionID = newSessionID(getenv, cmp.Or(s.PPID, os.Getppid()))
	job.Script = driver
	job.Control = ss.ctl.make
	if s.Backend.Name() != "host" {
		// The sandbox's reaper connects bash to the channel's socket.
		job.Control, job.ControlOnFDs = ss.ctl.makeSocket, true
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return err
	}
	defer devnull.Close()
	job.Stdin, job.StdinFile = devnull, devnull
	if ss.stdout, ss.stderr, err = newRelays(s.Stdout, s.Stderr); err != nil {
		return err
	}
	job.Stdout, job.StdoutFile = ss.stdout.w, ss.stdout.w
	job.Stderr, job.StderrFile = ss.stderr.w, ss.stderr.w
	ss.proxy = s.sessionProxy(ctx, job, s.Stderr, ss.askNetwork)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ended := make(chan bashResult, 1)
	go func() {
		code, err := s.Backend.Run(ctx, job)
		ended <- bashResult{code, err}
	}()
	defer s.recordInOrder()()
	finish := func(r bashResult) error {
		cancel()
		ss.ctl.close()
		if ss.proxy != nil {
			ss.proxy.Close()
		}
		ss.stdout.close()
		ss.stderr.close()
		return r.result(s.Backend.Name())
	}
	select {
	case <-ss.ctl.readyChan():
	case r := <-ended:
		return finish(r) // the sandbox did not start
	}
	replies := ss.replies(ctx)

	// bash has opened the channel once it answers: then the FIFOs' names
	// go, so that nothing in the sandbox can open them again (a statement
	// that wrote to "a" would have text run that was never rated).
	ss.ctl.send("?q\n" + strings.Join(preNames, "\n"))
	if r, done := ss.recvAnswer(&ss.pre, preNames, replies, ended); done {
		return finish(r)
	}
	if err := ss.ctl.hide(); err != nil {
		fmt.Fprintf(s.Stderr, "chaperone: %v\n", err)
		ss.ctl.send("!126")
		return finish(<-ended)
	}

	units := make(chan unit)
	go readUnits(in, units)
	for {
		var u unit
		var ok bool
		select {
		case r := <-ended:
			return finish(r)
		case u, ok = <-units:
		}
		if !ok {
			// End of the script: bash exits with the last status.
			ss.ctl.send("!" + strconv.Itoa(ss.status))
			return finish(<-ended)
		}
		if u.err != nil {
			fmt.Fprintf(s.Stderr, "chaperone: denied: bash: %s\n", u.err)
			ss.record(&models.Event{Time: time.Now(), Command: u.text, Decision: models.Denied, DecidedBy: models.ByRules, Note: u.err.Error()}, nil)
			ss.ctl.send("!2") // bash ends a script at a syntax error, with 2
			return finish(<-ended)
		}
		ran, r, done := ss.run(ctx, u.text, replies, ended)
		if done {
			return finish(r)
		}
		if !ran && strings.Contains(ss.flags, "e") {
			ss.ctl.send("!" + strconv.Itoa(DeniedStatus)) // set -e: a failed statement ends the script
			return finish(<-ended)
		}
	}
}

// replies hands on what bash writes to the channel, a message at a time,
// until the channel or ctx ends (then it is closed).
func (ss *stmtSession) replies(ctx context.Context) <-chan string {
	replies := make(chan string)
	go func() {
		for {
			m, err := ss.ctl.next()
			if err != nil {
				close(replies)
				return
			}
			select {
			case replies <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	return replies
}

// run decides text and, when it is to run, runs it in the session and
// waits for its status. ran is false when it was not run; done is set,
// with bash's result, when bash ended meanwhile.
func (ss *stmtSession) run(ctx context.Context, text string, replies <-chan string, ended <-chan bashResult) (ran bool, r bashResult, done bool) {
	s, job := ss.s, ss.job
	job.Dir = ss.pwd
	rated, r, done := ss.rated(ctx, text, replies, ended)
	if done {
		return false, r, true
	}
	ev, req, ok := s.judge(ctx, job, rated, nil, ss.getenv, &statement{text: text})
	if !ok {
		ss.status = DeniedStatus
		return false, r, false
	}
	if job.OpenGuarded {
		// The session's sandbox cannot change its mounts for one
		// statement: it runs in a sandbox of its own.
		job.OpenGuarded = false
		ss.watch = nil // what it wrote is the new state
		ss.status = ss.alone(ctx, ev, text)
		return true, r, false
	}
	state := ss.stateDir()
	var watch *sandbox.Watch
	if s.Backend.Name() != "host" {
		watch = ss.lastWatch()
		if watch == nil {
			var err error
			if watch, err = sandbox.WatchTop(job.Project, s.Protect); err != nil {
				fmt.Fprintf(s.Stderr, "chaperone: %s\n", printable(err.Error()))
			}
		}
	}
	rec := ss.newRecorder(ev)
	ss.mu.Lock()
	ss.cur = ev
	if ev.Facts != nil {
		for _, c := range ev.Facts.Commands {
			ss.bg = ss.bg || c.Background
		}
	}
	ss.mu.Unlock()
	conns := 0
	if ss.proxy != nil {
		conns = len(ss.proxy.Connections())
	}
	start := time.Now()
	ss.ctl.send(strconv.Itoa(ss.status) + ":" + text)
	var reply string
	select {
	case reply, ok = <-replies:
		if !ok {
			r, done = <-ended, true
		} else {
			r, done = ss.recvPre(replies, ended)
		}
	case r = <-ended:
		done = true
	}
	// The sweep of the guarded files runs while the output comes to its
	// end; what it says is said after.
	swept := make(chan sweepResult, 1)
	if watch != nil {
		go func() {
			var r sweepResult
			r.moved, r.dest, r.err = watch.Sweep(filepath.Join(state, "quarantine"))
			swept <- r
		}()
	}
	if !done {
		ss.outputEnds()
	}
	ss.stdout.recordTo(nil)
	ss.stderr.recordTo(nil)
	ss.mu.Lock()
	ss.cur = nil
	ss.mu.Unlock()
	code := r.code
	if !done {
		st, rest, _ := strings.Cut(reply, ":")
		var pwd string
		ss.flags, pwd, _ = strings.Cut(rest, ":")
		if pwd = strings.TrimSuffix(pwd, "\n"); pwd != "" {
			ss.pwd = pwd
		}
		code, _ = strconv.Atoi(st)
		ss.status = code
	}
	ev.Exit = &code
	ev.Duration = float64(time.Since(start).Microseconds()) / 1000
	notes := sessionNotes(req, ev.Facts)
	if ss.proxy != nil {
		all := ss.proxy.Connections()
		ev.Connections = all[min(conns, len(all)):]
		notes = append(notes, uploadNotes(ev.Connections, s.Network.UploadKey)...)
	}
	ss.watch = nil
	if watch != nil {
		r := <-swept
		s.quarantined(ev, r.moved, r.dest, r.err)
		if len(r.moved) == 0 && r.err == nil {
			ss.watch, ss.swept = watch, time.Now()
		}
	}
	remember(ss.getenv, ev.Session, notes)
	ss.record(ev, rec)
	return true, r, done
}

// sweepResult is what a Watch's Sweep returned.
type sweepResult struct {
	moved []string
	dest  string
	err   error
}

// lastWatch returns the watch of the guarded files that the last
// statement's sweep found unchanged, when the sweep was a moment ago: the
// guarded files are then as the watch has them, and taking it again (a
// few hundred microseconds) would find the same. Later, something other
// than the session (a person's git on the host) may have changed them,
// which the watch must take in, or the next sweep would move it out.
func (ss *stmtSession) lastWatch() *sandbox.Watch {
	if ss.watch == nil || time.Since(ss.swept) > watchReuse {
		return nil
	}
	return ss.watch
}

// watchReuse is how long after a clean sweep its watch serves the next
// statement (a script streamed in, statement after statement).
const watchReuse = 100 * time.Millisecond

// outputEnds waits, a while at most, until the statement's output has
// all been written out and recorded: where bash writes to the relays'
// pipes itself (bubblewrap, the host), until what they held when its
// status came is out (relay.drained); where an engine's CLI carries it,
// until its end mark has come (endOutput).
func (ss *stmtSession) outputEnds() {
	if name := ss.s.Backend.Name(); name != "bwrap" && name != "host" {
		ss.endOutput()
		return
	}
	out := []<-chan struct{}{ss.stdout.drained()}
	if ss.stderr != ss.stdout {
		out = append(out, ss.stderr.drained())
	}
	waitAll(out, markTimeout)
}

// waitAll waits until each channel is closed, or d has passed.
func waitAll(cs []<-chan struct{}, d time.Duration) {
	timeout := time.NewTimer(d)
	defer timeout.Stop()
	for _, c := range cs {
		select {
		case <-c:
		case <-timeout.C:
			return
		}
	}
}

// endOutput has bash print a new end mark after the statement's output
// on its stdout and stderr (see marks.go) and waits, a while at most, for
// the relays to see them: the statement's output is then all recorded.
func (ss *stmtSession) endOutput() {
	tok := newMarkToken()
	seen := []<-chan struct{}{ss.stdout.expect(tok)}
	which := "o"
	if ss.stderr != ss.stdout {
		seen = append(seen, ss.stderr.expect(tok))
		which = "b"
	}
	ss.ctl.send("#" + which + tok)
	waitAll(seen, markTimeout)
}

// markTimeout is how long a statement's end mark is waited for at most: a
// statement can keep it from coming (a job it left in the background
// that holds the shell's output blocked).
const markTimeout = 5 * time.Second

// ask sends bash questions (the driver's "?f" messages) and returns its
// answers, in order; done is set, with bash's result, when bash ended
// meanwhile.
func (ss *stmtSession) ask(qs []string, replies <-chan string, ended <-chan bashResult) (answers []string, r bashResult, done bool) {
	for len(qs) > 0 {
		// A batch small enough that its questions fit in the FIFO
		// while bash answers the first ones.
		n := min(len(qs), 64)
		for _, q := range qs[:n] {
			ss.ctl.send(q)
		}
		got, r, done := recv(n, replies, ended)
		if done {
			return nil, r, true
		}
		answers = append(answers, got...)
		qs = qs[n:]
	}
	return answers, r, false
}

// recvAnswer reads bash's answer to "?q" for names into a.
func (ss *stmtSession) recvAnswer(a *answer, names []string, replies <-chan string, ended <-chan bashResult) (bashResult, bool) {
	got, r, done := recv(1+len(names), replies, ended)
	if done {
		return r, true
	}
	a.fnames = funcNames(got[0])
	a.values = map[string]string{}
	for i, n := range names {
		a.values[n] = strings.TrimSuffix(got[1+i], "\n")
	}
	return r, false
}

// recvPre reads what bash reports after each statement into ss.pre: the
// names of its functions, then `declare -p` of preNames in one answer, a
// line each (bash quotes what would break a line); a name without one is
// unset.
func (ss *stmtSession) recvPre(replies <-chan string, ended <-chan bashResult) (bashResult, bool) {
	got, r, done := recv(2, replies, ended)
	if done {
		return r, true
	}
	a := answer{fnames: funcNames(got[0]), values: map[string]string{}}
	for _, n := range preNames {
		a.values[n] = ""
	}
	for _, l := range strings.Split(got[1], "\n") {
		if _, n, ok := declHead(l); ok {
			if _, want := a.values[n]; want {
				a.values[n] = l
			}
		}
	}
	ss.pre = a
	return r, false
}

// funcNames reads `declare -F`: a line "declare -f NAME" for each function.
func funcNames(s string) map[string]bool {
	names := map[string]bool{}
	for _, l := range strings.Split(s, "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "declare" {
			names[f[2]] = true
		}
	}
	return names
}

// query asks bash, in one message, for the names of its functions and
// the values of the variables names; what bash said after the last
// statement (ss.pre) does when it has all of them.
func (ss *stmtSession) query(names []string, replies <-chan string, ended <-chan bashResult) (fnames map[string]bool, values map[string]string, r bashResult, done bool) {
	values = map[string]string{}
	var ask []string
	for _, n := range names {
		if v, ok := ss.pre.values[n]; ok {
			values[n] = v
		} else {
			ask = append(ask, n)
		}
	}
	if len(ask) == 0 {
		return ss.pre.fnames, values, r, false
	}
	ss.ctl.send("?q\n" + strings.Join(ask, "\n"))
	var a answer
	if r, done = ss.recvAnswer(&a, ask, replies, ended); done {
		return nil, nil, r, true
	}
	for n, v := range a.values {
		values[n] = v
	}
	return a.fnames, values, r, false
}

// recv reads n answers of bash.
func recv(n int, replies <-chan string, ended <-chan bashResult) (answers []string, r bashResult, done bool) {
	for range n {
		select {
		case a, ok := <-replies:
			if !ok {
				return nil, <-ended, true
			}
			answers = append(answers, a)
		case r = <-ended:
			return nil, r, true
		}
	}
	return answers, r, false
}

// Limits on what is put in front of a statement for its rating.
const (
	maxAskVars    = 1024      // variables asked about
	maxVarValue   = 256 << 10 // a value longer is left unknown
	maxFuncRounds = 8         // rounds of functions that call functions
)

// varRef finds the names text may expand ($X, ${X…}, in any quoting: the
// text may hand them to eval or bash -c) or assign (X=, X+=, X[…]=).
var varRef = regexp.MustCompile(`\$\{?[#!]?([A-Za-z_][A-Za-z0-9_]*)|(?:^|[^A-Za-z0-9_$])([A-Za-z_][A-Za-z0-9_]*)(?:\[[^\]]*\])?\+?=`)

// rated is text as it is rated in the session (see resolve), with what
// the session's bash holds asked of it: exact whatever set it (a
// statement, a file a statement sourced, eval).
func (ss *stmtSession) rated(ctx context.Context, text string, replies <-chan string, ended <-chan bashResult) (string, bashResult, bool) {
	src := &askedShell{ss: ss, replies: replies, ended: ended}
	front, ok := ss.shell().resolve(ctx, text, src)
	return front, src.r, !ok
}

// askedShell is a statement session's bash as a shellSource: asked.
type askedShell struct {
	ss      *stmtSession
	replies <-chan string
	ended   <-chan bashResult
	fnames  map[string]bool
	r       bashResult // bash's end, when it ended meanwhile
}

func (a *askedShell) vars(names []string) (map[string]string, bool) {
	fnames, values, r, done := a.ss.query(names, a.replies, a.ended)
	if done {
		a.r = r
		return nil, false
	}
	a.fnames = fnames
	return values, true
}

func (a *askedShell) isFunc(name string) bool { return a.fnames[name] }

func (a *askedShell) funcs(names []string) ([]string, bool) {
	qs := make([]string, len(names))
	for i, n := range names {
		qs[i] = "?f " + n
	}
	got, r, done := a.ss.ask(qs, a.replies, a.ended)
	if done {
		a.r = r
		return nil, false
	}
	return got, true
}

// shell is what the session's bash is known to hold.
func (ss *stmtSession) shell() shellContext {
	return shellContext{s: ss.s, getenv: ss.getenv, pwd: ss.pwd, project: ss.job.Project}
}

// shellContext is where a session's bash is: its working folder, and the
// session's environment and rater.
type shellContext struct {
	s            *Shim
	getenv       func(string) string
	pwd, project string
}

// inFront is text as it is rated: with what the session's bash holds
// that it uses in front of it (the working folder, the variables' values,
// the functions' definitions, size bytes of them), and unshown, lines
// that say what is left out.
func (sc shellContext) inFront(ctx context.Context, text string, values map[string]string, defs funcDefs, size int, unshown []string) string {
	var front []string
	if sc.pwd != "" && sc.pwd != sc.project {
		if q, err := syntax.Quote(sc.pwd, syntax.LangBash); err == nil {
			front = append(front, "cd "+q, "PWD="+q)
		}
	}
	for _, v := range values {
		if len(v) > maxVarValue {
			unshown = append(unshown, "# chaperone: a variable this names is too long to rate with it", `eval "$UNSHOWN_VARIABLES"`)
			break
		}
	}
	front = append(front, sc.varLines(ctx, values)...)
	front = append(front, unshown...)
	if size > maxFuncText {
		// More than is put in front of a statement: what the functions do
		// is not known, which holds the statement.
		front = append(front, "# chaperone: the functions this calls are too long to rate with it", `eval "$UNSHOWN_FUNCTIONS"`, text)
		return strings.Join(front, "\n")
	}
	// The functions the text calls, and those a value names (x=f; $x),
	// after the values (a definition's body is rated with them).
	front = append(front, defs.reached(strings.Join(append(front, text), "\n"))...)
	return strings.Join(append(front, text), "\n")
}

// varNames are the variables text may use (varRef) that are worth asking
// bash about, but those in skip and the gate's own; HOME, PATH and IFS
// always (tilde, a program's lookup, splitting), at most maxAskVars.
// bash's own are asked too: once unset (RANDOM, SECONDS…) or assigned
// (PWD, OLDPWD…), they hold what a statement put there.
func varNames(text string, skip map[string]string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(n string) {
		if n == "" || seen[n] || len(out) >= maxAskVars || rater.SessionGateName(n) {
			return
		}
		if _, ok := skip[n]; ok {
			return
		}
		seen[n] = true
		out = append(out, n)
	}
	if skip == nil {
		add("HOME")
		add("PATH")
		add("IFS")
	}
	for _, m := range varRef.FindAllStringSubmatch(text, -1) {
		add(m[1])
		add(m[2])
	}
	return out
}

// varLines are the lines that give the rating the variables' values,
// from bash's `declare -p` of each (see declaration): a plain value as an
// assignment (export for an exported one), whatever its other attributes
// did to it (-l, -u, -i: bash holds the result); an indexed array without
// gaps as name=(elements); anything else (an associative array, one with
// gaps, a reference to anything but a plain value) as bash printed it,
// which the rating reads as bash would, or, if it cannot, does not rate
// low. A reference to a plain value reads as that value.
func (sc shellContext) varLines(ctx context.Context, values map[string]string) []string {
	var names []string
	for n, v := range values {
		if v != "" {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var lines []string
	for _, n := range names {
		d := declaration(values[n])
		if strings.Contains(d.attrs, "n") {
			if t := declaration(values[d.refers]); t.scalar {
				d = t // a reference to a plain value: read as that value
			}
		}
		switch {
		case d.elems != nil:
			lines = append(lines, n+"=("+strings.Join(d.elems, " ")+")")
			continue
		case !d.scalar:
			lines = append(lines, values[n])
			continue
		case len(d.value) > maxVarValue:
			continue // inFront says so
		}
		switch n {
		case "HOME", "PATH":
			if d.value == sc.getenv(n) {
				continue // the rating has it from the environment
			}
		case "IFS":
			if d.value == " \t\n" {
				continue
			}
		}
		q, err := syntax.Quote(d.value, syntax.LangBash)
		if err != nil {
			lines = append(lines, values[n])
			continue
		}
		l := n + "=" + q
		if strings.Contains(d.attrs, "x") {
			l = "export " + l
		}
		lines = append(lines, l)
	}
	if len(lines) == 0 {
		return nil
	}
	// A variable already set is no statement's doing: an assignment the
	// rules would hold on its own (LD_PRELOAD=…) is left out, unknown.
	low := func(text string) bool {
		rating, _ := sc.s.Rater.Rate(ctx, rater.Request{Command: text, Cwd: sc.pwd, Project: sc.project,
			Home: sc.getenv("HOME"), Env: parser.EnvFrom(sc.getenv), Gated: true})
		return rating.Risk.Effective() == models.Low
	}
	if low(strings.Join(lines, "\n")) {
		return lines
	}
	return slices.DeleteFunc(lines, func(l string) bool { return !low(l) })
}

// alone runs text, which a person approved to write what host tools
// run, in a sandbox of its own that may (Job.OpenGuarded), in the
// session's working folder, and returns its status.
func (ss *stmtSession) alone(ctx context.Context, ev *models.Event, text string) int {
	s := ss.s
	fmt.Fprintln(s.Stderr, "chaperone: this statement writes files host tools run, which the session's sandbox keeps read-only: it runs in a sandbox of its own, without the session's variables and functions")
	j := *ss.job
	j.Script, j.Dir, j.OpenGuarded, j.Control, j.Egress = text, ss.pwd, true, nil, nil
	j.Stdout, j.StdoutFile, j.Stderr, j.StderrFile = s.Stdout, s.Stdout, s.Stderr, s.Stderr
	start := time.Now()
	code, err := s.Backend.Run(ctx, &j)
	if err != nil {
		fmt.Fprintf(s.Stderr, "chaperone: run with %s backend: %v\n", s.Backend.Name(), err)
	}
	ev.Exit = &code
	ev.Duration = float64(time.Since(start).Microseconds()) / 1000
	ss.record(ev, nil)
	return code
}

// newRecorder starts recording ev's output from the session's relays.
func (ss *stmtSession) newRecorder(ev *models.Event) *audit.Recorder {
	if ss.s.Log == nil {
		return nil
	}
	rec, err := ss.s.Log.NewRecorder(ev)
	if err != nil {
		fmt.Fprintf(ss.s.Stderr, "chaperone: %v\n", err)
		return nil
	}
	ss.stdout.recordTo(rec)
	ss.stderr.recordTo(rec)
	return rec
}

// bashResult is how the session's bash ended.
type bashResult struct {
	code int
	err  error
}

// result is what Run returns for it.
func (r bashResult) result(backend string) error {
	switch {
	case r.err != nil:
		return fmt.Errorf("run with %s backend: %w", backend, r.err)
	case r.code != 0:
		return ExitCode(r.code)
	}
	return nil
}

// sessionProxy gives a session's job one egress proxy for the whole
// session, when the policy has one; each connection is put on the record
// of the statement or line running when it was made, and held through
// ask. Refusals are said on warn. Nil when the session has no proxy.
func (s *Shim) sessionProxy(ctx context.Context, job *sandbox.Job, warn io.Writer, ask func(context.Context, netproxy.Request) models.Verdict) *netproxy.Proxy {
	if s.Network == nil || s.Backend.Name() == "host" {
		return nil
	}
	p := &netproxy.Proxy{Policy: s.Network, Warn: warn}
	if s.Approver != nil {
		p.Ask = ask
	}
	job.Egress = func(c net.Conn) { p.ServeConn(ctx, c) }
	return p
}

// unit is text that ends in complete statements, or a syntax error.
type unit struct {
	text string
	err  error
}

// readUnits reads in line by line, parsing as it goes, and sends each
// text that ends in complete statements (blank and comment-only lines
// are left out), then closes units at the end of in.
func readUnits(in io.Reader, units chan<- unit) {
	defer close(units)
	lr := &lineReader{r: bufio.NewReader(in)}
	p := syntax.NewParser(syntax.Variant(syntax.LangBash))
	for stmts, err := range p.InteractiveSeq(lr) {
		if err != nil {
			units <- unit{text: lr.take(), err: err}
			return
		}
		if p.Incomplete() {
			continue
		}
		text := lr.take()
		if len(stmts) == 0 {
			continue
		}
		units <- unit{text: strings.TrimSuffix(text, "\n")}
	}
	if text := lr.take(); strings.TrimSpace(text) != "" {
		units <- unit{text: text, err: errors.New("syntax error: unexpected end of file")}
	}
}

// lineReader gives the parser one line per Read, and keeps the text read
// since the last take.
type lineReader struct {
	r    *bufio.Reader
	line []byte // what is left of the line being given
	text strings.Builder
}

func (l *lineReader) Read(p []byte) (int, error) {
	for len(l.line) == 0 {
		line, err := l.r.ReadBytes('\n')
		// bash drops NUL bytes from its input; and one in a statement
		// would end its message to the inner bash early.
		line = bytes.ReplaceAll(line, []byte{0}, nil)
		if len(line) == 0 {
			if err == nil {
				continue
			}
			return 0, err
		}
		if line[len(line)-1] != '\n' {
			// The last line, without its newline: bash runs it all the
			// same; the parser waits for the end of the line.
			line = append(line, '\n')
		}
		l.text.Write(line)
		l.line = line
	}
	n := copy(p, l.line)
	l.line = l.line[n:]
	return n, nil
}

func (l *lineReader) take() string {
	s := l.text.String()
	l.text.Reset()
	return s
}

// record writes ev for the session (its session, agent, project…),
// with its output recording closed into it.
func (ss *stmtSession) record(ev *models.Event, rec *audit.Recorder) {
	s := ss.s
	ev.Session = cmp.Or(ev.Session, s.sessionID, DetectSession(ss.getenv, cmp.Or(s.PPID, os.Getppid())))
	ev.Agent = cmp.Or(ev.Agent, DetectAgent(ss.getenv))
	ev.Project, ev.Cwd = cmp.Or(ev.Project, ss.job.Project), cmp.Or(ev.Cwd, ss.pwd)
	ev.Backend = s.Backend.Name()
	s.noteDecision(ev)
	s.records.do(func() {
		if rec != nil {
			if out, err := rec.Close(); out != nil {
				ev.Output = out
			} else if err != nil {
				fmt.Fprintf(s.Stderr, "chaperone: %v\n", err)
			}
		}
		s.appendRecord(ev)
	})
}

// askNetwork holds a connection the statement running wants to make.
// Between statements it can only be a job a statement left running in
// the background: refused. While a statement runs, it may be one too,
// which the question says when a statement of the session started one.
func (ss *stmtSession) askNetwork(ctx context.Context, r netproxy.Request) models.Verdict {
	ss.mu.Lock()
	var asked *models.Event
	if ev := ss.cur; ev != nil {
		if ev.ID == "" {
			ev.ID = audit.NewID(ev.Time) // the record the panel's question names
		}
		e := *ev
		asked = &e
	}
	bg := ss.bg
	ss.mu.Unlock()
	if asked == nil {
		return models.Verdict{By: models.ByNoPanel}
	}
	if bg {
		asked.Command += "\n# or a job that an earlier statement of this session left running in the background"
	}
	return ss.s.askConnection(ctx, asked, r)
}

// stateDir is chaperone's state folder for the session.
func (ss *stmtSession) stateDir() string { return config.DirsFrom(ss.getenv).State }
