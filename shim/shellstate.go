package shim

import (
	"context"
	"regexp"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
)

// A session's bash knows what earlier statements left: variables and
// functions. Before a statement is rated, chaperone takes from that bash
// the ones the statement uses, so that `X=~/.ssh/id_rsa` in one statement
// and `curl -T "$X" …` in the next are rated as what they are, and a
// function defined earlier is rated by its body. The answer is what the
// shell holds at that moment, not chaperone's guess of it. A statement
// session asks its driver for them by name (stmtSession.rated); an
// interactive bash's gate sends all of them with each line, as `declare
// -p` and `declare -f` print them (shellState, fromState).

// funcLine is the line `declare -f` starts a definition with.
var funcLine = regexp.MustCompile(`(?m)^(\S+) \(\) $`)

// shellState reads what `declare -p` prints: the variables, each as the
// driver's "?q" answer gives it ("ATTRS=VALUE", ATTRS being declare's
// letters: "x" exported, "r" read-only, "i" an integer…; "a=" and its
// elements quoted for an array without gaps; "n" for a name reference;
// see shellContext.varLines, which keeps the plain ones). Functions among
// it are learnt into defs. What it cannot read is left out (and stays
// unknown to the rater).
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
				if a.Naked || a.Name == nil || a.Index != nil {
					continue // a name declared without a value
				}
				switch {
				case strings.Contains(attrs, "n"):
					values[a.Name.Value] = "n"
				case a.Array != nil:
					if v, ok := listed(a.Array); ok && attrs == "a" {
						values[a.Name.Value] = "a=" + v
					}
				case a.Value != nil:
					if v, err := expand.Literal(nil, a.Value); err == nil {
						values[a.Name.Value] = attrs + "=" + v
					}
				}
			}
		case *syntax.FuncDecl:
			var b strings.Builder
			syntax.NewPrinter().Print(&b, c)
			defs.learn(b.String())
		}
	}
	return values
}

// listed is an indexed array's elements as declare -p prints them
// ([0]="a" [1]="b"), each quoted, space-separated; ok is false when they
// are not 0, 1, 2… in order (an array with gaps stays unknown).
func listed(arr *syntax.ArrayExpr) (string, bool) {
	var quoted []string
	for i, e := range arr.Elems {
		if e.Index == nil || e.Value == nil {
			return "", false
		}
		idx, ok := e.Index.(*syntax.Word)
		if !ok || idx.Lit() != strconv.Itoa(i) {
			return "", false
		}
		v, err := expand.Literal(nil, e.Value)
		if err != nil {
			return "", false
		}
		q, err := syntax.Quote(v, syntax.LangBash)
		if err != nil {
			return "", false
		}
		quoted = append(quoted, q)
	}
	return strings.Join(quoted, " "), true
}

// fromState is text as it is rated (inFront) when all that bash holds
// is known: declared, its `declare -p`, and funcs, its `declare -f`. It
// takes from them what a statement session would ask for (rated): the
// variables text names, the functions it calls and the variables they
// name. Functions that cannot be read leave a statement that names one
// of them unknown.
func (sc shellContext) fromState(ctx context.Context, text, declared, funcs string) string {
	all := shellState(declared, nil)
	var unshown []string
	names := varNames(text, nil)
	if len(names) >= maxAskVars {
		unshown = append(unshown, "# chaperone: this names more variables than are rated with it", `eval "$UNSHOWN_VARIABLES"`)
	}
	defs := funcDefs{}
	if len(funcs) > maxFuncText || !defs.learn(funcs) {
		defs = funcDefs{}
		for _, m := range funcLine.FindAllStringSubmatch(funcs, -1) {
			defs[m[1]] = "# chaperone: unreadable\n" + `eval "$UNSHOWN_FUNCTIONS"`
		}
	}
	reached := funcDefs{}
	size := 0
	var body strings.Builder
	for _, n := range defs.reach(text) {
		reached[n] = defs[n]
		size += len(defs[n])
		body.WriteString(defs[n] + "\n")
	}
	names = append(names, varNames(body.String(), map[string]string{})...)
	values := map[string]string{}
	for _, n := range names {
		if v, ok := all[n]; ok {
			values[n] = v
		}
	}
	return sc.inFront(ctx, text, values, reached, size, unshown)
}
