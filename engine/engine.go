// Package engine is where a command is judged. An Engine is built once
// from one resolved settings value — the user's config and what the
// trusted project's .chaperone.toml adds — and, given a command text and
// where it runs, recognises the agent's wrapper around it, parses and rates
// what the wrapper carries, and returns the inner command, the rating and
// the facts.
//
// The shim rates with it, and so does the approval panel's broker, which
// derives what it shows and remembers from the command text alone: the two
// see the same inner command and the same rules.
package engine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/memory"
	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/parser"
	"github.com/chaperone-dev/chaperone/rater"
)

// Engine judges commands. It is safe for concurrent use.
type Engine struct {
	rater *rater.Rater
}

// Option configures New.
type Option func(*options)

type options struct {
	model *rater.Model
}

// WithModel has the engine ask m (the local model) about the commands the
// rules leave undecided; nil means rules only.
func WithModel(m *rater.Model) Option { return func(o *options) { o.model = m } }

// New builds the engine from the user's settings and the project root.
//
// What the project's .chaperone.toml may contribute — more rules, more
// environment names and an image for the sandbox — is merged into cfg when
// the user has trusted the file's current content (`chaperone trust`), so
// that what the caller builds from cfg afterwards (the sandbox) sees it
// too. An untrusted or changed file is ignored (chaperone doctor says so);
// project "" or a relative path means no project file. A broken trusted
// file, a project file chaperone will not read (a FIFO, a link out of the
// project, a huge file: see config.LoadProject, which never blocks), or a
// broken rule, is an error naming the file: policy is never loosened
// silently. A nil cfg is the default policy.
func New(cfg *config.Config, project string, opts ...Option) (*Engine, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if cfg == nil {
		cfg = &config.Config{}
	}
	if err := mergeProject(cfg, project); err != nil {
		return nil, err
	}
	if err := rater.CheckRules(cfg.Rules); err != nil {
		return nil, fmt.Errorf("%s: %w", config.UserPath(), err)
	}
	ropts := []rater.Option{rater.WithUserRules(cfg.Rules)}
	if o.model != nil {
		ropts = append(ropts, rater.WithModel(o.model))
	}
	return &Engine{rater: rater.New(ropts...)}, nil
}

// mergeProject adds what the project's trusted .chaperone.toml contributes
// to cfg (see New).
func mergeProject(cfg *config.Config, project string) error {
	if project == "" || !filepath.IsAbs(project) {
		return nil
	}
	proj, err := config.LoadProject(project)
	switch {
	case errors.Is(err, config.ErrUntrusted):
		return nil
	case err != nil:
		return err
	case proj == nil:
		return nil
	}
	cfg.Rules.Allow = append(cfg.Rules.Allow, proj.Rules.Allow...)
	cfg.Rules.Deny = append(cfg.Rules.Deny, proj.Rules.Deny...)
	cfg.Rules.Rate = append(cfg.Rules.Rate, proj.Rules.Rate...)
	cfg.Rules.Registries = append(cfg.Rules.Registries, proj.Rules.Registries...)
	cfg.Sandbox = cfg.Sandbox.Project(proj.Sandbox)
	// A trusted project may name the hosts it needs, and refuse more; it
	// cannot pin names to addresses or change the network mode.
	cfg.Network.Allow = append(cfg.Network.Allow, proj.Network.Allow...)
	cfg.Network.Deny = append(cfg.Network.Deny, proj.Network.Deny...)
	return nil
}

// Rate rates one command string as it is, with the engine's rules (and
// model); *Engine is the shim's Rater.
func (e *Engine) Rate(ctx context.Context, req rater.Request) (models.Rating, *models.Facts) {
	return e.rater.Rate(ctx, req)
}

// Command is one command text to judge, with what is known around it.
type Command struct {
	// Text is the command string as the shell will run it (bash -c's
	// script).
	Text string
	// Cwd, Project and Session are as in rater.Request.
	Cwd, Project, Session string
	// Agent names the agent that sent the command (parser.DetectAgent):
	// only that agent's wrappers are recognised.
	Agent string
	// Getenv reads the command's environment: HOME, for the rules, and
	// the agents' state folders that their wrappers source snapshots from
	// (parser.PlacesFromEnv). nil reads nothing.
	Getenv func(string) string
	// Memory is what earlier commands of the session did (see
	// rater.Request.Memory); nil means none. It can only raise the rating.
	Memory *memory.Session
	// Gated: a statement of a shell session (rater.Request.Gated).
	Gated bool
}

// Judgement is what the engine makes of a Command.
type Judgement struct {
	// Wrapper is the agent's wrapper recognised around the text, or nil.
	Wrapper *parser.Wrapper
	// Inner is the command the wrapper carries, what a person should
	// judge; "" when there is no wrapper (then the text itself is).
	Inner string
	// Rating and Facts are what was rated: the inner command's, or the
	// whole text's when that is high and the inner command is not.
	Rating models.Rating
	Facts  *models.Facts
}

// Judge recognises the agent's wrapper around c.Text and rates what it
// carries. The whole text is rated too, and is what counts when it is high
// and the inner command is not — except Codex's per-command form, whose
// long prelude sources a snapshot the rules cannot see into (every
// statement of that prelude is checked to be Codex's own instead), and
// Claude Code's snapshot script, whose inner command is the whole text
// but for its writes to its own snapshot file (see parser.Unwrap).
func (e *Engine) Judge(ctx context.Context, c Command) Judgement {
	getenv := c.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	req := rater.Request{Command: c.Text, Cwd: c.Cwd, Project: c.Project, Home: getenv("HOME"), Session: c.Session,
		Env: parser.EnvFrom(c.Getenv), Memory: c.Memory, Gated: c.Gated}
	w, _ := parser.Unwrap(c.Text, c.Agent, parser.PlacesFromEnv(getenv))
	return Rate(ctx, e.rater, req, w, "")
}

// Rater rates one command string: *rater.Rater, or whatever the caller
// rates with (the shim's tests use fixed ratings).
type Rater interface {
	Rate(ctx context.Context, req rater.Request) (models.Rating, *models.Facts)
}

// Rate is Judge's rating, given the wrapper already recognised around
// req.Command (nil: none) and, when the command's bash will first source
// a $BASH_ENV file, that file's text: the inner command is rated, and the
// whole text holds it when that is high (but for Codex's per-command form
// and Claude Code's snapshot script, see Judge); the BASH_ENV text counts
// when it is riskier. The shim and Judge both rate with it, so that the
// panel and the shim judge a command alike.
func Rate(ctx context.Context, r Rater, req rater.Request, w *parser.Wrapper, bashEnv string) Judgement {
	var j Judgement
	if w == nil {
		j.Rating, j.Facts = r.Rate(ctx, req)
	} else {
		j.Wrapper, j.Inner = w, w.Inner
		inner := req
		inner.Command = w.Inner
		j.Rating, j.Facts = r.Rate(ctx, inner)
		if w.Kind != "codex-exec" && w.Kind != "claude-snapshot" {
			// Only a hold counts: the agents' scaffolding itself is
			// "medium" in places, which would put a warning on every
			// command and tell nobody anything.
			if r2, f2 := r.Rate(ctx, req); r2.Risk.Effective() == models.High && j.Rating.Risk.Effective() < models.High {
				j.Rating, j.Facts = r2, f2
			}
		}
	}
	if bashEnv != "" {
		be := req
		be.Command = bashEnv
		if r2, _ := r.Rate(ctx, be); r2.Risk.Effective() > j.Rating.Risk.Effective() {
			j.Rating = r2
		}
	}
	return j
}
