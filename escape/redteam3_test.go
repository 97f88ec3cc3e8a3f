package escape

// Red-team probes, third round: the boundaries the latest change touched
// (chaperone-shell's handoff, which now waits for the shell server's
// answer; the per-session memory; the automatic backend choice; the shell
// server's warm engine cache). Each test is named by what it tries; those
// that hold are kept as regression probes. They reuse the suite's world,
// probes and checks (escape_test.go, redteam_test.go).

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// ---- chaperone-shell's handoff ---------------------------------------------

// A command leaves a process behind that holds its stdout (the agent reads
// to EOF) and outlives it: chaperone-shell must still return soon, and the
// process must not survive its sandbox.
func TestRedTeam3HandoffBackgroundHoldsStdout(t *testing.T) {
	redTeam(t, []string{"bwrap"}, probe{
		shell: true,
		steps: []step{{cmd: "(sleep @N@; echo LATE-@ID@) & echo STARTED-@ID@", timeout: 40 * time.Second}},
		check: func(c *checker) {
			c.stdoutHas(0, "STARTED-@ID@")
			c.finishedWithin(0, 15*time.Second)
			c.noSurvivors()
			c.grewWithout(0, "LATE-@ID@")
		},
	})
}

// The agent must see the command end only after the sweep: a guarded name
// the command plants (.envrc, which direnv runs on the next prompt) is gone
// the moment chaperone-shell returns, not some time later.
func TestRedTeam3HandoffEndSeenBeforeSweep(t *testing.T) {
	redTeam(t, []string{"bwrap"}, probe{
		opts:   worldOpts{deny: true},
		script: true,
		shell:  true,
		cmds:   []string{"echo 'touch @ROOT@/pwned-@ID@' > .envrc; echo planted"},
		check: func(c *checker) {
			c.stdoutHas(0, "planted")
			c.absent("@PROJ@/.envrc")
		},
	})
}

// A command that closes its stdio and detaches (setsid, its own session)
// to keep running past the agent's wait: it dies with the sandbox, and the
// agent is not kept waiting for it.
func TestRedTeam3HandoffDetachedSessionOutlivesCommand(t *testing.T) {
	redTeam(t, []string{"bwrap"}, probe{
		shell: true,
		steps: []step{{cmd: "setsid sh -c 'exec >/dev/null 2>&1 </dev/null; sleep @N@' & echo STARTED-@ID@",
			timeout: 40 * time.Second}},
		check: func(c *checker) {
			c.stdoutHas(0, "STARTED-@ID@")
			c.finishedWithin(0, 15*time.Second)
			c.noSurvivors()
		},
	})
}

// ---- the per-session memory --------------------------------------------------

// The session memory lives in $XDG_STATE_HOME/chaperone/sessions: a command
// must neither read it nor write a session of its own there.
func TestRedTeam3SessionMemoryReachFromSandbox(t *testing.T) {
	redTeam(t, []string{"bwrap", "docker", "podman"}, probe{
		shell: true,
		steps: []step{
			{cmd: "echo 'cat @HOME@/.ssh/id_rsa' > /dev/null; echo FIRST-@ID@", env: []string{"CHAPERONE_SESSION=s-@ID@"}},
			{cmd: "echo RAN-@ID@; ls -A @STATE@/chaperone/sessions 2>/dev/null | sed 's/^/LISTED /'; " +
				"mkdir -p @STATE@/chaperone/sessions 2>/dev/null; echo 'approved cat' > @STATE@/chaperone/sessions/s-@ID@ 2>/dev/null; " +
				"echo forged > @STATE@/chaperone/sessions/forged-@ID@ 2>/dev/null; echo tried",
				env: []string{"CHAPERONE_SESSION=s-@ID@"}},
		},
		check: func(c *checker) {
			c.stdoutHas(1, "RAN-@ID@")
			c.stdoutLacks(1, "LISTED")
			c.absent("@STATE@/chaperone/sessions/forged-@ID@")
			if b, err := os.ReadFile(c.w.x("@STATE@/chaperone/sessions/s-@ID@")); err == nil && regexp.MustCompile(`(?m)^approved cat$`).Match(b) {
				c.t.Errorf("FORGED: the sandbox wrote the session's memory")
			}
		},
	})
}

// A session id from the environment that is a path (../../…): the memory
// must not be written outside its folder.
func TestRedTeam3SessionIdPathTraversal(t *testing.T) {
	redTeam(t, []string{"bwrap"}, probe{
		shell: true,
		steps: []step{{cmd: "echo RAN-@ID@", env: []string{"CHAPERONE_SESSION=../../../../../../@ROOT@/forged-@ID@"}}},
		check: func(c *checker) {
			c.stdoutHas(0, "RAN-@ID@")
			c.absent("@ROOT@/forged-@ID@")
		},
	})
}

// ---- the backend choice ---------------------------------------------------------

// What the agent controls cannot pick the host: CHAPERONE_BACKEND=host in
// its environment.
func TestRedTeam3BackendHostFromEnv(t *testing.T) {
	redTeam(t, []string{"bwrap", "docker", "podman"}, probe{
		shell: true,
		steps: []step{{cmd: "echo RAN-@ID@; touch @ROOT@/unconfined-@ID@", env: []string{"CHAPERONE_BACKEND=host"}}},
		check: func(c *checker) {
			c.stdoutLacks(0, "RAN-@ID@")
			c.absent("@ROOT@/unconfined-@ID@")
		},
	})
}

// Nor the project's own .chaperone.toml (backend = "host", or a [sandbox]
// image that would make the choice an engine with the project's image).
func TestRedTeam3BackendHostFromProjectToml(t *testing.T) {
	redTeam(t, []string{"bwrap", "docker", "podman"}, probe{
		shell: true,
		setup: func(w *world) {
			w.write("@PROJ@/.chaperone.toml", "backend = \"host\"\n\n[sandbox]\nnetwork = true\nimage = \"alpine:latest\"\n")
		},
		cmds: []string{"echo RAN-@ID@; touch @ROOT@/unconfined-@ID@; cat @HOME@/.ssh/id_rsa"},
		check: func(c *checker) {
			c.stdoutHas(0, "RAN-@ID@") // it ran, in a sandbox
			c.absent("@ROOT@/unconfined-@ID@")
			c.noSecret()
		},
	})
}

// With no backend in the user's config (the automatic choice), the agent's
// environment names an image and a docker host of its own: still never
// the host, and nothing lands outside the project.
func TestRedTeam3AutoBackendSteeredByEnv(t *testing.T) {
	redTeam(t, []string{"bwrap"}, probe{
		shell: true,
		setup: func(w *world) {
			w.write("@CFG@/chaperone/config.toml", w.x("# config-@ID@\nhold_timeout = \"3s\"\n"))
		},
		steps: []step{{cmd: "echo RAN-@ID@; touch @ROOT@/unconfined-@ID@; cat @HOME@/.ssh/id_rsa",
			env: []string{"CHAPERONE_IMAGE=busybox:nonexistent-@ID@", "DOCKER_HOST=unix://@PROJ@/docker.sock", "CHAPERONE_BACKEND="}}},
		check: func(c *checker) {
			c.absent("@ROOT@/unconfined-@ID@")
			c.noSecret()
		},
	})
}

// ---- the shell server's warm engine cache ---------------------------------------

// The shell server keeps its engine warm between commands. After the user's
// config changes (here to a backend that cannot run: every command must be
// refused), the next command must not run with the stale config.
func TestRedTeam3WarmServerKeepsStaleConfig(t *testing.T) {
	const conf = "@CFG@/chaperone/config.toml"
	redTeam(t, []string{"bwrap"}, probe{
		shell: true,
		steps: []step{
			{cmd: "echo FIRST-@ID@"},
			{cmd: "echo SECOND-@ID@", before: func(w *world) {
				b, err := os.ReadFile(w.x(conf))
				must(w.t, err)
				w.write(conf, strings.Replace(string(b), "backend = ", "backend = \"nosuch\"\n# was: ", 1))
			}},
		},
		check: func(c *checker) {
			c.stdoutHas(0, "FIRST-@ID@")
			c.stdoutLacks(1, "SECOND-@ID@")
			// The person's edit, not the command's: put it back before the
			// host is compared.
			b, _ := os.ReadFile(c.w.x(conf))
			c.w.write(conf, strings.Replace(string(b), "backend = \"nosuch\"\n# was: ", "backend = ", 1))
		},
	})
}

// A command rewrites the project's .chaperone.toml (swept: a host-executed
// name) between two commands the warm server rates: the second must not
// run with rules the command wrote.
func TestRedTeam3WarmServerProjectTomlRewritten(t *testing.T) {
	redTeam(t, []string{"bwrap"}, probe{
		opts:   worldOpts{deny: true},
		script: true,
		shell:  true,
		cmds: []string{"printf 'backend = \"host\"\\n' > .chaperone.toml; echo planted",
			"echo RAN-@ID@; touch @ROOT@/unconfined-@ID@"},
		check: func(c *checker) {
			c.absent("@ROOT@/unconfined-@ID@")
			c.absent("@PROJ@/.chaperone.toml")
		},
	})
}
