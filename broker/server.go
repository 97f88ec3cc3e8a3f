package broker

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/chaperone-dev/chaperone/internal/peercred"
	"github.com/chaperone-dev/chaperone/internal/rundir"
	"github.com/chaperone-dev/chaperone/models"
)

// ErrPanelRunning is returned by Listen when another panel owns the socket.
var ErrPanelRunning = errors.New("another approval panel is already running")

// Server is the panel's end of the socket. Create it with Listen, run it
// with Serve. It is safe for concurrent use.
type Server struct {
	path   string
	ln     *net.UnixListener
	lock   *os.File
	next   atomic.Uint64
	engine EngineFunc
}

// Handlers receive what shims send. Each is called from the goroutine of
// the connection concerned, so they may block briefly (a bubbletea
// Program.Send) but must not wait for a person. A nil handler ignores
// its messages (a nil OnHold leaves holds unanswered until they time out).
type Handlers struct {
	// OnHold is called for each held command; answer it with Hold.Answer.
	OnHold func(h *Hold)
	// OnGone is called when the shim behind a hold hung up (killed, or
	// it timed out) before an answer; id is Hold.ID.
	OnGone func(id string)
	// OnRan is called for each low/medium command a shim reports.
	OnRan func(ev models.Event)
}

// Listen takes the broker socket at path (SocketPath() when empty). Only
// one panel may listen at a time: a second gets ErrPanelRunning. A stale
// socket left by a dead panel is replaced.
func Listen(path string, opts ...Option) (*Server, error) {
	if path == "" {
		path = SocketPath()
	}
	dir := filepath.Dir(path)
	if err := rundir.Make(dir); err != nil {
		return nil, err
	}
	lock, err := os.OpenFile(filepath.Join(dir, "broker.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open broker lock: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrPanelRunning
		}
		return nil, fmt.Errorf("lock broker: %w", err)
	}
	// We hold the lock, so whatever socket file is there is stale.
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		lock.Close()
		return nil, fmt.Errorf("remove stale socket: %w", err)
	}
	// The socket's folder is the user's alone (rundir); the socket is
	// made so too. (Not by umask: that is the whole process's, and a
	// file another goroutine makes meanwhile would lose its modes.)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err == nil {
		if err = os.Chmod(path, 0o600); err != nil {
			ln.Close()
		}
	}
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("listen on broker socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		lock.Close()
		return nil, fmt.Errorf("chmod broker socket: %w", err)
	}
	ln.SetUnlinkOnClose(true)
	s := &Server{path: path, ln: ln, lock: lock, engine: defaultEngine}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Path returns the socket's path.
func (s *Server) Path() string { return s.path }

// Close stops listening and removes the socket. Held requests still open
// are not answered; their shims go back to waiting for a panel.
func (s *Server) Close() error {
	err := s.ln.Close()
	s.lock.Close()
	return err
}

// Serve accepts connections until ctx is done or the server is closed,
// then closes the listener and every connection.
func (s *Server) Serve(ctx context.Context, h Handlers) error {
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer func() { cancel(); wg.Wait() }()
	stop := context.AfterFunc(ctx, func() { s.ln.Close() })
	defer stop()
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("accept: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			done := context.AfterFunc(ctx, func() { c.Close() })
			defer done()
			s.serveConn(ctx, c, h)
		}()
	}
}

// serveConn reads one connection's messages. Only a process of this user
// in the panel's own mount, PID and user namespaces is heard: anything
// else (a sandboxed command that can reach the socket file) is hung up on
// without a word, and the panel never sees it.
func (s *Server) serveConn(ctx context.Context, c *net.UnixConn, h Handlers) {
	defer c.Close()
	cred, err := peercred.Check(c)
	if err != nil {
		return
	}
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	var hold *Hold
	for sc.Scan() {
		var m inMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			return
		}
		switch {
		case m.Type == TypeRan && m.Event != nil:
			if h.OnRan != nil {
				h.OnRan(*m.Event)
			}
		case m.Type == TypeHold && m.Hold != nil && hold == nil:
			req, claim := s.judge(ctx, m.Hold)
			hold = &Hold{
				ID:       "h" + strconv.FormatUint(s.next.Add(1), 10),
				Req:      req,
				Claim:    claim,
				PeerPID:  cred.PID,
				Received: time.Now(),
				conn:     c,
			}
			if h.OnHold != nil {
				h.OnHold(hold)
			}
		default:
			// Anything else (a second hold, a verdict, an unknown type) is
			// a broken or hostile client: hang up on it.
			if hold != nil {
				hold.answered.Store(true)
				if h.OnGone != nil {
					h.OnGone(hold.ID)
				}
			}
			return
		}
	}
	if hold != nil && !hold.answered.Load() && h.OnGone != nil {
		h.OnGone(hold.ID)
	}
}

// Hold is one held command waiting on a connection.
type Hold struct {
	// ID is unique among the holds of one Server (the shim's own Req.ID
	// is not trusted to be).
	ID string
	// Req is what the shim sent, except Inner, Rating and Facts: those are
	// the broker's own, derived from Req.Command with the engine (the
	// user's rules and the trusted project's), the same code the shim
	// rates with. What the panel shows and what `A` remembers come from
	// them; what the shim claimed is never used, beyond Claim.
	Req models.HoldRequest
	// Claim is set when the shim claimed a higher risk than the broker's
	// own rating: the command is held all the same, and the claim is shown
	// as the shim's.
	Claim *Claim
	// PeerPID is the shim's process id, from the kernel (SO_PEERCRED).
	PeerPID int
	// Received is when the panel got the request.
	Received time.Time

	conn     *net.UnixConn
	mu       sync.Mutex
	answered atomic.Bool
}

// ErrAnswered is returned by Hold.Answer for a hold already answered.
var ErrAnswered = errors.New("already answered")

// Answer sends v to the waiting shim (v.ID is set to the request's). It
// fails when the hold was answered before or the shim has gone.
func (h *Hold) Answer(v models.Verdict) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.answered.Swap(true) {
		return ErrAnswered
	}
	v.ID = h.Req.ID
	b, err := json.Marshal(Message{Type: TypeVerdict, Verdict: &v})
	if err != nil {
		return fmt.Errorf("encode verdict: %w", err)
	}
	h.conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
	if _, err := h.conn.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("send verdict: %w", err)
	}
	return nil
}
