package rater

import (
	"strings"

	"github.com/chaperone-dev/chaperone/models"
)

// ruleSessionGate is what would switch off, or go around, the gate of a
// chaperone shell session: the bash hooks that ask chaperone before each
// line runs (shim's interactive sessions), the names they keep their
// state in, and what runs code later without a line of its own (a trap,
// a prompt, a key binding, an alias). It applies only to a statement of
// such a session (Request.Gated).
var ruleSessionGate = Rule{"session.gate", models.High, "changes how this shell session asks chaperone before each line runs"}

// gateBuiltins are the builtins that can undo the gate or run code that
// no line shows: any use is held.
var gateBuiltins = map[string]bool{
	"trap": true, "enable": true, "bind": true, "alias": true, "fc": true, "complete": true,
}

// gateVars are the variables whose change runs code later, or changes
// what reaches bash's history (which the gate reads each line from).
var gateVars = map[string]bool{
	"PS0": true, "PS1": true, "PS2": true, "PS4": true, "PROMPT_COMMAND": true, "BASH_ENV": true, "ENV": true,
	"HISTCONTROL": true, "HISTIGNORE": true, "HISTSIZE": true, "HISTCMD": true, "HISTFILE": true,
	"INPUTRC": true,
}

// gateName reports whether name is one the gate depends on: its own
// (__chaperone…) or one of gateVars.
func gateName(name string) bool {
	return strings.HasPrefix(name, "__chaperone") || strings.HasPrefix(name, "CHAPERONE_") || gateVars[name]
}

// gate holds what would change a session's gate (ruleSessionGate).
func (k *check) gate() {
	for i := range k.facts.Commands {
		c := &k.facts.Commands[i]
		span := c.Span
		for _, a := range c.Assigns {
			if gateName(a.Name) {
				k.hit(ruleSessionGate, span)
			}
		}
		argv := c.Argv
		// builtin X, command X: the builtin X.
		for len(argv) > 1 && (argv[0].Lit == "builtin" || argv[0].Lit == "command") && !strings.HasPrefix(argv[1].Lit, "-") {
			argv = argv[1:]
		}
		if len(argv) == 0 {
			continue
		}
		name := argv[0].Lit
		if argv[0].Dynamic || strings.HasPrefix(name, "__chaperone") {
			k.hit(ruleSessionGate, span)
			continue
		}
		args := argv[1:]
		switch {
		case gateBuiltins[name]:
			if name == "alias" && allPlain(args, func(a string) bool { return !strings.Contains(a, "=") }) {
				continue // alias, alias ll: lists
			}
			if name == "trap" && allPlain(args, func(a string) bool { return a == "-p" || a == "-l" }) {
				continue // trap, trap -p: lists
			}
			if name == "bind" && allPlain(args, func(a string) bool { return a == "-p" || a == "-P" || a == "-v" || a == "-V" || a == "-l" }) {
				continue
			}
			if name == "fc" && allPlain(args, func(a string) bool {
				return a == "-l" || a == "-n" || a == "-r" || strings.TrimLeft(a, "-0123456789") == ""
			}) && hasWord(args, "-l") {
				continue // fc -l: lists
			}
			k.hit(ruleSessionGate, span)
		case name == "exec" && len(args) > 0:
			k.hit(ruleSessionGate, span) // another program in the session's place
		case name == "shopt" && hasWord(args, "-u") && (hasWord(args, "extdebug") || hasWord(args, "cmdhist") || hasWord(args, "promptvars")):
			k.hit(ruleSessionGate, span)
		case name == "shopt" && hasWord(args, "-s") && (hasWord(args, "expand_aliases") || hasWord(args, "lithist")):
			k.hit(ruleSessionGate, span)
		case name == "set" && gateSet(args):
			k.hit(ruleSessionGate, span)
		case name == "history" && len(args) > 0 && !allPlain(args, func(a string) bool { return strings.TrimLeft(a, "0123456789") == "" }):
			k.hit(ruleSessionGate, span) // -c, -d, -s, -r, -n, -a, -w, -p
		case name == "unset" || name == "declare" || name == "typeset" || name == "local" || name == "readonly" || name == "export":
			for _, a := range args {
				n, _, _ := strings.Cut(a.Lit, "=")
				if a.Dynamic || gateName(n) {
					k.hit(ruleSessionGate, span)
				}
			}
		}
	}
	for _, f := range k.facts.Functions {
		if gateName(f) || gateBuiltins[f] || f == "builtin" || f == "command" || f == "source" || f == "." || f == "eval" {
			k.hit(ruleSessionGate, "function "+f)
		}
	}
}

// gateSet reports whether set's arguments turn off what the gate needs:
// history (+o history, +H is only expansion), function tracing (+T, +o
// functrace), or turn on what runs code unseen (-o posix drops extdebug's
// effect on some traps: held too).
func gateSet(args []models.Word) bool {
	for i, a := range args {
		switch {
		case a.Dynamic:
			return true
		case strings.HasPrefix(a.Lit, "+") && strings.ContainsRune(a.Lit[1:], 'T'):
			return true
		case a.Lit == "+o" || a.Lit == "-o":
			if i+1 < len(args) {
				switch args[i+1].Lit {
				case "history", "functrace", "posix":
					if a.Lit == "+o" || args[i+1].Lit == "posix" {
						return true
					}
				}
			}
		}
	}
	return false
}

func allPlain(args []models.Word, ok func(string) bool) bool {
	for _, a := range args {
		if a.Dynamic || !ok(a.Lit) {
			return false
		}
	}
	return true
}

func hasWord(args []models.Word, w string) bool {
	for _, a := range args {
		if a.Lit == w {
			return true
		}
	}
	return false
}
