package shim

import (
	"errors"
	"fmt"
	"strings"
)

// Mode says where bash would take its script from.
type Mode int

// Modes of a bash invocation.
const (
	ModeCommand Mode = iota // -c STRING
	ModeStdin               // no operand, or -s: the script is read from stdin
	ModeFile                // a script file operand
	ModeInfo                // --version or --help: bash prints and exits, runs nothing
)

// Invocation is a bash command line as bash itself would read it. Parse
// mirrors bash 5.2's shell.c (parse_long_options, parse_shell_options) so
// that chaperone and bash never disagree about which argument is the
// script: chaperone then starts the real bash with a command line it builds
// itself from Flags, never with the caller's argv.
type Invocation struct {
	Mode Mode
	// Script is the -c string (ModeCommand).
	Script string
	// File is the script file operand (ModeFile).
	File string
	// Args are the words after the script: $0 $1 … for -c; $1 … for a
	// script file and for -s.
	Args []string
	// Flags are the options to hand to the real bash, long options first,
	// without -c and -s (chaperone adds -c itself).
	Flags []string
	// Info is "--version" or "--help" for ModeInfo.
	Info string

	Login, Interactive bool
}

// ErrUsage is wrapped by Parse errors: bash would print an error and
// exit with status 2 without running anything.
var ErrUsage = errors.New("bad usage")

// longOpts are bash 5.2's GNU long options; the value says whether the
// option takes an argument.
var longOpts = map[string]bool{
	"debug": false, "debugger": false, "dump-po-strings": false, "dump-strings": false,
	"help": false, "init-file": true, "login": false, "noediting": false,
	"noprofile": false, "norc": false, "posix": false, "pretty-print": false,
	"rcfile": true, "restricted": false, "verbose": false, "version": false,
}

// setOptions are the names `set -o` knows in bash 5.2.
var setOptions = map[string]bool{
	"allexport": true, "braceexpand": true, "emacs": true, "errexit": true, "errtrace": true,
	"functrace": true, "hashall": true, "histexpand": true, "history": true, "ignoreeof": true,
	"interactive-comments": true, "keyword": true, "monitor": true, "noclobber": true, "noexec": true,
	"noglob": true, "nolog": true, "notify": true, "nounset": true, "onecmd": true, "physical": true,
	"pipefail": true, "posix": true, "privileged": true, "verbose": true, "vi": true, "xtrace": true,
}

// setFlags are the one-letter options of `set` that bash accepts at
// invocation, plus i (interactive) and r (restricted).
const setFlags = "abefhkmnptuvxBCEHPTir"

// Parse reads bash's argv (without argv[0]). Errors wrap ErrUsage and carry
// the message bash would print.
func Parse(args []string) (*Invocation, error) {
	inv := &Invocation{}
	i := 0
	// GNU long options come first; "-login" works like "--login".
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		a, long := args[i], false
		if len(a) > 2 && a[1] == '-' {
			long = true
			a = a[1:]
		}
		name := a[1:]
		takesArg, ok := longOpts[name]
		if !ok {
			if long {
				return nil, fmt.Errorf("%w: %s: invalid option", ErrUsage, args[i])
			}
			break // maybe a short option cluster
		}
		switch name {
		case "version", "help":
			if inv.Info == "" {
				inv.Info = "--" + name
			}
		case "login":
			inv.Login = true
		}
		inv.Flags = append(inv.Flags, "--"+name)
		if takesArg {
			i++
			if i >= len(args) {
				return nil, fmt.Errorf("%w: --%s: option requires an argument", ErrUsage, name)
			}
			inv.Flags = append(inv.Flags, args[i])
		}
		i++
	}
	var short []string
	wantCommand, fromStdin := false, false
	for i < len(args) && (strings.HasPrefix(args[i], "-") || strings.HasPrefix(args[i], "+")) {
		a := args[i]
		next := i + 1
		if a == "-" || a == "--" {
			i = next
			break
		}
		sign := a[:1]
		for _, c := range a[1:] {
			switch {
			case c == 'c':
				wantCommand = true
			case c == 's':
				fromStdin = true
			case c == 'l':
				inv.Login = true
				short = append(short, "-l")
			case c == 'D':
				short = append(short, "-D")
			case c == 'o' || c == 'O':
				if next >= len(args) {
					// bash lists the options and goes on; too odd to mirror.
					return nil, fmt.Errorf("%w: %s%c without an option name is not supported by chaperone", ErrUsage, sign, c)
				}
				if c == 'o' && !setOptions[args[next]] {
					return nil, fmt.Errorf("%w: %s: invalid option name", ErrUsage, args[next])
				}
				short = append(short, sign+string(c), args[next])
				next++
			case strings.ContainsRune(setFlags, c):
				if c == 'i' && sign == "-" {
					inv.Interactive = true
				}
				short = append(short, sign+string(c))
			default:
				return nil, fmt.Errorf("%w: %s%c: invalid option", ErrUsage, sign, c)
			}
		}
		i = next
	}
	inv.Flags = append(inv.Flags, short...)
	rest := args[i:]
	switch {
	case inv.Info != "":
		inv.Mode = ModeInfo
	case wantCommand:
		if len(rest) == 0 {
			return nil, fmt.Errorf("%w: -c: option requires an argument", ErrUsage)
		}
		inv.Mode, inv.Script, inv.Args = ModeCommand, rest[0], rest[1:]
	case fromStdin || len(rest) == 0:
		inv.Mode, inv.Args = ModeStdin, rest
	default:
		inv.Mode, inv.File, inv.Args = ModeFile, rest[0], rest[1:]
	}
	return inv, nil
}
