package shape

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/models"
)

func lit(ws ...string) []models.Word {
	out := make([]models.Word, len(ws))
	for i, w := range ws {
		out[i] = models.Word{Lit: w}
	}
	return out
}

func cmd(ws ...string) models.Command { return models.Command{Argv: lit(ws...), PipeFrom: -1} }

func facts(cs ...models.Command) *models.Facts { return &models.Facts{Commands: cs} }

func TestOf(t *testing.T) {
	piped := cmd("sh")
	piped.PipeFrom = 0
	sudo := cmd("rm", "-rf", "/srv/x")
	sudo.Via = []string{"sudo"}
	redir := cmd("echo", "hi")
	redir.Redirs = []models.Redir{{Op: ">>", Target: models.Word{Lit: "~/.bashrc"}}}
	bg := cmd("python", "-m", "http.server")
	bg.Background = true
	dynArg := cmd("cat")
	dynArg.Argv = append(dynArg.Argv, models.Word{Lit: "$F", Dynamic: true})
	for _, tc := range []struct {
		name string
		f    *models.Facts
		want []string
	}{
		{"args dropped", facts(cmd("cat", "/home/u/.ssh/id_rsa")), []string{"cat"}},
		{"subcommands and flags", facts(cmd("git", "push", "origin", "main", "--force")), []string{"git push origin --force"}},
		{"flags sorted, values dropped", facts(cmd("curl", "-X", "POST", "--data=@x", "-s", "https://h")), []string{"curl --data -X -s"}},
		{"same flags other order", facts(cmd("curl", "-s", "https://other", "--data=@y", "-X", "PUT")), []string{"curl --data -X -s"}},
		{"pipeline", facts(cmd("curl", "-fsSL", "https://x"), piped), []string{"curl -fsSL", "| sh"}},
		{"wrapper", facts(sudo), []string{"[sudo] rm -rf"}},
		{"redirection", facts(redir), []string{"echo hi >>"}},
		{"background", facts(bg), []string{"python -m &"}},
		{"dynamic argument", facts(dynArg), []string{"cat"}},
		{"spaces quoted", facts(cmd("my tool", "--x=1")), []string{`"my tool" --x`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Of(tc.f)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("Of = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestOfRefuses(t *testing.T) {
	dyn := models.Command{Argv: []models.Word{{Lit: "$CMD", Dynamic: true}}, PipeFrom: -1}
	for name, f := range map[string]*models.Facts{
		"nil":          nil,
		"empty":        {},
		"opaque":       {Commands: []models.Command{cmd("eval", "x")}, Opaque: true},
		"parse error":  {Commands: []models.Command{cmd("x")}, ParseError: "unclosed quote"},
		"dynamic name": facts(dyn),
	} {
		if s, err := Of(f); !errors.Is(err, ErrNoShape) {
			t.Errorf("%s: Of = %q, %v; want ErrNoShape", name, s, err)
		}
	}
}

var secret = models.Rating{Risk: models.High, Findings: []models.Finding{{Rule: "secrets.read", Risk: models.High, Reason: "reads a private key"}}}

func TestMatch(t *testing.T) {
	f := facts(cmd("cat", "/home/u/.ssh/id_rsa"))
	rem, err := For("/p", f, secret)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rem.Shape, []string{"cat"}) || !slices.Equal(rem.Rules, []string{"secrets.read"}) {
		t.Fatalf("For = %+v", rem)
	}
	list := []config.Remembered{rem}
	moreRules := models.Rating{Risk: models.High, Findings: append(slices.Clone(secret.Findings), models.Finding{Rule: "net.exfil", Risk: models.High})}
	mediumToo := models.Rating{Risk: models.High, Findings: append(slices.Clone(secret.Findings), models.Finding{Rule: "net.fetch", Risk: models.Medium})}
	for _, tc := range []struct {
		name    string
		project string
		f       *models.Facts
		r       models.Rating
		want    bool
	}{
		{"same command", "/p", f, secret, true},
		{"same shape, other argument", "/p", facts(cmd("cat", "/home/u/.ssh/id_ed25519")), secret, true},
		{"medium findings do not count", "/p", f, mediumToo, true},
		{"other project", "/q", f, secret, false},
		{"no project", "", f, secret, false},
		{"other flags", "/p", facts(cmd("cat", "-v", "/home/u/.ssh/id_rsa")), secret, false},
		{"another high rule", "/p", f, moreRules, false},
		{"user deny rule", "/p", f, models.Rating{Risk: models.High, Findings: []models.Finding{secret.Findings[0], {Rule: "user.deny", Risk: models.High}}}, false},
		{"critical rule", "/p", f, models.Rating{Risk: models.High, Findings: []models.Finding{secret.Findings[0], {Rule: "destroy.critical.rootfs", Risk: models.High}}}, false},
		{"opaque rating", "/p", f, models.Rating{Risk: models.High, Opaque: true, Findings: secret.Findings}, false},
		{"opaque facts", "/p", &models.Facts{Commands: f.Commands, Opaque: true}, secret, false},
		{"model raised it", "/p", f, models.Rating{Risk: models.High, Findings: secret.Findings, Model: &models.ModelAnswer{Risk: models.High}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Match(list, tc.project, tc.f, tc.r); got != tc.want {
				t.Errorf("Match = %v, want %v", got, tc.want)
			}
		})
	}
	if Match(nil, "/p", f, secret) {
		t.Error("Match with nothing remembered")
	}
}

func TestForRefuses(t *testing.T) {
	f := facts(cmd("rm", "-rf", "/"))
	for name, r := range map[string]models.Rating{
		"user deny":      {Risk: models.High, Findings: []models.Finding{{Rule: "user.deny.prefix", Risk: models.High}}},
		"critical":       {Risk: models.High, Findings: []models.Finding{{Rule: "critical.rm-root", Risk: models.High}}},
		"opaque":         {Risk: models.High, Opaque: true},
		"user rate high": {Risk: models.High, Findings: []models.Finding{{Rule: "user.rate", Risk: models.High}}},
		"rm -rf ~":       {Risk: models.High, Findings: []models.Finding{{Rule: "destroy.unbounded", Risk: models.High}}},
		"evasion":        {Risk: models.High, Findings: []models.Finding{{Rule: "evade.history", Risk: models.High}}},
		"self":           {Risk: models.High, Findings: []models.Finding{{Rule: "chaperone.self", Risk: models.High}}},
	} {
		if _, err := For("/p", f, r); !errors.Is(err, ErrNoShape) {
			t.Errorf("%s: For err = %v, want ErrNoShape", name, err)
		}
	}
}

func TestForAllowsOrdinaryHigh(t *testing.T) {
	f := facts(cmd("git", "push", "--force", "origin", "feature"))
	r := models.Rating{Risk: models.High, Findings: []models.Finding{
		{Rule: "publish.force-push", Risk: models.High},
		{Rule: "user.rate", Risk: models.Medium}, // a user rule that only sets medium does not refuse
	}}
	rem, err := For("/p", f, r)
	if err != nil || !slices.Equal(rem.Shape, []string{"git push --force"}) {
		t.Fatalf("For = %+v, %v", rem, err)
	}
}

func TestSave(t *testing.T) {
	path := filepath.Join(t.TempDir(), "chaperone", "config.toml")
	rem := config.Remembered{Project: "/p", Shape: []string{"cat"}, Rules: []string{"secrets.read"}}
	if err := Save(path, rem, "cat ~/.ssh/id_rsa\nsecond line"); err != nil {
		t.Fatal(err)
	}
	if err := Save(path, rem, "cat again"); err != nil {
		t.Fatal(err)
	}
	other := config.Remembered{Project: "/p", Shape: []string{"git push --force"}, Rules: []string{"git.force-push"}}
	if err := Save(path, other, "git push --force"); err != nil {
		t.Fatal(err)
	}
	c, err := config.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Remember) != 2 || !slices.Equal(c.Remember[0].Shape, rem.Shape) || !slices.Equal(c.Remember[1].Rules, other.Rules) {
		t.Errorf("remembered = %+v", c.Remember)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), "# Approved with A on the chaperone panel") || strings.Contains(string(data), "\nsecond line") {
		t.Errorf("file:\n%s", data)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
}

func TestSaveKeepsUserText(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	orig := "# my settings\nhold_timeout = \"30s\"\n\n[rules]\ndeny = [\"terraform apply\"]\n"
	os.WriteFile(path, []byte(orig), 0o644)
	if err := Save(path, config.Remembered{Project: "/p", Shape: []string{"x"}, Rules: []string{"r"}}, "x"); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), orig) {
		t.Errorf("user text changed:\n%s", data)
	}
	c, err := config.LoadFile(path)
	if err != nil || len(c.Rules.Deny) != 1 || len(c.Remember) != 1 || c.HoldTimeout.Seconds() != 30 {
		t.Errorf("reloaded = %+v, %v", c, err)
	}
}

func TestSaveRefusesBrokenConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	os.WriteFile(path, []byte("hold_timeout = \n"), 0o600)
	if err := Save(path, config.Remembered{Project: "/p", Shape: []string{"x"}}, "x"); err == nil {
		t.Fatal("Save into a broken config succeeded")
	}
	data, _ := os.ReadFile(path)
	if string(data) != "hold_timeout = \n" {
		t.Errorf("broken config was changed: %q", data)
	}
}
