package shim

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/chaperone-dev/chaperone/internal/atomicfile"
)

// ctl is a session's private channel with the bash that runs its
// statements inside the sandbox (sandbox.Job.Control), in a folder only
// chaperone and that sandbox see. It is one of two kinds:
//   - FIFOs (make): "a", chaperone → bash, what to run (or the answer to
//     a question); "q", bash → chaperone, what became of it (or a
//     question). chaperone holds both open for reading and writing (so
//     that neither side's open blocks, and the channel outlives a bash
//     that reopens it). An interactive session's, and a statement
//     session's on the host (no reaper there).
//   - a socket (makeSocket): chaperone listens on "s"; the sandbox's
//     reaper connects once and hands the connection to bash
//     (Job.ControlOnFDs). A statement session's in a sandbox: bash can
//     reopen a FIFO it holds through /proc/self/fd, by any name that
//     leads there, and write text to it that was never rated; no name
//     reopens a socket.
//
// and a file "v" that only chaperone writes: the verdict on the line an
// interactive bash is running (see interactive.go).
type ctl struct {
	dir string
	w   io.Writer     // to bash
	r   *bufio.Reader // from bash

	mu      sync.Mutex  // writes to w; closers
	closers []io.Closer // what close closes
	closed  bool

	once  sync.Once
	ready chan struct{} // closed once the channel is open
}

// readyChan is closed once the channel is open (make has run, or the
// reaper has connected).
func (c *ctl) readyChan() chan struct{} {
	c.once.Do(func() { c.ready = make(chan struct{}) })
	return c.ready
}

// make fills dir, the job's new control folder (the Job.Control hook),
// with FIFOs.
func (c *ctl) make(dir string) error {
	for _, n := range []string{"a", "q"} {
		if err := syscall.Mkfifo(filepath.Join(dir, n), 0o600); err != nil {
			return fmt.Errorf("control channel: %w", err)
		}
	}
	a, err := os.OpenFile(filepath.Join(dir, "a"), os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("control channel: %w", err)
	}
	q, err := os.OpenFile(filepath.Join(dir, "q"), os.O_RDWR, 0)
	if err != nil {
		a.Close()
		return fmt.Errorf("control channel: %w", err)
	}
	c.mu.Lock()
	c.dir, c.w, c.r, c.closers = dir, a, bufio.NewReader(q), []io.Closer{a, q}
	c.mu.Unlock()
	if err := c.verdict("0 run"); err != nil {
		return err
	}
	close(c.readyChan())
	return nil
}

// makeSocket fills dir, the job's new control folder (the Job.Control
// hook), with the socket "s", and takes the first connection to it (the
// reaper's, before bash runs anything) as the channel; the socket is gone
// then.
func (c *ctl) makeSocket(dir string) error {
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(dir, "s"), Net: "unix"})
	if err != nil {
		return fmt.Errorf("control channel: %w", err)
	}
	c.mu.Lock()
	c.dir, c.closers = dir, []io.Closer{l}
	c.mu.Unlock()
	go func() {
		conn, err := l.AcceptUnix()
		l.Close() // one connection only; the name goes with it
		if err != nil {
			return // closed: the session ended before its bash connected
		}
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			conn.Close()
			return
		}
		c.w, c.r, c.closers = conn, bufio.NewReader(conn), []io.Closer{conn}
		c.mu.Unlock()
		close(c.readyChan())
	}()
	return nil
}

// hide removes the FIFOs' names once bash has them open, so that nothing
// in the sandbox can open them again (a socket's name went when it was
// connected).
func (c *ctl) hide() error {
	for _, n := range []string{"a", "q"} {
		if err := os.Remove(filepath.Join(c.dir, n)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	return nil
}

// send writes one message to bash: text and a NUL.
func (c *ctl) send(msg string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.w == nil {
		return errors.New("control channel: not open")
	}
	_, err := io.WriteString(c.w, msg+"\x00")
	return err
}

// next reads bash's next NUL-ended message.
func (c *ctl) next() (string, error) {
	s, err := c.r.ReadString(0)
	if err != nil {
		return "", err
	}
	return s[:len(s)-1], nil
}

// verdict replaces the verdict file, whole (a reader never sees half).
func (c *ctl) verdict(v string) error {
	return atomicfile.WriteFile(filepath.Join(c.dir, "v"), []byte(v+"\n"), 0o644, nil)
}

// close closes chaperone's ends. Reading then fails, which ends next.
func (c *ctl) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for _, f := range c.closers {
		f.Close()
	}
}
