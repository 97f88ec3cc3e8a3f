package config

import (
	"os"
	"path/filepath"

	"github.com/chaperone-dev/chaperone/internal/rundir"
)

// Dirs are chaperone's own folders in one environment: what no sandbox may
// see and no project may hold (see the sandbox package).
type Dirs struct {
	// Config is $XDG_CONFIG_HOME/chaperone (the user's config, examples).
	Config string
	// State is $XDG_STATE_HOME/chaperone (trust records, the audit log by
	// default, sandbox state).
	State string
	// Data is $XDG_DATA_HOME/chaperone (where scripts/install puts the
	// agents' shims).
	Data string
	// Runtime and RuntimeFallback hold the sockets: the broker's and the
	// shell servers' (see internal/rundir).
	Runtime, RuntimeFallback string
}

// DirsFrom returns chaperone's folders for the environment getenv reads
// (HOME and the XDG variables).
func DirsFrom(getenv func(string) string) Dirs {
	xdg := func(name, fallback string) string {
		if d := getenv(name); d != "" && filepath.IsAbs(d) {
			return filepath.Join(d, "chaperone")
		}
		home := getenv("HOME")
		if home == "" {
			home, _ = os.UserHomeDir()
		}
		return filepath.Join(home, fallback, "chaperone")
	}
	return Dirs{
		Config:          xdg("XDG_CONFIG_HOME", ".config"),
		State:           xdg("XDG_STATE_HOME", filepath.Join(".local", "state")),
		Data:            xdg("XDG_DATA_HOME", filepath.Join(".local", "share")),
		Runtime:         rundir.DirFrom(getenv),
		RuntimeFallback: rundir.Fallback(),
	}
}

// All lists the folders, cleaned and without duplicates; extra (such as a
// configured audit folder) are added.
func (d Dirs) All(extra ...string) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range append([]string{d.Config, d.State, d.Data, d.Runtime, d.RuntimeFallback}, extra...) {
		if p == "" || !filepath.IsAbs(p) {
			continue
		}
		p = filepath.Clean(p)
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}
