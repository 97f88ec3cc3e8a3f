package parser

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"mvdan.cc/sh/v3/syntax"

	"github.com/chaperone-dev/chaperone/models"
)

// word resolves a word to its value as bash would expand it to one string
// (an assignment value, a redirection target): see approx, and expand.go
// for what is evaluated statically.
func (s *scope) word(w *syntax.Word) models.Word {
	out := s.approx(w)
	if !needsExpansion(w.Parts) && !s.w.ownTilde(w) {
		return out
	}
	if v, ok := s.w.expandLiteral(w); ok {
		out.Lit, out.Dynamic = v, false
	}
	out.Assembled = assembled(w, s.w.senv.built)
	return out
}

// approx resolves a word to its literal value after quote removal, or to
// a static approximation when it depends on expansions: $HOME and ${HOME}
// become "~" (unless HOME is known), other parameters stay as "$NAME",
// substitutions as "$(…)". Commands inside substitutions are added to the
// facts.
func (s *scope) approx(w *syntax.Word) models.Word {
	if len(w.Parts) == 1 {
		// The common cases, without building a string.
		switch p := w.Parts[0].(type) {
		case *syntax.Lit:
			if !strings.ContainsAny(p.Value, "\\*?[") {
				return models.Word{Lit: p.Value}
			}
		case *syntax.SglQuoted:
			if !p.Dollar {
				return models.Word{Lit: p.Value}
			}
		}
	}
	var out models.Word
	var b strings.Builder
	for i, p := range w.Parts {
		s.part(p, &b, &out, false, i == 0)
	}
	out.Lit = b.String()
	return out
}

func (s *scope) part(p syntax.WordPart, b *strings.Builder, out *models.Word, quoted, first bool) {
	switch p := p.(type) {
	case *syntax.Lit:
		v := p.Value
		if quoted {
			b.WriteString(unescapeDouble(v))
			return
		}
		if strings.ContainsAny(v, "*?[") {
			out.Glob = true
		}
		b.WriteString(unescapeBare(v))
	case *syntax.SglQuoted:
		if p.Dollar {
			b.WriteString(DecodeANSIC(p.Value))
		} else {
			b.WriteString(p.Value)
		}
	case *syntax.DblQuoted:
		for _, q := range p.Parts {
			s.part(q, b, out, true, false)
		}
	case *syntax.ParamExp:
		name := ""
		if p.Param != nil {
			name = p.Param.Value
		}
		if v, ok := s.w.lookup(name); ok && p.Exp == nil && p.Repl == nil && p.Slice == nil && p.Index == nil && !p.Length && !p.Excl && p.Names == 0 {
			// Assigned a literal earlier in this text.
			b.WriteString(v)
			return
		}
		out.Dynamic = true
		b.WriteString(paramApprox(name))
		s.param(p)
	case *syntax.CmdSubst:
		out.Dynamic = true
		a, z := s.nested(p.Stmts)
		for i := a; i < z; i++ {
			out.Subst = append(out.Subst, i)
		}
		b.WriteString("$(")
		b.WriteString(s.span(p)[min(2, len(s.span(p))):max(2, len(s.span(p))-1)])
		b.WriteString(")")
	case *syntax.ProcSubst:
		out.Dynamic = true
		out.ProcSubst = true
		a, z := s.nested(p.Stmts)
		for i := a; i < z; i++ {
			out.Subst = append(out.Subst, i)
		}
		b.WriteString(s.span(p))
	case *syntax.ArithmExp:
		out.Dynamic = true
		s.arith(p.X)
		b.WriteString("0")
	case *syntax.ExtGlob:
		out.Glob = true
		b.WriteString(s.span(p))
	case *syntax.BraceExp:
		out.Glob = true
		b.WriteString(s.span(p))
	default:
		out.Dynamic = true
		if p != nil {
			syntax.Walk(p, s.substWalker)
		}
	}
}

// paramApprox is how a parameter expansion is written in a Lit.
func paramApprox(name string) string {
	switch name {
	case "HOME":
		return "~"
	case "XDG_CONFIG_HOME":
		return "~/.config"
	case "XDG_RUNTIME_DIR":
		return "/run/user/$UID"
	case "TMPDIR":
		return "/tmp"
	case "":
		return "$?"
	}
	return "$" + name
}

// unescapeBare removes backslash escapes from an unquoted literal.
func unescapeBare(v string) string {
	if !strings.Contains(v, "\\") {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
			if v[i] == '\n' {
				continue
			}
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// unescapeDouble removes the escapes that double quotes honour.
func unescapeDouble(v string) string {
	if !strings.Contains(v, "\\") {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			switch v[i+1] {
			case '"', '\\', '$', '`':
				i++
			case '\n':
				i++
				continue
			}
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// DecodeANSIC decodes the body of a $'…' string the way bash does.
func DecodeANSIC(v string) string {
	if !strings.Contains(v, "\\") {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '\\' || i+1 >= len(v) {
			b.WriteByte(c)
			continue
		}
		i++
		switch v[i] {
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'e', 'E':
			b.WriteByte(0x1b)
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte('\v')
		case '\\', '\'', '"', '?':
			b.WriteByte(v[i])
		case 'x':
			j := i + 1
			for j < len(v) && j < i+3 && isHex(v[j]) {
				j++
			}
			if j == i+1 {
				b.WriteString("\\x")
				continue
			}
			n, _ := strconv.ParseUint(v[i+1:j], 16, 8)
			b.WriteByte(byte(n))
			i = j - 1
		case 'u', 'U':
			limit := 4
			if v[i] == 'U' {
				limit = 8
			}
			j := i + 1
			for j < len(v) && j < i+1+limit && isHex(v[j]) {
				j++
			}
			if j == i+1 {
				b.WriteByte('\\')
				b.WriteByte(v[i])
				continue
			}
			n, _ := strconv.ParseUint(v[i+1:j], 16, 32)
			if n > utf8.MaxRune {
				n = utf8.RuneError
			}
			b.WriteRune(rune(n))
			i = j - 1
		case 'c':
			if i+1 < len(v) {
				i++
				b.WriteByte(v[i] & 0x1f)
			}
		default:
			if v[i] >= '0' && v[i] <= '7' {
				j := i
				for j < len(v) && j < i+3 && v[j] >= '0' && v[j] <= '7' {
					j++
				}
				n, _ := strconv.ParseUint(v[i:j], 8, 16)
				b.WriteByte(byte(n))
				i = j - 1
				continue
			}
			b.WriteByte('\\')
			b.WriteByte(v[i])
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
