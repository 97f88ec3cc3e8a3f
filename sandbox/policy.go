package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
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

func (p Policy) network() string {
	if p.Network == "" {
		return "none"
	}
	return p.Network
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
// wrappers need (HOME, TMPDIR, CODEX_HOME, Gemini's GIT_CONFIG_* overrides).
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
// (GIT_CONFIG_* always passes: Gemini CLI uses it to switch off hooks and
// credential helpers.)
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
// the built-in allow-list, LC_* and GIT_CONFIG_*, and the names in the
// config's Env. Names that look secret pass only when the config names them
// exactly (not by a prefix). withPath keeps PATH too (for bubblewrap, which
// shares the host's files).
func (p Policy) Env(env []string, withPath bool) []string {
	var out []string
	for _, kv := range env {
		name, _, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			continue
		}
		if p.allows(name) || (withPath && name == "PATH") {
			out = append(out, kv)
		}
	}
	return out
}

func (p Policy) allows(name string) bool {
	if slices.Contains(p.SandboxConfig.Env, name) || allowEnv[name] || strings.HasPrefix(name, "GIT_CONFIG_") {
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

// lookup returns the value of name in env ("" if absent).
func lookup(env []string, name string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], name+"="); ok {
			return v
		}
	}
	return ""
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
