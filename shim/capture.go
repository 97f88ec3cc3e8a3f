package shim

import (
	"context"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/chaperone-dev/chaperone/audit"
	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/sandbox"
)

// followEvery is how often a regular-file stdout is read for new output.
const followEvery = 25 * time.Millisecond

// drainWait is how long the output pipe is drained after bash has exited.
const drainWait = 500 * time.Millisecond

// capture keeps, for the audit, what a running command prints and which
// files of the working tree it touches. It never changes what the agent
// sees:
//   - stdout on a terminal: not recorded (the command keeps the terminal);
//   - stdout a regular file (Claude Code's task file): the command still
//     writes to the file itself; the new bytes are read back from it while
//     it runs, so order and timing are kept and nothing is interposed;
//   - stdout a pipe or socket: the command writes into a pipe of ours that
//     is copied to the agent and to the recording (one pipe when stdout and
//     stderr are the same file, so their order is kept). A command that
//     leaves a background job behind keeps the agent's own descriptors
//     instead: the job would outlive the copy and die of SIGPIPE.
type capture struct {
	rec   *audit.Recorder
	watch *audit.TreeWatcher
	note  string
	stop  []func() // run in order by finish

	// What begin sets up, just before the command runs (the job's Ready
	// hook; bwrap calls it while the jail is being built).
	ctx       context.Context
	log       *audit.Log
	ev        *models.Event
	watchDir  string // the tree to watch; "" for none
	maxDirs   int
	server    bool          // in the shell server: leave the process's descriptors alone
	record    bool          // output is recorded
	catchPipe bool          // output is copied through pipes of ours
	once      sync.Once     // begin's work, or finish's when begin never ran
	ready     chan struct{} // closed once begin is done: c.rec is set
}

// startCapture prepares job's stdio for recording and sets job.Ready to
// start watching the project tree (unless maxDirs is 0) and recording the
// output. finish must be called once the command has ended. server: the
// shell server runs it, among other commands.
func startCapture(ctx context.Context, log *audit.Log, job *sandbox.Job, ev *models.Event, facts *models.Facts, maxDirs int, server bool) *capture {
	c := &capture{ctx: ctx, log: log, ev: ev, maxDirs: maxDirs, server: server, ready: make(chan struct{})}
	if log == nil {
		return c
	}
	job.Ready = c.begin
	if job.Project != "" && maxDirs > 0 && !readOnly(facts) {
		c.watchDir = job.Project
	}
	out, errf := job.StdoutFile, job.StderrFile
	switch {
	case out == nil || isTerminal(out):
		c.note = "output not recorded: it went to a terminal"
		return c
	case !isRegular(out) && hasBackground(facts):
		c.note = "output not recorded: the command leaves a job in the background"
		return c
	case log.OutputCap() <= 0:
		return c
	}
	c.record = true
	if isRegular(out) {
		c.follow(out)
		if errf != nil && !sameFile(out, errf) && isRegular(errf) {
			c.follow(errf)
		}
	} else {
		c.pipe(job, out, errf)
	}
	return c
}

// walkWait is how long a command waits for the tree watch's walk (about
// 15 µs a folder: a project of 1,500 folders).
const walkWait = 25 * time.Millisecond

// begin starts the watch (before the command, so that it sees what the
// command changes) and, while the command already starts, the recording:
// making its file costs a few hundred microseconds, which the command need
// not wait for. The copies of the output wait for it (the command's
// output waits in the pipe meanwhile). It also warms up the audit log's
// encoder, so that the record written after the command costs less.
func (c *capture) begin() {
	c.once.Do(func() {
		if c.watchDir != "" {
			w, err := audit.WatchTree(c.ctx, c.watchDir, audit.InBackground(), audit.MaxDirs(c.maxDirs), audit.LeaveOpen())
			if err != nil {
				c.ev.FilesNote = err.Error()
			}
			c.watch = w
			if w != nil {
				// What a command changes in a folder not yet watched is
				// missed, and the guard goes by it (Watch.SweepChanged):
				// the command waits for the walk, a little.
				select {
				case <-w.Walked():
				case <-time.After(walkWait):
				}
			}
		}
		if c.catchPipe {
			// A reader that goes away (`chaperone -c … | head -1`) must
			// not kill chaperone with SIGPIPE before the record is
			// written: with SIGPIPE caught, the write fails, the copy
			// stops and closes its pipe, and the command gets its SIGPIPE
			// there, as it would have from the agent's. (Caught, not
			// ignored: an ignored signal would stay ignored in bash.) The
			// copies start only after this.
			signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
		}
		if c.ev.ID == "" {
			c.ev.ID = audit.NewID(c.ev.Time) // now, not in the recorder: the event is the command's
		}
		go func() {
			defer close(c.ready)
			if c.record {
				if rec, err := c.log.NewRecorder(c.ev); err == nil {
					c.rec = rec
				}
			}
			audit.Warm()
		}()
	})
}

// follow reads what is appended to the regular file f while the command
// runs, through a descriptor of its own.
func (c *capture) follow(f *os.File) {
	st, err := f.Stat()
	if err != nil {
		return
	}
	r, err := os.Open("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
	if err != nil {
		return
	}
	off := st.Size()
	done, exited := make(chan struct{}), make(chan struct{})
	buf := make([]byte, 32<<10)
	read := func() {
		for c.rec != nil {
			n, err := r.ReadAt(buf, off)
			if n > 0 {
				c.rec.Write(buf[:n])
				off += int64(n)
			}
			if err != nil || n == 0 {
				return
			}
		}
	}
	go func() {
		defer close(exited)
		<-c.ready
		t := time.NewTicker(followEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				read()
				return
			case <-t.C:
				read()
			}
		}
	}()
	c.stop = append(c.stop, func() { close(done); <-exited; r.Close() })
}

// pipe puts pipes of ours between the command and the agent's stdout and
// stderr.
func (c *capture) pipe(job *sandbox.Job, out, errf *os.File) {
	var wg sync.WaitGroup
	var closers []*os.File
	tee := func(dst *os.File) *os.File {
		pr, pw, err := os.Pipe()
		if err != nil {
			return dst
		}
		closers = append(closers, pw)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-c.ready
			io.Copy(c.rec.Tee(dst), pr)
			pr.Close()
		}()
		return pw
	}
	c.catchPipe = true
	shared := errf != nil && sameFile(out, errf)
	w := tee(out)
	if w == out { // no pipe could be made: hand the files over as they are
		return
	}
	job.StdoutFile = w
	if shared {
		job.StderrFile = w
	} else if errf != nil {
		job.StderrFile = tee(errf)
	}
	c.stop = append(c.stop, func() {
		for _, f := range closers {
			f.Close()
		}
		// A job the parser did not see as background may still hold the
		// pipe: do not wait for it forever.
		drained := make(chan struct{})
		go func() { wg.Wait(); close(drained) }()
		select {
		case <-drained:
		case <-time.After(drainWait):
		}
	})
}

// finish stops recording and fills ev's output and files.
func (c *capture) finish(ev *models.Event) {
	c.once.Do(func() { close(c.ready) }) // the command never started
	<-c.ready                            // begin's recorder, when it started
	for _, f := range c.stop {
		f()
	}
	if c.watch != nil {
		ev.Files, ev.FilesDropped = c.watch.Stop()
		if c.server {
			// The slow close (see releaseInotify) happens after the
			// answer; the server lives on.
			go c.watch.Close()
		} else {
			releaseInotify()
		}
		if n := c.watch.Note(); n != "" {
			ev.FilesNote = n
		}
	}
	if c.rec != nil {
		ev.Output, _ = c.rec.Close()
	}
	if c.note != "" && ev.Output == nil {
		ev.Output = &models.Output{Note: c.note}
	}
}

func isRegular(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode().IsRegular()
}

func sameFile(a, b *os.File) bool {
	var sa, sb unix.Stat_t
	if unix.Fstat(int(a.Fd()), &sa) != nil || unix.Fstat(int(b.Fd()), &sb) != nil {
		return false
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino
}

// readOnlyTools are programs that only read, whatever their arguments (as
// long as no redirection writes): watching the tree for them, which costs
// a walk and an inotify instance, would find nothing.
var readOnlyTools = map[string]bool{
	"ls": true, "cat": true, "head": true, "tail": true, "wc": true, "grep": true, "rg": true, "egrep": true,
	"fgrep": true, "pwd": true, "echo": true, "printf": true, "true": true, "false": true, "stat": true,
	"file": true, "which": true, "type": true, "tree": true, "du": true, "df": true,
	"diff": true, "cmp": true, "date": true, "whoami": true, "id": true, "uname": true, "test": true, "[": true,
}

// readOnlyGit are git subcommands that change nothing but git's own
// bookkeeping (which the watch ignores anyway).
var readOnlyGit = map[string]bool{
	"status": true, "log": true, "diff": true, "show": true, "rev-parse": true, "ls-files": true,
	"blame": true, "grep": true, "describe": true, "shortlog": true, "cat-file": true,
}

// readOnly reports whether every command in facts is known to write
// nothing: then no watch is needed. Unknown or opaque means "may write".
func readOnly(f *models.Facts) bool {
	if f == nil || f.Opaque || len(f.Commands) == 0 {
		return false
	}
	for _, c := range f.Commands {
		if len(c.Argv) == 0 || c.Argv[0].Dynamic || len(c.Via) > 0 {
			return false
		}
		for _, r := range c.Redirs {
			if strings.Contains(r.Op, ">") && r.Target.Lit != "/dev/null" && !strings.HasPrefix(r.Op, ">&") {
				return false
			}
		}
		name := c.Argv[0].Lit
		switch {
		case readOnlyTools[name]:
		case name == "git" && len(c.Argv) > 1 && readOnlyGit[c.Argv[1].Lit]:
		default:
			return false
		}
	}
	return true
}

// hasBackground reports whether the command starts a job that may outlive
// bash: `cmd &`, nohup, setsid, disown.
func hasBackground(f *models.Facts) bool {
	if f == nil {
		return true
	}
	for _, c := range f.Commands {
		if c.Background {
			return true
		}
		if len(c.Argv) > 0 {
			switch c.Argv[0].Lit {
			case "nohup", "setsid", "disown", "daemonize", "start-stop-daemon":
				return true
			}
		}
		for _, v := range c.Via {
			if v == "nohup" || v == "setsid" {
				return true
			}
		}
	}
	return f.Opaque
}

// releaseInotify hands this process's inotify descriptors to a child that
// outlives it by a moment. The last close of an inotify instance that had
// watches waits for the kernel (5-25 ms); done by the child, it no longer
// delays the exit status the agent is waiting for.
func releaseInotify() {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	files := []*os.File{nil, nil, nil}
	for _, e := range ents {
		if link, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && link == "anon_inode:inotify" {
			if fd, err := strconv.Atoi(e.Name()); err == nil {
				files = append(files, os.NewFile(uintptr(fd), "inotify"))
			}
		}
	}
	if len(files) == 3 {
		return
	}
	p, err := os.StartProcess("/bin/sleep", []string{"sleep", "1"}, &os.ProcAttr{Files: files, Sys: &syscall.SysProcAttr{Setsid: true}})
	if err != nil {
		return
	}
	p.Release()
	for _, f := range files[3:] {
		f.Close()
	}
}
