package main

import (
	"github.com/chaperone-dev/chaperone/internal/itest"
	"github.com/chaperone-dev/chaperone/sandbox"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
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
	testscript.Main(m, map[string]func(){"chaperone": main})
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
