package models

import "fmt"

// Risk is how dangerous a command is judged to be. The zero value is
// RiskUnknown, which every consumer must treat like High (fail closed).
type Risk int

// Risk levels, ordered: a larger value is riskier.
const (
	RiskUnknown Risk = iota // not rated; handled as High
	Low                     // runs at once, silently
	Medium                  // runs with a warning on stderr
	High                    // held for a person
)

var riskNames = [...]string{RiskUnknown: "unknown", Low: "low", Medium: "medium", High: "high"}

// String returns "low", "medium", "high" or "unknown".
func (r Risk) String() string {
	if r < 0 || int(r) >= len(riskNames) {
		return fmt.Sprintf("Risk(%d)", int(r))
	}
	return riskNames[r]
}

// MarshalText encodes the risk as its name.
func (r Risk) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText decodes "low", "medium" or "high" (and "unknown").
func (r *Risk) UnmarshalText(b []byte) error {
	v, err := ParseRisk(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// ParseRisk parses a risk name.
func ParseRisk(s string) (Risk, error) {
	for i, n := range riskNames {
		if n == s {
			return Risk(i), nil
		}
	}
	return RiskUnknown, fmt.Errorf("unknown risk %q (want low, medium or high)", s)
}

// Effective is the risk a decision is made on: RiskUnknown counts as High.
func (r Risk) Effective() Risk {
	if r <= RiskUnknown || r > High {
		return High
	}
	return r
}

// MaxRisk returns the riskier of a and b.
func MaxRisk(a, b Risk) Risk {
	if b > a {
		return b
	}
	return a
}
