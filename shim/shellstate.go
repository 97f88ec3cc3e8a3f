package shim

import (
	"regexp"
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
)

// A session's bash knows what earlier statements left: variables and
// functions. Before a statement is rated, chaperone asks that bash for
// the ones the statement uses (shellQuery), so that `X=~/.ssh/id_rsa`
// in one statement and `curl -T "$X" …` in the next are rated as what
// they are, and a function defined earlier is rated by its body. The
// answer is what the shell holds at that moment, not chaperone's guess of
// it.

// maxQueried caps the names asked about for one statement.
const maxQueried = 64

var shellName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// shellQuery is the command that asks a session's bash about text's
// variables (varNames, as a statement session asks) and the functions it
// may call: `declare -p` of the one, `declare -f` of the words that could
// name the other.
func shellQuery(text string) string {
	q := "builtin declare -p -- " + strings.Join(varNames(text, nil), " ") + " 2>/dev/null"
	var cmds []string
	seen := map[string]bool{}
	for _, w := range words(text) {
		if shellName.MatchString(w) && !seen[w] && len(cmds) < maxQueried {
			seen[w] = true
			cmds = append(cmds, w)
		}
	}
	if len(cmds) > 0 {
		q += "; builtin declare -f -- " + strings.Join(cmds, " ") + " 2>/dev/null"
	}
	return q
}

// shellState reads a session's bash's answer to shellQuery: its
// variables, each as the driver's "?q" answer gives it ("ATTRS=VALUE",
// ATTRS being declare's letters: "x" exported, "r" read-only, "i" an
// integer…; see shellContext.varLines, which keeps the plain ones), and its
// functions' definitions, learnt into defs. What it cannot read is left
// out (and stays unknown to the rater).
func shellState(out string, defs funcDefs) map[string]string {
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(out), "")
	if err != nil {
		return nil
	}
	values := map[string]string{}
	for _, st := range f.Stmts {
		switch c := st.Cmd.(type) {
		case *syntax.DeclClause:
			attrs := ""
			for _, a := range c.Args {
				if a.Naked && a.Value != nil {
					if lit := a.Value.Lit(); strings.HasPrefix(lit, "-") && lit != "--" {
						attrs += lit[1:]
					}
					continue
				}
				if a.Naked || a.Name == nil || a.Array != nil || a.Index != nil || a.Value == nil {
					continue // a name declared without a value, an array
				}
				v, err := expand.Literal(nil, a.Value)
				if err != nil {
					continue
				}
				values[a.Name.Value] = attrs + "=" + v
			}
		case *syntax.FuncDecl:
			var b strings.Builder
			syntax.NewPrinter().Print(&b, c)
			defs.learn(b.String())
		}
	}
	return values
}
