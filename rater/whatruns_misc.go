package rater

import (
	"bytes"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// --- go generate ---

// maxGenFiles bounds the Go files go generate's packages are read from;
// maxGenFile is the largest read (generated code is large; only its
// //go:generate lines are looked at).
const (
	maxGenFiles = 4000
	maxGenFile  = 4 << 20
)

// runGo rates the //go:generate lines `go generate [packages]` runs.
func runGo(x *runs, c *cmd, dir string) {
	sub, _ := c.sub("-run", "-skip", "-C", "-tags", "-mod", "-modfile", "-o", "-p")
	if sub != "generate" {
		return
	}
	if c.has("-n") {
		return
	}
	if v, ok := c.value("-C"); ok {
		dir = x.abs(dir, v)
	}
	pkgs := c.positional("-run", "-skip", "-C", "-tags", "-mod", "-modfile")[1:]
	if len(pkgs) == 0 {
		pkgs = []string{"."}
	}
	files := 0
	for _, p := range pkgs {
		recursive := strings.HasSuffix(p, "/...") || p == "..."
		p = strings.TrimSuffix(strings.TrimSuffix(p, "..."), "/")
		if p == "" {
			p = "."
		}
		if !(p == "." || strings.HasPrefix(p, "./") || strings.HasPrefix(p, "../") || strings.HasPrefix(p, "/") || strings.HasSuffix(p, ".go")) {
			// An import path: resolving it needs the module graph.
			continue
		}
		root := x.abs(dir, p)
		if !x.inside(root) || x.resolvedInside(root) != nil {
			continue
		}
		if strings.HasSuffix(root, ".go") {
			x.goGenerate(root, &files)
			continue
		}
		filepath.WalkDir(root, func(q string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() {
				n := d.Name()
				if q != root && (!recursive || strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") || n == "testdata" || n == "vendor" || n == "node_modules") {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(q, ".go") || !d.Type().IsRegular() {
				return nil
			}
			if files >= maxGenFiles {
				x.opaque(root, "more Go files than chaperone reads for go generate")
				return filepath.SkipAll
			}
			x.goGenerate(q, &files)
			return nil
		})
	}
}

// goGenerate rates the //go:generate lines of Go file p.
func (x *runs) goGenerate(p string, files *int) {
	*files++
	data, ok := x.readUnitMax(p, maxGenFile)
	if !ok || !bytes.Contains(data, []byte("//go:generate")) {
		return
	}
	for _, l := range parsedAs("go:generate", data, goGenerateLines) {
		text := strings.NewReplacer("$GOFILE", filepath.Base(p), "${GOFILE}", filepath.Base(p), "$DOLLAR", "$", "$GOPACKAGE", "pkg").Replace(l.text)
		x.shell(filepath.Dir(p), text, x.rel(p), l.line)
	}
}

// goGenerateLines lists a Go file's //go:generate commands.
func goGenerateLines(data []byte) []makeLine {
	var out []makeLine
	for i, l := range strings.Split(string(data), "\n") {
		if t, ok := strings.CutPrefix(strings.TrimSuffix(l, "\r"), "//go:generate "); ok {
			out = append(out, makeLine{text: strings.TrimSpace(t), line: i + 1})
		}
	}
	return out
}

// --- docker compose ---

// runDocker: docker compose … and podman compose … are compose.
func runDocker(x *runs, c *cmd, dir string) {
	i := runIndex(c.args, "compose")
	if i < 0 {
		return
	}
	for _, a := range c.args[:i] {
		if !strings.HasPrefix(a, "-") {
			return
		}
	}
	sc := &cmd{Command: c.Command, idx: c.idx, name: "compose", args: c.args[i+1:]}
	runCompose(x, sc, dir)
}

// composeRuns are compose subcommands that start containers.
var composeRuns = set("up", "run", "create", "start", "restart", "watch")

// runCompose rates the compose files of `docker compose up|run|…`: what
// the containers get of the host.
func runCompose(x *runs, c *cmd, dir string) {
	var files []string
	sub := ""
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		switch {
		case a == "-f" || a == "--file":
			if i+1 < len(c.args) {
				files = append(files, c.args[i+1])
				i++
			}
		case strings.HasPrefix(a, "--file="):
			files = append(files, a[len("--file="):])
		case a == "--project-directory":
			if i+1 < len(c.args) {
				dir = x.abs(dir, c.args[i+1])
				i++
			}
		case a == "-p" || a == "--project-name" || a == "--env-file" || a == "--profile" || a == "--ansi" || a == "--progress":
			i++
		case strings.HasPrefix(a, "-"):
		default:
			sub = a
			i = len(c.args)
		}
	}
	if !composeRuns[sub] || !x.inside(dir) {
		return
	}
	if len(files) == 0 {
		for _, n := range []string{"compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"} {
			if runExists(filepath.Join(dir, n)) {
				files = append(files, n)
				break
			}
		}
		for _, n := range []string{"compose.override.yaml", "compose.override.yml", "docker-compose.override.yaml", "docker-compose.override.yml"} {
			if runExists(filepath.Join(dir, n)) {
				files = append(files, n)
				break
			}
		}
	}
	for _, f := range files {
		p := x.abs(dir, f)
		data, ok := x.readUnit(p)
		if !ok {
			continue
		}
		for _, s := range parsedAs("compose", data, composeSettings) {
			x.composeSetting(dir, p, s)
		}
	}
}

// composeSetting is one setting of a service that gives the container
// something of the host, as the docker run option it stands for.
type composeSetting struct {
	key, value string
	line       int
}

// composeSettings scans compose YAML for the settings of services that
// matter: privileged, network_mode, pid, ipc, userns_mode, uts, cap_add,
// security_opt, devices, and bind mounts. It reads YAML by indentation,
// which is what compose files use; flow style ([a, b]) lists are split.
func composeSettings(data []byte) []composeSetting {
	type level struct {
		indent int
		key    string
	}
	var stack []level
	var out []composeSetting
	for n, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimRight(raw, "\r")
		if i := strings.Index(line, " #"); i >= 0 {
			line = line[:i]
		}
		t := strings.TrimSpace(line)
		if t == "" || t[0] == '#' {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " \t"))
		item := false
		if strings.HasPrefix(t, "- ") || t == "-" {
			item = true
			t = strings.TrimSpace(strings.TrimPrefix(t, "-"))
			indent += 2
		}
		for len(stack) > 0 && stack[len(stack)-1].indent >= indent && !(item && stack[len(stack)-1].indent < indent) {
			stack = stack[:len(stack)-1]
		}
		parent := ""
		if len(stack) > 0 {
			parent = stack[len(stack)-1].key
		}
		k, v, isKey := strings.Cut(t, ":")
		if isKey && (strings.HasPrefix(v, " ") || v == "") && !strings.ContainsAny(k, " \"'") {
			k = strings.Trim(k, `"'`)
			v = yamlUnquote(v)
			if item {
				// "- source: /" opens a mapping in a list.
				out = appendCompose(out, parent, k, v, n+1)
				stack = append(stack, level{indent: indent, key: parent + ">" + k})
				continue
			}
			out = appendCompose(out, parent, k, v, n+1)
			stack = append(stack, level{indent: indent, key: k})
			continue
		}
		if item {
			out = appendCompose(out, parent, "-", yamlUnquote(t), n+1)
		}
	}
	return out
}

func yamlUnquote(v string) string {
	v = strings.TrimSpace(v)
	if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
		v = v[1 : len(v)-1]
	}
	return v
}

// appendCompose records key: value under parent when it matters.
func appendCompose(out []composeSetting, parent, k, v string, line int) []composeSetting {
	list := func(key string) []composeSetting {
		if strings.HasPrefix(v, "[") {
			for _, e := range strings.Split(strings.Trim(v, "[]"), ",") {
				out = append(out, composeSetting{key: key, value: yamlUnquote(e), line: line})
			}
			return out
		}
		if v != "" {
			out = append(out, composeSetting{key: key, value: v, line: line})
		}
		return out
	}
	base := parent
	if i := strings.IndexByte(base, '>'); i >= 0 {
		base = base[:i]
	}
	switch {
	case k == "privileged" || k == "network_mode" || k == "pid" || k == "ipc" || k == "userns_mode" || k == "uts" || k == "cgroup":
		return list(k)
	case k == "cap_add" || k == "security_opt" || k == "devices" || k == "volumes":
		return list(k)
	case k == "-" && (base == "cap_add" || base == "security_opt" || base == "devices" || base == "volumes"):
		return list(base)
	case k == "source" && base == "volumes":
		return list("volumes")
	}
	return out
}

// composeSetting rates one setting as the docker run option it stands
// for; host networking (which docker run alone leaves to the network
// rules) is high here: a project file should not give a container the
// host's network namespace.
func (x *runs) composeSetting(dir, p string, s composeSetting) {
	v := strings.NewReplacer("${HOME}", x.where.home, "$HOME", x.where.home, "${PWD}", dir, "$PWD", dir).Replace(s.value)
	if i := strings.Index(v, ":-"); i >= 0 && strings.HasPrefix(v, "${") {
		// ${VAR:-default}: the default, the usual value.
		if j := strings.IndexByte(v[i:], '}'); j >= 0 {
			v = v[i+2:i+j] + v[i+j+1:]
		}
	}
	var opt string
	switch s.key {
	case "privileged":
		if v == "true" || v == "yes" {
			opt = "--privileged"
		}
	case "network_mode", "pid", "ipc", "userns_mode", "uts", "cgroup":
		if v == "host" {
			x.add(ruleRunHost, p, s.line, s.key+": "+s.value)
			return
		}
	case "cap_add":
		opt = "--cap-add " + runQuote(v)
	case "security_opt":
		opt = "--security-opt " + runQuote(v)
	case "devices":
		opt = "--device " + runQuote(v)
	case "volumes":
		src, dst, ok := strings.Cut(v, ":")
		if !ok {
			dst = "/mnt"
		}
		if strings.HasPrefix(src, "~") {
			src = x.where.home + src[1:]
		}
		if strings.HasPrefix(src, "/") || strings.HasPrefix(src, "$") {
			opt = "-v " + runQuote(src+":"+dst)
		}
	}
	if opt == "" {
		return
	}
	x.shell(dir, "docker run "+opt+" image", x.rel(p), s.line)
}

// --- direnv ---

// runHostTools are programs a person runs from their own shell; a project
// folder that provides them, put first on PATH, takes them over.
var runHostTools = set("git", "ssh", "scp", "sudo", "su", "doas", "ls", "cat", "cp", "mv", "rm", "curl", "wget", "npm", "npx", "node",
	"python", "python3", "pip", "pip3", "make", "go", "bash", "sh", "zsh", "docker", "kubectl", "gpg", "env", "which", "grep", "find",
	"chmod", "tar", "ps", "id", "whoami", "rsync", "code", "vim", "vi", "nano", "less", "cd", "gh", "aws", "gcloud", "claude",
	"chaperone", "direnv", "cargo", "yarn", "pnpm", "ssh-add", "ssh-agent", "pass", "op")

// runDirenv rates the .envrc that `direnv allow` lets the host's shell
// run (and `direnv exec` runs): as shell, and for PATH entries that put
// project copies of host tools first.
func runDirenv(x *runs, c *cmd, dir string) {
	sub, rest := c.sub()
	switch sub {
	case "allow", "permit", "grant", "reload", "exec":
	default:
		return
	}
	if len(rest) > 0 && sub != "reload" {
		dir = x.abs(dir, rest[0])
		if filepath.Base(dir) == ".envrc" {
			dir = filepath.Dir(dir)
		}
	}
	if !x.inside(dir) {
		return
	}
	p := filepath.Join(dir, ".envrc")
	if x.chain[p] {
		return
	}
	data, ok := x.readUnit(p)
	if !ok {
		return
	}
	x.chain[p] = true
	defer delete(x.chain, p)
	x.shell(dir, string(data), x.rel(p), 1)
	for n, l := range strings.Split(string(data), "\n") {
		for _, d := range envrcPathDirs(l) {
			d = strings.NewReplacer("${PWD}", dir, "$PWD", dir, "$(pwd)", dir, "${HOME}", x.where.home, "$HOME", x.where.home).Replace(d)
			if strings.Contains(d, "$") {
				continue
			}
			abs := x.abs(dir, d)
			if !x.inside(abs) {
				continue
			}
			for _, name := range x.globNames(abs, "*") {
				if runHostTools[name] {
					x.add(ruleRunShadow, p, n+1, strings.TrimSpace(l)+" ("+filepath.Join(d, name)+")")
					break
				}
			}
		}
	}
}

// envrcPathDirs returns the folders an .envrc line puts first on PATH:
// PATH_add d, path_add PATH d, export PATH=d:$PATH.
func envrcPathDirs(l string) []string {
	f := strings.Fields(strings.TrimSpace(l))
	if len(f) == 0 {
		return nil
	}
	switch f[0] {
	case "PATH_add":
		return yamlUnquoteAll(f[1:])
	case "path_add", "PATH_rm":
		if f[0] == "path_add" && len(f) > 2 && f[1] == "PATH" {
			return yamlUnquoteAll(f[2:])
		}
		return nil
	case "export":
		f = f[1:]
	}
	if len(f) > 0 && strings.HasPrefix(f[0], "PATH=") {
		first, _, _ := strings.Cut(yamlUnquote(strings.TrimPrefix(f[0], "PATH=")), ":")
		if first != "" && !strings.HasPrefix(first, "$PATH") && !strings.HasPrefix(first, "${PATH}") {
			return []string{first}
		}
	}
	return nil
}

func yamlUnquoteAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = yamlUnquote(s)
	}
	return out
}

// --- git ---

// gitConfigEntry is one setting of a git config file.
type gitConfigEntry struct {
	key, value string // key as section[.subsection].name, section and name lower-case
	line       int
}

// parseGitConfig reads git's config format.
func parseGitConfig(data []byte) []gitConfigEntry {
	var out []gitConfigEntry
	section := ""
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		n := i + 1
		t := strings.TrimSpace(strings.TrimSuffix(lines[i], "\r"))
		for strings.HasSuffix(t, "\\") && i+1 < len(lines) {
			i++
			t = t[:len(t)-1] + strings.TrimSpace(lines[i])
		}
		if t == "" || t[0] == '#' || t[0] == ';' {
			continue
		}
		if t[0] == '[' {
			end := strings.LastIndexByte(t, ']')
			if end < 0 {
				continue
			}
			h := t[1:end]
			if name, sub, ok := strings.Cut(h, " "); ok {
				section = strings.ToLower(name) + "." + strings.Trim(strings.TrimSpace(sub), `"`)
			} else if name, sub, ok := strings.Cut(h, "."); ok {
				section = strings.ToLower(name) + "." + sub
			} else {
				section = strings.ToLower(h)
			}
			if rest := strings.TrimSpace(t[end+1:]); rest != "" && rest[0] != '#' && rest[0] != ';' {
				t = rest
			} else {
				continue
			}
		}
		k, v, ok := strings.Cut(t, "=")
		if !ok {
			k, v = t, "true"
		}
		out = append(out, gitConfigEntry{key: section + "." + strings.ToLower(strings.TrimSpace(k)), value: gitValue(v), line: n})
	}
	return out
}

// gitValue unquotes a git config value and drops a trailing comment.
func gitValue(v string) string {
	var b strings.Builder
	quoted := false
	v = strings.TrimSpace(v)
	for i := 0; i < len(v); i++ {
		ch := v[i]
		switch {
		case ch == '"':
			quoted = !quoted
		case ch == '\\' && i+1 < len(v):
			i++
			switch v[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			default:
				b.WriteByte(v[i])
			}
		case (ch == '#' || ch == ';') && !quoted:
			return strings.TrimSpace(b.String())
		default:
			b.WriteByte(ch)
		}
	}
	return strings.TrimSpace(b.String())
}

// gitProgramKey reports whether a config key's value is a command git
// runs (with sh -c, or as a program).
func gitProgramKey(k string) bool {
	sec, _, _ := strings.Cut(k, ".")
	name := k[strings.LastIndexByte(k, '.')+1:]
	switch sec {
	case "core":
		return name == "pager" || name == "editor" || name == "sshcommand" || name == "askpass" || name == "fsmonitor" || name == "gitproxy"
	case "pager", "gpg":
		return sec == "pager" || name == "program"
	case "sequence":
		return name == "editor"
	case "diff":
		return name == "external" || name == "textconv" || name == "command"
	case "merge":
		return name == "driver"
	case "filter":
		return name == "clean" || name == "smudge" || name == "process"
	case "credential":
		return name == "helper"
	case "uploadpack":
		return name == "packobjectshook"
	case "remote":
		return name == "uploadpack" || name == "receivepack"
	case "browser", "difftool", "mergetool":
		return name == "cmd"
	case "web":
		return name == "browser"
	}
	return false
}

// gitRemoteSubs are git subcommands that talk to remotes.
var gitRemoteSubs = set("push", "pull", "fetch", "clone", "ls-remote", "remote", "submodule")

// gitHooks names the hooks each subcommand runs.
var gitHooks = map[string][]string{
	"commit":      {"pre-commit", "prepare-commit-msg", "commit-msg", "post-commit", "reference-transaction"},
	"push":        {"pre-push", "reference-transaction"},
	"merge":       {"pre-merge-commit", "post-merge", "prepare-commit-msg", "commit-msg"},
	"pull":        {"pre-merge-commit", "post-merge", "post-rewrite", "reference-transaction"},
	"checkout":    {"post-checkout", "reference-transaction"},
	"switch":      {"post-checkout", "reference-transaction"},
	"clone":       {"post-checkout"},
	"rebase":      {"pre-rebase", "post-rewrite", "post-checkout"},
	"am":          {"applypatch-msg", "pre-applypatch", "post-applypatch"},
	"gc":          {"pre-auto-gc"},
	"cherry-pick": {"prepare-commit-msg", "commit-msg", "post-commit"},
	"revert":      {"prepare-commit-msg", "commit-msg", "post-commit"},
}

// gitValueOpts are git's global options that take the next word.
var gitValueOpts = []string{"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--config-env", "--exec-path"}

// runGit rates what a git command runs of the project's git config: an
// alias of the subcommand, settings whose value is a command, url
// rewrites for commands that talk to remotes, and the hooks the
// subcommand runs.
func runGit(x *runs, c *cmd, dir string) {
	sub := ""
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		if a == "-C" && i+1 < len(c.args) {
			dir = x.abs(dir, c.args[i+1])
			i++
			continue
		}
		if runHasOpt(a, gitValueOpts) {
			i++
			continue
		}
		if strings.HasPrefix(a, "-") {
			continue
		}
		sub = a
		break
	}
	if sub == "" || !x.inside(dir) {
		return
	}
	top, gitDir := x.gitDir(dir)
	if gitDir == "" {
		return
	}
	cfg := filepath.Join(gitDir, "config")
	entries := x.gitConfig(cfg, 0)
	key := "git\x00" + cfg + "\x00" + sub
	if x.chain[key] {
		return
	}
	x.chain[key] = true
	defer delete(x.chain, key)
	hooks := filepath.Join(gitDir, "hooks")
	for _, e := range entries {
		label := x.rel(e.file)
		switch {
		case e.key == "alias."+strings.ToLower(sub):
			x.standing = true
			if text, ok := strings.CutPrefix(e.value, "!"); ok {
				x.shell(top, text, label, e.line)
			} else {
				x.shell(dir, "git "+e.value, label, e.line)
			}
			x.standing = false
		case gitProgramKey(e.key):
			v := e.value
			if strings.HasSuffix(e.key, ".fsmonitor") {
				if _, err := strconv.ParseBool(v); err == nil {
					continue
				}
			}
			if strings.HasSuffix(e.key, ".helper") {
				if rest, ok := strings.CutPrefix(v, "!"); ok {
					v = rest
				} else if !strings.ContainsAny(v, "/ ") {
					continue // git-credential-<name>, an installed helper
				}
			}
			x.shell(top, v, label, e.line)
		case strings.HasPrefix(e.key, "url.") && (strings.HasSuffix(e.key, ".insteadof") || strings.HasSuffix(e.key, ".pushinsteadof")):
			if gitRemoteSubs[sub] && !runKnownForge(strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(e.key, "url."), ".insteadof"), ".pushinsteadof")) {
				x.add(ruleRunRemote, label, e.line, e.key+" = "+e.value)
			}
		case e.key == "core.hookspath":
			hooks = x.abs(top, e.value)
		}
	}
	for _, h := range gitHooks[sub] {
		if sub == "commit" && c.has("-n", "--no-verify") && (h == "pre-commit" || h == "commit-msg") {
			continue
		}
		p := filepath.Join(hooks, h)
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			x.scriptFile(top, p, false, false)
		}
	}
}

func runHasOpt(a string, opts []string) bool {
	for _, o := range opts {
		if a == o {
			return true
		}
	}
	return false
}

// runKnownForge reports whether a url.<base> rewrite points at a well-known
// git host.
func runKnownForge(base string) bool {
	h := base
	if u, err := url.Parse(base); err == nil && u.Host != "" {
		h = u.Hostname()
	} else if at := strings.IndexByte(h, '@'); at >= 0 {
		h = h[at+1:]
		h, _, _ = strings.Cut(h, ":")
	}
	switch h {
	case "github.com", "gitlab.com", "bitbucket.org", "codeberg.org", "ssh.github.com", "git.sr.ht":
		return true
	}
	return false
}

// gitDir finds the work tree top and git folder for dir, inside the
// project: a .git folder, or a .git file that points inside.
func (x *runs) gitDir(dir string) (top, gitDir string) {
	for d := dir; x.inside(d); d = filepath.Dir(d) {
		p := filepath.Join(d, ".git")
		fi, err := os.Lstat(p)
		if err == nil {
			if fi.IsDir() {
				return d, p
			}
			if fi.Mode().IsRegular() {
				data, err := x.file(p)
				if err != nil {
					return "", ""
				}
				if g, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "gitdir:"); ok {
					g = x.abs(d, strings.TrimSpace(g))
					if x.inside(g) {
						return d, g
					}
				}
			}
			return "", ""
		}
		if d == x.root {
			break
		}
	}
	return "", ""
}

// gitFileEntry is a config entry with the file it came from.
type gitFileEntry struct {
	gitConfigEntry
	file string
}

// gitConfig reads a git config file and the files it includes inside
// the project.
func (x *runs) gitConfig(p string, depth int) []gitFileEntry {
	if depth > 5 {
		return nil
	}
	data, ok := x.readUnit(p)
	if !ok {
		return nil
	}
	var out []gitFileEntry
	for _, e := range parsedAs("gitconfig", data, parseGitConfig) {
		out = append(out, gitFileEntry{e, p})
		if e.key == "include.path" || strings.HasPrefix(e.key, "includeif.") && strings.HasSuffix(e.key, ".path") {
			inc := e.value
			if !filepath.IsAbs(inc) && !strings.HasPrefix(inc, "~") {
				inc = filepath.Join(filepath.Dir(p), inc)
			}
			inc = x.abs(filepath.Dir(p), inc)
			if x.inside(inc) {
				out = append(out, x.gitConfig(inc, depth+1)...)
			}
		}
	}
	return out
}

// RemoteURLs returns the url and pushurl values of the remotes in the git
// config text data, in file order.
func RemoteURLs(data []byte) []string {
	var out []string
	for _, e := range parseGitConfig(data) {
		if strings.HasPrefix(e.key, "remote.") && strings.Count(e.key, ".") >= 2 &&
			(strings.HasSuffix(e.key, ".url") || strings.HasSuffix(e.key, ".pushurl")) {
			out = append(out, e.value)
		}
	}
	return out
}
