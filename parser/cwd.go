package parser

import (
	"cmp"
	"path"
	"slices"
	"strings"

	"github.com/chaperone-dev/chaperone/models"
)

// Dir lists the folders a command may run in, as the cd, pushd and popd
// of the text that run before it leave them (bash's rules: a subshell, a
// pipeline's element, a command substitution or a function's definition
// keep theirs to themselves; an if, a case, a loop or && and || may or
// may not have moved). Each entry is one of:
//
//   - "." : the folder the text starts in (Env.Cwd);
//   - a relative path: that path from the folder the text starts in
//     ("sub", "../..");
//   - an absolute path, or one under the home folder ("~/.ssh"), when
//     Env.Home is not known;
//   - "" : a folder only known at run time (cd "$X", cd -, popd …).
//
// It is never empty; a command no cd reached has Dir{"."}.
type Dir []string

// Moved reports whether the command may run elsewhere than where the
// text starts.
func (d Dir) Moved() bool { return len(d) != 1 || d[0] != "." }

// maxDirs bounds the folders one command may run in that are told apart;
// past it, the rest is "only known at run time".
const maxDirs = 16

// startDir is where every text starts.
var startDir = Dir{"."}

// unknownDir is a folder only known at run time.
var unknownDir = Dir{""}

// ParseWhere is ParseEnv that also tells where each command runs:
// dirs[i] is the folder of facts.Commands[i], for resolving its relative
// paths as bash will (`cd /etc; cat shadow` reads /etc/shadow).
func ParseWhere(src string, env Env) (*models.Facts, []Dir) {
	f := &models.Facts{Commands: make([]models.Command, 0, 8)}
	w := &walker{facts: f, env: env, dirs: make([]Dir, 0, 8)}
	w.parseShell(src, nil, 0, true)
	return f, w.dirs
}

// cwdState is the working folder of the shell being walked.
type cwdState struct {
	cur Dir
	// old is OLDPWD, for cd -; stack is the pushd stack, top last. Both
	// are only what the text itself set: an empty stack may hold what the
	// shell pushed before.
	old   Dir
	stack []Dir
}

// here returns the walker's working folder state, set up on first use.
func (w *walker) here() cwdState {
	if w.cwd.cur == nil {
		w.cwd = cwdState{cur: startDir, old: unknownDir}
	}
	return w.cwd
}

// setHere makes st the walker's working folder state.
func (w *walker) setHere(st cwdState) { w.cwd = st }

// joinHere makes the working folder state what either st or the current
// one holds: the shell may have taken either way to here.
func (w *walker) joinHere(st cwdState) {
	cur := w.here()
	out := cwdState{cur: unionDir(cur.cur, st.cur), old: unionDir(cur.old, st.old)}
	if len(cur.stack) == len(st.stack) {
		out.stack = make([]Dir, len(st.stack))
		for i := range st.stack {
			out.stack[i] = unionDir(cur.stack[i], st.stack[i])
		}
	}
	// Stacks of different heights: what popd returns to is unknown,
	// which an empty stack already says.
	w.cwd = out
}

// loseHere adds "only known at run time" to the folders the commands
// from first on may run in and to the current one: a loop's body that
// moved runs again from where its last round left.
func (w *walker) loseHere(first int) {
	for i := first; i < len(w.dirs); i++ {
		w.dirs[i] = unionDir(w.dirs[i], unknownDir)
	}
	st := w.here()
	st.cur = unionDir(st.cur, unknownDir)
	w.cwd = st
}

// unionDir is the folders of a and b, without repeats, at most maxDirs.
func unionDir(a, b Dir) Dir {
	if slices.Equal(a, b) {
		return a
	}
	out := make(Dir, 0, len(a)+len(b))
	for _, d := range slices.Concat(a, b) {
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	if len(out) > maxDirs {
		out = out[:maxDirs-1]
		if !slices.Contains(out, "") {
			out = append(out, "")
		}
	}
	return out
}

// moveTo is where cd TARGET goes from each folder of from; cdpath holds
// the folders CDPATH names (nil when it is not set).
func (w *walker) moveTo(from Dir, target string, cdpath []string) Dir {
	t := w.dirWord(target)
	if t == "" {
		return unknownDir
	}
	if isAbsDir(t) {
		return Dir{t}
	}
	var out Dir
	if cdpath != nil && !strings.HasPrefix(t, "./") && !strings.HasPrefix(t, "../") && t != "." && t != ".." {
		// bash looks in each CDPATH folder first, then here.
		for _, p := range cdpath {
			out = unionDir(out, w.moveTo(from, path.Join(cmp.Or(p, "."), t), nil))
		}
	}
	for _, f := range from {
		d := ""
		if f != "" {
			d = path.Join(f, t)
		}
		out = unionDir(out, Dir{d})
	}
	return out
}

// dirWord rewrites a cd target as a Dir entry: the home folder's
// tilde resolved when Env.Home is known, ~user as expand reads it, ""
// when it names nothing statically known.
func (w *walker) dirWord(t string) string {
	if !strings.HasPrefix(t, "~") {
		return t
	}
	user, rest, _ := strings.Cut(t[1:], "/")
	home := "~"
	switch {
	case user == "root":
		home = "/root"
	case user != "":
		home = "/home/" + user
	case w.env.Home != "" && strings.HasPrefix(w.env.Home, "/"):
		home = w.env.Home
	}
	return path.Join(home, rest)
}

func isAbsDir(d string) bool { return strings.HasPrefix(d, "/") || strings.HasPrefix(d, "~") }

// cdPath is CDPATH's folders when the text set it, nil when it did not
// (taken to be unset, as it nearly always is), and {""} when it set it
// to something only known at run time.
func (w *walker) cdPath() []string {
	if v, ok := w.lookup("CDPATH"); ok {
		if v == "" {
			return nil
		}
		return strings.Split(v, ":")
	}
	if w.ambiguous["CDPATH"] || w.sourced {
		return []string{""}
	}
	return nil
}

// chdir follows a cd, pushd or popd that Commands[idx] runs in the shell
// being walked (also as builtin cd or command cd).
func (s *scope) chdir(idx int) {
	w := s.w
	argv := w.facts.Commands[idx].Argv
	for len(argv) > 0 && !argv[0].Dynamic && (argv[0].Lit == "builtin" || argv[0].Lit == "command") {
		argv = argv[1:]
	}
	if len(argv) == 0 || argv[0].Dynamic {
		return
	}
	name := argv[0].Lit
	if name != "cd" && name != "pushd" && name != "popd" {
		return
	}
	st := w.here()
	// Options: cd's -L, -P, -e and -@; pushd's and popd's -n, +N and -N.
	var ops []models.Word
	noChange, rotate := false, false
	dashes := false
	for _, a := range argv[1:] {
		switch {
		case dashes || a.Dynamic || a.Lit == "-" || a.Lit == "+" || !strings.HasPrefix(a.Lit, "-") && (name == "cd" || !strings.HasPrefix(a.Lit, "+")):
			// Options end at the first operand.
			ops = append(ops, a)
			dashes = true
		case a.Lit == "--":
			dashes = true
		case name != "cd" && isDigits(a.Lit[1:]):
			rotate = true
		case name != "cd" && a.Lit == "-n":
			noChange = true
		case strings.Trim(a.Lit[1:], "LPe@") == "" && name == "cd":
		default:
			// An option bash does not know: the builtin fails.
			return
		}
	}
	next := st
	next.old = st.cur
	switch {
	case rotate:
		next.cur, next.stack = unknownDir, nil
	case name == "popd":
		if noChange {
			next = st
			next.stack = nil
			break
		}
		if n := len(st.stack); n > 0 {
			next.cur, next.stack = st.stack[n-1], st.stack[:n-1:n-1]
		} else {
			next.cur = unknownDir
		}
	case name == "pushd" && len(ops) == 0:
		// Swaps the top two folders.
		if n := len(st.stack); n > 0 {
			next.cur = st.stack[n-1]
			next.stack = append(st.stack[:n-1:n-1], st.cur)
		} else {
			next.cur = unknownDir
		}
	default:
		var to Dir
		switch {
		case len(ops) == 0:
			to = Dir{w.dirWord("~")}
			if h, ok := w.lookup("HOME"); ok && strings.HasPrefix(h, "/") {
				to = Dir{path.Clean(h)}
			}
		case ops[0].Dynamic || ops[0].Glob:
			to = unknownDir
		case ops[0].Lit == "":
			// cd "" stays where it is.
			return
		case ops[0].Lit == "-" && name == "cd":
			to = st.old
		default:
			to = w.moveTo(st.cur, ops[0].Lit, w.cdPath())
		}
		if len(ops) > 1 {
			// bash 5 refuses more than one folder; older ones (macOS's
			// 3.2) go to the first.
			to = unionDir(st.cur, to)
		}
		switch {
		case name == "cd":
			next.cur = to
		case noChange:
			next = st
			next.stack = append(st.stack[:len(st.stack):len(st.stack)], to)
		default:
			next.cur = to
			next.stack = append(st.stack[:len(st.stack):len(st.stack)], st.cur)
		}
	}
	w.setHere(next)
}

// pwd is PWD's static value, if the text moved to one known folder.
func (w *walker) pwd() (string, bool) {
	cur := w.here().cur
	if len(cur) != 1 {
		return "", false
	}
	d := cur[0]
	switch {
	case strings.HasPrefix(d, "/"):
		return d, true
	case d != "" && !strings.HasPrefix(d, "~") && strings.HasPrefix(w.env.Cwd, "/"):
		return path.Join(w.env.Cwd, d), true
	}
	return "", false
}

// loop starts walking a loop: it returns the first command the loop will
// add and where the shell is before it.
func (w *walker) loop() (int, cwdState) {
	w.loops++
	return len(w.facts.Commands), w.here()
}

// endLoop ends walking a loop started by loop: a loop whose round moved
// starts its later rounds elsewhere, so its commands may run in a folder
// only known at run time; after it, the shell is where it was before, or
// where any round left.
func (w *walker) endLoop(first int, before cwdState) {
	w.loops--
	if after := w.here(); !slices.Equal(after.cur, before.cur) || len(after.stack) != len(before.stack) {
		w.loseHere(first)
	}
	w.joinHere(before)
}
