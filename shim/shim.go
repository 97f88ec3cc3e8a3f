// Package shim is chaperone towards the agent: it accepts bash's
// invocation forms, recognises agent wrappers, rates the command, decides,
// and runs it through a backend.
//
// The path of one invocation (Main):
//
//	argv ─▶ Parse (bash's own option rules) ─▶ script text
//	     ─▶ Unwrap (agent wrapper → inner command) ─▶ Rater
//	     ─▶ decide: low runs silently, medium warns on stderr, high is held
//	        (Approver) or denied (exit 126) ─▶ Backend.Run ─▶ Recorder
package shim

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"mvdan.cc/sh/v3/syntax"

	"github.com/chaperone-dev/chaperone/audit"
	"github.com/chaperone-dev/chaperone/broker"
	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/engine"
	"github.com/chaperone-dev/chaperone/internal/cloexec"
	"github.com/chaperone-dev/chaperone/internal/safefile"
	"github.com/chaperone-dev/chaperone/memory"
	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/netproxy"
	"github.com/chaperone-dev/chaperone/parser"
	"github.com/chaperone-dev/chaperone/rater"
	"github.com/chaperone-dev/chaperone/sandbox"
	"github.com/chaperone-dev/chaperone/shape"
)

// ExitCode is an error that carries the command's exit status up to main.
type ExitCode int

// Error says "exit status N".
func (e ExitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// DeniedStatus is the exit status of a held command that was not run.
const DeniedStatus = 126

// Approver asks a person about a held command. The broker client is one.
type Approver interface {
	Ask(ctx context.Context, req models.HoldRequest) (models.Verdict, error)
}

// Backend runs a job and returns its exit status.
type Backend interface {
	Name() string
	Run(ctx context.Context, j *sandbox.Job) (int, error)
}

// Recorder appends audit events.
type Recorder interface {
	Record(ev *models.Event) error
}

// DecisionNoter remembers what was decided about a session's commands;
// *rater.Model is one.
type DecisionNoter interface {
	NoteDecision(session, command string, risk models.Risk, d models.Decision) error
}

// Rater rates a command string; *rater.Rater is one.
type Rater interface {
	Rate(ctx context.Context, req rater.Request) (models.Rating, *models.Facts)
}

// Shim runs bash invocations on behalf of an agent. Rater and Backend are
// required; a nil Approver denies every held command at once, a nil
// Recorder records nothing. A Shim is used for one invocation.
type Shim struct {
	Rater    Rater
	Backend  Backend
	Approver Approver
	Recorder Recorder
	// Log, when set, also keeps each command's output and the files it
	// touches (see capture.go); WatchDirs caps the directories watched.
	Log       *audit.Log
	WatchDirs int
	// Protect are more project paths that host tools run (user config
	// [sandbox] protect), guarded like sandbox.HostExec.
	Protect []string
	// Remembered are the approvals the person asked the panel to remember
	// by command shape (user config [[remember]]); see package shape.
	Remembered []config.Remembered
	// Model, when set, is told each decision, so that it sees the session
	// around the next command.
	Model DecisionNoter
	// Network is where a sandboxed command may connect through the egress
	// proxy; nil when the sandbox's network is not "proxy" (then the
	// backend gives it none, or the whole network, as configured).
	Network *netproxy.Policy

	// Stdin, Stdout and Stderr are handed to the command as they are.
	Stdin, Stdout, Stderr *os.File
	// Getenv and Environ give the environment; nil means the process's.
	Getenv  func(string) string
	Environ []string
	// Dir is the working directory; "" means the process's.
	Dir string
	// Project is the project root; "" means sandbox.ProjectRoot(Dir).
	Project string
	// PID and PPID are the shim's and its parent's (the agent's); 0 means
	// this process's. The shell server sets chaperone-shell's.
	PID, PPID int
	// server: the Shim runs inside the shell server, which must not touch
	// what belongs to the whole process (see capture.finish).
	server bool
	// answer, when set, is given the exit status as soon as the command
	// has ended, before the audit record is written; Run then returns
	// answered{}.
	answer func(code int)
	// handoff, when set, may run a bubblewrap job by handing it over to
	// the process that sent it; errNoHandoff: it did not, run it here.
	handoff func(ctx context.Context, b sandbox.Bwrap, job *sandbox.Job) (code int, err error)

	// sessionID, when set, is the session the commands are recorded
	// under (a shell session's own, see newSessionID); "" means
	// DetectSession's.
	sessionID string
	// records, when set, appends the audit records in order on a
	// goroutine of their own (see recordInOrder).
	records *recordQueue

	// msgs, when set, takes chaperone's own words about a command (held,
	// denied, a warning) in place of Stderr: an interactive session's go
	// through its bash, in order with what bash prints.
	msgs io.Writer

	// signals, when set, is armed before a hold and before the command
	// runs (see signals.go).
	signals *signals
	// watchdog: start the sweeper that sweeps in this process's place if
	// it is killed while a command runs (see sandbox.KeepSweeping).
	watchdog bool
}

// Main runs chaperone as bash with args (args[0] is the program name, as
// bash or sh or chaperone), with the configured rater, backend, approval
// panel and audit log.
func Main(ctx context.Context, args []string) error {
	// Inside a sandbox the command was rated outside: be plain bash.
	if sandbox.Inside() {
		return sandbox.ExecBash(args)
	}
	// Started by another chaperone (startSweeper): sweep for the killed.
	if filepath.Base(args[0]) == sandbox.SweeperName && len(args) == 2 {
		return sandbox.KeepSweeping(args[1], sweeperIdle)
	}
	argv0 := args[0]
	inv, err := Parse(args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "bash: %s\n", strings.TrimPrefix(err.Error(), ErrUsage.Error()+": "))
		return ExitCode(2)
	}
	if inv.Mode == ModeInfo {
		return sandbox.ExecBash([]string{"bash", inv.Info})
	}
	// Codex's exec of the command it already sent inside its wrapper.
	if pass, ok := os.LookupEnv(PassEnv); ok {
		os.Unsetenv(PassEnv)
		if inv.Mode == ModeCommand && UsePass(pass, args[1:]) {
			return sandbox.ExecBash(args)
		}
	}
	openStdio()
	// What the agent left open beyond stdio never reaches the sandbox.
	cloexec.From(3)
	ctx, sig := withSignals(ctx)
	s, err := configured(ctx, thisProcess())
	if err != nil {
		return err
	}
	s.signals, s.watchdog = sig, true
	return s.Run(ctx, argv0, inv)
}

// openStdio puts /dev/null on any of fds 0-2 that is closed, so that files
// chaperone opens never take their numbers; the command then gets
// /dev/null there.
func openStdio() {
	for fd := 0; fd <= 2; fd++ {
		if fdOpen(fd) {
			continue
		}
		f, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err != nil {
			return
		}
		if int(f.Fd()) != fd {
			f.Close() // another lower fd was free first; leave it
		}
	}
}

// Run rates and runs one parsed invocation. argv0 is how chaperone was
// called ("…/bash", "sh", "-bash", "chaperone").
func (s *Shim) Run(ctx context.Context, argv0 string, inv *Invocation) error {
	getenv := s.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	env := s.Environ
	if env == nil {
		env = os.Environ()
	}
	dir := s.Dir
	if dir == "" {
		dir, _ = os.Getwd()
	}
	name := filepath.Base(argv0)
	flags := append([]string(nil), inv.Flags...)
	if strings.HasPrefix(name, "-") { // login shell by convention (sshd, login)
		name = name[1:]
		flags = append(flags, "-l")
	}
	if name == "sh" {
		flags = append([]string{"--posix"}, flags...)
	}
	asShell := name == "bash" || name == "sh"

	job := &sandbox.Job{
		BashFlags: flags, Dir: dir, Env: env, Shell: absArgv0(argv0, dir),
		StdinFile: s.Stdin, StdoutFile: s.Stdout, StderrFile: s.Stderr,
	}
	job.Project = s.Project
	if job.Project == "" {
		p, err := FindProject(dir, env, &config.Config{})
		if err != nil && s.Backend.Name() != "host" {
			fmt.Fprintf(s.Stderr, "chaperone: %v\n", err)
			return ExitCode(DeniedStatus)
		}
		job.Project = cmp.Or(p, dir)
	}
	// A single operand that is no file, given to chaperone by its own name,
	// is a command: Claude Code's CLAUDE_CODE_SHELL_PREFIX form.
	if inv.Mode == ModeFile && !asShell && len(inv.Flags) == 0 && len(inv.Args) == 0 {
		if _, err := os.Stat(inv.File); err != nil {
			inv = &Invocation{Mode: ModeCommand, Script: inv.File}
		}
	}
	switch inv.Mode {
	case ModeCommand:
		job.Script, job.Args = inv.Script, inv.Args
		if len(job.Args) == 0 {
			job.Args = []string{argv0} // bash's $0 is its own argv[0]
		}
	case ModeStdin:
		job.Args = append([]string{argv0}, inv.Args...)
		var got []byte
		whole := false
		switch {
		case isTerminal(s.Stdin):
			return s.interactiveSession(ctx, job, getenv)
		case streamed(s.Stdin):
			// A pipe whose writer has already written all and closed it (a
			// here-document, `echo … |`) is a whole script, rated whole;
			// one that stays open is read statement by statement.
			if got, whole = writtenWhole(s.Stdin); !whole {
				return s.statements(ctx, job, io.MultiReader(bytes.NewReader(got), s.Stdin), getenv)
			}
		}
		if !whole {
			b, err := io.ReadAll(s.Stdin)
			if err != nil {
				return fmt.Errorf("read script from stdin: %w", err)
			}
			got = b
		}
		job.Script = string(got)
	case ModeFile:
		path, text, err := readScript(inv.File, dir, getenv("PATH"))
		if err != nil {
			msg := errors.Unwrap(err).Error()
			fmt.Fprintf(s.Stderr, "bash: %s: %s\n", inv.File, strings.ToUpper(msg[:1])+msg[1:])
			return ExitCode(127)
		}
		q, _ := syntax.Quote(path, syntax.LangBash)
		// Rate the text, run it by sourcing, so BASH_SOURCE is the file.
		job.Script, job.Args = "builtin . "+q+` "$@"`, append([]string{inv.File}, inv.Args...)
		return s.decideAndRun(ctx, job, text, nil, getenv)
	}
	var w *Wrapper
	if inv.Mode == ModeCommand {
		if wr, ok := parser.Unwrap(inv.Script, parser.DetectAgent(getenv), parser.PlacesFromEnv(getenv)); ok {
			w = wr
		}
	}
	return s.decideAndRun(ctx, job, job.Script, w, getenv)
}

// decideAndRun rates text (and the wrapper's inner command), decides, and
// runs job.
func (s *Shim) decideAndRun(ctx context.Context, job *sandbox.Job, text string, w *Wrapper, getenv func(string) string) error {
	ev, req, run := s.judge(ctx, job, text, w, getenv, nil)
	if !run {
		return ExitCode(DeniedStatus)
	}

	if w != nil && w.Kind == "codex-exec" {
		// See pass.go: the exec'd chaperone runs CMD without rating it again.
		if pass, marker, err := MintPass(w.Exec[1:]); err == nil {
			job.Env = append(withoutVar(job.Env, PassEnv), PassEnv+"="+pass)
			defer os.Remove(marker)
		}
	} else {
		job.Env = withoutVar(job.Env, PassEnv)
	}
	// What the sandbox cannot stop by a mount (a guarded name created or
	// relinked, a repository added) is looked at after the command; the
	// watch is kept on disk meanwhile, so that it is swept even if this
	// process is killed first. What killed chaperones left is swept now.
	state := config.DirsFrom(getenv).State
	s.sweepPending(filepath.Join(state, "pending"))
	var watch *sandbox.Watch
	var held *sandbox.Pending
	if s.Backend.Name() != "host" {
		var err error
		if job.OpenGuarded {
			// The person approved writing what host tools run: that stays
			// as the command leaves it. A program it plants on the agent's
			// PATH was not part of what they saw.
			watch = sandbox.WatchNone(job.Project)
		} else if watch, err = sandbox.WatchTop(job.Project, s.Protect); err != nil {
			fmt.Fprintf(s.Stderr, "chaperone: %s\n", printable(err.Error()))
			ev.Decision, ev.DecidedBy, ev.Note = models.Denied, models.ByRules, err.Error()
			s.record(ev)
			return ExitCode(DeniedStatus)
		}
		watch.WatchPath(job.Env)
		if held, err = watch.Hold(filepath.Join(state, "pending"), filepath.Join(state, "quarantine")); err != nil {
			fmt.Fprintf(s.Stderr, "chaperone: %v\n", err)
		} else if s.watchdog {
			startSweeper(filepath.Join(state, "pending"))
		}
	}
	notes := sessionNotes(req, ev.Facts)
	capture := startCapture(ctx, s.Log, job, ev, ev.Facts, s.WatchDirs, s.server)
	ready := job.Ready
	job.Ready = func() {
		s.signals.arm()
		if ready != nil {
			ready()
		}
	}
	job.Killed = new([]string)
	proxy := s.egress(ctx, job, ev, req.Memory)
	start := time.Now()
	code, err := s.runJob(ctx, job)
	if proxy != nil {
		proxy.Close()
		ev.Connections = proxy.Connections()
		notes = append(notes, uploadNotes(ev.Connections, s.Network.UploadKey)...)
	}
	ev.Killed = *job.Killed
	ev.Duration = float64(time.Since(start).Microseconds()) / 1000
	s.sweep(watch, ev, state)
	held.Done()
	capture.finish(ev)
	if watch != nil && !job.OpenGuarded {
		s.sweepChanged(watch, ev, state)
	}
	ev.Exit = &code
	remember(getenv, ev.Session, notes)
	var result error
	switch {
	case err != nil:
		result = fmt.Errorf("run with %s backend: %w", s.Backend.Name(), err)
	case code != 0:
		result = ExitCode(code)
	}
	if s.answer != nil {
		// In the shell server the agent has its answer before the record
		// is written (the server goes on to write it).
		s.answer(Status(result, s.Stderr))
		result = answered{}
	}
	s.record(ev)
	return result
}

// statement is a statement of a shell session, for judge: its text as it
// was typed or sent is what it records (the text judge rates has what the
// session's bash holds that it uses in front of it, which the panel is
// shown). Its rating applies the session's gate (Request.Gated).
type statement struct {
	text string
}

// judge rates text (and the wrapper's inner command) for job and decides:
// low runs, medium runs with a warning on stderr, high is held for the
// Approver (or a remembered approval). A command that is not to run is
// said so on stderr and recorded; judge then returns false. gated: text is
// a statement of a session whose gate lives in its bash (Request.Gated).
func (s *Shim) judge(ctx context.Context, job *sandbox.Job, text string, w *Wrapper, getenv func(string) string, st *statement) (*models.Event, rater.Request, bool) {
	gated := st != nil
	home := getenv("HOME")
	ev := &models.Event{
		Time: time.Now(), Session: cmp.Or(s.sessionID, DetectSession(getenv, cmp.Or(s.PPID, os.Getppid()))), Agent: DetectAgent(getenv),
		Project: job.Project, Cwd: job.Dir, Command: text, Backend: s.Backend.Name(),
	}
	// A recognised wrapper is rated by its inner command (what the model
	// asked for, and what the person sees); see below for the whole string.
	req := rater.Request{Command: text, Cwd: job.Dir, Project: job.Project, Home: home, Session: ev.Session,
		Env: parser.EnvFrom(getenv), Gated: gated} // as engine.Judge expands it
	// What earlier commands of the session did (it can only raise the
	// rating); what this one does is added once it has run.
	req.Memory = loadMemory(getenv, ev.Session)
	if w != nil {
		ev.Inner = w.Inner
		job.Outputs, job.Inputs = append(job.Outputs, w.Outputs...), append(job.Inputs, w.Inputs...)
	}
	// Rated as the panel rates it (engine.Rate): the inner command, the
	// whole text when that is high, and the $BASH_ENV file a
	// non-interactive bash sources first.
	var bashEnv string
	if f := getenv("BASH_ENV"); f != "" {
		if b, err := safefile.ReadFollow(f, 1<<20); err == nil { // never a FIFO, which would block
			bashEnv = string(b)
		}
	}
	j := engine.Rate(ctx, s.Rater, req, w, bashEnv)
	rating, facts := j.Rating, j.Facts
	ev.Rating, ev.Facts = rating, facts
	if st != nil {
		ev.Command = st.text // as sent: what the agent and the audit know it by
	}
	if m := rating.Model; m != nil && m.Error != "" {
		fmt.Fprintf(s.msgOut(), "chaperone: model: %s; rated by rules alone\n", m.Error)
	}

	switch rating.Risk.Effective() {
	case models.Low:
		ev.Decision, ev.DecidedBy = models.Allow, decidedBy(rating)
	case models.Medium:
		ev.Decision, ev.DecidedBy = models.Warn, decidedBy(rating)
		fmt.Fprintf(s.msgOut(), "chaperone: medium: %s\n", broker.MainReason(rating))
	default:
		v := models.Verdict{By: models.ByNoPanel}
		seen := shape.Seen{Project: job.Project, Cwd: job.Dir, Command: cmp.Or(ev.Inner, ev.Command), Facts: facts, Rating: rating}
		if m, ok := shape.Match(s.Remembered, seen); ok {
			// Approved before by a person: this exact command, or its
			// shape where that was offered; never for what a deny or
			// critical rule matched (shape.Refusal).
			v = models.Verdict{Approved: true, By: models.ByRemembered}
			ev.Memory = m.Key()
			fmt.Fprintf(s.msgOut(), "chaperone: approved by your remembered approval %s: %s\n", m.Key(), broker.MainReason(rating))
		} else if s.Approver != nil {
			s.signals.arm()
			hr := models.HoldRequest{Time: ev.Time, Session: ev.Session, Agent: ev.Agent, Project: ev.Project,
				Cwd: ev.Cwd, Command: text, Inner: ev.Inner, Rating: rating, Facts: facts, PID: cmp.Or(s.PID, os.Getpid()), Gated: gated}
			var err error
			v, err = s.Approver.Ask(ctx, hr)
			if err != nil && v.Approved {
				v.Approved = false // a failed hold never runs the command
			}
			if errors.Is(context.Cause(ctx), errWithdrawn) {
				// The person took it back at the terminal (Ctrl-C).
				v = models.Verdict{By: models.ByPerson, Reason: "withdrawn with Ctrl-C at the terminal"}
			}
		}
		ev.DecidedBy, ev.Note = v.By, v.Note
		if v.Remembered && v.Memory != "" {
			ev.Memory = v.Memory // what the person remembered as they approved
		}
		if !v.Approved {
			ev.Decision = models.Denied
			fmt.Fprintln(s.msgOut(), broker.DenyMessage(v, rating))
			s.record(ev)
			return ev, req, false
		}
		ev.Decision = models.Approved
		// A person who approved a write to what host tools run gets it
		// for this command (a remembered shape does not).
		job.OpenGuarded = v.By == models.ByPerson && writesGuarded(rating)
	}
	return ev, req, true
}

// egress gives job the egress proxy, for this command, when the policy
// has one and the command may use the network (rater.MayUseNetwork): connections to hosts it does not know are held through the
// Approver like a command (refused at once with no panel), and each
// refusal is one line on the command's stderr.
func (s *Shim) egress(ctx context.Context, job *sandbox.Job, ev *models.Event, mem *memory.Session) *netproxy.Proxy {
	if s.Network == nil || s.Backend.Name() == "host" {
		return nil
	}
	if !rater.MayUseNetwork(ev.Facts) {
		// ls, cat, git status…: no way out is needed, so none is made
		// (the sandbox has no network, and the command pays nothing).
		return nil
	}
	if ev.ID == "" {
		ev.ID = audit.NewID(ev.Time) // the record the panel's question names
	}
	p := &netproxy.Proxy{Policy: s.Network, Warn: s.Stderr, Uploaded: mem.Uploaded}
	if s.Approver != nil {
		p.Ask = func(ctx context.Context, r netproxy.Request) models.Verdict { return s.askConnection(ctx, ev, r) }
	}
	job.Egress = func(c net.Conn) { p.ServeConn(ctx, c) }
	return p
}

// askConnection holds a connection that ev's command wants to make
// (netproxy.Request) for the Approver, which must be set.
func (s *Shim) askConnection(ctx context.Context, ev *models.Event, r netproxy.Request) models.Verdict {
	if ev.ID == "" {
		ev.ID = audit.NewID(ev.Time) // the record the panel's question names
	}
	hr := models.HoldRequest{Time: time.Now(), Session: ev.Session, Agent: ev.Agent, Project: ev.Project,
		Cwd: ev.Cwd, Command: ev.Command, Inner: ev.Inner, PID: cmp.Or(s.PID, os.Getpid()), EventID: ev.ID,
		Network: &models.NetworkHold{Host: r.Host, Port: r.Port, Method: r.Method, Upload: r.Upload, Reason: r.Reason}}
	v, err := s.Approver.Ask(ctx, hr)
	if err != nil {
		v.Approved = false
	}
	return v
}

// writesGuarded reports whether the rating found a write to what host
// tools run from the project (persist.project, persist.git).
func writesGuarded(r models.Rating) bool {
	for _, f := range r.Findings {
		if f.Rule == "persist.project" || f.Rule == "persist.git" {
			return true
		}
	}
	return false
}

// sweep moves out of the project what the command created among the names
// host tools run (sandbox.Watch), says so on stderr, and notes it in ev.
// state is chaperone's state folder.
func (s *Shim) sweep(w *sandbox.Watch, ev *models.Event, state string) {
	moved, dest, err := w.Sweep(filepath.Join(state, "quarantine"))
	s.quarantined(ev, moved, dest, err)
}

// sweepChanged moves out of the project's folders below its top what the
// command changed there that host tools run (sandbox.Watch.SweepChanged),
// as seen by the audit's tree watch (ev.Files), says so on stderr, and
// notes it in ev.
func (s *Shim) sweepChanged(w *sandbox.Watch, ev *models.Event, state string) {
	var changed []string
	for _, f := range ev.Files {
		if f.Op != "removed" {
			changed = append(changed, f.Path)
		}
	}
	if len(changed) == 0 {
		return
	}
	moved, dest, err := w.SweepChanged(filepath.Join(state, "quarantine"), changed)
	s.quarantined(ev, moved, dest, err)
}

// quarantined says on stderr what a sweep moved out of the project and
// where to, and why, and notes it in ev.
func (s *Shim) quarantined(ev *models.Event, moved []string, dest string, err error) {
	if len(moved) > 0 {
		ev.Quarantined = append(ev.Quarantined, moved...)
		ev.QuarantineDir = cmp.Or(ev.QuarantineDir, dest)
		fmt.Fprintf(s.Stderr, "chaperone: moved %s out of the project to %s: host tools run it, so writing it needs your approval in the panel\n",
			quoteNames(moved), quoteName(dest))
	}
	if err != nil {
		fmt.Fprintf(s.Stderr, "chaperone: %s\n", printable(err.Error()))
	}
}

// sweepPending sweeps what commands left whose chaperone was killed before
// it could (sandbox.SweepPending), and says so on stderr.
func (s *Shim) sweepPending(dir string) {
	for _, sw := range sandbox.SweepPending(dir) {
		if len(sw.Moved) > 0 {
			fmt.Fprintf(s.Stderr, "chaperone: a command in %s ended with its chaperone killed; moved %s out of that project to %s: host tools run it\n",
				quoteName(sw.Project), quoteNames(sw.Moved), quoteName(sw.Dest))
		}
		if sw.Err != "" {
			fmt.Fprintf(s.Stderr, "chaperone: sweeping after a killed command in %s: %s\n", quoteName(sw.Project), printable(sw.Err))
		}
	}
}

// sweeperIdle is how long the sweeper stays with nothing to watch.
const sweeperIdle = 5 * time.Minute

// startSweeper starts chaperone as the sweeper of dir (sandbox.KeepSweeping)
// unless one runs there: in a session of its own, with no descriptor of
// this process, so that it outlives this process even when the agent kills
// its whole process group, and holds up nobody reading its output.
func startSweeper(dir string) {
	if sandbox.SweeperRunning(dir) {
		return
	}
	exe, err := os.Executable()
	if err != nil || strings.HasSuffix(exe, ".test") {
		return // a test binary would run its tests
	}
	cmd := &exec.Cmd{Path: exe, Args: []string{sandbox.SweeperName, dir}, Env: []string{"PATH=/usr/bin:/bin"},
		SysProcAttr: &syscall.SysProcAttr{Setsid: true}}
	if cmd.Start() == nil {
		go cmd.Wait()
	}
}

// printable is a message that holds names a command chose, Go-quoted when
// it has a character that is not printable (a newline, an escape).
func printable(msg string) string {
	for _, r := range msg {
		if !strconv.IsPrint(r) {
			return strconv.Quote(msg)
		}
	}
	return msg
}

// quoteNames joins names for a message, each as quoteName gives it.
func quoteNames(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quoteName(n)
	}
	return strings.Join(q, ", ")
}

// quoteName is a name a command chose (a file name, a path) as it may
// appear in chaperone's own message: as it is when it holds only plain
// characters, else Go-quoted, so that no newline, control character or
// lookalike separator in it can forge a message.
func quoteName(n string) string {
	for _, r := range n {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-/+@~=:", r)) {
			return strconv.Quote(n)
		}
	}
	return n
}

// runJob runs the job with the backend. In the shell server, a bubblewrap
// job is handed over to chaperone-shell, which executes bwrap in its own
// place (handoff).
func (s *Shim) runJob(ctx context.Context, job *sandbox.Job) (int, error) {
	if b, ok := s.Backend.(sandbox.Bwrap); ok && s.handoff != nil {
		if code, err := s.handoff(ctx, b, job); !errors.Is(err, errNoHandoff) {
			return code, err
		}
	}
	return s.Backend.Run(ctx, job)
}

// errWithdrawn is the cause of a hold's context cancelled by the person
// at the terminal (an interactive session's Ctrl-C).
var errWithdrawn = errors.New("withdrawn at the terminal")

// errNoHandoff is what Shim.handoff returns for a job it leaves to the
// backend.
var errNoHandoff = errors.New("no handoff")

// answered is what Run returns once Shim.answer has been called.
type answered struct{}

func (answered) Error() string { return "answered" }

func (s *Shim) record(ev *models.Event) {
	s.noteDecision(ev)
	s.records.do(func() { s.appendRecord(ev) })
}

// noteDecision tells the model what was decided: at once, as the next
// command's rating may ask it.
func (s *Shim) noteDecision(ev *models.Event) {
	if s.Model != nil {
		s.Model.NoteDecision(ev.Session, ev.Command, ev.Rating.Risk, ev.Decision)
	}
}

// appendRecord appends ev to the audit log.
func (s *Shim) appendRecord(ev *models.Event) {
	if s.Recorder == nil {
		return
	}
	if err := s.Recorder.Record(ev); err != nil {
		fmt.Fprintf(s.Stderr, "chaperone: audit: %v\n", err)
	}
}

// recordQueue appends a session's audit records (and closes their
// output recordings) in order, on a goroutine of its own: a statement's
// status goes back to the caller, and the next statement is rated and
// run, while its record is written (a few hundred microseconds of file
// system work). A nil queue does each at once.
type recordQueue struct {
	mu     sync.Mutex
	jobs   chan func()
	done   chan struct{}
	closed bool
}

// recordInOrder starts s's record queue; the function it returns waits
// until every record handed to it is written, and stops it (records
// after that are written at once).
func (s *Shim) recordInOrder() (wait func()) {
	q := &recordQueue{jobs: make(chan func(), 256), done: make(chan struct{})}
	go func() {
		for f := range q.jobs {
			f()
		}
		close(q.done)
	}()
	s.records = q
	return func() {
		q.mu.Lock()
		if !q.closed {
			q.closed = true
			close(q.jobs)
		}
		q.mu.Unlock()
		<-q.done
	}
}

// do runs f after the records handed to q before it.
func (q *recordQueue) do(f func()) {
	if q == nil {
		f()
		return
	}
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		<-q.done
		f()
		return
	}
	q.jobs <- f // under mu: never on a closed channel
	q.mu.Unlock()
}

func decidedBy(r models.Rating) string {
	if r.Source == models.SourceModel {
		return models.ByModel
	}
	return models.ByRules
}

func withoutVar(env []string, name string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// readScript finds a script file operand as bash does (as given, else on
// PATH when it has no slash) and reads it.
func readScript(name, dir, path string) (string, string, error) {
	p := name
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	b, err := os.ReadFile(p)
	if err != nil && !strings.Contains(name, "/") {
		for _, d := range filepath.SplitList(path) {
			if d == "" {
				continue
			}
			if b2, err2 := os.ReadFile(filepath.Join(d, name)); err2 == nil {
				return filepath.Join(d, name), string(b2), nil
			}
		}
	}
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return "", "", fmt.Errorf("read script: %w", pe.Err)
		}
		return "", "", fmt.Errorf("read script: %w", err)
	}
	return p, string(b), nil
}

func absArgv0(argv0, dir string) string {
	switch {
	case filepath.IsAbs(argv0):
		return argv0
	case strings.Contains(argv0, "/"):
		return filepath.Join(dir, argv0)
	}
	return ""
}

// msgOut is where chaperone's words about a command go: msgs, or Stderr.
func (s *Shim) msgOut() io.Writer {
	if s.msgs != nil {
		return s.msgs
	}
	return s.Stderr
}
