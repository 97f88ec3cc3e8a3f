package escape

// Red-team probes, second round: the newest guards (the PATH guard of
// sandbox/pathguard.go, the git guard's Sweep, the pending watches). Each
// test is named by what it tries; it fails while the escape works, and
// passes once it is closed. They reuse the suite's world, probes and
// checks (escape_test.go, redteam_test.go).

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/chaperone-dev/chaperone/internal/itest"
)

// plantGit is a command that writes a `git` into the folder dir (relative
// to where it runs) that leaves a mark on the host when run, then runs the
// real git.
func plantGit(dir string) string {
	return "mkdir -p " + dir + " && printf '#!/bin/sh\\ntouch @ROOT@/pwned-@ID@\\nexec /usr/bin/git \"$@\"\\n' > " + dir +
		"/git && chmod +x " + dir + "/git"
}

// hostRunsGit runs `git status` on the host as a program with the agent's
// PATH would (the agent CLI, a hook, the person's prompt): through shell
// (sh or bash: bash expands a ~ in PATH), in the folder dir, with path as
// PATH. It reports when what the sandbox planted ran.
func (c *checker) hostRunsGit(shell, dir, path string) {
	c.t.Helper()
	cmd := exec.Command(shell, "-c", "git status >/dev/null 2>&1")
	cmd.Dir = c.w.x(dir)
	cmd.Env = append(c.w.gitEnv(), c.w.x("PATH="+path))
	cmd.Run()
	if _, err := os.Lstat(c.w.x("@ROOT@/pwned-@ID@")); err == nil {
		c.w.reported[c.w.x("@ROOT@/pwned-@ID@")] = true
		c.t.Errorf("EXECUTED on the host: `git status` by the agent's PATH (%s) in %s ran a git the sandbox planted",
			c.w.x(path), c.w.x(dir))
	}
}

// ---- the PATH guard ----------------------------------------------------------

// Sweep moves a planted program into the quarantine, keeping its mode, and
// says where on stderr, which the agent reads. The next command makes the
// PATH folder's parent (.venv) a link to that quarantine folder: Sweep
// (pathFolder) resolves the PATH folder, finds it outside the project and
// looks no further; WatchPath too. The host follows the link and runs the
// program the first command planted, now kept for it outside the project,
// where no command can even undo it.
func TestRedTeam2PathFolderLinkedIntoQuarantine(t *testing.T) {
	t.Parallel()
	for _, b := range []string{"bwrap", "docker", "podman"} {
		t.Run(b, func(t *testing.T) {
			t.Parallel()
			itest.Require(t, b, available(b))
			w := newWorld(t, b, worldOpts{deny: true})
			w.begin(t)
			w.mkdir("@PROJ@/.venv/bin", 0o755)
			w.freeze()
			path := "@PROJ@/.venv/bin:/usr/local/bin:/usr/bin:/bin"
			env := []string{"PATH=" + path}
			r1 := w.run(step{cmd: w.x("bash -c " + quote(plantGit(".venv/bin"))), env: env}, viaC)
			// chaperone: moved .venv/bin/git out of the project to DEST: …
			m := regexp.MustCompile(`moved \S+ out of the project to (\S+?):`).FindStringSubmatch(r1.stderr)
			if m == nil {
				logResults(t, r1)
				t.Fatalf("the first command's plant was not swept (no quarantine named on stderr)")
			}
			// The agent writes the script with its own file tool (as
			// agents do, on the host, in the project), then runs it.
			w.write("@PROJ@/tools/relink.sh", "rm -rf .venv && ln -s "+m[1]+"/.venv .venv && echo relinked\n")
			r2 := w.run(step{cmd: "bash tools/relink.sh", env: env}, viaC)
			logResults(t, r1, r2)
			c := &checker{t: t, w: w, rs: []result{r1, r2}}
			c.hostRunsGit("sh", "@PROJ@", path)
			w.checkHost(nil)
		})
	}
}

// WatchPath and Sweep resolve the links on the way to a PATH folder in
// chaperone's own process: a link to /proc/self/cwd/… leads to chaperone's
// working folder (the command's; "/" in the shell server), the host's to
// that of whichever program looks the name up. The command runs in sub/
// (the agent did `cd sub`), makes .venv -> /proc/self/cwd/evil and plants
// evil/bin/git at the top: chaperone looks in sub/evil/bin (or /evil/bin,
// outside the project), the agent, whose own folder is the top, runs
// evil/bin/git.
func TestRedTeam2PathFolderLinkedThroughProcSelfCwd(t *testing.T) {
	redTeam(t, []string{"bwrap", "docker", "podman"}, probe{
		opts:  worldOpts{deny: true},
		shell: true,
		// From a script (rated medium; the panel says no to holds).
		setup: func(w *world) {
			w.mkdir("@PROJ@/.venv/bin", 0o755)
			w.mkdir("@PROJ@/sub", 0o755)
			w.write("@PROJ@/tools/plant.sh", w.x("cd @PROJ@ && rm -rf .venv && ln -s /proc/self/cwd/evil .venv && "+
				plantGit("evil/bin")+" && echo planted\n"))
		},
		steps: []step{{cmd: "cd .. && bash tools/plant.sh", dir: "@PROJ@/sub",
			env: []string{"PATH=@PROJ@/.venv/bin:/usr/local/bin:/usr/bin:/bin"}}},
		check: func(c *checker) {
			c.stdoutHas(0, "planted")
			c.hostRunsGit("sh", "@PROJ@", "@PROJ@/.venv/bin:/usr/local/bin:/usr/bin:/bin")
		},
	})
}

// bash expands a ~ at the start of a PATH entry when it looks a program up
// (export PATH="~/proj/.venv/bin:$PATH", quoted, is a common slip that
// works in bash). PathFolders takes "~/proj/.venv/bin" for a relative
// entry (PWD/~/proj/.venv/bin), never the project's .venv/bin: nothing is
// watched, and the person's bash runs the planted git.
func TestRedTeam2PathTildeEntryNotWatched(t *testing.T) {
	redTeam(t, []string{"bwrap", "docker", "podman"}, probe{
		opts:   worldOpts{deny: true},
		script: true,
		shell:  true,
		setup:  func(w *world) { w.mkdir("@PROJ@/.venv/bin", 0o755) },
		steps:  []step{{cmd: plantGit(".venv/bin"), env: []string{"PATH=~/proj/.venv/bin:/usr/local/bin:/usr/bin:/bin"}}},
		check: func(c *checker) {
			c.hostRunsGit("bash", "@PROJ@", "~/proj/.venv/bin:/usr/local/bin:/usr/bin:/bin")
		},
	})
}

// A relative PATH entry (bin, node_modules/.bin, "." or an empty one) is
// a folder of every folder the host looks a name up from. PathFolders
// joins it to PWD and the project's top only; a command plants sub/bin/git
// and the agent (or the person), working in sub/ next, runs it.
func TestRedTeam2PathRelativeEntryInSubfolder(t *testing.T) {
	redTeam(t, []string{"bwrap", "docker", "podman"}, probe{
		// Not through chaperone-shell: the shell server, in "/", finds
		// bwrap as bin/bwrap there and refuses it (a relative path).
		opts:   worldOpts{deny: true},
		script: true,
		setup:  func(w *world) { w.mkdir("@PROJ@/sub", 0o755) },
		steps:  []step{{cmd: plantGit("sub/bin"), env: []string{"PATH=bin:/usr/local/bin:/usr/bin:/bin"}}},
		check:  func(c *checker) { c.hostRunsGit("sh", "@PROJ@/sub", "bin:/usr/local/bin:/usr/bin:/bin") },
	})
}

// A person who approves a command's write to a guarded name (.envrc) lets
// that command write guarded names (Job.OpenGuarded); chaperone then keeps
// no Watch at all (shim.go: `!job.OpenGuarded`): not of the PATH folders,
// nor of new repositories in the index. The approved command runs a script
// that, beside the .envrc the person saw, plants .venv/bin/git, which
// stays.
func TestRedTeam2ApprovedGuardedWriteDropsPathGuard(t *testing.T) {
	redTeam(t, []string{"bwrap", "docker", "podman"}, probe{
		setup: func(w *world) {
			w.mkdir("@PROJ@/.venv/bin", 0o755)
			w.write("@PROJ@/tools/setup.sh", w.x(plantGit(".venv/bin")+"\n"))
		},
		steps: []step{{cmd: "echo 'layout python' > .envrc && bash tools/setup.sh",
			env: []string{"PATH=@PROJ@/.venv/bin:/usr/local/bin:/usr/bin:/bin"}}},
		check: func(c *checker) {
			if !strings.Contains(strings.Join(c.w.heldCommands(), "\n"), "approved") {
				c.t.Errorf("the command was not held and approved: the probe proves nothing")
			}
			c.hostRunsGit("sh", "@PROJ@", "@PROJ@/.venv/bin:/usr/local/bin:/usr/bin:/bin")
		},
	})
}

// ---- the git guard --------------------------------------------------------------

// hostGitIn runs git on the host in the folder dir of the project (the
// agent's working folder after a `cd`, the person's prompt, which runs
// `git status` on every line), and reports what the sandbox planted ran.
func (c *checker) hostGitIn(dir string, args ...string) {
	c.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Env = c.w.x(dir), c.w.gitEnv()
	cmd.Run()
	if _, err := os.Lstat(c.w.x("@ROOT@/pwned-@ID@")); err == nil {
		c.w.reported[c.w.x("@ROOT@/pwned-@ID@")] = true
		c.t.Errorf("EXECUTED on the host: `git %s` in %s ran what the sandbox planted", strings.Join(args, " "), c.w.x(dir))
	}
}

// A repository made anywhere in the project but not added to the index
// is left alone (Sweep moves only repositories the index records): host
// git at the top shows it as untracked and goes no further. But host git
// run in that folder finds its .git first: the agent's next git on the
// host after a `cd pkg`, the person's prompt in it. No git needed in the
// sandbox: a copy of a git folder does.
func TestRedTeam2NestedRepoNotInIndexRunsInItsFolder(t *testing.T) {
	redTeam(t, []string{"bwrap", "docker", "podman"}, probe{
		opts:   worldOpts{deny: true},
		script: true,
		shell:  true,
		setup: func(w *world) {
			poison(w)
			w.write("@PROJ@/pkg/index.js", "// a package of the project\n")
			w.git(w.proj, "add", "pkg")
			w.git(w.proj, "commit", "-q", "-m", "pkg")
		},
		cmds:  []string{"cp -r fixtures/evil.git pkg/.git && echo planted"},
		check: func(c *checker) { c.hostGitIn("@PROJ@/pkg", "status") },
	})
}

// A relative core.hooksPath in the person's own git config (~/.gitconfig:
// `git config --global core.hooksPath .githooks`, so that every
// repository runs the hooks it carries) names a folder of each project.
// Protect reads the repository's config only: .githooks is neither
// read-only nor watched (HostExecNames has .git-hooks, not .githooks), and
// a hook planted there runs on the person's next commit.
func TestRedTeam2GlobalRelativeHooksPath(t *testing.T) {
	redTeam(t, []string{"bwrap", "docker", "podman"}, probe{
		opts:   worldOpts{deny: true},
		script: true,
		shell:  true,
		setup: func(w *world) {
			poison(w)
			w.write("@HOME@/.gitconfig", "[core]\n\thooksPath = .githooks\n")
		},
		cmds:  []string{"mkdir -p .githooks && cp payload-hook.sh .githooks/pre-commit && chmod +x .githooks/pre-commit"},
		check: func(c *checker) { c.hostGitRunsNothing("commit", "-q", "--allow-empty", "-m", "host") },
	})
}

// Protect guards a program git's config names in the project only when it
// is the command's first word (program): `core.fsmonitor = sh
// tools/fsmonitor.sh` (or an alias `!sh scripts/x.sh`, a filter `python3
// tools/clean.py`) runs a project file through an interpreter, and that
// file is neither read-only nor watched. The command rewrites it; host
// `git status` runs it.
func TestRedTeam2GitConfigProgramBehindInterpreter(t *testing.T) {
	redTeam(t, []string{"bwrap", "docker", "podman"}, probe{
		opts:   worldOpts{deny: true},
		script: true,
		shell:  true,
		setup: func(w *world) {
			poison(w)
			w.write("@PROJ@/tools/fsmonitor.sh", "#!/bin/sh\nexit 1\n")
			w.git(w.proj, "config", "core.fsmonitor", "sh tools/fsmonitor.sh")
			w.watchNode("@PROJ@/tools/fsmonitor.sh")
		},
		cmds:  []string{"cat payload-hook.sh > tools/fsmonitor.sh"},
		check: func(c *checker) { c.hostGitRunsNothing("status") },
	})
}

// longRel is a project-relative folder path of n bytes (folders of 200
// characters at most).
func longRel(n int) string {
	var parts []string
	for n > 0 {
		k := min(n, 200)
		if n-k == 1 {
			k-- // no empty last part
		}
		parts = append(parts, strings.Repeat("d", k))
		n -= k + 1
	}
	return strings.Join(parts, "/")
}

// Sweep moves what it finds to quarantine/<stamp>/<the same relative
// path>, by renameat(2) to that absolute path. The quarantine's path is
// longer than the project's (here by some 50 characters, as
// ~/.local/state/chaperone/quarantine/… is longer than ~/src/proj): a
// repository added to the index at a path that fits in PATH_MAX under the
// project but not under the quarantine cannot be moved (ENAMETOOLONG,
// one line on stderr) and stays. Host `git status` (which walks relative
// paths) goes into it and runs its fsmonitor. (The index comes from a
// fixture: the test image has no git.)
func TestRedTeam2QuarantinePathTooLongLeavesNestedRepo(t *testing.T) {
	var deep string
	redTeam(t, []string{"bwrap", "docker", "podman"}, probe{
		opts:   worldOpts{deny: true},
		script: true,
		shell:  true,
		setup: func(w *world) {
			poison(w)
			// The project's path and the nested repository's .git within
			// PATH_MAX (4096) with room to spare; the quarantine's not.
			deep = longRel(4060 - len(w.proj) - len("/.git"))
			w.indexFixture(deep)
			w.write("@PROJ@/tools/deep.txt", deep)
		},
		cmds: []string{`d=$(cat tools/deep.txt) && mkdir -p "$d" && cp -r fixtures/evil.git "$d/.git" && cp fixtures/index .git/index && echo planted`},
		check: func(c *checker) {
			c.stdoutHas(0, "planted")
			c.hostGitRunsNothing("status")
		},
	})
}

// ---- Sweep as the person's own user ----------------------------------------------

// Sweep moves what it finds by rename(2), as the person's user, and the
// sandbox runs as that same user: a command that plants what is swept and
// then takes the write bit off the folders that hold it (chmod a-w .git
// .venv/bin ., all its own) makes every move fail with EACCES (one line
// on stderr), and all of it stays: a shadowing git on the PATH, the
// agent's settings, .git/commondir. chaperone never gives the write bit
// back. (root ignores the mode, so as root the test runs chaperone and
// host git as nobody, in a world of nobody's; bubblewrap only.)
func TestRedTeam2ReadOnlyParentsBlockQuarantine(t *testing.T) {
	t.Parallel()
	itest.Require(t, "bwrap", available("bwrap"))
	uid, gid := os.Getuid(), os.Getgid()
	if uid == 0 {
		uid, gid = 65534, 65534
	}
	asUser := func(cmd *exec.Cmd) *exec.Cmd {
		if os.Getuid() == 0 {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		}
		return cmd
	}
	root, err := os.MkdirTemp("", "esc-ro")
	must(t, err)
	t.Cleanup(func() { exec.Command("chmod", "-R", "u+w", root).Run(); os.RemoveAll(root) })
	bin := programs(t)
	for _, p := range []string{"chaperone", "chaperone-shell"} {
		b, err := os.ReadFile(bin + "/" + p)
		must(t, err)
		must(t, os.WriteFile(root+"/"+p, b, 0o755))
	}
	home, proj := root+"/home", root+"/home/proj"
	for _, d := range []string{proj + "/.venv/bin", proj + "/tools", home + "/.config/chaperone", home + "/.local/state", root + "/run"} {
		must(t, os.MkdirAll(d, 0o755))
	}
	must(t, os.WriteFile(home+"/.config/chaperone/config.toml", []byte("backend = \"bwrap\"\nhold_timeout = \"2s\"\n"), 0o644))
	must(t, os.WriteFile(proj+"/tools/plant.sh", []byte(strings.ReplaceAll(`set -e
printf '#!/bin/sh\ntouch @ROOT@/pwned-path\nexec /usr/bin/git "$@"\n' > .venv/bin/git
chmod +x .venv/bin/git
mkdir .claude && echo '{"hooks":{}}' > .claude/settings.json
cp -r .git evil-common && printf '[core]\n\tfsmonitor = "touch @ROOT@/pwned-git; false"\n' >> evil-common/config
echo ../evil-common > .git/commondir
chmod a-w .venv/bin .git .
echo planted
`, "@ROOT@", root)+scriptPadding), 0o644))
	must(t, exec.Command("chown", "-R", fmt.Sprintf("%d:%d", uid, gid), root).Run())
	must(t, os.Chmod(root, 0o755))
	path := "PATH=" + proj + "/.venv/bin:/usr/local/bin:/usr/bin:/bin"
	env := []string{path, "HOME=" + home, "XDG_CONFIG_HOME=" + home + "/.config", "XDG_STATE_HOME=" + home + "/.local/state",
		"XDG_RUNTIME_DIR=" + root + "/run", "CHAPERONE_NO_SERVER=1", "LANG=C.UTF-8",
		"GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@e", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@e"}
	run := func(name string, args ...string) string {
		cmd := asUser(exec.Command(name, args...))
		cmd.Dir, cmd.Env = proj, env
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	if out := run("git", "init", "-q"); out != "" {
		t.Fatalf("git init: %s", out)
	}
	run("git", "commit", "-q", "--allow-empty", "-m", "init")
	out := run(root+"/chaperone", "-c", "bash tools/plant.sh")
	t.Logf("chaperone -c 'bash tools/plant.sh':\n%s", out)
	if !strings.Contains(out, "planted") {
		t.Fatalf("DID NOT RUN: the script did not plant (the probe proves nothing)")
	}
	for _, p := range []string{".venv/bin/git", ".claude/settings.json", ".git/commondir"} {
		if _, err := os.Lstat(proj + "/" + p); err == nil {
			t.Errorf("STAYED: %s, planted by the command, is still in the project", p)
		}
	}
	run("sh", "-c", "git status >/dev/null 2>&1")
	for _, p := range []string{"pwned-path", "pwned-git"} {
		if _, err := os.Lstat(root + "/" + p); err == nil {
			t.Errorf("EXECUTED on the host: `git status` ran what the sandbox planted (it made %s)", p)
		}
	}
}

// ---- names host tools run that are not guarded -------------------------------------

// What a guarded file has host tools run in turn, like the files a git
// config includes (which Protect does follow): a .envrc the person allowed
// sources .envrc.local (source_env_if_exists), loads .env (dotenv: any
// variable, PATH, LD_PRELOAD, GIT_SSH_COMMAND, into the person's shell on
// every cd) and runs the shellHook of flake.nix or shell.nix (use flake,
// use nix); direnv's allow covers the .envrc's text only. vim's 'exrc'
// reads .vimrc and .gvimrc beside .exrc; a global core.hooksPath of
// .githooks (see TestRedTeam2GlobalRelativeHooksPath) names a folder no
// list has. None of them is read-only or swept.
var unguardedHostExec2 = []struct{ slug, path string }{
	{"envrc-local", ".envrc.local"},
	{"dotenv", ".env"},
	{"flake-nix", "flake.nix"},
	{"shell-nix", "shell.nix"},
	{"vim-exrc-vimrc", ".vimrc"},
	{"vim-exrc-gvimrc", ".gvimrc"},
	{"githooks", ".githooks/pre-commit"},
}

func TestRedTeam2UnguardedHostExecNames(t *testing.T) {
	hostExecNamesStay(t, unguardedHostExec2, func(w *world) {
		w.write("@PROJ@/.envrc", "source_env_if_exists .envrc.local\ndotenv_if_exists\nuse flake\n")
	})
}

// HostExecNames are guarded at the project's top only. In a monorepo the
// person opens a package in the editor (`code packages/app`: its
// .vscode/tasks.json runs on folder open, trusted as its parent is) or
// starts the agent there (its .claude/settings.json hooks, its .mcp.json
// servers run on the host); direnv loads the nearest .envrc. A command
// plants them in packages/app and they stay.
var nestedHostExec = []struct{ slug, path string }{
	{"vscode-tasks", "packages/app/.vscode/tasks.json"},
	{"claude-settings", "packages/app/.claude/settings.json"},
	{"mcp-json", "packages/app/.mcp.json"},
}

func TestRedTeam2NestedHostExecNames(t *testing.T) {
	hostExecNamesStay(t, nestedHostExec, func(w *world) { w.write("@PROJ@/packages/app/package.json", "{}\n") })
}
