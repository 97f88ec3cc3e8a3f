// Package egress is the sandbox's side of chaperone's egress proxy (see
// package netproxy): a forwarder that listens on 127.0.0.1 inside the
// sandbox and carries each connection to the proxy's unix socket, and the
// variables that point programs at it.
//
// It runs in the per-command reaper, which chaperone-shell provides, so it
// is written on the syscall package and the runtime's poller (through
// os.File) rather than package net, which chaperone-shell does not carry.
package egress

import (
	"errors"
	"io"
	"os"
	"strconv"
	"syscall"
	"time"
)

// Forward listens on a free port of 127.0.0.1 and carries every
// connection made to it by a process below this one (see ownClient) to
// the unix socket at sock, sending key and a newline first (the job's
// secret, see sandbox). It returns the port; connections are served until
// the process ends.
func Forward(sock, key string) (int, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, os.NewSyscallError("socket", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		syscall.Close(fd)
		return 0, os.NewSyscallError("bind 127.0.0.1", err)
	}
	if err := syscall.Listen(fd, 128); err != nil {
		syscall.Close(fd)
		return 0, os.NewSyscallError("listen", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return 0, os.NewSyscallError("getsockname", err)
	}
	port := sa.(*syscall.SockaddrInet4).Port
	l := os.NewFile(uintptr(fd), "egress")
	rc, err := l.SyscallConn()
	if err != nil {
		l.Close()
		return 0, err
	}
	go func() {
		defer l.Close()
		for {
			var nfd int
			var aerr error
			err := rc.Read(func(fd uintptr) bool {
				nfd, _, aerr = syscall.Accept4(int(fd), syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
				return aerr != syscall.EAGAIN
			})
			if err != nil {
				return
			}
			if aerr != nil {
				if aerr == syscall.EINTR || aerr == syscall.ECONNABORTED || aerr == syscall.EMFILE || aerr == syscall.ENFILE {
					continue
				}
				return
			}
			if !ownClient(nfd, port) {
				syscall.Close(nfd) // another job's command: not this job's door
				continue
			}
			go forward(os.NewFile(uintptr(nfd), "client"), sock, key)
		}
	}()
	return port, nil
}

// forward carries one connection to the proxy and back.
func forward(c *os.File, sock, key string) {
	defer c.Close()
	up, err := dialUnix(sock)
	if err == nil {
		if _, err = io.WriteString(up, key+"\n"); err != nil {
			up.Close()
		}
	}
	if err != nil {
		// The proxy is gone. Once the client has spoken, an HTTP client
		// gets an answer that says why, a SOCKS client a refusal.
		buf := make([]byte, 4096)
		if n, _ := c.Read(buf); n > 0 && buf[0] == 5 {
			c.Write([]byte{5, 0xff})
		} else if n > 0 {
			const body = "chaperone: network: the egress proxy is not running; nothing can leave the sandbox\n"
			io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: "+
				strconv.Itoa(len(body))+"\r\n\r\n"+body)
		}
		return
	}
	defer up.Close()
	done := make(chan struct{})
	go func() {
		pump(up, c)
		shutWrite(up)
		close(done)
	}()
	pump(c, up)
	shutWrite(c)
	<-done
}

// Flags of splice(2).
const (
	spliceMove     = 0x1
	spliceNonblock = 0x2
)

// pump copies from src to dst until src ends, through a pipe with
// splice(2), so that the bytes move inside the kernel (a download through
// the proxy crosses this forwarder); it falls back to io.Copy.
func pump(dst, src *os.File) {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		io.Copy(dst, src)
		return
	}
	defer syscall.Close(p[0])
	defer syscall.Close(p[1])
	rs, err1 := src.SyscallConn()
	rd, err2 := dst.SyscallConn()
	if err1 != nil || err2 != nil {
		io.Copy(dst, src)
		return
	}
	for {
		var n int64
		var serr error
		if err := rs.Read(func(fd uintptr) bool {
			n, serr = syscall.Splice(int(fd), nil, p[1], nil, 1<<20, spliceMove|spliceNonblock)
			return serr != syscall.EAGAIN
		}); err != nil || serr != nil || n == 0 {
			return // the end, or an error: either way, nothing more comes
		}
		for n > 0 {
			var m int64
			var werr error
			if err := rd.Write(func(fd uintptr) bool {
				m, werr = syscall.Splice(p[0], nil, int(fd), nil, int(n), spliceMove|spliceNonblock)
				return werr != syscall.EAGAIN
			}); err != nil || werr != nil || m <= 0 {
				return
			}
			n -= m
		}
	}
}

// dialUnix connects to the unix socket at path.
func dialUnix(path string) (*os.File, error) {
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	for {
		err = syscall.Connect(fd, &syscall.SockaddrUnix{Name: path})
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		syscall.Close(fd)
		return nil, &os.PathError{Op: "connect", Path: path, Err: err}
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, os.NewSyscallError("setnonblock", err)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// shutWrite tells the other side that nothing more will be sent.
func shutWrite(f *os.File) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) { syscall.Shutdown(int(fd), syscall.SHUT_WR) })
}

// Conn is what Admit needs of a connection (a net.Conn has it).
type Conn interface {
	io.Reader
	SetReadDeadline(t time.Time) error
}

// Admit reads the key a connection to the proxy's socket must open with
// (what Forward sends) and reports whether it is key. A connection from
// anything but the job's own forwarder is to be closed without a word.
func Admit(c Conn, key string) bool {
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, len(key)+1)
	if _, err := io.ReadFull(c, buf); err != nil {
		return false
	}
	c.SetReadDeadline(time.Time{})
	return equal(buf, []byte(key+"\n"))
}

// equal compares a and b in time that does not depend on where they
// differ (crypto/subtle's, without the crypto packages chaperone-shell does
// not carry).
func equal(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	var d byte
	for i := range a {
		d |= a[i] ^ b[i]
	}
	return d == 0
}

// ErrNoSocket is what a command's connection meets when the proxy's
// socket is missing.
var ErrNoSocket = errors.New("no egress proxy socket")

// Env returns the variables that point programs inside the sandbox at the
// forwarder on port: the common proxy variables in both cases, and the
// settings of the tools that read only their own (npm, yarn, cargo, and
// node's built-in fetch).
func Env(port int) []string {
	u := "http://127.0.0.1:" + strconv.Itoa(port)
	s := "socks5h://127.0.0.1:" + strconv.Itoa(port)
	const local = "localhost,127.0.0.1,::1"
	return []string{
		"HTTP_PROXY=" + u, "http_proxy=" + u, "HTTPS_PROXY=" + u, "https_proxy=" + u,
		"ALL_PROXY=" + s, "all_proxy=" + s, "NO_PROXY=" + local, "no_proxy=" + local,
		"npm_config_proxy=" + u, "npm_config_https_proxy=" + u, "npm_config_noproxy=" + local,
		"YARN_HTTP_PROXY=" + u, "YARN_HTTPS_PROXY=" + u, "CARGO_HTTP_PROXY=" + u,
		"NODE_USE_ENV_PROXY=1",
	}
}
