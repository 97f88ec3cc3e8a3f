package rater

import (
	"errors"
	"fmt"
	"strings"

	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/models"
)

// userRule is one of the user's prefix rules, compiled.
type userRule struct {
	words  []string // each may hold "*" globs
	risk   models.Risk
	reason string
	kind   string // "allow", "deny" or "rate"
	prefix string
}

// RuleError is a broken user rule: which list, which entry, and why.
type RuleError struct {
	List   string // "allow", "deny" or "rate"
	Index  int    // 0-based position in that list
	Prefix string
	Msg    string
}

// Error says which rule is broken and why.
func (e *RuleError) Error() string {
	return fmt.Sprintf("rules.%s[%d] %q: %s", e.List, e.Index, e.Prefix, e.Msg)
}

// CheckRules validates the user's rules: every prefix has words, and every
// risk is "low", "medium" or "high" (allow and deny may leave it empty).
// The error joins one *RuleError per broken rule.
func CheckRules(rc config.RulesConfig) error {
	_, err := compileRules(rc)
	return err
}

func compileRules(rc config.RulesConfig) ([]userRule, error) {
	var out []userRule
	var errs []error
	add := func(list string, rules []config.PrefixRule, def models.Risk) {
		for i, r := range rules {
			words := strings.Fields(r.Prefix)
			if len(words) == 0 {
				errs = append(errs, &RuleError{List: list, Index: i, Prefix: r.Prefix, Msg: "the prefix is empty; write the command words it should match"})
				continue
			}
			risk := def
			if r.Risk != "" {
				v, err := models.ParseRisk(r.Risk)
				if err != nil || v == models.RiskUnknown {
					errs = append(errs, &RuleError{List: list, Index: i, Prefix: r.Prefix, Msg: fmt.Sprintf("risk %q is not low, medium or high", r.Risk)})
					continue
				}
				if list == "allow" && v != models.Low || list == "deny" && v != models.High {
					errs = append(errs, &RuleError{List: list, Index: i, Prefix: r.Prefix, Msg: fmt.Sprintf("a %s rule cannot have risk %q; move it to [[rules.rate]]", list, r.Risk)})
					continue
				}
				risk = v
			} else if list == "rate" {
				errs = append(errs, &RuleError{List: list, Index: i, Prefix: r.Prefix, Msg: "a rate rule needs risk = \"low\", \"medium\" or \"high\""})
				continue
			}
			out = append(out, userRule{words: words, risk: risk, reason: r.Reason, kind: list, prefix: r.Prefix})
		}
	}
	add("deny", rc.Deny, models.High)
	add("rate", rc.Rate, models.RiskUnknown)
	add("allow", rc.Allow, models.Low)
	return out, errors.Join(errs...)
}

// match reports whether the command's argv starts with the rule's words.
func (u *userRule) match(c *models.Command) bool {
	if len(c.Argv) < len(u.words) {
		return false
	}
	for i, w := range u.words {
		a := c.Argv[i]
		if a.Dynamic && w != "*" {
			return false
		}
		lit := a.Lit
		if i == 0 {
			lit = c.Name()
			if strings.Contains(w, "/") {
				lit = a.Lit
			}
		}
		if !glob(w, lit) {
			return false
		}
	}
	return true
}

// glob matches s against a pattern where "*" matches any run of
// characters (including "/").
func glob(pattern, s string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == s
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i := 1; i < len(parts)-1; i++ {
		j := strings.Index(s, parts[i])
		if j < 0 {
			return false
		}
		s = s[j+len(parts[i]):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

// applyUser applies the user's rules to the findings of each command.
//
// Precedence, security first:
//  1. A deny rule that matches any command (at any depth, inside any
//     wrapper) adds a high finding. Nothing lowers it.
//  2. A rate rule sets the risk of the commands it matches: raising
//     always works; lowering replaces only that command's medium and
//     undecided findings.
//  3. An allow rule lowers the command it matches to low in the same
//     way.
//
// Neither allow nor rate ever removes a built-in high finding, a finding
// on another command of the same string, or the findings that make a
// command opaque or unparseable. The first matching rule in the order
// deny, rate, allow wins for a command.
func (k *check) applyUser(rules []userRule) {
	if len(rules) == 0 {
		return
	}
	for i := range k.facts.Commands {
		c := &k.facts.Commands[i]
		for _, u := range rules {
			if !u.match(c) {
				continue
			}
			reason := u.reason
			if reason == "" {
				reason = fmt.Sprintf("matches your %s rule %q", u.kind, u.prefix)
			}
			id := "user." + u.kind
			if u.risk == models.High || u.risk == models.Medium && u.kind == "rate" {
				if u.risk == models.Medium {
					k.lowerOwned(i)
				}
				k.findings = append(k.findings, models.Finding{Rule: id, Risk: u.risk, Reason: reason, Span: c.Span})
				k.owner = append(k.owner, i)
			} else {
				k.lowerOwned(i)
				if k.ownsHigh(i) {
					// Said, so that the person sees their rule was read
					// and why it did not decide (a low finding changes
					// no rating).
					k.findings = append(k.findings, models.Finding{Rule: id, Risk: models.Low, Span: c.Span,
						Reason: fmt.Sprintf("your %s rule %q matched, but a built-in high finding stays (your rules never lower one)", u.kind, u.prefix)})
					k.owner = append(k.owner, i)
				}
			}
			break
		}
	}
}

// ownsHigh reports whether command i has a high finding.
func (k *check) ownsHigh(i int) bool {
	for j, f := range k.findings {
		if k.owner[j] == i && f.Risk >= models.High {
			return true
		}
	}
	return false
}

// lowerOwned drops the medium and undecided findings that belong to
// command i; high findings and opaque findings stay.
func (k *check) lowerOwned(i int) {
	out, own := k.findings[:0], k.owner[:0]
	for j, f := range k.findings {
		if k.owner[j] == i && f.Risk <= models.Medium && f.Rule != ruleOpaque.ID && f.Rule != ruleParseError.ID {
			continue
		}
		out = append(out, f)
		own = append(own, k.owner[j])
	}
	k.findings, k.owner = out, own
}
