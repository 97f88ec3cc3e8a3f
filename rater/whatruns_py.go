package rater

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/chaperone-dev/chaperone/parser"
)

// pipValueOpts are pip install's options that take the next word.
var pipValueOpts = []string{"-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url", "--extra-index-url",
	"-f", "--find-links", "--trusted-host", "-t", "--target", "--prefix", "--root", "--python", "--platform", "--src", "--upgrade-strategy",
	"--only-binary", "--no-binary", "--python-version", "--implementation", "--abi", "--progress-bar", "--log", "--cache-dir", "--proxy",
	"--timeout", "--retries", "--exists-action", "--cert", "--client-cert", "--config-settings", "-C", "--report"}

// runPip rates what `pip install` runs and fetches from the project:
// requirement files (their index options, URL and git sources, and the
// files they include), the project's pip.conf, and the setup.py and
// pyproject.toml of local folders it installs.
func runPip(x *runs, c *cmd, dir string) {
	sub, _ := c.sub(pipValueOpts...)
	if sub != "install" && sub != "wheel" && sub != "download" {
		return
	}
	args := c.args
	for i := 0; i < len(args); i++ {
		a := args[i]
		for _, o := range []string{"-r", "--requirement", "-c", "--constraint", "-e", "--editable"} {
			v, ok := "", false
			switch {
			case a == o && i+1 < len(args):
				v, ok = args[i+1], true
			case strings.HasPrefix(o, "--") && strings.HasPrefix(a, o+"="):
				v, ok = a[len(o)+1:], true
			case len(o) == 2 && strings.HasPrefix(a, o) && len(a) > 2 && !strings.HasPrefix(a, "--"):
				v, ok = a[2:], true
			}
			if !ok {
				continue
			}
			if o == "-e" || o == "--editable" {
				x.pipTarget(dir, v, "", 0)
			} else {
				x.requirements(filepath.Dir(x.abs(dir, v)), x.abs(dir, v), 0)
			}
		}
	}
	for _, p := range c.positional(pipValueOpts...)[1:] {
		if p == "." || strings.HasPrefix(p, "./") || strings.HasPrefix(p, "../") || strings.HasPrefix(p, "/") {
			x.pipTarget(dir, p, "", 0)
		}
	}
	for _, name := range []string{"pip.conf", ".venv/pip.conf", "venv/pip.conf"} {
		x.pipConf(filepath.Join(dir, name))
	}
}

// pipTarget judges one thing to install (a requirement line, an -e
// value): a URL or VCS source is high; a local folder's build files are
// read. from and line say where it was named, for findings.
func (x *runs) pipTarget(dir, v, from string, line int) {
	v = strings.TrimSpace(v)
	low := strings.ToLower(v)
	if i := strings.Index(low, " @ "); i >= 0 {
		low = strings.TrimSpace(low[i+3:])
		v = strings.TrimSpace(v[i+3:])
	}
	for _, s := range []string{"git+", "hg+", "svn+", "bzr+", "http://", "https://", "ftp://", "git://", "ssh://"} {
		if strings.HasPrefix(low, s) {
			if from != "" {
				x.add(ruleRunSource, from, line, v)
			}
			return
		}
	}
	v = strings.TrimPrefix(v, "file://")
	if i := strings.IndexAny(v, "[;#"); i >= 0 {
		v = v[:i]
	}
	if !(v == "." || strings.HasPrefix(v, "./") || strings.HasPrefix(v, "../") || strings.HasPrefix(v, "/")) {
		return
	}
	d := x.abs(dir, strings.TrimSpace(v))
	if !x.inside(d) {
		return
	}
	x.localPackage(d)
}

// localPackage rates what installing the Python project in folder d
// runs: setup.py, and the sources its pyproject.toml names.
func (x *runs) localPackage(d string) {
	key := "pkg\x00" + d
	if x.chain[key] {
		return
	}
	x.chain[key] = true
	defer delete(x.chain, key)
	p := filepath.Join(d, "setup.py")
	if data, ok := x.readUnit(p); ok {
		x.code(d, "python", string(data), x.rel(p))
	}
	x.pyproject(filepath.Join(d, "pyproject.toml"))
}

// maxReqDepth bounds requirement files including each other.
const maxReqDepth = 6

// requirements rates a requirements file: index options and URL or VCS
// requirements are high; included files and local folders are read.
func (x *runs) requirements(dir, p string, depth int) {
	if depth > maxReqDepth || x.chain["req\x00"+p] {
		return
	}
	data, ok := x.readUnit(p)
	if !ok {
		return
	}
	x.chain["req\x00"+p] = true
	defer delete(x.chain, "req\x00"+p)
	for _, l := range parseRequirements(data) {
		f := strings.Fields(l.text)
		if len(f) == 0 {
			continue
		}
		opt, val := f[0], ""
		if k, v, ok := strings.Cut(opt, "="); ok && strings.HasPrefix(opt, "--") {
			opt, val = k, v
		} else if len(f) > 1 {
			val = f[1]
		}
		if len(opt) > 2 && opt[0] == '-' && opt[1] != '-' {
			opt, val = opt[:2], opt[2:]
		}
		switch opt {
		case "-i", "--index-url", "--extra-index-url", "--trusted-host":
			if opt == "-i" || opt == "--index-url" {
				if runDefaultIndex(val) {
					continue
				}
			}
			x.add(ruleRunSource, p, l.line, l.text)
		case "-f", "--find-links":
			if strings.Contains(val, "://") {
				x.add(ruleRunSource, p, l.line, l.text)
			}
		case "-r", "--requirement", "-c", "--constraint":
			sub := val
			if !filepath.IsAbs(sub) {
				sub = filepath.Join(filepath.Dir(p), sub)
			}
			x.requirements(dir, sub, depth+1)
		case "-e", "--editable":
			x.pipTarget(dir, val, p, l.line)
		default:
			if !strings.HasPrefix(opt, "-") {
				x.pipTarget(dir, l.text, p, l.line)
			}
		}
	}
}

// runDefaultIndex reports whether u is PyPI's own index.
func runDefaultIndex(u string) bool {
	u = strings.TrimSuffix(strings.TrimSpace(u), "/")
	return u == "https://pypi.org/simple" || u == "https://pypi.python.org/simple"
}

// parseRequirements splits a requirements file into logical lines
// without comments.
func parseRequirements(data []byte) []makeLine {
	var out []makeLine
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), maxRunFile+1)
	n, start := 0, 0
	var cur strings.Builder
	for sc.Scan() {
		n++
		t := sc.Text()
		if cur.Len() == 0 {
			start = n
		}
		if i := strings.Index(t, " #"); i >= 0 {
			t = t[:i]
		}
		if strings.HasPrefix(strings.TrimSpace(t), "#") {
			t = ""
		}
		if strings.HasSuffix(t, "\\") {
			cur.WriteString(strings.TrimSuffix(t, "\\") + " ")
			continue
		}
		cur.WriteString(t)
		if s := strings.TrimSpace(cur.String()); s != "" {
			out = append(out, makeLine{text: s, line: start})
		}
		cur.Reset()
	}
	return out
}

// pipConf rates a pip configuration file: index and trust settings.
func (x *runs) pipConf(p string) {
	if !runExists(p) {
		return
	}
	data, ok := x.readUnit(p)
	if !ok {
		return
	}
	for i, l := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		switch k {
		case "index-url", "index_url":
			if !runDefaultIndex(v) {
				x.add(ruleRunSource, p, i+1, l)
			}
		case "extra-index-url", "extra_index_url", "trusted-host", "trusted_host":
			x.add(ruleRunSource, p, i+1, l)
		case "find-links", "find_links":
			if strings.Contains(v, "://") {
				x.add(ruleRunSource, p, i+1, l)
			}
		}
	}
}

// pyproject rates the package sources a pyproject.toml names: build
// requirements and dependencies from URLs or git, and the index settings
// of uv, poetry and pdm.
func (x *runs) pyproject(p string) {
	if !runExists(p) {
		return
	}
	data, ok := x.readUnit(p)
	if !ok {
		return
	}
	for _, s := range parsedAs("pyproject", data, pyprojectSources) {
		if s == "\x00bad" {
			x.opaque(p, "is not valid TOML")
			continue
		}
		line := 0
		if i := bytes.Index(data, []byte(s)); i >= 0 {
			line = 1 + bytes.Count(data[:i], []byte("\n"))
		}
		x.add(ruleRunSource, p, line, s)
	}
}

// pyprojectSources lists the non-registry sources in a pyproject.toml;
// "\x00bad" when it is not TOML.
func pyprojectSources(data []byte) []string {
	var doc map[string]any
	if _, err := toml.Decode(string(data), &doc); err != nil {
		return []string{"\x00bad"}
	}
	var out []string
	reqs := func(v any) {
		list, _ := v.([]any)
		for _, e := range list {
			if s, ok := e.(string); ok && pySourceRequirement(s) {
				out = append(out, s)
			}
		}
	}
	get := func(m any, keys ...string) any {
		for _, k := range keys {
			mm, ok := m.(map[string]any)
			if !ok {
				return nil
			}
			m = mm[k]
		}
		return m
	}
	reqs(get(doc, "build-system", "requires"))
	reqs(get(doc, "project", "dependencies"))
	if od, ok := get(doc, "project", "optional-dependencies").(map[string]any); ok {
		for _, v := range od {
			reqs(v)
		}
	}
	for _, k := range []string{"index-url", "extra-index-url", "find-links"} {
		switch v := get(doc, "tool", "uv", k).(type) {
		case string:
			if !(k == "index-url" && runDefaultIndex(v)) {
				out = append(out, v)
			}
		case []any:
			for _, e := range v {
				if s, ok := e.(string); ok {
					out = append(out, s)
				}
			}
		}
	}
	for _, path := range [][]string{{"tool", "uv", "index"}, {"tool", "poetry", "source"}, {"tool", "pdm", "source"}} {
		for _, e := range tomlList(get(doc, path...)) {
			if u, ok := get(e, "url").(string); ok && !runDefaultIndex(u) {
				out = append(out, u)
			}
		}
	}
	for _, path := range [][]string{{"tool", "uv", "sources"}, {"tool", "poetry", "dependencies"}, {"tool", "poetry", "group"}} {
		m, _ := get(doc, path...).(map[string]any)
		for _, v := range m {
			pyCollectVCS(v, &out, 0)
		}
	}
	return out
}

// pyCollectVCS finds git = / url = entries in a dependency table.
func pyCollectVCS(v any, out *[]string, depth int) {
	if depth > 6 {
		return
	}
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if s, ok := e.(string); ok && (k == "git" || k == "url") {
				*out = append(*out, s)
				continue
			}
			pyCollectVCS(e, out, depth+1)
		}
	case []any, []map[string]any:
		for _, e := range tomlList(t) {
			pyCollectVCS(e, out, depth+1)
		}
	}
}

// pySourceRequirement reports whether a requirement string installs from
// a URL or VCS ("pkg @ git+https://…").
func pySourceRequirement(s string) bool {
	low := strings.ToLower(s)
	return strings.Contains(low, "git+") || strings.Contains(low, "://") && !strings.Contains(low, "file://")
}

// runUv: uv pip … is pip; uv sync/add/lock read pyproject.toml; uv run X
// runs X.
func runUv(x *runs, c *cmd, dir string) {
	sub, rest := c.sub("--directory", "--project", "-p", "--python", "--with", "--index", "--default-index", "--extra-index-url")
	switch sub {
	case "pip":
		sc := *c
		sc.args = c.args[runIndex(c.args, "pip")+1:]
		sc.Argv = sc.Argv[runIndex(c.args, "pip")+1:]
		runPip(x, &sc, dir)
	case "sync", "add", "lock", "install":
		x.pyproject(filepath.Join(dir, "pyproject.toml"))
	case "run":
		x.dispatch(c, rest, dir)
	}
}

// runPyproject: poetry install/add/lock, pdm install/sync/add read the
// project's package sources; poetry run X runs X.
func runPyproject(x *runs, c *cmd, dir string) {
	sub, rest := c.sub("-C", "--directory", "-p", "--project")
	switch sub {
	case "install", "add", "lock", "update", "sync":
		x.pyproject(filepath.Join(dir, "pyproject.toml"))
		x.localPackage(dir)
	case "run":
		x.dispatch(c, rest, dir)
	}
}

// dispatch rates what the command rest (the words after "run" in
// `uv run pytest`) runs, as if it were run directly.
func (x *runs) dispatch(c *cmd, rest []string, dir string) {
	if len(rest) == 0 {
		return
	}
	i := runIndex(c.args, rest[0])
	if i < 0 {
		return
	}
	sc := &cmd{Command: c.Command, idx: c.idx, name: baseName(rest[0]), args: c.args[i+1:]}
	sub := *c.Command
	sub.Argv = c.Argv[i+1:]
	sc.Command = &sub
	if f := runners[sc.name]; f != nil && sc.name != "uv" && sc.name != "poetry" && sc.name != "pdm" {
		f(x, sc, dir)
	}
}

func runIndex(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// runPython: python -m pip / -m pytest are those programs; python
// setup.py or any other file runs that file.
func runPython(x *runs, c *cmd, dir string) {
	if m, ok := c.value("-m"); ok {
		i := runIndex(c.args, m)
		if i < 0 {
			return
		}
		sc := &cmd{Command: c.Command, idx: c.idx, name: m, args: c.args[i+1:]}
		sub := *c.Command
		sub.Argv = c.Argv[i+1:]
		sc.Command = &sub
		switch m {
		case "pip":
			runPip(x, sc, dir)
		case "pytest":
			runPytest(x, sc, dir)
		}
		return
	}
	runCodeFile(x, c, dir)
}

// runCodeFile: python x.py, node x.js — the interpreter runs the
// project file named by its first operand (not inline code: -c, -e).
func runCodeFile(x *runs, c *cmd, dir string) {
	for _, a := range c.args {
		switch a {
		case "-c", "-e", "-p", "--eval", "--print", "-":
			return
		}
	}
	pos := c.positional(interpValueOpts...)
	if len(pos) == 0 || pos[0] == "-" {
		return
	}
	for _, w := range c.Argv[1:] {
		if w.Lit == pos[0] && w.Dynamic {
			return
		}
	}
	p := x.abs(dir, pos[0])
	if data, ok := x.readUnit(p); ok {
		x.code(filepath.Dir(p), parser.Interpreter(c.name), string(data), x.rel(p))
	}
}

// pytestSkip are folders pytest does not collect (norecursedirs).
var pytestSkip = set("node_modules", "venv", ".venv", "env", "build", "dist", "__pycache__", "site-packages", "vendor", "target")

// runPytest rates the conftest.py files pytest loads: in the folder and
// its parents up to the project root, and in the folders it collects
// (the given paths, or the folder), at most a few levels deep.
func runPytest(x *runs, c *cmd, dir string) {
	var confs []string
	for d := dir; x.inside(d); d = filepath.Dir(d) {
		confs = append(confs, filepath.Join(d, "conftest.py"))
		if d == x.root {
			break
		}
	}
	roots := []string{}
	for _, p := range c.positional("-k", "-m", "-p", "-c", "--rootdir", "--confcutdir", "-o", "--junitxml", "--junit-xml", "--cov", "--deselect", "--ignore", "-n", "--maxfail", "--tb", "--durations") {
		p, _, _ = strings.Cut(p, "::")
		roots = append(roots, x.abs(dir, p))
	}
	if len(roots) == 0 {
		roots = []string{dir}
	}
	entries := 0
	for _, r := range roots {
		if !x.inside(r) {
			continue
		}
		filepath.WalkDir(r, func(p string, d fs.DirEntry, err error) error {
			entries++
			if err != nil || entries > 5000 {
				return filepath.SkipDir
			}
			if d.IsDir() {
				rel, _ := filepath.Rel(r, p)
				if p != r && (strings.HasPrefix(d.Name(), ".") || pytestSkip[d.Name()] || strings.Count(rel, "/") >= 4) {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Name() == "conftest.py" && p != filepath.Join(dir, "conftest.py") {
				confs = append(confs, p)
			}
			return nil
		})
	}
	for _, p := range confs {
		if _, err := os.Lstat(p); err != nil {
			continue
		}
		if data, ok := x.readUnit(p); ok {
			x.code(filepath.Dir(p), "python", string(data), x.rel(p))
		}
	}
}

// tomlList returns a TOML array (of values or of tables) as []any.
func tomlList(v any) []any {
	switch t := v.(type) {
	case []any:
		return t
	case []map[string]any:
		out := make([]any, len(t))
		for i, m := range t {
			out[i] = m
		}
		return out
	}
	return nil
}
