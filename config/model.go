package config

// ModelConfig is the [model] table: the local model used for commands the
// rules leave undecided.
type ModelConfig struct {
	Name    string   `toml:"name"`
	Timeout Duration `toml:"timeout"`
	Context int      `toml:"context"`
}
