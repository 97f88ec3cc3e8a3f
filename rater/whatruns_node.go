package rater

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/url"
	"path/filepath"
	"strings"
)

// packageJSON is what rating needs of a package.json: its scripts.
type packageJSON struct {
	Scripts map[string]string
	// lines[name] is the line of the script's key, for findings.
	lines map[string]int
	bad   bool
}

// parsePackageJSON reads a package.json; bad is set when it is not JSON.
func parsePackageJSON(data []byte) *packageJSON {
	var raw struct {
		Scripts map[string]any `json:"scripts"`
	}
	pj := &packageJSON{Scripts: map[string]string{}, lines: map[string]int{}}
	if err := json.Unmarshal(data, &raw); err != nil {
		pj.bad = true
		return pj
	}
	for k, v := range raw.Scripts {
		if s, ok := v.(string); ok {
			pj.Scripts[k] = s
			if i := bytes.Index(data, []byte(`"`+k+`"`)); i >= 0 {
				pj.lines[k] = 1 + bytes.Count(data[:i], []byte("\n"))
			}
		}
	}
	return pj
}

// npmAliases maps npm's subcommand aliases to the command.
var npmAliases = map[string]string{
	"i": "install", "in": "install", "ins": "install", "inst": "install", "insta": "install", "instal": "install", "isnt": "install",
	"isnta": "install", "isntal": "install", "isntall": "install", "add": "install", "clean-install": "ci", "ic": "ci",
	"install-clean": "ci", "isntall-clean": "ci", "t": "test", "tst": "test", "run-script": "run", "rum": "run", "urn": "run",
	"it": "install-test", "cit": "install-test", "rb": "rebuild",
}

// npmLifecycle names the root package's scripts each command runs.
var npmLifecycle = map[string][]string{
	"install":      {"preinstall", "install", "postinstall", "prepublish", "preprepare", "prepare", "postprepare"},
	"ci":           {"preinstall", "install", "postinstall", "prepublish", "preprepare", "prepare", "postprepare"},
	"rebuild":      {"preinstall", "install", "postinstall", "prepare"},
	"test":         {"pretest", "test", "posttest"},
	"start":        {"prestart", "start", "poststart"},
	"stop":         {"prestop", "stop", "poststop"},
	"restart":      {"prerestart", "restart", "postrestart", "prestop", "stop", "poststop", "prestart", "start", "poststart"},
	"publish":      {"prepublishOnly", "prepack", "prepare", "postpack", "publish", "postpublish"},
	"pack":         {"prepack", "prepare", "postpack"},
	"version":      {"preversion", "version", "postversion"},
	"install-test": {"preinstall", "install", "postinstall", "prepare", "pretest", "test", "posttest"},
}

// nodeBuiltins are yarn/pnpm/bun subcommands that are not scripts.
var nodeBuiltins = set("add", "audit", "autoclean", "bin", "cache", "check", "config", "create", "dedupe", "dlx", "exec", "explain",
	"generate-lock-entry", "global", "help", "import", "info", "init", "licenses", "link", "list", "ls", "login", "logout", "node",
	"outdated", "owner", "policies", "remove", "rm", "tag", "team", "unlink", "unplug", "up", "upgrade", "upgrade-interactive",
	"versions", "why", "workspace", "workspaces", "set", "plugin", "npm", "constraints", "x", "store", "fetch", "prune", "patch",
	"patch-commit", "setup", "env", "root", "server", "doctor", "update", "pm", "completions")

// runNode rates what npm, yarn, pnpm or bun run of the project: the
// package.json scripts of the command (with their pre and post scripts,
// and the install lifecycle), the .npmrc settings that run programs or
// change the registry, yarn's yarnPath and pnpm's .pnpmfile.cjs.
func runNode(x *runs, c *cmd, dir string) {
	pos := c.positional("--prefix", "-C", "--dir", "--cwd", "-w", "--workspace", "--filter", "-F", "--registry")
	if v, ok := c.value("--prefix", "-C", "--dir", "--cwd"); ok {
		dir = x.abs(dir, v)
	}
	if !x.inside(dir) {
		return
	}
	sub := ""
	var rest []string
	if len(pos) > 0 {
		sub, rest = pos[0], pos[1:]
	}
	if a, ok := npmAliases[sub]; ok {
		sub = a
	}
	var names []string
	installs := false
	switch {
	case sub == "" && c.name != "npm" && c.name != "bun":
		// yarn, pnpm alone: install.
		sub = "install"
		fallthrough
	case npmLifecycle[sub] != nil:
		if c.name == "bun" && sub != "install" && sub != "test" {
			return
		}
		if c.name == "bun" && sub == "test" {
			// bun test runs the test runner, not the script.
			return
		}
		names = npmLifecycle[sub]
		installs = sub == "install" || sub == "ci" || sub == "install-test" || sub == "rebuild"
	case sub == "run" || sub == "run-script":
		if len(rest) == 0 {
			return
		}
		names = []string{"pre" + rest[0], rest[0], "post" + rest[0]}
	case sub == "exec" || sub == "x" || sub == "dlx" || sub == "create" || sub == "init":
		return
	case c.name != "npm" && !nodeBuiltins[sub] && !(c.name == "bun" && (sub == "build" || sub == "test" || sub == "upgrade")):
		// yarn build, pnpm lint, bun dev: a script when there is one.
		names = []string{"pre" + sub, sub, "post" + sub}
	default:
		return
	}
	p := filepath.Join(dir, "package.json")
	data, ok := x.readUnit(p)
	if !ok {
		return
	}
	key := "npm\x00" + p + "\x00" + strings.Join(names, ",")
	if x.chain[key] {
		return
	}
	x.chain[key] = true
	defer delete(x.chain, key)
	pj := parsedAs("package.json", data, parsePackageJSON)
	if pj.bad {
		x.opaque(p, "is not valid JSON")
		return
	}
	ran := false
	for _, n := range names {
		s, ok := pj.Scripts[n]
		if !ok {
			continue
		}
		ran = true
		x.shell(dir, s, x.rel(p)+` "`+n+`"`, pj.lines[n])
	}
	if ran || installs {
		x.npmrc(dir, installs)
	}
	if installs {
		x.nodeHooks(dir)
	}
}

// npmrc rates the project's .npmrc: a script-shell, node-options that
// load code, a git or shell program, run as commands; a registry other
// than npm's, for installs.
func (x *runs) npmrc(dir string, installs bool) {
	p := filepath.Join(dir, ".npmrc")
	data, ok := x.readUnit(p)
	if !ok {
		return
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), `"'`)
		switch {
		case k == "script-shell" || k == "shell" || k == "git" || k == "editor" || k == "browser":
			if !runPlainShell(v) && !runShellBase(v) && !(k == "git" && (v == "git" || v == "/usr/bin/git")) {
				x.shell(dir, v, x.rel(p), n)
			}
		case k == "node-options":
			if strings.Contains(v, "--require") || strings.Contains(v, "-r ") || strings.Contains(v, "--import") ||
				strings.Contains(v, "--loader") || strings.Contains(v, "--experimental-loader") || strings.HasPrefix(v, "-r") {
				x.add(ruleExecIndirect, p, n, line)
			}
		case k == "registry" || strings.HasSuffix(k, ":registry"):
			if installs && !runDefaultRegistry(v) {
				x.add(ruleRunSource, p, n, line)
			}
		case k == "strict-ssl" && v == "false" && installs:
			x.add(ruleRunSource, p, n, line)
		}
	}
}

// runDefaultRegistry reports whether u is a default package registry.
func runDefaultRegistry(u string) bool {
	pu, err := url.Parse(strings.TrimSpace(u))
	if err != nil {
		return false
	}
	switch pu.Hostname() {
	case "registry.npmjs.org", "registry.yarnpkg.com", "registry.npmjs.com", "npm.pkg.github.com", "pypi.org", "files.pythonhosted.org",
		"proxy.golang.org", "sum.golang.org":
		return pu.Scheme == "https"
	}
	return false
}

// nodeHooks rates what installs run besides scripts: yarn's yarnPath (a
// file yarn hands every command to) and pnpm's .pnpmfile.cjs hooks.
func (x *runs) nodeHooks(dir string) {
	if data, ok := x.readUnit(filepath.Join(dir, ".yarnrc.yml")); ok {
		for i, l := range strings.Split(string(data), "\n") {
			k, v, ok := strings.Cut(strings.TrimSpace(l), ":")
			v = strings.Trim(strings.TrimSpace(v), `"'`)
			switch {
			case !ok:
			case k == "yarnPath":
				if !strings.HasPrefix(v, ".yarn/releases/") {
					x.add(ruleExecIndirect, filepath.Join(dir, ".yarnrc.yml"), i+1, l)
				}
			case k == "npmRegistryServer":
				if !runDefaultRegistry(v) {
					x.add(ruleRunSource, filepath.Join(dir, ".yarnrc.yml"), i+1, l)
				}
			}
		}
	}
	for _, name := range []string{".pnpmfile.cjs", ".pnpmfile.mjs"} {
		p := filepath.Join(dir, name)
		if data, ok := x.readUnit(p); ok {
			x.code(dir, "node", string(data), x.rel(p))
		}
	}
}
