package netproxy

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/netip"
	"time"
)

// SOCKS5 (RFC 1928), the CONNECT command only, without authentication.
const (
	socksVersion   = 5
	socksConnect   = 1
	socksIPv4      = 1
	socksName      = 3
	socksIPv6      = 4
	socksOK        = 0
	socksFailure   = 1
	socksForbidden = 2 // connection not allowed by ruleset
	socksNoCommand = 7
	socksNoType    = 8
)

// socks serves a SOCKS5 client: a tunnel, decided like a CONNECT.
func (p *Proxy) socks(ctx context.Context, c net.Conn, br *bufio.Reader) {
	var head [2]byte
	if _, err := io.ReadFull(br, head[:]); err != nil {
		return
	}
	methods := make([]byte, head[1])
	if _, err := io.ReadFull(br, methods); err != nil {
		return
	}
	noAuth := false
	for _, m := range methods {
		noAuth = noAuth || m == 0
	}
	if !noAuth {
		c.Write([]byte{socksVersion, 0xff})
		return
	}
	if _, err := c.Write([]byte{socksVersion, 0}); err != nil {
		return
	}
	var req [4]byte
	if _, err := io.ReadFull(br, req[:]); err != nil || req[0] != socksVersion {
		return
	}
	if req[1] != socksConnect {
		socksReply(c, socksNoCommand)
		return
	}
	var host string
	switch req[3] {
	case socksIPv4:
		var a [4]byte
		if _, err := io.ReadFull(br, a[:]); err != nil {
			return
		}
		host = netip.AddrFrom4(a).String()
	case socksIPv6:
		var a [16]byte
		if _, err := io.ReadFull(br, a[:]); err != nil {
			return
		}
		host = netip.AddrFrom16(a).Unmap().String()
	case socksName:
		n, err := br.ReadByte()
		if err != nil {
			return
		}
		name := make([]byte, n)
		if _, err := io.ReadFull(br, name); err != nil {
			return
		}
		host = string(name)
	default:
		socksReply(c, socksNoType)
		return
	}
	var pb [2]byte
	if _, err := io.ReadFull(br, pb[:]); err != nil {
		return
	}
	c.SetReadDeadline(time.Time{})
	rec := p.record(host, int(binary.BigEndian.Uint16(pb[:])), "SOCKS5")
	up, done, code := p.reach(ctx, rec)
	switch {
	case up == nil && code == http.StatusForbidden:
		socksReply(c, socksForbidden)
		return
	case up == nil:
		socksReply(c, socksFailure)
		return
	}
	defer done()
	if socksReply(c, socksOK) != nil {
		return
	}
	p.splice(ctx, rec, c, br, up)
}

// socksReply sends a reply with the given code and an empty bound address.
func socksReply(c net.Conn, code byte) error {
	_, err := c.Write([]byte{socksVersion, code, 0, socksIPv4, 0, 0, 0, 0, 0, 0})
	return err
}
