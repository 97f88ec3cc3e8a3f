package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/chaperone-dev/chaperone/internal/itest"
	"github.com/chaperone-dev/chaperone/internal/reaper"
	"github.com/chaperone-dev/chaperone/sandbox"
)

// TestMain registers chaperone with testscript. A test binary started by a
// script under the name bash or sh (a symlink made by the script) is
// chaperone too, as the installed binary would be.
func TestMain(m *testing.M) {
	// This binary is dynamically linked: the docker scripts' commands run
	// under a static build of chaperone-shell (see TestScript).
	sandbox.DefaultReaper = os.Getenv("CHAPERONE_TEST_REAPER")
	name := strings.TrimPrefix(filepath.Base(os.Args[0]), "-")
	if (name == "bash" || name == "sh") && os.Getenv("CHAPERONE_TESTSCRIPT") == "1" {
		main()
	}
	// main runs as the reaper too, under that name (sandboxes run each
	// command under it).
	testscript.Main(m, map[string]func(){"chaperone": main, reaper.Name: main})
}

// TestScript runs every testdata/script/*.txtar of the repository.
func TestScript(t *testing.T) {
	// Scripts skip themselves when docker or bwrap is missing; in CI none
	// may be missing.
	for _, tool := range []string{"docker", "bwrap"} {
		_, err := exec.LookPath(tool)
		itest.Require(t, tool+" (for the sandbox scripts)", err == nil)
	}
	var reaper string // every docker command's reaper: a static program
	if _, err := exec.LookPath("docker"); err == nil {
		reaper = filepath.Join(itest.Programs(t), "chaperone-shell")
		t.Cleanup(itest.RemovePrograms)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("..", "..", "testdata", "script"),
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			work := env.WorkDir
			for _, kv := range [][2]string{
				{"CHAPERONE_TESTSCRIPT", "1"},
				{"HOME", filepath.Join(work, "home")},
				{"XDG_CONFIG_HOME", filepath.Join(work, ".config")},
				{"XDG_STATE_HOME", filepath.Join(work, ".state")},
				{"XDG_RUNTIME_DIR", filepath.Join(work, ".run")},
				{"CHAPERONE_HOLD_TIMEOUT", "10ms"},
				{"CHAPERONE_TEST_REAPER", reaper},
			} {
				env.Setenv(kv[0], kv[1])
			}
			for _, d := range []string{"home", ".run", ".config/chaperone"} {
				if err := os.MkdirAll(filepath.Join(work, d), 0o700); err != nil {
					return err
				}
			}
			// Unconfined unless the script's own config names a sandbox:
			// only the user's config file may choose the host.
			cfg := filepath.Join(work, ".config", "chaperone", "config.toml")
			if _, err := os.Stat(cfg); os.IsNotExist(err) {
				return os.WriteFile(cfg, []byte("backend = \"host\"\n"), 0o600)
			}
			return nil
		},
	})
}

// Every bash form an agent sends goes to the shim; only chaperone's own
// verbs, its help and version options by its own name, and a mistyped
// verb that bash could do nothing with are chaperone's.
func TestIsShell(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	os.Mkdir(bin, 0o755)
	for _, f := range []string{"script.sh", "docter"} {
		os.WriteFile(filepath.Join(dir, f), []byte("echo hi\n"), 0o644)
	}
	os.WriteFile(filepath.Join(bin, "rake"), []byte("#!/bin/sh\n"), 0o755) // a program near "rate"
	t.Chdir(dir)
	t.Setenv("PATH", bin)
	tests := []struct {
		args  string // words separated by |
		shell bool
	}{
		{"chaperone", true},
		{"chaperone|-c|ls", true},
		{"chaperone|-c|audit list", true},
		{"chaperone|-lc|ls", true},
		{"chaperone|-l|-c|ls", true},
		{"chaperone|--login|-c|ls", true},
		{"chaperone|-s|a|b", true},
		{"chaperone|-", true},
		{"chaperone|--|audti", true},
		{"chaperone|-h|-c|ls", true}, // set -h (hashall)
		{"chaperone|-e", true},
		{"chaperone|--noprofile|--norc|-c|ls", true},
		{"chaperone|script.sh|x", true},
		{"chaperone|docter", true},     // a script file here
		{"chaperone|docter|x", true},   // a script file here, with arguments
		{"chaperone|rake", true},       // a program on PATH: the shell-prefix form
		{"chaperone|true", true},       // a builtin near "tui"
		{"chaperone|git status", true}, // the shell-prefix form
		{"chaperone|xyzzy|a", true},    // nothing like a verb: bash says what is wrong
		{"chaperone|--verison", true},  // bash's invalid option
		{"bash|--help", true},
		{"bash|--version", true},
		{"bash|audti|list", true},
		{"/usr/local/bin/sh|-c|ls", true},
		{"-bash|version", true},
		{"chaperone|audit|list", false},
		{"chaperone|version", false},
		{"chaperone|help", false},
		{"chaperone|--help", false},
		{"chaperone|-h", false},
		{"chaperone|--version", false},
		{"chaperone|audti|list", false},
		{"chaperone|doctr", false},
		{"/opt/chaperone/chaperone|sandbx|up", false},
	}
	for _, tt := range tests {
		if got := isShell(strings.Split(tt.args, "|")); got != tt.shell {
			t.Errorf("isShell(%s) = %v, want %v", tt.args, got, tt.shell)
		}
	}
}

func TestSuggestVerb(t *testing.T) {
	t.Parallel()
	none := func(string) bool { return false }
	tests := []struct{ word, want string }{
		{"audti", "audit"},
		{"sandbx", "sandbox"},
		{"raet", "rate"},
		{"modle", "model"},
		{"fewshots", "fewshot"},
		{"verison", "version"},
		{"trsut", "trust"},
		{"xyzzy", ""},
		{"Audit", ""},       // not a plain lower-case word
		{"-audit", ""},      // an option
		{"./audit", ""},     // a path
		{"audit list", ""},  // a command line
		{"exit", ""},        // a bash builtin
		{"shell-servr", ""}, // a verb only other programs use
		{"", ""},
	}
	for _, tt := range tests {
		if got := suggestVerb(tt.word, none); got != tt.want {
			t.Errorf("suggestVerb(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
	if got := suggestVerb("audti", func(string) bool { return true }); got != "" {
		t.Errorf("suggestVerb of a word bash has = %q, want none", got)
	}
}

func TestVersionText(t *testing.T) {
	t.Parallel()
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/chaperone-dev/chaperone", Version: "(devel)"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	tests := []struct {
		bi   *debug.BuildInfo
		want string
	}{
		{bi, "chaperone (devel) (commit 0123456789ab of 2026-12-01T10:00:00Z, with uncommitted changes), built with go1.26.8"},
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}}, "chaperone v1.2.3, built with go1.26.8"},
		{nil, "chaperone (unknown version: built without module information)"},
	}
	for _, tt := range tests {
		if got := versionText(tt.bi); got != tt.want {
			t.Errorf("versionText = %q\nwant %q", got, tt.want)
		}
	}
}

// chaperone help lists every verb a person may type.
func TestHelpListsEveryVerb(t *testing.T) {
	t.Parallel()
	for verb := range subcommands {
		if !hiddenVerbs[verb] && !strings.Contains(helpText, "\n  "+verb+" ") {
			t.Errorf("chaperone help does not list %q", verb)
		}
	}
}
