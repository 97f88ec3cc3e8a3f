package shim

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/chaperone-dev/chaperone/internal/atomicfile"
)

// ctl is a session's private channel with the bash that runs its
// statements inside the sandbox (sandbox.Job.Control): two FIFOs in a
// folder only chaperone and that sandbox see, which chaperone holds open
// for reading and writing (so that neither side's open blocks, and the
// channel outlives a bash that reopens it):
//   - "a": chaperone → bash, what to run (or the answer to a question);
//   - "q": bash → chaperone, what became of it (or a question);
//
// and a file "v" that only chaperone writes: the verdict on the line an
// interactive bash is running (see interactive.go). It is not a boundary:
// what runs in the sandbox can reach it; it only tells chaperone where a
// statement's output ends and what its status was, without a marker in
// the output the caller reads.
type ctl struct {
	dir  string
	a, q *os.File
	r    *bufio.Reader // over q

	mu sync.Mutex // writes to a

	once  sync.Once
	ready chan struct{} // closed by make, once the channel is open
}

// readyChan is closed once the channel is open (make has run).
func (c *ctl) readyChan() chan struct{} {
	c.once.Do(func() { c.ready = make(chan struct{}) })
	return c.ready
}

// make fills dir, the job's new control folder (the Job.Control hook).
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
	c.dir, c.a, c.q, c.r = dir, a, q, bufio.NewReader(q)
	if err := c.verdict("0 run"); err != nil {
		return err
	}
	close(c.readyChan())
	return nil
}

// send writes one message to bash: text and a NUL.
func (c *ctl) send(msg string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := c.a.WriteString(msg + "\x00")
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

// close closes chaperone's ends. Reading q then fails, which ends next.
func (c *ctl) close() {
	if c.a != nil {
		c.a.Close()
		c.q.Close()
	}
}
