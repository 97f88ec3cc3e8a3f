package netproxy

import (
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/internal/egress"
)

// benchWorld is a proxy and forwarder in front of a local server that
// sends size bytes for any request.
func benchWorld(b *testing.B, size int64) (direct, viaProxy string) {
	b.Helper()
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	chunk := make([]byte, 256<<10)
	srv := &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		for left := size; left > 0; {
			n := min(left, int64(len(chunk)))
			rw.Write(chunk[:n])
			left -= n
		}
	})}
	go srv.Serve(up)
	b.Cleanup(func() { srv.Close() })
	pol, err := NewPolicy(config.NetworkConfig{Allow: []string{"bench.test"}, Hosts: map[string]string{"bench.test": up.Addr().String()}}, "")
	if err != nil {
		b.Fatal(err)
	}
	sock := filepath.Join(b.TempDir(), "s")
	l, err := net.Listen("unix", sock)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{Policy: pol}
	go serveKeyed(ctx, l, p)
	b.Cleanup(func() { cancel(); p.Close() })
	port, err := egress.Forward(sock, testKey)
	if err != nil {
		b.Fatal(err)
	}
	return up.Addr().String(), "127.0.0.1:" + strconv.Itoa(port)
}

// get sends one request on a new connection to addr (the server itself,
// or the forwarder with an absolute URL) and reads the whole answer.
func get(b *testing.B, addr, target string) int64 {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET "+target+" HTTP/1.1\r\nHost: bench.test\r\nConnection: close\r\n\r\n")
	n, err := io.Copy(io.Discard, c)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkConnect is one small request on a new connection: directly to
// the server, and through the forwarder and the proxy (the set-up cost a
// sandboxed command pays per connection; the bar is 1 ms more).
func BenchmarkConnect(b *testing.B) {
	direct, via := benchWorld(b, 2)
	b.Run("direct", func(b *testing.B) {
		for b.Loop() {
			get(b, direct, "/")
		}
	})
	b.Run("proxy", func(b *testing.B) {
		for b.Loop() {
			get(b, via, "http://bench.test/")
		}
	})
}

// BenchmarkDownload100MB is a 100 MB download, directly and through the
// proxy (the bar: at least 80% of direct throughput).
func BenchmarkDownload100MB(b *testing.B) {
	const size = 100 << 20
	direct, via := benchWorld(b, size)
	b.Run("direct", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			if n := get(b, direct, "/"); n < size {
				b.Fatalf("got %d bytes", n)
			}
		}
	})
	b.Run("proxy", func(b *testing.B) {
		b.SetBytes(size)
		for b.Loop() {
			if n := get(b, via, "http://bench.test/"); n < size {
				b.Fatalf("got %d bytes", n)
			}
		}
	})
}
