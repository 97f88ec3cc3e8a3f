package config

// Remembered is an approval remembered by command shape for one project
// ([[remember]] tables in the user's config file, written by the approval
// panel's `A` key; see package shape). It is honoured only from the user's
// file, never from a project's.
type Remembered struct {
	// Project is the project root the approval holds for.
	Project string `toml:"project"`
	// Shape has one entry per simple command: the argv prefix and the
	// sorted flags, such as "git push --force" or "| sh".
	Shape []string `toml:"shape"`
	// Rules lists the ids of the high-risk findings the person saw when
	// approving; a later command matches only if its high-risk findings
	// are among them.
	Rules []string `toml:"rules"`
}
