// Package shellsrv is what chaperone-shell (the small program that agents
// run as their shell) and chaperone's shell server share: where the server
// listens and how a request is written.
//
// Why a server: chaperone is a Go program of some size, and starting one
// costs milliseconds, as much as a bubblewrap sandbox itself. The server is
// chaperone kept warm; chaperone-shell starts as fast as a Go program can,
// hands the server its arguments, working directory, environment and its
// standard input, output and error (SCM_RIGHTS), and exits with the status
// the server sends back. The server rates, holds, runs and records the
// command exactly as chaperone itself would.
//
// One server serves one environment of one chaperone build: the socket's
// name is a hash of the chaperone executable (device, inode, size, time)
// and of the environment (less a few variables that change from command to
// command, see Volatile). So the server's own environment is the agent's
// (configuration paths, backend, model host, …), a rebuilt chaperone gets a
// new server, and an old one ends when idle.
//
// A request is one message on a Unix stream socket: a 4-byte big-endian
// length, then NUL-terminated fields: Hello, the working directory, the
// parent's PID, the argument count and the arguments, the variable count and
// the variables; with it, descriptors 0, 1 and 2. The server answers one
// line: "exit N" once the command is done, or "fallback" before doing
// anything, when chaperone itself must run the command (chaperone-shell then
// executes it in its place).
package shellsrv

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/chaperone-dev/chaperone/internal/rundir"
)

const (
	// Hello opens every request; the number is the protocol's version.
	Hello = "chaperone-shell 1"
	// Exit starts the answer that gives the command's exit status.
	Exit = "exit "
	// Fallback is the answer that asks for chaperone itself.
	Fallback = "fallback"
	// NoServerEnv set to 1 makes chaperone-shell run chaperone itself for
	// every command.
	NoServerEnv = "CHAPERONE_NO_SERVER"
	// MaxRequest bounds a request (arguments and environment).
	MaxRequest = 16 << 20
)

// Volatile are variables that shells and agents change from command to
// command: they do not pick the server (the request still carries them, and
// the command gets the request's). Codex gives each command its own
// CODEX_TOOL_CALL_ID.
var Volatile = []string{"_", "SHLVL", "PWD", "OLDPWD", "CODEX_TOOL_CALL_ID"}

// MaxServers is how many shell servers chaperone-shell lets run at once (one
// per environment); past it, commands are run by chaperone itself.
const MaxServers = 8

// Request is one command for the server.
type Request struct {
	Argv []string // chaperone-shell's arguments, argv[0] included
	Dir  string   // its working directory
	PPID int      // its parent (the agent)
	Env  []string // its environment
}

// Encode returns the request as sent: length, then fields.
func (r *Request) Encode() []byte {
	var w writer
	w.field(Hello)
	w.field(r.Dir)
	w.field(strconv.Itoa(r.PPID))
	w.list(r.Argv)
	w.list(r.Env)
	return w.done()
}

// Decode parses a request's fields (what follows the length).
func Decode(body []byte) (*Request, error) {
	rd, err := newReader(body, Hello)
	if err != nil {
		return nil, err
	}
	var r Request
	r.Dir = rd.field()
	ppid, err := strconv.Atoi(rd.field())
	r.Argv = rd.list()
	r.Env = rd.list()
	if rd.bad || len(rd.f) != 0 || err != nil || !filepath.IsAbs(r.Dir) || len(r.Argv) == 0 {
		return nil, ErrBadRequest
	}
	r.PPID = ppid
	return &r, nil
}

// ExecHello opens an Exec answer.
const ExecHello = "exec 1"

// Exec is the server's answer that hands a sandbox over: the process that
// sent the request executes Path with Argv and Env in its own place, with
// the descriptors that come with the answer as 0, 1, 2, … (in order).
type Exec struct {
	Path string
	Argv []string
	Env  []string
}

// Encode returns the answer as sent: ExecHello, a newline, the length,
// then fields.
func (x *Exec) Encode() []byte {
	var w writer
	w.field(ExecHello)
	w.field(x.Path)
	w.list(x.Argv)
	w.list(x.Env)
	return append([]byte(ExecHello+"\n"), w.done()...)
}

// DecodeExec parses an Exec answer's fields (what follows the length).
func DecodeExec(body []byte) (*Exec, error) {
	rd, err := newReader(body, ExecHello)
	if err != nil {
		return nil, err
	}
	x := Exec{Path: rd.field(), Argv: rd.list(), Env: rd.list()}
	if rd.bad || len(rd.f) != 0 || !filepath.IsAbs(x.Path) || len(x.Argv) == 0 {
		return nil, ErrBadRequest
	}
	return &x, nil
}

// writer builds a message: a length, then NUL-terminated fields.
type writer struct{ b []byte }

func (w *writer) field(s string) {
	if w.b == nil {
		w.b = make([]byte, 4, 512)
	}
	w.b = append(append(w.b, s...), 0)
}

func (w *writer) list(l []string) {
	w.field(strconv.Itoa(len(l)))
	for _, s := range l {
		w.field(s)
	}
}

func (w *writer) done() []byte {
	n := len(w.b) - 4
	w.b[0], w.b[1], w.b[2], w.b[3] = byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	return w.b
}

// reader reads the fields of a message; bad is set by any misstep.
type reader struct {
	f   []string
	bad bool
}

func newReader(body []byte, hello string) (*reader, error) {
	if len(body) == 0 || body[len(body)-1] != 0 {
		return nil, ErrBadRequest
	}
	r := &reader{f: strings.Split(string(body[:len(body)-1]), "\x00")}
	if r.field() != hello || r.bad {
		return nil, ErrBadRequest
	}
	return r, nil
}

func (r *reader) field() string {
	if len(r.f) == 0 {
		r.bad = true
		return ""
	}
	s := r.f[0]
	r.f = r.f[1:]
	return s
}

func (r *reader) list() []string {
	n, err := strconv.Atoi(r.field())
	if err != nil || n < 0 || n > len(r.f) {
		r.bad = true
		return nil
	}
	out := r.f[:n:n]
	r.f = r.f[n:]
	return out
}

// ErrBadRequest is returned for a message that does not parse.
var ErrBadRequest = errors.New("bad shell request")

// Length reads the length at the front of a message.
func Length(head []byte) (int, error) {
	if len(head) < 4 {
		return 0, ErrBadRequest
	}
	n := int(head[0])<<24 | int(head[1])<<16 | int(head[2])<<8 | int(head[3])
	if n > MaxRequest {
		return 0, ErrBadRequest
	}
	return n, nil
}

// SocketPath is where the server for chaperone executable exe and the
// environment env listens (in rundir's folder for env).
func SocketPath(exe string, env []string) (string, error) {
	k, err := key(exe, env)
	if err != nil {
		return "", err
	}
	getenv := func(name string) string {
		v := ""
		for _, kv := range env {
			if k, val, ok := strings.Cut(kv, "="); ok && k == name {
				v = val
			}
		}
		return v
	}
	return filepath.Join(rundir.DirFrom(getenv), "shell-"+k+".sock"), nil
}

// key hashes (FNV-1a, 64 bits) the executable's identity and the
// environment less the Volatile variables.
func key(exe string, env []string) (string, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(exe, &st); err != nil {
		return "", &os.PathError{Op: "stat", Path: exe, Err: err}
	}
	h := uint64(14695981039346656037)
	add := func(s string) {
		for i := 0; i < len(s); i++ {
			h ^= uint64(s[i])
			h *= 1099511628211
		}
		h *= 1099511628211 // a NUL byte between fields
	}
	add(Hello)
	for _, n := range []int64{int64(st.Dev), int64(st.Ino), st.Size, st.Mtim.Sec, st.Mtim.Nsec} {
		add(strconv.FormatInt(n, 10))
	}
	for _, kv := range env {
		if !volatile(kv) {
			add(kv)
		}
	}
	return strconv.FormatUint(h, 16), nil
}

// volatile reports whether the variable kv is one of Volatile.
func volatile(kv string) bool {
	name, _, _ := strings.Cut(kv, "=")
	return slices.Contains(Volatile, name)
}

// SameEnv reports whether a and b are the same environment, the Volatile
// variables aside: what a server checks of each request against its own.
func SameEnv(a, b []string) bool {
	a = slices.DeleteFunc(slices.Clone(a), volatile)
	b = slices.DeleteFunc(slices.Clone(b), volatile)
	return slices.Equal(a, b)
}
