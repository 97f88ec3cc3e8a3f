package shim

import (
	"bytes"
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
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/chaperone-dev/chaperone/internal/peercred"
	"github.com/chaperone-dev/chaperone/internal/rundir"
	"github.com/chaperone-dev/chaperone/internal/shellsrv"
	"github.com/chaperone-dev/chaperone/sandbox"
)

// DefaultIdle is how long the shell server waits for a command before it
// ends.
const DefaultIdle = 15 * time.Minute

// Serve is `chaperone shell-server`: chaperone kept warm for chaperone-shell
// (see internal/shellsrv). It listens on the socket at path, which must be
// the one named for this executable and this process's environment, and
// runs each command it is sent as Main would, with the sender's arguments,
// working directory, environment and standard descriptors. It returns nil
// when another server already listens there, and once it has had nothing
// to do for idle.
//
// Only chaperone-shell processes of this user, on the host (in this
// server's mount, PID and user namespaces), are served: a sandboxed command
// that could reach the socket could not have a command run.
func Serve(ctx context.Context, path string, idle time.Duration) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if want, err := shellsrv.SocketPath(exe, os.Environ()); err != nil || want != path {
		return fmt.Errorf("shell-server: %s is not the socket for this chaperone and environment (%s)", path, want)
	}
	if err := rundir.Make(filepath.Dir(path)); err != nil {
		return fmt.Errorf("shell-server: %w", err)
	}
	// One server per socket: whoever holds the lock serves.
	lock, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("shell-server: %w", err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return nil
	}
	os.Remove(path)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return fmt.Errorf("shell-server: %w", err)
	}
	l.SetUnlinkOnClose(true)
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return fmt.Errorf("shell-server: %w", err)
	}
	srv := &server{last: time.Now()}
	go srv.closeWhenIdle(ctx, l, idle)
	for {
		conn, err := l.AcceptUnix()
		if err != nil {
			srv.wg.Wait()
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("shell-server: %w", err)
		}
		srv.begin()
		go func() {
			defer srv.end()
			defer func() {
				// One broken request must not end the others: the
				// sender sees the server go away (status 126).
				if r := recover(); r != nil {
					conn.Close()
				}
			}()
			srv.handle(ctx, conn)
		}()
	}
}

// server is the state of a running shell server.
type server struct {
	warm   warm // the settings and engines, kept across commands
	mu     sync.Mutex
	active int
	last   time.Time
	wg     sync.WaitGroup
}

func (srv *server) begin() {
	srv.mu.Lock()
	srv.active++
	srv.mu.Unlock()
	srv.wg.Add(1)
}

func (srv *server) end() {
	srv.mu.Lock()
	srv.active--
	srv.last = time.Now()
	srv.mu.Unlock()
	srv.wg.Done()
}

// closeWhenIdle closes l once no command has run for idle, or ctx ends.
func (srv *server) closeWhenIdle(ctx context.Context, l *net.UnixListener, idle time.Duration) {
	t := time.NewTicker(min(idle/4+time.Millisecond, time.Minute))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			l.Close()
			return
		case <-t.C:
			srv.mu.Lock()
			done := srv.active == 0 && time.Since(srv.last) >= idle
			srv.mu.Unlock()
			if done {
				l.Close()
				return
			}
		}
	}
}

// handle serves one request: it checks the sender, reads the request and
// its descriptors, runs the command and answers its exit status. The
// command is stopped when the sender goes away (killed by its agent).
func (srv *server) handle(ctx context.Context, conn *net.UnixConn) {
	defer conn.Close()
	cred, err := peercred.Check(conn)
	if err != nil {
		return
	}
	req, files, err := readRequest(conn)
	if err != nil {
		return
	}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	answer := func(s string) { conn.Write([]byte(s + "\n")) }
	inv, perr := Parse(req.Argv[1:])
	pass := lookupEnv(req.Env)(PassEnv) != "" // an empty pass is no pass
	session := perr == nil && inv.Mode == ModeStdin && len(files) > 0 && (streamed(files[0]) || isTerminal(files[0]))
	if (perr == nil && inv.Mode == ModeInfo) || pass || session || !shellsrv.SameEnv(req.Env, os.Environ()) {
		// What chaperone must do in the sender's process (become bash; a
		// session, which lives as long as its caller), or an environment
		// this server is not for.
		answer(shellsrv.Fallback)
		return
	}
	if perr != nil {
		fmt.Fprintf(files[2], "bash: %s\n", strings.TrimPrefix(perr.Error(), ErrUsage.Error()+": "))
		answer(shellsrv.Exit + "2")
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var handedOver atomic.Bool
	go func() {
		// The sender sends nothing more: this returns when it is gone,
		// killed, or replaced by the sandbox it was handed (then the
		// command goes on).
		conn.Read(make([]byte, 1))
		if !handedOver.Load() {
			cancel()
		}
	}()
	var once sync.Once
	exit := func(code int) {
		once.Do(func() {
			for _, f := range files {
				f.Close() // before the answer: the agent sees the output end with the exit
			}
			answer(shellsrv.Exit + strconv.Itoa(code))
		})
	}
	handoff := func(ctx context.Context, b sandbox.Bwrap, job *sandbox.Job) (int, error) {
		if !bwrapHandsOver() || isTerminal(job.StdinFile) && isTerminal(job.StdoutFile) {
			return 0, errNoHandoff
		}
		h, err := b.Handoff(job)
		if err != nil {
			return 126, err
		}
		handedOver.Store(true)
		if err := sendExec(conn, h); err != nil {
			h.Abort()
			return 126, fmt.Errorf("hand the sandbox over: %w", err)
		}
		code, err := h.Wait(ctx)
		if errors.Is(err, sandbox.ErrSetupFailed) {
			// Nothing ran: this server runs it (Bwrap.Run, which tries
			// again the same way) while chaperone-shell waits for the
			// answer.
			fmt.Fprintf(files[2], "chaperone: %v; starting it again\n", err)
			handedOver.Store(false)
			return 0, errNoHandoff
		}
		return code, err
	}
	srv.run(ctx, req, inv, files, cred.PID, exit, handoff)
}

// run rates and runs the request's command as Main would, and gives exit
// its exit status (as soon as it is known: the audit record is written
// after).
func (srv *server) run(ctx context.Context, req *shellsrv.Request, inv *Invocation, files [3]*os.File, pid int, exit func(int),
	handoff func(context.Context, sandbox.Bwrap, *sandbox.Job) (int, error)) {
	s, err := srv.warm.configured(ctx, origin{dir: req.Dir, stdio: files, environ: req.Env, pid: pid, ppid: req.PPID})
	if err != nil {
		exit(Status(err, files[2]))
		return
	}
	s.server, s.answer, s.handoff, s.watchdog = true, exit, handoff, true
	if s.Log != nil {
		defer s.Log.Close()
	}
	if err := s.Run(ctx, req.Argv[0], inv); !errors.Is(err, answered{}) {
		exit(Status(err, files[2]))
	}
}

// sendExec hands the sandbox over: the answer that has chaperone-shell
// execute bwrap in its own place, with the descriptors it needs.
func sendExec(conn *net.UnixConn, h *sandbox.Handoff) error {
	fds := make([]int, len(h.Files))
	for i, f := range h.Files {
		fds[i] = int(f.Fd())
	}
	msg := (&shellsrv.Exec{Path: h.Path, Argv: h.Argv, Env: h.Env}).Encode()
	n, _, err := conn.WriteMsgUnix(msg, unix.UnixRights(fds...), nil)
	if err == nil && n < len(msg) {
		_, err = conn.Write(msg[n:])
	}
	return err
}

// bwrapHandsOver reports whether the installed bwrap can be handed over:
// it reports the exit status (--json-status-fd, bubblewrap 0.5 or newer).
var bwrapHandsOver = sync.OnceValue(func() bool {
	out, err := exec.Command("bwrap", "--help").CombinedOutput()
	return err == nil && bytes.Contains(out, []byte("--json-status-fd"))
})

// Status is the exit status for what Main or Shim.Run returned: an
// ExitCode as it is, nil 0, and any other error 1, printed to stderr.
func Status(err error, stderr io.Writer) int {
	var ec ExitCode
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ec):
		return int(ec)
	}
	fmt.Fprintln(stderr, "chaperone:", err)
	return 1
}

// readRequest reads one request and the three descriptors that come with
// it (received close-on-exec).
func readRequest(conn *net.UnixConn) (*shellsrv.Request, [3]*os.File, error) {
	var files [3]*os.File
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	defer conn.SetReadDeadline(time.Time{})
	buf := make([]byte, 64<<10)
	oob := make([]byte, unix.CmsgSpace(4*4))
	n, oobn, flags, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, files, err
	}
	var fds []int
	if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
		for _, m := range msgs {
			if got, err := unix.ParseUnixRights(&m); err == nil {
				fds = append(fds, got...)
			}
		}
	}
	if len(fds) != 3 || flags&unix.MSG_CTRUNC != 0 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, files, shellsrv.ErrBadRequest
	}
	for i, fd := range fds {
		files[i] = os.NewFile(uintptr(fd), []string{"stdin", "stdout", "stderr"}[i])
	}
	fail := func(err error) (*shellsrv.Request, [3]*os.File, error) {
		for _, f := range files {
			f.Close()
		}
		return nil, [3]*os.File{}, err
	}
	size, err := shellsrv.Length(buf[:n])
	if err != nil {
		return fail(err)
	}
	data := buf[:n]
	if 4+size > len(data) {
		data = append(make([]byte, 0, 4+size), data...)
		for len(data) < 4+size {
			m, err := conn.Read(data[len(data):cap(data)])
			if err != nil {
				return fail(err)
			}
			data = data[:len(data)+m]
		}
	}
	if len(data) != 4+size {
		return fail(shellsrv.ErrBadRequest)
	}
	req, err := shellsrv.Decode(data[4:])
	if err != nil {
		return fail(err)
	}
	return req, files, nil
}
