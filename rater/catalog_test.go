package rater

import (
	"context"
	"slices"
	"testing"

	"github.com/chaperone-dev/chaperone/catalog"
	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/parser"
)

// TestCatalogChecks: every entry's Check id names code here, and every
// check is reached by some entry.
func TestCatalogChecks(t *testing.T) {
	used := map[string]bool{}
	for _, e := range catalog.Entries() {
		if e.Check == "" {
			continue
		}
		used[e.Check] = true
		if checks[e.Check] == nil && !slices.Contains(checkInline, e.Check) {
			t.Errorf("%s: check %q names no rater code", e.Name(), e.Check)
		}
	}
	for id := range checks {
		if !used[id] {
			t.Errorf("check %q: no catalogue entry uses it", id)
		}
	}
}

// TestCatalogInterpreters: an entry checked as an interpreter must be one
// the parser takes for an interpreter, or program would leave it unjudged.
func TestCatalogInterpreters(t *testing.T) {
	for _, e := range catalog.Entries() {
		if e.Check != "interpreter" {
			continue
		}
		for _, n := range e.Names {
			if parser.Interpreter(n) == "" {
				t.Errorf("%s: %q is no interpreter to the parser", e.Name(), n)
			}
		}
	}
}

// TestCatalogExamples rates every example of every entry with the rules
// alone: a must-catch example is rated at least its risk (and by its rule
// when it names one), a look-alike at most its risk, and each is a use of
// its entry's program.
func TestCatalogExamples(t *testing.T) {
	r := New()
	n := 0
	for _, e := range catalog.Entries() {
		for _, x := range e.Catch {
			n++
			got, facts := r.Rate(context.Background(), ExampleRequest(x.Cmd))
			if risk := got.Risk.Effective(); risk < x.Risk {
				t.Errorf("%s: must catch %q: rated %s %v, want at least %s", e.Name(), x.Cmd, risk, rules(got), x.Risk)
			}
			if x.Rule != "" && !hasRule(got, x.Rule) {
				t.Errorf("%s: must catch %q by %s: found %v", e.Name(), x.Cmd, x.Rule, rules(got))
			}
			usesEntry(t, e, x.Cmd, facts)
		}
		for _, x := range e.Alike {
			n++
			got, facts := r.Rate(context.Background(), ExampleRequest(x.Cmd))
			if risk := got.Risk.Effective(); risk > x.Risk {
				t.Errorf("%s: look-alike %q: rated %s %v, want at most %s", e.Name(), x.Cmd, risk, rules(got), x.Risk)
			}
			usesEntry(t, e, x.Cmd, facts)
		}
	}
	if n == 0 {
		t.Fatal("the catalogue has no examples")
	}
}

func usesEntry(t *testing.T, e *catalog.Entry, cmd string, facts *models.Facts) {
	t.Helper()
	if facts != nil {
		for i := range facts.Commands {
			if slices.Contains(e.Names, facts.Commands[i].Name()) {
				return
			}
		}
	}
	t.Errorf("%s: example %q runs none of %v", e.Name(), cmd, e.Names)
}

// TestCatalogExamplesKept: the programs that matter most keep at least
// two must-catch and two look-alike examples, and say what their options
// carry.
func TestCatalogExamplesKept(t *testing.T) {
	for _, name := range []string{"curl", "wget", "nc", "ssh", "scp", "rsync", "rm", "shred", "dd", "sudo", "python",
		"node", "perl", "git", "npm", "pip", "apt"} {
		e := catalog.Lookup(name)
		switch {
		case e == nil:
			t.Errorf("%s: not in the catalogue", name)
		case len(e.Catch) < 2 || len(e.Alike) < 2:
			t.Errorf("%s: %d must-catch and %d look-alike examples, want 2 of each", name, len(e.Catch), len(e.Alike))
		case len(e.Options) == 0 && len(e.Args) == 0:
			t.Errorf("%s: says nothing of what its options or arguments carry", name)
		}
	}
}
