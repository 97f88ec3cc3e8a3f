package config

// Remembered is an approval remembered by command shape for one project
// ([[remember]] tables, written by the approval panel's `A` key).
type Remembered struct {
	Project string   `toml:"project"`
	Shape   []string `toml:"shape"`
}
