// Package escape holds chaperone's escape suite: end-to-end probes that try
// to get out of the sandbox the way a steered agent would, on every backend
// (bubblewrap, docker, podman), through `chaperone -c` and, for a subset,
// through the chaperone-shell that agents run (which builds the jail by a
// path of its own).
//
// The sandbox is the line that must hold when the rater is wrong, so the
// probes do not depend on the rating. An approval panel in the test
// process answers every held command: yes, so that every probe runs
// however it is rated; or no, for the probes that write what a person may
// allow one command to write (.git metadata, .envrc, agent and editor
// settings). Those run their commands from a script in the project, which
// the rater cannot see into, so that the sandbox, not a hold, is what
// stops them.
//
// Each probe is named by what it tries and checks the host afterwards:
// file contents and inodes, files that must not appear outside the
// project, what host git runs next, processes that must not survive, and
// the fake secrets that must not reach the command's output. Probes that
// leave the world as they found it share one (and one container) in a
// group; the others get a fresh one.
//
// The package has no code of its own: the suite is escape_test.go, with
// the helper it runs inside sandboxes in testdata/escprobe. A missing
// backend skips its probes on a developer's machine and fails them in CI
// (CHAPERONE_REQUIRE_INTEGRATION=1).
package escape
