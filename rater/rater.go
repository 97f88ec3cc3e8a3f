// Package rater judges how risky a command is: rules first, then, for what
// the rules leave undecided, the local model. It never links the TUI.
//
// Every finding carries a rule id, a risk, a reason for a person and the
// span of the command it is about. The rules are in this package; see
// Rules for the list. A command string's risk is the highest of its
// findings; a string with no findings is low. A string whose only medium
// findings say "no rule knows this program" is Undecided: the model, when
// there is one, is asked about exactly these. A string the parser could
// not resolve statically (opaque) is never low.
package rater

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/internal/lazyre"
	"github.com/chaperone-dev/chaperone/memory"
	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/parser"
)

// Request is one command to rate, with what is known around it.
type Request struct {
	Command string
	// Cwd, Project and Home let rules tell "inside the project" from
	// "outside"; empty values are taken from the process.
	Cwd, Project, Home string
	// Session identifies the agent session, for the model's context.
	Session string
	// Env is the environment the command will run with (NAME=value
	// pairs), for expanding it statically (parser.Env); nil knows only
	// Home and Cwd.
	Env []string
	// Memory is what earlier commands of the session did (package
	// memory), loaded by the caller; nil means none. It can only raise
	// the rating; the rater only reads it.
	Memory *memory.Session
	// Gated is set for a statement of a chaperone shell session whose
	// gate lives in the session's own bash (shim's sessions): what would
	// switch it off is held (ruleSessionGate).
	Gated bool

	// sessionDepth counts how deeply a script from the memory is being
	// rated (session.go).
	sessionDepth int
}

// ModelAsker is consulted only for commands the rules leave undecided.
// Implemented in this package by the Ollama client (model.go).
type ModelAsker interface {
	Ask(ctx context.Context, req Request, facts *models.Facts, rules models.Rating) *models.ModelAnswer
}

// Rater rates commands. It is safe for concurrent use.
type Rater struct {
	model ModelAsker
	user  []userRule
	// userErr is the error from a broken user rule set; Rate then rates
	// every command high (fail closed) with this as the reason.
	userErr error
	home    string
	cwd     string
	own     []string // chaperone's own directories, see ownDirs
	// registries are the package sources the user's config adds.
	registries []string
}

// Option configures a Rater.
type Option func(*Rater)

// WithModel makes the rater consult m for undecided commands.
func WithModel(m ModelAsker) Option { return func(r *Rater) { r.model = m } }

// WithUserRules adds the user's prefix rules from the config. Check them
// first with CheckRules: a rater given broken rules rates everything high
// rather than silently loosening policy. See (*check).applyUser for the
// precedence: deny always wins, and allow never lowers a built-in high
// finding or an opaque command.
func WithUserRules(rc config.RulesConfig) Option {
	return func(r *Rater) {
		r.user, r.userErr = compileRules(rc)
		r.registries = rc.Registries
	}
}

// New returns a Rater.
func New(opts ...Option) *Rater {
	r := &Rater{}
	r.home, _ = os.UserHomeDir()
	r.cwd, _ = os.Getwd()
	r.own = ownDirs()
	for _, o := range opts {
		o(r)
	}
	return r
}

// Rate rates one command string. It never fails: what cannot be judged is
// rated high or medium with a finding that says why. The facts are the
// parser's, for the audit log and the approval panel.
func (r *Rater) Rate(ctx context.Context, req Request) (models.Rating, *models.Facts) {
	facts, dirs := parser.ParseWhere(req.Command, r.parserEnv(req))
	rating := r.rateFacts(req, facts, dirs)
	if r.model != nil && rating.Undecided {
		rating = Combine(rating, r.model.Ask(ctx, req, facts, rating))
	}
	return rating, facts
}

// parserEnv is the environment req's command is expanded in.
func (r *Rater) parserEnv(req Request) parser.Env {
	env := parser.Env{Vars: req.Env, Home: req.Home, Cwd: req.Cwd}
	if env.Home == "" {
		env.Home = r.home
	}
	if env.Cwd == "" {
		env.Cwd = r.cwd
	}
	return env
}

// RateFacts rates facts the caller already parsed from req.Command, with
// the rules only. The folder each command runs in (after the text's own
// cd) is parsed again from req.Command: facts do not hold it.
func (r *Rater) RateFacts(req Request, facts *models.Facts) models.Rating {
	_, dirs := parser.ParseWhere(req.Command, r.parserEnv(req))
	if len(dirs) != len(facts.Commands) {
		// Not the facts of req.Command: where they run is unknown.
		dirs = nil
	}
	return r.rateFacts(req, facts, dirs)
}

var forkBomb = lazyre.New(`([\w:.]+)\s*\(\)\s*\{\s*([\w:.]+)\s*\|\s*([\w:.]+)\s*&`)

// rateFacts rates facts; dirs, when not nil, tells the folder each of
// facts.Commands runs in (parser.ParseWhere).
func (r *Rater) rateFacts(req Request, facts *models.Facts, dirs []parser.Dir) models.Rating {
	k := &check{facts: facts, cur: -1, registries: r.registries, dirs: dirs}
	k.where.home = req.Home
	if k.where.home == "" {
		k.where.home = r.home
	}
	k.where.home = filepath.Clean(k.where.home)
	for _, d := range r.own {
		k.where.own = append(k.where.own, k.where.norm(d))
	}
	proj := req.Project
	if proj == "" {
		proj = req.Cwd
	}
	if proj == "" {
		proj = r.cwd
	}
	if proj != "" {
		k.where.project = filepath.Clean(proj)
	}
	if k.where.project == k.where.home {
		// Working in the home directory itself: "~/x" is outside.
		k.where.project = ""
	}
	k.start = cmpOr(req.Cwd, r.cwd)
	if k.start == "" {
		k.start = k.where.project
	}
	// A text that starts away from the project's top (a session's bash
	// that moved on, an agent's cd) reads relative paths from there:
	// `cat shadow` run in /etc is /etc/shadow.
	k.where.cwd, k.where.lost = k.where.dirOf(k.where.project, k.start)
	k.rate()
	if req.Gated {
		k.gate()
	}
	r.whatRuns(k, req)
	r.session(k, req)
	if facts.ParseError != "" {
		k.hit(ruleParseError, facts.ParseError)
	}
	if strings.Contains(req.Command, "()") {
		if m := forkBomb.FindStringSubmatch(req.Command); m != nil && m[1] == m[2] && m[2] == m[3] {
			k.hit(ruleDestroyForkBomb, m[0])
		}
	}
	if facts.Opaque {
		for _, why := range facts.OpaqueReasons {
			k.hit(ruleOpaque, why)
		}
	}
	if r.userErr != nil {
		k.hit(Rule{ID: "config.rules", Risk: models.High, Reason: "your rules config is broken, so every command is held: " + r.userErr.Error()}, "")
	} else {
		k.applyUser(r.user)
	}
	return assemble(k.findings, facts)
}

// assemble turns findings into a rating.
func assemble(findings []models.Finding, facts *models.Facts) models.Rating {
	rating := models.Rating{Risk: models.Low, Source: models.SourceRules, Opaque: facts.Opaque, Findings: findings}
	undecided := false
	for _, f := range findings {
		rating.Risk = models.MaxRisk(rating.Risk, f.Risk.Effective())
		if undecidedRule(f.Rule) {
			undecided = true
		}
	}
	if rating.Opaque && rating.Risk == models.Low {
		rating.Risk = models.Medium
	}
	if undecided && rating.Risk == models.Medium && !rating.Opaque {
		rating.Undecided = true
		for _, f := range findings {
			if f.Risk == models.Medium && !undecidedRule(f.Rule) {
				rating.Undecided = false
			}
		}
	}
	sort.SliceStable(rating.Findings, func(i, j int) bool { return rating.Findings[i].Risk > rating.Findings[j].Risk })
	if rating.Findings == nil {
		rating.Findings = []models.Finding{}
	}
	return rating
}

// Combine merges the model's answer into the rules' rating: the highest of
// the two, except that the model may lower an undecided (medium) rating to
// low. It never lowers what a rule rated, an opaque command, or an unrated
// (RiskUnknown, handled as high) one. A nil, failed or out-of-range answer
// leaves the rules' risk as it is (the answer is still attached for the
// audit). Source becomes SourceModel when the model's answer decided.
func Combine(rules models.Rating, ans *models.ModelAnswer) models.Rating {
	if ans == nil {
		return rules
	}
	rules.Model = ans
	if ans.Error != "" || ans.Risk < models.Low || ans.Risk > models.High {
		return rules
	}
	eff := rules.Risk.Effective()
	switch {
	case ans.Risk > eff:
		rules.Risk = ans.Risk
		rules.Source = models.SourceModel
	case rules.Undecided && !rules.Opaque && rules.Risk == models.Medium && ans.Risk == models.Low:
		rules.Risk = models.Low
		rules.Source = models.SourceModel
	case rules.Undecided && ans.Risk == rules.Risk:
		// The rules could not decide; the model says the same: it decided.
		rules.Source = models.SourceModel
	}
	return rules
}

// Summary is a one-line reason for a rating, for a person: the reason of
// the riskiest finding, with its span.
func Summary(r models.Rating) string {
	if len(r.Findings) == 0 {
		return "no rule found anything risky"
	}
	f := r.Findings[0]
	if f.Span != "" {
		return fmt.Sprintf("%s: %s", f.Reason, f.Span)
	}
	return f.Reason
}

// ownDirs lists chaperone's own directories in this environment: its
// config folder, its state folder and the approval socket's folder. A
// command that touches them is high (the agent must never approve its own
// commands or relax its own policy).
func ownDirs() []string {
	dirs := []string{config.Dir(), filepath.Join(os.TempDir(), "chaperone-"+strconv.Itoa(os.Getuid()))}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		dirs = append(dirs, filepath.Join(d, "chaperone"))
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		dirs = append(dirs, filepath.Join(d, "chaperone"))
	}
	return dirs
}
