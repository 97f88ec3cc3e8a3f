package models

import "fmt"

// Decision is what chaperone did with a command.
type Decision int

// Decisions.
const (
	DecisionUnknown Decision = iota
	Allow                    // low: ran silently
	Warn                     // medium: ran with a warning
	Approved                 // high: a person approved it
	Denied                   // high: denied (by a person, a timeout, or no panel)
)

var decisionNames = [...]string{DecisionUnknown: "unknown", Allow: "allow", Warn: "warn", Approved: "approved", Denied: "denied"}

// String returns the decision's name.
func (d Decision) String() string {
	if d < 0 || int(d) >= len(decisionNames) {
		return fmt.Sprintf("Decision(%d)", int(d))
	}
	return decisionNames[d]
}

// MarshalText encodes the decision as its name.
func (d Decision) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText decodes a decision name.
func (d *Decision) UnmarshalText(b []byte) error {
	for i, n := range decisionNames {
		if n == string(b) {
			*d = Decision(i)
			return nil
		}
	}
	return fmt.Errorf("unknown decision %q", b)
}

// Who made a decision.
const (
	ByRules      = "rules"      // the rules alone
	ByModel      = "model"      // the model turned an undecided command low or high
	ByPerson     = "person"     // a keypress on the approval panel
	ByRemembered = "remembered" // an approval remembered by command shape
	ByTimeout    = "timeout"    // nobody answered within the hold timeout
	ByNoPanel    = "no-panel"   // no approval panel was running
	ByUser       = "user"       // the user ran it directly (chaperone sandbox exec)
)
