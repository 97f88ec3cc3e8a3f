package config

// SandboxConfig is the [sandbox] table: how commands are confined.
type SandboxConfig struct {
	Image string `toml:"image"`
}
