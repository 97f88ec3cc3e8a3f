package config

import "path/filepath"

// AuditConfig is the [audit] table. Every zero value means the default.
//
//	[audit]
//	dir = "/var/log/chaperone"   # default $XDG_STATE_HOME/chaperone/audit
//	retention_days = 30          # default 90; -1 keeps logs forever
//	output_max_bytes = 1048576   # per command; default 1 MiB; -1 records no output
//	files_max = 1000             # changed paths kept per command
//	watch_max_dirs = 2000        # directories watched per command; -1 disables
//	fsync = false                # fsync every record (slower, survives power loss)
type AuditConfig struct {
	Dir            string `toml:"dir"`
	RetentionDays  int    `toml:"retention_days"`
	OutputMaxBytes int64  `toml:"output_max_bytes"`
	FilesMax       int    `toml:"files_max"`
	WatchMaxDirs   int    `toml:"watch_max_dirs"`
	Fsync          bool   `toml:"fsync"`
}

// Audit defaults.
const (
	DefaultRetentionDays  = 90
	DefaultOutputMaxBytes = 1 << 20
	DefaultFilesMax       = 1000
	DefaultWatchMaxDirs   = 2000
)

// AuditDir returns the audit directory: Dir when set, else
// $XDG_STATE_HOME/chaperone/audit (default ~/.local/state/chaperone/audit).
func (a AuditConfig) AuditDir() string {
	if a.Dir != "" {
		return a.Dir
	}
	return filepath.Join(StateDir(), "audit")
}

// Retention returns how many days of logs to keep; 0 means forever.
func (a AuditConfig) Retention() int {
	return orDefault(a.RetentionDays, DefaultRetentionDays)
}

// OutputCap returns the per-command output cap in bytes; 0 means output
// is not recorded.
func (a AuditConfig) OutputCap() int64 {
	return orDefault(a.OutputMaxBytes, DefaultOutputMaxBytes)
}

// MaxFiles returns how many changed paths to keep per command.
func (a AuditConfig) MaxFiles() int {
	if a.FilesMax <= 0 {
		return DefaultFilesMax
	}
	return a.FilesMax
}

// MaxWatchDirs returns how many directories to watch per command; 0 means
// the working tree is not watched.
func (a AuditConfig) MaxWatchDirs() int {
	return orDefault(a.WatchMaxDirs, DefaultWatchMaxDirs)
}

// orDefault resolves a setting where 0 means def and a negative value
// means 0 (off, or forever).
func orDefault[T int | int64](v, def T) T {
	switch {
	case v < 0:
		return 0
	case v == 0:
		return def
	}
	return v
}
