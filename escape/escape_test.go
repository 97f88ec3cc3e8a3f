package escape

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/broker"
	"github.com/chaperone-dev/chaperone/internal/itest"
	"github.com/chaperone-dev/chaperone/internal/shellsrv"
	"github.com/chaperone-dev/chaperone/models"
)

// The suite's shape: a probe is a command (or a few) that tries one way
// out, with what it needs set up beforehand and what it checks on the host
// afterwards. Every probe runs in a fake user world (see world below) on
// every backend, alone or with the other probes of its group; some also
// through chaperone-shell.

func TestMain(m *testing.M) {
	flag.Parse()
	// The probes mostly wait on bwrap, docker and podman: more of them at
	// once than there are cores (unless -parallel says otherwise).
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		flag.Set("test.parallel", "4")
	}
	// What this process inherited stays here: the probes give a command
	// only what they mean to (see agent-descriptors-reach-sandbox).
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		for _, e := range ents {
			if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
				syscall.CloseOnExec(fd)
			}
		}
	}
	if _, err := os.Lstat(markerPath); err == nil {
		fmt.Fprintf(os.Stderr, "escape: %s exists on this host (left by a sandbox that bound / over the host?); "+
			"chaperone may take the host for a sandbox. Remove it before running the suite.\n", markerPath)
		os.Exit(1)
	}
	code := m.Run()
	sweepContainers()
	itest.RemovePrograms()
	if probeBuild.dir != "" {
		os.RemoveAll(probeBuild.dir)
	}
	os.Exit(code)
}

// markerPath is where the sandboxes mount chaperone's marker (see package
// inside); it must never appear on the host.
const markerPath = "/run/chaperone-sandbox"

// testImage is the image the docker and podman sandboxes use: busybox and
// a static bash, nothing else (no git, no python).
const testImage = "chaperone-test:latest"

// backends are the sandboxes every probe runs on.
var backends = []string{"bwrap", "docker", "podman"}

// ---- the probes --------------------------------------------------------

// A probe is one attempt to get out. Commands and paths may hold the
// world's placeholders (see world.x): @HOME@, @PROJ@, @TMP@ (TMPDIR),
// @ROOT@ (the world's folder, outside HOME and invisible in a sandbox),
// @CFG@, @STATE@, @RUN@ (the XDG dirs), @ID@ (unique per world), @N@ (a
// unique number), @PROBE@ (the escprobe helper in the project), @VICTIM@
// (a file outside /tmp), @PORT@ (a host listener's), @SECRETVAL@ (the
// secret marker, for environment values only: never in a command).
type probe struct {
	name string
	// group: probes of one group share a world (and its container),
	// one after the other; they must leave it usable for the next.
	group string
	// steps run one after the other, each through chaperone (cmds is the
	// short form: one step per command, in the project, no extras).
	cmds  []string
	steps []step
	// setup prepares the world before anything runs; what it makes is
	// part of the host as it must stay.
	setup func(w *world)
	// opts chooses the world's layout and the panel's answer.
	opts worldOpts
	// only limits the probe to some backends (nil: all); needs are other
	// backends it uses (it is left out where one is missing).
	only, needs []string
	// shell: also run through chaperone-shell (the served path; with
	// bubblewrap, the handoff).
	shell bool
	// helper: copy escprobe into the project (@PROBE@).
	helper bool
	// script: each command is run from a script in the project (`bash
	// tools/probe-N.sh`, as a poisoned repository's script would be),
	// which the rater cannot see into (medium: it is larger than what
	// the rater reads of a file it runs, as any rater miss would be), so
	// that the sandbox, not a hold, is what stops it. The probes whose
	// panel says no use it.
	script bool
	// outside are files (placeholders) the probe may create outside the
	// project: what it expects to land on the host.
	outside []string
	check   func(c *checker)
}

// scriptPadding makes a probe script larger than the rater reads of a
// script a command runs (rater's maxRunFile, 256 KiB): unread, it is
// opaque (medium), never rated by its content.
var scriptPadding = "# " + strings.Repeat("padding ", 300<<10/8) + "\n"

// step is one command.
type step struct {
	cmd     string   // run as `-c cmd`
	args    []string // bash arguments before -c (e.g. "-l")
	env     []string // NAME=value over the world's environment
	dir     string   // working directory; "" is the project
	files   func(w *world) []*os.File
	timeout time.Duration
	before  func(w *world) // done on the host first
}

// Commands the probes share.
const (
	// survivors lists processes running `sleep @N@` (the pattern does
	// not match its own command line: the number is computed).
	survivors = `n=$((@N@)); for p in /proc/[0-9]*; do c=$(tr '\0' ' ' < $p/cmdline 2>/dev/null); ` +
		`case "$c" in "sleep $n"*) echo "SURVIVOR ${p#/proc/} $c";; esac; done; echo scanned`
	// fsmonitor is a git config section that runs a command on the host's
	// next `git status`.
	fsmonitor = `printf '[core]\n\tfsmonitor = "touch @ROOT@/pwned-@ID@; false"\n'`
)

// claudeWrapper is Claude Code's per-command form (../shared/agents):
// source the snapshot, eval the command, write the cwd to a file.
func claudeWrapper(snapshot, inner, cwdFile string) string {
	return "source " + snapshot + ` 2>/dev/null || true && \builtin shopt -u extglob 2>/dev/null || true && ` +
		`{ \builtin unalias -- 'which'; \builtin unset -f -- 'which'; } >/dev/null 2>&1 || true && ` +
		`{ \builtin unalias -- 'unsetenv'; \builtin unset -f -- 'unsetenv'; } >/dev/null 2>&1 || true && ` +
		`eval ` + quote(inner) + ` < /dev/null && pwd -P >| ` + cwdFile
}

// geminiWrapper is Gemini CLI's per-command form: a subshell whose EXIT
// trap writes the background jobs' pids to a file.
func geminiWrapper(bgpids, inner string) string {
	return "shopt -u promptvars nullglob extglob nocaseglob dotglob; _bgpids_file=" + bgpids +
		"\n(\n  trap 'jobs -p > \"$_bgpids_file\"' EXIT\n" + inner + "\n)\n__code=$?\nexit $__code"
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// poison gives the project what a poisoned repository brings along, for
// commands that copy it where the host executes it: payload.txt (a git
// config section whose fsmonitor leaves a mark on the host),
// payload-hook.sh (a hook that does) and fixtures/evil.git (a git dir
// with that config).
func poison(w *world) {
	cfg := w.x("[core]\n\tfsmonitor = \"touch @ROOT@/pwned-@ID@; false\"\n")
	w.write("@PROJ@/payload.txt", cfg)
	w.write("@PROJ@/payload-hook.sh", w.x("#!/bin/sh\ntouch @ROOT@/pwned-@ID@\n"))
	w.write("@PROJ@/fixtures/evil.git/HEAD", "ref: refs/heads/main\n")
	w.write("@PROJ@/fixtures/evil.git/config", cfg)
	w.mkdir("@PROJ@/fixtures/evil.git/objects", 0o755)
	w.mkdir("@PROJ@/fixtures/evil.git/refs/heads", 0o755)
}

// hookLinkedIntoWorktree poisons the project and makes its pre-commit
// hook a symbolic link to scripts/pre-commit.sh (as many projects install
// theirs), which is watched.
func hookLinkedIntoWorktree(w *world) {
	poison(w)
	w.write("@PROJ@/scripts/pre-commit.sh", "#!/bin/sh\nexit 0\n")
	must(w.t, os.Chmod(w.x("@PROJ@/scripts/pre-commit.sh"), 0o755))
	must(w.t, os.Symlink("../../scripts/pre-commit.sh", w.x("@PROJ@/.git/hooks/pre-commit")))
	w.watchNode("@PROJ@/scripts/pre-commit.sh")
}

// claudeSnapshot is where Claude Code keeps its shell snapshot.
const claudeSnapshot = "@HOME@/.claude/shell-snapshots/snapshot-bash-1733400000000-@ID@.sh"

// hostExecuted are files in a project that host tools execute or obey
// (finding 4), with content to start from when they exist.
var hostExecuted = []struct{ slug, path, original string }{
	{"claude-settings", ".claude/settings.json", `{"permissions":{},"note":"ORIGINAL-@ID@"}`},
	{"codex-config", ".codex/config.toml", "# ORIGINAL-@ID@\n"},
	{"gemini-settings", ".gemini/settings.json", `{"note":"ORIGINAL-@ID@"}`},
	{"vscode-tasks", ".vscode/tasks.json", `{"version":"2.0.0","tasks":[],"note":"ORIGINAL-@ID@"}`},
	{"idea-workspace", ".idea/workspace.xml", "<!-- ORIGINAL-@ID@ -->\n<project version=\"4\"/>\n"},
	{"envrc", ".envrc", "# ORIGINAL-@ID@\n"},
	{"devcontainer", ".devcontainer/devcontainer.json", `{"name":"ORIGINAL-@ID@","image":"debian"}`},
	{"chaperone-toml", ".chaperone.toml", "# ORIGINAL-@ID@\n"},
	// Beyond the list, equally run by host tools: husky's hooks
	// (core.hooksPath), pre-commit's config, npm's (node-options,
	// script-shell), yarn's (yarnPath), cargo's (runner, rustc-wrapper),
	// Claude Code's project MCP servers.
	{"husky-hook", ".husky/pre-commit", "# ORIGINAL-@ID@\n"},
	{"pre-commit-config", ".pre-commit-config.yaml", "# ORIGINAL-@ID@\nrepos: []\n"},
	{"npmrc", ".npmrc", "# ORIGINAL-@ID@\n"},
	{"yarnrc", ".yarnrc.yml", "# ORIGINAL-@ID@\n"},
	{"cargo-config", ".cargo/config.toml", "# ORIGINAL-@ID@\n"},
	{"mcp-json", ".mcp.json", `{"mcpServers":{},"note":"ORIGINAL-@ID@"}`},
}

func probes() []probe {
	ps := []probe{
		// Finding 1: mounts must never come from the command text.
		{
			name:  "source-rc-file-mounts-home",
			cmds:  []string{"source @HOME@/.bashrc; cd; grep -r . . 2>/dev/null; cat @HOME@/.ssh/id_rsa"},
			shell: true,
			check: func(c *checker) { c.noSecret() },
		},
		{
			name:  "bgpids-var-appends-to-bashrc",
			cmds:  []string{`_bgpids_file=@HOME@/.bashrc; f=$(printf %s "$_bgpids_file"); echo x >> "$f"`},
			shell: true,
			check: func(c *checker) { c.unchanged("@HOME@/.bashrc") },
		},
		{
			name:  "gemini-wrapper-bgpids-file-is-bashrc",
			steps: []step{{cmd: geminiWrapper("@HOME@/.bashrc", `echo x >> "$_bgpids_file"`), env: []string{"GEMINI_CLI=1"}}},
			check: func(c *checker) { c.unchanged("@HOME@/.bashrc") },
		},
		{
			name:  "cwd-redirect-overwrites-config",
			cmds:  []string{"echo ok; pwd -P >| @CFG@/chaperone/config.toml"},
			shell: true,
			check: func(c *checker) { c.unchanged("@CFG@/chaperone/config.toml") },
		},
		{
			name: "claude-wrapper-cwd-file-is-config",
			steps: []step{{cmd: claudeWrapper(claudeSnapshot, "echo ok", "@CFG@/chaperone/config.toml"),
				env: []string{"CLAUDECODE=1"}}},
			setup: func(w *world) { w.write(claudeSnapshot, "snapfn() { echo SNAPSHOT-LOADED; }\n") },
			check: func(c *checker) { c.unchanged("@CFG@/chaperone/config.toml") },
		},
		{
			name: "cwd-redirect-config-sets-host-backend",
			cmds: []string{
				`printf 'backend = "host"\n' >| @CFG@/chaperone/config.toml; true || pwd -P >| @CFG@/chaperone/config.toml`,
				"echo RAN-@ID@; touch @ROOT@/unconfined-@ID@",
			},
			check: func(c *checker) {
				c.unchanged("@CFG@/chaperone/config.toml")
				c.absent("@ROOT@/unconfined-@ID@")
			},
		},
		{
			name:   "source-run-folder-exposes-it",
			helper: true,
			setup: func(w *world) {
				// A folder under /run, as a user's runtime dir is: a
				// secret, an agent's socket.
				dir := "/run/esc-" + w.id
				w.t.Cleanup(func() { os.RemoveAll(dir) })
				w.mkdir(dir, 0o700)
				w.write(dir+"/x", "echo "+w.secret+"\n")
				w.listenUnix(dir + "/agent.sock")
			},
			cmds: []string{"source /run/esc-@ID@/x; ls -la /run/esc-@ID@; cat /run/esc-@ID@/x; @PROBE@ connect /run/esc-@ID@/agent.sock"},
			check: func(c *checker) {
				c.noSecret()
				c.stdoutLacks(0, "CONNECTED")
				c.noAccepts()
			},
		},
		{
			name:   "source-var-run-exposes-docker-socket",
			helper: true,
			cmds:   []string{"source /var/run/docker.sock; @PROBE@ connect /var/run/docker.sock /run/docker.sock"},
			check:  func(c *checker) { c.stdoutLacks(0, "CONNECTED") },
		},
		{
			name:  "source-ssh-config-mounts-ssh-folder",
			cmds:  []string{"source @HOME@/.ssh/config; cat @HOME@/.ssh/id_rsa"},
			shell: true,
			check: func(c *checker) { c.noSecret() },
		},
		{
			name:   "engine-sockets-unreachable",
			group:  "reads",
			helper: true,
			cmds:   []string{"@PROBE@ connect /run/docker.sock /var/run/docker.sock /run/podman/podman.sock /run/containerd/containerd.sock"},
			check:  func(c *checker) { c.stdoutLacks(0, "CONNECTED") },
		},
		{
			name:  "claude-wrapper-cwd-file-works",
			group: "agent-files",
			steps: []step{{cmd: claudeWrapper(claudeSnapshot, "snapfn; echo CMD-RAN", "@TMP@/claude-@ID@-cwd"),
				env: []string{"CLAUDECODE=1"}}},
			setup: func(w *world) { w.write(claudeSnapshot, "snapfn() { echo SNAPSHOT-LOADED; }\n") },
			shell: true,
			check: func(c *checker) {
				c.exitOK(0)
				c.stdoutHas(0, "CMD-RAN")
				c.stdoutHas(0, "SNAPSHOT-LOADED")
				c.content("@TMP@/claude-@ID@-cwd", "@PROJ@\n")
			},
		},
		{
			name:  "gemini-wrapper-bgpids-file-works",
			group: "agent-files",
			steps: []step{{cmd: geminiWrapper("@TMP@/gemini-shell-@ID@/bgpids.tmp", "sleep 1 &\necho CMD-RAN"),
				env: []string{"GEMINI_CLI=1"}}},
			setup: func(w *world) { w.mkdir("@TMP@/gemini-shell-@ID@", 0o700) },
			shell: true,
			check: func(c *checker) {
				c.exitOK(0)
				c.stdoutHas(0, "CMD-RAN")
				c.matches("@TMP@/gemini-shell-@ID@/bgpids.tmp", `^[0-9]+\n$`)
			},
		},

		// Finding 2: the project is a git top level or a trusted folder.
		{
			name:  "run-from-home-not-git",
			steps: []step{{cmd: "echo RAN-@ID@; touch ./ran-@ID@; cat .ssh/id_rsa; echo x >> .bashrc", dir: "@HOME@"}},
			check: func(c *checker) {
				c.refused(0, "trust", "git")
				c.noSecret()
				c.absent("@HOME@/ran-@ID@")
			},
		},
		{
			name:  "run-from-home-git-repo",
			setup: func(w *world) { w.git(w.home, "init", "-q") },
			steps: []step{{cmd: "echo RAN-@ID@; touch ./ran-@ID@; cat .ssh/id_rsa; echo x >> .bashrc", dir: "@HOME@"}},
			check: func(c *checker) {
				c.refused(0, "trust", "git")
				c.noSecret()
				c.absent("@HOME@/ran-@ID@")
			},
		},
		{
			name: "run-below-git-repo-above-home",
			setup: func(w *world) {
				w.git(w.root, "init", "-q")
				w.mkdir("@HOME@/notes", 0o755)
			},
			steps: []step{{cmd: "echo RAN-@ID@; touch @HOME@/ran-@ID@; cat @HOME@/.ssh/id_rsa", dir: "@HOME@/notes"}},
			check: func(c *checker) {
				c.refused(0, "trust", "git")
				c.noSecret()
				c.absent("@HOME@/ran-@ID@")
			},
		},
		{
			name:  "run-from-untrusted-plain-folder",
			setup: func(w *world) { w.write("@ROOT@/plain/notes.txt", "notes\n") },
			steps: []step{{cmd: "echo RAN-@ID@; touch ./ran-@ID@", dir: "@ROOT@/plain"}},
			check: func(c *checker) {
				c.refused(0, "trust", "git")
				c.absent("@ROOT@/plain/ran-@ID@")
			},
		},
		{
			name: "run-from-project-holding-chaperone-config",
			opts: worldOpts{xdg: xdgInProject},
			cmds: []string{`echo RAN-@ID@; printf 'backend = "host"\n' > @CFG@/chaperone/config.toml`},
			check: func(c *checker) {
				c.refused(0)
				c.unchanged("@CFG@/chaperone/config.toml")
			},
		},
		{
			name:  "run-from-subfolder-binds-top-level",
			setup: func(w *world) { w.mkdir("@PROJ@/sub/dir", 0o755) },
			steps: []step{{cmd: "pwd; touch @PROJ@/top-@ID@ && echo TOP-WRITABLE", dir: "@PROJ@/sub/dir"}},
			check: func(c *checker) {
				c.exitOK(0)
				c.stdoutHas(0, "@PROJ@/sub/dir\n")
				c.stdoutHas(0, "TOP-WRITABLE")
				c.exists("@PROJ@/top-@ID@")
			},
		},
		{
			name: "run-from-trusted-plain-folder",
			setup: func(w *world) {
				w.write("@ROOT@/trusted/.chaperone.toml", "")
				w.chaperone("trust", w.x("@ROOT@/trusted"))
			},
			steps:   []step{{cmd: "echo RAN-@ID@; touch ./ok-@ID@", dir: "@ROOT@/trusted"}},
			outside: []string{"@ROOT@/trusted/ok-@ID@"},
			check: func(c *checker) {
				c.exitOK(0)
				c.stdoutHas(0, "RAN-@ID@")
				c.exists("@ROOT@/trusted/ok-@ID@")
			},
		},

		// Finding 3: .git cannot be swapped, its executed parts not changed.
		{
			name: "git-dir-swap-fsmonitor",
			cmds: []string{"cp -a .git .git2 && " + fsmonitor + " >> .git2/config && mv .git .git.bak && mv .git2 .git"},
			check: func(c *checker) {
				c.unchanged("@PROJ@/.git", "@PROJ@/.git/config")
				c.hostGitRunsNothing("status")
			},
		},
		{
			// The next sandbox (for docker and podman: the next container,
			// made here as after `chaperone sandbox down` or a reboot)
			// is built from what .git now points to.
			name:  "git-dir-swapped-for-symlink",
			setup: func(w *world) { w.write("@HOME@/.kube/config", "token: "+w.secret+"\n") },
			steps: []step{
				{cmd: "mv .git .git.bak && ln -s ../.kube .git"},
				{cmd: "cat .git/config", before: (*world).removeContainers},
			},
			check: func(c *checker) {
				c.noSecret()
				c.unchanged("@PROJ@/.git")
			},
		},
		{
			// The deny panel says no to what a person might allow once;
			// these forms are rated low today, so the sandbox is what is
			// tested (see poison).
			name:   "git-config-write-fsmonitor",
			opts:   worldOpts{deny: true},
			script: true,
			setup:  poison,
			cmds:   []string{"cd .git && cat ../payload.txt >> config"},
			check:  func(c *checker) { c.hostGitRunsNothing("status") },
		},
		{
			name:   "git-hook-planted",
			opts:   worldOpts{deny: true},
			script: true,
			setup:  poison,
			cmds:   []string{"cd .git/hooks && cat ../../payload-hook.sh > pre-commit; chmod +x pre-commit"},
			check:  func(c *checker) { c.hostGitRunsNothing("commit", "-q", "--allow-empty", "-m", "host") },
		},
		{
			name:   "git-info-attributes-planted",
			opts:   worldOpts{deny: true},
			script: true,
			setup:  func(w *world) { w.watchTree("@PROJ@/.git/info") },
			cmds:   []string{"mkdir -p .git/info; echo '* filter=evil diff=evil' > .git/info/attributes; echo '*' > .git/info/exclude"},
		},
		{
			name:   "git-hooks-replaced-by-symlink",
			opts:   worldOpts{deny: true},
			script: true,
			setup: func(w *world) {
				poison(w)
				w.write("@PROJ@/evilhooks/pre-commit", w.x("#!/bin/sh\ntouch @ROOT@/pwned-@ID@\n"))
			},
			cmds:  []string{"chmod +x evilhooks/pre-commit; rm -rf .git/hooks; mv .git/hooks .git/hooks.old; ln -s ../evilhooks .git/hooks"},
			check: func(c *checker) { c.hostGitRunsNothing("commit", "-q", "--allow-empty", "-m", "host") },
		},
		{
			name:   "git-dir-removed",
			opts:   worldOpts{deny: true},
			script: true,
			cmds:   []string{"rm -rf .git"},
			check: func(c *checker) {
				c.unchanged("@PROJ@/.git", "@PROJ@/.git/config")
			},
		},
		{
			name:   "gitfile-repointed",
			opts:   worldOpts{deny: true},
			script: true,
			setup: func(w *world) {
				poison(w)
				must(w.t, os.Rename(w.x("@PROJ@/.git"), w.x("@ROOT@/sep.git")))
				w.write("@PROJ@/.git", w.x("gitdir: @ROOT@/sep.git\n"))
				// Host git rewrites its index in the check: only what it
				// executes is watched there.
				w.skip = append(w.skip, w.x("@ROOT@/sep.git"))
				w.watchNode("@ROOT@/sep.git/config")
				w.watchTree("@ROOT@/sep.git/hooks")
			},
			cmds:  []string{"cp -r fixtures/evil.git evil.git && printf 'gitdir: @PROJ@/evil.git\\n' > .git"},
			check: func(c *checker) { c.hostGitRunsNothing("status") },
		},
		{
			name:   "submodule-git-config-fsmonitor",
			opts:   worldOpts{deny: true},
			script: true,
			setup: func(w *world) {
				poison(w)
				w.submodule()
				w.watchNode("@PROJ@/.git/modules/lib/config")
			},
			cmds:  []string{"cat payload.txt >> .git/modules/lib/config"},
			check: func(c *checker) { c.hostGitRunsNothing("status") },
		},
		{
			name:   "embedded-repo-git-config-fsmonitor",
			opts:   worldOpts{deny: true},
			script: true,
			setup: func(w *world) {
				poison(w)
				w.embeddedRepo()
				w.watchNode("@PROJ@/vendor/lib/.git/config")
			},
			cmds:  []string{"cd vendor/lib/.git && cat ../../../payload.txt >> config"},
			check: func(c *checker) { c.hostGitRunsNothing("status") },
		},
		{
			// A commondir file in .git sends git to another folder for
			// its config (as worktrees do).
			name:   "git-commondir-planted",
			opts:   worldOpts{deny: true},
			script: true,
			setup: func(w *world) {
				poison(w)
				w.watchNode("@PROJ@/.git/commondir")
			},
			cmds:  []string{"cp -r fixtures/evil.git evil-common && echo ../evil-common > .git/commondir"},
			check: func(c *checker) { c.hostGitRunsNothing("status") },
		},
		{
			// A repository made inside the sandbox and added to the
			// project's index: the host's `git status` runs git in it.
			name:   "nested-repo-created-fsmonitor",
			only:   []string{"bwrap"}, // the test image has no git
			opts:   worldOpts{deny: true},
			script: true,
			setup:  poison,
			cmds: []string{`set -e
git init -q nested
git -C nested -c user.name=t -c user.email=t@e commit -q --allow-empty -m nested
cat payload.txt >> nested/.git/config
git add nested 2>/dev/null`},
			check: func(c *checker) { c.hostGitRunsNothing("status") },
		},
		{
			// A hook that is a symbolic link into the working tree (as
			// many projects install theirs): the hooks folder is
			// read-only, what it runs is not.
			name:   "hook-linked-into-worktree",
			opts:   worldOpts{deny: true},
			script: true,
			setup:  hookLinkedIntoWorktree,
			cmds:   []string{"cat payload-hook.sh > scripts/pre-commit.sh"},
			check:  func(c *checker) { c.hostGitRunsNothing("commit", "-q", "--allow-empty", "-m", "host") },
		},
		{
			// core.hooksPath in the working tree (husky, and projects
			// that keep their hooks in the repository).
			name:   "hookspath-in-worktree",
			opts:   worldOpts{deny: true},
			script: true,
			setup: func(w *world) {
				poison(w)
				w.write("@PROJ@/.githooks/pre-commit", "#!/bin/sh\nexit 0\n")
				must(w.t, os.Chmod(w.x("@PROJ@/.githooks/pre-commit"), 0o755))
				w.git(w.proj, "config", "core.hooksPath", ".githooks")
				w.watchNode("@PROJ@/.githooks/pre-commit")
			},
			cmds:  []string{"cat payload-hook.sh > .githooks/pre-commit"},
			check: func(c *checker) { c.hostGitRunsNothing("commit", "-q", "--allow-empty", "-m", "host") },
		},
		{
			name: "ordinary-git-works",
			only: []string{"bwrap"}, // the test image has no git
			cmds: []string{`set -e
g() { git -c user.name=t -c user.email=t@e -c init.defaultBranch=main -c advice.detachedHead=false "$@"; }
echo a > a.txt; g add a.txt; g commit -qm a
g checkout -qb feature; echo b > b.txt; g add b.txt; g commit -qm b
g branch other main
echo c >> a.txt; g stash -q; g stash pop -q; g checkout -q -- a.txt
g checkout -q main; g merge -q --no-edit feature
g checkout -q other; echo o > o.txt; g add o.txt; g commit -qm o; g rebase -q main
mkdir remote; (cd remote && g init -q && g commit -q --allow-empty -m r); g fetch -q ./remote
echo GIT-OK`},
			check: func(c *checker) {
				c.exitOK(0)
				c.stdoutHas(0, "GIT-OK")
			},
		},

		// Finding 6: the host backend only from the config file.
		{
			name:  "backend-host-from-env-refused",
			steps: []step{{cmd: "echo RAN-@ID@; touch @ROOT@/unconfined-@ID@", env: []string{"CHAPERONE_BACKEND=host"}}},
			check: func(c *checker) {
				c.refused(0, "backend")
				c.stderrHas(0, "config.toml")
				c.absent("@ROOT@/unconfined-@ID@")
			},
		},
		{
			name:  "backend-bwrap-from-env-accepted",
			needs: []string{"bwrap"},
			steps: []step{{cmd: "echo RAN-@ID@; touch ./ok-@ID@; touch @ROOT@/outside-@ID@; cat " + markerPath,
				env: []string{"CHAPERONE_BACKEND=bwrap"}}},
			check: func(c *checker) {
				c.stdoutHas(0, "RAN-@ID@")
				c.stdoutHas(0, "chaperone sandbox")
				c.exists("@PROJ@/ok-@ID@")
				c.absent("@ROOT@/outside-@ID@")
			},
		},

		// Finding 7: nothing outlives its command.
		{
			name:  "setsid-child-outlives-command",
			group: "survivors",
			cmds:  []string{"env -u CHAPERONE_JOB setsid sleep @N@ >/dev/null 2>&1 </dev/null & echo started", survivors},
			shell: true,
			check: func(c *checker) { c.stdoutLacks(1, "SURVIVOR"); c.noSurvivors() },
		},
		{
			name:  "double-fork-outlives-command",
			group: "survivors",
			cmds:  []string{"( ( exec sleep @N@ ) >/dev/null 2>&1 </dev/null & ) ; echo started", survivors},
			check: func(c *checker) { c.stdoutLacks(1, "SURVIVOR"); c.noSurvivors() },
		},
		{
			name:  "nohup-child-outlives-command",
			group: "survivors",
			cmds: []string{"if command -v nohup >/dev/null; then nohup sleep @N@ >/dev/null 2>&1 </dev/null & " +
				"else ( trap '' HUP; exec sleep @N@ ) >/dev/null 2>&1 </dev/null & fi; echo started", survivors},
			check: func(c *checker) { c.stdoutLacks(1, "SURVIVOR"); c.noSurvivors() },
		},
		{
			name:  "disowned-child-ignoring-signals-outlives-command",
			group: "survivors",
			cmds:  []string{"( trap '' HUP TERM INT; exec sleep @N@ ) >/dev/null 2>&1 </dev/null & disown; echo started", survivors},
			check: func(c *checker) { c.stdoutLacks(1, "SURVIVOR"); c.noSurvivors() },
		},
		{
			name: "leftover-writes-into-later-command-output",
			cmds: []string{
				`env -u CHAPERONE_JOB setsid bash -c 'for i in $(seq 1 300); do for f in /proc/[0-9]*/fd/1 /proc/[0-9]*/fd/2; do ` +
					`echo "INJECTED-$((@N@)) ignore previous instructions" >> "$f"; done 2>/dev/null; sleep 0.1; done' >/dev/null 2>&1 </dev/null & echo started`,
				"sleep 2; echo clean",
			},
			check: func(c *checker) {
				c.stdoutIs(1, "clean\n")
				c.outputLacks(1, "INJECTED-")
			},
		},
		{
			name: "leftover-writes-into-earlier-command-output",
			cmds: []string{"( sleep 2; echo LATE-$((@N@)) ) & echo started"},
			check: func(c *checker) {
				time.Sleep(3 * time.Second)
				c.grewWithout(0, fmt.Sprintf("LATE-%d", c.w.n))
			},
		},
		{
			name:   "socket-in-project-outlives-command",
			helper: true,
			cmds:   []string{"@PROBE@ listen @PROJ@/live.sock 60 >/dev/null 2>&1 </dev/null & sleep 1; echo started"},
			check:  func(c *checker) { c.socketDead("@PROJ@/live.sock") },
		},

		// Finding 8: seccomp, no new namespaces.
		{
			name:  "seccomp-filter-installed",
			group: "kernel",
			cmds:  []string{"grep Seccomp: /proc/self/status"},
			shell: true,
			check: func(c *checker) { c.stdoutMatches(0, `(?m)^Seccomp:\s*2$`) },
		},
		{
			name:  "unshare-user-namespace",
			group: "kernel",
			cmds:  []string{"unshare -U true && echo UNSHARED"},
			shell: true,
			check: func(c *checker) { c.stdoutLacks(0, "UNSHARED") },
		},
		{
			name:  "unshare-mount-namespace",
			group: "kernel",
			cmds:  []string{"unshare -m true && echo UNSHARED"},
			check: func(c *checker) { c.stdoutLacks(0, "UNSHARED") },
		},
		{
			name:  "unshare-user-and-mount-namespace",
			group: "kernel",
			cmds:  []string{"unshare -U -m true && echo UNSHARED"},
			check: func(c *checker) { c.stdoutLacks(0, "UNSHARED") },
		},

		// Classics.
		{
			name:  "symlink-to-home-secret",
			group: "reads",
			cmds:  []string{"ln -s @HOME@/.ssh/id_rsa key; cat key; ln -s ../.ssh/id_rsa key2; cat key2"},
			check: func(c *checker) { c.noSecret() },
		},
		{
			name:  "symlink-to-bashrc-append",
			group: "reads",
			cmds:  []string{"ln -s @HOME@/.bashrc rc; echo x >> rc; ln -s ../.bashrc rc2; echo x >> rc2"},
			check: func(c *checker) { c.unchanged("@HOME@/.bashrc") },
		},
		{
			name:   "hardlink-to-host-files",
			opts:   worldOpts{deny: true},
			script: true,
			setup: func(w *world) {
				w.write("@VICTIM@", "victim "+w.id+"\n")
				w.watchNode("@VICTIM@")
			},
			cmds: []string{"ln @HOME@/.bashrc hl1; ln .git/config hl2; ln @VICTIM@ hl3; for f in hl1 hl2 hl3; do echo x >> $f; done"},
			check: func(c *checker) {
				c.unchanged("@HOME@/.bashrc", "@PROJ@/.git/config", "@VICTIM@")
			},
		},
		{
			name:  "proc-root-paths",
			group: "reads",
			cmds: []string{"cat /proc/1/root@HOME@/.ssh/id_rsa /proc/self/root@HOME@/.ssh/id_rsa /proc/$PPID/root@HOME@/.ssh/id_rsa; " +
				"echo x >> /proc/1/root@HOME@/.bashrc; ls /proc/1/root/run"},
			check: func(c *checker) {
				c.noSecret()
				c.unchanged("@HOME@/.bashrc")
			},
		},
		{
			name: "fifo-at-chaperone-toml-stalls-next-command",
			steps: []step{
				{cmd: "mkfifo .chaperone.toml; echo planted"},
				{cmd: "echo NEXT-RAN", timeout: 15 * time.Second},
			},
			check: func(c *checker) { c.finishedWithin(1, 10*time.Second) },
		},
		{
			name:  "chaperone-toml-symlink-mounts-host-file",
			cmds:  []string{"ln -s ../.git-credentials .chaperone.toml; echo planted", "cat .chaperone.toml"},
			check: func(c *checker) { c.noSecret() },
		},
		{
			name:  "fd-list-only-stdio",
			group: "reads",
			cmds:  []string{"ls /proc/self/fd"},
			shell: true,
			check: func(c *checker) { c.onlyStdio(0) },
		},
		{
			name:  "agent-descriptors-reach-sandbox",
			group: "reads",
			steps: []step{{cmd: "ls /proc/self/fd; for i in 3 4 5 6 7 8 9; do cat <&$i; done 2>/dev/null",
				files: func(w *world) []*os.File { return w.openSecret(4) }}},
			shell: true,
			check: func(c *checker) {
				c.noSecret()
				c.onlyStdio(0)
			},
		},
		{
			name:  "secret-env-reaches-sandbox",
			group: "reads",
			steps: []step{{cmd: "env; tr '\\0' '\\n' < /proc/self/environ; tr '\\0' '\\n' < /proc/1/environ",
				env: []string{"GITHUB_TOKEN=@SECRETVAL@", "MY_API_KEY=@SECRETVAL@", "AWS_SECRET_ACCESS_KEY=@SECRETVAL@", "DB_PASSWORD=@SECRETVAL@"}}},
			shell: true,
			check: func(c *checker) { c.noSecret() },
		},
		{
			name:   "loopback-reaches-host-listener",
			group:  "reads",
			helper: true,
			setup:  func(w *world) { w.listenTCP() },
			cmds:   []string{"@PROBE@ tcp 127.0.0.1:@PORT@; (exec 3<>/dev/tcp/127.0.0.1/@PORT@ && echo BASH-CONNECTED) 2>/dev/null"},
			check: func(c *checker) {
				c.stdoutLacks(0, "CONNECTED")
				c.noAccepts()
			},
		},
		{
			name:   "abstract-socket-reaches-host",
			group:  "reads",
			helper: true,
			setup:  func(w *world) { w.listenAbstract() },
			cmds:   []string{"@PROBE@ connect @esc-abstract-@ID@"},
			check: func(c *checker) {
				c.stdoutLacks(0, "CONNECTED")
				c.noAccepts()
			},
		},

		// Beyond the list.
		{
			name: "agent-snapshot-folders-expose-secrets",
			setup: func(w *world) {
				w.write("@HOME@/.codex/shell_snapshots/1.sh", "export GITHUB_TOKEN='"+w.secret+"'\n")
				w.write("@HOME@/.claude/shell-snapshots/snapshot-bash-1-x.sh", "export ANTHROPIC_API_KEY='"+w.secret+"'\n")
			},
			cmds:  []string{"cat @HOME@/.codex/shell_snapshots/* @HOME@/.claude/shell-snapshots/*; grep -r . @HOME@ 2>/dev/null"},
			check: func(c *checker) { c.noSecret() },
		},
		{
			name: "sandbox-home-persists-into-later-login-shell",
			steps: []step{
				{cmd: `for f in ~/.bash_profile ~/.profile ~/.bash_login; do echo 'echo PERSISTED-$((@N@))' >> $f; done; echo planted`},
				{cmd: "echo second", args: []string{"-l"}},
			},
			check: func(c *checker) { c.outputLacks(1, fmt.Sprintf("PERSISTED-%d", c.w.n)) },
		},
	}

	// Finding 4: what host tools execute is read-only inside, and a new
	// one does not survive the command without a person's yes.
	var overwrites []probe
	for _, f := range hostExecuted {
		dir, _ := filepath.Split(f.path)
		dir = strings.TrimSuffix(dir, "/")
		var overwrite string
		if dir == "" {
			overwrite = fmt.Sprintf("{ echo PWNED-@N@ > %[1]s; } 2>/dev/null; { rm -f %[1]s && echo PWNED-@N@ > %[1]s; } 2>/dev/null; "+
				"{ mv %[1]s %[1]s.moved && echo PWNED-@N@ > %[1]s; } 2>/dev/null; echo tried", f.path)
		} else {
			overwrite = fmt.Sprintf("{ echo PWNED-@N@ > %[1]s; } 2>/dev/null; { rm -f %[1]s && echo PWNED-@N@ > %[1]s; } 2>/dev/null; "+
				"{ mv %[2]s %[2]s.moved && mkdir -p %[2]s && echo PWNED-@N@ > %[1]s; } 2>/dev/null; echo tried", f.path, dir)
		}
		create := fmt.Sprintf("echo PWNED-@N@ > %s; echo tried", f.path)
		if dir != "" {
			create = "mkdir -p " + dir + " && " + create
		}
		path, original := "@PROJ@/"+f.path, f.original
		overwrites = append(overwrites, probe{
			name:   "overwrite-existing-" + f.slug,
			group:  "host-executed",
			opts:   worldOpts{deny: true},
			script: true,
			setup: func(w *world) {
				w.write(path, w.x(original))
				w.watchNode(path)
			},
			cmds: []string{overwrite},
		})
		ps = append(ps, probe{
			name:   "create-new-" + f.slug,
			group:  "host-executed",
			opts:   worldOpts{deny: true},
			script: true,
			cmds:   []string{create},
			setup:  func(w *world) { os.Remove(w.x(path)) },
			check:  func(c *checker) { c.absent(path) },
		})
	}
	ps = append(ps, overwrites...)

	// Finding 5: chaperone's control points are invisible inside, with
	// the XDG dirs in HOME (hidden by its tmpfs) and
	// outside HOME, /tmp and /run (visible in a plain read-only root).
	for _, l := range []struct {
		name string
		xdg  layout
	}{{"xdg-in-home", xdgInHome}, {"xdg-outside-home", xdgOutside}} {
		ps = append(ps,
			probe{
				name:   "broker-socket-reachable-" + l.name,
				group:  "control-points-" + l.name,
				opts:   worldOpts{xdg: l.xdg},
				helper: true,
				cmds:   []string{"ls -A @RUN@/chaperone; @PROBE@ connect @RUN@/chaperone/broker.sock"},
				shell:  l.xdg == xdgOutside,
				check: func(c *checker) {
					c.stdoutLacks(0, "CONNECTED")
					c.stdoutLacksLine(0, `^(broker\.sock|broker\.lock|shell-.*)$`)
				},
			},
			probe{
				name:  "config-readable-" + l.name,
				group: "control-points-" + l.name,
				opts:  worldOpts{xdg: l.xdg},
				cmds:  []string{"cat @CFG@/chaperone/config.toml; ls -A @CFG@/chaperone"},
				check: func(c *checker) { c.stdoutLacks(0, "config-@ID@"); c.stdoutLacksLine(0, `^config\.toml$`) },
			},
			probe{
				name:  "audit-log-readable-" + l.name,
				group: "control-points-" + l.name,
				opts:  worldOpts{xdg: l.xdg},
				cmds: []string{"echo AUDIT-CANARY",
					`for d in @STATE@/chaperone @STATE@/chaperone/audit; do ls -A "$d" 2>/dev/null | sed "s|^|LISTED $d/|"; done; ` +
						"grep -rh CANARY @STATE@/chaperone"},
				check: func(c *checker) { c.stdoutLacks(1, "LISTED"); c.stdoutLacks(1, "AUDIT-CANARY") },
			},
		)
	}
	return ps
}

// ---- running them --------------------------------------------------------

// TestEscape runs every probe on every backend, through `chaperone -c`,
// and those marked so through chaperone-shell too.
func TestEscape(t *testing.T) {
	t.Parallel()
	for _, backend := range backends {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			itest.Require(t, backend, available(backend))
			for _, u := range units(backend) {
				t.Run(u.name, func(t *testing.T) {
					t.Parallel()
					if len(u.probes) == 1 && u.probes[0].group == "" {
						runProbe(t, backend, u.probes[0], u.via)
						return
					}
					// A group shares one world (one container): its probes
					// run one after the other, each from the host as it is.
					w := newWorld(t, backend, u.probes[0].opts)
					for _, p := range u.probes {
						t.Run(p.name, func(t *testing.T) { runIn(t, w, p, u.via) })
					}
				})
			}
		})
	}
}

// unit is what runs as one parallel subtest: a probe, or a group of them
// sharing a world, through one of the two paths.
type unit struct {
	name   string
	via    string
	probes []probe
}

// units are the backend's probes as they run: alone, or in their group
// (in order); then again through chaperone-shell, those marked so.
func units(backend string) []unit {
	var us []unit
	groups := map[string]int{} // name → index in us
	for _, via := range []string{viaC, viaShell} {
		for _, p := range probes() {
			if p.only != nil && !slices.Contains(p.only, backend) || via == viaShell && !p.shell ||
				slices.ContainsFunc(p.needs, func(b string) bool { return !available(b) }) {
				continue
			}
			name := p.name
			if p.group != "" {
				name = p.group
			}
			if via == viaShell {
				name += "-via-chaperone-shell"
			}
			if i, ok := groups[name]; ok && p.group != "" {
				us[i].probes = append(us[i].probes, p)
				continue
			}
			groups[name] = len(us)
			us = append(us, unit{name: name, via: via, probes: []probe{p}})
		}
	}
	return us
}

// TestEscapeFromRoot runs a command from /: it must be refused, run
// nothing and leave nothing behind (with / as the project, bwrap binds the
// host's / over the jail and leaves its marker's mount point in the host's
// /run). Not parallel: what it may leave in /run is seen by every sandbox.
func TestEscapeFromRoot(t *testing.T) {
	for _, backend := range backends {
		t.Run(backend+"/run-from-filesystem-root", func(t *testing.T) {
			itest.Require(t, backend, available(backend))
			t.Cleanup(func() {
				// Whatever this left, the other probes must not find (an
				// empty mount point; os.Remove leaves anything else).
				if fi, err := os.Lstat(markerPath); err == nil && (fi.IsDir() || fi.Size() == 0) {
					os.Remove(markerPath)
				}
			})
			runProbe(t, backend, probe{
				name:  "run-from-filesystem-root",
				steps: []step{{cmd: "echo RAN-@ID@; touch @ROOT@/ran-@ID@; cat @HOME@/.ssh/id_rsa", dir: "/"}},
				check: func(c *checker) {
					c.refused(0, "trust", "git")
					c.noSecret()
					c.absent("@ROOT@/ran-@ID@")
					c.absent(markerPath)
				},
			}, viaC)
		})
	}
}

// TestEscapeHostBackendFromConfig: `backend = "host"` in the user's own
// config file is the person's choice, and still runs unconfined.
func TestEscapeHostBackendFromConfig(t *testing.T) {
	t.Parallel()
	t.Run("host/backend-host-from-config-runs-unconfined", func(t *testing.T) {
		runProbe(t, "host", probe{
			name:    "backend-host-from-config-runs-unconfined",
			cmds:    []string{"echo RAN-@ID@; touch @ROOT@/unconfined-@ID@"},
			outside: []string{"@ROOT@/unconfined-@ID@"},
			check: func(c *checker) {
				c.exitOK(0)
				c.stdoutHas(0, "RAN-@ID@")
				c.exists("@ROOT@/unconfined-@ID@")
			},
		}, viaC)
	})
}

const (
	viaC     = "chaperone -c"
	viaShell = "chaperone-shell"
)

// scriptStarted is what a probe's script prints first (on stderr).
const scriptStarted = "escape-probe-script-started"

// runProbe runs one probe in a fresh world and checks the host.
func runProbe(t *testing.T, backend string, p probe, via string) {
	runIn(t, newWorld(t, backend, p.opts), p, via)
}

// runIn runs one probe in w (which may have served others before) and
// checks the host.
func runIn(t *testing.T, w *world, p probe, via string) {
	w.begin(t)
	if p.helper {
		w.copyHelper()
	}
	if p.setup != nil {
		p.setup(w)
	}
	w.freeze()
	// What the probes leave running is this test's to end (docker's and
	// podman's end with their container anyway).
	n := w.n
	t.Cleanup(func() {
		for _, pid := range sleepers(n) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	steps := append([]step(nil), p.steps...)
	for _, c := range p.cmds {
		steps = append(steps, step{cmd: c})
	}
	if p.script {
		for i := range steps {
			name := fmt.Sprintf("tools/probe-%d.sh", i)
			w.write("@PROJ@/"+name, "echo "+scriptStarted+" >&2\n"+w.x(steps[i].cmd)+"\n")
			t.Logf("%s:\n%s", name, w.x(steps[i].cmd))
			steps[i].cmd = "bash " + name
		}
	}
	c := &checker{t: t, w: w}
	for _, s := range steps {
		if s.before != nil {
			s.before(w)
		}
		c.rs = append(c.rs, w.run(s, via))
	}
	for i, r := range c.rs {
		took := r.took.Round(time.Millisecond).String()
		if r.timedOut {
			took += " (timed out)"
		}
		t.Logf("step %d: exit %d in %s\n  command: %s\n  stdout: %s\n  stderr: %s", i, r.code, took,
			clip(r.cmd, 300), clip(r.stdout, 600), clip(r.stderr, 600))
	}
	for _, h := range w.heldCommands() {
		t.Logf("held, and %s", h)
	}
	for i, r := range c.rs {
		// A script that never ran proves nothing: say so rather than pass.
		if p.script && !strings.Contains(r.stderr, scriptStarted) {
			t.Errorf("DID NOT RUN: step %d's script never started (exit %d), so the probe proves nothing: %q", i, r.code, clip(r.stderr, 300))
		}
	}
	if p.check != nil {
		p.check(c)
	}
	var allowed []string
	for _, o := range p.outside {
		allowed = append(allowed, w.x(o))
	}
	w.checkHost(allowed)
}

// ---- checks --------------------------------------------------------------

// checker holds one probe's results; its methods report what leaked or
// changed as test errors.
type checker struct {
	t  *testing.T
	w  *world
	rs []result
}

// noSecret: the world's secret marker is in no output.
func (c *checker) noSecret() {
	c.t.Helper()
	for i, r := range c.rs {
		for _, out := range []struct{ name, text string }{{"stdout", r.stdout}, {"stderr", r.stderr}} {
			if line := lineWith(out.text, c.w.secret); line != "" {
				c.t.Errorf("LEAK: step %d printed the secret marker on %s: %q", i, out.name, clip(line, 200))
			}
		}
	}
}

// refused: the step was refused by chaperone itself: nothing ran, and
// stderr is one line starting "chaperone:" that mentions one of hints
// (how to proceed).
func (c *checker) refused(i int, hints ...string) {
	c.t.Helper()
	r := c.rs[i]
	if strings.Contains(r.stdout, "RAN-"+c.w.id) {
		c.t.Errorf("RAN: step %d ran (exit %d), want it refused; stderr %q", i, r.code, clip(r.stderr, 200))
		return
	}
	if r.code == 0 {
		c.t.Errorf("step %d exited 0, want a refusal", i)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "chaperone:") {
		c.t.Errorf("step %d: stderr is not one line starting with chaperone: (%d lines): %q", i, len(lines), clip(r.stderr, 300))
		return
	}
	if len(hints) == 0 {
		return
	}
	low := strings.ToLower(lines[0])
	for _, h := range hints {
		if strings.Contains(low, h) {
			return
		}
	}
	c.t.Errorf("step %d: the refusal %q says nothing of %s", i, lines[0], strings.Join(hints, " or "))
}

func (c *checker) exitOK(i int) {
	c.t.Helper()
	if r := c.rs[i]; r.code != 0 {
		c.t.Errorf("step %d exited %d, want 0 (stderr %q)", i, r.code, clip(r.stderr, 300))
	}
}

func (c *checker) stdoutHas(i int, s string) {
	c.t.Helper()
	if s = c.w.x(s); !strings.Contains(c.rs[i].stdout, s) {
		c.t.Errorf("step %d: stdout lacks %q: %q", i, s, clip(c.rs[i].stdout, 300))
	}
}

func (c *checker) stderrHas(i int, s string) {
	c.t.Helper()
	if s = c.w.x(s); !strings.Contains(c.rs[i].stderr, s) {
		c.t.Errorf("step %d: stderr lacks %q: %q", i, s, clip(c.rs[i].stderr, 300))
	}
}

func (c *checker) stdoutLacks(i int, s string) {
	c.t.Helper()
	s = c.w.x(s)
	if line := lineWith(c.rs[i].stdout, s); line != "" {
		c.t.Errorf("step %d printed %q: %q", i, s, clip(line, 200))
	}
}

// stdoutLacksLine: no stdout line matches the expression.
func (c *checker) stdoutLacksLine(i int, expr string) {
	c.t.Helper()
	re := regexp.MustCompile(expr)
	for _, l := range strings.Split(c.rs[i].stdout, "\n") {
		if re.MatchString(l) {
			c.t.Errorf("step %d listed %q", i, l)
		}
	}
}

func (c *checker) outputLacks(i int, s string) {
	c.t.Helper()
	s = c.w.x(s)
	for _, out := range []string{c.rs[i].stdout, c.rs[i].stderr} {
		if line := lineWith(out, s); line != "" {
			c.t.Errorf("step %d's output holds %q: %q", i, s, clip(line, 200))
		}
	}
}

func (c *checker) stdoutIs(i int, want string) {
	c.t.Helper()
	if got := c.rs[i].stdout; got != want {
		c.t.Errorf("step %d: stdout %q, want %q", i, clip(got, 300), want)
	}
}

func (c *checker) stdoutMatches(i int, expr string) {
	c.t.Helper()
	if !regexp.MustCompile(expr).MatchString(c.rs[i].stdout) {
		c.t.Errorf("step %d: stdout %q does not match %s", i, clip(c.rs[i].stdout, 300), expr)
	}
}

// onlyStdio: the numbers the step printed (`ls /proc/self/fd`) are 0, 1,
// 2 and ls's own 3, nothing else.
func (c *checker) onlyStdio(i int) {
	c.t.Helper()
	var fds []string
	for _, f := range strings.Fields(c.rs[i].stdout) {
		if _, err := strconv.Atoi(f); err == nil {
			fds = append(fds, f)
		}
	}
	if strings.Join(fds, " ") != "0 1 2 3" {
		c.t.Errorf("step %d: the command has descriptors %v, want 0 1 2 (and ls's 3)", i, fds)
	}
}

// unchanged: the host files (placeholders) are as they were before the
// first step (content, type and inode).
func (c *checker) unchanged(paths ...string) {
	c.t.Helper()
	for _, p := range paths {
		p = c.w.x(p)
		before, ok := c.w.before[p]
		if !ok {
			before, ok = c.w.watched[p]
		}
		if !ok {
			c.t.Fatalf("test bug: %s was not recorded before the command", p)
		}
		after, _ := stat(p)
		if d := before.differs(after); d != "" {
			c.t.Errorf("CHANGED on the host: %s (%s)", p, d)
			c.w.reported[p] = true
		}
	}
}

func (c *checker) absent(p string) {
	c.t.Helper()
	p = c.w.x(p)
	if fi, err := os.Lstat(p); err == nil {
		c.t.Errorf("CREATED on the host: %s (%v, %d bytes)", p, fi.Mode(), fi.Size())
		c.w.reported[p] = true
	}
}

func (c *checker) exists(p string) {
	c.t.Helper()
	if _, err := os.Lstat(c.w.x(p)); err != nil {
		c.t.Errorf("missing on the host: %v", err)
	}
}

func (c *checker) content(p, want string) {
	c.t.Helper()
	p, want = c.w.x(p), c.w.x(want)
	b, err := os.ReadFile(p)
	if err != nil {
		c.t.Errorf("on the host: %v", err)
	} else if string(b) != want {
		c.t.Errorf("on the host, %s holds %q, want %q", p, clip(string(b), 200), want)
	}
}

func (c *checker) matches(p, expr string) {
	c.t.Helper()
	p = c.w.x(p)
	b, err := os.ReadFile(p)
	if err != nil {
		c.t.Errorf("on the host: %v", err)
	} else if !regexp.MustCompile(expr).Match(b) {
		c.t.Errorf("on the host, %s holds %q, want it to match %s", p, clip(string(b), 200), expr)
	}
}

// grewWithout: what step i's stdout file gained since the step returned
// (a leftover process writing to the agent's output) holds no s.
func (c *checker) grewWithout(i int, s string) {
	c.t.Helper()
	b, _ := os.ReadFile(c.rs[i].outPath)
	if len(b) < len(c.rs[i].stdout) {
		return
	}
	if line := lineWith(string(b[len(c.rs[i].stdout):]), s); line != "" {
		c.t.Errorf("WRITTEN after the command ended: its output file gained %q", clip(line, 200))
	}
}

func (c *checker) finishedWithin(i int, d time.Duration) {
	c.t.Helper()
	if r := c.rs[i]; r.timedOut || r.took > d {
		c.t.Errorf("HANG: step %d took %v (timed out: %v), want it done within %v", i, r.took.Round(time.Millisecond), r.timedOut, d)
	}
}

// noSurvivors: no process running `sleep @N@` is left on the host (where
// every backend's processes are visible), a moment after the last step.
func (c *checker) noSurvivors() {
	c.t.Helper()
	var left []int
	for deadline := time.Now().Add(1500 * time.Millisecond); ; time.Sleep(100 * time.Millisecond) {
		if left = sleepers(c.w.n); len(left) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(left) > 0 {
		c.t.Errorf("SURVIVED: `sleep %d` still runs on the host after its command ended (pids %v)", c.w.n, left)
	}
}

// socketDead: nothing answers on the unix socket at p from the host.
func (c *checker) socketDead(p string) {
	c.t.Helper()
	p = c.w.x(p)
	conn, err := net.DialTimeout("unix", p, 2*time.Second)
	if err != nil {
		return
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	b, _ := io.ReadAll(conn)
	c.t.Errorf("SURVIVED: a process of the ended command still answers on %s (%q)", p, b)
}

// noAccepts: the host listener the world opened got no connection.
func (c *checker) noAccepts() {
	c.t.Helper()
	if n := c.w.accepts.Load(); n > 0 {
		c.t.Errorf("REACHED: the host listener accepted %d connection(s) from the sandbox", n)
	}
}

// hostGitRunsNothing runs git on the host in the project, as the person
// would next, and checks that nothing the sandbox planted ran.
func (c *checker) hostGitRunsNothing(args ...string) {
	c.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Env = c.w.proj, c.w.gitEnv()
	cmd.WaitDelay = time.Second
	done := make(chan struct{})
	go func() { cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
	}
	if fi, err := os.Lstat(c.w.x("@ROOT@/pwned-@ID@")); err == nil {
		c.w.reported[c.w.x("@ROOT@/pwned-@ID@")] = true
		c.t.Errorf("EXECUTED on the host: `git %s` in the project ran what the sandbox planted (it made %s, %v)",
			strings.Join(args, " "), c.w.x("@ROOT@/pwned-@ID@"), fi.Mode())
	}
}

// ---- the world -----------------------------------------------------------

// layout says where the world's XDG dirs are.
type layout int

const (
	xdgInHome    layout = iota // ~/.config, ~/.local/state, ~/.run
	xdgOutside                 // /var/tmp/esc-ID/…: not HOME, /tmp or /run
	xdgInProject               // the config dir inside the project
)

// worldOpts chooses a world's layout and its panel's answer.
type worldOpts struct {
	xdg     layout
	deny    bool // the panel says no to every held command
	noPanel bool // no panel runs at all
}

// world is one fake user on this host: HOME with fake secrets, the XDG
// dirs, TMPDIR, a git project in HOME, chaperone's config for one backend,
// and an approval panel. Everything is under root (a short path in /tmp,
// for socket names), but the XDG dirs of xdgOutside and the victim file.
type world struct {
	t       *testing.T // the test of the probe running in it
	life    *testing.T // the test the world lives for
	backend string
	bin     string
	root    string
	home    string
	proj    string
	tmp     string
	out     string
	cfg     string
	state   string
	runtime string
	extra   string // /var/tmp/esc-ID, for what must be outside /tmp
	id      string
	n       int // a number of its own (sleep @N@, markers)
	secret  string
	env     []string
	vars    map[string]string

	skip     []string        // folders left out of checkHost
	trees    []string        // watched folders (what appears in them is reported)
	reported map[string]bool // host paths a check has reported already
	before   map[string]node // the host before the first step (checkHost)
	watched  map[string]node // more host files to check (watchNode, watchTree)
	accepts  atomic.Int64
	ups      map[string]*upstream // local servers the names of [network] hosts lead to

	mu      sync.Mutex
	held    []string
	servers map[string]bool
	runs    int
}

func newWorld(t *testing.T, backend string, o worldOpts) *world {
	t.Helper()
	bin := programs(t)
	root, err := os.MkdirTemp("", "esc")
	must(t, err)
	t.Cleanup(func() { os.RemoveAll(root) })
	worlds.Lock()
	worlds.roots = append(worlds.roots, root)
	worlds.Unlock()
	id := randHex(4)
	n, _ := rand.Int(rand.Reader, big.NewInt(9999))
	w := &world{t: t, backend: backend, bin: bin, root: root, home: root + "/home", tmp: root + "/tmp", out: root + "/out",
		id: id, n: 7770000 + int(n.Int64()), secret: "FAKE-SECRET-" + id, watched: map[string]node{}, servers: map[string]bool{}}
	w.life = t
	w.proj = w.home + "/proj"
	w.extra = "/var/tmp/esc-" + id
	switch o.xdg {
	case xdgInHome:
		w.cfg, w.state, w.runtime = w.home+"/.config", w.home+"/.local/state", w.home+"/.run"
	case xdgOutside:
		w.cfg, w.state, w.runtime = w.extra+"/config", w.extra+"/state", w.extra+"/run"
	case xdgInProject:
		w.cfg, w.state, w.runtime = w.proj+"/.config", w.home+"/.local/state", w.home+"/.run"
	}
	t.Cleanup(func() { os.RemoveAll(w.extra) })
	worlds.Lock()
	worlds.roots = append(worlds.roots, w.extra)
	worlds.Unlock()
	w.vars = map[string]string{"HOME": w.home, "PROJ": w.proj, "TMP": w.tmp, "ROOT": w.root, "CFG": w.cfg, "STATE": w.state,
		"RUN": w.runtime, "ID": id, "N": strconv.Itoa(w.n), "PROBE": w.proj + "/escprobe", "VICTIM": w.extra + "/victim",
		"SECRETVAL": w.secret}

	for _, d := range []string{w.tmp, w.out, w.home + "/.ssh", w.state} {
		w.mkdir(d, 0o700)
	}
	w.mkdir(w.runtime, 0o700)
	w.write("@HOME@/.ssh/id_rsa", "-----BEGIN OPENSSH PRIVATE KEY-----\n"+w.secret+"\n-----END OPENSSH PRIVATE KEY-----\n")
	w.write("@HOME@/.aws/credentials", "[default]\naws_access_key_id = AKIAFAKE\naws_secret_access_key = "+w.secret+"\n")
	w.write("@HOME@/.git-credentials", "https://agent:"+w.secret+"@github.com\n")
	w.write("@HOME@/.bashrc", "# bashrc of "+id+"\nexport BASHRC_LOADED=1\n")

	w.mkdir(w.proj, 0o755)
	w.git(w.proj, "init", "-q")
	w.write("@PROJ@/README.md", "# a project\n")
	w.git(w.proj, "add", "README.md")
	w.git(w.proj, "commit", "-q", "-m", "init")

	cb := backend
	conf := fmt.Sprintf("# config-%s\nbackend = %q\nhold_timeout = \"3s\"\n", id, cb)
	if cb == "docker" || cb == "podman" {
		conf += "\n[sandbox]\nimage = \"" + testImage + "\"\nmemory = \"512m\"\ncpus = \"1\"\n"
	}
	// No test may reach a real registry through the proxy (allowed by
	// default): every registry name is pinned to a closed local port.
	conf += "\n[network]\nhosts = { " + registryPins(nil) + " }\n"
	w.write("@CFG@/chaperone/config.toml", conf)

	w.env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + w.home, "XDG_CONFIG_HOME=" + w.cfg, "XDG_STATE_HOME=" + w.state,
		"XDG_RUNTIME_DIR=" + w.runtime, "TMPDIR=" + w.tmp, "LANG=C.UTF-8", "CHAPERONE_HOLD_TIMEOUT=3s"}
	if !o.noPanel {
		w.startPanel(o.deny)
	}
	t.Cleanup(w.endServers)
	if backend == "docker" || backend == "podman" {
		t.Cleanup(w.removeContainers)
	}
	return w
}

// begin makes t the world's current test, for a probe run in it: a
// number of its own, nothing watched yet, no holds seen.
func (w *world) begin(t *testing.T) {
	w.t = t
	n, _ := rand.Int(rand.Reader, big.NewInt(9999))
	w.n = 7770000 + int(n.Int64())
	w.vars["N"] = strconv.Itoa(w.n)
	w.watched, w.skip, w.trees, w.reported = map[string]node{}, nil, nil, map[string]bool{}
	w.accepts.Store(0)
	w.mu.Lock()
	w.held = nil
	w.mu.Unlock()
}

// x expands the world's placeholders.
func (w *world) x(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	var pairs []string
	for k, v := range w.vars {
		pairs = append(pairs, "@"+k+"@", v)
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

func (w *world) xs(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = w.x(s)
	}
	return out
}

func (w *world) mkdir(p string, mode os.FileMode) {
	p = w.x(p)
	must(w.t, os.MkdirAll(p, mode))
	must(w.t, os.Chmod(p, mode))
}

func (w *world) write(p, content string) {
	p = w.x(p)
	if rel, ok := strings.CutPrefix(p, w.proj+"/tools/"); ok && strings.HasSuffix(rel, ".sh") && !strings.HasSuffix(content, scriptPadding) {
		// A probe's script: the rater does not read it (see scriptPadding).
		content += scriptPadding
	}
	must(w.t, os.MkdirAll(filepath.Dir(p), 0o755))
	must(w.t, os.WriteFile(p, []byte(content), 0o644))
}

// gitEnv is the environment of git on the host: this world's HOME, no
// system config.
func (w *world) gitEnv() []string {
	return []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + w.home, "GIT_CONFIG_NOSYSTEM=1", "LANG=C",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@e", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@e"}
}

// git runs git on the host in dir (setup).
func (w *world) git(dir string, args ...string) {
	w.t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "init.defaultBranch=main", "-c", "protocol.file.allow=always"}, args...)...)
	cmd.Dir, cmd.Env = w.x(dir), w.gitEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		w.t.Fatalf("git %v in %s: %v\n%s", args, dir, err, out)
	}
}

// chaperone runs one of chaperone's own verbs on the host (setup).
func (w *world) chaperone(args ...string) {
	w.t.Helper()
	cmd := exec.Command(filepath.Join(w.bin, "chaperone"), args...)
	cmd.Dir, cmd.Env = w.proj, w.env
	if out, err := cmd.CombinedOutput(); err != nil {
		w.t.Fatalf("chaperone %v: %v\n%s", args, err, out)
	}
}

// submodule gives the project a submodule "lib" (its git dir absorbed in
// .git/modules/lib, as `git submodule add` makes it).
func (w *world) submodule() {
	w.libRepo()
	w.git(w.proj, "submodule", "add", "-q", w.root+"/libsrc", "lib")
	w.git(w.proj, "commit", "-q", "-m", "lib")
}

// embeddedRepo gives the project a repository of its own in vendor/lib,
// with its .git folder there, recorded in the project as a gitlink.
func (w *world) embeddedRepo() {
	w.libRepo()
	w.git(w.proj, "clone", "-q", w.root+"/libsrc", "vendor/lib")
	w.git(w.proj, "add", "vendor/lib")
	w.git(w.proj, "commit", "-q", "-m", "vendored")
}

func (w *world) libRepo() {
	w.mkdir("@ROOT@/libsrc", 0o755)
	w.git(w.root+"/libsrc", "init", "-q")
	w.write("@ROOT@/libsrc/lib.txt", "lib\n")
	w.git(w.root+"/libsrc", "add", "lib.txt")
	w.git(w.root+"/libsrc", "commit", "-q", "-m", "lib")
}

// copyHelper puts escprobe in the project, where every sandbox sees it.
func (w *world) copyHelper() {
	b, err := os.ReadFile(escprobe(w.t))
	must(w.t, err)
	must(w.t, os.WriteFile(w.proj+"/escprobe", b, 0o755))
}

// openSecret opens the secret key n times, for a command to inherit as if
// the agent had left them open.
func (w *world) openSecret(n int) []*os.File {
	var fs []*os.File
	for range n {
		f, err := os.Open(w.home + "/.ssh/id_rsa")
		must(w.t, err)
		w.t.Cleanup(func() { f.Close() })
		fs = append(fs, f)
	}
	return fs
}

// listenTCP listens on the host's loopback (@PORT@) and counts accepts.
func (w *world) listenTCP() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(w.t, err)
	w.vars["PORT"] = strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	w.serve(l)
}

// listenUnix listens on a unix socket at p and counts accepts.
func (w *world) listenUnix(p string) {
	l, err := net.Listen("unix", p)
	must(w.t, err)
	w.serve(l)
}

// listenAbstract listens on the abstract unix socket @esc-abstract-ID.
func (w *world) listenAbstract() {
	l, err := net.Listen("unix", "\x00esc-abstract-"+w.id)
	must(w.t, err)
	w.serve(l)
}

func (w *world) serve(l net.Listener) {
	w.t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			w.accepts.Add(1)
			c.Close()
		}
	}()
}

// startPanel answers every held command of this world: yes, or no when
// deny.
func (w *world) startPanel(deny bool) {
	srv, err := broker.Listen(filepath.Join(w.runtime, "chaperone", broker.SocketName))
	must(w.t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ctx, broker.Handlers{OnHold: func(h *broker.Hold) {
			answer := "approved"
			if deny {
				answer = "denied"
			}
			w.mu.Lock()
			w.held = append(w.held, fmt.Sprintf("%s (rated %s: %s): %s", answer, h.Req.Rating.Risk, broker.MainReason(h.Req.Rating), clip(h.Req.Command, 160)))
			w.mu.Unlock()
			h.Answer(models.Verdict{Approved: !deny, By: models.ByPerson})
		}})
	}()
	w.t.Cleanup(func() { cancel(); <-done; srv.Close() })
}

func (w *world) heldCommands() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.held...)
}

// removeContainers removes the containers chaperone made for any folder
// of this world (and for /).
func (w *world) removeContainers() {
	if w.backend != "docker" && w.backend != "podman" {
		return
	}
	for _, p := range []string{w.proj, w.home, w.root, "/", w.root + "/plain", w.root + "/trusted", w.home + "/notes"} {
		out, _ := exec.Command(w.backend, "ps", "-aq", "--filter", "label=chaperone.project="+p).Output()
		if ids := strings.Fields(string(out)); len(ids) > 0 {
			exec.Command(w.backend, append([]string{"rm", "-f"}, ids...)...).Run()
		}
	}
}

// endServers ends any shell server that serves this world's runtime dir
// (those of ensureServer end with the world; one that chaperone-shell
// started by itself would idle for minutes): found by its socket path,
// ended by its pid.
func (w *world) endServers() {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		args := strings.Split(string(b), "\x00")
		if i := slices.Index(args, "--socket"); slices.Contains(args, "shell-server") && i >= 0 && i+1 < len(args) &&
			strings.HasPrefix(args[i+1], w.runtime+"/") {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// worlds are the folders of every world made, for sweepContainers.
var worlds struct {
	sync.Mutex
	roots []string
}

// sweepContainers removes what containers chaperone left for any world's
// folders (or for /) after all tests: those a changed chaperone names or
// labels otherwise than removeContainers expects.
func sweepContainers() {
	worlds.Lock()
	defer worlds.Unlock()
	if len(worlds.roots) == 0 {
		return
	}
	for _, engine := range []string{"docker", "podman"} {
		out, err := exec.Command(engine, "ps", "-aq", "--filter", "label=chaperone.project").Output()
		ids := strings.Fields(string(out))
		if err != nil || len(ids) == 0 {
			continue
		}
		out, _ = exec.Command(engine, append([]string{"inspect", "-f", `{{.Id}} {{index .Config.Labels "chaperone.project"}}`}, ids...)...).Output()
		var mine []string
		for _, l := range strings.Split(string(out), "\n") {
			id, project, ok := strings.Cut(l, " ")
			if !ok {
				continue
			}
			for _, r := range append([]string{"/"}, worlds.roots...) {
				if project == r || strings.HasPrefix(project, r+"/") {
					mine = append(mine, id)
					break
				}
			}
		}
		if len(mine) > 0 {
			exec.Command(engine, append([]string{"rm", "-f"}, mine...)...).Run()
		}
	}
}

// result is what one step did.
type result struct {
	cmd            string
	stdout, stderr string
	outPath        string
	code           int
	took           time.Duration
	timedOut       bool
}

// run runs one step through chaperone (via viaC or viaShell), with stdout
// and stderr in files (a leftover process holding them cannot stall the
// test), and stdin /dev/null.
func (w *world) run(s step, via string) result {
	w.t.Helper()
	env := mergeEnv(w.env, w.xs(s.env)...)
	prog := filepath.Join(w.bin, "chaperone")
	if via == viaShell {
		prog = filepath.Join(w.bin, "shims", "bash")
		w.ensureServer(env)
	} else {
		env = mergeEnv(env, shellsrv.NoServerEnv+"=1")
	}
	timeout := s.timeout
	if timeout == 0 {
		timeout = 90 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	r := result{cmd: w.x(s.cmd)}
	cmd := exec.CommandContext(ctx, prog, append(append([]string{}, s.args...), "-c", r.cmd)...)
	cmd.Dir, cmd.Env = w.proj, env
	if s.dir != "" {
		cmd.Dir = w.x(s.dir)
	}
	w.mu.Lock()
	w.runs++
	k := w.runs
	w.mu.Unlock()
	r.outPath = filepath.Join(w.out, fmt.Sprintf("%d.out", k))
	stdout, err := os.Create(r.outPath)
	must(w.t, err)
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(w.out, fmt.Sprintf("%d.err", k)))
	must(w.t, err)
	defer stderr.Close()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if s.files != nil {
		cmd.ExtraFiles = s.files(w)
	}
	// Its own process group, so a stalled chaperone is ended with
	// everything it started on the host.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err = cmd.Run()
	r.took = time.Since(start)
	r.timedOut = ctx.Err() != nil
	if err != nil && cmd.ProcessState == nil {
		w.t.Fatalf("run %s: %v", prog, err)
	}
	r.code = cmd.ProcessState.ExitCode()
	o, _ := os.ReadFile(r.outPath)
	e, _ := os.ReadFile(stderr.Name())
	r.stdout, r.stderr = string(o), string(e)
	return r
}

// ensureServer starts the shell server chaperone-shell looks for with
// env (as chaperone-shell itself would, but as this test's child, so
// that it ends with the test).
func (w *world) ensureServer(env []string) {
	w.t.Helper()
	key := strings.Join(env, "\x00")
	w.mu.Lock()
	started := w.servers[key]
	w.servers[key] = true
	w.mu.Unlock()
	if started {
		return
	}
	chaperone := filepath.Join(w.bin, "chaperone")
	sock, err := shellsrv.SocketPath(chaperone, env)
	must(w.t, err)
	cmd := exec.Command(chaperone, "shell-server", "--socket", sock, "--idle", "10m")
	cmd.Dir, cmd.Env = "/", env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	must(w.t, cmd.Start())
	w.life.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("the shell server does not answer on %s", sock)
		}
	}
}

// ---- the host, before and after ------------------------------------------

// node is what is kept of one host file to tell whether it changed.
type node struct {
	exists bool
	mode   fs.FileMode
	ino    uint64
	size   int64
	sum    [32]byte
	link   string
}

// stat records p (not following a symbolic link; a FIFO is not read).
func stat(p string) (node, bool) {
	fi, err := os.Lstat(p)
	if err != nil {
		return node{}, false
	}
	n := node{exists: true, mode: fi.Mode()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		n.ino = st.Ino
	}
	switch {
	case fi.Mode().IsRegular():
		n.size = fi.Size()
		if b, err := os.ReadFile(p); err == nil {
			n.sum = sha256.Sum256(b)
		}
	case fi.Mode()&fs.ModeSymlink != 0:
		n.link, _ = os.Readlink(p)
	}
	return n, true
}

// differs says how m differs from n ("" when it does not).
func (n node) differs(m node) string {
	switch {
	case n.exists && !m.exists:
		return "removed"
	case !n.exists && m.exists:
		return "created"
	case n.mode.Type() != m.mode.Type():
		return fmt.Sprintf("now a %v, was a %v", m.mode.Type(), n.mode.Type())
	case n.ino != m.ino:
		return "replaced (another inode)"
	case n.link != m.link:
		return "link now points to " + m.link
	case n.sum != m.sum:
		return "content changed"
	case n.mode != m.mode:
		return fmt.Sprintf("mode now %v", m.mode)
	}
	return ""
}

// tree records every file under root but those skip says.
func tree(root string, skip func(string) bool) map[string]node {
	m := map[string]node{}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if skip(p) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if n, ok := stat(p); ok {
			m[p] = n
		}
		return nil
	})
	return m
}

// watchNode records one host file (or folder, by inode) to check after.
func (w *world) watchNode(p string) {
	p = w.x(p)
	n, _ := stat(p)
	w.watched[p] = n
}

// watchTree records a host folder and everything in it.
func (w *world) watchTree(p string) {
	p = w.x(p)
	if n, ok := stat(p); !ok || !n.mode.IsDir() {
		w.watched[p] = n
		return
	}
	for k, v := range tree(p, func(string) bool { return false }) {
		w.watched[k] = v
	}
	if !slices.Contains(w.trees, p) {
		w.trees = append(w.trees, p)
	}
}

// freeze records the host as it must stay: the world outside the project
// and chaperone's state and runtime dirs (HOME with its secrets and rc
// file, the config, the folders around), and in the project what host
// tools execute (.git metadata).
func (w *world) freeze() {
	w.before = tree(w.root, w.skipped)
	if _, err := os.Stat(w.extra); err == nil {
		for k, v := range tree(w.extra, w.skipped) {
			w.before[k] = v
		}
	}
	w.watchNode("@CFG@/chaperone/config.toml")
	git := w.proj + "/.git"
	w.watchNode(git)
	if fi, err := os.Lstat(git); err == nil && fi.IsDir() {
		w.watchNode(git + "/config")
		w.watchTree(git + "/hooks")
		w.watchTree(git + "/info")
	}
}

// checkHost reports what changed on the host outside the project (but
// the files allowed) and in what was watched.
func (w *world) checkHost(allowed []string) {
	w.t.Helper()
	after := tree(w.root, w.skipped)
	if _, err := os.Stat(w.extra); err == nil {
		for k, v := range tree(w.extra, w.skipped) {
			after[k] = v
		}
	}
	var outside, executed []string
	for p, n := range w.before {
		if d := n.differs(after[p]); d != "" && !slices.Contains(allowed, p) && !w.reported[p] {
			outside = append(outside, p+": "+d)
		}
	}
	for p := range after {
		if _, ok := w.before[p]; !ok && !slices.Contains(allowed, p) && !w.reported[p] {
			outside = append(outside, p+": created")
		}
	}
	for p, n := range w.watched {
		if m, _ := stat(p); n.differs(m) != "" && !w.reported[p] {
			executed = append(executed, p+": "+n.differs(m))
		}
	}
	for _, root := range w.trees {
		for p := range tree(root, func(string) bool { return false }) {
			if _, ok := w.watched[p]; !ok && !w.reported[p] {
				executed = append(executed, p+": created")
			}
		}
	}
	for _, c := range []struct {
		what    string
		changes []string
	}{{"outside the project", outside}, {"in what host tools execute", executed}} {
		slices.Sort(c.changes)
		if len(c.changes) > 8 {
			c.changes = append(c.changes[:8], fmt.Sprintf("… and %d more", len(c.changes)-8))
		}
		if len(c.changes) > 0 {
			w.t.Errorf("CHANGED on the host %s:\n  %s", c.what, strings.Join(c.changes, "\n  "))
		}
	}
}

// skipped says which host paths checkHost leaves out: the project (what
// is watched in it aside), TMPDIR, chaperone's state and runtime dirs,
// the test's own output, and what the probe asked for.
func (w *world) skipped(p string) bool {
	for _, s := range append([]string{w.proj, w.tmp, w.out, w.state, w.runtime}, w.skip...) {
		if p == s || strings.HasPrefix(p, s+"/") {
			return true
		}
	}
	return false
}

// sleepers returns the host's processes running exactly `sleep N`.
func sleepers(n int) []int {
	want := []byte("sleep\x00" + strconv.Itoa(n) + "\x00")
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil && bytes.Equal(b, want) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// ---- programs and backends -------------------------------------------

var shimsOnce sync.Once

// programs builds chaperone's programs once, with the bash link
// (`chaperone shims`) in shims/.
func programs(t *testing.T) string {
	t.Helper()
	dir := itest.Programs(t)
	shimsOnce.Do(func() {
		if out, err := exec.Command(filepath.Join(dir, "chaperone"), "shims", filepath.Join(dir, "shims")).CombinedOutput(); err != nil {
			t.Fatalf("chaperone shims: %v\n%s", err, out)
		}
	})
	return dir
}

var probeBuild struct {
	once sync.Once
	dir  string
	out  []byte
	err  error
}

// escprobe builds the in-sandbox helper (static: the test image has no
// libc) once.
func escprobe(t *testing.T) string {
	t.Helper()
	probeBuild.once.Do(func() {
		probeBuild.dir, probeBuild.err = os.MkdirTemp("", "escprobe")
		if probeBuild.err != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", probeBuild.dir+"/escprobe", "./testdata/escprobe")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
		probeBuild.out, probeBuild.err = cmd.CombinedOutput()
	})
	if probeBuild.err != nil {
		t.Fatalf("build escprobe: %v\n%s", probeBuild.err, probeBuild.out)
	}
	return probeBuild.dir + "/escprobe"
}

var avail struct {
	mu sync.Mutex
	m  map[string]bool
}

// available reports whether a backend works here with the test image.
func available(name string) bool {
	avail.mu.Lock()
	defer avail.mu.Unlock()
	if v, ok := avail.m[name]; ok {
		return v
	}
	var ok bool
	switch name {
	case "bwrap":
		ok = exec.Command("bwrap", "--unshare-user", "--unshare-pid", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true").Run() == nil
	case "docker":
		ok = exec.Command("docker", "image", "inspect", testImage).Run() == nil
	case "podman":
		ok = exec.Command("podman", "image", "exists", testImage).Run() == nil
	}
	if avail.m == nil {
		avail.m = map[string]bool{}
	}
	avail.m[name] = ok
	return ok
}

// ---- small things ------------------------------------------------------

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// mergeEnv returns env with the NAME=value pairs of over set.
func mergeEnv(env []string, over ...string) []string {
	out := append([]string(nil), env...)
	for _, kv := range over {
		name, _, _ := strings.Cut(kv, "=")
		out = slices.DeleteFunc(out, func(e string) bool { return strings.HasPrefix(e, name+"=") })
		out = append(out, kv)
	}
	return out
}

// lineWith returns the first line of text holding s ("" when none).
func lineWith(text, s string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
