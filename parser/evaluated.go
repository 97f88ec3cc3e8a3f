package parser

import (
	"mvdan.cc/sh/v3/syntax"
)

// What bash evaluates inside an expansion besides the parameter itself:
// an array subscript and a substring's offset and length are arithmetic,
// ${x:-word} and ${x/pattern/word} expand their words. Each may hold a
// command substitution, which runs.

// param walks the parts of the parameter expansion p that bash evaluates
// when it expands it.
func (s *scope) param(p *syntax.ParamExp) {
	if p.Index != nil {
		name := ""
		if p.Param != nil {
			name = p.Param.Value
		}
		s.subscript(name, p.Index)
	}
	if p.Slice != nil {
		s.arith(p.Slice.Offset)
		s.arith(p.Slice.Length)
	}
	if p.Repl != nil {
		walkWord(p.Repl.Orig, s.substWalker)
		walkWord(p.Repl.With, s.substWalker)
	}
	if p.Exp != nil {
		// ${a:-$(cmd)} still runs cmd.
		walkWord(p.Exp.Word, s.substWalker)
	}
}

// subscript walks the subscript x of the array name: an arithmetic
// expression for an indexed array, a word expanded once for an
// associative one. An array not declared associative here is taken as
// indexed, as bash takes it.
func (s *scope) subscript(name string, x syntax.ArithmExpr) {
	if a := s.w.attrs[name]; a != nil && a.assoc == 'A' {
		syntax.Walk(x, s.substWalker)
		return
	}
	s.arith(x)
}

// arith walks the arithmetic expression x (nil is none).
func (s *scope) arith(x syntax.ArithmExpr) {
	if x == nil {
		return
	}
	syntax.Walk(x, s.arithWalker)
}

// arithWalker finds what runs in an arithmetic expression: command and
// process substitutions, and what the parameter expansions in it
// evaluate.
func (s *scope) arithWalker(n syntax.Node) bool {
	switch n := n.(type) {
	case *syntax.CmdSubst, *syntax.ProcSubst:
		return s.substWalker(n)
	case *syntax.ParamExp:
		s.param(n)
		return false
	}
	return true
}

// walkWord walks w, if there is one, with fn.
func walkWord(w *syntax.Word, fn func(syntax.Node) bool) {
	if w != nil {
		syntax.Walk(w, fn)
	}
}
