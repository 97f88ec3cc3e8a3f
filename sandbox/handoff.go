package sandbox

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"

	"github.com/chaperone-dev/chaperone/sandbox/seccomp"
)

// Handoff is a bubblewrap command for another process to execute in its
// own place: what chaperone's shell server gives chaperone-shell, so that
// the program the agent started becomes the sandbox itself (no process of
// chaperone's waits in between). Path, Argv and Env are for execve; Files
// are the descriptors the process must have as 0 to 5: the command's stdin,
// stdout and stderr, the gate bwrap waits on before it runs bash
// (--block-fd 3), the pipe it reports the exit status to
// (--json-status-fd 4) and the seccomp filter (--seccomp 5).
//
// Once the files are handed over, call Sent, then Wait. A process that
// never executes the command closes the gate: bwrap is not running then,
// and Wait reports the command as not started.
type Handoff struct {
	Path  string
	Argv  []string
	Env   []string
	Files [6]*os.File

	job          *Job
	gate, status *os.File // our ends of the gate and status pipes
	gateRead     *os.File // kept, to see whether bwrap read the gate (gateUnread)
	theirs       []*os.File
	once         sync.Once
	egress       *egressSock // served until the sandbox has ended
}

// ErrNotStarted is returned by Handoff.Wait when bwrap reported no start.
var ErrNotStarted = errors.New("the sandbox did not start")

// ErrSetupFailed is returned by Handoff.Wait when bwrap ended before it
// ran the command (see setupAttempts): nothing of the command ran, and the job
// can be run again (Bwrap.Run).
var ErrSetupFailed = errors.New("bwrap ended before it ran the command (its setup failed); nothing ran")

// Handoff prepares the job to be run by bwrap executed by another process.
// Not for a job that wants a terminal (see Run).
func (b Bwrap) Handoff(j *Job) (*Handoff, error) {
	if wantsTTY(j) {
		return nil, errors.New("handoff: the job wants a terminal")
	}
	prog, args, env, egress, err := b.command(j, false)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			egress.stop()
		}
	}()
	gr, gw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	sr, sw, err := os.Pipe()
	if err != nil {
		gr.Close()
		gw.Close()
		return nil, err
	}
	filter, err := seccomp.File()
	if err != nil {
		gr.Close()
		gw.Close()
		sr.Close()
		sw.Close()
		return nil, fmt.Errorf("seccomp filter: %w", err)
	}
	in, out, errw := j.StdinFile, j.StdoutFile, j.StderrFile
	if in == nil || out == nil || errw == nil {
		for _, f := range []*os.File{gr, gw, sr, sw, filter} {
			f.Close()
		}
		return nil, errors.New("handoff: the job's stdio must be files")
	}
	argv := append([]string{"bwrap", "--block-fd", "3", "--json-status-fd", "4", "--seccomp", "5"}, args...)
	ok = true
	return &Handoff{Path: prog, Argv: argv, Env: env, Files: [6]*os.File{in, out, errw, gr, sw, filter},
		job: j, gate: gw, status: sr, gateRead: gr, theirs: []*os.File{sw, filter}, egress: egress}, nil
}

// Sent closes this process's copies of the ends that now belong to the
// other process. Wait calls it too.
func (h *Handoff) Sent() {
	h.once.Do(func() {
		for _, f := range h.theirs {
			f.Close()
		}
	})
}

// Abort gives up before the command was handed over: the other process
// never got the files, so nothing runs.
func (h *Handoff) Abort() {
	h.Sent()
	h.gate.Close()
	h.gateRead.Close()
	h.status.Close()
	h.egress.stop()
}

// Wait waits until bwrap has started (it reports its child), runs the
// job's Ready hook while bwrap sets the sandbox up, opens the gate, waits
// until bwrap ends, and returns bash's exit status from bwrap's status
// reports. When bwrap ends without one (killed with the process that
// executed it, by the agent), it returns 128+SIGKILL; when it never
// started, ErrNotStarted (and Ready is not called); when bwrap failed to
// set the sandbox up, ErrSetupFailed. When ctx ends first, it
// stops waiting: the sandbox belongs to the other process and dies with it;
// its reports are still read to their end, so bwrap never writes into a
// closed pipe.
func (h *Handoff) Wait(ctx context.Context) (int, error) {
	h.Sent()
	defer h.egress.stop()
	defer h.gateRead.Close()
	type report struct {
		ChildPID *int `json:"child-pid"`
		ExitCode *int `json:"exit-code"`
	}
	started, done := make(chan struct{}), make(chan struct{})
	code := -1
	go func() {
		defer close(done)
		defer h.status.Close()
		dec := json.NewDecoder(bufio.NewReader(h.status))
		seen := false
		for {
			var r report
			if err := dec.Decode(&r); err != nil {
				// Read what is left, so a late report cannot fail.
				io.Copy(io.Discard, dec.Buffered())
				io.Copy(io.Discard, h.status)
				return
			}
			if r.ChildPID != nil && !seen {
				seen = true
				close(started)
			}
			if r.ExitCode != nil {
				code = *r.ExitCode
			}
		}
	}()
	// Not ctx: the command is decided, and the other process either
	// executes bwrap or ends (closing the status pipe) soon.
	select {
	case <-started:
	case <-done:
		// No bwrap holds the status pipe any more: none can go on.
		h.gate.Close()
		return 126, ErrNotStarted
	}
	h.job.ready()
	// The command is decided: the gate opens whatever happens here.
	h.gate.Write([]byte{1})
	h.gate.Close()
	select {
	case <-done:
	case <-ctx.Done():
		return 126, ctx.Err()
	}
	switch {
	case code != 0 && gateUnread(h.gateRead): // with or without its exit reported
		return 126, ErrSetupFailed
	case code >= 0:
		return code, nil
	}
	return 128 + int(syscall.SIGKILL), nil
}
