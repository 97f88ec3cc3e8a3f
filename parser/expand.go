package parser

import (
	"errors"
	"io"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"

	"github.com/chaperone-dev/chaperone/models"
)

// Env is the environment a command's expansions see, besides what the
// command text itself assigns: that of the shell that will run it. The
// zero value knows nothing but what bash sets itself (IFS); every other
// variable is then only known at run time.
type Env struct {
	// Vars lists NAME=value pairs, as os.Environ gives them; a later pair
	// wins. A name not listed stays unknown (the shell or the sandbox may
	// set it), never empty. IFS is ignored: bash does not take it from
	// the environment.
	Vars []string
	// Home and Cwd are HOME and PWD; they win over Vars. "" leaves them
	// to Vars.
	Home, Cwd string
}

// envNames are the variables EnvFrom reads: the ones commands commonly
// expand in program names and paths.
var envNames = []string{
	"HOME", "PATH", "USER", "LOGNAME", "SHELL", "TMPDIR", "TMP", "TEMP", "LANG",
	"XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_RUNTIME_DIR",
	"EDITOR", "VISUAL", "PAGER", "GOPATH", "GOROOT", "GOBIN", "CARGO_HOME", "RUSTUP_HOME",
	"VIRTUAL_ENV", "CONDA_PREFIX", "PYENV_ROOT", "NVM_DIR", "JAVA_HOME", "HOSTNAME",
}

// EnvFrom lists, as Env.Vars, the variables that getenv reports with a
// non-empty value among those commands commonly expand (HOME, PATH, USER,
// TMPDIR, the XDG folders, EDITOR, GOPATH …). An empty value counts as
// unknown: getenv cannot tell it from unset. nil getenv gives nil.
func EnvFrom(getenv func(string) string) []string {
	if getenv == nil {
		return nil
	}
	var out []string
	for _, n := range envNames {
		if v := getenv(n); v != "" {
			out = append(out, n+"="+v)
		}
	}
	return out
}

// ParseEnv is Parse with the environment the command will see: its
// expansions (parameters, braces, IFS splitting, substrings, indirection,
// $(printf …) of literals, aliases and functions defined earlier in the
// same text, xargs fed literal input) are evaluated statically as bash
// would, with mvdan.cc/sh's expand package. What only the run can tell
// stays dynamic.
func ParseEnv(src string, env Env) *models.Facts {
	f := &models.Facts{Commands: make([]models.Command, 0, 8)}
	w := &walker{facts: f, env: env}
	w.parseShell(src, nil, 0, true)
	return f
}

// Limits that keep static expansion bounded whatever the text.
const (
	// maxFields is the most fields one word may expand to; a word
	// expanding to more stays an approximation.
	maxFields = 512
	// maxValue is the longest value a variable or field may hold.
	maxValue = 1 << 16
	// maxSubst bounds nested command substitutions evaluated statically.
	maxSubst = 8
	// maxExpansion bounds the bytes of alias and function text walked
	// again at their uses, and of values walked as code (evaluated.go),
	// over one command string.
	maxExpansion = 1 << 18
	// maxItems bounds the xargs input words added to its command.
	maxItems = 256
)

// errRunTime says a value is only known when the command runs.
var errRunTime = errors.New("only known at run time")

// frame holds a function call's positional parameters.
type frame struct {
	args []string
	// known[i] is false when args[i] is only known at run time; unknown
	// is true when none of them is (a function body walked where it is
	// defined, or after shift).
	known   []bool
	unknown bool
}

// funcDef is a function defined in the text, walked again where it is
// called.
type funcDef struct {
	body *syntax.Stmt
	src  string
}

// staticEnv is the expand.Environ the walker gives mvdan/sh's expand: the
// variables known statically. Asking for one that is not known marks the
// expansion as depending on run time.
type staticEnv struct {
	w *walker
	// missed is set when an unknown variable was asked for.
	missed bool
	// quiet suppresses missed while expand prepares (it reads PWD and IFS
	// whether the word uses them or not).
	quiet bool
	// built is set when a command substitution built text (echo,
	// printf, rev, tr).
	built bool
}

func (e *staticEnv) Get(name string) expand.Variable {
	if v, ok := e.w.value(name); ok {
		return v
	}
	if !e.quiet {
		e.missed = true
	}
	return expand.Variable{}
}

// Each is only used for ${!prefix*}: the full set of names is not known
// statically.
func (e *staticEnv) Each(func(string, expand.Variable) bool) { e.missed = true }

func strVar(s string) expand.Variable {
	return expand.Variable{Set: true, Kind: expand.String, Str: s}
}

// value returns a variable's static value, if it has one.
func (w *walker) value(name string) (expand.Variable, bool) {
	if base, sub, ok := splitElement(name); ok {
		// ${!r} with r='a[1]', or a name reference to an element.
		return w.element(base, sub)
	}
	if name == linenoParam {
		name = "LINENO"
	}
	if n := len(w.frames); n > 0 {
		fr := &w.frames[n-1]
		switch {
		case name == "#":
			if fr.unknown {
				return expand.Variable{}, false
			}
			return strVar(strconv.Itoa(len(fr.args))), true
		case name == "@" || name == "*":
			if fr.unknown {
				return expand.Variable{}, false
			}
			for _, k := range fr.known {
				if !k {
					return expand.Variable{}, false
				}
			}
			return expand.Variable{Set: true, Kind: expand.Indexed, List: fr.args}, true
		case name != "0" && isDigits(name):
			if fr.unknown {
				return expand.Variable{}, false
			}
			i, err := strconv.Atoi(name)
			if err != nil || i > len(fr.args) {
				return expand.Variable{}, err == nil
			}
			if !fr.known[i-1] {
				return expand.Variable{}, false
			}
			return strVar(fr.args[i-1]), true
		}
	}
	if w.ambiguous[name] {
		return expand.Variable{}, false
	}
	if a := w.attrs[name]; a != nil && a.ref {
		if a.target == "" {
			return expand.Variable{}, false
		}
		return expand.Variable{Set: true, Kind: expand.NameRef, Str: a.target}, true
	}
	if v, ok := w.arrays[name]; ok {
		return v, true
	}
	if v, ok := w.vars[name]; ok {
		return strVar(v), true
	}
	if w.sourced {
		// eval or source ran earlier: it may have set anything.
		return expand.Variable{}, false
	}
	switch name {
	case "IFS":
		// bash never takes IFS from the environment.
		return strVar(" \t\n"), true
	case "HOME":
		if w.env.Home != "" {
			return strVar(w.env.Home), true
		}
	case "PWD", "OLDPWD":
		if name == "PWD" && w.env.Cwd != "" && !w.moved {
			return strVar(w.env.Cwd), true
		}
		if d, ok := w.pwd(); name == "PWD" && ok && w.loops == 0 {
			// cd /etc; cat "$PWD/shadow". Not in a loop: a later round
			// may start where an earlier one moved.
			return strVar(d), true
		}
	}
	if user, ok := strings.CutPrefix(name, "HOME "); ok {
		// ~user, for expand's tilde expansion.
		if user == "root" {
			return strVar("/root"), true
		}
		return strVar("/home/" + user), true
	}
	if w.moved && (name == "PWD" || name == "OLDPWD") {
		return expand.Variable{}, false
	}
	for i := len(w.env.Vars) - 1; i >= 0; i-- {
		kv := w.env.Vars[i]
		if len(kv) > len(name) && kv[len(name)] == '=' && kv[:len(name)] == name {
			return strVar(kv[len(name)+1:]), true
		}
	}
	return expand.Variable{}, false
}

// splitElement splits a name that names an array element, NAME[SUB], as
// ${!r} reads r's value and a name reference its target.
func splitElement(name string) (base, sub string, ok bool) {
	i := strings.IndexByte(name, '[')
	if i <= 0 || !strings.HasSuffix(name, "]") {
		return "", "", false
	}
	return name[:i], name[i+1 : len(name)-1], true
}

// element is the static value of the element sub of the variable base:
// a decimal index of an indexed array (0 of a scalar is the scalar), a
// literal key of an associative one. A subscript that bash would
// evaluate (arithmetic, expansions, @ or *) is not known.
func (w *walker) element(base, sub string) (expand.Variable, bool) {
	if !isName(base) {
		return expand.Variable{}, false
	}
	if a := w.attrs[base]; a != nil && a.assoc == '?' {
		return expand.Variable{}, false
	}
	v, ok := w.value(base)
	for i := 0; ok && v.Kind == expand.NameRef; i++ {
		if i >= maxRefs || strings.IndexByte(v.Str, '[') >= 0 {
			return expand.Variable{}, false
		}
		v, ok = w.value(v.Str)
	}
	if !ok || !v.IsSet() {
		return expand.Variable{}, false
	}
	switch v.Kind {
	case expand.String, expand.Indexed:
		if !isDecimal(sub) {
			return expand.Variable{}, false
		}
		n, err := strconv.Atoi(sub)
		if err != nil {
			return expand.Variable{}, false
		}
		if v.Kind == expand.String {
			if n == 0 {
				return strVar(v.Str), true
			}
			return expand.Variable{}, true
		}
		if v.Indexes == nil {
			if n < len(v.List) {
				return strVar(v.List[n]), true
			}
			return expand.Variable{}, true
		}
		for j, ix := range v.Indexes {
			if ix == n && j < len(v.List) {
				return strVar(v.List[j]), true
			}
		}
		return expand.Variable{}, true
	case expand.Associative:
		if sub == "" || sub == "@" || sub == "*" || strings.ContainsAny(sub, "$`\"'\\") {
			return expand.Variable{}, false
		}
		if s, ok := v.Map[sub]; ok {
			return strVar(s), true
		}
		return expand.Variable{}, true
	}
	return expand.Variable{}, false
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// config returns the expand configuration of the walker: its variables,
// static command substitution, and no globbing (nothing is read from the
// file system). A nested expansion (inside a command substitution) gets a
// configuration of its own.
func (w *walker) config(fresh bool) *expand.Config {
	if w.senv.w == nil {
		w.senv.w = w
	}
	if !fresh && w.xcfg != nil {
		return w.xcfg
	}
	cfg := &expand.Config{Env: &w.senv, CmdSubst: w.substOutput}
	if !fresh {
		w.xcfg = cfg
	}
	return cfg
}

// expandFields expands word to its fields as bash would (brace expansion,
// tilde, parameters, static command substitution, arithmetic, IFS
// splitting, quote removal; no globbing). ok is false when the result
// depends on run time or is too large.
func (w *walker) expandFields(word *syntax.Word, fresh bool) (out []string, ok bool) {
	cfg := w.config(fresh)
	e := &w.senv
	if !fresh {
		e.missed, e.built = false, false
	}
	if w.ambiguous["IFS"] || w.assocWhole(word) {
		return nil, false
	}
	defer func() {
		if recover() != nil {
			out, ok = nil, false
		}
	}()
	defer w.ownLineno(word)()
	e.quiet = true
	seq := expand.FieldsSeq(cfg, word)
	e.quiet = false
	for f, err := range seq {
		if err != nil || e.missed || len(out) >= maxFields || len(f) > maxValue {
			return nil, false
		}
		out = append(out, f)
	}
	if e.missed {
		return nil, false
	}
	return out, true
}

// expandLiteral expands word to one string, as bash does for an
// assignment value or a redirection target.
func (w *walker) expandLiteral(word *syntax.Word) (out string, ok bool) {
	cfg := w.config(false)
	e := &w.senv
	e.missed, e.built = false, false
	if w.ambiguous["IFS"] || w.assocWhole(word) {
		return "", false
	}
	defer func() {
		if recover() != nil {
			out, ok = "", false
		}
	}()
	defer w.ownLineno(word)()
	s, err := expand.Literal(cfg, word)
	if err != nil || e.missed || len(s) > maxValue {
		return "", false
	}
	return s, true
}

// linenoParam is the name $LINENO is expanded under once the text
// assigned or unset LINENO: expand gives the line number for LINENO
// whatever its Environ holds, bash the value assigned after unset LINENO.
const linenoParam = "LINENO\x00own"

// ownLineno renames the $LINENO expansions of word to linenoParam, so
// that expand asks value for it, when the text assigned, unset or may
// have set LINENO; the returned func renames them back.
func (w *walker) ownLineno(word *syntax.Word) func() {
	_, set := w.vars["LINENO"]
	a := w.attrs["LINENO"]
	if !set && !w.ambiguous["LINENO"] && !w.sourced && (a == nil || !a.ref) {
		return func() {}
	}
	var swapped []*syntax.ParamExp
	var old []*syntax.Lit
	syntax.Walk(word, func(n syntax.Node) bool {
		if pe, ok := n.(*syntax.ParamExp); ok && pe.Param != nil && pe.Param.Value == "LINENO" {
			swapped, old = append(swapped, pe), append(old, pe.Param)
			pe.Param = &syntax.Lit{ValuePos: pe.Param.ValuePos, ValueEnd: pe.Param.ValueEnd, Value: linenoParam}
		}
		return true
	})
	return func() {
		for i, pe := range swapped {
			pe.Param = old[i]
		}
	}
}

// ownTilde reports whether word starts with a tilde that the text's own
// HOME expands: bash reads ~ from the shell's HOME, not the one the
// request was made with (HOME=/etc; cat ~/shadow). When that HOME is
// only known at run time, the word keeps its "~" as $HOME does.
func (w *walker) ownTilde(word *syntax.Word) bool {
	if len(word.Parts) == 0 {
		return false
	}
	lit, ok := word.Parts[0].(*syntax.Lit)
	if !ok || !strings.HasPrefix(lit.Value, "~") {
		return false
	}
	_, set := w.vars["HOME"]
	a := w.attrs["HOME"]
	return set || a != nil && a.ref
}

// needsExpansion reports whether a word has parts that only expansion
// resolves: parameters, command substitutions, arithmetic, or an unquoted
// brace expansion. Plain and quoted literals are left to the parser's own
// quote removal.
func needsExpansion(parts []syntax.WordPart) bool {
	for _, p := range parts {
		switch p := p.(type) {
		case *syntax.Lit:
			if braceCandidate(p.Value) {
				return true
			}
		case *syntax.DblQuoted:
			for _, q := range p.Parts {
				switch q.(type) {
				case *syntax.ParamExp, *syntax.CmdSubst, *syntax.ArithmExp:
					return true
				}
			}
		case *syntax.ParamExp, *syntax.CmdSubst, *syntax.ArithmExp:
			return true
		}
	}
	return false
}

// braceCandidate reports whether an unquoted literal may hold a brace
// expansion ({a,b} or {1..9}).
func braceCandidate(v string) bool {
	i := strings.IndexByte(v, '{')
	if i < 0 {
		return false
	}
	rest := v[i:]
	return strings.IndexByte(rest, '}') > 0 && (strings.IndexByte(rest, ',') > 0 || strings.Contains(rest, ".."))
}

// appendFields is word for a command's argument: it appends the fields
// the word expands to. A word that expands to nothing (an empty unquoted
// variable) is dropped, as bash drops it.
func (s *scope) appendFields(dst []models.Word, w *syntax.Word) []models.Word {
	out := s.approx(w)
	if !needsExpansion(w.Parts) && !s.w.ownTilde(w) {
		for _, p := range w.Parts {
			if q, ok := p.(*syntax.SglQuoted); ok && q.Dollar && strings.Contains(q.Value, `\`) {
				// $'\x63at': escapes that spell out a name.
				out.Assembled = true
			}
		}
		return append(dst, out)
	}
	fs, ok := s.w.expandFields(w, false)
	out.Assembled = assembled(w, s.w.senv.built)
	if !ok {
		return append(dst, out)
	}
	for i, f := range fs {
		nw := models.Word{Lit: f, Glob: out.Glob && strings.ContainsAny(f, "*?["), Assembled: out.Assembled}
		if i == 0 {
			nw.Subst, nw.ProcSubst = out.Subst, out.ProcSubst
		}
		dst = append(dst, nw)
	}
	return dst
}

// assembled reports whether a word puts a value together in a way that
// hides what it is (see models.Word.Assembled). built says a command
// substitution in it built text statically.
func assembled(w *syntax.Word, built bool) bool {
	if built {
		return true
	}
	exps, slash := 0, false
	var walk func(parts []syntax.WordPart) bool
	walk = func(parts []syntax.WordPart) bool {
		for _, p := range parts {
			switch p := p.(type) {
			case *syntax.Lit:
				if braceCandidate(p.Value) {
					return true
				}
				if strings.Contains(p.Value, "/") {
					slash = true
				}
			case *syntax.SglQuoted:
				if p.Dollar && strings.Contains(p.Value, `\`) {
					return true
				}
				if strings.Contains(p.Value, "/") {
					slash = true
				}
			case *syntax.DblQuoted:
				if walk(p.Parts) {
					return true
				}
			case *syntax.ParamExp:
				if p.Excl || p.Length || p.Slice != nil || p.Repl != nil || p.Index != nil || p.Names != 0 {
					return true
				}
				if p.Param != nil && p.Param.Value == "IFS" {
					return true
				}
				if p.Exp != nil {
					switch p.Exp.Op {
					case syntax.UpperFirst, syntax.UpperAll, syntax.LowerFirst, syntax.LowerAll, syntax.OtherParamOps:
						return true
					}
				}
				exps++
			case *syntax.ArithmExp:
				return true
			case *syntax.CmdSubst:
				exps++
			}
		}
		return false
	}
	if walk(w.Parts) {
		return true
	}
	// Two or more expansions glued into one name ($a$b), not a path
	// joined with slashes ("$VENV/bin/$TOOL").
	return exps >= 2 && !slash
}

// substOutput is expand's CmdSubst: it writes what a command substitution
// prints when that is known statically — echo and printf of known words,
// which and command -v (the name looked up), and rev, tr or cat of such
// text through a pipe or a here-string. Anything else is errRunTime.
func (w *walker) substOutput(out io.Writer, cs *syntax.CmdSubst) error {
	if w.substDepth >= maxSubst || len(cs.Stmts) != 1 {
		return errRunTime
	}
	w.substDepth++
	defer func() { w.substDepth-- }()
	text, err := w.stmtOutput(cs.Stmts[0], "", false)
	if err != nil {
		return err
	}
	_, err = io.WriteString(out, text)
	return err
}

func (w *walker) stmtOutput(st *syntax.Stmt, in string, piped bool) (string, error) {
	if st == nil || st.Background || st.Coprocess || st.Negated {
		return "", errRunTime
	}
	for _, r := range st.Redirs {
		switch {
		case r.Op == syntax.WordHdoc && r.Word != nil:
			v, ok := w.staticLiteral(r.Word)
			if !ok {
				return "", errRunTime
			}
			in, piped = v+"\n", true
		case r.N != nil && r.N.Value == "2":
			// stderr is not part of the output.
		default:
			return "", errRunTime
		}
	}
	switch c := st.Cmd.(type) {
	case *syntax.CallExpr:
		if len(c.Assigns) > 0 || len(c.Args) == 0 {
			return "", errRunTime
		}
		var argv []string
		for _, a := range c.Args {
			fs, ok := w.expandFields(a, true)
			if !ok {
				return "", errRunTime
			}
			argv = append(argv, fs...)
		}
		return w.pureOutput(argv, in, piped)
	case *syntax.BinaryCmd:
		if c.Op != syntax.Pipe {
			return "", errRunTime
		}
		left, err := w.stmtOutput(c.X, in, piped)
		if err != nil {
			return "", err
		}
		return w.stmtOutput(c.Y, left, true)
	}
	return "", errRunTime
}

func (w *walker) staticLiteral(word *syntax.Word) (string, bool) {
	fs, ok := w.expandFields(word, true)
	if !ok {
		return "", false
	}
	return strings.Join(fs, " "), true
}

// pureOutput is what a program that only transforms text prints, given
// argv and its input.
func (w *walker) pureOutput(argv []string, in string, piped bool) (string, error) {
	if len(argv) == 0 {
		return "", errRunTime
	}
	args := argv[1:]
	var out string
	switch baseName(argv[0]) {
	case "echo":
		w.senv.built = true
		out = echoOutput(args, false)
	case "printf":
		w.senv.built = true
		s, ok := printfOutput(args)
		if !ok {
			return "", errRunTime
		}
		out = s
	case "which", "command", "type":
		// The program a name resolves to: for rating, the name itself.
		if len(args) != 1 && !(len(args) == 2 && (args[0] == "-v" || args[0] == "-P" || args[0] == "-p")) {
			return "", errRunTime
		}
		if argv[0] != "which" && len(args) != 2 {
			return "", errRunTime
		}
		out = args[len(args)-1] + "\n"
	case "cat":
		if len(args) > 0 || !piped {
			return "", errRunTime
		}
		out = in
	case "rev":
		if len(args) > 0 || !piped {
			return "", errRunTime
		}
		w.senv.built = true
		out = revLines(in)
	case "tr":
		if !piped {
			return "", errRunTime
		}
		s, ok := trOutput(args, in)
		if !ok {
			return "", errRunTime
		}
		w.senv.built = true
		out = s
	default:
		return "", errRunTime
	}
	if len(out) > maxValue {
		return "", errRunTime
	}
	return out, nil
}

func baseName(n string) string {
	if i := strings.LastIndexByte(n, '/'); i >= 0 {
		return n[i+1:]
	}
	return n
}

// echoOutput is what bash's echo prints for args; decode says to decode
// backslash escapes even without -e (for text that is code, where either
// reading matters).
func echoOutput(args []string, decode bool) string {
	nl := true
	for len(args) > 0 && len(args[0]) > 1 && args[0][0] == '-' && strings.Trim(args[0][1:], "neE") == "" {
		for _, c := range args[0][1:] {
			switch c {
			case 'n':
				nl = false
			case 'e':
				decode = true
			}
		}
		args = args[1:]
	}
	s := strings.Join(args, " ")
	if decode {
		s = DecodeANSIC(s)
	}
	if nl {
		s += "\n"
	}
	return s
}

// printfOutput is what bash's printf prints for args; the format is used
// again while arguments remain. ok is false for printf -v (which prints
// nothing) and bad formats.
func printfOutput(args []string) (string, bool) {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-v") {
		return "", false
	}
	format, rest := args[0], args[1:]
	if rest == nil {
		rest = []string{}
	}
	var b strings.Builder
	for range 64 {
		s, n, err := expand.Format(nil, format, rest)
		if err != nil {
			return "", false
		}
		b.WriteString(s)
		if n == 0 || n >= len(rest) || b.Len() > maxValue {
			break
		}
		rest = rest[n:]
	}
	return b.String(), true
}

func revLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		r := []rune(l)
		for a, z := 0, len(r)-1; a < z; a, z = a+1, z-1 {
			r[a], r[z] = r[z], r[a]
		}
		lines[i] = string(r)
	}
	return strings.Join(lines, "\n")
}

// trOutput is what tr SET1 SET2 or tr -d SET prints for in, for sets of
// plain characters, ranges and the common classes.
func trOutput(args []string, in string) (string, bool) {
	del := false
	if len(args) > 0 && args[0] == "-d" {
		del, args = true, args[1:]
	}
	if del && len(args) != 1 || !del && len(args) != 2 {
		return "", false
	}
	from, ok := trSet(args[0])
	if !ok {
		return "", false
	}
	if del {
		return strings.Map(func(r rune) rune {
			if strings.ContainsRune(from, r) {
				return -1
			}
			return r
		}, in), true
	}
	to, ok := trSet(args[1])
	if !ok || to == "" {
		return "", false
	}
	f, t := []rune(from), []rune(to)
	for len(t) < len(f) {
		t = append(t, t[len(t)-1])
	}
	return strings.Map(func(r rune) rune {
		for i := len(f) - 1; i >= 0; i-- {
			if f[i] == r {
				return t[i]
			}
		}
		return r
	}, in), true
}

// trSet expands a tr set: characters, a-z ranges, backslash escapes and
// [:lower:], [:upper:], [:digit:]. ok is false for anything else.
func trSet(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if b.Len() > 1024 {
			return "", false
		}
		if s[i] == '[' {
			switch {
			case strings.HasPrefix(s[i:], "[:lower:]"):
				b.WriteString("abcdefghijklmnopqrstuvwxyz")
			case strings.HasPrefix(s[i:], "[:upper:]"):
				b.WriteString("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
			case strings.HasPrefix(s[i:], "[:digit:]"):
				b.WriteString("0123456789")
			default:
				return "", false
			}
			i += len("[:lower:]") - 1
			continue
		}
		c := s[i]
		if c == '\\' && i+1 < len(s) {
			i++
			c = DecodeANSIC(`\` + string(s[i]))[0]
		}
		if i+2 < len(s) && s[i+1] == '-' && s[i+2] >= c {
			for x := int(c); x <= int(s[i+2]); x++ {
				b.WriteByte(byte(x))
			}
			i += 2
			continue
		}
		b.WriteByte(c)
	}
	return b.String(), true
}

// xargsItems splits xargs input as xargs does: by blanks and newlines
// with quotes and backslashes (the default), at NUL (-0) or at one
// delimiter (-d); eof ends the input (-E).
func xargsItems(in string, delim string, eof string) []string {
	var out []string
	if delim != "" {
		for _, it := range strings.Split(in, delim) {
			if len(out) >= maxItems {
				break
			}
			if it != "" || delim != "\n" {
				out = append(out, strings.TrimSuffix(it, "\n"))
			}
		}
		if n := len(out); n > 0 && out[n-1] == "" {
			out = out[:n-1]
		}
		return out
	}
	var cur strings.Builder
	have := false
	var quote byte
	flush := func() bool {
		if have {
			if eof != "" && cur.String() == eof {
				return false
			}
			out = append(out, cur.String())
		}
		cur.Reset()
		have = false
		return len(out) < maxItems
	}
	for i := 0; i < len(in); i++ {
		c := in[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote, have = c, true
		case c == '\\' && i+1 < len(in):
			i++
			cur.WriteByte(in[i])
			have = true
		case c == ' ' || c == '\t' || c == '\n':
			if !flush() {
				return out
			}
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	flush()
	return out
}

// alias expands the alias that names the command c, if the text defined
// one earlier: bash replaces the word with the alias's text and reads
// the result again. It reports whether it did. (bash expands aliases in
// a script only with `shopt -s expand_aliases`, and not on the line that
// defines them; the rating assumes it would, which is never lower.)
func (s *scope) alias(c *syntax.CallExpr, st *syntax.Stmt) bool {
	w := s.w
	if len(w.aliases) == 0 || len(c.Args) == 0 || len(c.Args[0].Parts) != 1 {
		return false
	}
	lit, ok := c.Args[0].Parts[0].(*syntax.Lit)
	if !ok {
		return false
	}
	name := lit.Value
	val, ok := w.aliases[name]
	if !ok || w.expanding["alias "+name] {
		return false
	}
	a, b := int(st.Pos().Offset()), int(st.End().Offset())
	n0, n1 := int(c.Args[0].Pos().Offset()), int(c.Args[0].End().Offset())
	if a < 0 || b > len(s.src) || !(a <= n0 && n0 <= n1 && n1 <= b) {
		return false
	}
	text := s.src[a:n0] + val + strings.TrimRight(s.src[n1:b], ";& \t\n")
	if !w.budget(len(text)) {
		return true
	}
	if w.expanding == nil {
		w.expanding = map[string]bool{}
	}
	w.expanding["alias "+name] = true
	w.lenientFailed = false
	w.parseShell(text, append(s.via[:len(s.via):len(s.via)], "alias "+name), s.depth, false)
	if w.lenientFailed {
		w.opaque("alias " + name + " does not read as bash where it is used")
	}
	delete(w.expanding, "alias "+name)
	return true
}

// budget takes n bytes from what may be walked again for aliases,
// functions and values evaluated as code; when it runs out the command
// is opaque.
func (w *walker) budget(n int) bool {
	w.expanded += n
	if w.expanded > maxExpansion {
		w.opaque("too much alias, function and evaluated text to follow")
		return false
	}
	return true
}

// noteAlias records the aliases that Commands[idx] defines.
func (s *scope) noteAlias(idx int) {
	c := &s.w.facts.Commands[idx]
	if len(c.Argv) < 2 || c.Argv[0].Dynamic || c.Argv[0].Lit != "alias" {
		return
	}
	for _, a := range c.Argv[1:] {
		name, val, ok := strings.Cut(a.Lit, "=")
		if !ok || name == "" || strings.HasPrefix(name, "-") {
			continue
		}
		if a.Dynamic {
			// What the alias runs is only known at run time.
			s.w.opaque("alias " + name + " is defined at run time")
			continue
		}
		if s.w.aliases == nil {
			s.w.aliases = map[string]string{}
		}
		s.w.aliases[name] = val
	}
}

// callFunc walks the body of the function that Commands[idx] calls, if
// the text defined it earlier, with the call's arguments as its
// positional parameters.
func (s *scope) callFunc(idx int, c *syntax.CallExpr) {
	w := s.w
	if len(w.funcs) == 0 || len(c.Args) == 0 || len(c.Args[0].Parts) != 1 {
		return
	}
	if _, ok := c.Args[0].Parts[0].(*syntax.Lit); !ok {
		return
	}
	cmd := &w.facts.Commands[idx]
	if len(cmd.Argv) == 0 || cmd.Argv[0].Dynamic {
		return
	}
	name := cmd.Argv[0].Lit
	fn, ok := w.funcs[name]
	if !ok || fn.body == nil || w.expanding["func "+name] {
		return
	}
	if s.depth+1 > maxDepth {
		w.opaque("nested too deeply")
		return
	}
	if !w.budget(int(fn.body.End().Offset() - fn.body.Pos().Offset())) {
		return
	}
	fr := frame{}
	for _, a := range cmd.Argv[1:] {
		fr.args = append(fr.args, a.Lit)
		fr.known = append(fr.known, !a.Dynamic)
	}
	if w.expanding == nil {
		w.expanding = map[string]bool{}
	}
	w.expanding["func "+name] = true
	w.frames = append(w.frames, fr)
	inner := &scope{w: w, src: fn.src, via: s.viaFor(cmd, "function "+name), depth: s.depth + 1}
	inner.stmt(fn.body, cmd.PipeFrom)
	w.frames = w.frames[:len(w.frames)-1]
	delete(w.expanding, "func "+name)
}

// loopAssigns marks what a loop assigns (name=…, read name, for name in)
// as unknown before its body is walked: a later round sees the value an
// earlier one set, not the one before the loop.
func (w *walker) loopAssigns(loop syntax.Node) {
	syntax.Walk(loop, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.Assign:
			if n.Name != nil {
				w.unknownVar(n.Name.Value)
			}
		case *syntax.WordIter:
			if n.Name != nil {
				w.unknownVar(n.Name.Value)
			}
		case *syntax.CallExpr:
			if len(n.Args) == 0 {
				break
			}
			switch n.Args[0].Lit() {
			case "read", "readarray", "mapfile", "getopts", "printf", "unset", "let", "export", "declare", "typeset", "local", "readonly":
				for _, a := range n.Args[1:] {
					if name, _, _ := strings.Cut(a.Lit(), "="); isName(name) {
						w.unknownVar(name)
					}
				}
			case "cd", "pushd", "popd":
				w.moved = true
			case "eval", "source", ".":
				w.sourced = true
			}
		}
		return true
	})
}
