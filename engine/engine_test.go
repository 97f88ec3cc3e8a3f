package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/models"
)

// hermetic points the user's config and state at empty temp folders.
func hermetic(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	t.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	return dir
}

func rules(r models.Rating) []string {
	var ids []string
	for _, f := range r.Findings {
		ids = append(ids, f.Rule)
	}
	return ids
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestJudge(t *testing.T) {
	hermetic(t)
	e, err := New(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	home := map[string]string{"HOME": "/home/u"}
	claude := "source /home/u/.claude/shell-snapshots/snapshot-bash-1-x.sh 2>/dev/null || true && eval 'cat ~/.ssh/id_rsa' < /dev/null && pwd -P >| /tmp/claude-1-cwd"
	for _, tc := range []struct {
		name, text, agent, inner string
		risk                     models.Risk
		rule                     string
	}{
		{"plain text", "cat ~/.ssh/id_rsa", "", "", models.High, "secrets.read"},
		{"plain low", "git status", "claude", "", models.Low, ""},
		{"claude's wrapper", claude, "claude", "cat ~/.ssh/id_rsa", models.High, "secrets.read"},
		{"claude's wrapper from another agent", claude, "codex", "", models.High, "secrets.read"},
		{"eval of a literal, any agent", "eval 'ls -la'", "", "ls -la", models.Low, ""},
		{"does not parse", "cat 'unterminated", "", "", models.High, "parse.error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := e.Judge(context.Background(), Command{Text: tc.text, Cwd: "/home/u/proj", Project: "/home/u/proj", Agent: tc.agent, Getenv: env(home)})
			if j.Inner != tc.inner || j.Rating.Risk != tc.risk || (tc.rule != "" && !slices.Contains(rules(j.Rating), tc.rule)) || j.Facts == nil {
				t.Errorf("Judge = inner %q, %v %v; want inner %q, %v with %s", j.Inner, j.Rating.Risk, rules(j.Rating), tc.inner, tc.risk, tc.rule)
			}
			if (j.Wrapper != nil) != (tc.inner != "") {
				t.Errorf("wrapper %+v", j.Wrapper)
			}
		})
	}
}

// TestJudgeWholeText: a wrapper whose inner command is harmless but whose
// whole text is high is judged by the whole text, as the shim does.
func TestJudgeWholeText(t *testing.T) {
	hermetic(t)
	e, _ := New(nil, "")
	// Gemini's form, whose background-pids file is a private key.
	text := "shopt -u promptvars nullglob extglob nocaseglob dotglob; _bgpids_file=/home/u/.ssh/id_rsa\n(\n  trap 'jobs -p > \"$_bgpids_file\"' EXIT\nls\n)\n__code=$?\nexit $__code"
	j := e.Judge(context.Background(), Command{Text: text, Agent: "gemini", Project: "/home/u/proj", Cwd: "/home/u/proj", Getenv: env(map[string]string{"HOME": "/home/u"})})
	if j.Inner != "ls" {
		t.Fatalf("inner %q, want ls", j.Inner)
	}
	if j.Rating.Risk != models.High || j.Facts == nil || len(j.Facts.Commands) < 3 {
		t.Errorf("judged %v on %d commands; want high, on the whole text", j.Rating.Risk, len(j.Facts.Commands))
	}
}

// TestNewProjectRules: the project's rules count only once trusted, and a
// broken user rule is an error.
func TestNewProjectRules(t *testing.T) {
	hermetic(t)
	proj := t.TempDir()
	if err := os.WriteFile(filepath.Join(proj, config.ProjectFile), []byte("[rules]\ndeny = [\"make deploy\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	judge := func() models.Rating {
		t.Helper()
		cfg := &config.Config{}
		e, err := New(cfg, proj)
		if err != nil {
			t.Fatal(err)
		}
		return e.Judge(context.Background(), Command{Text: "make deploy", Cwd: proj, Project: proj}).Rating
	}
	if r := judge(); r.Risk == models.High {
		t.Fatalf("untrusted project rules applied: %+v", r)
	}
	if _, _, err := config.Trust(proj); err != nil {
		t.Fatal(err)
	}
	if r := judge(); r.Risk != models.High {
		t.Fatalf("trusted project deny rule not applied: %+v", r)
	}
	cfg := &config.Config{}
	if _, err := New(cfg, proj); err != nil || len(cfg.Rules.Deny) != 1 {
		t.Errorf("New merged %+v into cfg, %v; want the project's deny rule", cfg.Rules, err)
	}
	broken := &config.Config{Rules: config.RulesConfig{Deny: []config.PrefixRule{{Prefix: ""}}}}
	if _, err := New(broken, ""); err == nil {
		t.Error("New accepted an empty rule")
	}
	if _, err := New(&config.Config{}, "relative/dir"); err != nil {
		t.Errorf("relative project: %v", err)
	}
}

// A command in the sandbox can leave a FIFO, or a link to a secret, at a
// project's .chaperone.toml (a nested project's is not guarded). Building
// the engine for that project must neither block nor read through the
// link: it fails, naming the file.
func TestNewRefusesOddProjectFile(t *testing.T) {
	hermetic(t)
	secret := filepath.Join(t.TempDir(), "id_rsa")
	os.WriteFile(secret, []byte("SECRET"), 0o600)
	for name, plant := range map[string]func(p string) error{
		"fifo":         func(p string) error { return syscall.Mkfifo(p, 0o644) },
		"link out":     func(p string) error { return os.Symlink(secret, p) },
		"link to fifo": func(p string) error { syscall.Mkfifo(p+".pipe", 0o644); return os.Symlink(filepath.Base(p)+".pipe", p) },
	} {
		t.Run(name, func(t *testing.T) {
			proj := t.TempDir()
			p := filepath.Join(proj, config.ProjectFile)
			if err := plant(p); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { _, err := New(&config.Config{}, proj); done <- err }()
			select {
			case err := <-done:
				var ce *config.Error
				if !errors.As(err, &ce) || ce.Path != p || strings.Contains(err.Error(), "SECRET") {
					t.Errorf("New = %v; want an error naming %s", err, p)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("New blocked on the project file")
			}
		})
	}
}

// TestJudgeGated: a statement of a shell session is judged with the
// session's gate (the panel sees what the shim saw), and only then.
func TestJudgeGated(t *testing.T) {
	e, err := New(nil, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, gated := range []bool{false, true} {
		j := e.Judge(context.Background(), Command{Text: "trap - DEBUG", Cwd: "/tmp", Gated: gated})
		if high := j.Rating.Risk.Effective() == models.High; high != gated {
			t.Errorf("gated %v: rated %v", gated, j.Rating.Risk)
		}
	}
}
