// Package rater judges how risky a command is: rules first, then, for what
// the rules leave undecided, the local model. It never links the TUI.
package rater

import (
	"context"

	"github.com/chaperone-dev/chaperone/models"
)

// Request is one command to rate, with what is known around it.
type Request struct {
	Command string
	// Cwd, Project and Home let rules tell "inside the project" from
	// "outside"; empty values are taken from the process.
	Cwd, Project, Home string
	// Session identifies the agent session, for the model's context.
	Session string
}

// ModelAsker is consulted only for commands the rules leave undecided.
// Implemented in this package by the Ollama client (model.go).
type ModelAsker interface {
	Ask(ctx context.Context, req Request, facts *models.Facts, rules models.Rating) *models.ModelAnswer
}

// Rater rates commands. It is safe for concurrent use.
type Rater struct {
	model ModelAsker
}

// Option configures a Rater.
type Option func(*Rater)

// WithModel makes the rater consult m for undecided commands.
func WithModel(m ModelAsker) Option { return func(r *Rater) { r.model = m } }

// New returns a Rater.
func New(opts ...Option) *Rater {
	r := &Rater{}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Rate rates one command string.
func (r *Rater) Rate(ctx context.Context, req Request) (models.Rating, *models.Facts) {
	facts := &models.Facts{}
	rating := models.Rating{Risk: models.High, Source: models.SourceRules,
		Findings: []models.Finding{{Rule: "unimplemented", Risk: models.High, Reason: "rater not implemented yet"}}}
	if r.model != nil && rating.Undecided {
		rating = Combine(rating, r.model.Ask(ctx, req, facts, rating))
	}
	return rating, facts
}

// Combine merges the model's answer into the rules' rating: the highest of
// the two, except that the model may lower an undecided (medium) to low.
// A nil or failed answer leaves the rules' rating as it is.
func Combine(rules models.Rating, ans *models.ModelAnswer) models.Rating {
	if ans == nil {
		return rules
	}
	rules.Model = ans
	if ans.Error != "" || ans.Risk == models.RiskUnknown {
		return rules
	}
	switch {
	case ans.Risk > rules.Risk:
		rules.Risk = ans.Risk
		rules.Source = models.SourceModel
	case rules.Undecided && !rules.Opaque && ans.Risk == models.Low:
		rules.Risk = models.Low
		rules.Source = models.SourceModel
	}
	return rules
}
