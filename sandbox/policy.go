package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/chaperone-dev/chaperone/config"
)

// Policy is what every sandboxed backend enforces, taken from the user's
// [sandbox] settings (see config.SandboxConfig). The zero value is the
// strict default.
type Policy struct {
	config.SandboxConfig
	// AuditDir is the audit folder when the user's config moves it out of
	// chaperone's state folder: hidden in the sandbox like the others.
	AuditDir string
}

// own is chaperone's own folders in env, hidden in every sandbox.
func (p Policy) own(env []string) []string { return OwnDirs(env, p.AuditDir) }

// hidden returns chaperone's own folders in env that a sandbox would show
// and so must cover with an empty one: those not inside blank (folders
// already empty inside). They are made when missing (0700), so that they
// can be covered even if chaperone makes them while the command runs.
func (p Policy) hidden(env, blank []string) []string {
	var out []string
own:
	for _, d := range p.own(env) {
		for _, b := range blank {
			if within(d, b) {
				continue own
			}
		}
		if err := os.MkdirAll(d, 0o700); err != nil {
			if _, err := os.Stat(d); err != nil {
				continue // cannot exist: nothing to see
			}
		}
		out = append(out, d)
	}
	return out
}

// defaultImage is used when neither the config nor CHAPERONE_IMAGE names one.
const defaultImage = "docker.io/library/debian:stable-slim"

// image returns the image to use: config, else CHAPERONE_IMAGE, else built
// (an image made by `sandbox up --build`), else the default.
func (p Policy) image(env []string, built string) string {
	if p.Image != "" {
		return p.Image
	}
	if v := lookup(env, "CHAPERONE_IMAGE"); v != "" {
		return v
	}
	if built != "" {
		return built
	}
	return defaultImage
}

// network is the network mode: "proxy" (the default), "none", or an
// engine's network name ("host" for bubblewrap's any other).
func (p Policy) network() string {
	if p.Network == "" {
		return "proxy"
	}
	return p.Network
}

// engineNetwork is the --network of a docker or podman container: the
// proxy's sandboxes have none of their own.
func (p Policy) engineNetwork() string {
	if n := p.network(); n != "proxy" {
		return n
	}
	return "none"
}

func (p Policy) memory() string {
	if p.Memory == "" {
		return "2g"
	}
	return p.Memory
}

func (p Policy) cpus() string {
	if p.CPUs == "" {
		return "2"
	}
	return p.CPUs
}

func (p Policy) pids() int {
	if p.Pids <= 0 {
		return 1024
	}
	return p.Pids
}

// allowEnv are the variables that always pass into a sandbox: terminal,
// locale and colour settings, the agents' own markers, and what their
// wrappers need (HOME, TMPDIR, CODEX_HOME; Gemini's GIT_CONFIG_* overrides
// pass as a set, see gitConfigEnv).
var allowEnv = map[string]bool{
	"TERM": true, "COLORTERM": true, "TERM_PROGRAM": true, "LANG": true, "LANGUAGE": true,
	"TZ": true, "NO_COLOR": true, "FORCE_COLOR": true, "CLICOLOR": true, "CLICOLOR_FORCE": true,
	"CI": true, "PAGER": true, "GIT_PAGER": true, "EDITOR": true, "VISUAL": true, "GIT_EDITOR": true,
	"COLUMNS": true, "LINES": true, "HOME": true, "USER": true, "LOGNAME": true, "SHELL": true,
	"TMPDIR": true, "SHLVL": true,
	"CLAUDECODE": true, "CLAUDE_CODE_ENTRYPOINT": true, "CLAUDE_CODE_SESSION_ID": true,
	"CODEX_HOME": true, "CODEX_CI": true, "CODEX_SESSION_ID": true, "CODEX_THREAD_ID": true,
	"CODEX_TOOL_CALL_ID": true, "CODEX_SANDBOX_NETWORK_DISABLED": true,
	"GEMINI_CLI": true, "GEMINI_CLI_NO_RELAUNCH": true, "OPENCODE": true, "AGENT": true,
}

// allowPrefix are prefixes that pass, unless the name looks secret.
var allowPrefix = []string{"LC_"}

// secretWords and secretPrefixes describe names that must never pass by
// prefix or default: keys, tokens, passwords, cloud and registry
// credentials. (Plain string tests: chaperone starts once per command.)
var (
	secretWords    = []string{"KEY", "TOKEN", "SECRET", "PASSW", "PASSPHRASE", "CREDENTIAL", "AUTH", "COOKIE", "PRIVATE"}
	secretPrefixes = []string{"AWS", "AZURE", "ARM_", "GOOGLE", "GCLOUD", "GCP", "CLOUDSDK", "DOCKER", "NPM", "YARN", "PIP_",
		"GH_", "GITHUB", "GITLAB", "OPENAI", "ANTHROPIC", "GEMINI", "HF_", "HUGGING", "VAULT", "KUBE", "SSH", "GPG",
		"DIGITALOCEAN", "HEROKU", "NETLIFY", "VERCEL", "CLOUDFLARE", "SLACK", "STRIPE", "TWILIO", "SENTRY", "DATADOG"}
)

// secretName reports whether an upper-case name looks like a secret.
func secretName(upper string) bool {
	for _, w := range secretWords {
		if strings.Contains(upper, w) {
			return true
		}
	}
	for _, p := range secretPrefixes {
		if strings.HasPrefix(upper, p) {
			return true
		}
	}
	return false
}

// Env filters env (NAME=value pairs) down to what may enter the sandbox:
// the built-in allow-list, LC_*, the names in the config's Env, and git's
// configuration variables when they pass as a set (gitConfigEnv; the
// config's Env never lets one of those through by name). Names that look
// secret pass only when the config names them exactly (not by a prefix).
// withPath keeps PATH too (for bubblewrap, which shares the host's files).
// No value is changed (git's set is judged by the last of each name, as
// exec passes it on), so a backend may pass names alone (docker's -e NAME).
func (p Policy) Env(env []string, withPath bool) []string {
	var out []string
	for _, kv := range env {
		name, _, ok := strings.Cut(kv, "=")
		if !ok || name == "" || strings.HasPrefix(name, "GIT_CONFIG") {
			continue
		}
		if p.allows(name) || (withPath && name == "PATH") {
			out = append(out, kv)
		}
	}
	return append(out, gitConfigEnv(env)...)
}

func (p Policy) allows(name string) bool {
	if slices.Contains(p.SandboxConfig.Env, name) || allowEnv[name] {
		return true
	}
	if secretName(strings.ToUpper(name)) {
		return false
	}
	for _, pre := range allowPrefix {
		if strings.HasPrefix(name, pre) {
			return true
		}
	}
	for _, n := range p.SandboxConfig.Env {
		if pre, ok := strings.CutSuffix(n, "*"); ok && strings.HasPrefix(name, pre) {
			return true
		}
	}
	return false
}

// git reads configuration from its environment: GIT_CONFIG_PARAMETERS
// (what `git -c` passes on), GIT_CONFIG_COUNT with GIT_CONFIG_KEY_n and
// GIT_CONFIG_VALUE_n, and files named by GIT_CONFIG_GLOBAL,
// GIT_CONFIG_SYSTEM and GIT_CONFIG. An agent's environment can carry a
// token there (an http.extraHeader, a credential URL, a helper that
// prints a password), so only what Gemini CLI sets around every command
// passes: settings that switch git's helpers, hooks and editors off.

// gitConfigKeys are the settings that may pass as GIT_CONFIG_KEY_n (in
// lower case: git compares these names so), each with the test its value
// must pass. They are Gemini CLI's (credential.helper, core.fsmonitor,
// core.hooksPath, core.sshCommand, core.editor, sequence.editor and
// diff.external set empty, core.pager set to cat); the settings that
// carry a command take the empty value only, as that is where a secret
// hides ("!f() { echo password=…; }; f").
var gitConfigKeys = map[string]func(string) bool{
	"credential.helper": emptyValue,
	"core.sshcommand":   emptyValue,
	"diff.external":     emptyValue,
	"core.fsmonitor":    plainValue,
	"core.hookspath":    plainValue,
	"core.pager":        plainValue,
	"core.editor":       plainValue,
	"sequence.editor":   plainValue,
}

// maxGitConfig is the most GIT_CONFIG_KEY_n/VALUE_n pairs that pass.
const maxGitConfig = 64

// gitConfigEnv returns git's configuration variables in env that may
// enter a sandbox, as NAME=value pairs with env's values:
//
//   - GIT_CONFIG_COUNT with every GIT_CONFIG_KEY_n and GIT_CONFIG_VALUE_n
//     below it, when the set is whole (COUNT a number up to 64, every
//     pair below it present) and every pair is safe (its key one of
//     gitConfigKeys, its value passing that key's test); otherwise none
//     of them. The set is never cut down and renumbered: that would change
//     values, and a backend that passes names alone (docker's -e NAME)
//     would then give the sandbox env's own values for the new numbers.
//   - GIT_CONFIG_NOSYSTEM when it is a yes or no, and GIT_CONFIG_GLOBAL
//     and GIT_CONFIG_SYSTEM when they are /dev/null: they only take
//     configuration away.
//   - never GIT_CONFIG_PARAMETERS, GIT_CONFIG, nor any other GIT_CONFIG*
//     name (pairs at or above COUNT, which git does not read).
func gitConfigEnv(env []string) []string {
	vars := map[string]string{} // the last value of each GIT_CONFIG* name
	for _, kv := range env {
		if name, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(name, "GIT_CONFIG") {
			vars[name] = v
		}
	}
	var out []string
	for _, name := range []string{"GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM"} {
		if v, ok := vars[name]; ok && v == "/dev/null" {
			out = append(out, name+"="+v)
		}
	}
	if v, ok := vars["GIT_CONFIG_NOSYSTEM"]; ok && slices.Contains([]string{"", "0", "1", "true", "false", "yes", "no", "on", "off"}, strings.ToLower(v)) {
		out = append(out, "GIT_CONFIG_NOSYSTEM="+v)
	}
	count, ok := vars["GIT_CONFIG_COUNT"]
	if !ok {
		return out
	}
	n, err := strconv.Atoi(count)
	if err != nil || n < 0 || n > maxGitConfig || strconv.Itoa(n) != count {
		return out
	}
	pairs := []string{"GIT_CONFIG_COUNT=" + count}
	for i := range n {
		kname, vname := "GIT_CONFIG_KEY_"+strconv.Itoa(i), "GIT_CONFIG_VALUE_"+strconv.Itoa(i)
		key, kok := vars[kname]
		value, vok := vars[vname]
		if !kok || !vok {
			return out
		}
		if test := gitConfigKeys[strings.ToLower(key)]; test == nil || !test(value) {
			return out
		}
		pairs = append(pairs, kname+"="+key, vname+"="+value)
	}
	return append(out, pairs...)
}

// emptyValue reports whether v is "".
func emptyValue(v string) bool { return v == "" }

// plainValue reports whether v is a plain setting that cannot hold a
// secret: a program name with simple flags, a path, a word ("cat",
// "less -FRX", "/dev/null", "false"), at most 256 characters of letters,
// digits, spaces and ._/+=,%~- (no quotes, no shell, no URL with a user),
// with no word that names a secret and no long run of letters and digits
// such as a token is made of.
func plainValue(v string) bool {
	if len(v) > 256 {
		return false
	}
	upper := strings.ToUpper(v)
	for _, w := range append(secretWords, "BEARER") {
		if strings.Contains(upper, w) {
			return false
		}
	}
	run := 0
	for _, r := range v {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '+', r == '=':
			if run++; run >= 32 {
				return false
			}
			continue
		case strings.ContainsRune(" ./,%~-", r):
		default:
			return false
		}
		run = 0
	}
	return true
}

// lookup returns the value of name in env ("" if absent).
func lookup(env []string, name string) string {
	v, _ := lookupEnvOK(env, name)
	return v
}

// ContainerName is the name of the project's long-lived container:
// "chaperone-<folder>-<12 hex digits of the path's SHA-256>".
func ContainerName(project string) string {
	sum := sha256.Sum256([]byte(project))
	base := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return '-'
	}, filepath.Base(project))
	base = strings.Trim(base, "-_.")
	if len(base) > 24 {
		base = base[:24]
	}
	if base == "" {
		base = "root"
	}
	return "chaperone-" + base + "-" + hex.EncodeToString(sum[:6])
}

// stateDir is chaperone's per-user folder for sandbox state (markers,
// output exchange folders): $XDG_STATE_HOME/chaperone/sandbox.
func stateDir(env []string) string {
	if d := lookup(env, "XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "chaperone", "sandbox")
	}
	home := lookup(env, "HOME")
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	return filepath.Join(home, ".local", "state", "chaperone", "sandbox")
}

// clean keeps absolute paths, cleaned, without duplicates.
func clean(paths []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range paths {
		if !filepath.IsAbs(p) {
			continue
		}
		p = filepath.Clean(p)
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// within reports whether path is dir or inside it.
func within(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, strings.TrimSuffix(dir, "/")+"/")
}

// lookupEnvOK returns the value of name in env (the last one) and whether
// it is there at all.
func lookupEnvOK(env []string, name string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], name+"="); ok {
			return v, true
		}
	}
	return "", false
}
