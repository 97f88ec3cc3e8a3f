package rater

import (
	"slices"

	"github.com/chaperone-dev/chaperone/catalog"
	"github.com/chaperone-dev/chaperone/models"
)

// netEffects are the effects that may reach the network, directly or by
// running code that could.
const netEffects = catalog.Sends | catalog.Fetches | catalog.Installs | catalog.Publishes | catalog.Serves |
	catalog.ExecArg | catalog.ExecFile | catalog.ExecStdin | catalog.SendsStdin | catalog.Elevates | catalog.System

// MayUseNetwork reports whether the command facts describe may reach the
// network: anything but commands whose programs the catalogue knows to
// work on files and processes only (ls, cat, grep, git status, …). What
// cannot be read, an unknown program, a function or a program that runs
// other code may. The sandbox gives the egress proxy only to commands that
// may (the others need no forwarder and pay nothing for one).
func MayUseNetwork(f *models.Facts) bool {
	if f == nil || f.ParseError != "" || f.Opaque || len(f.Commands) == 0 {
		return true
	}
	for i := range f.Commands {
		c := &f.Commands[i]
		name := c.Name()
		if name == "" || slices.Contains(f.Functions, name) {
			return true
		}
		e := catalog.Lookup(name)
		if e == nil {
			return true
		}
		effects := e.Effects
		if len(e.Subs) > 0 {
			if s := subOf(e, c); s != nil {
				effects = s.Effects
			}
		}
		if effects.Any(netEffects) {
			return true
		}
	}
	return false
}

// subOf is the entry's subcommand that c's first non-option word names,
// or nil.
func subOf(e *catalog.Entry, c *models.Command) *catalog.Sub {
	for _, w := range c.Argv[1:] {
		if w.Dynamic {
			return nil
		}
		if len(w.Lit) > 0 && w.Lit[0] == '-' {
			continue
		}
		return e.Sub(w.Lit)
	}
	return nil
}
