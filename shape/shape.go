// Package shape reduces a parsed command to its shape — for each simple
// command, the argv prefix and the flags, not the raw string — so that a
// person's approval can be remembered for commands of the same shape in
// the same project, and decides when a remembered shape applies.
//
// A shape is never remembered or matched for a command that is opaque or
// unparsable, whose program name is dynamic, or that a user deny rule or a
// Critical rule matched (see Refusal). A match also needs every high-risk
// finding of the new command to be among the rules the person saw when
// approving, so `cat notes.txt` remembered does not cover a `cat` that a
// secrets rule flags.
package shape

import (
	"errors"
	"fmt"
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

// For returns what to remember when the person approves this command for
// project with `A`, or an error wrapping ErrNoShape saying why it cannot
// be remembered.
func For(project string, f *models.Facts, r models.Rating) (config.Remembered, error) {
	if project == "" {
		return config.Remembered{}, fmt.Errorf("%w: the command has no project", ErrNoShape)
	}
	if why := Refusal(r); why != "" {
		return config.Remembered{}, fmt.Errorf("%w: %s", ErrNoShape, why)
	}
	s, err := Of(f)
	if err != nil {
		return config.Remembered{}, err
	}
	return config.Remembered{Project: project, Shape: s, Rules: highRules(r)}, nil
}

// Match reports whether a remembered approval covers the command: same
// project, same shape, every high-risk finding among the remembered rules,
// and no Refusal. The shim calls it for a command rated high and then runs
// it as approved by models.ByRemembered; it never makes a command low.
func Match(remembered []config.Remembered, project string, f *models.Facts, r models.Rating) bool {
	if len(remembered) == 0 || project == "" || Refusal(r) != "" {
		return false
	}
	s, err := Of(f)
	if err != nil {
		return false
	}
	high := highRules(r)
	for _, m := range remembered {
		if m.Project == project && slices.Equal(m.Shape, s) && subset(high, m.Rules) {
			return true
		}
	}
	return false
}

func subset(sub, of []string) bool {
	for _, x := range sub {
		if !slices.Contains(of, x) {
			return false
		}
	}
	return true
}
