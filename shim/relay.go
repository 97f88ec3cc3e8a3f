package shim

import (
	"io"
	"math"
	"os"
	"slices"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/chaperone-dev/chaperone/audit"
)

// relay copies what the session's bash writes to one of the caller's
// descriptors, and to the running statement's output recording, which
// ends at the statement's end mark (see marks.go). The marks chaperone
// waits for are taken out of the stream: the caller sees exactly what
// bash's statements printed.
type relay struct {
	r, w *os.File
	out  io.Writer
	done chan struct{}

	mu      sync.Mutex // held while a read is written out
	rec     *audit.Recorder
	held    []byte      // the end of a read that may begin a mark
	waiting []markWait  // the marks asked for and not seen yet, oldest first
	flush   *time.Timer // gives held out when no read completes it
	heldN   int         // counts what was held: a timer gives out only the last
	closing sync.Once

	dmu    sync.Mutex // held while reading the pipe, and for these (see drained)
	read   int64      // bytes taken from the pipe
	passed int64      // of those, bytes written out
	drains []drainTo  // drained's waits, oldest first
}

// drainTo is a drained wait: done is closed once upto bytes are out.
type drainTo struct {
	upto int64
	done chan struct{}
}

// markWait is a mark a relay waits for: seen is closed when it came. rec
// is the recording it ends: a mark that comes late, once another
// statement's recording has begun, is taken out of the stream but ends
// nothing (a job left in the background that took the token from the
// session's channel would end the later statement's recording with it).
type markWait struct {
	tok  string
	seen chan struct{}
	rec  *audit.Recorder
}

// maxWaiting is how many marks a relay keeps waiting for; older ones
// (of statements whose mark did not come in time) are let go.
const maxWaiting = 8

// newRelays makes the relays of stdout and stderr: one, shared, when the
// two are the same file (so that their order is kept).
func newRelays(stdout, stderr *os.File) (*relay, *relay, error) {
	o, err := newRelay(stdout)
	if err != nil {
		return nil, nil, err
	}
	if sameFile(stdout, stderr) {
		return o, o, nil
	}
	e, err := newRelay(stderr)
	if err != nil {
		o.close()
		return nil, nil, err
	}
	return o, e, nil
}

func newRelay(out *os.File) (*relay, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	rl := &relay{r: r, w: w, out: out, done: make(chan struct{})}
	go rl.copy()
	return rl, nil
}

// copy takes what the pipe holds and passes it on. It reads under dmu
// and counts what it read before it lets dmu go, so that drained knows
// what has left the pipe and is not out yet.
func (rl *relay) copy() {
	defer close(rl.done)
	buf := make([]byte, 32<<10)
	var end error
	rc, err := rl.r.SyscallConn()
	for err == nil && end == nil {
		err = rc.Read(func(fd uintptr) bool {
			rl.dmu.Lock()
			n, err := unix.Read(int(fd), buf)
			if n > 0 {
				rl.read += int64(n)
			}
			rl.dmu.Unlock()
			switch {
			case err == unix.EAGAIN:
				return false // wait until there is more
			case err == unix.EINTR:
				return true
			case n > 0:
				rl.mu.Lock()
				rl.pass(buf[:n])
				rl.mu.Unlock()
				rl.dmu.Lock()
				rl.passed += int64(n)
				rl.release()
				rl.dmu.Unlock()
			case err != nil:
				end = err
			default:
				end = io.EOF
			}
			return true
		})
	}
	rl.mu.Lock()
	rl.emit(rl.held)
	rl.held = nil
	rl.mu.Unlock()
	rl.dmu.Lock()
	rl.passed = math.MaxInt64 // nothing more will come: every wait ends
	rl.release()
	rl.dmu.Unlock()
}

// drained returns a channel closed once what the pipe holds now has been
// written out. Where the session's bash writes to the relay's pipe itself
// (bubblewrap, the host: no engine's CLI carries its output), all a
// statement printed is in the pipe by the time its status comes, so that
// this tells where its output ends without a mark's round trip (see
// marks.go). It does not wait for the relay: a caller that does not read
// its output keeps the channel open, not the session.
func (rl *relay) drained() <-chan struct{} {
	done := make(chan struct{})
	rl.dmu.Lock()
	defer rl.dmu.Unlock()
	n := 0
	if rc, err := rl.r.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) {
			n, err = unix.IoctlGetInt(int(fd), unix.TIOCINQ) // FIONREAD: bytes in the pipe
		})
		if err != nil {
			n = 0
		}
	}
	upto := rl.read + int64(n)
	if rl.passed >= upto {
		close(done)
		return done
	}
	rl.drains = append(rl.drains, drainTo{upto, done})
	return done
}

// release ends the drained waits whose bytes have all been written out.
// Called with dmu held.
func (rl *relay) release() {
	for len(rl.drains) > 0 && rl.drains[0].upto <= rl.passed {
		close(rl.drains[0].done)
		rl.drains = rl.drains[1:]
	}
}

// pass writes p out, after what was held, without the marks waited for;
// a mark ends the recording. Called with mu held.
func (rl *relay) pass(p []byte) {
	if len(rl.held) > 0 {
		p = append(rl.held, p...)
		rl.held = nil
	}
	for {
		i, j, tok, ok := findMark(p)
		if !ok {
			break
		}
		w := slices.IndexFunc(rl.waiting, func(m markWait) bool { return m.tok == tok })
		if w < 0 {
			rl.emit(p[:j]) // the statement's own text
			p = p[j:]
			continue
		}
		rl.emit(p[:i])
		if rl.rec == rl.waiting[w].rec {
			rl.rec = nil
		}
		close(rl.waiting[w].seen)
		rl.waiting = slices.Delete(rl.waiting, w, w+1)
		p = p[j:]
	}
	if len(rl.waiting) > 0 {
		if k := partialMark(p); k > 0 {
			rl.held = slices.Clone(p[len(p)-k:])
			p = p[:len(p)-k]
			rl.flushLater()
		}
	}
	rl.emit(p)
}

// flushLater gives out what is held if no read has completed it in a
// moment: the start of a mark that never comes is output.
func (rl *relay) flushLater() {
	if rl.flush != nil {
		rl.flush.Stop()
	}
	rl.heldN++
	n := rl.heldN
	rl.flush = time.AfterFunc(heldFor, func() {
		rl.mu.Lock()
		defer rl.mu.Unlock()
		if rl.heldN == n && len(rl.held) > 0 { // nothing held or read since
			rl.emit(rl.held)
			rl.held = nil
		}
	})
}

// heldFor is how long the start of a mark is kept back at most.
const heldFor = 200 * time.Millisecond

// emit writes p to the caller and the recording. Called with mu held.
func (rl *relay) emit(p []byte) {
	if len(p) == 0 {
		return
	}
	rl.out.Write(p)
	if rl.rec != nil {
		rl.rec.Write(p)
	}
}

// recordTo sends what comes next to rec (nil: to no recording).
func (rl *relay) recordTo(rec *audit.Recorder) {
	rl.mu.Lock()
	rl.rec = rec
	rl.mu.Unlock()
}

// expect makes the relay wait for the mark with token tok (to be taken
// out of the stream, ending the recording made now, if it is still the
// one made then), and returns a channel closed when it has come.
func (rl *relay) expect(tok string) <-chan struct{} {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if len(rl.waiting) == maxWaiting {
		rl.waiting = rl.waiting[1:]
	}
	seen := make(chan struct{})
	rl.waiting = append(rl.waiting, markWait{tok, seen, rl.rec})
	return seen
}

// close closes chaperone's end for writing and waits a moment for the
// rest to be copied (a background job may hold the pipe open longer).
func (rl *relay) close() {
	rl.closing.Do(func() { rl.w.Close() })
	select {
	case <-rl.done:
	case <-time.After(drainWait):
	}
}
