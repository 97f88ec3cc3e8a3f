package sandbox

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/chaperone-dev/chaperone/internal/egress"
	"github.com/chaperone-dev/chaperone/internal/reaper"
	"github.com/chaperone-dev/chaperone/internal/rundir"
)

// egressMount is where a bubblewrap sandbox sees its job's proxy socket.
const egressMount = "/run/chaperone-egress.sock"

// egressSock is one job's way out: a unix socket that only its sandbox
// sees, each connection to which is handed to the job's Egress (the
// egress proxy, package netproxy) once it has opened with the job's key.
type egressSock struct {
	key     string // what the job's forwarder opens each connection with (reaper.Setup.EgressKey)
	path    string
	dir     string // a folder made for the socket alone, removed with it
	l       net.Listener
	serving sync.WaitGroup

	mu      sync.Mutex
	open    map[net.Conn]bool
	stopped bool
}

// proxied reports whether the job's sandbox reaches the network through
// the egress proxy: the policy says "proxy" and the job has one.
func (p Policy) proxied(j *Job) bool { return p.network() == "proxy" && j.Egress != nil }

// startEgress listens on a new socket named name in dir and serves it
// with j.Egress until stop.
func startEgress(j *Job, dir, name string) (*egressSock, error) {
	l, path, err := listenUnix(dir, name)
	if err != nil {
		return nil, fmt.Errorf("egress proxy socket: %w", err)
	}
	e := &egressSock{key: jobID() + jobID(), path: path, l: l, open: map[net.Conn]bool{}}
	e.serving.Add(1)
	go func() {
		defer e.serving.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			e.mu.Lock()
			if e.stopped {
				e.mu.Unlock()
				c.Close()
				return
			}
			e.open[c] = true
			e.mu.Unlock()
			go func() {
				defer func() {
					e.mu.Lock()
					delete(e.open, c)
					e.mu.Unlock()
				}()
				if !egress.Admit(c, e.key) {
					c.Close() // not the job's own forwarder
					return
				}
				j.Egress(c)
			}()
		}
	}()
	return e, nil
}

// stop closes the socket and every connection still open on it: the
// sandbox has ended. It does not wait for Egress to return (a host that
// never answers would keep it): the proxy's own Close ends those.
func (e *egressSock) stop() {
	if e == nil {
		return
	}
	e.l.Close()
	e.mu.Lock()
	e.stopped = true
	for c := range e.open {
		c.Close()
	}
	e.mu.Unlock()
	os.Remove(e.path)
	if e.dir != "" {
		os.Remove(e.dir)
	}
	e.serving.Wait() // the accept loop
}

// listenUnix listens on the unix socket dir/name. A path too long for a
// socket address (108 bytes) is reached through the folder's descriptor
// (/proc/self/fd/N/name).
func listenUnix(dir, name string) (net.Listener, string, error) {
	path := filepath.Join(dir, name)
	os.Remove(path)
	addr := path
	if len(path) >= 100 {
		d, err := os.Open(dir)
		if err != nil {
			return nil, "", err
		}
		defer d.Close()
		addr = "/proc/self/fd/" + strconv.Itoa(int(d.Fd())) + "/" + name
	}
	l, err := net.Listen("unix", addr)
	if err != nil {
		return nil, "", err
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false) // removed by path in stop
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, "", err
	}
	return l, path, nil
}

// bwrapReaped returns what bubblewrap needs to run the job under the
// reaper, as it does a job that is proxied (the reaper runs the
// forwarder) or sealed: the mounts (the reaper, and the proxy's socket),
// the reaper's argv prefix and setup variable, and the job's proxy socket
// (nil when it has none), served until the caller stops it.
func bwrapReaped(j *Job, env []string, proxied bool) (e *egressSock, mounts, prefix, setenv []string, err error) {
	exe, err := bwrapReaper()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	s := reaper.Setup{Seal: sealed(j), Channel: channelIn(j)}
	mounts = []string{"--ro-bind", exe, reaperPath}
	if proxied {
		var m []string
		if e, m, err = bwrapEgress(j, env, &s); err != nil {
			return nil, nil, nil, nil, err
		}
		mounts = append(mounts, m...)
	}
	return e, mounts, []string{reaperPath, jobID(), "--"}, []string{"--setenv", reaper.SetupEnv, s.Encode()}, nil
}

// sealed reports whether the job's bash must run sealed (see
// reaper.Setup.Seal): a session's, which keeps its private channel with
// chaperone open.
func sealed(j *Job) bool { return j.Control != nil }

// channelIn is the folder of the job's channel that its reaper opens and
// gives its bash (Job.ControlOnFDs), or "".
func channelIn(j *Job) string {
	if j.Control != nil && j.ControlOnFDs {
		return controlMount
	}
	return ""
}

// bwrapEgress starts the job's proxy socket in a private folder of the
// runtime folder, sets it in the reaper's setup, and returns the mount
// that shows it.
func bwrapEgress(j *Job, env []string, s *reaper.Setup) (e *egressSock, mounts []string, err error) {
	base := rundir.DirFrom(func(k string) string { return lookup(env, k) })
	if err := rundir.Make(base); err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp(base, "egress-")
	if err != nil {
		return nil, nil, err
	}
	e, err = startEgress(j, dir, "s")
	if err != nil {
		os.Remove(dir)
		return nil, nil, err
	}
	e.dir = dir
	s.Egress, s.EgressKey = egressMount, e.key
	return e, []string{"--ro-bind", e.path, egressMount}, nil
}

// bwrapReaper is the program a bubblewrap sandbox runs its command under
// (the reaper, which starts the forwarder): as an engine's (see
// Engine.reaperProgram), but it need not be static, as the sandbox sees
// the host's libraries.
func bwrapReaper() (string, error) {
	if DefaultReaper != "" {
		return DefaultReaper, nil
	}
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrReaper, err)
	}
	if s, err := filepath.EvalSymlinks(self); err == nil {
		self = s
	}
	if sh := filepath.Join(filepath.Dir(self), "chaperone-shell"); isFile(sh) {
		return sh, nil
	}
	return self, nil
}

// isFile reports whether p is a regular file.
func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}
