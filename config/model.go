package config

import (
	"os"
	"time"
)

// ModelConfig is the [model] table: the local model used for commands the
// rules leave undecided. The zero value means "no model": rules alone.
//
//	[model]
//	name = "qwen2.5:0.5b"   # the Ollama model; env CHAPERONE_MODEL overrides it
//	timeout = "5s"          # how long one question may take
//	context = 3             # earlier commands of the session shown; -1 for none
//
// OLLAMA_HOST says where the Ollama server is (default 127.0.0.1:11434).
type ModelConfig struct {
	Name    string   `toml:"name"`
	Timeout Duration `toml:"timeout"`
	Context int      `toml:"context"`
}

// Model defaults.
const (
	DefaultModelTimeout = 5 * time.Second
	DefaultModelContext = 3
	maxModelContext     = 20
)

// Resolved returns the settings in force: CHAPERONE_MODEL overrides Name,
// and an unset timeout or context takes its default. A negative context
// is taken as 0 (no session context); a context above 20 is cut to 20.
func (m ModelConfig) Resolved() ModelConfig {
	if env := os.Getenv(ModelEnv); env != "" {
		m.Name = env
	}
	if m.Timeout.Duration <= 0 {
		m.Timeout.Duration = DefaultModelTimeout
	}
	switch {
	case m.Context == 0:
		m.Context = DefaultModelContext
	case m.Context < 0:
		m.Context = 0
	case m.Context > maxModelContext:
		m.Context = maxModelContext
	}
	return m
}

// Enabled reports whether a model is configured (after Resolved).
func (m ModelConfig) Enabled() bool { return m.Name != "" }
