package rater

import (
	"errors"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/chaperone-dev/chaperone/internal/lazyre"
	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/parser"
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

// SessionGateName reports whether assigning the variable name changes a
// session's gate (ruleSessionGate): chaperone's own names
// (__chaperone…, CHAPERONE_…) and those that run code later or change
// what reaches bash's history.
func SessionGateName(name string) bool { return gateName(name) }

// gateName reports whether name is one the gate depends on: its own
// (__chaperone…) or one of gateVars.
func gateName(name string) bool {
	lower := strings.ToLower(name) // shopt -s nocasematch would make __CHAPERONE_ASK one of the gate's
	return strings.HasPrefix(lower, "__chaperone") || strings.HasPrefix(name, "CHAPERONE_") || gateVars[name]
}

// gate holds what would change a session's gate (ruleSessionGate).
func (k *check) gate() { k.gateIn(0) }

// maxGateDepth bounds how deeply sourced files are followed.
const maxGateDepth = 4

// gateIn is gate for text at depth: 0 for the statement, more for a file
// it sources (which runs in the session's shell as the statement does).
func (k *check) gateIn(depth int) {
	for i := range k.facts.Commands {
		c := &k.facts.Commands[i]
		span := c.Span
		for _, a := range c.Assigns {
			if gateAssign(a.Name, a.Value.Lit, a.Value.Dynamic, depth) {
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
		if argv[0].Dynamic || gateName(name) && !gateVars[name] {
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
		case (name == "mapfile" || name == "readarray") && hasFlag(args, 'C'):
			k.hit(ruleSessionGate, span) // -C CALLBACK: code run as the array fills
		case (name == "read" || name == "mapfile" || name == "readarray") && readsHighFd(args):
			k.hit(ruleSessionGate, span) // -u N: reads what chaperone sends the session's bash
		case name == "exec" && len(args) > 0:
			k.hit(ruleSessionGate, span) // another program in the session's place
		case name == "hash" && hasFlag(args, 'p'):
			k.hit(ruleSessionGate, span) // -p PATH NAME: NAME runs PATH from now on
		case name == "shopt" && hasWord(args, "-u") && (hasWord(args, "extdebug") || hasWord(args, "cmdhist") || hasWord(args, "promptvars")):
			k.hit(ruleSessionGate, span)
		case name == "shopt" && hasWord(args, "-s") && (hasWord(args, "expand_aliases") || hasWord(args, "lithist") || hasWord(args, "nocasematch")):
			k.hit(ruleSessionGate, span)
		case name == "set" && gateSet(args):
			k.hit(ruleSessionGate, span)
		case name == "history" && len(args) > 0 && !allPlain(args, func(a string) bool { return strings.TrimLeft(a, "0123456789") == "" }):
			k.hit(ruleSessionGate, span) // -c, -d, -s, -r, -n, -a, -w, -p
		case name == "unset" || name == "declare" || name == "typeset" || name == "local" || name == "readonly" || name == "export":
			for _, a := range args {
				n, v, set := strings.Cut(a.Lit, "=")
				if a.Dynamic || (name == "unset" || !set) && gateName(n) || set && gateAssign(n, v, false, depth) {
					k.hit(ruleSessionGate, span)
				}
			}
		}
	}
	for _, f := range k.facts.Functions {
		if gateName(f) || bashBuiltins[f] || f == notFoundHook || !plainFuncName(f) {
			k.hit(ruleSessionGate, "function "+f)
		}
	}
	// What cannot be seen in a statement may change the session's shell
	// as anything else here would (bash -c "$x" is held above for its
	// name; python -c "$x", source "$f", text past what is followed).
	for _, why := range k.facts.OpaqueReasons {
		k.hit(ruleSessionGate, why)
	}
	k.gateChannel()
	k.gateSourced(depth)
}

// readsInput reports whether p names a descriptor (/dev/stdin, /dev/fd/N,
// /proc/…): what is read there is not known when the command is rated.
func readsInput(p string) bool {
	return p == "/dev/stdin" || strings.HasPrefix(p, "/dev/fd/") || strings.HasPrefix(p, "/proc/")
}

// gateAssign reports whether setting name to value (dynamic: only known
// when it runs) changes the gate. A prompt (PS1, PS2, PS4) is the
// gate's only where it could run something when it is shown — an
// expansion or a command substitution; a plain one (SWE-agent's
// PS1=SHELLPS1PREFIX, a venv's "(venv) ") is not. A file a statement
// sources may set the prompt variables (promptVars).
func gateAssign(name, value string, dynamic bool, depth int) bool {
	switch {
	case !gateName(name):
		return false
	case depth > 0 && promptVars[name]:
		return false
	case name == "PS1" || name == "PS2" || name == "PS4":
		return dynamic || strings.ContainsAny(value, "$`")
	}
	return true
}

// promptVars are the gate's variables that only an interactive shell
// reads: a file a statement sources (an activate script) may set them
// (the rules rate what they could run).
var promptVars = map[string]bool{
	"PS0": true, "PS1": true, "PS2": true,
	"HISTCONTROL": true, "HISTIGNORE": true, "HISTSIZE": true, "HISTFILE": true, "INPUTRC": true,
}

// gateSourced applies the gate to what the statement's commands source
// (source FILE, . FILE): the file runs in the session's shell as the
// statement's own text does, so what would change the gate there (a
// trap, an alias, a function named builtin, a write to the session's
// channel) is held as it is in the statement. Only a project file can be
// read (the rules rate what it does otherwise, see whatruns.go); one that
// cannot be read, or that the statement may write first, is held, and so
// is a source of the statement's own input (source /dev/stdin <<< …),
// which the rules do not read.
func (k *check) gateSourced(depth int) {
	root := k.where.project
	if root == "" || root == "/" {
		return
	}
	x := &runs{where: k.where, root: root, units: new(int), chain: map[string]bool{}}
	dir := root // a session's statement is rated with a cd to its folder, when it is not the project's
	for i := range k.facts.Commands {
		c := &k.facts.Commands[i]
		argv := c.Argv
		for len(argv) > 1 && (argv[0].Lit == "builtin" || argv[0].Lit == "command") && !argv[0].Dynamic {
			argv = argv[1:]
		}
		if len(argv) == 0 || argv[0].Dynamic {
			continue
		}
		name := argv[0].Lit
		if (name == "cd" || name == "pushd") && c.Depth == 0 && len(c.Via) == 0 {
			if dir = gateCd(dir, argv[1:]); dir == "" {
				dir = root
			}
			continue
		}
		args := argv[1:]
		if len(args) > 0 && args[0].Lit == "--" {
			args = args[1:]
		}
		if len(args) == 0 {
			continue
		}
		f := args[0]
		shell := parser.IsShell(baseName(name))
		if name != "source" && name != "." && !shell {
			continue
		}
		if shell && slices.ContainsFunc(args, func(a models.Word) bool { return readsInput(a.Lit) || a.Lit == "-" }) || !shell && readsInput(f.Lit) {
			k.hit(ruleSessionGate, c.Span) // runs its input, which no rule reads
			continue
		}
		if shell || f.Dynamic || depth >= maxGateDepth {
			continue // another bash; or held already (opaque); or too deep
		}
		p := x.abs(dir, f.Lit)
		if !x.inside(p) {
			continue
		}
		data, err := x.fileMax(p, maxRunFile)
		switch {
		case errors.Is(err, errRunSkip):
			if writtenHere(k.facts, i) {
				k.hit(ruleSessionGate, c.Span) // made by the statement: not known
			}
			continue
		case err != nil:
			k.hit(ruleSessionGate, c.Span+": "+err.Error())
			continue
		}
		sub := &check{facts: parser.Parse(string(data)), where: k.where, registries: k.registries, cur: -1}
		sub.rate()
		sub.gateIn(depth + 1)
		for _, fd := range sub.findings {
			if fd.Rule == ruleSessionGate.ID {
				k.cur = i
				k.hit(ruleSessionGate, x.rel(p)+": "+fd.Span)
			}
		}
	}
	k.cur = -1
}

// gateChannel holds what could reach the channel on which a session's
// bash takes the statements to run from chaperone and answers what became
// of them: descriptors of its own, 10 and up (bash keeps its copies there
// too while a statement runs). Text written there would run unrated, and
// a status written there would end a statement early. So a statement
// that duplicates such a descriptor, names one through /dev/fd or
// /proc/…/fd (also after a cd, and through a folder named fd), writes to
// a path only known at run time (which may be one), or runs what is only
// known at run time, is held.
func (k *check) gateChannel() {
	dir := "" // the working folder after the cd's so far, when known
	for i := range k.facts.Commands {
		c := &k.facts.Commands[i]
		span := c.Span
		if len(c.Argv) > 0 && (c.Argv[0].Lit == "cd" || c.Argv[0].Lit == "pushd") && c.Depth == 0 && len(c.Via) == 0 {
			dir = gateCd(dir, c.Argv[1:])
		}
		for _, r := range c.Redirs {
			t := r.Target
			if (r.Op == ">&" || r.Op == "<&") && (t.Dynamic || highFd(strings.TrimSuffix(t.Lit, "-"))) || channelPath(dir, t.Lit) {
				k.hit(ruleSessionGate, span)
			}
		}
		for _, w := range c.Argv {
			if channelPath(dir, w.Lit) {
				k.hit(ruleSessionGate, span)
			}
		}
		for _, a := range c.Assigns {
			if channelPath(dir, a.Value.Lit) {
				k.hit(ruleSessionGate, span)
			}
		}
	}
	var unknown []string
	for _, f := range k.findings {
		if f.Rule == ruleWriteOther.ID || f.Rule == ruleOpaque.ID {
			unknown = append(unknown, f.Span)
		}
	}
	for _, span := range unknown {
		k.hit(ruleSessionGate, span)
	}
}

// gateCd is the working folder after cd args from dir ("" unknown).
func gateCd(dir string, args []models.Word) string {
	if len(args) == 0 {
		return ""
	}
	a := args[len(args)-1]
	switch {
	case a.Dynamic || a.Lit == "-" || strings.HasPrefix(a.Lit, "~"):
		return ""
	case path.IsAbs(a.Lit):
		return path.Clean(a.Lit)
	case dir != "":
		return path.Join(dir, a.Lit)
	}
	return ""
}

// highFd reports whether s is the number of a descriptor of 10 or more.
func highFd(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 10
}

// channelPath reports whether p, from folder dir ("" unknown), may name
// the session's channel: a descriptor of its bash (fdPath) or its control
// folder (models.ControlMount) or what is in it, also by a pattern or an
// expansion (/run/chaperone-c*/q, /run/$x/q, /ru?/*).
func channelPath(dir, p string) bool {
	if fdPath(dir, p) {
		return true
	}
	if p == "" {
		return false
	}
	if !path.IsAbs(p) && dir != "" {
		p = path.Join(dir, p)
	}
	parts := strings.Split(p, "/")
	ctl := strings.Split(models.ControlMount, "/")
	if len(parts) < len(ctl) || parts[0] != "" {
		return false
	}
	for i := 1; i < len(ctl); i++ {
		if !mayBe(parts[i], ctl[i], i > 1) {
			return false
		}
	}
	return true
}

// fdPath reports whether p, from folder dir ("" unknown), may name a
// descriptor of 10 or more of the process that opens it, or the folder of
// them: /dev/fd and /proc/…/fd themselves and what is in them but 0 to 9,
// and elsewhere (a link to one of them) fd/N for N of 10 or more or not
// known. A part may be a pattern (/proc/$$/f?/1[0]) or, under /dev and
// /proc past the process's number, an expansion: what it may match counts.
func fdPath(dir, p string) bool {
	if p == "" {
		return false
	}
	if !path.IsAbs(p) && dir != "" {
		p = path.Join(dir, p)
	}
	parts := strings.Split(p, "/")
	proc := len(parts) > 1 && parts[0] == "" && mayBe(parts[1], "proc", false)
	dev := len(parts) > 2 && parts[0] == "" && mayBe(parts[1], "dev", false)
	special := proc || dev && mayBe(parts[2], "fd", true)
	for i, s := range parts {
		if !mayBe(s, "fd", special && i >= 2 && !(proc && !dev && i == 2)) {
			continue
		}
		if i+1 == len(parts) || parts[i+1] == "" {
			if special {
				return true
			}
			continue
		}
		next := parts[i+1]
		if n, err := strconv.Atoi(next); err == nil {
			if n >= 10 {
				return true
			}
			continue
		}
		if special || strings.ContainsAny(next, "*?[$`{(") {
			return true
		}
	}
	return false
}

// mayBe reports whether the path part s may be name: it is, or it is a
// pattern that matches it (brace and extended patterns: may), or, when
// dynamic, it holds an expansion.
func mayBe(s, name string, dynamic bool) bool {
	switch {
	case s == name:
		return true
	case dynamic && strings.ContainsAny(s, "$`"):
		return true
	case strings.ContainsAny(s, "{("):
		return true
	case strings.ContainsAny(s, "*?["):
		ok, err := path.Match(s, name)
		return ok || err != nil
	}
	return false
}

// bashBuiltins are bash's builtin commands. A function of one of these
// names would run in place of the builtin for every later line, and for
// the gate's own code, which writes its questions with printf and reads
// its answers with read: a function named like a builtin is held.
var bashBuiltins = map[string]bool{
	".": true, ":": true, "[": true, "alias": true, "bg": true, "bind": true, "break": true, "builtin": true,
	"caller": true, "cd": true, "command": true, "compgen": true, "complete": true, "compopt": true,
	"continue": true, "declare": true, "dirs": true, "disown": true, "echo": true, "enable": true, "eval": true,
	"exec": true, "exit": true, "export": true, "false": true, "fc": true, "fg": true, "getopts": true,
	"hash": true, "help": true, "history": true, "jobs": true, "kill": true, "let": true, "local": true,
	"logout": true, "mapfile": true, "popd": true, "printf": true, "pushd": true, "pwd": true, "read": true,
	"readarray": true, "readonly": true, "return": true, "set": true, "shift": true, "shopt": true,
	"source": true, "suspend": true, "test": true, "times": true, "trap": true, "true": true, "type": true,
	"typeset": true, "ulimit": true, "umask": true, "unalias": true, "unset": true, "wait": true,
}

// plainFuncName reports whether a function's name is made of what a
// program's name is (letters, digits, _ - . :): bash takes more (/bin/ls,
// a+b), which stands in for a program run by its path, and which the
// session's rating, finding a statement's calls by such words, would not
// see called.
func plainFuncName(f string) bool {
	return f != "" && strings.Trim(f, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:") == ""
}

// notFoundHook is the function bash runs, with the command line, for a
// name that is no command: defining it runs code later that no line
// shows, as a trap does.
const notFoundHook = "command_not_found_handle"

// terminalEditors run commands typed to them (vi's :!, emacs' M-!,
// nano's ^T, more's !, gdb's shell).
var terminalEditors = map[string]bool{
	"vi": true, "vim": true, "nvim": true, "view": true, "vimdiff": true, "ex": true, "ed": true,
	"emacs": true, "nano": true, "pico": true, "more": true, "pg": true, "most": true, "gdb": true,
	"script": true, "tmux": true, "screen": true,
}

// replPrograms read a program from the terminal when given none (a REPL);
// the database shells read statements, and run commands (.shell, \!),
// with a database named.
var replPrograms = map[string]bool{
	"python": true, "python2": true, "python3": true, "ipython": true, "node": true, "nodejs": true,
	"deno": true, "bun": true, "irb": true, "ruby": true, "perl": true, "php": true, "lua": true,
	"luajit": true, "R": true, "ghci": true, "julia": true, "tclsh": true, "wish": true, "guile": true,
	"sqlite3": true, "psql": true, "mysql": true, "mariadb": true,
}

// repl reports whether program name with args reads what it runs from
// the terminal: no program file and no code option (python's -i: also
// with a file).
func repl(name string, args []models.Word) bool {
	if name == "sqlite3" || name == "psql" || name == "mysql" || name == "mariadb" {
		operands := 0
		for _, a := range args {
			switch {
			case a.Dynamic:
				return true
			case a.Lit == "-c" || a.Lit == "-e" || a.Lit == "-f" || a.Lit == "--command" || a.Lit == "--execute" || a.Lit == "--file":
				return false
			case !strings.HasPrefix(a.Lit, "-"):
				operands++
			}
		}
		return name != "sqlite3" || operands < 2 // sqlite3 DB SQL: runs SQL
	}
	for _, a := range args {
		switch {
		case a.Dynamic:
			return true // cannot tell: as if it did
		case a.Lit == "-i" && strings.HasPrefix(name, "python"):
			return true
		case a.Lit == "-c" || a.Lit == "-m" || a.Lit == "-e" || a.Lit == "-p" || a.Lit == "-E" || a.Lit == "-r" ||
			a.Lit == "--eval" || a.Lit == "--print" || a.Lit == "--version" || a.Lit == "-V" || a.Lit == "--help" || a.Lit == "-h":
			return false
		case !strings.HasPrefix(a.Lit, "-"):
			return false // a program file
		}
	}
	return true
}

// runsInput reports whether program name with args, reading the
// terminal (its stdin not redirected), would run what is typed to it as
// commands: xargs and parallel (each line their command's arguments: `xargs
// sh -c`), an awk program that calls system or a pipe, a sed script with
// GNU sed's e, a one-line program that reads its input and runs commands
// (perl -ne 'system $_', python3 -c 'os.system(input())').
func runsInput(name string, args []models.Word) bool {
	if !inputRunners[name] {
		return false
	}
	code, operands, fromFile := "", 0, false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a.Dynamic:
			return true
		case name == "xargs" && (a.Lit == "-a" || strings.HasPrefix(a.Lit, "--arg-file")):
			return false
		case (name == "awk" || name == "gawk" || name == "mawk" || name == "nawk" || name == "sed") && a.Lit == "-f":
			fromFile = true
			i++
		case a.Lit == "-e" || a.Lit == "-c" || a.Lit == "-E" || a.Lit == "--eval":
			if i+1 < len(args) {
				code += args[i+1].Lit + "\n"
				i++
			}
		case strings.HasPrefix(a.Lit, "-") && len(a.Lit) > 1:
			if (name == "perl" || name == "ruby") && strings.ContainsAny(a.Lit[1:], "e") && i+1 < len(args) {
				code += args[i+1].Lit + "\n" // -ne CODE, -pe CODE
				i++
			}
		case code == "" && !fromFile && (name == "awk" || name == "gawk" || name == "mawk" || name == "nawk" || name == "sed"):
			code = a.Lit
		default:
			operands++
		}
	}
	switch name {
	case "xargs", "parallel":
		return true
	case "awk", "gawk", "mawk", "nawk":
		return operands == 0 && (fromFile || strings.Contains(code, "system") || strings.Contains(code, "|"))
	case "sed":
		return operands == 0 && (fromFile || strings.Contains(code, "e"))
	case "perl", "ruby", "python", "python2", "python3", "node", "nodejs", "php", "lua":
		return operands == 0 && codeReadsInput.MatchString(code) && runsCommands.MatchString(code)
	}
	return false
}

// inputRunners are the programs runsInput looks at.
var inputRunners = map[string]bool{
	"xargs": true, "parallel": true, "awk": true, "gawk": true, "mawk": true, "nawk": true, "sed": true,
	"perl": true, "ruby": true, "python": true, "python2": true, "python3": true, "node": true, "nodejs": true,
	"php": true, "lua": true,
}

var (
	// codeReadsInput is code that reads its standard input.
	codeReadsInput = lazyre.New(`<>|<STDIN>|\$_|gets|STDIN|\$stdin|input\(|sys\.stdin|process\.stdin|readline|fgets|io\.read`)
	// runsCommands is code that runs commands or code.
	runsCommands = lazyre.New("system|exec|eval|popen|spawn|subprocess|child_process|`|qx|shell_exec|passthru|os\\.execute")
)

// shellReadsStdin reports whether a shell given args reads its commands
// from its stdin: -s or - before any operand, and no -c.
func shellReadsStdin(args []models.Word) bool {
	for _, a := range args {
		switch {
		case a.Dynamic:
			return true
		case a.Lit == "-" || a.Lit == "-s":
			return true
		case strings.HasPrefix(a.Lit, "--"):
			continue
		case strings.HasPrefix(a.Lit, "-") || strings.HasPrefix(a.Lit, "+"):
			if strings.ContainsRune(a.Lit, 'c') {
				return false
			}
			if strings.ContainsRune(a.Lit, 's') {
				return true
			}
		default:
			return false // a script
		}
	}
	return false
}

// hasFlag reports whether a short option letter appears among args (as
// -C or in a group such as -tC).
func hasFlag(args []models.Word, letter byte) bool {
	for _, a := range args {
		if a.Dynamic {
			return true
		}
		if a.Lit == "--" {
			return false
		}
		if len(a.Lit) > 1 && a.Lit[0] == '-' && a.Lit[1] != '-' && strings.IndexByte(a.Lit[1:], letter) >= 0 {
			return true
		}
	}
	return false
}

// readsHighFd reports whether read, mapfile or readarray (-u FD) reads a
// descriptor of 10 or more, one only known at run time, or one it cannot
// tell.
func readsHighFd(args []models.Word) bool {
	for i, a := range args {
		if a.Dynamic {
			return true
		}
		if a.Lit == "--" {
			return false
		}
		if len(a.Lit) < 2 || a.Lit[0] != '-' {
			continue
		}
		j := strings.IndexByte(a.Lit[1:], 'u')
		if j < 0 {
			continue
		}
		v := a.Lit[2+j:]
		if v == "" && i+1 < len(args) {
			if args[i+1].Dynamic {
				return true
			}
			v = args[i+1].Lit
		}
		if v == "" || strings.TrimLeft(v, "0123456789") != "" || highFd(v) {
			return true
		}
	}
	return false
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

// TypedLine is the rating of a line typed at a terminal session, whose
// gate lives in the bash that runs the line and reads the terminal
// (shim's interactive sessions): rating (of facts, with Request.Gated)
// raised to high (ruleSessionGate) when the line
//
//   - hands the terminal to a program that runs what is typed to it,
//     which then never reaches the gate as a line: a shell with no
//     command (its prompt looks like the session's), an interpreter with
//     no program (a REPL), an editor or pager with a shell escape.
//
// A file the line sources is rated by what it holds, as in a statement
// session (gateSourced: a project file read and checked for what would
// change the gate; any other held). bash reads it after chaperone has
// decided: only a process already running in the sandbox could change it
// in between, and PS0's check, which the file cannot reach, still drops
// any later line chaperone did not let run.
//
// The statements of a session fed from a pipe, which chaperone hands over
// one at a time with /dev/null as their stdin, need none of this.
func TypedLine(rating models.Rating, facts *models.Facts) models.Rating {
	if facts == nil {
		return rating
	}
	var spans []string
	for _, f := range rating.Findings {
		if f.Rule == ruleShellBare.ID {
			spans = append(spans, f.Span)
		}
	}
	for i := range facts.Commands {
		c := &facts.Commands[i]
		argv := c.Argv
		for len(argv) > 1 && (argv[0].Lit == "builtin" || argv[0].Lit == "command") && !strings.HasPrefix(argv[1].Lit, "-") {
			argv = argv[1:]
		}
		if len(argv) == 0 || argv[0].Dynamic {
			continue
		}
		name := baseName(argv[0].Lit)
		switch {
		case terminalEditors[name],
			replPrograms[name] && c.Stdin == "" && repl(name, argv[1:]),
			parser.IsShell(name) && c.Stdin == "" && shellReadsStdin(argv[1:]),
			c.Stdin == "" && len(c.Via) == 0 && runsInput(name, argv[1:]):
			spans = append(spans, c.Span)
		}
	}
	for _, span := range spans {
		rating.Findings = append(rating.Findings, models.Finding{Rule: ruleSessionGate.ID, Risk: ruleSessionGate.Risk,
			Reason: ruleSessionGate.Reason, Span: span})
		rating.Risk = models.MaxRisk(rating.Risk, ruleSessionGate.Risk)
		rating.Undecided = false
	}
	sort.SliceStable(rating.Findings, func(i, j int) bool { return rating.Findings[i].Risk > rating.Findings[j].Risk })
	return rating
}
