package broker

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/engine"
	"github.com/chaperone-dev/chaperone/memory"
	"github.com/chaperone-dev/chaperone/models"
)

// Claim is what a shim said about its held command's risk when it said
// more than the panel's own rules find: the shim's model may have raised
// it, or something the panel cannot see (the shim's $BASH_ENV). It is
// shown, labelled as the shim's, and never remembered.
type Claim struct {
	// Risk is the risk the shim claimed (an unknown one counts as high).
	Risk models.Risk
	// Reason is the shim's main reason for it (MainReason), as it sent it:
	// text from outside the panel, to be drawn sanitized.
	Reason string
}

// EngineFunc returns the engine that rates a held command of project (an
// absolute path, or "" when the shim named none). It is called for every
// hold, from the hold's connection goroutine.
type EngineFunc func(project string) (*engine.Engine, error)

// Option configures Listen.
type Option func(*Server)

// WithEngine has the broker rate held commands with the engines f builds.
// The default loads the user's config (config.Load) for every hold and
// builds engine.New(cfg, project), so an edited config or a newly trusted
// project file counts from the next hold.
func WithEngine(f EngineFunc) Option { return func(s *Server) { s.engine = f } }

func defaultEngine(project string) (*engine.Engine, error) {
	cfg, err := config.Load()
	if err != nil {
		return nil, err
	}
	return engine.New(cfg, project)
}

// judge derives, from the command text alone, what the panel shows and
// remembers about the hold w: the inner command (the broker's own
// recognition of an agent's wrapper), the rating and the facts. What the
// shim sent for these is dropped; its rating survives only as a Claim,
// when it claims more than the broker's rules give. judge never fails and
// never panics: whatever goes wrong, the command is still shown, rated.
func (s *Server) judge(ctx context.Context, w *heldWire) (models.HoldRequest, *Claim) {
	req := w.HoldRequest
	req.Inner, req.Rating, req.Facts = "", models.Rating{}, nil
	j := s.rate(ctx, req)
	req.Inner, req.Rating, req.Facts = j.Inner, j.Rating, j.Facts
	var claimed models.Rating
	if len(w.Rating) == 0 || json.Unmarshal(w.Rating, &claimed) != nil {
		return req, nil
	}
	if claimed.Risk.Effective() > j.Rating.Risk.Effective() {
		return req, &Claim{Risk: claimed.Risk.Effective(), Reason: MainReason(claimed)}
	}
	return req, nil
}

// rate judges req.Command with the engine for req.Project. What it reads
// besides the command text comes from the request too: HOME and the
// agents' folders (where a wrapper may source its snapshot from), the
// agent (whose wrapper forms are recognised), the project (whose trusted
// rules apply, and for which `A` remembers) and the working folder. That
// is acceptable only because the connection's peer was checked to be a
// process of this user in the panel's own namespaces (peercred.Check in
// serveConn) — one that could read and change all of these on the host
// anyway — never a sandboxed command.
func (s *Server) rate(ctx context.Context, req models.HoldRequest) (j engine.Judgement) {
	env := map[string]string{"HOME": req.Home, "CLAUDE_CONFIG_DIR": req.ClaudeConfigDir, "CODEX_HOME": req.CodexHome}
	// What the session's earlier commands did, as the shim rated with it:
	// read from this user's state folder, never from the request (its
	// session id can only pick a memory, which only ever raises a rating).
	mem, _ := memory.Store{Dir: filepath.Join(config.DirsFrom(os.Getenv).State, "sessions")}.Load(req.Session)
	cmd := engine.Command{Text: req.Command, Cwd: req.Cwd, Project: req.Project, Session: req.Session, Agent: req.Agent,
		Getenv: func(k string) string { return env[k] }, Memory: mem, Gated: req.Gated}
	defer func() {
		if r := recover(); r != nil {
			j = unrated(fmt.Sprintf("the panel could not rate this command (%v)", r))
		}
	}()
	eng, err := s.engine(req.Project)
	if err == nil {
		return eng.Judge(ctx, cmd)
	}
	// The user's config or the project's is broken (the shim would have
	// refused to run anything with it): the built-in rules still rate.
	builtin, berr := engine.New(nil, "")
	if berr != nil {
		return unrated("the panel could not rate this command: " + err.Error())
	}
	j = builtin.Judge(ctx, cmd)
	j.Rating.Findings = append(j.Rating.Findings, models.Finding{Rule: "panel.config", Risk: models.Medium,
		Reason: "rated by the built-in rules only: " + err.Error()})
	return j
}

// unrated is the judgement on a command the panel could not rate: high,
// and no facts (so nothing can be remembered of it).
func unrated(reason string) engine.Judgement {
	return engine.Judgement{Rating: models.Rating{Risk: models.High, Source: models.SourceRules,
		Findings: []models.Finding{{Rule: "panel.error", Risk: models.High, Reason: reason}}}}
}
