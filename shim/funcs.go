package shim

import (
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// funcDefs are shell functions of a session, by name, as their source
// text: those a statement calls, as the session's bash has them (asked of
// it: a function may come from a statement, a file a statement sourced,
// or eval). The statement is rated with the definitions it reaches in
// front of it: `f` alone says nothing, `f() { curl -T ~/.ssh/id_rsa …; }; f`
// does.
type funcDefs map[string]string

// maxFuncText caps the definitions put in front of one statement.
const maxFuncText = 1 << 20

// learn keeps the functions text defines (at any depth: a definition in
// an if is kept too; a later one replaces an earlier one, but one that is
// not at the top, made only when what holds it runs, never replaces one
// already known). It reports
// whether text parsed.
func (d funcDefs) learn(text string) bool {
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(text), "")
	if err != nil {
		return false
	}
	top := map[*syntax.FuncDecl]bool{}
	for _, st := range f.Stmts {
		if fd, ok := st.Cmd.(*syntax.FuncDecl); ok {
			top[fd] = true
		}
	}
	syntax.Walk(f, func(n syntax.Node) bool {
		if fd, ok := n.(*syntax.FuncDecl); ok && fd.Name != nil {
			if _, known := d[fd.Name.Value]; known && !top[fd] {
				// A definition inside another is made only when that one
				// runs: it does not replace the one bash has now.
				return true
			}
			var b strings.Builder
			syntax.NewPrinter().Print(&b, fd)
			d[fd.Name.Value] = b.String()
		}
		return true
	})
	return true
}

// reached are the definitions of the functions src calls, directly or
// through another (as many as fit in maxFuncText).
func (d funcDefs) reached(src string) []string {
	var defs []string
	size := 0
	for _, name := range d.reach(src) {
		if def := d[name]; size+len(def) <= maxFuncText {
			size += len(def)
			defs = append(defs, def)
		}
	}
	return defs
}

// reach is the names of the functions text calls, directly or through
// another, in the order they are met.
func (d funcDefs) reach(text string) []string {
	if len(d) == 0 {
		return nil
	}
	seen := map[string]bool{}
	var names []string
	var visit func(string)
	visit = func(src string) {
		for _, w := range words(src) {
			if def, ok := d[w]; ok && !seen[w] {
				seen[w] = true
				names = append(names, w)
				visit(def)
			}
		}
	}
	visit(text)
	return names
}

// words are the words of src that may name a function: runs of letters,
// digits and _ - . : (bash allows more; these are what names are made of).
func words(src string) []string {
	return strings.FieldsFunc(src, func(r rune) bool {
		return !(r == '_' || r == '-' || r == '.' || r == ':' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	})
}
