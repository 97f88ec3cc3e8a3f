// Package sandbox runs a command string with real bash in a backend: the
// host, a per-project docker or podman container, or a bubblewrap jail.
package sandbox
