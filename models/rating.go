package models

// Finding is one rule's (or the model's) observation about a command.
type Finding struct {
	Rule   string `json:"rule"`           // stable rule id, e.g. "secrets.read"
	Risk   Risk   `json:"risk"`           // the risk this finding alone implies
	Reason string `json:"reason"`         // one line, for a person
	Span   string `json:"span,omitempty"` // the text of the command it is about
}

// Source says what decided a rating's risk.
const (
	SourceRules = "rules"
	SourceModel = "model"
)

// ModelAnswer is what the local model said about a command, when asked.
type ModelAnswer struct {
	Model          string   `json:"model"`
	Risk           Risk     `json:"risk,omitempty"`
	Reason         string   `json:"reason,omitempty"`
	DangerousSpans []string `json:"dangerous_spans,omitempty"`
	Cached         bool     `json:"cached,omitempty"`
	DurationMS     float64  `json:"duration_ms,omitempty"`
	// Error is set when no usable answer came (down, timeout, invalid).
	Error string `json:"error,omitempty"`
}

// Rating is the verdict on one command string.
type Rating struct {
	Risk     Risk      `json:"risk"`
	Findings []Finding `json:"reasons"`
	Source   string    `json:"source"` // SourceRules or SourceModel
	// Undecided is true when no rule knew the command either way; such
	// commands are rated Medium by rules and are what the model is asked about.
	Undecided bool `json:"undecided,omitempty"`
	// Opaque is true when the parser could not resolve part of the command
	// statically. An opaque command is never Low.
	Opaque bool         `json:"opaque,omitempty"`
	Model  *ModelAnswer `json:"model,omitempty"`
}
