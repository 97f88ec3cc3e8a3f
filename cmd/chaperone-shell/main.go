// Command chaperone-shell is the shell that agents run (the bash and sh
// links that `chaperone shims` writes point to it). It is small, so it
// starts fast: it hands each command to chaperone's shell server (chaperone
// kept warm, one per environment; see internal/shellsrv) and exits with the
// status the server sends back. Where there is no server yet, it starts one
// for the next command and has chaperone itself run this one; so it does
// when the command needs chaperone in this very process (a terminal, the
// second half of Codex's double call) or when CHAPERONE_NO_SERVER=1.
//
// Inside a sandbox, it is plain bash, as chaperone is.
package main

import (
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"github.com/chaperone-dev/chaperone/internal/cloexec"
	"github.com/chaperone-dev/chaperone/internal/inside"
	"github.com/chaperone-dev/chaperone/internal/reaper"
	"github.com/chaperone-dev/chaperone/internal/rundir"
	"github.com/chaperone-dev/chaperone/internal/shellsrv"
)

// passEnv is shim.PassEnv: Codex's re-executed shell, which chaperone
// itself checks.
const passEnv = "CHAPERONE_PASS"

func main() {
	if reaper.Is(os.Args[0]) {
		os.Exit(reaper.Main(os.Args)) // mounted in docker and podman sandboxes
	}
	if inside.Sandbox() {
		fail(inside.ExecBash(os.Args), 127)
	}
	exe, err := os.Executable()
	if err != nil {
		fail(err, 126)
	}
	chaperone := filepath.Join(filepath.Dir(exe), "chaperone")
	if served() {
		if code, ok := ask(chaperone); ok {
			os.Exit(code)
		}
	}
	// chaperone runs the command itself, with these very arguments (it is
	// bash when argv[0] says so) and environment.
	fail(syscall.Exec(chaperone, os.Args, os.Environ()), 126)
}

// served reports whether the server may take this command.
func served() bool {
	if os.Getenv(shellsrv.NoServerEnv) == "1" {
		return false
	}
	if _, ok := os.LookupEnv(passEnv); ok {
		return false
	}
	return !(isTerminal(0) && isTerminal(1))
}

// ask sends the command to the server for this chaperone and environment
// and waits for its exit status. ok is false when the command was not run
// and chaperone must run it: no server (one is started for next time), or
// the server said so.
func ask(chaperone string) (code int, ok bool) {
	env := os.Environ()
	sock, err := shellsrv.SocketPath(chaperone, env)
	if err != nil || rundir.Check(filepath.Dir(sock)) != nil {
		startServer(chaperone, sock)
		return 0, false
	}
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, false
	}
	defer syscall.Close(fd)
	if err := syscall.Connect(fd, &syscall.SockaddrUnix{Name: sock}); err != nil {
		startServer(chaperone, sock)
		return 0, false
	}
	dir, err := os.Getwd()
	if err != nil {
		return 0, false
	}
	req := (&shellsrv.Request{Argv: os.Args, Dir: dir, PPID: os.Getppid(), Env: env}).Encode()
	if err := syscall.Sendmsg(fd, req, syscall.UnixRights(0, 1, 2), nil, syscall.MSG_NOSIGNAL); err != nil {
		return 0, false
	}
	reply, x, fds, err := readAnswer(fd)
	switch {
	case err != nil:
		// The server went away during the command (killed, or broken):
		// it may have run; never run it again.
		os.Stderr.WriteString("chaperone: the shell server ended before the command did\n")
		return 126, true
	case x != nil:
		return handOver(fd, x, fds), true
	case reply == shellsrv.Fallback:
		return 0, false
	case strings.HasPrefix(reply, shellsrv.Exit):
		n, err := strconv.Atoi(reply[len(shellsrv.Exit):])
		if err != nil {
			return 126, true
		}
		return n, true
	}
	os.Stderr.WriteString("chaperone: the shell server answered " + strconv.Quote(reply) + "\n")
	return 126, true
}

// readAnswer reads the server's answer: a line ("exit N", "fallback"), or
// a sandbox handed over (shellsrv.Exec) with its descriptors.
func readAnswer(fd int) (line string, x *shellsrv.Exec, fds []int, err error) {
	buf := make([]byte, 64<<10)
	oob := make([]byte, syscall.CmsgSpace(8*4))
	var b []byte
	for {
		n, oobn, _, _, err := syscall.Recvmsg(fd, buf, oob, syscall.MSG_CMSG_CLOEXEC)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return "", nil, fds, err
		}
		if n == 0 {
			return "", nil, fds, syscall.ECONNRESET
		}
		if msgs, err := syscall.ParseSocketControlMessage(oob[:oobn]); err == nil {
			for _, m := range msgs {
				if got, err := syscall.ParseUnixRights(&m); err == nil {
					fds = append(fds, got...)
				}
			}
		}
		b = append(b, buf[:n]...)
		nl := strings.IndexByte(string(b), '\n')
		if nl < 0 {
			if len(b) > 256 {
				return "", nil, fds, syscall.EPROTO
			}
			continue
		}
		if string(b[:nl]) != shellsrv.ExecHello {
			return string(b[:nl]), nil, fds, nil
		}
		rest := b[nl+1:]
		size, err := shellsrv.Length(rest)
		if err != nil {
			if len(rest) < 4 {
				continue
			}
			return "", nil, fds, err
		}
		if len(rest) < 4+size {
			continue
		}
		x, err := shellsrv.DecodeExec(rest[4 : 4+size])
		return "", x, fds, err
	}
}

// handOver runs the sandbox the server handed over, with the descriptors
// it sent as its 0, 1, 2, …, and waits for it; then for the server's
// answer, which comes once the server has swept what the command left in
// the project (chaperone's guard of what host tools run): the agent sees
// the command end, and runs its next host git, only then. It returns the
// exit status: the server's, or the sandbox's when the server answers
// nothing. It exits at once when the sandbox cannot start (then nothing
// has run: bwrap waits for its gate, fd 3).
func handOver(conn int, x *shellsrv.Exec, fds []int) int {
	// Nothing else of the agent's reaches the sandbox: what bwrap does not
	// get it cannot pass on.
	cloexec.From(3)
	files := make([]uintptr, len(fds))
	for i, fd := range fds {
		files[i] = uintptr(fd)
	}
	pid, err := syscall.ForkExec(x.Path, x.Argv, &syscall.ProcAttr{Env: x.Env, Files: files})
	if err != nil {
		fail(err, 126)
	}
	for _, fd := range fds {
		syscall.Close(fd)
	}
	// A signal sent to this process alone (not its group) is the
	// sandbox's too.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	go func() {
		for s := range sigs {
			syscall.Kill(pid, s.(syscall.Signal))
		}
	}()
	var ws syscall.WaitStatus
	for {
		if _, err := syscall.Wait4(pid, &ws, 0, nil); err != syscall.EINTR {
			break
		}
	}
	code := ws.ExitStatus()
	if ws.Signaled() {
		code = 128 + int(ws.Signal())
	}
	if reply, _, _, err := readAnswer(conn); err == nil && strings.HasPrefix(reply, shellsrv.Exit) {
		if n, err := strconv.Atoi(reply[len(shellsrv.Exit):]); err == nil {
			return n
		}
	}
	return code
}

// startServer starts `chaperone shell-server --socket SOCK` in its own
// session, with this environment (the server's is the agent's), for the
// next command; it is not waited for (the chaperone that runs this command
// in this process leaves it to init when it exits).
func startServer(chaperone, sock string) {
	// A path too long for a socket would make a server that cannot
	// listen; past MaxServers (an environment that changes with every
	// command), chaperone itself runs the commands.
	if sock == "" || len(sock) >= 108 || servers(filepath.Dir(sock)) >= shellsrv.MaxServers {
		return
	}
	null, err := os.Open(os.DevNull)
	if err != nil {
		return
	}
	defer null.Close()
	fd := null.Fd()
	syscall.ForkExec(chaperone, []string{"chaperone", "shell-server", "--socket", sock}, &syscall.ProcAttr{
		Dir: "/", Env: os.Environ(), Files: []uintptr{fd, fd, fd}, Sys: &syscall.SysProcAttr{Setsid: true},
	})
}

// servers counts the shell servers' sockets in dir.
func servers(dir string) int {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "shell-") && strings.HasSuffix(e.Name(), ".sock") {
			n++
		}
	}
	return n
}

// isTerminal reports whether fd is a terminal.
func isTerminal(fd int) bool {
	var t syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.TCGETS, uintptr(unsafe.Pointer(&t)))
	return errno == 0
}

func fail(err error, code int) {
	os.Stderr.WriteString("chaperone: " + err.Error() + "\n")
	os.Exit(code)
}
