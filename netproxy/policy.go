package netproxy

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/models"
)

// Policy decides where a sandboxed command may connect. It is built from
// the [network] table (NewPolicy) and is safe for concurrent use.
type Policy struct {
	registries []pattern // the ecosystems' package registries (models.Registries)
	allow      []pattern // [network] allow, and the trusted project's
	deny       []pattern // [network] deny: wins over everything
	remembered []pattern // what a person allowed for this project (`A`)
	pins       map[string]string
	limit      int64
}

// pattern is one host pattern of the [network] table.
type pattern struct {
	host string // lower case, no trailing dot; an IP in its canonical form
	sub  bool   // "*.host": sub-domains of host, not host itself
	port int    // 0: any port
}

// NewPolicy builds the policy for a project (the folder the command runs
// for; "" for none) from the user's [network] table, as config.Load and
// engine.New resolved it (a trusted project's allow and deny are in it).
func NewPolicy(n config.NetworkConfig, project string) (*Policy, error) {
	if err := n.Check(); err != nil {
		return nil, err
	}
	p := &Policy{pins: make(map[string]string, len(n.Hosts)), limit: n.Limit()}
	for _, r := range models.Registries {
		for _, h := range r.Hosts {
			if strings.Contains(h, "/") {
				continue // a path on a host (a git index): not a whole host
			}
			if rest, ok := strings.CutPrefix(h, "."); ok {
				p.registries = append(p.registries, pattern{host: rest, sub: true})
				continue
			}
			p.registries = append(p.registries, pattern{host: h})
		}
	}
	p.allow = parsePatterns(n.Allow)
	p.deny = parsePatterns(n.Deny)
	for _, pr := range n.Projects {
		if project != "" && pr.Project == project {
			p.remembered = append(p.remembered, parsePatterns(pr.Allow)...)
		}
	}
	for name, addr := range n.Hosts {
		p.pins[canonHost(name)] = addr
	}
	return p, nil
}

// parsePatterns parses patterns that config.CheckHostPattern accepted.
func parsePatterns(list []string) []pattern {
	out := make([]pattern, 0, len(list))
	for _, s := range list {
		host, port := s, 0
		if h, pt, err := net.SplitHostPort(s); err == nil {
			host = h
			port, _ = strconv.Atoi(pt)
		}
		sub := false
		if rest, ok := strings.CutPrefix(host, "*."); ok {
			host, sub = rest, true
		}
		out = append(out, pattern{host: canonHost(host), sub: sub, port: port})
	}
	return out
}

// canonHost is host as patterns compare it: lower case, no trailing dot,
// no brackets, an IP in its canonical form.
func canonHost(h string) string {
	h = strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Unmap().String()
	}
	return h
}

func (pt pattern) match(host string, port int) bool {
	if pt.port != 0 && pt.port != port {
		return false
	}
	if pt.sub {
		return strings.HasSuffix(host, "."+pt.host)
	}
	return host == pt.host
}

func matchAny(list []pattern, host string, port int) bool {
	for _, pt := range list {
		if pt.match(host, port) {
			return true
		}
	}
	return false
}

// Action is what the policy says about a destination.
type Action int

// The actions.
const (
	Refuse Action = iota // refused without asking
	Allow                // let through without asking
	Ask                  // held for a person
)

// Decision is the policy's answer for one destination.
type Decision struct {
	Action Action
	// By names the list that decided (models.ByList, ByRemembered,
	// ByDenyList, ByPolicy); empty for Ask.
	By string
	// Reason says why, for a person (refusals and holds).
	Reason string
	// Registry is set when the host is a built-in package registry.
	Registry bool
}

// Decide says what happens to a connection to host:port. It looks only at
// the name; where the name leads is checked when it is dialled (Resolve).
func (p *Policy) Decide(host string, port int) Decision {
	h := canonHost(host)
	if h == "" || port <= 0 || port > 65535 {
		return Decision{Action: Refuse, By: models.ByPolicy, Reason: "not a host and port"}
	}
	if _, err := netip.ParseAddr(h); err != nil && !hostName(h) {
		return Decision{Action: Refuse, By: models.ByPolicy, Reason: "not a host name"}
	}
	if matchAny(p.deny, h, port) {
		return Decision{Action: Refuse, By: models.ByDenyList, Reason: "denied by [network] deny"}
	}
	if matchAny(p.allow, h, port) {
		return Decision{Action: Allow, By: models.ByList}
	}
	if matchAny(p.remembered, h, port) {
		return Decision{Action: Allow, By: models.ByRemembered}
	}
	if a, err := netip.ParseAddr(h); err == nil {
		if Local(a) {
			return Decision{Action: Refuse, By: models.ByPolicy,
				Reason: "an address of this machine or its network; list it in [network] allow if the sandbox must reach it"}
		}
		return Decision{Action: Ask, Reason: "an IP address that is not in [network] allow"}
	}
	if matchAny(p.registries, h, port) {
		return Decision{Action: Allow, By: models.ByList, Registry: true}
	}
	return Decision{Action: Ask, Reason: "not a package registry and not in [network] allow"}
}

// hostName reports whether h (lower case) is made of what a DNS host name
// may hold: letters, digits, '-', '_' and dots between labels.
func hostName(h string) bool {
	if len(h) > 253 || strings.HasPrefix(h, ".") || strings.Contains(h, "..") {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// UploadKey is what uploads to host:port are counted against: the allow
// pattern that lets a sub-domain through ("*.corp.example"), so that an
// upload split across many names of one pattern is counted whole; else
// the host itself.
func (p *Policy) UploadKey(host string, port int) string {
	h := canonHost(host)
	for _, list := range [][]pattern{p.allow, p.remembered} {
		for _, pt := range list {
			if pt.sub && pt.match(h, port) {
				return "*." + pt.host
			}
		}
	}
	return h
}

// RegistryUploadFactor is how much more than the upload limit a command
// may send to a package registry before it is held: enough for audits and
// lock-file checks, not for publishing a tarball of the home folder.
const RegistryUploadFactor = 16

// UploadLimit is how many bytes a command may send to a host before the
// upload waits for a person (0: never); see config.NetworkConfig.
func (p *Policy) UploadLimit() int64 { return p.limit }

// Pin returns where a connection to host:port goes when the [network]
// hosts table pins host, and whether it does.
func (p *Policy) Pin(host string, port int) (string, bool) {
	a, ok := p.pins[canonHost(host)]
	if !ok {
		return "", false
	}
	addr, err := config.PinAddr(a, port)
	return addr, err == nil
}

// Listed reports whether the exact address (an IP, with or without its
// port) is in [network] allow: the one way an address of this machine's
// own networks becomes reachable, besides a pin.
func (p *Policy) Listed(a netip.Addr, port int) bool {
	return matchAny(p.allow, a.Unmap().String(), port)
}

// Local reports whether a is an address of this machine or of a private
// or special network: what an allowed name must not lead to. An IPv4
// address carried inside an IPv6 one (NAT64, 6to4, the deprecated
// IPv4-compatible form) is judged by the IPv4 address.
func Local(a netip.Addr) bool {
	a = a.Unmap()
	if v4, ok := embeddedV4(a); ok {
		return Local(v4)
	}
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsUnspecified() || a.IsMulticast() || a.IsInterfaceLocalMulticast() {
		return true
	}
	for _, p := range special {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// special are ranges that are not the public internet, beyond what
// netip's predicates cover.
var special = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),     // "this network"
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT (tailscale, cloud metadata on some)
	netip.MustParsePrefix("192.0.0.0/24"),  // IETF protocol assignments (some metadata services)
	netip.MustParsePrefix("198.18.0.0/15"), // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),   // reserved, and the broadcast address
	netip.MustParsePrefix("fec0::/10"),     // site-local (deprecated, still routed on some networks)
	netip.MustParsePrefix("fd00:ec2::/32"), // AWS's metadata service over IPv6 (inside fc00::/7 anyway)
}

// embeddedV4 returns the IPv4 address inside a NAT64 (64:ff9b::/96,
// 64:ff9b:1::/48), 6to4 (2002::/16) or IPv4-compatible (::/96) address.
func embeddedV4(a netip.Addr) (netip.Addr, bool) {
	if !a.Is6() {
		return netip.Addr{}, false
	}
	b := a.As16()
	switch {
	case nat64.Contains(a), nat64Local.Contains(a):
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
	case sixToFour.Contains(a):
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), true
	case compat.Contains(a) && !a.IsLoopback() && !a.IsUnspecified():
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
	}
	return netip.Addr{}, false
}

var (
	nat64      = netip.MustParsePrefix("64:ff9b::/96")
	nat64Local = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour  = netip.MustParsePrefix("2002::/16")
	compat     = netip.MustParsePrefix("::/96")
)

// String is the action's name.
func (a Action) String() string {
	switch a {
	case Refuse:
		return "refuse"
	case Allow:
		return "allow"
	case Ask:
		return "ask"
	}
	return fmt.Sprintf("action(%d)", int(a))
}
