package rater

import (
	"context"
	"strings"
	"testing"

	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/models"
)

// TestSettingExamples runs the examples kept beside each entry of the
// class tables: settings (settings.go), config files (configwrite.go),
// installers (sources.go) and chaperone itself (self.go). A catch must be
// held; a look-alike must not be.
func TestSettingExamples(t *testing.T) {
	t.Parallel()
	type group struct {
		name       string
		catch, not []string
	}
	var groups []group
	for _, tab := range [][]setting{envSettings, gitSettings, npmSettings, yarnSettings, pipSettings, cargoSettings} {
		for _, s := range tab {
			groups = append(groups, group{s.name, s.catch, s.not})
		}
	}
	for _, f := range configFiles {
		groups = append(groups, group{f.names[0], f.catch, f.not})
	}
	for _, in := range installers {
		groups = append(groups, group{in.progs[0], in.catch, in.not})
	}
	groups = append(groups, group{"chaperone itself", selfCases.catch, selfCases.not})
	for _, g := range groups {
		for _, cmd := range g.catch {
			if r := rate(t, cmd); r.Risk != models.High {
				t.Errorf("%s: %q rated %s %v, want high", g.name, cmd, r.Risk, rules(r))
			}
		}
		for _, cmd := range g.not {
			if r := rate(t, cmd); r.Risk == models.High {
				t.Errorf("%s: look-alike %q held: %v", g.name, cmd, rules(r))
			}
		}
	}
}

func TestGlobMatch(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		p, s string
		want bool
	}{
		{"pager.*", "pager.log", true},
		{"url.*.insteadof", "url.https://e.example/.insteadof", true},
		{"url.*.insteadof", "url.x.pushinsteadof", false},
		{"CARGO_TARGET_*_RUNNER", "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER", true},
		{"core.pager", "core.pagers", false},
		{"*:registry", "@acme:registry", true},
	} {
		if got := globMatch(c.p, c.s); got != c.want {
			t.Errorf("globMatch(%q, %q) = %v", c.p, c.s, got)
		}
	}
}

func TestRegistries(t *testing.T) {
	t.Parallel()
	k := &check{registries: []string{"npm.corp.example", "https://git.corp.example/pkgs", ".mirror.example"}}
	for u, want := range map[string]bool{
		"https://registry.npmjs.org/":             true,
		"https://files.pythonhosted.org/x.whl":    true,
		"https://pypi.org.evil.example/simple":    false,
		"https://npm.corp.example/":               true,
		"https://git.corp.example/pkgs/x.tgz":     true,
		"https://git.corp.example/other/x.tgz":    false,
		"https://eu.mirror.example/simple":        true,
		"https://user:tok@npm.corp.example/":      true,
		"https://registry.npmjs.org@evil.example": false,
	} {
		if got := k.isRegistry(u); got != want {
			t.Errorf("isRegistry(%q) = %v, want %v", u, got, want)
		}
	}
}

// TestConfigFileNames checks that configFileFor finds every name of
// configFiles (its quick test must let them all through).
func TestConfigFileNames(t *testing.T) {
	t.Parallel()
	for _, f := range configFiles {
		for _, n := range f.names {
			p := "/home/dev/proj/" + strings.ReplaceAll(n, "*", "-dev")
			if got := configFileFor(p); got == nil || got.names[0] != f.names[0] {
				t.Errorf("%s: configFileFor(%q) does not find it", n, p)
			}
		}
	}
}

// TestUserRegistries: a source the user's config names is a registry, so
// installing from it is an ordinary install; any other is still held.
func TestUserRegistries(t *testing.T) {
	t.Parallel()
	r := New(WithUserRules(config.RulesConfig{Registries: []string{"pypi.corp.example", "https://git.corp.example/npm"}}))
	for cmd, want := range map[string]models.Risk{
		"pip install -i https://pypi.corp.example/simple app":          models.Medium,
		"npm install --registry https://git.corp.example/npm/ app":     models.Medium,
		"pip install -i https://pypi.other.example/simple app":         models.High,
		"npm install --registry https://git.corp.example/other/ app":   models.High,
		"PIP_INDEX_URL=https://pypi.corp.example/simple pip install x": models.Medium,
	} {
		if got, _ := r.Rate(context.Background(), testReq(cmd)); got.Risk != want {
			t.Errorf("%q: rated %s %v, want %s", cmd, got.Risk, rules(got), want)
		}
	}
}
