// Package parser turns a bash command string into facts that the rater
// judges: every simple command wherever it sits, each argv word's literal
// value or that it is dynamic, redirections, assignments, what is piped
// into what, and the commands hidden inside wrappers (sudo, bash -c, xargs,
// find -exec, ssh …) and interpreter one-liners (python -c, awk system()).
// It never runs anything. What it cannot resolve statically is marked
// opaque.
//
// It also recognises the wrappers coding agents put around the command
// their model asked for (Unwrap, wrapper.go, startup.go) and which agent
// started a process (DetectAgent), so that the shim and the approval panel
// find the same inner command in the same text.
package parser

import (
	"strings"
	"sync"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"

	"github.com/chaperone-dev/chaperone/models"
)

// maxDepth bounds how deeply wrappers and nested shell strings are
// followed; anything deeper is opaque.
const maxDepth = 12

// maxCommands bounds the facts kept for one command string; the rest is
// opaque.
const maxCommands = 2000

var parsers = sync.Pool{New: func() any {
	return syntax.NewParser(syntax.Variant(syntax.LangBash))
}}

// Parse reads src as bash and returns what it found. It never returns nil
// and is safe for concurrent use. Text that does not parse gives facts with
// ParseError set and Opaque true; the commands found before the error are
// still listed when possible.
func Parse(src string) *models.Facts { return ParseEnv(src, Env{}) }

type walker struct {
	facts *models.Facts
	// lenientFailed is set when guessed shell text did not parse.
	lenientFailed bool
	// vars holds variables assigned literal values by statements that
	// always run, in order; ambiguous those assigned conditionally, in a
	// loop, by read, or to something dynamic. Expansions of vars are
	// resolved statically (X=rm; $X -rf / is rm).
	vars      map[string]string
	ambiguous map[string]bool
	// cond > 0 while walking code that may not run, or runs in a subshell.
	cond int
	// written maps files this text writes with known content (cat >f
	// <<EOF, echo … >f) to that content, so that running them later in
	// the same text (bash f, ./f, source f) is looked into.
	written map[string]models.Word

	// Static expansion (expand.go). env is the environment the command
	// will see; arrays the indexed arrays assigned literal elements;
	// sourced is set once eval or source may have set any variable.
	env     Env
	arrays  map[string]expand.Variable
	sourced bool
	// attrs are the declare attributes of variables (vars.go).
	attrs map[string]*varAttrs
	moved bool // cd, pushd or popd ran: PWD is no longer Env.Cwd
	senv  staticEnv
	xcfg  *expand.Config
	// substDepth counts command substitutions being evaluated statically.
	substDepth int
	// aliases and funcs are those the text defines, expanded where they
	// are used; frames the positional parameters of the function calls
	// being walked; expanding the aliases and functions being expanded
	// (not again inside themselves), and the values being walked as code
	// (evaluated.go); expanded the bytes walked so.
	aliases   map[string]string
	funcs     map[string]funcDef
	frames    []frame
	expanding map[string]bool
	expanded  int

	// cwd is where the shell being walked is now, and dirs[i] where
	// facts.Commands[i] runs (cwd.go); loops counts the loops being
	// walked, whose later rounds may start elsewhere; alts are where the
	// shell may be instead, after a && or || whose right side did not
	// run, until the statement ends.
	cwd   cwdState
	dirs  []Dir
	loops int
	alts  []cwdState

	// What child processes see (childenv.go): the variables exported,
	// or all of them after set -a; envs what a command inside wrappers
	// gets from them; cleared the env -i commands, with how many of
	// their assignments came before the -i.
	exported  map[string]bool
	allExport bool
	envs      map[int]cmdEnv
	cleared   map[int]int
}

// lookup returns the static value of a variable, if it has one.
func (w *walker) lookup(name string) (string, bool) {
	for range maxRefs {
		v, ok := w.value(name)
		if !ok {
			return "", false
		}
		switch v.Kind {
		case expand.String:
			return v.Str, true
		case expand.NameRef:
			name = v.Str
			continue
		}
		return "", false
	}
	return "", false
}

func (w *walker) opaque(reason string) {
	w.facts.Opaque = true
	for _, r := range w.facts.OpaqueReasons {
		if r == reason {
			return
		}
	}
	w.facts.OpaqueReasons = append(w.facts.OpaqueReasons, reason)
}

// parseShell parses src as a shell program found inside the wrappers via
// and adds its commands. It returns the index of the first and one past
// the last command added.
func (w *walker) parseShell(src string, via []string, depth int, strict bool) (int, int) {
	start := len(w.facts.Commands)
	if depth > maxDepth {
		w.opaque("nested too deeply")
		return start, start
	}
	p := parsers.Get().(*syntax.Parser)
	file, err := p.Parse(strings.NewReader(src), "")
	parsers.Put(p)
	if err != nil {
		if !strict {
			// Text guessed out of another language, or code of a shell
			// that is not bash.
			w.lenientFailed = true
			return start, start
		}
		if w.facts.ParseError == "" {
			w.facts.ParseError = err.Error()
		}
		w.opaque("does not parse as bash: " + err.Error())
		return start, start
	}
	sc := &scope{w: w, src: src, via: via, depth: depth}
	sc.stmts(file.Stmts, -1)
	return start, len(w.facts.Commands)
}

// scope walks one parsed source text.
type scope struct {
	w     *walker
	src   string
	via   []string
	depth int
}

func (s *scope) span(n syntax.Node) string {
	a, b := int(n.Pos().Offset()), int(n.End().Offset())
	if a < 0 || b > len(s.src) || a > b {
		return ""
	}
	return s.src[a:b]
}

// stmtSpan is a statement's text without its terminator (";", "&").
func (s *scope) stmtSpan(st *syntax.Stmt) string {
	return strings.TrimRight(s.span(st), "; &|\t\n")
}

func (s *scope) stmts(list []*syntax.Stmt, pipeFrom int) {
	for _, st := range list {
		s.stmt(st, pipeFrom)
	}
}

// stmt walks one statement; pipeFrom is the command feeding its stdin.
// What follows it runs from where any way through it left (cwd.go).
func (s *scope) stmt(st *syntax.Stmt, pipeFrom int) {
	mark := len(s.w.alts)
	s.stmtOnly(st, pipeFrom)
	for _, a := range s.w.alts[mark:] {
		s.w.joinHere(a)
	}
	s.w.alts = s.w.alts[:mark]
}

// stmtOnly is stmt that leaves the folders that a failed && or || left
// in w.alts: the right side of && runs only where the left one
// succeeded.
func (s *scope) stmtOnly(st *syntax.Stmt, pipeFrom int) {
	if st == nil {
		return
	}
	first := len(s.w.facts.Commands)
	redirs, stdin := s.redirs(st.Redirs)
	if st.Background || st.Coprocess {
		// It runs in a subshell: its cd stays there.
		s.w.cond++
		here, mark := s.w.here(), len(s.w.alts)
		defer func() { s.w.cond--; s.w.setHere(here); s.w.alts = s.w.alts[:mark] }()
	}
	s.command(st.Cmd, pipeFrom, st)
	// Redirections on a compound statement apply to all of it; on a simple
	// command they were attached by command().
	if _, simple := st.Cmd.(*syntax.CallExpr); !simple || st.Cmd == nil {
		if len(redirs) > 0 {
			if first == len(s.w.facts.Commands) {
				// A bare redirection (`> file`) is a command of its own.
				s.add(models.Command{Redirs: redirs, PipeFrom: -1, Span: s.stmtSpan(st), Stdin: stdin})
			} else {
				for i := first; i < len(s.w.facts.Commands); i++ {
					c := &s.w.facts.Commands[i]
					c.Redirs = append(c.Redirs, redirs...)
					if stdin != "" && c.Stdin == "" {
						c.Stdin = stdin
					}
				}
			}
		}
	}
	if st.Background {
		for i := first; i < len(s.w.facts.Commands); i++ {
			s.w.facts.Commands[i].Background = true
		}
	}
}

func (s *scope) add(c models.Command) int {
	if len(s.w.facts.Commands) >= maxCommands {
		s.w.opaque("too many commands")
		return -1
	}
	if c.Via == nil && len(s.via) > 0 {
		c.Via = s.via
	}
	c.Depth += s.depth
	s.w.facts.Commands = append(s.w.facts.Commands, c)
	s.w.dirs = append(s.w.dirs, s.w.here().cur)
	return len(s.w.facts.Commands) - 1
}

func (s *scope) command(cmd syntax.Command, pipeFrom int, st *syntax.Stmt) {
	switch c := cmd.(type) {
	case nil:
	case *syntax.CallExpr:
		s.call(c, st, pipeFrom)
	case *syntax.BinaryCmd:
		if c.Op == syntax.Pipe || c.Op == syntax.PipeAll {
			// Each side of a pipe runs in a subshell: a cd there moves
			// neither the other side nor what follows.
			s.w.cond++
			here := s.w.here()
			defer func() { s.w.cond--; s.w.setHere(here) }()
			s.stmt(c.X, pipeFrom)
			s.w.setHere(here)
			last := len(s.w.facts.Commands) - 1
			start := len(s.w.facts.Commands)
			s.stmt(c.Y, last)
			// Every command of the right side that is not inside a
			// substitution may read the pipe.
			for i := start; i < len(s.w.facts.Commands); i++ {
				cm := &s.w.facts.Commands[i]
				if cm.Depth == s.depth && cm.PipeFrom < 0 && cm.Stdin == "" {
					cm.PipeFrom = last
					cm.Stdin = "pipe"
				}
			}
			return
		}
		s.stmtOnly(c.X, pipeFrom)
		s.w.cond++ // the right side of && and || may not run
		s.w.alts = append(s.w.alts, s.w.here())
		s.stmtOnly(c.Y, pipeFrom)
		s.w.cond--
	case *syntax.Subshell:
		s.w.cond++
		here := s.w.here()
		s.stmts(c.Stmts, pipeFrom)
		s.w.setHere(here)
		s.w.cond--
	case *syntax.Block:
		s.stmts(c.Stmts, pipeFrom)
	case *syntax.IfClause:
		s.w.cond++
		// Each branch runs from where its condition left; what follows
		// from where any branch, or the last failed condition, left.
		var ends []cwdState
		for ic := c; ic != nil; ic = ic.Else {
			s.stmts(ic.Cond, pipeFrom)
			failed := s.w.here()
			s.stmts(ic.Then, pipeFrom)
			ends = append(ends, s.w.here())
			s.w.setHere(failed)
		}
		for _, e := range ends {
			s.w.joinHere(e)
		}
		s.w.cond--
	case *syntax.WhileClause:
		s.w.cond++
		s.w.loopAssigns(c)
		first, here := s.w.loop()
		s.stmts(c.Cond, pipeFrom)
		s.stmts(c.Do, pipeFrom)
		s.w.endLoop(first, here)
		s.w.cond--
	case *syntax.ForClause:
		s.w.cond++
		s.w.loopAssigns(c)
		first, here := s.w.loop()
		switch l := c.Loop.(type) {
		case *syntax.WordIter:
			if l.Name != nil {
				s.w.unknownVar(l.Name.Value)
			}
			for _, it := range l.Items {
				s.word(it)
			}
		case *syntax.CStyleLoop:
			s.arith(l.Init)
			s.arith(l.Cond)
			s.arith(l.Post)
		}
		s.stmts(c.Do, pipeFrom)
		s.w.endLoop(first, here)
		s.w.cond--
	case *syntax.CaseClause:
		s.word(c.Word)
		s.w.cond++
		for _, it := range c.Items {
			// Each pattern is expanded until one matches.
			for _, p := range it.Patterns {
				s.word(p)
			}
		}
		// Like an if: no item may match; after ;& or ;;& the next item
		// runs from where the last one left, or matches on its own.
		here := s.w.here()
		var ends []cwdState
		for i, it := range c.Items {
			if i == 0 || c.Items[i-1].Op != syntax.Fallthrough && c.Items[i-1].Op != syntax.Resume {
				s.w.setHere(here)
			} else {
				s.w.joinHere(here)
			}
			s.stmts(it.Stmts, pipeFrom)
			ends = append(ends, s.w.here())
		}
		s.w.setHere(here)
		for _, e := range ends {
			s.w.joinHere(e)
		}
		s.w.cond--
	case *syntax.FuncDecl:
		if c.Name != nil {
			s.w.facts.Functions = append(s.w.facts.Functions, c.Name.Value)
			if s.w.funcs == nil {
				s.w.funcs = map[string]funcDef{}
			}
			s.w.funcs[c.Name.Value] = funcDef{body: c.Body, src: s.src}
		}
		// Where it is defined, the body's parameters are unknown; where
		// it is called, it is walked again with the call's arguments.
		// A cd in the body moves the shell where the function is called,
		// not here.
		s.w.frames = append(s.w.frames, frame{unknown: true})
		s.w.cond++
		here := s.w.here()
		s.stmt(c.Body, -1)
		s.w.setHere(here)
		s.w.cond--
		s.w.frames = s.w.frames[:len(s.w.frames)-1]
	case *syntax.TimeClause:
		s.stmt(c.Stmt, pipeFrom)
	case *syntax.CoprocClause:
		s.w.cond++
		here := s.w.here()
		s.stmt(c.Stmt, pipeFrom)
		s.w.setHere(here)
		s.w.cond--
	case *syntax.TestClause:
		s.testExpr(c.X)
	case *syntax.DeclClause:
		var assigns []models.Assign
		argv := []models.Word{{Lit: c.Variant.Value}}
		fl := declFlags{known: true, variant: c.Variant.Value}
		named := false
		for _, a := range c.Args {
			if a.Name == nil {
				if a.Value != nil {
					argv = append(argv, s.word(a.Value))
					// declare 'a[$(cmd)]=v'
					s.namedElement(c.Variant.Value, argv[len(argv)-1])
					if !named {
						fl.add(c.Variant.Value, a.Value)
					} else if a.Value.Lit() == "" {
						// declare x=1 "$y": may set any variable.
						s.w.invalidateAll()
					}
				}
				continue
			}
			named = true
			as := s.assign(a)
			assigns = append(assigns, as)
			s.integerValue(a, as, fl.has('i'))
			s.promptVar(as)
			if fl.has('n') {
				// declare -n r='a[$(cmd)]': evaluated where r is used.
				s.namedElement("declare -n", as.Value)
			}
			s.declare(a, as, fl)
		}
		redirs, stdin := s.redirs(st.Redirs)
		s.add(models.Command{Argv: argv, Assigns: assigns, Redirs: redirs, PipeFrom: pipeFrom, Span: s.stmtSpan(st), Stdin: stdinOf(stdin, pipeFrom)})
	case *syntax.ArithmCmd:
		s.arith(c.X)
	case *syntax.LetClause:
		for _, x := range c.Exprs {
			s.arith(x)
		}
	default:
		// Unknown node kinds (zsh or newer syntax): look for commands in
		// substitutions and say we could not follow it.
		syntax.Walk(c, s.substWalker)
	}
}

func stdinOf(stdin string, pipeFrom int) string {
	if stdin != "" {
		return stdin
	}
	if pipeFrom >= 0 {
		return "pipe"
	}
	return ""
}

// substWalker finds command and process substitutions anywhere in a node,
// and what the expansions there evaluate (evaluated.go).
func (s *scope) substWalker(n syntax.Node) bool {
	switch n := n.(type) {
	case *syntax.CmdSubst:
		s.nested(n.Stmts)
		return false
	case *syntax.ProcSubst:
		s.nested(n.Stmts)
		return false
	case *syntax.ParamExp:
		s.param(n)
		return false
	case *syntax.ArithmExp:
		s.arith(n.X)
		return false
	}
	return true
}

func (s *scope) nested(list []*syntax.Stmt) (int, int) {
	start := len(s.w.facts.Commands)
	inner := &scope{w: s.w, src: s.src, via: s.via, depth: s.depth + 1}
	if inner.depth > maxDepth {
		s.w.opaque("nested too deeply")
		return start, start
	}
	// A substitution runs in a subshell.
	here := s.w.here()
	inner.stmts(list, -1)
	s.w.setHere(here)
	return start, len(s.w.facts.Commands)
}

func (s *scope) testExpr(x syntax.TestExpr) {
	switch x := x.(type) {
	case *syntax.BinaryTest:
		if arithOp(x.Op) {
			s.arithOperand(x.X)
			s.arithOperand(x.Y)
			return
		}
		s.testExpr(x.X)
		s.testExpr(x.Y)
	case *syntax.UnaryTest:
		if w, ok := x.X.(*syntax.Word); ok && x.Op == syntax.TsVarSet {
			// [[ -v 'a[$(cmd)]' ]]
			s.namedElement("[[ -v ]]", s.word(w))
			return
		}
		s.testExpr(x.X)
	case *syntax.ParenTest:
		s.testExpr(x.X)
	case *syntax.Word:
		s.word(x)
	}
}

func (s *scope) assign(a *syntax.Assign) models.Assign {
	as := models.Assign{}
	if a.Name != nil {
		as.Name = a.Name.Value
	}
	if a.Index != nil {
		// a[i]=v: the subscript is evaluated too.
		s.subscript(as.Name, a.Index)
	}
	switch {
	case a.Value != nil:
		as.Value = s.word(a.Value)
	case a.Array != nil:
		var parts []string
		for _, e := range a.Array.Elems {
			if e.Index != nil {
				s.subscript(as.Name, e.Index)
			}
			if e.Value == nil {
				continue
			}
			v := s.word(e.Value)
			parts = append(parts, v.Lit)
			if v.Dynamic {
				as.Value.Dynamic = true
			}
			as.Value.Subst = append(as.Value.Subst, v.Subst...)
		}
		as.Value.Lit = "(" + strings.Join(parts, " ") + ")"
	}
	return as
}

func (s *scope) redirs(list []*syntax.Redirect) ([]models.Redir, string) {
	var out []models.Redir
	stdin := ""
	for _, r := range list {
		rd := models.Redir{Op: r.Op.String()}
		if r.N != nil {
			rd.Fd = r.N.Value
		}
		switch {
		case r.Hdoc != nil:
			rd.Target = s.word(r.Hdoc)
			stdin = "heredoc"
		case r.Word != nil:
			rd.Target = s.word(r.Word)
		}
		switch r.Op {
		case syntax.RdrIn, syntax.RdrInOut:
			if rd.Fd == "" || rd.Fd == "0" {
				stdin = "file"
				if rd.Target.ProcSubst {
					stdin = "subst"
				}
			}
		case syntax.WordHdoc:
			stdin = "heredoc"
		}
		out = append(out, rd)
	}
	return out, stdin
}

func (s *scope) call(c *syntax.CallExpr, st *syntax.Stmt, pipeFrom int) {
	if s.alias(c, st) {
		return
	}
	cmd := models.Command{PipeFrom: pipeFrom, Span: s.stmtSpan(st)}
	for _, a := range c.Assigns {
		as := s.assign(a)
		cmd.Assigns = append(cmd.Assigns, as)
		s.integerValue(a, as, false)
		s.promptVar(as)
		if len(c.Args) == 0 {
			// X=y alone sets a shell variable; X=y cmd only cmd's env.
			s.setAssign(a, as)
		}
	}
	cmd.Argv = make([]models.Word, 0, len(c.Args))
	for _, a := range c.Args {
		cmd.Argv = s.appendFields(cmd.Argv, a)
	}
	s.varEffects(cmd.Argv)
	s.builtinElements(cmd.Argv)
	redirs, stdin := s.redirs(st.Redirs)
	cmd.Redirs = redirs
	cmd.Stdin = stdinOf(stdin, pipeFrom)
	if len(cmd.Argv) > 0 && cmd.Argv[0].Dynamic {
		s.w.opaque("the command name is built at run time: " + cmd.Argv[0].Lit)
	} else if len(cmd.Argv) > 0 && len(cmd.Argv[0].Subst) > 0 {
		// Evaluated statically, but still the output of a command.
		s.w.opaque("the command name is the output of a command: " + cmd.Argv[0].Lit)
	}
	idx := s.add(cmd)
	if idx < 0 {
		return
	}
	s.noteWritten(idx)
	s.noteAlias(idx)
	s.callFunc(idx, c)
	if len(cmd.Argv) > 0 {
		if body, ok := s.w.written[cleanRel(cmd.Argv[0].Lit)]; ok && strings.Contains(cmd.Argv[0].Lit, "/") {
			// ./script.sh written a moment ago.
			s.shellCode(idx, "script "+cmd.Argv[0].Lit, body, false)
		}
		s.unwrap(idx)
		if _, ok := s.w.funcs[cmd.Argv[0].Lit]; !ok {
			s.chdir(idx)
		}
	}
}

// noteWritten remembers what Commands[idx] writes to a file when the
// content is known: cat/tee from a here-document, echo or printf.
func (s *scope) noteWritten(idx int) {
	c := &s.w.facts.Commands[idx]
	name := c.Name()
	var body models.Word
	switch name {
	case "cat", "tee":
		w, ok := StdinCode(s.w.facts, idx)
		if !ok {
			return
		}
		body = w
		if name == "tee" {
			for _, a := range c.Argv[1:] {
				if !strings.HasPrefix(a.Lit, "-") {
					s.remember(a.Lit, body)
				}
			}
			return
		}
	case "echo", "printf":
		var parts []string
		for _, a := range c.Argv[1:] {
			parts = append(parts, a.Lit)
			body.Dynamic = body.Dynamic || a.Dynamic
		}
		body.Lit = DecodeANSIC(strings.Join(parts, " "))
	default:
		return
	}
	for _, r := range c.Redirs {
		if r.Op == ">" || r.Op == ">>" || r.Op == ">|" {
			s.remember(r.Target.Lit, body)
		}
	}
}

func (s *scope) remember(file string, body models.Word) {
	if s.w.written == nil {
		s.w.written = map[string]models.Word{}
	}
	file = cleanRel(file)
	if prev, ok := s.w.written[file]; ok {
		body.Lit = prev.Lit + "\n" + body.Lit
	}
	s.w.written[file] = body
}

// cleanRel drops a leading "./" so that "x.sh" and "./x.sh" are one file.
func cleanRel(p string) string { return strings.TrimPrefix(p, "./") }

// varEffects marks the variables that a builtin sets at run time (read,
// mapfile, getopts, printf -v, unset …) as no longer statically known;
// eval and source may set anything.
func (s *scope) varEffects(argv []models.Word) {
	if len(argv) == 0 {
		return
	}
	switch argv[0].Lit {
	case "read", "readarray", "mapfile", "getopts", "unset", "printf", "let", "export", "declare", "typeset", "local", "readonly":
		for _, a := range argv[1:] {
			name, _, _ := strings.Cut(a.Lit, "=")
			if isName(name) {
				s.w.unknownVar(name)
				if argv[0].Lit == "export" {
					// builtin export x: x may be exported.
					s.w.export(name, true)
				}
			}
		}
	case "eval", "source", ".":
		s.w.invalidateAll()
	case "cd", "pushd", "popd":
		// PWD and OLDPWD change (see value).
		s.w.moved = true
	case "shift", "set":
		if argv[0].Lit == "set" {
			s.w.setAllExport(argv)
		}
		if n := len(s.w.frames); n > 0 {
			s.w.frames[n-1].unknown = true
		}
	}
}

func isName(n string) bool {
	if n == "" {
		return false
	}
	for i, r := range n {
		if r != '_' && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}
