package config

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// The scopes of a remembered approval (Remembered.Scope).
const (
	// ScopeExact covers the very command text the person approved, in the
	// same project and folder: `A` on the panel.
	ScopeExact = "exact"
	// ScopeShape covers commands of the same shape (program, subcommands
	// and flags) whose paths stay inside the project: `W` on the panel,
	// offered only where package shape allows it. An entry without a
	// scope (written before scopes existed) is a shape entry.
	ScopeShape = "shape"
)

// Remembered is an approval a person asked the panel to remember for one
// project ([[remember]] tables in the user's config file, written by the
// approval panel; see package shape). It is honoured only from the user's
// file, never from a project's.
type Remembered struct {
	// ID names the entry for `chaperone remember forget` and the audit
	// log. Entries written before IDs existed have none; Key derives a
	// stable one from their content.
	ID string `toml:"id,omitempty"`
	// Scope is ScopeExact or ScopeShape; "" is ScopeShape (old entries).
	Scope string `toml:"scope,omitempty"`
	// Project is the project root the approval holds for.
	Project string `toml:"project"`
	// Cwd is the folder the exact command ran in (ScopeExact only).
	Cwd string `toml:"cwd,omitempty"`
	// Command is the exact command text approved (ScopeExact only): the
	// inner command of an agent wrapper, as the panel showed it.
	Command string `toml:"command,omitempty"`
	// Shape has one entry per simple command: the argv prefix and the
	// sorted flags, such as "git push --force" or "| sh" (ScopeShape).
	Shape []string `toml:"shape,omitempty"`
	// Rules lists the ids of the high-risk findings the person saw when
	// approving; a later command matches only if its high-risk findings
	// are among them.
	Rules []string `toml:"rules"`
}

// Exact reports whether r covers only one exact command text.
func (r Remembered) Exact() bool { return r.Scope == ScopeExact }

// Key returns r.ID, or for an entry without one an ID derived from its
// content (the same on every load while the entry is unchanged).
func (r Remembered) Key() string {
	if r.ID != "" {
		return r.ID
	}
	h := sha256.New()
	for _, s := range []string{r.Scope, r.Project, r.Cwd, r.Command, strings.Join(r.Shape, "\x00"), strings.Join(r.Rules, "\x00")} {
		h.Write([]byte(s))
		h.Write([]byte{0xff})
	}
	return hex.EncodeToString(h.Sum(nil))[:8]
}
