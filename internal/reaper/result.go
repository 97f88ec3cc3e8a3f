package reaper

import (
	"bytes"
	"errors"
	"strconv"
)

// MaxListed is how many processes Result.Killed names; the rest are
// counted in a last entry, "and N more".
const MaxListed = 64

// Result is what a reaper reports: in the result file for a command (see
// ResultEnv), on stdout for -kill.
type Result struct {
	// Status is the command's exit status, 128+N when it died of signal N
	// (0 for -kill).
	Status int
	// Killed lists the processes that had to be killed, in the order they
	// were found: "PID (comm) command line" each (comm is the kernel's name
	// for the program, which a process cannot change by rewriting its
	// arguments), beginning with "stray " for a process whose own job's
	// reaper was gone; at most MaxListed and then "and N more".
	Killed []string
	// Left counts the processes that were still alive when the reaper gave
	// up (stuck in the kernel); -1 when it could not list processes at all.
	Left int
}

// Encode returns r in the form ParseResult reads: "status N", then one
// "killed ENTRY" line per entry, and "left N" when N is not 0.
func (r Result) Encode() []byte {
	b := strconv.AppendInt([]byte("status "), int64(r.Status), 10)
	b = append(b, '\n')
	for _, e := range r.Killed {
		b = append(b, "killed "...)
		b = appendPrintable(b, []byte(e))
		b = append(b, '\n')
	}
	if r.Left != 0 {
		b = append(strconv.AppendInt(append(b, "left "...), int64(r.Left), 10), '\n')
	}
	return b
}

// ErrResult is returned by ParseResult for what is not a reaper's result.
var ErrResult = errors.New("malformed reaper result")

// ParseResult reads a Result written by Encode.
func ParseResult(b []byte) (Result, error) {
	var r Result
	lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
	first, ok := bytes.CutPrefix(lines[0], []byte("status "))
	n, err := strconv.Atoi(string(first))
	if !ok || err != nil || n < 0 || n > 255 {
		return Result{}, ErrResult
	}
	r.Status = n
	for _, l := range lines[1:] {
		if e, ok := bytes.CutPrefix(l, []byte("killed ")); ok {
			r.Killed = append(r.Killed, string(e))
			continue
		}
		v, ok := bytes.CutPrefix(l, []byte("left "))
		n, err := strconv.Atoi(string(v))
		if !ok || err != nil {
			return Result{}, ErrResult
		}
		r.Left = n
	}
	return r, nil
}
