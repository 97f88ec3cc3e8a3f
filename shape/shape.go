// Package shape decides what a person's "remember" on the approval panel
// covers, and when a remembered approval applies to a later command.
//
// `A` remembers the exact command text the person saw, in its project and
// folder (For). `W` remembers its shape — for each simple command, the
// argv prefix and the flags, with any path inside the project (Of, Wider)
// — and is offered only when nothing about the command is ExactOnly: a
// secret read, a network send, chaperone itself, an opaque command, a
// path outside the project.
//
// Nothing is remembered or matched for a command that is opaque or
// unparsable, whose program name is dynamic, or that a user deny rule or a
// Critical rule matched (see Refusal). A match also needs every high-risk
// finding of the new command to be among the rules the person saw when
// approving, so `cat notes.txt` remembered does not cover a `cat` that a
// secrets rule flags.
package shape

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/internal/lazyre"
	"github.com/chaperone-dev/chaperone/models"
)

// ErrNoShape is wrapped by the errors of Of and For: the command has no
// shape that may be remembered.
var ErrNoShape = errors.New("no rememberable shape")

// subcommand is what an argv word after the program name must look like to
// count as part of the prefix ("push", "delete", "run"). Compiled on first
// use: the shim imports this package and most commands are never shaped.
var subcommand = lazyre.New(`^[a-z][a-z0-9_:-]*$`)

// maxPrefix is how many words after the program name the prefix may keep.
const maxPrefix = 2

// Of returns the shape of facts: one entry per simple command, in source
// order, each "[via…] [| ]argv-prefix sorted-flags [redirection ops] [&]".
// Words with spaces are quoted.
func Of(f *models.Facts) ([]string, error) {
	switch {
	case f == nil || len(f.Commands) == 0:
		return nil, fmt.Errorf("%w: nothing was parsed", ErrNoShape)
	case f.ParseError != "":
		return nil, fmt.Errorf("%w: the command does not parse", ErrNoShape)
	case f.Opaque:
		return nil, fmt.Errorf("%w: part of the command is opaque", ErrNoShape)
	}
	out := make([]string, 0, len(f.Commands))
	for i, c := range f.Commands {
		s, err := commandShape(c, c.PipeFrom >= 0 && c.PipeFrom != i)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func commandShape(c models.Command, piped bool) (string, error) {
	if len(c.Argv) == 0 {
		// A bare assignment or redirection: keep its redirections only.
		c.Argv = []models.Word{{Lit: ""}}
	}
	if c.Argv[0].Dynamic {
		return "", fmt.Errorf("%w: a program name is not literal", ErrNoShape)
	}
	var words []string
	for _, v := range c.Via {
		words = append(words, "["+v+"]")
	}
	if piped {
		words = append(words, "|")
	}
	words = append(words, quote(c.Argv[0].Lit))
	rest := c.Argv[1:]
	for n := 0; n < maxPrefix && len(rest) > 0; n++ {
		w := rest[0]
		if w.Dynamic || w.Glob || !subcommand.MatchString(w.Lit) {
			break
		}
		words = append(words, w.Lit)
		rest = rest[1:]
	}
	var flags []string
	for _, w := range rest {
		if w.Dynamic || len(w.Lit) < 2 || w.Lit[0] != '-' || w.Lit == "--" {
			continue
		}
		name, _, _ := strings.Cut(w.Lit, "=")
		flags = append(flags, quote(name))
	}
	slices.Sort(flags)
	words = append(words, slices.Compact(flags)...)
	var redirs []string
	for _, r := range c.Redirs {
		redirs = append(redirs, r.Fd+r.Op)
	}
	slices.Sort(redirs)
	words = append(words, slices.Compact(redirs)...)
	if c.Background {
		words = append(words, "&")
	}
	return strings.TrimSpace(strings.Join(words, " ")), nil
}

func quote(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\n\"'\\") {
		return strconv.Quote(s)
	}
	return s
}

// Critical lists the rule ids whose findings no remembered approval ever
// covers: the shape drops exactly what makes them dangerous (which path,
// which host, which script), or they are never routine. An entry ending
// in "." is a prefix. Any rule id with a "critical" part counts too.
var Critical = []string{
	"chaperone.self", // the approval machinery itself
	"destroy.unbounded", "destroy.device", "destroy.kill-all", "destroy.fork-bomb", "destroy.docker",
	"shell.reverse", "exec.download", "exec.obfuscated", "env.exfil", "evade.",
	"parse.error", "opaque", "opaque.hidden",
}

// Refusal returns why no remembered approval may ever cover a command with
// this rating, or "" when one may. It refuses an opaque rating, a finding
// of the user's own deny rules (rule id "user.deny…") or of any other user
// rule that rates high ("user.…"), and a finding of a Critical rule.
func Refusal(r models.Rating) string {
	if r.Opaque {
		return "part of the command is opaque"
	}
	for _, f := range r.Findings {
		switch {
		case strings.HasPrefix(f.Rule, "user.deny"):
			return "a deny rule of yours matched it (" + f.Rule + ")"
		case strings.HasPrefix(f.Rule, "user.") && f.Risk.Effective() >= models.High:
			return "a rule of yours rates it high (" + f.Rule + ")"
		case critical(f.Rule):
			return "it matched rule " + f.Rule + ", which is never remembered"
		}
	}
	return ""
}

func critical(rule string) bool {
	for part := range strings.SplitSeq(rule, ".") {
		if part == "critical" {
			return true
		}
	}
	for _, c := range Critical {
		if rule == c || strings.HasSuffix(c, ".") && strings.HasPrefix(rule, c) {
			return true
		}
	}
	return false
}

// highRules returns the ids of the rating's high-risk findings (unknown
// risk counts as high), sorted and without repeats; the model counts as
// rule "model" when it rated the command high.
func highRules(r models.Rating) []string {
	var ids []string
	for _, f := range r.Findings {
		if f.Risk.Effective() >= models.High {
			ids = append(ids, f.Rule)
		}
	}
	if r.Model != nil && r.Model.Error == "" && r.Model.Risk >= models.High {
		ids = append(ids, "model")
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// Seen is a held command as the person saw it on the panel: what `A` and
// `W` remember, and what Match compares a later command with.
type Seen struct {
	Project string
	Cwd     string
	// Command is the text shown: the inner command of an agent wrapper
	// when there is one, else the whole command.
	Command string
	Facts   *models.Facts
	Rating  models.Rating
}

// For returns what `A` remembers: the exact command text in its project
// and folder (config.ScopeExact), or an error wrapping ErrNoShape saying
// why it cannot be remembered at all.
func For(s Seen) (config.Remembered, error) {
	if err := rememberable(s); err != nil {
		return config.Remembered{}, err
	}
	if strings.TrimSpace(s.Command) == "" {
		return config.Remembered{}, fmt.Errorf("%w: the command is empty", ErrNoShape)
	}
	if _, err := Of(s.Facts); err != nil {
		return config.Remembered{}, err
	}
	r := config.Remembered{Scope: config.ScopeExact, Project: s.Project, Cwd: s.Cwd, Command: s.Command, Rules: highRules(s.Rating)}
	r.ID = r.Key()
	return r, nil
}

// Wider returns what `W` remembers: the command's shape (program,
// subcommands, flags) with any path inside the project
// (config.ScopeShape). It refuses (wrapping ErrNoShape) wherever only the
// exact command may be remembered: see ExactOnly, and a command with a
// path outside the project, a host or a dynamic word.
func Wider(s Seen) (config.Remembered, error) {
	if err := rememberable(s); err != nil {
		return config.Remembered{}, err
	}
	if why := ExactOnly(s.Rating); why != "" {
		return config.Remembered{}, fmt.Errorf("%w wider than the exact command: %s", ErrNoShape, why)
	}
	sh, err := Of(s.Facts)
	if err != nil {
		return config.Remembered{}, err
	}
	if why := outside(s.Project, s.Cwd, s.Facts); why != "" {
		return config.Remembered{}, fmt.Errorf("%w wider than the exact command: %s", ErrNoShape, why)
	}
	r := config.Remembered{Scope: config.ScopeShape, Project: s.Project, Shape: sh, Rules: highRules(s.Rating)}
	r.ID = r.Key()
	return r, nil
}

func rememberable(s Seen) error {
	if s.Project == "" {
		return fmt.Errorf("%w: the command has no project", ErrNoShape)
	}
	if why := Refusal(s.Rating); why != "" {
		return fmt.Errorf("%w: %s", ErrNoShape, why)
	}
	return nil
}

// exactOnly are the rule ids (a trailing "." makes a prefix) whose
// findings are remembered for the exact command only, never for a shape:
// what they are about (which secret, which host, which code) is what a
// shape drops. Any rule id with an "exfil", "outside", "home" or "system"
// part counts too, and so does the model.
var exactOnly = []string{
	"secrets.", "net.", "chaperone.", "opaque", "project.opaque", "exec.", "publish.",
	"git.push", "git.remote", "remote.", "session.remote", "project.remote", "deploy.",
	"pkg.source", "unknown.", "model",
}

// ExactOnly returns why a command with this rating may be remembered only
// as its exact text (a secret read, a network send, chaperone itself, an
// opaque command, a path outside the project, the model's judgement), or
// "" when a wider scope may be offered.
func ExactOnly(r models.Rating) string {
	if r.Opaque {
		return "part of the command is opaque"
	}
	for _, id := range highRules(r) {
		for part := range strings.SplitSeq(id, ".") {
			switch part {
			case "exfil", "outside", "home", "system":
				return "it matched rule " + id
			}
		}
		for _, c := range exactOnly {
			if id == c || strings.HasSuffix(c, ".") && strings.HasPrefix(id, c) {
				return "it matched rule " + id
			}
		}
	}
	return ""
}

// outside returns why the command's words reach beyond the project (a
// path outside it, a home path, a URL or remote host, a dynamic word), or
// "" when every path-like word stays inside.
func outside(project, cwd string, f *models.Facts) string {
	if cwd == "" {
		cwd = project
	}
	if !inside(project, cwd) {
		return "it runs outside the project (" + cwd + ")"
	}
	for _, c := range f.Commands {
		words := slices.Clone(c.Argv)
		for _, r := range c.Redirs {
			words = append(words, r.Target)
		}
		for i, w := range words {
			if i == 0 && len(c.Argv) > 0 {
				continue // the program
			}
			if w.Dynamic {
				return "a word is only known when it runs (" + w.Lit + ")"
			}
			v := w.Lit
			if strings.HasPrefix(v, "-") {
				_, val, ok := strings.Cut(v, "=")
				if !ok {
					continue
				}
				v = val
			}
			if strings.Contains(v, "://") || strings.HasPrefix(v, "~") || strings.Contains(v, "@") && strings.Contains(v, ":") {
				return "it names " + v
			}
			if !strings.ContainsAny(v, "/") && v != ".." {
				continue
			}
			p := v
			if !filepath.IsAbs(p) {
				p = filepath.Join(cwd, p)
			}
			if !inside(project, p) {
				return "it names " + v + ", outside the project"
			}
		}
	}
	return ""
}

func inside(root, p string) bool {
	rel, err := filepath.Rel(filepath.Clean(root), filepath.Clean(p))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../") && !filepath.IsAbs(rel)
}

// Describe says, for a person, what r covers.
func Describe(r config.Remembered) string {
	rules := ""
	if len(r.Rules) > 0 {
		rules = " (rules " + strings.Join(r.Rules, ", ") + ")"
	}
	switch r.Scope {
	case config.ScopeExact:
		where := r.Project
		if r.Cwd != "" && r.Cwd != r.Project {
			where = r.Cwd
		}
		return fmt.Sprintf("exactly `%s` in %s%s", oneLine(r.Command), where, rules)
	case "", config.ScopeShape:
		extra := ", with any paths inside it"
		if r.Scope == "" {
			extra = ", with any arguments (an entry from before scopes)"
		}
		return fmt.Sprintf("every `%s …` in %s%s%s", strings.Join(r.Shape, " ; "), r.Project, extra, rules)
	}
	return fmt.Sprintf("nothing: unknown scope %q", r.Scope)
}

// Match returns the remembered approval that covers the command, if any:
// same project, every high-risk finding among the remembered rules, no
// Refusal, and either the same text in the same folder (ScopeExact) or
// the same shape with no path outside the project and nothing ExactOnly
// (ScopeShape; entries without a scope, from before scopes existed, are
// held to the same test). The shim calls it for a command rated high and
// then runs it as approved by models.ByRemembered; it never makes a
// command low.
func Match(remembered []config.Remembered, s Seen) (config.Remembered, bool) {
	if len(remembered) == 0 || s.Project == "" || Refusal(s.Rating) != "" {
		return config.Remembered{}, false
	}
	sh, err := Of(s.Facts)
	if err != nil {
		return config.Remembered{}, false
	}
	high := highRules(s.Rating)
	wide := ExactOnly(s.Rating) == "" && outside(s.Project, s.Cwd, s.Facts) == ""
	for _, m := range remembered {
		if m.Project != s.Project || !subset(high, m.Rules) {
			continue
		}
		switch m.Scope {
		case config.ScopeExact:
			if m.Command == s.Command && m.Cwd == s.Cwd {
				return m, true
			}
		case "", config.ScopeShape:
			if wide && slices.Equal(m.Shape, sh) {
				return m, true
			}
		}
	}
	return config.Remembered{}, false
}

func subset(sub, of []string) bool {
	for _, x := range sub {
		if !slices.Contains(of, x) {
			return false
		}
	}
	return true
}
