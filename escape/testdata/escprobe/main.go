// Command escprobe is what the escape suite runs inside a sandbox where no
// tool does what it needs (the test image has busybox and bash, whose nc
// knows no unix sockets). It is built static and copied into the project.
//
//	escprobe connect PATH...      connect to unix sockets ("@name": abstract);
//	                              prints "CONNECTED PATH" or "REFUSED PATH: why"
//	escprobe tcp HOST:PORT...     the same for TCP
//	escprobe listen PATH SECONDS  listen on a unix socket, answer "ALIVE" to
//	                              each connection, end after SECONDS
//	escprobe send PATH TEXT       connect to a unix socket, send TEXT (with
//	                              \r and \n as escapes), print "GOT PATH: …"
//	                              with what comes back within 3 s
//
// It always exits 0: the suite reads what it printed.
package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: escprobe connect PATH... | tcp ADDR... | listen PATH SECONDS")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "connect":
		for _, p := range os.Args[2:] {
			dial("unix", unixAddr(p), p)
		}
	case "tcp":
		for _, a := range os.Args[2:] {
			dial("tcp", a, a)
		}
	case "listen":
		secs, _ := strconv.Atoi(os.Args[3])
		listen(os.Args[2], time.Duration(secs)*time.Second)
	case "send":
		send(os.Args[2], strings.NewReplacer(`\r`, "\r", `\n`, "\n").Replace(os.Args[3]))
	}
}

func send(path, text string) {
	c, err := net.DialTimeout("unix", unixAddr(path), 2*time.Second)
	if err != nil {
		fmt.Printf("REFUSED %s: %v\n", path, err)
		return
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	c.Write([]byte(text))
	b, _ := io.ReadAll(c)
	fmt.Printf("GOT %s: %q\n", path, b)
}

// unixAddr turns "@name" into Go's spelling of an abstract address.
func unixAddr(p string) string {
	if len(p) > 0 && p[0] == '@' {
		return "\x00" + p[1:]
	}
	return p
}

func dial(network, addr, name string) {
	c, err := net.DialTimeout(network, addr, 2*time.Second)
	if err != nil {
		fmt.Printf("REFUSED %s: %v\n", name, err)
		return
	}
	c.Close()
	fmt.Printf("CONNECTED %s\n", name)
}

func listen(path string, d time.Duration) {
	l, err := net.Listen("unix", path)
	if err != nil {
		fmt.Printf("LISTEN-FAILED %s: %v\n", path, err)
		return
	}
	fmt.Printf("LISTENING %s\n", path)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("ALIVE\n"))
			c.Close()
		}
	}()
	time.Sleep(d)
}
