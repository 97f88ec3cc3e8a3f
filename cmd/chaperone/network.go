package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/engine"
	"github.com/chaperone-dev/chaperone/internal/egress"
	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/netproxy"
	"github.com/chaperone-dev/chaperone/shim"
)

const networkUsage = `usage: chaperone network check [--no-resolve] HOST[:PORT]...

check says what the egress proxy would do with a sandboxed command's
connection to each HOST (port 443 unless given), in the project of the
current folder, and why: allowed (a package registry, [network] allow, or
a host you allowed for the project with A on the panel), refused ([network]
deny, an address of this machine's networks), or held for a person. For an
allowed name it also says where the connection would go: a [network] hosts
pin, or what the name resolves to (--no-resolve: don't look it up).`

// runNetwork is `chaperone network check HOST...`.
func runNetwork(ctx context.Context, args []string) error {
	if err := showUsage(args, networkUsage); err != nil {
		return err
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, networkUsage)
		return fmt.Errorf("%w: network: want a command (check)", errUsage)
	}
	if args[0] != "check" {
		fmt.Fprintln(os.Stderr, networkUsage)
		return unknownSub("network", args[0], []string{"check"})
	}
	fs := newFlags("network check", networkUsage)
	noResolve := fs.Bool("no-resolve", false, "do not look allowed names up")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(os.Stderr, networkUsage)
		return fmt.Errorf("%w: network check: name a host", errUsage)
	}
	pol, project, mode, err := networkPolicy()
	if err != nil {
		return err
	}
	if mode != "proxy" {
		fmt.Printf("note: [sandbox] network = %q: commands do not go through the proxy; this is what it would do\n", mode)
	}
	fmt.Printf("project: %s\n", cmpText(project, "none (only the user's [network] settings count)"))
	for _, a := range fs.Args() {
		fmt.Println(checkHost(ctx, pol, a, !*noResolve))
	}
	return nil
}

// networkPolicy is the proxy's policy for the project of the current
// folder, as the shim builds it, with the sandbox's network mode.
func networkPolicy() (*netproxy.Policy, string, string, error) {
	cfg, err := config.Load()
	if err != nil {
		return nil, "", "", err
	}
	dir, _ := os.Getwd()
	project, perr := shim.FindProject(dir, os.Environ(), cfg)
	if perr != nil {
		project = ""
	}
	if _, err := engine.New(cfg, project); err != nil { // adds the trusted project's [network]
		return nil, "", "", err
	}
	pol, err := netproxy.NewPolicy(cfg.Network, project)
	if err != nil {
		return nil, "", "", err
	}
	return pol, project, cmpText(cfg.Sandbox.Network, "proxy"), nil
}

// checkHost is one line of `network check`.
func checkHost(ctx context.Context, pol *netproxy.Policy, arg string, resolve bool) string {
	host, port := arg, 443
	if h, p, err := net.SplitHostPort(arg); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil {
			return arg + ": not HOST[:PORT]"
		}
		host, port = h, n
	}
	target := net.JoinHostPort(strings.ToLower(strings.Trim(host, "[]")), strconv.Itoa(port))
	d := pol.Decide(host, port)
	switch d.Action {
	case netproxy.Refuse:
		return fmt.Sprintf("%s: refused (%s): %s", target, d.By, d.Reason)
	case netproxy.Ask:
		return fmt.Sprintf("%s: held for a person on the panel (refused at once when none runs): %s", target, d.Reason)
	}
	why := "in [network] allow"
	switch {
	case d.Registry:
		why = "a package registry"
	case d.By == models.ByRemembered:
		why = "you allowed it for this project on the panel"
	}
	line := fmt.Sprintf("%s: allowed (%s)", target, why)
	if addr, ok := pol.Pin(host, port); ok {
		return line + "; pinned to " + addr + " by [network] hosts"
	}
	if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil || !resolve {
		return line
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return line + "; but the name does not resolve here: " + err.Error()
	}
	for _, a := range addrs {
		if netproxy.Local(a) && !pol.Listed(a, port) {
			return line + fmt.Sprintf("; but it leads to %s, an address of this machine or its network: refused when dialled (pin it in [network] hosts if the sandbox must reach it)", a.Unmap())
		}
	}
	return line + fmt.Sprintf("; resolves to %v", addrs)
}

func cmpText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// doctorNetwork says how sandboxed commands reach the network, and tries
// the proxy here: a connection through the forwarder, the proxy and a
// local server, as a command's would go.
func doctorNetwork(w io.Writer, cfg *config.Config) {
	mode := cmpText(cfg.Sandbox.Network, "proxy")
	switch mode {
	case "proxy":
	case "none":
		fmt.Fprintf(w, "network: none: sandboxed commands have no network (package installs fail); the default, \"proxy\", lets registries through\n")
		return
	default:
		fmt.Fprintf(w, "network: %q: sandboxed commands have that network, unwatched: nothing is held or recorded; fix: remove [sandbox] network for the egress proxy\n", mode)
		return
	}
	n := cfg.Network
	limit := "never held"
	if l := n.Limit(); l > 0 {
		limit = fmt.Sprintf("held past %d bytes to a host new in the session", l)
	}
	fmt.Fprintf(w, "network: proxy: package registries, %d allowed, %d denied, %d pinned, %d per-project; uploads %s\n",
		len(n.Allow), len(n.Deny), len(n.Hosts), len(n.Projects), limit)
	took, err := proxySelfTest()
	if err != nil {
		fmt.Fprintf(w, "network: proxy self-test: NO  %v\n", err)
		return
	}
	fmt.Fprintf(w, "network: proxy self-test: ok (a request through forwarder and proxy in %.1f ms); `chaperone network check HOST` says what happens to a host\n",
		float64(took.Microseconds())/1000)
}

// proxySelfTest sends one request the way a sandboxed command's goes:
// to the forwarder on loopback, through a unix socket to the proxy, and on
// to a local server (pinned), and returns how long it took.
func proxySelfTest() (time.Duration, error) {
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer up.Close()
	go http.Serve(up, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { io.WriteString(rw, "ok") }))
	pol, err := netproxy.NewPolicy(config.NetworkConfig{Allow: []string{"doctor.chaperone.invalid"},
		Hosts: map[string]string{"doctor.chaperone.invalid": up.Addr().String()}}, "")
	if err != nil {
		return 0, err
	}
	dir, err := os.MkdirTemp("", "chaperone-doctor-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "s")
	l, err := net.Listen("unix", sock)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := &netproxy.Proxy{Policy: pol}
	const key = "doctor"
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				if !egress.Admit(c, key) {
					c.Close()
					return
				}
				p.ServeConn(ctx, c)
			}()
		}
	}()
	defer l.Close()
	defer p.Close()
	port, err := egress.Forward(sock, key)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 5*time.Second)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(conn, "GET http://doctor.chaperone.invalid/ HTTP/1.1\r\nHost: doctor.chaperone.invalid\r\n\r\n")
	b, err := io.ReadAll(conn)
	took := time.Since(start)
	if err != nil {
		return 0, err
	}
	if !strings.HasPrefix(string(b), "HTTP/1.1 200") || !strings.HasSuffix(string(b), "ok") {
		return 0, fmt.Errorf("unexpected answer %q", strings.SplitN(string(b), "\r\n", 2)[0])
	}
	return took, nil
}
