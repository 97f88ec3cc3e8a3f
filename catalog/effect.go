package catalog

import (
	"fmt"
	"math/bits"
	"strings"
)

// Effect is a set of things a program (or one of its subcommands) can do.
// The zero value is the empty set: a program that only prints, or changes
// the state of the shell itself.
type Effect uint32

// The effects. An entry lists every effect some ordinary use of the
// program has; the rater's check decides which one a given use has.
const (
	Reads      Effect = 1 << iota // reads the files or data its arguments name
	Writes                        // creates or changes files
	Deletes                       // deletes files or data
	Sends                         // sends data over the network
	Fetches                       // downloads from the network
	ExecArg                       // runs a command or code given as an argument
	ExecFile                      // runs a script, build file or program file
	ExecStdin                     // runs code read from stdin
	SetsExec                      // changes a setting that makes something run later
	Installs                      // installs packages from a source
	Serves                        // starts a server, listener or background process
	Publishes                     // publishes a package or image, or pushes to a remote
	Signals                       // signals, stops or looks up processes
	Elevates                      // runs with another user's or more privileges
	System                        // changes the machine: disks, mounts, users, services, kernel, firewall
	SendsStdin                    // sends what it reads on stdin over the network (mail, paste tools)

	lastEffect = SendsStdin
)

var effectNames = [...]string{
	"reads", "writes", "deletes", "sends", "fetches", "exec-arg", "exec-file", "exec-stdin",
	"sets-exec", "installs", "serves", "publishes", "signals", "elevates", "system", "sends-stdin",
}

// Has reports whether e holds every effect of f.
func (e Effect) Has(f Effect) bool { return e&f == f && f != 0 }

// Any reports whether e holds some effect of f.
func (e Effect) Any(f Effect) bool { return e&f != 0 }

// List returns the names of the effects in e, in the order of the
// constants.
func (e Effect) List() []string {
	var out []string
	for rest := e; rest != 0; rest &= rest - 1 {
		i := bits.TrailingZeros32(uint32(rest))
		if i < len(effectNames) {
			out = append(out, effectNames[i])
		} else {
			out = append(out, fmt.Sprintf("Effect(%#x)", uint32(1)<<i))
		}
	}
	return out
}

// String returns the names of the effects joined by "|", or "none".
func (e Effect) String() string {
	if e == 0 {
		return "none"
	}
	return strings.Join(e.List(), "|")
}

// MarshalText encodes the set as String does.
func (e Effect) MarshalText() ([]byte, error) {
	if e&^(lastEffect<<1-1) != 0 {
		return nil, fmt.Errorf("unknown effect bits %#x", uint32(e&^(lastEffect<<1-1)))
	}
	return []byte(e.String()), nil
}

// UnmarshalText decodes names joined by "|" (or ","), or "none".
func (e *Effect) UnmarshalText(b []byte) error {
	v, err := ParseEffect(string(b))
	if err != nil {
		return err
	}
	*e = v
	return nil
}

// ParseEffect parses effect names joined by "|" or ",", or "none".
func ParseEffect(s string) (Effect, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		return 0, nil
	}
	var e Effect
	for _, n := range strings.FieldsFunc(s, func(r rune) bool { return r == '|' || r == ',' }) {
		i := indexOf(effectNames[:], strings.TrimSpace(n))
		if i < 0 {
			return 0, fmt.Errorf("unknown effect %q (want one of %s)", n, strings.Join(effectNames[:], ", "))
		}
		e |= 1 << i
	}
	return e, nil
}

func indexOf(names []string, n string) int {
	for i, x := range names {
		if x == n {
			return i
		}
	}
	return -1
}

// Kind is what the value of an option, or a positional argument, carries.
type Kind uint8

// The kinds of values.
const (
	Plain   Kind = iota // nothing the rules look at
	Path                // a file or folder
	URL                 // a URL
	Host                // a host name or address (user@host, host:path)
	Code                // program text that runs (python -c, awk's program)
	Command             // a command line that runs (sudo CMD, ssh HOST CMD)
)

var kindNames = [...]string{"plain", "path", "url", "host", "code", "command"}

// String returns the kind's name.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// MarshalText encodes the kind as its name.
func (k Kind) MarshalText() ([]byte, error) {
	if int(k) >= len(kindNames) {
		return nil, fmt.Errorf("unknown kind %d", int(k))
	}
	return []byte(k.String()), nil
}

// UnmarshalText decodes a kind's name.
func (k *Kind) UnmarshalText(b []byte) error {
	i := indexOf(kindNames[:], string(b))
	if i < 0 {
		return fmt.Errorf("unknown kind %q (want one of %s)", b, strings.Join(kindNames[:], ", "))
	}
	*k = Kind(i)
	return nil
}
