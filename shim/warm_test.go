package shim

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/rater"
)

// The shell server keeps one engine per project while the files its
// settings come from stay as they were, and builds it again as soon as
// one changes: the user's config, the trust records, the project's file.
// What a project adds never leaks into another project's settings.
func TestWarmEngine(t *testing.T) {
	tmp := t.TempDir()
	cfgFile := filepath.Join(tmp, "config", "chaperone", "config.toml")
	os.MkdirAll(filepath.Dir(cfgFile), 0o700)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(cfgFile, []byte("backend = \"host\"\n[rules]\ndeny = [\"make deploy\"]\n"), 0o600))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(tmp, "config"))
	t.Setenv("XDG_STATE_HOME", filepath.Join(tmp, "state"))
	t.Setenv("XDG_RUNTIME_DIR", filepath.Join(tmp, "run"))
	repo, other := filepath.Join(tmp, "repo"), filepath.Join(tmp, "other")
	for _, r := range []string{repo, other} {
		must(exec.Command("git", "init", "-q", r).Run())
	}
	var w warm
	build := func(dir string) *Shim {
		t.Helper()
		s, err := w.configured(context.Background(), origin{dir: dir, stdio: [3]*os.File{os.Stdin, os.Stdout, os.Stderr}, environ: os.Environ()})
		if err != nil {
			t.Fatal(err)
		}
		if s.Log != nil {
			s.Log.Close()
		}
		return s
	}
	risk := func(s *Shim, cmd string) models.Risk {
		r, _ := s.Rater.Rate(context.Background(), rater.Request{Command: cmd, Cwd: s.Dir, Project: s.Project})
		return r.Risk
	}

	first := build(repo)
	if again := build(repo); again.Rater != first.Rater {
		t.Error("the engine was built again with nothing changed")
	}
	if risk(first, "make deploy") != models.High || risk(first, "make release") == models.High {
		t.Fatalf("the user's deny rule: make deploy %s, make release %s", risk(first, "make deploy"), risk(first, "make release"))
	}

	// The user's config changes (same size, same second: the change time
	// still tells).
	must(os.WriteFile(cfgFile, []byte("backend = \"host\"\n[rules]\ndeny = [\"make releas\"]\n"), 0o600))
	s := build(repo)
	if s.Rater == first.Rater || risk(s, "make releas") != models.High || risk(s, "make deploy") == models.High {
		t.Errorf("after the config changed: make releas %s, make deploy %s (rebuilt: %v)", risk(s, "make releas"), risk(s, "make deploy"), s.Rater != first.Rater)
	}

	// The project's file, once trusted, adds its rule to this project only.
	must(os.WriteFile(filepath.Join(repo, config.ProjectFile), []byte("[rules]\ndeny = [\"npm publish\"]\n"), 0o600))
	if _, _, err := config.Trust(repo); err != nil {
		t.Fatal(err)
	}
	s = build(repo)
	if risk(s, "npm publish --dry-run") != models.High {
		t.Errorf("the trusted project's deny rule is not applied: %s", risk(s, "npm publish --dry-run"))
	}
	if o := build(other); risk(o, "npm publish --dry-run") == models.High && risk(first, "npm publish --dry-run") != models.High {
		t.Error("one project's rule reached another project's engine")
	}
	// Edited after it was trusted: ignored again.
	must(os.WriteFile(filepath.Join(repo, config.ProjectFile), []byte("[rules]\nallow = [\"npm publish\"]\n"), 0o600))
	if s = build(repo); risk(s, "npm publish --dry-run") != risk(first, "npm publish --dry-run") {
		t.Errorf("an edited, untrusted project file still counts: %s", risk(s, "npm publish --dry-run"))
	}
}
