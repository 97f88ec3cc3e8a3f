package config

// AuditConfig is the [audit] table.
type AuditConfig struct {
	RetentionDays int `toml:"retention_days"`
}
