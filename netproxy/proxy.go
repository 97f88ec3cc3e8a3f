package netproxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chaperone-dev/chaperone/models"
)

// Request is a connection held for a person: a destination the policy
// does not know, or an upload past the limit to a host the session has
// not sent much to before.
type Request struct {
	Host   string
	Port   int
	Method string
	// Upload is set when the connection is held for what it sends: the
	// bytes sent to the host so far, with the session's earlier ones.
	Upload int64
	// Reason says why it is held, for the person.
	Reason string
}

// Target is "host:port" as a person reads it.
func (r Request) Target() string { return net.JoinHostPort(r.Host, strconv.Itoa(r.Port)) }

// Proxy serves the connections of one command. Set its fields before the
// first Serve; it is safe for concurrent use afterwards.
type Proxy struct {
	// Policy decides; nil refuses everything.
	Policy *Policy
	// Ask holds a connection for a person and returns the verdict. It must
	// return at once when no panel runs (a connection must not hang for
	// the whole hold timeout). nil refuses what would be asked.
	Ask func(ctx context.Context, r Request) models.Verdict
	// Warn gets one line for each host refused, "chaperone: network: HOST
	// refused: WHY" (the command's stderr); nil discards them.
	Warn io.Writer
	// Uploaded returns what the session sent in earlier commands to what
	// uploads are counted against (Policy.UploadKey: a host, or a
	// "*.domain" pattern) and whether a person let it send more; nil
	// means nothing.
	Uploaded func(key string) (sent int64, approved bool)
	// Dial connects to an address; nil uses a net.Dialer with a 10 s
	// timeout.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Resolve finds a name's addresses; nil uses the host's resolver.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)

	mu     sync.Mutex
	conns  []*models.Connection
	asked  map[string]*answer // by "METHOD host:port" kind: a person's verdict for this command
	sent   map[string]int64   // bytes sent per host by this command
	warned map[string]bool
	open   map[net.Conn]bool
	closed bool
	done   chan struct{} // closed by Close: questions still open are given up
	// personSaidNo: a person refused one of this command's connections;
	// the command asks nothing more.
	personSaidNo bool
	serving      sync.WaitGroup
}

// answer is one question to a person, shared by the connections that wait
// for it (a package manager opens several at once).
type answer struct {
	done chan struct{}
	v    models.Verdict
}

// Serve accepts connections on l until ctx ends or l is closed, and
// serves each (ServeConn). It returns nil when stopped that way.
func (p *Proxy) Serve(ctx context.Context, l net.Listener) error {
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("egress proxy: %w", err)
		}
		go p.ServeConn(ctx, c)
	}
}

// Close ends every connection still open and waits for their handlers.
// Connections() is complete afterwards.
func (p *Proxy) Close() {
	p.mu.Lock()
	if !p.closed {
		close(p.doneChan())
	}
	p.closed = true
	for c := range p.open {
		c.Close()
	}
	p.mu.Unlock()
	p.serving.Wait()
}

// Connections returns what the proxy recorded so far, in the order the
// connections were made.
func (p *Proxy) Connections() []models.Connection {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]models.Connection, len(p.conns))
	for i, c := range p.conns {
		out[i] = *c
	}
	return out
}

// doneChan is p.done, made on first use; p.mu must be held.
func (p *Proxy) doneChan() chan struct{} {
	if p.done == nil {
		p.done = make(chan struct{})
	}
	return p.done
}

// track registers c as open; false when the proxy is closed.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	if p.open == nil {
		p.open = map[net.Conn]bool{}
	}
	p.open[c] = true
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.open, c)
	p.mu.Unlock()
}

// ServeConn serves one client connection: SOCKS5 when its first byte says
// so, else HTTP (CONNECT, or one request in absolute form). It closes c.
// Close waits for it.
func (p *Proxy) ServeConn(ctx context.Context, c net.Conn) {
	p.mu.Lock()
	closed := p.closed
	if !closed {
		p.serving.Add(1)
	}
	p.mu.Unlock()
	if closed || !p.track(c) {
		c.Close()
		if !closed {
			p.serving.Done()
		}
		return
	}
	defer p.serving.Done()
	defer p.untrack(c)
	defer c.Close()
	// Large enough for the first TLS record of a tunnel (see peekSNI).
	br := bufio.NewReaderSize(c, 5+1<<14+1024)
	c.SetReadDeadline(time.Now().Add(30 * time.Second)) // the request, not the transfer
	first, err := br.Peek(1)
	if err != nil {
		return
	}
	if first[0] == 5 {
		p.socks(ctx, c, br)
		return
	}
	req, err := http.ReadRequest(br)
	if err != nil {
		writeStatus(c, http.StatusBadRequest, "chaperone: network: not a proxy request\n")
		return
	}
	c.SetReadDeadline(time.Time{})
	if req.Method == http.MethodConnect {
		p.connect(ctx, c, br, req)
		return
	}
	p.plain(ctx, c, req)
}

// record adds a connection to the record and returns it, to be completed.
func (p *Proxy) record(host string, port int, method string) *models.Connection {
	rec := &models.Connection{Time: time.Now().UTC(), Host: canonHost(host), Port: port, Method: method}
	p.mu.Lock()
	p.conns = append(p.conns, rec)
	p.mu.Unlock()
	return rec
}

// decide settles whether rec may go ahead: the policy, then a person.
func (p *Proxy) decide(ctx context.Context, rec *models.Connection) bool {
	if p.Policy == nil {
		return p.refuse(rec, models.ByPolicy, "the sandbox has no network policy")
	}
	d := p.Policy.Decide(rec.Host, rec.Port)
	switch d.Action {
	case Allow:
		p.setAllowed(rec, d.By)
		return true
	case Refuse:
		return p.refuse(rec, d.By, d.Reason)
	}
	v := p.ask(ctx, Request{Host: rec.Host, Port: rec.Port, Method: rec.Method, Reason: d.Reason}, "connect ")
	if !v.Approved {
		return p.refuse(rec, v.By, cmpReason(v, "not allowed"))
	}
	by := v.By
	if v.Remembered {
		by = models.ByRemembered
	}
	p.setAllowed(rec, by)
	return true
}

func (p *Proxy) setAllowed(rec *models.Connection, by string) {
	p.mu.Lock()
	rec.Allowed, rec.By = true, by
	p.mu.Unlock()
}

// MaxQuestions bounds what one command may put to the person: beyond it,
// connections to other unknown destinations are refused unasked (a flood
// of questions is not something to say yes to).
const MaxQuestions = 8

// ask asks a person once per kind and destination for this command; the
// connections that need the same answer meanwhile wait for it.
func (p *Proxy) ask(ctx context.Context, r Request, kind string) models.Verdict {
	key := kind + r.Target()
	p.mu.Lock()
	if p.asked == nil {
		p.asked = map[string]*answer{}
	}
	a, ok := p.asked[key]
	if !ok && len(p.asked) >= MaxQuestions {
		p.mu.Unlock()
		return models.Verdict{By: models.ByPolicy, Reason: fmt.Sprintf("the command asked about more than %d destinations; the rest are refused without asking", MaxQuestions)}
	}
	if !ok && p.personSaidNo {
		p.mu.Unlock()
		return models.Verdict{By: models.ByPolicy, Reason: "a person refused an earlier connection of this command; its others are refused without asking"}
	}
	if !ok {
		a = &answer{done: make(chan struct{})}
		p.asked[key] = a
	}
	done := p.doneChan()
	p.mu.Unlock()
	if !ok {
		if p.Ask == nil {
			a.v = models.Verdict{By: models.ByNoPanel, Reason: "held connections cannot be asked about here"}
		} else {
			// The question ends with the command (Close), not only with
			// the caller's ctx.
			qctx, cancel := context.WithCancel(ctx)
			go func() {
				select {
				case <-done:
					cancel()
				case <-qctx.Done():
				}
			}()
			a.v = p.Ask(qctx, r)
			cancel()
		}
		if !a.v.Approved && a.v.By == models.ByPerson {
			p.mu.Lock()
			p.personSaidNo = true
			p.mu.Unlock()
		}
		close(a.done)
	}
	select {
	case <-a.done:
		return a.v
	case <-ctx.Done():
		return models.Verdict{By: models.ByTimeout, Reason: "the command ended"}
	case <-done:
		return models.Verdict{By: models.ByTimeout, Reason: "the command ended"}
	}
}

// refuse records the refusal, warns once per host, and returns false.
func (p *Proxy) refuse(rec *models.Connection, by, reason string) bool {
	p.mu.Lock()
	rec.Allowed, rec.By, rec.Reason = false, by, reason
	first := !p.warned[rec.Host]
	if p.warned == nil {
		p.warned = map[string]bool{}
	}
	p.warned[rec.Host] = true
	p.mu.Unlock()
	if first && p.Warn != nil {
		fmt.Fprintf(p.Warn, "chaperone: network: %s refused: %s\n", rec.Host, reason)
	}
	return false
}

func cmpReason(v models.Verdict, def string) string {
	switch {
	case v.Reason != "":
		return v.Reason
	case v.Note != "":
		return "denied by a person: " + v.Note
	case v.By == models.ByPerson:
		return "denied by a person"
	}
	return def
}

// dial connects to host:port, refusing what leads to this machine's own
// networks unless pinned or listed.
func (p *Proxy) dial(ctx context.Context, rec *models.Connection) (net.Conn, bool) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	dial := p.Dial
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	if addr, ok := p.Policy.Pin(rec.Host, rec.Port); ok {
		c, err := dial(ctx, "tcp", addr)
		if err != nil {
			return nil, p.refuse(rec, models.ByPolicy, "cannot connect: "+dialText(err))
		}
		return c, true
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(rec.Host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		resolve := p.Resolve
		if resolve == nil {
			resolve = func(ctx context.Context, h string) ([]netip.Addr, error) {
				return net.DefaultResolver.LookupNetIP(ctx, "ip", h)
			}
		}
		addrs, err = resolve(ctx, rec.Host)
		if err != nil || len(addrs) == 0 {
			return nil, p.refuse(rec, models.ByPolicy, "the name does not resolve")
		}
	}
	for _, a := range addrs {
		if Local(a) && !p.Policy.Listed(a, rec.Port) {
			return nil, p.refuse(rec, models.ByPolicy, fmt.Sprintf("it leads to %s, an address of this machine or its network; pin the name in [network] hosts if the sandbox must reach it", a.Unmap()))
		}
	}
	var last error
	for _, a := range addrs {
		c, err := dial(ctx, "tcp", netip.AddrPortFrom(a.Unmap(), uint16(rec.Port)).String())
		if err == nil {
			return c, true
		}
		last = err
	}
	return nil, p.refuse(rec, models.ByPolicy, "cannot connect: "+dialText(last))
}

// dialText is a dial error without the addresses Go repeats in it.
func dialText(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	return err.Error()
}

// reach decides about rec and connects to its host. The connection is
// tracked (Close ends it) until done is called. When up is nil, code is the
// HTTP status to answer with: 403 refused, 502 not reached, 0 when the
// proxy is closing.
func (p *Proxy) reach(ctx context.Context, rec *models.Connection) (up net.Conn, done func(), code int) {
	if !p.decide(ctx, rec) {
		return nil, nil, http.StatusForbidden
	}
	up, ok := p.dial(ctx, rec)
	if !ok {
		return nil, nil, http.StatusBadGateway
	}
	if !p.track(up) {
		up.Close()
		return nil, nil, 0
	}
	return up, func() { p.untrack(up); up.Close() }, 0
}

// connect serves a CONNECT: a tunnel to the host it names.
func (p *Proxy) connect(ctx context.Context, c net.Conn, br *bufio.Reader, req *http.Request) {
	host, port, ok := splitTarget(req.Host, 0)
	if !ok {
		writeStatus(c, http.StatusBadRequest, "chaperone: network: CONNECT needs host:port\n")
		return
	}
	rec := p.record(host, port, http.MethodConnect)
	up, done, code := p.reach(ctx, rec)
	if up == nil {
		if code != 0 {
			writeStatus(c, code, refusal(rec))
		}
		return
	}
	defer done()
	if _, err := io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	p.splice(ctx, rec, c, br, up)
}

// plain serves one HTTP request in absolute form ("GET http://host/…"):
// it is sent to the host with "Connection: close", and the answer copied
// back until the host closes.
func (p *Proxy) plain(ctx context.Context, c net.Conn, req *http.Request) {
	if req.URL == nil || req.URL.Scheme != "http" || req.URL.Host == "" {
		writeStatus(c, http.StatusBadRequest, "chaperone: network: send the proxy an absolute http:// URL, or CONNECT for https\n")
		return
	}
	host, port, ok := splitTarget(req.URL.Host, 80)
	if !ok {
		writeStatus(c, http.StatusBadRequest, "chaperone: network: bad host in the URL\n")
		return
	}
	rec := p.record(host, port, req.Method)
	up, done, code := p.reach(ctx, rec)
	if up == nil {
		if code != 0 {
			writeStatus(c, code, refusal(rec))
		}
		return
	}
	defer done()
	for _, h := range []string{"Proxy-Connection", "Proxy-Authorization", "Proxy-Authenticate", "Keep-Alive", "Te", "Trailer", "Upgrade"} {
		req.Header.Del(h)
	}
	req.Close = true
	req.RequestURI = ""
	req.Host = "" // the URL's host, which was decided on, not another name for the same server
	w := &upload{p: p, ctx: ctx, rec: rec, w: up}
	if err := req.Write(w); err != nil {
		if w.refused {
			writeStatus(c, http.StatusForbidden, refusal(rec))
		}
		return
	}
	p.copyDown(rec, c, up)
}

// sameServer checks, before anything the client sends through a tunnel is
// passed on, that a TLS
// client asks for the server the tunnel was allowed for: a ClientHello
// naming another (domain fronting: an allowed CDN's address, a forbidden
// site's name) ends the tunnel, refused. A tunnel that does not start with
// TLS, or a hello without a name, goes on.
func (p *Proxy) sameServer(br *bufio.Reader, rec *models.Connection) bool {
	name, tls, err := peekSNI(br)
	switch {
	case err != nil && !tls:
		return true // nothing more sent (EOF), or not TLS: nothing to check
	case err != nil:
		return p.refuse(rec, models.ByPolicy, "the tunnel's TLS greeting could not be read")
	case tls && name != "" && canonHost(name) != rec.Host:
		return p.refuse(rec, models.ByPolicy, fmt.Sprintf("the tunnel to %s asked for the server %q (domain fronting)", rec.Host, name))
	}
	return true
}

// splitTarget splits "host:port" (or "host", taking def) into its parts.
func splitTarget(s string, def int) (string, int, bool) {
	host, ps, err := net.SplitHostPort(s)
	if err != nil {
		if def == 0 || strings.Contains(strings.Trim(s, "[]"), ":") && !strings.HasPrefix(s, "[") {
			return "", 0, false
		}
		return strings.Trim(s, "[]"), def, s != ""
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port <= 0 || port > 65535 || host == "" {
		return "", 0, false
	}
	return host, port, true
}

// refusal is the body of the answer to a refused request.
func refusal(rec *models.Connection) string {
	return fmt.Sprintf("chaperone: network: %s refused: %s\n", rec.Host, rec.Reason)
}

// writeStatus answers an HTTP client with a status and a short text, and
// closes the exchange.
func writeStatus(w io.Writer, code int, body string) {
	fmt.Fprintf(w, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		code, http.StatusText(code), len(body), body)
}

// splice copies both ways between the client (c, with what br has read
// ahead) and the host until either side is done, counting the bytes.
func (p *Proxy) splice(ctx context.Context, rec *models.Connection, c net.Conn, br *bufio.Reader, up net.Conn) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		// The server may speak first (SSH, SMTP): only what the client
		// sends waits for the check.
		if !p.sameServer(br, rec) {
			up.Close()
			c.Close()
			return
		}
		w := &upload{p: p, ctx: ctx, rec: rec, w: up}
		io.Copy(w, br)
		if tc, ok := up.(interface{ CloseWrite() error }); ok && !w.refused {
			tc.CloseWrite()
		} else {
			up.Close()
			c.Close()
		}
	}()
	p.copyDown(rec, c, up)
	if tc, ok := c.(interface{ CloseWrite() error }); ok {
		tc.CloseWrite()
	}
	<-done
}

// copyDown copies what the host sends to the client and counts it. It is
// a plain io.Copy, so that the kernel moves the bytes between the two
// sockets (splice) where it can; the count lands when the copy ends.
func (p *Proxy) copyDown(rec *models.Connection, c io.Writer, up io.Reader) {
	n, _ := io.Copy(c, up)
	p.mu.Lock()
	rec.Down += n
	p.mu.Unlock()
}

// upload is the writer towards the host: it counts what is sent, and
// holds the connection for a person when the command's uploads to a host
// that the session has not sent much to pass the policy's limit.
type upload struct {
	p       *Proxy
	ctx     context.Context
	rec     *models.Connection
	w       io.Writer
	refused bool
}

func (u *upload) Write(b []byte) (int, error) {
	if !u.p.mayUpload(u.ctx, u.rec, int64(len(b))) {
		u.refused = true
		return 0, errUploadRefused
	}
	n, err := u.w.Write(b)
	u.p.mu.Lock()
	u.rec.Up += int64(n)
	u.p.mu.Unlock()
	return n, err
}

var errUploadRefused = errors.New("upload refused")

// mayUpload counts n more bytes towards rec's host and says whether they
// may be sent: below the limit, to a package registry, or once a person
// let this host have more in this command or session.
func (p *Proxy) mayUpload(ctx context.Context, rec *models.Connection, n int64) bool {
	limit := p.Policy.UploadLimit()
	if limit <= 0 || n == 0 {
		return true
	}
	if d := p.Policy.Decide(rec.Host, rec.Port); d.Registry {
		limit *= RegistryUploadFactor
	}
	key := p.Policy.UploadKey(rec.Host, rec.Port)
	var before int64
	approved := false
	if p.Uploaded != nil {
		before, approved = p.Uploaded(key)
	}
	p.mu.Lock()
	if p.sent == nil {
		p.sent = map[string]int64{}
	}
	p.sent[key] += n
	total := before + p.sent[key]
	p.mu.Unlock()
	if approved || total <= limit {
		return true
	}
	v := p.ask(ctx, Request{Host: rec.Host, Port: rec.Port, Method: rec.Method, Upload: total,
		Reason: fmt.Sprintf("uploads more than %s to %s, which this session has not sent that much to", sizeText(limit), key)}, "upload ")
	p.mu.Lock()
	rec.Held = true
	p.mu.Unlock()
	if v.Approved {
		return true
	}
	p.refuse(rec, v.By, "upload of more than "+sizeText(limit)+": "+cmpReason(v, "not allowed"))
	return false
}

// sizeText writes n bytes for a person.
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
