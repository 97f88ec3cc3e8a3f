package netproxy

import (
	"bufio"
	"encoding/binary"
	"errors"
)

// errNotHello is clientHelloSNI's answer for bytes that are not a TLS
// ClientHello it can read.
var errNotHello = errors.New("not a TLS ClientHello")

// peekSNI reads (without consuming) the first TLS record the client sends
// in a tunnel and returns the server name its ClientHello asks for ("" when
// it names none). tls is false when the tunnel does not start with a TLS
// handshake.
func peekSNI(br *bufio.Reader) (name string, tls bool, err error) {
	head, err := br.Peek(5)
	if err != nil {
		return "", false, err
	}
	if head[0] != 0x16 { // handshake record
		return "", false, nil
	}
	n := int(binary.BigEndian.Uint16(head[3:5]))
	rec, err := br.Peek(5 + n)
	if err != nil {
		return "", true, err
	}
	name, err = clientHelloSNI(rec[5:])
	return name, true, err
}

// clientHelloSNI parses a handshake message that must be a ClientHello
// and returns its server_name extension's host name ("" when absent).
func clientHelloSNI(b []byte) (string, error) {
	r := reader(b)
	typ, ok := r.u8()
	if !ok || typ != 1 {
		return "", errNotHello
	}
	if _, ok := r.u24(); !ok {
		return "", errNotHello
	}
	if !r.skip(2+32) || !r.skipVec8() || !r.skipVec16() || !r.skipVec8() {
		return "", errNotHello
	}
	if len(r) == 0 {
		return "", nil // no extensions
	}
	exts, ok := r.vec16()
	if !ok {
		return "", errNotHello
	}
	for len(exts) > 0 {
		typ, ok1 := exts.u16()
		body, ok2 := exts.vec16()
		if !ok1 || !ok2 {
			return "", errNotHello
		}
		if typ != 0 { // server_name
			continue
		}
		list, ok := body.vec16()
		if !ok {
			return "", errNotHello
		}
		for len(list) > 0 {
			kind, ok1 := list.u8()
			host, ok2 := list.vec16()
			if !ok1 || !ok2 {
				return "", errNotHello
			}
			if kind == 0 {
				return string(host), nil
			}
		}
		return "", nil
	}
	return "", nil
}

// reader reads the big-endian fields of a TLS message.
type reader []byte

func (r *reader) u8() (byte, bool) {
	if len(*r) < 1 {
		return 0, false
	}
	v := (*r)[0]
	*r = (*r)[1:]
	return v, true
}

func (r *reader) u16() (uint16, bool) {
	if len(*r) < 2 {
		return 0, false
	}
	v := binary.BigEndian.Uint16(*r)
	*r = (*r)[2:]
	return v, true
}

func (r *reader) u24() (int, bool) {
	if len(*r) < 3 {
		return 0, false
	}
	v := int((*r)[0])<<16 | int((*r)[1])<<8 | int((*r)[2])
	*r = (*r)[3:]
	return v, true
}

func (r *reader) skip(n int) bool {
	if len(*r) < n {
		return false
	}
	*r = (*r)[n:]
	return true
}

func (r *reader) skipVec8() bool {
	n, ok := r.u8()
	return ok && r.skip(int(n))
}

func (r *reader) skipVec16() bool {
	_, ok := r.vec16()
	return ok
}

func (r *reader) vec16() (reader, bool) {
	n, ok := r.u16()
	if !ok || len(*r) < int(n) {
		return nil, false
	}
	v := (*r)[:n]
	*r = (*r)[n:]
	return v, true
}
