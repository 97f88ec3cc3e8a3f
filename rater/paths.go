package rater

import (
	"path"
	"slices"
	"strings"

	"github.com/chaperone-dev/chaperone/models"
)

// place is where a path points, as far as risk is concerned.
type place int

const (
	placeNone    place = iota // not a path, or nothing that matters
	placeProject              // inside the project (or relative, not escaping)
	placeTemp                 // /tmp, /var/tmp, /dev/shm
	placeSink                 // /dev/null, /dev/stdout, /dev/tty …
	placeDevice               // a block device or memory
	placeHome                 // the user's home, outside the project
	placeSystem               // /etc, /usr, /boot, / …
	placeOther                // another absolute path
	placeUnknown              // built at run time
)

// where tells a command's view of paths: the project and home.
type where struct {
	project string // absolute, cleaned; "" when unknown
	home    string // absolute, cleaned
	// own are chaperone's own directories in this environment (config,
	// state and runtime), normalised; see isChaperone.
	own []string
	// cwd is the absolute folder the command being judged runs in when
	// it is not the project's top (the text started elsewhere, or a cd
	// earlier in it moved it), "" when it is: relative paths are then
	// the project's. lost is set when a cd went where only the run can
	// tell: relative paths are then unknown.
	cwd  string
	lost bool
}

// dirOf is the cwd and lost of a command that runs in d (a parser.Dir
// entry), for a text that starts in start.
func (w *where) dirOf(start, d string) (string, bool) {
	switch {
	case d == "":
		return "", true
	case d == "~" || strings.HasPrefix(d, "~/"):
		if w.home == "" || w.home == "." {
			return "", true
		}
		d = path.Join(w.home, d[1:])
	case !strings.HasPrefix(d, "/"):
		if !strings.HasPrefix(start, "/") {
			return "", true
		}
		d = path.Join(start, d)
	}
	if d = path.Clean(d); d == w.project {
		// At the project's top: relative paths read as the project's.
		return "", false
	}
	return d, false
}

// relPath reports whether p is a path relative to the working folder,
// as far as the word can tell: not absolute, not under ~ or a variable,
// not an option, a URL or a remote host:path.
func relPath(p string) bool {
	if p == "" || p[0] == '/' || p[0] == '~' || p[0] == '$' || p[0] == '-' || strings.Contains(p, "://") {
		return false
	}
	if i := strings.IndexByte(p, ':'); i >= 0 && !strings.Contains(p[:i], "/") {
		return false
	}
	return true
}

// resolve rewrites a relative path against the folder the command runs
// in (or one climbing out of the project's top against the top):
// relative to the project when it lands inside it (as the same path typed
// there reads), absolute otherwise.
func (w *where) resolve(p string) string {
	base := w.cwd
	if base == "" && (p == ".." || strings.HasPrefix(p, "../")) {
		base = w.project // climbing out of the project's top
	}
	if base == "" || !relPath(p) {
		return p
	}
	a := path.Join(base, p)
	if w.inProject(a) {
		if a == w.project {
			return "."
		}
		return a[len(w.project)+1:]
	}
	return a
}

// norm rewrites a path the way the rules read it: "~" for the home
// directory (also /home/<user> and /root), cleaned.
func (w *where) norm(p string) string {
	if p == "" {
		return p
	}
	p = w.resolve(p)
	if w.home != "" && w.home != "/" && (p == w.home || strings.HasPrefix(p, w.home+"/")) && !w.inProject(p) {
		p = "~" + p[len(w.home):]
	}
	switch {
	case strings.HasPrefix(p, "/home/"):
		rest := p[len("/home/"):]
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			p = "~" + rest[i:]
		} else {
			p = "~"
		}
	case p == "/root" || strings.HasPrefix(p, "/root/"):
		p = "~" + p[len("/root"):]
	case strings.HasPrefix(p, "~") && len(p) > 1 && p[1] != '/':
		// ~user/...
		if i := strings.IndexByte(p, '/'); i >= 0 {
			p = "~" + p[i:]
		} else {
			p = "~"
		}
	}
	if strings.HasPrefix(p, "~/") {
		return "~/" + strings.TrimPrefix(path.Clean("/"+p[2:]), "/")
	}
	if strings.HasPrefix(p, "/") {
		return path.Clean(p)
	}
	return p
}

func (w *where) inProject(p string) bool {
	if w.project == "" || w.project == "/" {
		return false
	}
	return p == w.project || strings.HasPrefix(p, w.project+"/")
}

var systemDirs = []string{"/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot",
	"/var", "/opt", "/srv", "/sys", "/proc", "/run", "/snap", "/mnt", "/media", "/root", "/nix", "/System", "/Library", "/Applications", "/private"}

// placeOf classifies the path p (a word's literal value).
func (w *where) placeOf(p string, dynamic bool) place {
	if p == "" {
		return placeNone
	}
	p = strings.TrimPrefix(p, "file://")
	if w.lost && relPath(p) {
		return placeUnknown
	}
	p = w.resolve(p)
	if w.project != "" && strings.HasPrefix(p, "/") && w.inProject(path.Clean(p)) {
		return placeProject
	}
	n := w.norm(p)
	switch {
	case n == "~" || strings.HasPrefix(n, "~/"):
		return placeHome
	case strings.HasPrefix(n, "$"):
		if dynamic {
			return placeUnknown
		}
		return placeProject
	case strings.HasPrefix(n, "/"):
		return w.absPlace(n)
	}
	if strings.HasPrefix(n, "../") || n == ".." {
		c := path.Clean(n)
		if w.project != "" {
			return w.absPlace(path.Join(w.project, c))
		}
		return placeOther
	}
	if dynamic && strings.Contains(n, "$") {
		return placeUnknown
	}
	return placeProject
}

func (w *where) absPlace(n string) place {
	switch {
	case n == "/":
		return placeSystem
	case n == "/dev/null" || n == "/dev/zero" || n == "/dev/stdout" || n == "/dev/stderr" || n == "/dev/stdin" ||
		n == "/dev/tty" || n == "/dev/random" || n == "/dev/urandom" || strings.HasPrefix(n, "/dev/fd/") || n == "/dev/full" ||
		strings.HasPrefix(n, "/dev/pts/") || strings.HasPrefix(n, "/proc/self/fd/"):
		return placeSink
	case n == "/tmp" || strings.HasPrefix(n, "/tmp/") || n == "/var/tmp" || strings.HasPrefix(n, "/var/tmp/") ||
		n == "/dev/shm" || strings.HasPrefix(n, "/dev/shm/") || strings.HasPrefix(n, "/private/tmp/"):
		return placeTemp
	case strings.HasPrefix(n, "/dev/"):
		return placeDevice
	case w.project != "" && w.inProject(n):
		return placeProject
	}
	for _, d := range systemDirs {
		if n == d || strings.HasPrefix(n, d+"/") {
			return placeSystem
		}
	}
	return placeOther
}

// secretPaths are files and folders that hold credentials, written as
// norm returns them: a home's (models.HomeSecrets) and the machine's own
// (models.SystemSecrets). A trailing "/" matches everything below.
var secretPaths = append(slices.Clone(models.HomeSecrets), models.SystemSecrets...)

// secretNames are file names that are credentials wherever they are.
var secretNames = []string{"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk",
	".git-credentials", ".netrc", ".pgpass", "credentials.db", "access_tokens.db", "logins.json", "key4.db",
	"key3.db", "cookies.sqlite", "Login Data", "Cookies", "application_default_credentials.json",
	"legacy_credentials", "service-account.json", ".vault-token", ".bash_history", ".zsh_history"}

// holdsSecrets reports whether the normalised path n is a credential
// store or a folder with one below it (/, /home, ~, /etc, /var/lib,
// ~/.config…): what reads, copies or links it whole reaches them.
func holdsSecrets(n string) bool {
	switch {
	case n == "/" || n == "~" || n == "~/" || n == "/home":
		return true
	case isSecret(n):
		return true
	case !strings.HasPrefix(n, "/") && !strings.HasPrefix(n, "~/"):
		return false
	}
	for _, s := range secretPaths {
		if strings.HasPrefix(s, n+"/") {
			return true
		}
	}
	return false
}

// isSecret reports whether the normalised path n is a credential store.
func isSecret(n string) bool {
	if strings.HasSuffix(n, ".pub") || strings.HasSuffix(n, "/known_hosts") || n == "~/.ssh/config" {
		return false
	}
	if inList(n, secretPaths) {
		return true
	}
	if strings.HasPrefix(n, "/proc/") && (strings.HasSuffix(n, "/environ") || strings.HasSuffix(n, "/mem")) {
		return true
	}
	if strings.ContainsAny(n, "*?[") && (strings.HasPrefix(n, "~") || strings.HasPrefix(n, "/")) && globSecret(n) {
		return true
	}
	base := path.Base(n)
	if strings.HasPrefix(n, "~/") && (strings.HasSuffix(base, "_history") || base == ".history") {
		return true
	}
	for _, s := range secretNames {
		if base == s || strings.HasPrefix(base, s) && (s == "id_rsa" || s == "id_ed25519" || s == "id_ecdsa" || s == "id_dsa") {
			return true
		}
	}
	return false
}

// persistFiles are files and folders whose change makes code run later:
// shell start-up files, cron, services, ssh keys, the dynamic loader.
var persistFiles = []string{
	"~/.bashrc", "~/.bash_profile", "~/.bash_login", "~/.bash_logout", "~/.profile", "~/.zshrc", "~/.zshenv",
	"~/.zprofile", "~/.zlogin", "~/.cshrc", "~/.tcshrc", "~/.kshrc", "~/.config/fish/", "~/.inputrc",
	"~/.ssh/authorized_keys", "~/.ssh/authorized_keys2", "~/.ssh/rc", "~/.ssh/config", "~/.config/autostart/",
	"~/.config/systemd/", "~/.local/share/systemd/", "~/.xinitrc", "~/.xprofile", "~/.xsession", "~/.gitconfig",
	"~/.config/git/config", "~/.vimrc", "~/.config/nvim/", "~/.emacs", "~/.npmrc", "~/.pypirc", "~/.curlrc",
	"~/.wgetrc", "~/.pam_environment", "~/.config/environment.d/", "~/Library/LaunchAgents/", "~/.rtorrent.rc",
	"~/.config/procps/", "~/.local/bin/", "~/bin/", "~/.screenrc", "~/.tmux.conf", "~/.pythonrc", "~/.config/pip/",
	"/etc/profile", "/etc/profile.d/", "/etc/bash.bashrc", "/etc/bashrc", "/etc/zsh/", "/etc/environment",
	"/etc/cron", "/etc/crontab", "/var/spool/cron/", "/etc/anacrontab", "/etc/systemd/", "/lib/systemd/", "/usr/lib/systemd/",
	"/etc/init.d/", "/etc/rc.local", "/etc/ld.so.preload", "/etc/ld.so.conf", "/etc/sudoers", "/etc/passwd",
	"/etc/shadow", "/etc/group", "/etc/hosts", "/etc/resolv.conf", "/etc/ssh/", "/etc/pam.d/", "/etc/security/",
	"/etc/update-motd.d/", "/etc/apt/apt.conf.d/", "/etc/xdg/autostart/", "/Library/LaunchDaemons/", "/Library/LaunchAgents/",
	"/etc/udev/rules.d/", "/etc/modules-load.d/", "/etc/modprobe.d/", "/etc/apt/sources.list",
	// Coding agents' user settings: hooks, MCP servers and environment
	// blocks that run on the host.
	"~/.claude/settings", "~/.claude.json", "~/.claude/hooks/", "~/.claude/agents/", "~/.claude/commands/",
	"~/.codex/config.toml", "~/.gemini/settings.json", "~/.qwen/settings.json", "~/.config/opencode/",
	"~/.config/kilo/", "~/.continue/", "~/.copilot/", "~/.config/direnv/", "~/.cursor/", "~/.config/Code/User/",
}

// isPersist reports whether writing n makes code run later.
func isPersist(n string) bool {
	if inList(n, persistFiles) {
		return true
	}
	return strings.Contains(n, ".git/hooks/") || strings.HasSuffix(n, ".git/hooks") || strings.HasSuffix(n, ".git/config") ||
		strings.HasSuffix(n, "/authorized_keys")
}

// inList reports whether the normalised path n is an entry of list (a
// folder written with a trailing "/" counts too) or starts with one.
func inList(n string, list []string) bool {
	for _, s := range list {
		if n == strings.TrimSuffix(s, "/") || strings.HasPrefix(n, s) {
			return true
		}
	}
	return false
}

// isChaperone reports whether n is chaperone's own configuration or its
// approval socket, which an agent must never touch.
func (w *where) isChaperone(n string) bool {
	switch {
	case strings.HasPrefix(n, "~/.config/chaperone"), strings.Contains(n, "/chaperone/config.toml"),
		strings.HasPrefix(n, "/run/user/") && strings.Contains(n, "/chaperone"),
		strings.HasPrefix(n, "/tmp/chaperone-"), strings.HasPrefix(n, "~/.local/state/chaperone"),
		strings.Contains(n, "/chaperone-") && w.absPlace(n) == placeTemp, strings.HasSuffix(n, "/chaperone/broker.sock"),
		path.Base(n) == ".chaperone.toml":
		return true
	}
	for _, d := range w.own {
		if n == d || strings.HasPrefix(n, d+"/") {
			return true
		}
	}
	return false
}

// sourceExts are files whose overwrite loses work.
var sourceExts = map[string]bool{
	".go": true, ".py": true, ".js": true, ".ts": true, ".tsx": true, ".jsx": true, ".rs": true, ".c": true,
	".h": true, ".cc": true, ".cpp": true, ".hpp": true, ".java": true, ".kt": true, ".rb": true, ".php": true,
	".sh": true, ".swift": true, ".cs": true, ".scala": true, ".lua": true, ".pl": true, ".vue": true, ".svelte": true,
}

func isSource(n string) bool {
	b := path.Base(n)
	switch b {
	case "Makefile", "Dockerfile", "go.mod", "Cargo.toml", "package.json", "pyproject.toml", "setup.py", "CMakeLists.txt":
		return true
	}
	return sourceExts[path.Ext(b)]
}

// globSecret reports whether a glob pattern such as ~/.ss?/id_* or
// ~/.a*/credentials can match a credential store.
func globSecret(pattern string) bool {
	for _, s := range secretPaths {
		t := strings.TrimSuffix(s, "/")
		if ok, _ := path.Match(pattern, t); ok {
			return true
		}
		if strings.HasSuffix(s, "/") {
			if ok, _ := path.Match(path.Dir(pattern), t); ok {
				return true
			}
		}
	}
	base := path.Base(pattern)
	for _, s := range secretNames {
		if ok, _ := path.Match(base, s); ok && base != "*" {
			return true
		}
	}
	return false
}
