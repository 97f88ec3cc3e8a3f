package parser

import (
	"sort"
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"

	"github.com/chaperone-dev/chaperone/models"
)

// What bash evaluates inside an expansion besides the parameter itself:
// an array subscript and a substring's offset and length are arithmetic,
// ${x:-word} and ${x/pattern/word} expand their words. Each may hold a
// command substitution, which runs.
//
// Bash also evaluates some values as code, which the text only shows as
// a variable's name:
//
//   - ${x@P} reads x's value as a prompt string, and with promptvars (on
//     by default) expands it as if it stood inside double quotes: a
//     command substitution in it runs.
//   - Arithmetic reads the value of a variable it names ($((x)), [[ $x
//     -eq 0 ]], x in a subscript …) as an arithmetic expression in turn,
//     and an array subscript there is expanded: x='a[$(cmd)]' runs cmd.
//
// Where the value was assigned earlier in the text, it is walked as code
// this shell runs, as eval of a known string is (scope.evaluate). A
// prompt whose value is only known at run time is opaque; arithmetic on
// such a value is left alone (see arithName).

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
	if p.Excl && p.Param != nil && p.Index == nil && p.Names == 0 {
		// ${!r} with r='a[$(cmd)]': the element's subscript is evaluated.
		if v, ok := s.w.lookup(p.Param.Value); ok && elementName(v) {
			s.arithText("${!"+p.Param.Value+"}", v)
		}
	}
	if isPrompt(p) {
		s.prompt(p)
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
		if plainParam(n) {
			// $x: its value is read as an expression too.
			s.arithName(n.Param.Value)
		} else if elem := elementRef(n); elem != "" {
			// a[0]: so is an element's.
			s.arithName(elem)
		}
		return false
	case *syntax.Word:
		if name := n.Lit(); isName(name) {
			s.arithName(name)
		} else if hasQuotes(n) {
			// let "y = x + 1": the quotes' text is an expression in turn.
			if v, ok := s.w.expandLiteral(n); ok {
				s.arithText("arithmetic", v)
			}
		}
	}
	return true
}

// hasQuotes reports whether w has a quoted part.
func hasQuotes(w *syntax.Word) bool {
	for _, p := range w.Parts {
		switch p.(type) {
		case *syntax.DblQuoted, *syntax.SglQuoted:
			return true
		}
	}
	return false
}

// plainParam reports whether p is $x or ${x}, with nothing done to the
// value.
func plainParam(p *syntax.ParamExp) bool {
	return p.Param != nil && p.Index == nil && p.Slice == nil && p.Repl == nil && p.Exp == nil &&
		!p.Excl && !p.Length && p.Names == 0
}

// elementRef is the element that p reads, NAME[SUB], when p does nothing
// else and SUB is a literal; "" when not.
func elementRef(p *syntax.ParamExp) string {
	sub, ok := p.Index.(*syntax.Word)
	if !ok || sub.Lit() == "" || p.Param == nil || p.Slice != nil || p.Repl != nil || p.Exp != nil ||
		p.Excl || p.Length || p.Names != 0 {
		return ""
	}
	return p.Param.Value + "[" + sub.Lit() + "]"
}

// arithName follows the variable name used in arithmetic: bash reads its
// value as an arithmetic expression. A value only known at run time is
// left alone, not opaque: every counter of a loop ((( i < n ))) would
// be held otherwise.
func (s *scope) arithName(name string) {
	v, ok := s.w.lookup(name)
	if !ok {
		return
	}
	s.arithText("arithmetic "+name, v)
}

// arithText walks text, known statically, as the arithmetic expression
// bash reads it as (label says where).
func (s *scope) arithText(label, text string) {
	if !mayName(text) {
		// A number: nothing to expand or follow.
		return
	}
	inner, ok := s.evaluate(label, text)
	if !ok {
		return
	}
	defer s.leave(label, text)
	p := parsers.Get().(*syntax.Parser)
	x, err := p.Arithmetic(strings.NewReader(text))
	parsers.Put(p)
	if err != nil {
		if strings.Contains(text, "$(") || strings.Contains(text, "`") {
			s.w.opaque(label + " evaluates a value that does not parse as arithmetic: " + text)
		}
		return
	}
	// A $(cmd) in the value outside a subscript is not run by bash (the
	// value is not expanded, only read); walking it too is never lower.
	inner.arith(x)
}

// mayName reports whether an arithmetic expression may expand or name
// something: it has a letter, an underscore, a $ or a backtick (a number
// has none but for hexadecimal digits and bases, which cost a parse).
func mayName(text string) bool {
	for _, r := range text {
		if r == '_' || r == '$' || r == '`' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return true
		}
	}
	return false
}

// arithOp reports whether a [[ ]] operator compares its operands as
// arithmetic expressions.
func arithOp(op syntax.BinTestOperator) bool {
	switch op {
	case syntax.TsEql, syntax.TsNeq, syntax.TsLss, syntax.TsLeq, syntax.TsGtr, syntax.TsGeq:
		return true
	}
	return false
}

// arithOperand walks an operand of [[ A -eq B ]]: the word is expanded,
// then read as an arithmetic expression.
func (s *scope) arithOperand(x syntax.TestExpr) {
	w, ok := x.(*syntax.Word)
	if !ok {
		s.testExpr(x)
		return
	}
	v := s.word(w)
	if !v.Dynamic {
		s.arithText("[[ ]] arithmetic", v.Lit)
	}
}

// integerValue follows the value a assigns (as it was expanded, as) when
// the variable is an integer one (declare -i, or declared here when
// declared is true): bash evaluates it as arithmetic.
func (s *scope) integerValue(a *syntax.Assign, as models.Assign, declared bool) {
	if a.Array != nil || a.Naked || as.Value.Dynamic {
		// Elements, and values only known at run time, are left as
		// arithmetic on them is.
		return
	}
	if at := s.w.attrs[as.Name]; !declared && (at == nil || !at.integer) {
		return
	}
	s.arithText("integer "+as.Name, as.Value.Lit)
}

// isPrompt reports whether p is a prompt expansion, ${x@P}.
func isPrompt(p *syntax.ParamExp) bool {
	return p.Exp != nil && p.Exp.Op == syntax.OtherParamOps && p.Exp.Word != nil && p.Exp.Word.Lit() == "P"
}

// prompt walks the value that the prompt expansion p reads, as the inside
// of a double-quoted string, when it is known; it is opaque when not.
func (s *scope) prompt(p *syntax.ParamExp) {
	name := "?"
	if p.Param != nil {
		name = p.Param.Value
	}
	if p.Excl {
		name = "!" + name
	}
	label := "${" + name + "@P}"
	v, ok := s.promptValue(p)
	if !ok {
		s.w.opaque(label + " runs what a value only known at run time holds")
		return
	}
	s.promptText(label, v)
}

// promptVar walks a value assigned to a prompt variable as the prompt it
// is: bash expands PS4 before each line that set -x traces, PS0, PS1
// and PS2 at an interactive shell's prompt.
func (s *scope) promptVar(as models.Assign) {
	switch as.Name {
	case "PS0", "PS1", "PS2", "PS4":
	default:
		return
	}
	if !as.Value.Dynamic {
		s.promptText(as.Name+" prompt", as.Value.Lit)
	}
}

// promptText walks v, known statically, as the prompt string label
// expands: as the inside of a double-quoted string.
func (s *scope) promptText(label, v string) {
	if !strings.Contains(v, "$") && !strings.Contains(v, "`") {
		// \u@\h: prompt escapes, nothing that expands.
		return
	}
	inner, ok := s.evaluate(label, v)
	if !ok {
		return
	}
	defer s.leave(label, v)
	pr := parsers.Get().(*syntax.Parser)
	word, err := pr.Document(strings.NewReader(v))
	parsers.Put(pr)
	if err != nil {
		s.w.opaque(label + " reads a value that does not parse: " + v)
		return
	}
	inner.word(word)
}

// promptValue is the text the prompt expansion p reads when it is known:
// the variable's value, an element's, or the elements of an array joined
// with spaces; ${!r@P} reads the variable r names.
func (s *scope) promptValue(p *syntax.ParamExp) (string, bool) {
	if p.Param == nil {
		return "", false
	}
	name := p.Param.Value
	if p.Excl {
		ref, ok := s.w.lookup(name)
		if !ok {
			return "", false
		}
		name = ref
	}
	if p.Index != nil {
		sub, ok := p.Index.(*syntax.Word)
		if !ok || sub.Lit() == "" {
			return "", false
		}
		if sub.Lit() == "@" || sub.Lit() == "*" {
			return s.w.elements(name)
		}
		name += "[" + sub.Lit() + "]"
	}
	if name == "@" || name == "*" {
		return s.w.elements(name)
	}
	return s.w.lookup(name)
}

// elements is the values of the array name joined with spaces, when they
// are known; a string is its one element.
func (w *walker) elements(name string) (string, bool) {
	v, ok := w.value(name)
	if !ok {
		return "", false
	}
	switch v.Kind {
	case expand.String:
		return v.Str, true
	case expand.Indexed:
		return strings.Join(v.List, " "), true
	case expand.Associative:
		// Sorted, so that the commands found come in one order.
		vals := make([]string, 0, len(v.Map))
		for _, x := range v.Map {
			vals = append(vals, x)
		}
		sort.Strings(vals)
		return strings.Join(vals, " "), true
	}
	return "", false
}

// evaluate returns the scope that walks v, a value bash evaluates as code
// of this shell (label says how), and marks it as being walked until
// leave. ok is false when that value is already being walked (a value
// that names itself: bash stops it too), when it is nested too deeply,
// or when the walker's budget is spent.
func (s *scope) evaluate(label, v string) (*scope, bool) {
	w := s.w
	key := label + "=" + v
	if w.expanding[key] {
		return nil, false
	}
	if s.depth+1 > maxDepth {
		w.opaque("nested too deeply")
		return nil, false
	}
	if !w.budget(len(v)) {
		return nil, false
	}
	if w.expanding == nil {
		w.expanding = map[string]bool{}
	}
	w.expanding[key] = true
	via := append(s.via[:len(s.via):len(s.via)], label)
	return &scope{w: w, src: v, via: via, depth: s.depth + 1}, true
}

// leave ends the walk of v that evaluate began.
func (s *scope) leave(label, v string) {
	delete(s.w.expanding, label+"="+v)
}

// walkWord walks w, if there is one, with fn.
func walkWord(w *syntax.Word, fn func(syntax.Node) bool) {
	if w != nil {
		syntax.Walk(w, fn)
	}
}

// builtinElements walks the subscripts of the array elements that a
// builtin is given by name, as a string (read 'a[$(cmd)]', printf -v,
// unset, declare 'a[…]=v', test -v): bash expands and evaluates them.
func (s *scope) builtinElements(argv []models.Word) {
	if len(argv) == 0 {
		return
	}
	name := argv[0].Lit
	for i, a := range argv[1:] {
		switch name {
		case "read", "readarray", "mapfile", "getopts", "unset", "export", "declare", "typeset", "local", "readonly":
		case "printf", "test", "[":
			if argv[i].Lit != "-v" {
				// argv[i] is the word before a: printf's others are
				// printed, test's compared.
				continue
			}
		default:
			return
		}
		s.namedElement(name, a)
	}
}

// namedElement walks the subscript of the array element that the word a,
// given to label as a variable's name (NAME[SUB] or NAME[SUB]=value),
// names.
func (s *scope) namedElement(label string, a models.Word) {
	if a.Dynamic {
		return
	}
	name, _, _ := strings.Cut(a.Lit, "=")
	if elementName(name) {
		s.arithText(label+" "+name, name)
	}
}

// elementName reports whether n names an array element, NAME[SUB].
func elementName(n string) bool {
	base, _, ok := splitElement(n)
	return ok && isName(base)
}
