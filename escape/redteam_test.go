package escape

// Red-team probes: ways out found after the containment rebuild (issue 10).
// Each test is named by what it tries; it fails while the escape works,
// saying what leaked or changed, and passes once it is closed. They reuse
// the suite's world, probes and checks (escape_test.go).
//
// (This file is package escape, like escape_test.go: the harness's helpers
// are unexported.)

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/internal/itest"
)

// redTeam runs p on each backend (skipped where one is missing, failed in
// CI), through `chaperone -c`, and through chaperone-shell too when
// p.shell.
func redTeam(t *testing.T, backends []string, p probe) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			itest.Require(t, b, available(b))
			runProbe(t, b, p, viaC)
		})
		if p.shell {
			t.Run(b+"-via-chaperone-shell", func(t *testing.T) {
				t.Parallel()
				itest.Require(t, b, available(b))
				runProbe(t, b, p, viaShell)
			})
		}
	}
}

// gitlinkCmd adds a gitlink (mode 160000) at path to the project's index
// without looking at the work tree (git update-index --cacheinfo does not
// check that the path's folders are no symbolic links).
func gitlinkCmd(path string) string {
	return "git update-index --add --cacheinfo 160000,$(git rev-parse HEAD)," + path
}

// ---- git: repositories inside the project that host git runs in ---------

// A submodule's git folder (.git/modules/lib) is pinned with its config,
// hooks and info read-only, but Sweep only watches commondir, alternates &c.
// in the project's own git folder: a commondir planted in the submodule's
// sends host git (which `git status` runs in every populated submodule) to
// a config the command wrote.
func TestRedTeamSubmoduleCommondirPlanted(t *testing.T) {
	redTeam(t, []string{"bwrap", "docker", "podman"}, probe{
		opts:   worldOpts{deny: true},
		script: true,
		setup: func(w *world) {
			poison(w)
			w.submodule()
			w.watchNode("@PROJ@/.git/modules/lib/commondir")
		},
		cmds: []string{"cp -r .git/modules/lib evil-common && cat payload.txt >> evil-common/config && " +
			"echo ../../../evil-common > .git/modules/lib/commondir"},
		check: func(c *checker) { c.hostGitRunsNothing("status") },
	})
}

// The same through a repository embedded in the project (vendor/lib/.git a
// folder, recorded as a gitlink).
func TestRedTeamEmbeddedRepoCommondirPlanted(t *testing.T) {
	redTeam(t, []string{"bwrap", "docker", "podman"}, probe{
		opts:   worldOpts{deny: true},
		script: true,
		setup: func(w *world) {
			poison(w)
			w.embeddedRepo()
			w.watchNode("@PROJ@/vendor/lib/.git/commondir")
		},
		cmds: []string{"cp -r vendor/lib/.git evil-common && cat payload.txt >> evil-common/config && " +
			"echo ../../../evil-common > vendor/lib/.git/commondir"},
		check: func(c *checker) { c.hostGitRunsNothing("status") },
	})
}

// Sweep reads only the project's own index for new gitlinks. A repository
// made inside a submodule and added to the submodule's index (its index in
// .git/modules/lib is writable) is never looked at: host `git status`
// recurses into lib, then into lib/nested, and runs nested's fsmonitor.
func TestRedTeamNestedRepoInSubmoduleIndex(t *testing.T) {
	redTeam(t, []string{"bwrap"}, probe{ // the test image has no git
		opts:   worldOpts{deny: true},
		script: true,
		setup: func(w *world) {
			poison(w)
			w.submodule()
		},
		cmds: []string{`set -e
cd lib
git init -q nested
git -C nested -c user.name=t -c user.email=t@e commit -q --allow-empty -m nested
cat ../payload.txt >> nested/.git/config
git add nested 2>/dev/null`},
		check: func(c *checker) { c.hostGitRunsNothing("status") },
	})
}

// The same inside an embedded repository (its own index in
// vendor/lib/.git).
func TestRedTeamNestedRepoInEmbeddedRepoIndex(t *testing.T) {
	redTeam(t, []string{"bwrap"}, probe{
		opts:   worldOpts{deny: true},
		script: true,
		setup: func(w *world) {
			poison(w)
			w.embeddedRepo()
		},
		cmds: []string{`set -e
cd vendor/lib
git init -q nested
git -C nested -c user.name=t -c user.email=t@e commit -q --allow-empty -m nested
cat ../../payload.txt >> nested/.git/config
git add nested 2>/dev/null`},
		check: func(c *checker) { c.hostGitRunsNothing("status") },
	})
}

// A split index (`git update-index --split-index`, no config needed) keeps
// the entries in .git/sharedindex.<sha>; .git/index holds only a link to
// it. gitlinks() parses .git/index alone and so sees no new gitlink: the
// nested repository of nested-repo-created-fsmonitor stays.
func TestRedTeamSplitIndexHidesNewGitlink(t *testing.T) {
	redTeam(t, []string{"bwrap"}, probe{
		opts:   worldOpts{deny: true},
		script: true,
		setup:  poison,
		cmds: []string{`set -e
git init -q nested
git -C nested -c user.name=t -c user.email=t@e commit -q --allow-empty -m nested
cat payload.txt >> nested/.git/config
git add nested 2>/dev/null
git update-index --split-index`},
		check: func(c *checker) { c.hostGitRunsNothing("status") },
	})
}

// ---- Sweep and Protect follow symbolic links inside the project -----------

// A gitlink whose path runs through a symbolic link: Sweep lstat()s and
// renames <gitlink>/.git following the link, so a gitlink "y" with y -> .
// has chaperone move the project's own .git (all of its history) into the
// quarantine. (The index comes from a fixture: the test image has no git.)
func TestRedTeamGitlinkThroughSymlinkSweepsProjectGit(t *testing.T) {
	redTeam(t, []string{"bwrap", "docker", "podman"}, probe{
		setup: func(w *world) { w.indexFixture("y") },
		cmds:  []string{"ln -s . y && cp fixtures/index .git/index && echo planted"},
		check: func(c *checker) { c.unchanged("@PROJ@/.git") },
	})
}

// The same with a link out of the project: chaperone renames a host
// repository's .git (here ~/other/.git, as a dotfiles repository or a
// second project would be) out of its place, into the quarantine.
func TestRedTeamGitlinkThroughSymlinkSweepsHostRepo(t *testing.T) {
	redTeam(t, []string{"bwrap", "docker", "podman"}, probe{
		setup: func(w *world) {
			w.mkdir("@HOME@/other", 0o755)
			w.git(w.home+"/other", "init", "-q")
			w.indexFixture("y")
		},
		cmds:  []string{"ln -s ../other y && cp fixtures/index .git/index && echo planted"},
		check: func(c *checker) { c.unchanged("@HOME@/other/.git", "@HOME@/other/.git/HEAD") },
	})
}

// indexFixture writes fixtures/index: the project's index plus gitlinks
// at paths (the project's own index is left as it was).
func (w *world) indexFixture(paths ...string) {
	w.t.Helper()
	head := w.headOf(w.proj)
	for _, p := range paths {
		w.git(w.proj, "update-index", "--add", "--cacheinfo", "160000,"+head+","+p)
	}
	w.copyFile("@PROJ@/.git/index", "@PROJ@/fixtures/index")
	w.git(w.proj, append([]string{"update-index", "--force-remove"}, paths...)...)
}

// Protect pins every folder between the project and a gitlink's work tree
// by its path (pin), and bwrap (realpath) and the engines resolve a bind's
// source through symbolic links: a gitlink "x/proj/sub" with x -> .. makes
// the next sandbox bind the host's HOME read-write over the blank one
// (with chaperone's own config, state and sockets in it, which hidden()
// leaves uncovered because HOME is blank). Sweep lets the gitlink stay
// because its .git, seen through the link, is a file naming a submodule git
// folder that was there before (submoduleLink); the project only needs one
// submodule. The index comes from a fixture in the repository (no git in
// the test image); everything runs from scripts (rated medium) and the
// panel says no to every hold.
func TestRedTeamGitlinkThroughSymlinkBindsHome(t *testing.T) {
	redTeam(t, []string{"bwrap", "docker", "podman"}, probe{
		opts:   worldOpts{deny: true},
		script: true,
		shell:  true,
		setup: func(w *world) {
			w.submodule()
			w.indexFixture("x/proj/sub")
		},
		steps: []step{
			{cmd: "mkdir -p sub && printf 'gitdir: @PROJ@/.git/modules/lib\\n' > sub/.git && ln -s .. x && " +
				"cp fixtures/index .git/index && echo planted"},
			// docker, podman: the mounts changed, so chaperone replaces the
			// project's container with one that has them.
			{cmd: "cat @HOME@/.ssh/id_rsa; echo PWNED-@ID@ >> @HOME@/.bashrc; " +
				"printf 'backend = \"host\"\\n' >> @CFG@/chaperone/config.toml; ls -A @HOME@"},
		},
		check: func(c *checker) {
			c.noSecret()
			c.unchanged("@HOME@/.bashrc", "@CFG@/chaperone/config.toml")
		},
	})
}

// headOf is the commit HEAD names in the repository at dir.
func (w *world) headOf(dir string) string {
	w.t.Helper()
	cmd := exec.Command("git", "rev-parse", "HEAD")
	cmd.Dir, cmd.Env = w.x(dir), w.gitEnv()
	out, err := cmd.Output()
	must(w.t, err)
	return strings.TrimSpace(string(out))
}

// copyFile copies a host file (setup).
func (w *world) copyFile(from, to string) {
	w.t.Helper()
	b, err := os.ReadFile(w.x(from))
	must(w.t, err)
	w.write(to, string(b))
}

// ---- read-only binds whose parent folders are not pinned ---------------

// A read-only bind keeps a file from being written, but its folder can be
// renamed (only a mount point itself cannot) and a new one put in its
// place: Protect pins only .git and submodule folders. A hook that is a
// link into the work tree (scripts/pre-commit.sh) is made read-only where
// it leads, and `mv scripts scripts.old; mkdir scripts` replaces it.
func TestRedTeamHookLinkTargetParentRenamed(t *testing.T) {
	redTeam(t, []string{"bwrap", "docker", "podman"}, probe{
		opts:   worldOpts{deny: true},
		script: true,
		setup:  hookLinkedIntoWorktree,
		cmds: []string{"mv scripts scripts.old && mkdir scripts && cp payload-hook.sh scripts/pre-commit.sh && " +
			"chmod +x scripts/pre-commit.sh"},
		check: func(c *checker) { c.hostGitRunsNothing("commit", "-q", "--allow-empty", "-m", "host") },
	})
}

// core.hooksPath naming a folder below the top (tools/githooks): the
// folder is read-only, its parent is not pinned.
func TestRedTeamHooksPathParentRenamed(t *testing.T) {
	redTeam(t, []string{"bwrap", "docker", "podman"}, probe{
		opts:   worldOpts{deny: true},
		script: true,
		setup: func(w *world) {
			poison(w)
			w.write("@PROJ@/tools/githooks/pre-commit", "#!/bin/sh\nexit 0\n")
			must(w.t, os.Chmod(w.x("@PROJ@/tools/githooks/pre-commit"), 0o755))
			w.git(w.proj, "config", "core.hooksPath", "tools/githooks")
			w.watchNode("@PROJ@/tools/githooks/pre-commit")
		},
		// The probe's own script lives in tools/: keep it where it is.
		cmds: []string{"mkdir t2 && mv tools/githooks t2/ 2>/dev/null; mv tools tools.old && mkdir -p tools/githooks && " +
			"cp payload-hook.sh tools/githooks/pre-commit && chmod +x tools/githooks/pre-commit"},
		check: func(c *checker) { c.hostGitRunsNothing("commit", "-q", "--allow-empty", "-m", "host") },
	})
}

// A guarded name that is a symbolic link into the project (.envrc ->
// config/envrc): Protect binds where it leads read-only and Sweep checks
// only the link itself, so renaming config/ and making a new config/envrc
// changes what direnv runs on the host.
func TestRedTeamGuardedSymlinkTargetParentRenamed(t *testing.T) {
	redTeam(t, []string{"bwrap", "docker", "podman"}, probe{
		opts:   worldOpts{deny: true},
		script: true,
		setup: func(w *world) {
			w.write("@PROJ@/config/envrc", "# ORIGINAL-@ID@\n")
			must(w.t, os.Symlink("config/envrc", w.x("@PROJ@/.envrc")))
			w.watchNode("@PROJ@/config/envrc")
		},
		cmds: []string{"mv config config.old && mkdir config && echo 'touch @ROOT@/pwned-@ID@' > config/envrc; echo tried"},
		check: func(c *checker) {
			if b, _ := os.ReadFile(c.w.x("@PROJ@/.envrc")); strings.Contains(string(b), "pwned") {
				c.t.Errorf("CHANGED: host direnv now reads %q through .envrc", strings.TrimSpace(string(b)))
			}
		},
	})
}

// What the user's config protects below the top ([sandbox] protect =
// ["scripts/deploy.sh"]): read-only while it exists, but WatchTop skips
// names with a slash (never swept) and its folder is not pinned.
func TestRedTeamUserProtectedNestedPathReplaced(t *testing.T) {
	redTeam(t, []string{"bwrap", "docker", "podman"}, probe{
		opts:   worldOpts{deny: true},
		script: true,
		setup: func(w *world) {
			w.addProtect("scripts/deploy.sh")
			w.write("@PROJ@/scripts/deploy.sh", "# ORIGINAL-@ID@\n")
			w.watchNode("@PROJ@/scripts/deploy.sh")
		},
		cmds: []string{"{ echo PWNED > scripts/deploy.sh; } 2>/dev/null; mv scripts scripts.old && mkdir scripts && " +
			"echo 'echo PWNED-@ID@' > scripts/deploy.sh; echo tried"},
	})
}

// addProtect adds a name to the world's [sandbox] protect.
func (w *world) addProtect(names ...string) {
	p := w.x("@CFG@/chaperone/config.toml")
	b, err := os.ReadFile(p)
	must(w.t, err)
	line := "protect = [\"" + strings.Join(names, `", "`) + "\"]\n"
	conf := string(b)
	if strings.Contains(conf, "[sandbox]\n") {
		conf = strings.Replace(conf, "[sandbox]\n", "[sandbox]\n"+line, 1)
	} else {
		conf += "\n[sandbox]\n" + line
	}
	must(w.t, os.WriteFile(p, []byte(conf), 0o644))
}

// ---- git state the sandbox can write that host git executes -------------

// .git/rebase-merge (and .git/sequencer) are writable: a command leaves an
// interactive rebase stopped at `break` with `exec` lines after it; the
// person's next `git rebase --continue` on the host runs them.
func TestRedTeamRebaseTodoExecOnContinue(t *testing.T) {
	redTeam(t, []string{"bwrap"}, probe{ // the test image has no git
		opts:   worldOpts{deny: true},
		script: true,
		cmds: []string{`set -e
g() { git -c user.name=t -c user.email=t@e "$@"; }
g commit -q --allow-empty -m two
GIT_SEQUENCE_EDITOR="printf 'break\nexec touch @ROOT@/pwned-@ID@\n' >" g rebase -q -i HEAD~1 >/dev/null 2>&1 || true
test -d .git/rebase-merge && echo STOPPED`},
		check: func(c *checker) { c.hostGitRunsNothing("rebase", "--continue") },
	})
}

// A repository's config that includes a file of the work tree ([include]
// path = ../.gitconfig, as projects do to share settings): hooksPath()
// and Protect read .git/config alone, so the included file is neither
// read-only nor watched, and anything in it (core.fsmonitor) runs on the
// host's next `git status`.
func TestRedTeamGitConfigIncludeFromWorkTree(t *testing.T) {
	redTeam(t, []string{"bwrap", "docker", "podman"}, probe{
		opts:   worldOpts{deny: true},
		script: true,
		setup: func(w *world) {
			poison(w)
			w.write("@PROJ@/.gitconfig", "[alias]\n\tst = status\n")
			w.git(w.proj, "config", "include.path", "../.gitconfig")
			w.watchNode("@PROJ@/.gitconfig")
		},
		cmds:  []string{"cat payload.txt >> .gitconfig"},
		check: func(c *checker) { c.hostGitRunsNothing("status") },
	})
}

// ---- names host tools run that are not guarded ---------------------------

// Project files that tools on the host execute or obey like those in
// HostExec, but that HostExec lacks: a new one survives the command.
// lefthook (git hooks that run the commands in lefthook.yml, and the
// uncommitted lefthook-local.yml), lint-staged (run by husky's pre-commit),
// Cursor's and Roo Code's project MCP servers, Zed's project settings
// (language server binaries) and tasks, aider's lint-cmd/test-cmd, mise's
// tasks and hooks.
var unguardedHostExec = []struct{ slug, path string }{
	{"lefthook-yml", "lefthook.yml"},
	{"lefthook-local-yml", "lefthook-local.yml"},
	{"lintstagedrc", ".lintstagedrc.json"},
	{"cursor-mcp", ".cursor/mcp.json"},
	{"roo-mcp", ".roo/mcp.json"},
	{"zed-settings", ".zed/settings.json"},
	{"aider-conf", ".aider.conf.yml"},
	{"mise-toml", "mise.toml"},
}

func TestRedTeamUnguardedHostExecNames(t *testing.T) {
	hostExecNamesStay(t, unguardedHostExec, nil)
}

// hostExecNamesStay has a script (the panel says no to holds) write each
// of files (project-relative, with its folders), after setup, on bubblewrap,
// and checks that none stays in the project.
func hostExecNamesStay(t *testing.T, files []struct{ slug, path string }, setup func(w *world)) {
	t.Parallel()
	for _, f := range files {
		dir, _ := filepath.Split(f.path)
		create := "echo PWNED-@N@ > " + f.path + "; echo tried"
		if dir != "" {
			create = "mkdir -p " + dir + " && " + create
		}
		path := "@PROJ@/" + f.path
		t.Run(f.slug, func(t *testing.T) {
			redTeam(t, []string{"bwrap"}, probe{
				opts:   worldOpts{deny: true},
				script: true,
				setup:  setup,
				cmds:   []string{create},
				check:  func(c *checker) { c.absent(path) },
			})
		})
	}
}

// ---- the environment ------------------------------------------------------

// GIT_CONFIG_* passes into every sandbox whatever its value (Policy.allows:
// "GIT_CONFIG_* always passes", before the secret-name test): a token the
// agent's environment gives git as GIT_CONFIG_VALUE_n (an auth header, a
// credential URL) or in GIT_CONFIG_PARAMETERS reaches every command.
func TestRedTeamSecretInGitConfigEnvReachesSandbox(t *testing.T) {
	redTeam(t, []string{"bwrap", "docker", "podman"}, probe{
		shell: true,
		steps: []step{{cmd: "echo RAN-@ID@; env | grep ^GIT_CONFIG",
			env: []string{"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.https://github.com/.extraheader",
				"GIT_CONFIG_VALUE_0=AUTHORIZATION: bearer @SECRETVAL@",
				"GIT_CONFIG_PARAMETERS='url.https://agent:@SECRETVAL@@github.com/.insteadOf'='https://github.com/'"}}},
		// The command must run (its output then holds what reached it).
		check: func(c *checker) { c.stdoutHas(0, "RAN-@ID@"); c.noSecret() },
	})
}

// PATH passes into bubblewrap as the agent has it. When it holds a folder
// of the project (an activated .venv/bin, node_modules/.bin, direnv's
// PATH_add bin), a command puts a `git` there, and the next program on the
// host that runs git by PATH (the agent CLI itself, which runs git for its
// own context, the person's prompt) runs it. Nothing keeps those folders
// read-only or sweeps what appears in them.
func TestRedTeamProjectFolderOnPathPlantsHostGit(t *testing.T) {
	redTeam(t, []string{"bwrap"}, probe{
		opts:   worldOpts{deny: true},
		script: true,
		setup:  func(w *world) { w.mkdir("@PROJ@/.venv/bin", 0o755) },
		steps: []step{{cmd: "printf '#!/bin/sh\\ntouch @ROOT@/pwned-@ID@\\nexec /usr/bin/git \"$@\"\\n' > .venv/bin/git && chmod +x .venv/bin/git",
			env: []string{"PATH=@PROJ@/.venv/bin:/usr/local/bin:/usr/bin:/bin"}}},
		// The agent runs git by PATH on the host.
		check: func(c *checker) { c.hostRunsGit("sh", "@PROJ@", "@PROJ@/.venv/bin:/usr/local/bin:/usr/bin:/bin") },
	})
}

// ---- chaperone itself ------------------------------------------------------

// Protect recurses into every git folder under a submodule's modules/
// (gitDir), pinning each with its hooks, info and config read-only, and
// makes hooks/ and info/ in each on the host; Sweep looks for new module
// folders in the project's .git/modules only. A command makes thousands of
// them inside the submodule's (pinned, writable) git folder: every later
// command's sandbox needs tens of thousands of mounts and cannot start.
func TestRedTeamNestedModuleFoldersBreakLaterCommands(t *testing.T) {
	redTeam(t, []string{"bwrap"}, probe{ // docker and podman held (1500 folders)
		opts:   worldOpts{deny: true},
		script: true,
		setup:  func(w *world) { w.submodule() },
		steps: []step{
			{cmd: "cd .git/modules/lib && mkdir modules && cd modules && mkdir $(seq -f m%g 1 1500) && " +
				"for d in m*; do echo 'ref: refs/heads/main' > $d/HEAD; done; echo planted"},
			{cmd: "echo SECOND-RAN-@ID@", timeout: 60 * time.Second},
		},
		check: func(c *checker) {
			c.exitOK(1)
			c.stdoutHas(1, "SECOND-RAN-@ID@")
			c.finishedWithin(1, 30*time.Second)
		},
	})
}

// ---- agent files ---------------------------------------------------------

// Claude Code's snapshot start-up form (SNAPSHOT_FILE=…; … >> "$SNAPSHOT_FILE")
// binds its snapshot file read-write, and agentFile accepts one that
// already exists: any command in that form rewrites the snapshot every
// later command sources (source SNAPSHOT && eval 'CMD'), where the rater
// never looks. The payload then runs in each later command, rated by its
// inner command alone. (The writing command is held today, as
// persist.project because of the .claude in its path, and the panel here
// approves: Claude Code's own start-up snapshot is held the same way, so a
// person approves that form routinely. The sandbox should bind only a
// snapshot that does not exist yet.)
func TestRedTeamClaudeSnapshotFormRewritesExistingSnapshot(t *testing.T) {
	redTeam(t, []string{"bwrap", "docker", "podman"}, probe{
		setup: func(w *world) {
			w.write(claudeSnapshot, "snapfn() { echo SNAPSHOT-LOADED; }\n")
			w.watchNode(claudeSnapshot)
		},
		steps: []step{
			{cmd: "SNAPSHOT_FILE=" + claudeSnapshot + "\necho 'echo INJECTED-$((@N@))' >> \"$SNAPSHOT_FILE\"\n" +
				"test -f \"$SNAPSHOT_FILE\"", env: []string{"CLAUDECODE=1"}},
			{cmd: claudeWrapper(claudeSnapshot, "echo CMD-RAN", "@TMP@/claude-@ID@-cwd"), env: []string{"CLAUDECODE=1"}},
		},
		check: func(c *checker) {
			c.unchanged(claudeSnapshot)
			c.outputLacks(1, fmt.Sprintf("INJECTED-%d", c.w.n))
		},
	})
}

// A nested project: a command makes sub/.git (any file) and a FIFO at
// sub/.chaperone.toml; neither is swept (only the project's top is
// watched). Once the agent's working folder is sub (Claude Code keeps a
// `cd sub` for the next command), sub is the project, and chaperone reads
// its .chaperone.toml with os.ReadFile (config.LoadProject) before anything
// else: it blocks for ever on the FIFO.
func TestRedTeamFifoChaperoneTomlInNestedProject(t *testing.T) {
	redTeam(t, []string{"bwrap", "docker", "podman"}, probe{
		opts:  worldOpts{deny: true},
		shell: true,
		// From a script (rated medium; the panel says no to holds).
		setup: func(w *world) {
			w.write("@PROJ@/tools/plant.sh", "mkdir -p sub && touch sub/.git && mkfifo sub/.chaperone.toml; echo planted\n")
		},
		steps: []step{
			{cmd: "bash tools/plant.sh"},
			{cmd: "echo NEXT-RAN", dir: "@PROJ@/sub", timeout: 20 * time.Second},
		},
		check: func(c *checker) { c.finishedWithin(1, 10*time.Second) },
	})
}

// Sweep runs in chaperone after the command: when chaperone is killed
// (SIGKILL, as Codex ends a command that outlives its timeout, and as the
// harness does here), the jail dies with it (--die-with-parent) and
// nothing is swept. A command plants .git/commondir (and would any guarded
// name) and then outlives the agent's timeout. (Through chaperone-shell
// the shell server sweeps after the handed-over bwrap dies: that path
// holds.)
func TestRedTeamKilledChaperoneSkipsSweep(t *testing.T) {
	redTeam(t, []string{"bwrap", "docker", "podman"}, probe{
		opts: worldOpts{deny: true},
		setup: func(w *world) {
			poison(w)
			w.watchNode("@PROJ@/.git/commondir")
			w.write("@PROJ@/tools/slow.sh", w.x("cp -r fixtures/evil.git evil-common && echo ../evil-common > .git/commondir\n"+
				"echo planted; sleep @N@\n"))
		},
		steps: []step{{cmd: "bash tools/slow.sh", timeout: 8 * time.Second}},
		check: func(c *checker) {
			time.Sleep(2 * time.Second) // anything that would still sweep
			c.hostGitRunsNothing("status")
			c.noSurvivors()
		},
	})
}

// ---- races between two commands -------------------------------------------

// runConcurrently runs first, then (after delay, while first still runs)
// second, each through `chaperone -c`, and returns their results.
func runConcurrently(w *world, first, second step, delay time.Duration) (result, result) {
	var r1 result
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); r1 = w.run(first, viaC) }()
	time.Sleep(delay)
	r2 := w.run(second, viaC)
	wg.Wait()
	return r1, r2
}

// logResults logs what the steps did, as runIn does.
func logResults(t *testing.T, rs ...result) {
	t.Helper()
	for i, r := range rs {
		t.Logf("command %d: exit %d in %s (timed out: %v)\n  command: %s\n  stdout: %s\n  stderr: %s", i, r.code,
			r.took.Round(time.Millisecond), r.timedOut, clip(r.cmd, 300), clip(r.stdout, 600), clip(r.stderr, 600))
	}
}

// Agents run commands in parallel (Claude Code's parallel tool calls).
// chaperone reads .chaperone.toml with os.ReadFile (config.LoadProject)
// before it runs a command: a FIFO that a running command made there (Sweep
// only removes it when that command ends) blocks the other command's
// chaperone in open() for ever, after the FIFO is gone too.
func TestRedTeamFifoChaperoneTomlRaceHangsParallelCommand(t *testing.T) {
	t.Parallel()
	for _, b := range []string{"bwrap"} {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			itest.Require(t, b, available(b))
			w := newWorld(t, b, worldOpts{deny: true})
			w.begin(t)
			w.write("@PROJ@/tools/a.sh", "mkfifo .chaperone.toml; sleep 5; echo FIRST-DONE\n")
			w.freeze()
			r1, r2 := runConcurrently(w,
				step{cmd: "bash tools/a.sh"},
				step{cmd: "echo SECOND-RAN", timeout: 25 * time.Second},
				2*time.Second)
			logResults(t, r1, r2)
			if r2.timedOut || r2.took > 15*time.Second {
				t.Errorf("HANG: a command started while another had a FIFO at .chaperone.toml took %v (timed out: %v); "+
					"chaperone blocked opening the FIFO", r2.took.Round(time.Millisecond), r2.timedOut)
			}
			w.checkHost(nil)
		})
	}
}

// Protect (gitlinks) and bwrap's binds follow symbolic links in the
// project, and another command runs in the project meanwhile: a command
// that, while it runs, has a gitlink "x/proj" in the index with x -> ..
// (the project's own .git seen through it) makes any command started then
// bind the host's HOME read-write (pin of x); it puts things back before
// it ends, so its own Sweep finds nothing. No submodule needed.
func TestRedTeamGitlinkSymlinkRaceBindsHomeInParallelCommand(t *testing.T) {
	t.Parallel()
	for _, b := range []string{"bwrap"} { // the test image has no git
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			itest.Require(t, b, available(b))
			w := newWorld(t, b, worldOpts{deny: true})
			w.begin(t)
			// Scripts (rated medium), a panel that says no.
			w.write("@PROJ@/tools/a.sh", w.x("ln -s .. x && "+gitlinkCmd("x/proj")+" && sleep 6\n"+
				"git update-index --force-remove x/proj; rm -f x; echo FIRST-DONE\n"))
			w.write("@PROJ@/tools/b.sh", w.x("cat @HOME@/.ssh/id_rsa; echo PWNED-@ID@ >> @HOME@/.bashrc; ls -A @HOME@\n"))
			w.freeze()
			r1, r2 := runConcurrently(w, step{cmd: "bash tools/a.sh"}, step{cmd: "bash tools/b.sh"}, 2500*time.Millisecond)
			logResults(t, r1, r2)
			c := &checker{t: t, w: w, rs: []result{r1, r2}}
			c.noSecret()
			c.unchanged("@HOME@/.bashrc")
			w.checkHost(nil)
		})
	}
}

// ---- classes tried that held (kept as regression probes) -----------------

// kill(0) reaches every process of the caller's process group, across the
// pid namespace: were the jail in chaperone's group, `kill -9 0` would end
// chaperone before its Sweep. bwrap gets --new-session (or its own
// terminal's session), so chaperone lives on and sweeps. Held.
func TestRedTeamHeldKillProcessGroupFromJail(t *testing.T) {
	redTeam(t, []string{"bwrap"}, probe{
		opts:   worldOpts{deny: true},
		script: true,
		shell:  true,
		cmds:   []string{"echo 'touch @ROOT@/pwned-@ID@' > .envrc; kill -9 0; kill -9 -1; echo tried"},
		check:  func(c *checker) { c.absent("@PROJ@/.envrc") },
	})
}

// What chaperone reads in .git on the host cannot stall or mislead it: a
// FIFO for the index (gitlinks reads with safefile: non-blocking, regular
// files only), a symbolic link for the index to a secret. Held (host git
// itself then blocks on the FIFO, which is not chaperone's to prevent).
func TestRedTeamHeldGitIndexFifoAndSymlink(t *testing.T) {
	redTeam(t, []string{"bwrap"}, probe{
		steps: []step{
			{cmd: "mv .git/index .git/index.bak; mkfifo .git/index; echo planted"},
			{cmd: "echo NEXT-RAN", timeout: 20 * time.Second},
			{cmd: "rm -f .git/index; ln -s @HOME@/.ssh/id_rsa .git/index; echo planted"},
			{cmd: "cat .git/index; echo NEXT-RAN", timeout: 20 * time.Second},
		},
		check: func(c *checker) {
			c.finishedWithin(1, 10*time.Second)
			c.stdoutHas(1, "NEXT-RAN")
			c.finishedWithin(3, 10*time.Second)
			c.noSecret()
		},
	})
}
