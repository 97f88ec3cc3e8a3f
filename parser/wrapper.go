package parser

import (
	"path/filepath"
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/chaperone-dev/chaperone/internal/lazyre"
)

// Wrapper is what an agent put around the command its model asked for.
// Recognition is structural: the script is parsed with mvdan/sh and every
// statement of the wrapper must have exactly the shape the agent produces;
// anything else (an extra statement, a `)` that closes the wrapper early,
// a source of another file) means "not a wrapper" and the whole script is
// rated as it is.
type Wrapper struct {
	// Agent is "claude", "gemini", "codex" or "" (a plain eval).
	Agent string
	// Kind names the form, e.g. "claude-eval", "gemini-trap", "codex-exec".
	Kind string
	// Inner is the command the model asked for; it is what gets rated.
	Inner string
	// Exec is, for "codex-exec", the argv the script ends by exec'ing:
	// [shell, "-c", Inner]; chaperone is that shell and sees it again.
	Exec []string
	// Outputs are host files the wrapper writes for the agent (Claude
	// Code's cwd file, Gemini CLI's background-jobs file); Inputs are the
	// snapshot files it sources. Backends keep both reachable.
	Outputs, Inputs []string
}

// Places are the agents' own state folders that their wrappers source
// snapshot files from. The zero value matches nothing.
type Places struct {
	// ClaudeDir is $CLAUDE_CONFIG_DIR or ~/.claude.
	ClaudeDir string
	// CodexHome is $CODEX_HOME or ~/.codex.
	CodexHome string
}

// PlacesFromEnv finds the agents' state folders from the environment.
func PlacesFromEnv(getenv func(string) string) Places {
	home := getenv("HOME")
	p := Places{ClaudeDir: getenv("CLAUDE_CONFIG_DIR"), CodexHome: getenv("CODEX_HOME")}
	if p.ClaudeDir == "" && home != "" {
		p.ClaudeDir = filepath.Join(home, ".claude")
	}
	if p.CodexHome == "" && home != "" {
		p.CodexHome = filepath.Join(home, ".codex")
	}
	return p
}

// Unwrap recognises the wrapper of agent (as DetectAgent names it) around
// script. A wrapper is recognised only for the agent that writes it, so a
// command string sent through another agent cannot pose as one; a plain
// `eval '<literal>'` is recognised for everyone, as it means its literal.
func Unwrap(script, agent string, pl Places) (*Wrapper, bool) {
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(script), "")
	if err != nil {
		return nil, false
	}
	var w *Wrapper
	switch agent {
	case AgentClaude:
		if w = claudeEval(f, pl); w == nil {
			w = claudeSnapshot(script, f, pl)
		}
	case AgentGemini:
		w = geminiTrap(script, f)
	case AgentCodex:
		if w = codexExec(f, pl); w == nil {
			if w = codexCheck(f, pl); w == nil {
				w = knownScript(script, agent)
			}
		}
	}
	if w == nil {
		w = plainEval(f)
	}
	return w, w != nil
}

// claudeEval recognises Claude Code's per-command form:
//
//	source SNAP 2>/dev/null || true && \builtin shopt -u extglob 2>/dev/null || true &&
//	{ \builtin unalias -- 'which'; … } >/dev/null 2>&1 || true && … &&
//	eval '<CMD>' < /dev/null && pwd -P >| $TMPDIR/claude-XXXX-cwd
func claudeEval(f *syntax.File, pl Places) *Wrapper {
	if len(f.Stmts) != 1 || !plainStmt(f.Stmts[0]) {
		return nil
	}
	items, ops := chain(f.Stmts[0])
	n := len(items)
	if n < 2 || ops[n-2] != syntax.AndStmt {
		return nil
	}
	// pwd -P >| …-cwd
	cwd := items[n-1]
	if args, ok := callLits(cwd); !ok || strings.Join(args, " ") != "pwd -P" || len(cwd.Redirs) != 1 ||
		cwd.Redirs[0].Op != syntax.ClbOut || cwd.Redirs[0].N != nil || !strings.HasSuffix(wordLitOr(cwd.Redirs[0].Word), "-cwd") {
		return nil
	}
	// eval '<CMD>' < /dev/null
	ev := items[n-2]
	args, ok := callLits(ev)
	if !ok || len(args) != 2 || args[0] != "eval" || len(ev.Redirs) != 1 || ev.Redirs[0].Op != syntax.RdrIn ||
		ev.Redirs[0].N != nil || wordLitOr(ev.Redirs[0].Word) != "/dev/null" {
		return nil
	}
	// The prelude: (X || true) && … where every X is the agent's own.
	pre := items[:n-2]
	if len(pre)%2 != 0 {
		return nil
	}
	w := &Wrapper{Agent: AgentClaude, Kind: "claude-eval", Inner: args[1], Outputs: []string{wordLitOr(cwd.Redirs[0].Word)}}
	for i := 0; i < len(pre); i += 2 {
		if ops[i] != syntax.OrStmt || ops[i+1] != syntax.AndStmt {
			return nil
		}
		if a, ok := callLits(pre[i+1]); !ok || len(a) != 1 || a[0] != "true" || len(pre[i+1].Redirs) > 0 {
			return nil
		}
		if !claudePrelude(pre[i], pl) {
			return nil
		}
		if a, ok := callLits(pre[i]); ok && len(a) == 2 && (a[0] == "source" || a[0] == ".") {
			w.Inputs = append(w.Inputs, a[1])
		}
	}
	return w
}

// claudePrelude accepts `source <snapshot>` of a file in Claude's own
// shell-snapshots folder, and harmless builtins (shopt, setopt, unalias,
// unset -f) in any grouping, with output thrown away.
func claudePrelude(s *syntax.Stmt, pl Places) bool {
	if !quietRedirs(s) || s.Negated || s.Background {
		return false
	}
	if a, ok := callLits(s); ok && len(a) == 2 && (a[0] == "source" || a[0] == ".") {
		return pl.ClaudeDir != "" && inDir(a[1], filepath.Join(pl.ClaudeDir, "shell-snapshots")) &&
			strings.HasPrefix(filepath.Base(a[1]), "snapshot-")
	}
	return harmless(s, claudeBuiltins)
}

var claudeBuiltins = map[string]bool{"shopt": true, "setopt": true, "unalias": true, "unset": true, "true": true, ":": true}

// harmless accepts statements made only of builtins in allowed, with
// literal arguments, grouped by { }, && and ||, with output thrown away.
func harmless(s *syntax.Stmt, allowed map[string]bool) bool {
	if !quietRedirs(s) || s.Background {
		return false
	}
	switch c := s.Cmd.(type) {
	case *syntax.Block:
		for _, x := range c.Stmts {
			if !harmless(x, allowed) {
				return false
			}
		}
		return len(c.Stmts) > 0
	case *syntax.BinaryCmd:
		return (c.Op == syntax.AndStmt || c.Op == syntax.OrStmt) && harmless(c.X, allowed) && harmless(c.Y, allowed)
	case *syntax.CallExpr:
		a, ok := callLits(s)
		if !ok || len(a) == 0 {
			return false
		}
		a = stripBuiltin(a)
		return len(a) > 0 && allowed[a[0]]
	}
	return false
}

// stripBuiltin drops the `builtin` / `command` prefix (with or without a
// leading backslash, already removed by quote removal).
func stripBuiltin(a []string) []string {
	for len(a) > 0 && (a[0] == "builtin" || a[0] == "command") {
		a = a[1:]
	}
	return a
}

// geminiTrap recognises Gemini CLI's form:
//
//	shopt -u promptvars nullglob extglob nocaseglob dotglob; _bgpids_file=…
//	(
//	  trap 'jobs -p > "$_bgpids_file"' EXIT
//	<CMD>
//	)
//	__code=$?
//	exit $__code
func geminiTrap(src string, f *syntax.File) *Wrapper {
	if len(f.Stmts) != 5 {
		return nil
	}
	for _, s := range f.Stmts {
		if !plainStmt(s) || len(s.Redirs) > 0 {
			return nil
		}
	}
	if a, ok := callLits(f.Stmts[0]); !ok || len(a) < 2 || a[0] != "shopt" || a[1] != "-u" {
		return nil
	}
	as, ok := f.Stmts[1].Cmd.(*syntax.CallExpr)
	if !ok || len(as.Args) != 0 || len(as.Assigns) != 1 || as.Assigns[0].Name == nil ||
		as.Assigns[0].Name.Value != "_bgpids_file" || as.Assigns[0].Value == nil {
		return nil
	}
	bg, ok := lit(as.Assigns[0].Value)
	if !ok {
		return nil
	}
	sub, ok := f.Stmts[2].Cmd.(*syntax.Subshell)
	if !ok || len(sub.Stmts) == 0 || span(src, f.Stmts[2].Cmd) == "" {
		return nil
	}
	if span(src, sub.Stmts[0]) != `trap 'jobs -p > "$_bgpids_file"' EXIT` {
		return nil
	}
	if span(src, f.Stmts[3]) != "__code=$?" || span(src, f.Stmts[4]) != "exit $__code" {
		return nil
	}
	start, end := sub.Stmts[0].End().Offset(), sub.Rparen.Offset()
	if start > end || int(end) > len(src) {
		return nil
	}
	return &Wrapper{Agent: AgentGemini, Kind: "gemini-trap", Inner: strings.TrimSpace(src[start:end]), Outputs: []string{bg}}
}

// codexExec recognises Codex's per-command form: a prelude that saves and
// restores CODEX_* and proxy variables around sourcing its own snapshot,
// prepends its codex-path folder to PATH, and ends with
//
//	exec '<shell>' -c '<CMD>'
func codexExec(f *syntax.File, pl Places) *Wrapper {
	n := len(f.Stmts)
	if n < 2 {
		return nil
	}
	last := f.Stmts[n-1]
	a, ok := callLits(last)
	if !ok || !plainStmt(last) || len(last.Redirs) > 0 || len(a) != 4 || a[0] != "exec" || a[2] != "-c" ||
		!filepath.IsAbs(a[1]) || !shellNames[filepath.Base(a[1])] {
		return nil
	}
	w := &Wrapper{Agent: AgentCodex, Kind: "codex-exec", Inner: a[3], Exec: a[1:]}
	for _, s := range f.Stmts[:n-1] {
		if !codexPrelude(s, pl) {
			return nil
		}
	}
	// The snapshot the prelude sources (checked above to be in Codex's
	// own folder) is what the sandbox must show.
	syntax.Walk(&syntax.File{Stmts: f.Stmts[:n-1]}, func(n syntax.Node) bool {
		if c, ok := n.(*syntax.CallExpr); ok && len(c.Args) == 2 {
			if name, ok := lit(c.Args[0]); ok && (name == "." || name == "source") {
				if p, ok := lit(c.Args[1]); ok {
					w.Inputs = append(w.Inputs, p)
				}
			}
		}
		return true
	})
	return w
}

var shellNames = map[string]bool{"bash": true, "sh": true, "zsh": true}

// codexEnvName matches the variables Codex saves and restores around its
// snapshot: its own, proxies and CA bundles.
var codexEnvName = lazyre.New(`^(__CODEX_[A-Z0-9_]+|CODEX_[A-Z0-9_]+|[A-Za-z_]*(PROXY|proxy)|[A-Z_]*(CA_CERT|CAINFO|CA_BUNDLE|CAFILE|CERT_FILE|CA_CERTS|CERTIFICATE)|npm_config_cafile|PIP_CERT)$`)

// codexPrelude accepts only what Codex's prelude is made of: assignments
// and exports of the variables above (values without command
// substitution), unset, test/[ , `:`, if/else, `. <snapshot>` of a file in
// $CODEX_HOME/shell_snapshots, and `export PATH='…/codex-path':"$PATH"`.
func codexPrelude(s *syntax.Stmt, pl Places) bool {
	if s.Background || s.Coprocess || !quietRedirs(s) || hasSubst(s) {
		return false
	}
	switch c := s.Cmd.(type) {
	case *syntax.IfClause:
		for ic := c; ic != nil; ic = ic.Else {
			for _, x := range append(append([]*syntax.Stmt{}, ic.Cond...), ic.Then...) {
				if !codexPrelude(x, pl) {
					return false
				}
			}
		}
		return true
	case *syntax.BinaryCmd:
		return (c.Op == syntax.AndStmt || c.Op == syntax.OrStmt) && codexPrelude(c.X, pl) && codexPrelude(c.Y, pl)
	case *syntax.DeclClause:
		if c.Variant.Value != "export" {
			return false
		}
		for _, as := range c.Args {
			if as.Name == nil || as.Array != nil || as.Index != nil {
				return false
			}
			if as.Name.Value == "PATH" {
				if as.Naked || !codexPath(as.Value) {
					return false
				}
				continue
			}
			if !codexEnvName.MatchString(as.Name.Value) {
				return false
			}
		}
		return true
	case *syntax.CallExpr:
		if len(c.Args) == 0 {
			for _, as := range c.Assigns {
				if as.Name == nil || as.Array != nil || as.Index != nil || !codexEnvName.MatchString(as.Name.Value) {
					return false
				}
			}
			return true
		}
		if len(c.Assigns) > 0 {
			return false
		}
		name, ok := lit(c.Args[0])
		if !ok {
			return false
		}
		switch name {
		case "[", "test", ":", "true":
			return true // arguments may expand variables; no substitution (checked above)
		case ".", "source":
			p, ok := lit(lastWord(c.Args))
			return ok && len(c.Args) == 2 && pl.CodexHome != "" && inDir(p, filepath.Join(pl.CodexHome, "shell_snapshots"))
		case "builtin", "command", "unset":
			a, ok := callLits(s)
			if !ok {
				return false
			}
			a = stripBuiltin(a)
			if len(a) < 2 || a[0] != "unset" {
				return false
			}
			for _, v := range a[1:] {
				if !codexEnvName.MatchString(v) {
					return false
				}
			}
			return true
		}
	}
	return false
}

// codexPath accepts '<dir>/codex-path':"$PATH" and '<dir>/codex-path'.
func codexPath(w *syntax.Word) bool {
	if w == nil || len(w.Parts) == 0 {
		return false
	}
	first, ok := w.Parts[0].(*syntax.SglQuoted)
	if !ok || first.Dollar || filepath.Base(first.Value) != "codex-path" || !filepath.IsAbs(first.Value) {
		return false
	}
	switch len(w.Parts) {
	case 1:
		return true
	case 3:
		colon, ok1 := w.Parts[1].(*syntax.Lit)
		dq, ok2 := w.Parts[2].(*syntax.DblQuoted)
		if !ok1 || !ok2 || colon.Value != ":" || len(dq.Parts) != 1 {
			return false
		}
		pe, ok := dq.Parts[0].(*syntax.ParamExp)
		return ok && pe.Param.Value == "PATH" && pe.Exp == nil && pe.Repl == nil && pe.Index == nil && !pe.Excl && !pe.Length
	}
	return false
}

// plainEval recognises `eval '<literal>'` alone (OpenCode's JSON-string form
// among others): it means exactly its literal.
func plainEval(f *syntax.File) *Wrapper {
	if len(f.Stmts) != 1 || !plainStmt(f.Stmts[0]) || len(f.Stmts[0].Redirs) > 0 {
		return nil
	}
	a, ok := callLits(f.Stmts[0])
	if !ok || len(a) != 2 || a[0] != "eval" {
		return nil
	}
	return &Wrapper{Kind: "eval", Inner: a[1]}
}

// chain flattens a left-leaning &&/|| list into its statements and the
// operators between them (ops[i] joins items[i] and items[i+1]).
func chain(s *syntax.Stmt) (items []*syntax.Stmt, ops []syntax.BinCmdOperator) {
	b, ok := s.Cmd.(*syntax.BinaryCmd)
	if !ok || !plainStmt(s) || len(s.Redirs) > 0 || (b.Op != syntax.AndStmt && b.Op != syntax.OrStmt) {
		return []*syntax.Stmt{s}, nil
	}
	items, ops = chain(b.X)
	return append(items, b.Y), append(ops, b.Op)
}

// plainStmt is a statement that is not negated, backgrounded or a coprocess.
func plainStmt(s *syntax.Stmt) bool { return !s.Negated && !s.Background && !s.Coprocess && !s.Disown }

// callLits returns the literal argv of a simple command without
// assignments, or false when any word is not a plain literal.
func callLits(s *syntax.Stmt) ([]string, bool) {
	c, ok := s.Cmd.(*syntax.CallExpr)
	if !ok || len(c.Assigns) > 0 || len(c.Args) == 0 {
		return nil, false
	}
	out := make([]string, 0, len(c.Args))
	for _, w := range c.Args {
		v, ok := lit(w)
		if !ok {
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}

// quietRedirs accepts only redirections that throw output away or
// duplicate descriptors: >/dev/null, 2>/dev/null, 2>&1, </dev/null.
func quietRedirs(s *syntax.Stmt) bool {
	for _, r := range s.Redirs {
		t, ok := lit(r.Word)
		switch {
		case !ok || r.Hdoc != nil:
			return false
		case (r.Op == syntax.RdrOut || r.Op == syntax.RdrIn || r.Op == syntax.AppOut || r.Op == syntax.RdrAll) && t == "/dev/null":
		case (r.Op == syntax.DplOut || r.Op == syntax.DplIn) && (t == "1" || t == "2" || t == "0"):
		default:
			return false
		}
	}
	return true
}

// hasSubst reports whether n holds a command or process substitution, or
// arithmetic (which can run commands through array subscripts).
func hasSubst(n syntax.Node) bool {
	found := false
	syntax.Walk(n, func(n syntax.Node) bool {
		switch n.(type) {
		case *syntax.CmdSubst, *syntax.ProcSubst, *syntax.ArithmExp, *syntax.ArithmCmd, *syntax.FuncDecl,
			*syntax.Subshell, *syntax.WhileClause, *syntax.ForClause, *syntax.CaseClause:
			found = true
		}
		return !found
	})
	return found
}

func lastWord(ws []*syntax.Word) *syntax.Word { return ws[len(ws)-1] }

// inDir reports whether the clean absolute path p lies inside dir.
func inDir(p, dir string) bool {
	if !filepath.IsAbs(p) || filepath.Clean(p) != p {
		return false
	}
	return strings.HasPrefix(p, filepath.Clean(dir)+"/")
}

func span(src string, n syntax.Node) string {
	s, e := n.Pos().Offset(), n.End().Offset()
	if !n.Pos().IsValid() || s > e || int(e) > len(src) {
		return ""
	}
	return src[s:e]
}

func wordLitOr(w *syntax.Word) string {
	v, _ := lit(w)
	return v
}

// lit returns a word's value after quote removal when it has no
// expansion of any kind (parameters, substitutions, globs, tilde, braces).
func lit(w *syntax.Word) (string, bool) {
	if w == nil {
		return "", false
	}
	var b strings.Builder
	for _, p := range w.Parts {
		switch p := p.(type) {
		case *syntax.Lit:
			if !unquoted(&b, p.Value) {
				return "", false
			}
		case *syntax.SglQuoted:
			if p.Dollar {
				return "", false
			}
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			if p.Dollar {
				return "", false
			}
			for _, q := range p.Parts {
				l, ok := q.(*syntax.Lit)
				if !ok {
					return "", false
				}
				dquoted(&b, l.Value)
			}
		default:
			return "", false
		}
	}
	return b.String(), true
}

// unquoted writes an unquoted literal after backslash removal; it fails on
// characters that would expand (globs, tilde, braces).
func unquoted(b *strings.Builder, s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			if s[i] != '\n' {
				b.WriteByte(s[i])
			}
		case c == '*' || c == '?' || c == '~',
			c == '[' && strings.IndexByte(s[i:], ']') > 0,
			c == '{' && strings.IndexByte(s[i:], '}') > 0:
			return false // a glob, tilde or brace expansion
		default:
			b.WriteByte(c)
		}
	}
	return true
}

// dquoted writes a double-quoted literal: a backslash escapes only $ ` " \
// and newline.
func dquoted(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[i+1]) >= 0 {
			i++
			if s[i] != '\n' {
				b.WriteByte(s[i])
			}
			continue
		}
		b.WriteByte(c)
	}
}
