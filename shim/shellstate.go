package shim

import (
	"context"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"

	"github.com/chaperone-dev/chaperone/rater"
)

// A session's bash knows what earlier statements left: variables and
// functions. Before a statement is rated, chaperone takes from that bash
// the ones the statement uses, so that `X=~/.ssh/id_rsa` in one statement
// and `curl -T "$X" …` in the next are rated as what they are, and a
// function defined earlier is rated by its body. The answer is what the
// shell holds at that moment, not chaperone's guess of it. A statement
// session asks its driver for them by name (stmtSession.rated); an
// interactive bash's gate sends all of them with each line, as `declare
// -p` and `declare -f` print them (stateShell, fromState).

// funcLine is the line `declare -f` starts a definition with.
var funcLine = regexp.MustCompile(`(?m)^(\S+) \(\) $`)

// declHead reads the start of a line of `declare -p` (each variable is
// one line: bash quotes a newline or any control character in a value):
// declare's letters ("" for "--") and the name. ok is false for what is
// no such line.
func declHead(line string) (attrs, name string, ok bool) {
	rest, ok := strings.CutPrefix(line, "declare -")
	if !ok {
		return "", "", false
	}
	attrs, rest, ok = strings.Cut(rest, " ")
	if !ok || strings.Trim(attrs, "-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return "", "", false
	}
	name, _, _ = strings.Cut(rest, "=")
	if !isShellName(name) {
		return "", "", false
	}
	return strings.Trim(attrs, "-"), name, true
}

// shellSource is where a session's bash's variables and functions are
// learnt from: asked of a statement session's driver (askedShell), or
// sent whole with an interactive line (stateShell). ok is false when the
// bash ended meanwhile.
type shellSource interface {
	// vars returns `declare -p` of each of names ("" when unset).
	vars(names []string) (values map[string]string, ok bool)
	// isFunc reports whether bash has a function name (once vars was
	// called).
	isFunc(name string) bool
	// funcs returns the definitions of the functions names, in order.
	funcs(names []string) (defs []string, ok bool)
}

// resolve is text as it is rated in a session: what the session's bash
// holds that it uses is put in front of it (inFront), as bash has it now:
//   - the working folder, when it is not the project's top (the rules
//     read relative paths as the top's, and a file a statement sources
//     from there);
//   - the variables it names (varLines), and those they refer to (a name
//     reference's target, a variable an indirect expansion may name);
//   - the definitions of the functions it calls, directly, through
//     another, or through a value (x=f; $x), and the variables those
//     name (a function bash calls by itself, command_not_found_handle, is
//     held where it is defined: rater's session.gate).
//
// What is not known stays unknown.
func (sc shellContext) resolve(ctx context.Context, text string, src shellSource) (string, bool) {
	names := varNames(text, nil)
	// Past the limits, what is left out could be anything: the statement
	// is rated as one that runs what is only known when it runs.
	var unshown []string
	if len(names) >= maxAskVars {
		unshown = append(unshown, "# chaperone: this names more variables than are rated with it", `eval "$UNSHOWN_VARIABLES"`)
	}
	if byPrefix.MatchString(text) {
		unshown = append(unshown, "# chaperone: this uses variables chosen by the start of their names", `eval "$UNSHOWN_VARIABLES"`)
	}
	values, ok := src.vars(names)
	if !ok {
		return "", false
	}

	// The functions text calls, and those they call.
	defs := funcDefs{}
	size := 0
	seen := map[string]bool{}
	from := text + "\n" + strings.Join(slices.Collect(maps.Values(values)), "\n")
	for round := 0; ; round++ {
		var ask []string
		for _, w := range words(from) {
			if src.isFunc(w) && !seen[w] {
				seen[w] = true
				ask = append(ask, w)
			}
		}
		if len(ask) == 0 {
			break
		}
		if round == maxFuncRounds {
			// Functions calling functions past the rounds: what the last
			// ones do is not known.
			unshown = append(unshown, "# chaperone: this calls functions deeper than are rated with it", `eval "$UNSHOWN_FUNCTIONS"`)
			break
		}
		got, ok := src.funcs(ask)
		if !ok {
			return "", false
		}
		from = strings.Join(got, "\n")
		for i, def := range got {
			if def == "" {
				continue
			}
			size += len(def)
			if !defs.learn(def) {
				defs[ask[i]] = def // unreadable: rated as it is, which says so
			}
		}
	}

	// The variables the functions name, and those the values refer to.
	var fsrc strings.Builder
	for _, def := range defs {
		fsrc.WriteString(def + "\n")
	}
	more := varNames(fsrc.String(), values)
	indirect := strings.Contains(text, "${!") || strings.Contains(fsrc.String(), "${!")
	for range maxFuncRounds {
		for _, v := range values {
			if attrs, _, _ := declHead(v); !indirect && !strings.Contains(attrs, "n") {
				continue // refers to nothing the text may reach
			}
			if t := declaration(v).refers; t != "" && !rater.SessionGateName(t) {
				if _, ok := values[t]; !ok && !slices.Contains(more, t) {
					more = append(more, t)
				}
			}
		}
		if len(more) == 0 {
			break
		}
		got, ok := src.vars(more)
		if !ok {
			return "", false
		}
		for _, n := range more {
			values[n] = got[n]
		}
		more = nil
	}
	return sc.inFront(ctx, text, values, defs, size, unshown), true
}

// byPrefix finds ${!x@} and ${!x*}: the names of every variable whose
// name starts with x, which a statement may then expand (${!n}).
var byPrefix = regexp.MustCompile(`\$\{![A-Za-z_][A-Za-z0-9_]*[@*]\}`)

// decl is one variable as `declare -p` printed it.
type decl struct {
	attrs  string   // declare's letters: x exported, r read-only, n a name reference…
	scalar bool     // a plain value
	value  string   // its value
	elems  []string // an indexed array's elements, quoted, when it has no gaps
	refers string   // what it may name: a reference's target, a value that is a name
}

// isShellName reports whether s is a variable's name: a letter or _, then
// letters, digits and _.
func isShellName(s string) bool {
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

// declaration reads a line of `declare -p`; what it cannot read is
// neither a scalar nor an array (and is rated as bash printed it).
func declaration(line string) (d decl) {
	if line == "" {
		return d
	}
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(line), "")
	if err != nil || len(f.Stmts) != 1 {
		return d
	}
	c, ok := f.Stmts[0].Cmd.(*syntax.DeclClause)
	if !ok {
		return d
	}
	var a *syntax.Assign
	for _, arg := range c.Args {
		if arg.Naked && arg.Value != nil {
			if lit := arg.Value.Lit(); strings.HasPrefix(lit, "-") && lit != "--" {
				d.attrs += lit[1:]
			}
		} else if arg.Name != nil && a == nil {
			a = arg
		}
	}
	switch {
	case a == nil || a.Index != nil:
		return d
	case a.Naked:
		d.scalar = true // declared, not set: as empty as unset
		return d
	}
	switch {
	case a.Array != nil:
		if strings.ContainsAny(d.attrs, "An") {
			return d
		}
		for i, e := range a.Array.Elems {
			idx, ok := e.Index.(*syntax.Word)
			if !ok || e.Value == nil || idx.Lit() != strconv.Itoa(i) {
				return decl{attrs: d.attrs}
			}
			v, err := expand.Literal(nil, e.Value)
			if err != nil {
				return decl{attrs: d.attrs}
			}
			q, err := syntax.Quote(v, syntax.LangBash)
			if err != nil {
				return decl{attrs: d.attrs}
			}
			d.elems = append(d.elems, q)
		}
		if d.elems == nil {
			d.elems = []string{}
		}
	case a.Value != nil:
		v, err := expand.Literal(nil, a.Value)
		if err != nil {
			return d
		}
		if n, _, _ := strings.Cut(v, "["); isShellName(n) {
			d.refers = n // a name, or an element of one (r='a[1]')
		}
		if strings.Contains(d.attrs, "n") {
			return d // a reference: as bash printed it
		}
		d.scalar, d.value = true, v
	}
	return d
}

// stateShell is an interactive bash's state as its gate sent it with a
// line: all of `declare -p` and `declare -f`.
type stateShell struct {
	declared map[string]string
	defs     funcDefs
}

// newStateShell reads the state an interactive gate sent. Functions that
// cannot be read are known by name: a call of one is rated as unknown.
func newStateShell(declared, funcs string) *stateShell {
	st := &stateShell{declared: map[string]string{}, defs: funcDefs{}}
	for _, l := range strings.Split(declared, "\n") {
		if _, name, ok := declHead(l); ok {
			st.declared[name] = l
		}
	}
	if len(funcs) > maxFuncText || !st.defs.learn(funcs) {
		st.defs = funcDefs{}
		for _, m := range funcLine.FindAllStringSubmatch(funcs, -1) {
			st.defs[m[1]] = "# chaperone: unreadable\n" + `eval "$UNSHOWN_FUNCTIONS"`
		}
	}
	return st
}

func (st *stateShell) vars(names []string) (map[string]string, bool) {
	values := map[string]string{}
	for _, n := range names {
		values[n] = st.declared[n]
	}
	return values, true
}

func (st *stateShell) isFunc(name string) bool { _, ok := st.defs[name]; return ok }

func (st *stateShell) funcs(names []string) ([]string, bool) {
	defs := make([]string, len(names))
	for i, n := range names {
		defs[i] = st.defs[n]
	}
	return defs, true
}

// fromState is text as it is rated (resolve) when all that an interactive
// bash holds came with it: declared, its `declare -p`, and funcs, its
// `declare -f`.
func (sc shellContext) fromState(ctx context.Context, text, declared, funcs string) string {
	front, _ := sc.resolve(ctx, text, newStateShell(declared, funcs))
	return front
}
