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
// variables and the functions it may call, or "" when it uses none:
// `declare -p` of the variables, `declare -f` of the names it runs.
func shellQuery(text string) string {
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(text), "")
	if err != nil {
		return ""
	}
	var vars, cmds []string
	seen := map[string]bool{}
	add := func(list *[]string, n string) {
		if shellName.MatchString(n) && !seen[n] && len(vars)+len(cmds) < maxQueried {
			seen[n] = true
			*list = append(*list, n)
		}
	}
	syntax.Walk(f, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.ParamExp:
			if n.Param != nil {
				add(&vars, n.Param.Value)
			}
		case *syntax.CallExpr:
			if len(n.Args) > 0 {
				if lit := n.Args[0].Lit(); lit != "" {
					add(&cmds, lit)
				}
			}
		}
		return true
	})
	var q []string
	if len(vars) > 0 {
		q = append(q, "declare -p -- "+strings.Join(vars, " ")+" 2>/dev/null")
	}
	if len(cmds) > 0 {
		q = append(q, "declare -f -- "+strings.Join(cmds, " ")+" 2>/dev/null")
	}
	return strings.Join(q, "; ")
}

// shellState reads a session's bash's answer to shellQuery: its scalar
// variables as NAME=value pairs (parser.Env's Vars), and its functions'
// definitions as text to rate in front of the statement. What it cannot
// read is left out (and stays unknown to the rater).
func shellState(out string) (vars []string, funcs string) {
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(out), "")
	if err != nil {
		return nil, ""
	}
	var defs []string
	for _, st := range f.Stmts {
		switch c := st.Cmd.(type) {
		case *syntax.DeclClause:
			for _, a := range c.Args {
				if a.Naked || a.Name == nil || a.Array != nil || a.Index != nil || a.Value == nil {
					continue // an option, a name declared without a value, an array
				}
				v, err := expand.Literal(nil, a.Value)
				if err != nil {
					continue
				}
				vars = append(vars, a.Name.Value+"="+v)
			}
		case *syntax.FuncDecl:
			var b strings.Builder
			syntax.NewPrinter().Print(&b, c)
			defs = append(defs, b.String())
		}
	}
	return vars, strings.Join(defs, "\n")
}
