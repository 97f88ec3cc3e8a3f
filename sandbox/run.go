package sandbox

import (
	"context"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	if f == nil {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// wantsTTY reports whether the agent gave chaperone a terminal: stdin and
// stdout both are one. Then the command gets a terminal too.
func wantsTTY(j *Job) bool { return isTerminal(j.StdinFile) && isTerminal(j.StdoutFile) }

// stdio returns the job's stdin, stdout and stderr, preferring the files.
func stdio(j *Job) (in io.Reader, out, errw io.Writer) {
	in, out, errw = j.Stdin, j.Stdout, j.Stderr
	if j.StdinFile != nil {
		in = j.StdinFile
	}
	if j.StdoutFile != nil {
		out = j.StdoutFile
	}
	if j.StderrFile != nil {
		errw = j.StderrFile
	}
	return in, out, errw
}

// child runs cmd with the job's stdio and waits for it. The job's Ready
// hook is called before cmd starts; with a gate (the write end of the pipe
// that cmd waits on before it runs the command, bwrap's --block-fd), cmd is
// started first and the gate opened after Ready. When ctx ends,
// cancel is called to stop what runs in the sandbox (and given up to 2 s);
// then the local process is killed. With tty, cmd gets a new pseudo-terminal
// (creack/pty) whose size follows the agent's terminal, which is put in raw
// mode meanwhile; otherwise it gets the job's stdio as they are.
//
// With passTTY (the child is given the agent's terminal itself, as the
// docker CLI is), SIGWINCH is forwarded to it, in case it is not in the
// terminal's foreground process group.
func child(ctx context.Context, cmd *exec.Cmd, j *Job, tty, passTTY bool, gate *os.File, cancel func()) (int, error) {
	if gate == nil {
		j.ready()
	}
	var wait func() error
	if tty {
		w, err := startTTY(cmd, j)
		if err != nil {
			return 126, err
		}
		wait = w
	} else {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = stdio(j)
		cmd.WaitDelay = 500 * time.Millisecond
		if err := cmd.Start(); err != nil {
			return ExitStatus(err)
		}
		wait = cmd.Wait
		if passTTY {
			winch := make(chan os.Signal, 1)
			signal.Notify(winch, syscall.SIGWINCH)
			defer func() { signal.Stop(winch); close(winch) }()
			go func() {
				for range winch {
					cmd.Process.Signal(syscall.SIGWINCH)
					// The docker CLI sets up its own handler only once
					// the command is attached; one that comes before
					// (a busy machine) is lost, and the size stays old.
					// Told again a little later: a resize to the same
					// size costs nothing.
					for _, d := range []time.Duration{300 * time.Millisecond, 1500 * time.Millisecond, 4 * time.Second} {
						time.AfterFunc(d, func() { cmd.Process.Signal(syscall.SIGWINCH) })
					}
				}
			}()
		}
	}
	if gate != nil {
		j.ready()
		// Opened only while the command is still wanted; otherwise it
		// stays shut (EOF would open it) until cmd has been killed.
		if ctx.Err() == nil {
			gate.Write([]byte{1})
			gate.Close()
		}
	}
	var once sync.Once
	stop := func() {
		if cancel != nil {
			once.Do(cancel)
		}
	}
	done := make(chan struct{})
	var stopped sync.WaitGroup
	stopped.Add(1)
	go func() {
		defer stopped.Done()
		select {
		case <-done:
			return
		case <-ctx.Done():
		}
		stop()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			cmd.Process.Kill()
		}
	}()
	err := wait()
	close(done)
	stopped.Wait()
	if ctx.Err() != nil {
		// The local process may have ended first (killed with us, as
		// the docker CLI is): what runs in the sandbox must end too.
		stop()
	}
	return ExitStatus(err)
}

// startTTY starts cmd on a new pseudo-terminal and returns its wait func,
// which also restores the agent's terminal and drains the output.
func startTTY(cmd *exec.Cmd, j *Job) (func() error, error) {
	master, slave, err := pty.Open()
	if err != nil {
		return nil, err
	}
	if err := pty.InheritSize(j.StdinFile, master); err != nil {
		pty.InheritSize(j.StdoutFile, master)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setsid = true
	cmd.SysProcAttr.Setctty = true
	cmd.SysProcAttr.Ctty = 0
	if err := cmd.Start(); err != nil {
		master.Close()
		slave.Close()
		return nil, err
	}
	slave.Close()
	restore := makeRaw(j.StdinFile)

	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	go func() {
		for range winch {
			pty.InheritSize(j.StdinFile, master)
		}
	}()
	go io.Copy(master, j.StdinFile)
	out := make(chan struct{})
	go func() {
		io.Copy(j.StdoutFile, master) // ends with EIO once the child side is gone
		close(out)
	}()
	return func() error {
		err := cmd.Wait()
		select {
		case <-out:
		case <-time.After(500 * time.Millisecond):
		}
		signal.Stop(winch)
		close(winch)
		master.Close()
		restore()
		return err
	}, nil
}

// makeRaw puts the terminal f in raw mode (as cfmakeraw does) and returns
// the function that restores it.
func makeRaw(f *os.File) func() {
	fd := int(f.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return func() {}
	}
	t := *old
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &t); err != nil {
		return func() {}
	}
	return func() { unix.IoctlSetTermios(fd, unix.TCSETS, old) }
}
