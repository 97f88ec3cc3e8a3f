// Package sessions holds end-to-end tests and benchmarks of chaperone's
// sessions: the built chaperone started with no command, its stdin a
// terminal (a PTY, as SWE-agent's bash session has it) or a pipe that
// stays open, driven as agents drive a shell — a command written, output
// read until a marker the command prints — on every sandbox (bubblewrap,
// docker, podman).
//
// The package has no code of its own. A missing sandbox skips its tests
// on a developer's machine and fails them in CI
// (CHAPERONE_REQUIRE_INTEGRATION=1). The panel's side of a session (a
// held line approved or withdrawn) is tested with the panel, in package
// tui.
package sessions
