package rater

import (
	"path"
	"strings"

	"github.com/chaperone-dev/chaperone/internal/lazyre"
	"github.com/chaperone-dev/chaperone/models"
)

// The commands that write a tool's settings, and the config files a
// redirection writes: what they set is judged with the tables of
// settings.go and sources.go, as persistent settings.

// configCommand judges a command that writes settings of a package tool
// (git config is judged in gitConfig).
func (k *check) configCommand(c *cmd) {
	// sub matches the subcommand words (options between them skipped)
	// and returns the arguments after them, without the options of the
	// config commands themselves: a value may start with "-".
	sub := func(words ...string) ([]string, bool) {
		i := 0
		for _, w := range words {
			for i < len(c.args) && strings.HasPrefix(c.args[i], "-") {
				if configValueOpts[c.args[i]] {
					i++
				}
				i++
			}
			if i >= len(c.args) || c.args[i] != w {
				return nil, false
			}
			i++
		}
		var rest []string
		for ; i < len(c.args); i++ {
			a := c.args[i]
			switch {
			case configValueOpts[a]:
				i++
			case configFlags[a]:
			default:
				rest = append(rest, a)
			}
		}
		return rest, true
	}
	switch c.name {
	case "npm", "pnpm", "bun":
		rest, ok := sub("config", "set")
		if !ok {
			rest, ok = sub("set")
		}
		if ok {
			k.setPairs(c, &npmTable, rest)
		}
	case "yarn":
		if rest, ok := sub("config", "set"); ok {
			k.setPairs(c, &yarnTable, rest)
		}
	case "pip", "pip3":
		if rest, ok := sub("config", "set"); ok {
			k.setPairs(c, &pipTable, rest)
		}
	case "poetry":
		if rest, ok := sub("source", "add"); ok && len(rest) >= 2 {
			k.sourceSetting(c, rest[1])
		} else if rest, ok := sub("config"); ok && len(rest) >= 2 && strings.HasPrefix(rest[0], "repositories.") {
			k.sourceSetting(c, rest[1])
		}
	case "go":
		if rest, ok := sub("env"); ok && c.has("-w") {
			for _, a := range rest {
				if name, val, ok := strings.Cut(a, "="); ok {
					k.envSetting(c, models.Assign{Name: name, Value: models.Word{Lit: val}})
				}
			}
		}
	case "gem":
		if _, ok := sub("sources"); ok {
			if v, ok := c.value("--add", "-a"); ok {
				k.sourceSetting(c, v)
			}
		}
	case "bundle":
		rest, ok := sub("config", "set")
		if !ok {
			rest, ok = sub("config")
		}
		if ok && len(rest) >= 2 && strings.HasPrefix(strings.ToLower(rest[0]), "mirror.") {
			k.sourceSetting(c, rest[1])
		}
	case "conda", "mamba", "micromamba":
		if _, ok := sub("config"); ok {
			for _, o := range []string{"--add", "--append", "--prepend", "--set"} {
				for i, a := range c.args {
					if a == o && i+2 < len(c.args) && (c.args[i+1] == "channels" || c.args[i+1] == "channel_alias" || c.args[i+1] == "default_channels") {
						k.sourceSetting(c, c.args[i+2])
					}
				}
			}
		}
	case "composer":
		if rest, ok := sub("config"); ok && len(rest) >= 2 && (strings.HasPrefix(rest[0], "repositories.") || strings.HasPrefix(rest[0], "repo.")) {
			for _, u := range urlText.Regexp().FindAllString(strings.Join(rest[1:], " "), -1) {
				k.sourceSetting(c, u)
			}
		}
	case "dotnet":
		if rest, ok := sub("nuget", "add", "source"); ok && len(rest) > 0 {
			k.sourceSetting(c, rest[0])
		}
	case "cargo":
		for i, a := range c.args {
			if !strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "+") && (i == 0 || c.args[i-1] != "--config") {
				break // options after the subcommand are its own
			}
			if a == "--config" && i+1 < len(c.args) {
				if key, val, ok := strings.Cut(c.args[i+1], "="); ok {
					k.toolSetting(c, &cargoTable, strings.TrimSpace(key), models.Word{Lit: strings.Trim(strings.TrimSpace(val), `"'`)}, false)
				}
			}
		}
	}
}

// configValueOpts are options of config commands that take a value;
// configFlags those that take none.
var (
	configValueOpts = set("--location", "-L", "--file", "-f", "--env", "-n", "--name", "-p", "--prefix", "--dir", "-C")
	configFlags     = set("-g", "--global", "--json", "--user", "--site", "--local", "--project", "-H", "--home", "--system", "-w", "--write", "--all")
)

// setPairs judges `config set` arguments: key value, or key=value pairs.
func (k *check) setPairs(c *cmd, t *settingTable, rest []string) {
	for i := 0; i < len(rest); i++ {
		key, val, ok := strings.Cut(rest[i], "=")
		if !ok {
			if i+1 >= len(rest) {
				return
			}
			i++
			val = rest[i]
		}
		k.toolSetting(c, t, key, models.Word{Lit: val}, true)
	}
}

// sourceSetting judges a source written to a tool's settings.
func (k *check) sourceSetting(c *cmd, v string) {
	if k.sourceValue(v, true) {
		k.hit(rulePkgSource, c.span())
	}
}

// configFormat is how a config file's lines are read.
type configFormat uint8

const (
	fmtKeys configFormat = iota // ini, toml, .npmrc, yaml: [section] key = value, key: value
	fmtReqs                     // pip requirements: install arguments, one line each
	fmtEnv                      // KEY=VALUE lines (go's env file)
	fmtURLs                     // every URL in it is a package source (.gemrc, .condarc, settings.xml)
)

// configFile is a file whose settings make a tool run code or fetch
// packages, with how to read it.
type configFile struct {
	// names are base names or path suffixes ("/" inside); "*" as in
	// path.Match within the base name.
	names  []string
	format configFormat
	table  *settingTable
	catch  []string
	not    []string
}

// configFiles are the config files whose content is judged when a
// command writes them.
var configFiles = []configFile{
	{names: []string{".npmrc"}, table: &npmTable, catch: []string{"echo 'registry=https://npm.evil.example/' >> ~/.npmrc", "printf 'script-shell=/tmp/s\\n' >> ~/.npmrc"}, not: []string{"echo 'save-exact=true' >> ~/.npmrc"}},
	{names: []string{".yarnrc", ".yarnrc.yml"}, table: &yarnTable},
	{names: []string{"pip.conf", "pip.ini", "uv.toml", "pyproject.toml"}, table: &pipTable,
		catch: []string{"printf '[global]\\nindex-url = https://pypi.evil.example/simple\\n' > ~/.config/pip/pip.conf", "cat >> pyproject.toml <<'EOF'\n[[tool.uv.index]]\nurl = \"https://idx.evil.example/simple\"\nEOF"},
		not:   []string{"printf '[global]\\ntimeout = 60\\n' > ~/.config/pip/pip.conf"}},
	{names: []string{".gitconfig", ".git/config", ".config/git/config"}, table: &gitTable,
		catch: []string{"printf '[core]\\n\\tpager = sh -c id\\n' >> ~/.gitconfig", "echo '[url \"https://evil.example/\"]\n\tinsteadOf = https://github.com/' >> ~/.gitconfig"},
		not:   []string{"printf '[user]\\n\\tname = Dev\\n' >> ~/.gitconfig"}},
	{names: []string{".cargo/config.toml", ".cargo/config"}, table: &cargoTable},
	{names: []string{"requirements*.txt", "constraints*.txt", "requirements/*.txt"}, format: fmtReqs,
		catch: []string{"echo '--extra-index-url https://pypi.evil.example/simple' >> requirements.txt", "echo 'tool @ git+https://git.example.com/t.git' >> requirements-dev.txt"},
		not:   []string{"echo 'requests==2.31.0' >> requirements.txt", "pip freeze > requirements.txt"}},
	{names: []string{".config/go/env"}, format: fmtEnv},
	{names: []string{".gemrc", ".condarc", ".m2/settings.xml", ".bundle/config"}, format: fmtURLs},
}

// configFileFor returns the entry for the path p, or nil.
func configFileFor(p string) *configFile {
	b := path.Base(p)
	if !strings.Contains(b, "rc") && !strings.Contains(b, "conf") && !strings.Contains(b, ".t") && !strings.Contains(b, ".i") &&
		b != "env" && b != "settings.xml" {
		// None of configFiles' names (a cheap test: most writes are
		// logs and build output).
		return nil
	}
	for i := range configFiles {
		for _, n := range configFiles[i].names {
			if strings.Contains(n, "/") {
				if tailMatch(n, p) {
					return &configFiles[i]
				}
				continue
			}
			if ok, _ := path.Match(n, b); ok {
				return &configFiles[i]
			}
		}
	}
	return nil
}

// tailMatch reports whether the last parts of the path p match the parts
// of the pattern n (path.Match in each).
func tailMatch(n, p string) bool {
	np, pp := strings.Split(n, "/"), strings.Split(p, "/")
	if len(pp) < len(np) {
		return false
	}
	pp = pp[len(pp)-len(np):]
	for i := range np {
		if ok, _ := path.Match(np[i], pp[i]); !ok {
			return false
		}
	}
	return true
}

// configWrite judges what c writes into a config file (by redirection or
// tee): the settings in the text.
func (k *check) configWrite(c *cmd) {
	var targets []string
	for _, r := range c.Redirs {
		switch r.Op {
		case ">", ">>", ">|", "&>", "&>>":
			targets = append(targets, r.Target.Lit)
		}
	}
	if c.name == "tee" {
		targets = append(targets, c.positional()...)
	}
	for _, t := range targets {
		f := configFileFor(k.where.norm(t))
		if f == nil {
			continue
		}
		text, ok := k.writtenText(c)
		if !ok {
			continue
		}
		k.configText(c, f, text)
	}
}

// writtenText is the text c writes: echo's or printf's arguments, a here
// document, or what echo, printf or cat <<EOF pipe into tee.
func (k *check) writtenText(c *cmd) (string, bool) {
	for _, r := range c.Redirs {
		if r.Op == "<<" || r.Op == "<<-" || r.Op == "<<<" {
			return r.Target.Lit, true
		}
	}
	switch c.name {
	case "echo", "printf":
		return configUnescape(strings.Join(c.args, "\n")), true
	case "tee":
		if c.PipeFrom >= 0 && c.PipeFrom < len(k.facts.Commands) {
			up := &k.facts.Commands[c.PipeFrom]
			uc := &cmd{Command: up, idx: c.PipeFrom, name: up.Name()}
			for _, w := range up.Argv[min(1, len(up.Argv)):] {
				uc.args = append(uc.args, w.Lit)
			}
			if uc.name == "echo" || uc.name == "printf" || uc.name == "cat" {
				return k.writtenText(uc)
			}
		}
	}
	return "", false
}

// configUnescape reads the escapes echo -e and printf turn into line breaks.
func configUnescape(s string) string {
	return strings.NewReplacer(`\n`, "\n", `\t`, "\t", `\r`, "\n").Replace(s)
}

// urlText matches a URL in config text.
var urlText = lazyre.New(`(?:https?|git|ssh|ftp)://[^\s"'<>,]+`)

// configText judges the settings in text written to the config file f.
func (k *check) configText(c *cmd, f *configFile, text string) {
	switch f.format {
	case fmtURLs:
		for _, u := range urlText.Regexp().FindAllString(text, -1) {
			k.sourceSetting(c, u)
		}
		return
	case fmtReqs:
		for _, line := range strings.Split(text, "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			args := strings.Fields(line)
			if !strings.HasPrefix(line, "-") {
				args = []string{line} // name @ url stays one spec
			}
			k.packageSource(&cmd{Command: c.Command, idx: c.idx, name: "pip", args: append([]string{"install"}, args...)})
		}
		return
	}
	section := ""
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' || line == "---" {
			continue
		}
		if line[0] == '[' {
			section = configSection(line)
			continue
		}
		key, val, ok := configLine(line, f.format == fmtEnv)
		if !ok {
			continue
		}
		if f.format == fmtEnv {
			k.envSetting(c, models.Assign{Name: key, Value: models.Word{Lit: val}})
			continue
		}
		full := key
		if section != "" {
			full = section + "." + key
		}
		k.toolSetting(c, f.table, full, models.Word{Lit: val}, true)
	}
}

// configSection reads an ini or toml section header: [core] is "core",
// [url "https://x/"] is "url.https://x/", [[tool.uv.index]] is
// "tool.uv.index".
func configSection(line string) string {
	s := strings.Trim(line, "[] \t")
	if name, sub, ok := strings.Cut(s, " "); ok {
		return name + "." + strings.Trim(strings.TrimSpace(sub), `"`)
	}
	return strings.Trim(s, `"`)
}

// configLine reads key = value, key=value, key: value or (yarn classic)
// key "value".
func configLine(line string, envOnly bool) (key, val string, ok bool) {
	i := strings.IndexAny(line, "=:")
	if envOnly {
		i = strings.IndexByte(line, '=')
	}
	if i <= 0 {
		if sp := strings.IndexAny(line, " \t"); sp > 0 && !envOnly {
			return line[:sp], strings.Trim(strings.TrimSpace(line[sp:]), `"'`), true
		}
		return "", "", false
	}
	if line[i] == ':' && strings.HasPrefix(line[i:], "://") {
		// An npm scoped key is @scope:registry=…; a URL key is not.
		return "", "", false
	}
	key = strings.TrimSpace(line[:i])
	if strings.HasPrefix(key, "@") && line[i] == ':' {
		// @scope:registry=url
		if j := strings.IndexByte(line, '='); j > i {
			key, i = strings.TrimSpace(line[:j]), j
		}
	}
	val = strings.Trim(strings.TrimSpace(line[i+1:]), `"'`)
	return strings.TrimPrefix(key, "export "), val, true
}
