package netproxy

import (
	"io"
	"net"
	"strconv"
	"time"
)

// Forward is the sandbox's side of the proxy: it listens on a free port of
// 127.0.0.1 and carries every connection made to it to the unix socket at
// sock (the proxy, bound into the sandbox). It returns the port; the
// connections are served until the process ends.
func Forward(sock string) (int, error) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go forward(c, sock)
		}
	}()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// forward carries one connection to the proxy and back.
func forward(c net.Conn, sock string) {
	defer c.Close()
	up, err := net.Dial("unix", sock)
	if err != nil {
		// The proxy is gone. Once the client has spoken, an HTTP client
		// gets an answer that says why, a SOCKS client a refusal.
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 4096)
		if n, _ := c.Read(buf); n > 0 && buf[0] == socksVersion {
			c.Write([]byte{socksVersion, 0xff})
		} else if n > 0 {
			writeStatus(c, 502, "chaperone: network: the egress proxy is not running; nothing can leave the sandbox\n")
		}
		return
	}
	defer up.Close()
	done := make(chan struct{})
	go func() {
		io.Copy(up, c)
		up.(*net.UnixConn).CloseWrite()
		close(done)
	}()
	io.Copy(c, up)
	c.(*net.TCPConn).CloseWrite()
	<-done
}

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

// EnvNames are the names Env sets: a command's own values for them are
// replaced inside the sandbox.
func EnvNames() []string {
	var names []string
	for _, kv := range Env(1) {
		for i := 0; i < len(kv); i++ {
			if kv[i] == '=' {
				names = append(names, kv[:i])
				break
			}
		}
	}
	return names
}
