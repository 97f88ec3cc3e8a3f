package models

import "time"

// Event is one audit record: a command and what became of it.
// Owned by package audit, which may add fields.
type Event struct {
	Time      time.Time `json:"time"`
	Session   string    `json:"session"`
	Agent     string    `json:"agent,omitempty"`
	Project   string    `json:"project,omitempty"`
	Cwd       string    `json:"cwd,omitempty"`
	Command   string    `json:"command"`
	Inner     string    `json:"inner,omitempty"` // the inner command of an agent wrapper
	Facts     *Facts    `json:"facts,omitempty"`
	Rating    Rating    `json:"rating"`
	Decision  Decision  `json:"decision"`
	DecidedBy string    `json:"decided_by"`
	Note      string    `json:"note,omitempty"` // a person's note on a deny
	Exit      *int      `json:"exit,omitempty"`
	Duration  float64   `json:"duration_ms,omitempty"`
	Backend   string    `json:"backend,omitempty"`
	Files     []string  `json:"files,omitempty"` // paths touched in the working tree
}
