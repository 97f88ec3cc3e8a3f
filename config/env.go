package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chaperone-dev/chaperone/internal/suggest"
)

// The environment variables that set what the config file sets; each
// overrides its setting (see broker.HoldTimeout, broker.NoPanelGrace,
// sandbox.Select, ModelConfig.Resolved).
const (
	HoldTimeoutEnv  = "CHAPERONE_HOLD_TIMEOUT"   // hold_timeout, such as "30s"
	NoPanelGraceEnv = "CHAPERONE_NO_PANEL_GRACE" // no_panel_grace, such as "3s"
	BackendEnv      = "CHAPERONE_BACKEND"        // a sandbox backend (never the host: see sandbox.Select)
	ModelEnv        = "CHAPERONE_MODEL"          // [model] name
)

// EnvError is an environment variable whose value chaperone cannot use.
// It is never ignored: a value that was meant to change a setting and
// silently did not would leave the person guessing.
type EnvError struct {
	Name, Value string
	Msg, Fix    string
}

func (e *EnvError) Error() string {
	return fmt.Sprintf("environment variable %s=%s: %s (fix: %s)", e.Name, short(fmt.Sprintf("%q", e.Value)), e.Msg, e.Fix)
}

// CheckEnv checks the values of the environment variables (read with
// getenv) that set what the config sets; unset or empty ones are not
// looked at. The first bad one is an *EnvError.
func CheckEnv(getenv func(string) string) error {
	for _, d := range []struct{ name, what, long, short string }{
		{HoldTimeoutEnv, "a hold timeout", "90s", "2m"},
		{NoPanelGraceEnv, "the no-panel grace", "3s", "500ms"},
	} {
		if err := checkDuration(d.name, getenv(d.name), d.what, d.long, d.short); err != nil {
			return err
		}
	}
	if v := getenv(BackendEnv); v != "" && !slices.Contains(Backends, v) {
		fix := "write one of them, or unset it"
		if meant := suggest.Closest(v, Backends); meant != "" {
			fix = fmt.Sprintf("did you mean %s=%s?", BackendEnv, meant)
		}
		return &EnvError{Name: BackendEnv, Value: v, Msg: "no sandbox backend; they are " + strings.Join(Backends[:3], ", "), Fix: fix}
	}
	return nil
}

// checkDuration checks v, the value of the variable name that sets a
// positive duration (what, for the message), such as long or short; ""
// is unset and not looked at.
func checkDuration(name, v, what, long, short string) error {
	if v == "" {
		return nil
	}
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		return &EnvError{Name: name, Value: v, Msg: "not a duration",
			Fix: fmt.Sprintf("write it like %s=%s or %s=%s, or unset it", name, long, name, short)}
	case d <= 0:
		return &EnvError{Name: name, Value: v, Msg: what + " must be above 0",
			Fix: fmt.Sprintf("write it like %s=%s, or unset it", name, long)}
	}
	return nil
}
