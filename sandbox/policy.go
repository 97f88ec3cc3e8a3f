package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/internal/lazyre"
)

// Policy is what every sandboxed backend enforces, taken from the user's
// [sandbox] settings (see config.SandboxConfig). The zero value is the
// strict default.
type Policy struct {
	config.SandboxConfig
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

// ProjectRoot returns the project of dir: the nearest folder upwards that
// holds .git (the git top level), else dir itself. It reads only the file
// system, so it is cheap enough for every command.
func ProjectRoot(dir string) string {
	dir = filepath.Clean(dir)
	for d := dir; ; {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return dir
		}
		d = parent
	}
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

// Agent wrapper forms (see the agents README): Claude Code ends with
// `pwd -P >| FILE`, Gemini CLI sets `_bgpids_file=FILE`; Claude Code
// sources its snapshot first.
var (
	claudeCwd   = lazyre.New(`pwd -P >\| ('[^']*'|"[^"]*"|[^\s;&|]+)\s*$`)
	geminiBgpid = lazyre.New(`(?m)_bgpids_file=('[^']*'|"[^"]*"|[^\s;&|]+)`)
	claudeSnap  = lazyre.New(`^source ('[^']*'|"[^"]*"|[^\s;&|]+)`)
)

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// agentFiles returns the job's outputs and inputs: those listed in the
// job and those its agent wrapper names.
func agentFiles(j *Job) (outputs, inputs []string) {
	outputs = append(outputs, j.Outputs...)
	inputs = append(inputs, j.Inputs...)
	if strings.Contains(j.Script, "pwd -P >|") {
		if m := claudeCwd.FindStringSubmatch(j.Script); m != nil {
			outputs = append(outputs, unquote(m[1]))
		}
	}
	if strings.Contains(j.Script, "_bgpids_file=") {
		if m := geminiBgpid.FindStringSubmatch(j.Script); m != nil {
			outputs = append(outputs, unquote(m[1]))
		}
	}
	if strings.HasPrefix(j.Script, "source ") {
		if m := claudeSnap.FindStringSubmatch(j.Script); m != nil {
			inputs = append(inputs, filepath.Dir(unquote(m[1])))
		}
	}
	return clean(outputs), clean(inputs)
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

// snapshotDirs are the agents' snapshot folders on the host:
// ~/.claude/shell-snapshots and $CODEX_HOME/shell_snapshots, for the agents
// whose folder exists.
func snapshotDirs(env []string) []string {
	home := lookup(env, "HOME")
	codex := lookup(env, "CODEX_HOME")
	if codex == "" && home != "" {
		codex = filepath.Join(home, ".codex")
	}
	var out []string
	for _, d := range []string{filepath.Join(home, ".claude", "shell-snapshots"), filepath.Join(codex, "shell_snapshots")} {
		if home == "" && !filepath.IsAbs(d) {
			continue
		}
		// Made when the agent's own folder exists, so that a container made
		// before the agent's first snapshot already shows it.
		if st, err := os.Stat(filepath.Dir(d)); err == nil && st.IsDir() {
			os.Mkdir(d, 0o700)
		}
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			out = append(out, d)
		}
	}
	return out
}
