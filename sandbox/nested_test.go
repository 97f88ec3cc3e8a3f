package sandbox

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// Below the project's top, what a command changes that host tools run is
// moved out: the agents' and editors' files of a package, a planted
// repository whose git folder runs something. What git itself makes, and
// ordinary files, stay.
func TestSweepChanged(t *testing.T) {
	git := func(t *testing.T, dir string, args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	tests := []struct {
		name    string
		command func(t *testing.T, proj string)
		changed []string
		moved   []string
	}{
		{"a package's editor tasks", func(t *testing.T, proj string) {
			must(t, os.MkdirAll(filepath.Join(proj, "packages/app/.vscode"), 0o755))
			must(t, os.WriteFile(filepath.Join(proj, "packages/app/.vscode/tasks.json"), []byte("{}"), 0o644))
		}, []string{"packages/app/.vscode/", "packages/app/.vscode/tasks.json"}, []string{"packages/app/.vscode"}},
		{"a package's agent settings, in a folder that was there", func(t *testing.T, proj string) {
			must(t, os.MkdirAll(filepath.Join(proj, "pkg/.claude"), 0o755))
			must(t, os.WriteFile(filepath.Join(proj, "pkg/.claude/settings.json"), []byte("{}"), 0o644))
		}, []string{"pkg/.claude/settings.json"}, []string{"pkg/.claude/settings.json"}},
		{"a planted repository that runs a program", func(t *testing.T, proj string) {
			git(t, filepath.Join(proj, "pkg"), "init", "-q")
			git(t, filepath.Join(proj, "pkg"), "config", "core.fsmonitor", "touch /tmp/pwned; false")
		}, []string{"pkg/.git/", "pkg/.git/config"}, []string{"pkg/.git"}},
		{"a planted repository with a hook", func(t *testing.T, proj string) {
			git(t, filepath.Join(proj, "pkg"), "init", "-q")
			must(t, os.WriteFile(filepath.Join(proj, "pkg/.git/hooks/pre-commit"), []byte("#!/bin/sh\n"), 0o755))
		}, []string{"pkg/.git/hooks/pre-commit"}, []string{"pkg/.git"}},
		{"a .git file pointing elsewhere", func(t *testing.T, proj string) {
			must(t, os.WriteFile(filepath.Join(proj, "pkg/.git"), []byte("gitdir: /tmp/x\n"), 0o644))
		}, []string{"pkg/.git"}, []string{"pkg/.git"}},
		{"git init, as git makes it", func(t *testing.T, proj string) {
			git(t, filepath.Join(proj, "pkg"), "init", "-q")
			git(t, filepath.Join(proj, "pkg"), "config", "user.name", "x")
		}, []string{"pkg/.git/", "pkg/.git/config", "pkg/.git/hooks/"}, nil},
		{"ordinary files, and the top (Sweep's)", func(t *testing.T, proj string) {
			must(t, os.WriteFile(filepath.Join(proj, "pkg/main.go"), []byte("package main"), 0o644))
			must(t, os.WriteFile(filepath.Join(proj, ".envrc"), []byte("x"), 0o644))
		}, []string{"pkg/main.go", ".envrc", "../outside/.vscode/x"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			proj := filepath.Join(t.TempDir(), "proj")
			must(t, os.MkdirAll(filepath.Join(proj, "pkg"), 0o755))
			w := WatchNone(proj)
			tc.command(t, proj)
			moved, _, err := w.SweepChanged(filepath.Join(t.TempDir(), "q"), tc.changed)
			if err != nil {
				t.Errorf("SweepChanged: %v", err)
			}
			slices.Sort(moved)
			if !slices.Equal(moved, tc.moved) {
				t.Errorf("moved %q, want %q", moved, tc.moved)
			}
			for _, m := range tc.moved {
				if _, err := os.Lstat(filepath.Join(proj, m)); err == nil {
					t.Errorf("%s is still there", m)
				}
			}
		})
	}
}

func TestProgramPaths(t *testing.T) {
	for cmd, want := range map[string][]string{
		"sh tools/fsmonitor.sh":          {"tools/fsmonitor.sh"},
		"!sh scripts/x.sh --fast":        {"scripts/x.sh"},
		"python3 tools/clean.py %f":      {"tools/clean.py"},
		"./bin/helper get":               {"./bin/helper"},
		`"tools/my tool" --cfg=conf/a.y`: {"tools/my tool", "tools/my", "conf/a.y"},
		"git-credential-manager":         nil,
		"curl https://x.example/a":       nil,
	} {
		if got := programPaths(cmd); !slices.Equal(got, want) {
			t.Errorf("programPaths(%q) = %q, want %q", cmd, got, want)
		}
	}
}

func TestEnvrcFiles(t *testing.T) {
	p := filepath.Join(t.TempDir(), ".envrc")
	must(t, os.WriteFile(p, []byte("dotenv_if_exists\nsource_env_if_exists .envrc.private\ndotenv config/dev.env # local\nsource_env ..\nwatch_file package.json\nexport FOO=1\n"), 0o644))
	if got, want := envrcFiles(p), []string{".env", ".envrc.private", "config/dev.env"}; !slices.Equal(got, want) {
		t.Errorf("envrcFiles = %q, want %q", got, want)
	}
}

// A relative entry of the agent's PATH leads into whatever folder a host
// process is in: a program with a host program's name, written in any
// folder of that name, is moved out.
func TestSweepChangedRelativePath(t *testing.T) {
	root := t.TempDir()
	bin := filepath.Join(root, "usr", "bin")
	must(t, os.MkdirAll(bin, 0o755))
	must(t, os.WriteFile(filepath.Join(bin, "git"), []byte("#!/bin/sh\n"), 0o755))
	proj := filepath.Join(root, "proj")
	for _, f := range []string{"sub/bin/git", "sub/bin/mytool", "other/git", "sub/node_modules/.bin/git"} {
		must(t, os.MkdirAll(filepath.Dir(filepath.Join(proj, f)), 0o755))
		must(t, os.WriteFile(filepath.Join(proj, f), []byte("#!/bin/sh\n"), 0o755))
	}
	w := WatchNone(proj)
	w.WatchPath([]string{"HOME=" + root, "PATH=bin:node_modules/.bin:" + bin})
	moved, _, err := w.SweepChanged(filepath.Join(root, "q"), []string{"sub/bin/git", "sub/bin/mytool", "other/git", "sub/node_modules/.bin/git"})
	slices.Sort(moved)
	if err != nil || !slices.Equal(moved, []string{"sub/bin/git", "sub/node_modules/.bin/git"}) {
		t.Errorf("moved %q (%v), want the two gits on relative PATH folders", moved, err)
	}
}
