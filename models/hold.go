package models

import "time"

// HoldRequest is a held command sent by a shim to the approval panel.
// Owned by package broker, which may add fields.
type HoldRequest struct {
	ID      string    `json:"id"`
	Time    time.Time `json:"time"`
	Session string    `json:"session,omitempty"`
	Agent   string    `json:"agent,omitempty"`
	Project string    `json:"project,omitempty"`
	Cwd     string    `json:"cwd,omitempty"`
	Command string    `json:"command"`
	Inner   string    `json:"inner,omitempty"`
	Rating  Rating    `json:"rating"`
	Facts   *Facts    `json:"facts,omitempty"`
	PID     int       `json:"pid,omitempty"`
}

// Verdict is the panel's answer to a HoldRequest.
type Verdict struct {
	ID       string `json:"id"`
	Approved bool   `json:"approved"`
	// By is ByPerson, ByRemembered, ByTimeout or ByNoPanel.
	By   string `json:"by"`
	Note string `json:"note,omitempty"`
}
