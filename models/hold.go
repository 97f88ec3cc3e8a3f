package models

import "time"

// HoldRequest is a held command sent by a shim to the approval panel.
// Owned by package broker, which may add fields.
type HoldRequest struct {
	// ID is chosen by the shim (the broker client fills a random one when
	// empty) and comes back in the Verdict.
	ID      string    `json:"id"`
	Time    time.Time `json:"time"`
	Session string    `json:"session,omitempty"`
	Agent   string    `json:"agent,omitempty"`
	// Project is the project root the command runs for; remembered
	// shapes are kept per Project, so the shim must pass the same string
	// to shape.Match.
	Project string `json:"project,omitempty"`
	Cwd     string `json:"cwd,omitempty"`
	// Command is the text the shim runs (bash -c's script).
	Command string `json:"command"`
	// Home, ClaudeConfigDir and CodexHome are $HOME, $CLAUDE_CONFIG_DIR
	// and $CODEX_HOME of the command's environment: what the panel needs
	// to recognise an agent's wrapper in Command and rate it as the shim
	// did. The broker client fills them from its own environment when
	// empty.
	Home            string `json:"home,omitempty"`
	ClaudeConfigDir string `json:"claude_config_dir,omitempty"`
	CodexHome       string `json:"codex_home,omitempty"`
	// Inner, Rating and Facts are what the shim made of Command. The
	// panel never trusts them: its broker derives its own from Command
	// (see broker.Hold).
	Inner  string `json:"inner,omitempty"`
	Rating Rating `json:"rating"`
	Facts  *Facts `json:"facts,omitempty"`
	PID    int    `json:"pid,omitempty"`
	// Deadline is when the shim stops waiting and denies the command
	// (set by the broker client from the hold timeout).
	Deadline time.Time `json:"deadline,omitempty"`
	// Network is set when what is held is not the command but a network
	// connection it made through the egress proxy (the command already
	// runs). "Approve" lets that connection, and the command's next ones
	// to the same place, through; "remember" allows the host for the
	// project.
	Network *NetworkHold `json:"network,omitempty"`
	// EventID is the audit record the command's run will be written as.
	EventID string `json:"event_id,omitempty"`
	// Gated is set for a statement of a shell session whose gate lives in
	// the session's bash (rater.Request.Gated): the panel rates it so too.
	// It can only raise a rating.
	Gated bool `json:"gated,omitempty"`
}

// NetworkHold is a connection held for a person.
type NetworkHold struct {
	Host   string `json:"host"`
	Port   int    `json:"port"`
	Method string `json:"method"`
	// Upload is set when the connection is held for what it sends: the
	// bytes sent to the host so far in the session.
	Upload int64 `json:"upload,omitempty"`
	// Reason says why it is held.
	Reason string `json:"reason"`
}

// Verdict is the panel's answer to a HoldRequest.
type Verdict struct {
	ID       string `json:"id"`
	Approved bool   `json:"approved"`
	// By is ByPerson, ByRemembered, ByTimeout or ByNoPanel.
	By string `json:"by"`
	// Note is what the person typed when denying (`N` on the panel).
	Note string `json:"note,omitempty"`
	// Reason says, for a person, why no one decided (ByTimeout,
	// ByNoPanel) and what to do about it; empty when a person decided.
	Reason string `json:"reason,omitempty"`
	// Remembered is true when the person also remembered the command's
	// shape for the project (`A` on the panel).
	Remembered bool `json:"remembered,omitempty"`
	// Memory is the ID of what the person remembered (Remembered).
	Memory string `json:"memory,omitempty"`
}

// ControlMount is where a shell session's bash sees its control folder
// in the sandbox: the private channel with chaperone, which no statement
// may name (the rater's session gate holds one that does).
const ControlMount = "/run/chaperone-ctl"
