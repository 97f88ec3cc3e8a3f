package shim

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
)

// A session's bash prints an end mark after each statement, on the
// descriptors the statement wrote to, so that chaperone knows where the
// statement's output ends in the stream itself: output carried by a
// container engine's CLI comes later than the status on the session's
// channel, and waiting for the stream to fall quiet both costs time and
// loses output on a loaded machine. A mark is an operating system command
// that terminals ignore,
//
//	ESC ] 6973 ; TOKEN BEL
//
// with TOKEN, lower-case hex digits, chosen once the statement has ended,
// so that nothing the statement ran can know it: what a statement prints
// that looks like a mark is its output, recorded and shown as it is.

// markIntro is what every mark starts with.
const markIntro = "\x1b]6973;"

// maxMarkToken is how long a mark's token may be.
const maxMarkToken = 64

// newMarkToken returns a token for a mark no one can guess.
func newMarkToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// markOf is the mark with token tok.
func markOf(tok string) []byte { return []byte(markIntro + tok + "\a") }

// findMark returns the first mark in p: where it starts and ends, and its
// token.
func findMark(p []byte) (start, end int, tok string, ok bool) {
	for off := 0; ; {
		i := bytes.Index(p[off:], []byte(markIntro))
		if i < 0 {
			return 0, 0, "", false
		}
		i += off
		j := i + len(markIntro)
		k := j
		for k < len(p) && k-j <= maxMarkToken && isHexDigit(p[k]) {
			k++
		}
		if k < len(p) && p[k] == '\a' && k > j && k-j <= maxMarkToken {
			return i, k + 1, string(p[j:k]), true
		}
		off = i + 1
	}
}

// partialMark returns the length of p's longest end that could be the
// start of a mark, which the next read may complete.
func partialMark(p []byte) int {
	from := max(0, len(p)-(len(markIntro)+maxMarkToken))
	i := bytes.LastIndexByte(p[from:], markIntro[0])
	if i < 0 {
		return 0
	}
	rest := p[from+i:]
	if len(rest) <= len(markIntro) {
		if bytes.HasPrefix([]byte(markIntro), rest) {
			return len(rest)
		}
		return 0
	}
	if !bytes.HasPrefix(rest, []byte(markIntro)) {
		return 0
	}
	for _, c := range rest[len(markIntro):] {
		if !isHexDigit(c) {
			return 0
		}
	}
	return len(rest)
}

func isHexDigit(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }
