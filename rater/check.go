package rater

import (
	"strings"

	"github.com/chaperone-dev/chaperone/internal/lazyre"
	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/parser"
)

// check is the state of rating one command string.
type check struct {
	facts    *models.Facts
	where    where
	findings []models.Finding
	// downloaded holds files that a command in this string fetched.
	downloaded map[string]bool
	// owner[i] is the index of the command findings[i] is about, or -1.
	owner []int
	cur   int
	// registries are the package sources the user added to the built-in
	// ones (see sources.go).
	registries []string
	// depth counts settings' values rated inside this check (settings.go).
	depth int
	// dirs[i] is the folder facts.Commands[i] runs in, as the text's own
	// cd and pushd leave it (parser.ParseWhere); nil when not known, as
	// for text rated inside another command's check, which then keeps
	// that command's folder. start is the absolute folder the text
	// starts in, "" when unknown.
	dirs  []parser.Dir
	start string
}

func (k *check) hit(r Rule, span string) {
	for _, f := range k.findings {
		if f.Rule == r.ID && f.Span == span {
			return
		}
	}
	k.findings = append(k.findings, models.Finding{Rule: r.ID, Risk: r.Risk, Reason: r.Reason, Span: span})
	k.owner = append(k.owner, k.cur)
}

// cmd is one command being judged, with helpers over its argv.
type cmd struct {
	*models.Command
	idx  int
	name string   // base name of the program
	args []string // literal values of argv[1:]
}

func (c *cmd) span() string {
	if c.Span != "" {
		return c.Span
	}
	return strings.Join(append([]string{c.name}, c.args...), " ")
}

// has reports whether any argument equals one of opts, or starts with
// "opt=" for a long option.
func (c *cmd) has(opts ...string) bool { return hasOption(c.args, opts...) }

// hasOption reports whether any of args equals one of opts, or starts
// with "opt=" for a long option. Unlike has (tools.go), "-o=…" does not
// match a short option.
func hasOption(args []string, opts ...string) bool {
	for _, a := range args {
		for _, o := range opts {
			if a == o || strings.HasPrefix(o, "--") && strings.HasPrefix(a, o+"=") {
				return true
			}
		}
	}
	return false
}

// hasShort reports whether a short option letter appears in any cluster
// of short options (-rf has r and f).
func (c *cmd) hasShort(letters string) bool {
	for _, a := range c.args {
		if len(a) < 2 || a[0] != '-' || a[1] == '-' {
			continue
		}
		if strings.ContainsAny(a[1:], letters) {
			return true
		}
	}
	return false
}

// value returns the value of an option (-o VALUE, -oVALUE, --out=VALUE).
func (c *cmd) value(opts ...string) (string, bool) {
	for i, a := range c.args {
		for _, o := range opts {
			switch {
			case a == o && i+1 < len(c.args):
				return c.args[i+1], true
			case strings.HasPrefix(o, "--") && strings.HasPrefix(a, o+"="):
				return a[len(o)+1:], true
			case len(o) == 2 && o[0] == '-' && o[1] != '-' && strings.HasPrefix(a, o) && len(a) > 2 && !strings.HasPrefix(a, "--"):
				return a[2:], true
			}
		}
	}
	return "", false
}

// positional returns the arguments that are not options. Options listed
// in withValue consume the next word.
func (c *cmd) positional(withValue ...string) []string {
	var out []string
	skip := false
	dash := false
	for _, a := range c.args {
		if skip {
			skip = false
			continue
		}
		if dash || !strings.HasPrefix(a, "-") || a == "-" {
			out = append(out, a)
			continue
		}
		if a == "--" {
			dash = true
			continue
		}
		for _, o := range withValue {
			if a == o {
				skip = true
			}
		}
	}
	return out
}

// sub returns the first positional argument (a subcommand) and the rest.
func (c *cmd) sub(withValue ...string) (string, []string) {
	p := c.positional(withValue...)
	if len(p) == 0 {
		return "", nil
	}
	return p[0], p[1:]
}

// rate judges every command of the facts.
func (k *check) rate() {
	for i := range k.facts.Commands {
		k.command(i)
	}
	k.cur = -1
}

// command judges one command, in each folder it may run in: a finding
// in any of them counts (hit keeps one of each).
func (k *check) command(i int) {
	if i >= len(k.dirs) || !k.dirs[i].Moved() {
		k.judge(i)
		return
	}
	saved := k.where
	for _, d := range k.dirs[i] {
		k.where.cwd, k.where.lost = k.where.dirOf(k.start, d)
		k.judge(i)
	}
	k.where = saved
}

// judge judges one command where k.where says it runs.
func (k *check) judge(i int) {
	m := &k.facts.Commands[i]
	k.cur = i
	c := &cmd{Command: m, idx: i, name: m.Name()}
	if len(m.Argv) > 1 {
		c.args = make([]string, len(m.Argv)-1)
		for j, w := range m.Argv[1:] {
			c.args[j] = w.Lit
		}
	}
	k.generic(c)
	switch {
	case len(m.Argv) == 0:
		// A bare assignment or redirection.
	case m.Argv[0].Dynamic && len(m.Argv[0].Subst) > 0:
		// The program's name is the output of another command.
		k.hit(ruleOpaqueHidden, c.span())
	case m.Argv[0].Assembled:
		// The program's name is assembled to hide it (${x:0:1}, $a$b,
		// {cmd,arg}, $(printf …)): obfuscation, whatever it resolves to.
		if len(m.Argv[0].Subst) > 0 {
			k.hit(ruleOpaqueHidden, c.span())
		} else {
			k.hit(ruleExecObfuscated, c.span())
		}
		if !m.Argv[0].Dynamic && !k.runsSubst(c) {
			k.program(c)
		}
	case m.Argv[0].Dynamic:
		k.hit(ruleOpaque, c.span())
	case !k.runsSubst(c):
		k.program(c)
	}
}

// generic applies the rules that look at every word of every command:
// credential paths, raw sockets, shells handed to other programs, loader
// variables, writes by redirection.
func (k *check) generic(c *cmd) {
	for _, a := range c.Assigns {
		k.assignment(c, a)
	}
	for j, w := range c.Argv {
		if j == 0 {
			k.progPath(c, w)
			continue
		}
		k.word(c, w.Lit)
		for _, i := range w.Subst {
			if decodes(&k.facts.Commands[i]) && !(c.name == "echo" || c.name == "printf") {
				// An argument decoded at run time hides what it is.
				k.hit(ruleOpaqueHidden, c.span())
			}
		}
		if c.Wrapper == "" && strings.HasPrefix(w.Lit, "-") {
			name, val, ok := strings.Cut(w.Lit, "=")
			if !ok && j+1 < len(c.Argv) {
				val = c.Argv[j+1].Lit
			}
			if runsOption(name) && runsSomething(val, &k.where) {
				k.hit(ruleExecIndirect, c.span())
			}
		}
	}
	if c.Background && len(c.Via) == 0 && len(c.Argv) > 0 {
		k.hit(ruleBackground, c.span())
	}
	k.dnsCarriesData(c) // remotes.go
	if netSenders[c.name] && k.envProducer(c) {
		k.hit(ruleEnvExfil, c.span())
	}
	if (c.name == "echo" || c.name == "printf") && k.outputUsed(c) {
		text := strings.Join(c.args, " ")
		if stagesCode(text) {
			k.hit(ruleExecStaged, c.span())
		}
	}
	if len(c.Argv) > 1 && recursiveReader[c.name] {
		for _, w := range c.Argv[1:] {
			if holdsSecrets(k.where.norm(w.Lit)) {
				k.hit(ruleSecretsRead, c.span())
			}
		}
	}
	for _, r := range c.Redirs {
		t := r.Target.Lit
		if strings.HasPrefix(t, "/dev/tcp/") || strings.HasPrefix(t, "/dev/udp/") {
			k.hit(ruleNetSocket, c.span())
			continue
		}
		switch r.Op {
		case "<", "<>":
			k.secretWord(c, t)
		case ">&", ">", ">>", ">|", "&>", "&>>", "w":
			if r.Op == ">&" && isFd(t) {
				continue
			}
			k.write(c, r.Target, r.Op == ">>" || r.Op == "&>>")
		}
	}
	if len(c.Redirs) > 0 || c.name == "tee" {
		// Settings written into a config file (.npmrc, pip.conf …).
		k.configWrite(c)
	}
}

func isFd(s string) bool {
	if s == "-" {
		return true
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func (k *check) assignment(c *cmd, a models.Assign) {
	v := a.Value.Lit
	switch {
	case a.Name == "LD_PRELOAD" || a.Name == "LD_LIBRARY_PATH" && v != "" && (strings.Contains(v, "/tmp") || strings.Contains(v, "/dev/shm")) ||
		a.Name == "DYLD_INSERT_LIBRARIES" || a.Name == "LD_AUDIT":
		k.hit(rulePersistPreload, c.span())
	case a.Name == "HISTFILE" && (v == "/dev/null" || v == "") || a.Name == "HISTSIZE" && v == "0" || a.Name == "HISTFILESIZE" && v == "0" ||
		a.Name == "HISTCONTROL" && strings.Contains(v, "ignorespace") || a.Name == "HISTCONTROL" && strings.Contains(v, "ignoreboth") || a.Name == "HISTIGNORE" && v != "":
		k.hit(ruleEvadeHistory, c.span())
	default:
		// PAGER, NODE_OPTIONS, PIP_INDEX_URL, CHAPERONE_*…: see settings.go.
		k.envSetting(c, a)
	}
	if len(c.Argv) == 0 || c.name == "export" || c.name == "declare" || c.name == "local" || c.name == "readonly" || c.name == "typeset" {
		// X=~/.ssh/id_rsa alone reads nothing; where $X is used, the
		// parser has put its value.
		return
	}
	k.word(c, v)
}

// looksLikeExec reports whether a value names a shell, or a script or
// program outside the project, to run.
func looksLikeExec(v string) bool {
	f := strings.Fields(strings.TrimLeft(v, "|!"))
	if len(f) == 0 {
		return false
	}
	first := f[0]
	if parser.IsShell(baseName(first)) || strings.HasPrefix(first, "/tmp/") || strings.HasPrefix(first, "/dev/shm/") ||
		strings.HasPrefix(first, "/var/tmp/") || strings.Contains(v, "exec ") || strings.Contains(v, "system(") {
		return true
	}
	// PERL5OPT=-d runs the debugger hook named in PERL5DB.
	return strings.Contains(v, "/bin/sh") || strings.Contains(v, "/bin/bash") || strings.HasPrefix(v, "-d")
}

func baseName(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// progPath judges where the program itself lives.
func (k *check) progPath(c *cmd, w models.Word) {
	p := w.Lit
	if !strings.Contains(p, "/") {
		return
	}
	switch k.where.placeOf(p, w.Dynamic) {
	case placeTemp:
		k.hit(ruleExecTemp, c.span())
	case placeHome:
		if isSecret(k.where.norm(p)) {
			k.hit(ruleSecretsRead, c.span())
		}
	}
	if k.downloaded[k.where.norm(p)] {
		k.hit(ruleExecDownload, c.span())
	}
}

// word applies the per-word rules to one argument or value.
func (k *check) word(c *cmd, v string) {
	if v == "" {
		return
	}
	if strings.Contains(v, "/dev/tcp/") || strings.Contains(v, "/dev/udp/") || strings.Contains(v, "/inet/tcp/") || strings.Contains(v, "/inet/udp/") {
		k.hit(ruleNetSocket, c.span())
	}
	k.secretWord(c, v)
	if strings.Contains(v, "chaperone") {
		// Every path of chaperone's own has "chaperone" in it.
		for _, p := range candidatePaths(v) {
			if k.where.isChaperone(k.where.norm(p)) && !(c.name == "cat" || c.name == "ls" || c.name == "chaperone") {
				k.hit(ruleChaperone, c.span())
			}
		}
	}
	// A shell or a staged script handed to a program that is not a
	// wrapper we looked through: that program will run it.
	if c.Wrapper == "" && !parser.IsShell(c.name) && c.name != "which" && c.name != "type" && c.name != "command" &&
		c.name != "ls" && c.name != "file" && c.name != "stat" && c.name != "echo" && c.name != "printf" && c.name != "whereis" {
		if shellArg(v) && !plainShellSetting(c, v) {
			k.hit(ruleExecIndirect, c.span())
		}
	}
	if strings.HasSuffix(v, ".so") || strings.Contains(v, ".so.") && !strings.Contains(v, "/etc/ld.so.") || strings.HasSuffix(v, ".dylib") || strings.HasSuffix(v, ".dll") {
		lib := v
		if i := strings.LastIndexAny(lib, "=:,"); i >= 0 {
			lib = lib[i+1:]
		}
		if pl := k.where.placeOf(lib, false); pl == placeTemp || pl == placeHome || pl == placeUnknown || strings.Contains(lib, "../") || strings.HasPrefix(lib, "./") {
			k.hit(ruleExecLibrary, c.span())
		}
	}
}

// shellArg reports whether an argument hands a shell to a program:
// "/bin/sh", "--rsh=/bin/sh", "exec:/bin/sh", "'/bin/sh -i'".
func shellArg(v string) bool {
	for _, sh := range []string{"/bin/sh", "/bin/bash", "/bin/dash", "/bin/zsh", "/usr/bin/sh", "/usr/bin/bash", "/bin/ksh", "/bin/csh", "/bin/busybox"} {
		i := strings.Index(v, sh)
		if i < 0 {
			continue
		}
		end := i + len(sh)
		if end < len(v) && v[end] != ' ' && v[end] != ',' && v[end] != ';' && v[end] != '"' && v[end] != '\'' && v[end] != ')' && v[end] != '\n' && v[end] != '<' && v[end] != '>' && v[end] != '1' && v[end] != '0' && v[end] != '&' {
			continue
		}
		return true
	}
	return strings.HasPrefix(v, "exec:") || strings.HasPrefix(v, "system:")
}

// secretWord flags a word that names a credential store.
func (k *check) secretWord(c *cmd, v string) {
	if !strings.ContainsAny(v, "/~") && !strings.Contains(v, "id_") && !strings.Contains(v, "credentials") && k.where.cwd == "" {
		// A bare name is one of the project's files, unless a cd moved
		// the command (cd /etc; cat shadow).
		return
	}
	for _, p := range candidatePaths(v) {
		n := k.where.norm(p)
		if isSecret(n) {
			switch c.name {
			case "echo", "printf", "test", "[", "[[", "basename", "dirname", "realpath", "readlink", "cd", "pushd", "which", "type", "file":
				// Names the path without reading it.
				continue
			case "ssh-keygen", "ssh-add", "ssh-copy-id", "chmod", "chown", "ls", "stat", "mkdir", "touch":
				if c.name == "ssh-copy-id" || c.name == "chmod" && c.has("-R", "--recursive") {
					k.hit(ruleSecretsRead, c.span())
				}
				continue
			case "ssh", "scp", "sftp", "rsync", "git":
				if p == "" {
					continue
				}
			}
			k.hit(ruleSecretsRead, c.span())
			return
		}
	}
}

// candidatePaths pulls path-looking pieces out of a word: the word itself,
// option values after "=", "@file" and "file:" forms, and paths inside
// quoted program text.
func candidatePaths(v string) []string {
	out := []string{v}
	if i := strings.IndexByte(v, '='); i >= 0 && i+1 < len(v) {
		out = append(out, v[i+1:])
	}
	if strings.HasPrefix(v, "@") {
		out = append(out, v[1:])
	}
	// Paths inside longer text (program code, URLs, option lists).
	if strings.ContainsAny(v, " \"'(,:<@") {
		for _, f := range strings.FieldsFunc(v, func(r rune) bool {
			return r == ' ' || r == ':' || r == '"' || r == '\'' || r == '(' || r == ')' || r == ',' || r == ';' || r == '<' || r == '>' || r == '=' || r == '@' || r == '\n' || r == '\t' || r == '`' || r == '{' || r == '}' || r == '[' || r == ']'
		}) {
			if strings.HasPrefix(f, "file:") {
				f = strings.TrimPrefix(strings.TrimPrefix(f, "file:"), "//")
			}
			if strings.HasPrefix(f, "/") || strings.HasPrefix(f, "~") || strings.Contains(f, "/.") {
				out = append(out, f)
			}
			if i := strings.LastIndex(f, "/../"); i >= 0 {
				out = append(out, f[i+3:])
			}
		}
	}
	if i := strings.LastIndex(v, "/../"); i >= 0 {
		out = append(out, v[i+3:])
	}
	return out
}

// write judges a file write (redirection, tee, cp destination …).
func (k *check) write(c *cmd, w models.Word, appendOnly bool) {
	t := w.Lit
	if t == "" {
		return
	}
	n := k.where.norm(t)
	pl := k.where.placeOf(t, w.Dynamic)
	if (c.name == "pwd" || c.name == "jobs") && (pl == placeTemp || pl == placeUnknown || pl == placeProject) {
		// Agents record the working directory and background jobs this
		// way after every command (Claude Code, Gemini CLI).
		return
	}
	switch {
	case k.where.isChaperone(n):
		k.hit(ruleChaperone, c.span())
		return
	case isPersist(n):
		if n == "~/.gitconfig" || strings.HasPrefix(n, "~/.config/git/") || n == "~/.npmrc" || strings.HasPrefix(n, "~/.config/pip/") {
			k.hit(ruleWriteConfig, c.span())
			return
		}
		if strings.Contains(n, ".git/hooks") || strings.HasSuffix(n, ".git/config") {
			k.hit(rulePersistGit, c.span())
			return
		}
		k.hit(rulePersistFile, c.span())
		return
	case models.HostExecPath(n) && pl != placeHome:
		// In the home folder these names are an agent's own state (Claude
		// Code's shell snapshots); its settings there are persistFiles.
		k.hit(rulePersistProject, c.span())
		return
	case strings.HasSuffix(n, "_history") || strings.HasSuffix(n, "/.history"):
		k.hit(ruleEvadeHistory, c.span())
		return
	case strings.HasSuffix(n, "/.ssh/known_hosts"):
		k.hit(ruleWriteConfig, c.span())
		return
	case isSecret(n):
		k.hit(ruleSecretsRead, c.span())
		return
	}
	switch pl {
	case placeSystem, placeOther:
		if strings.HasPrefix(n, "/var/log") {
			k.hit(ruleEvadeLogs, c.span())
		}
		k.hit(ruleWriteSystem, c.span())
	case placeHome:
		if cacheDir(n) {
			k.hit(ruleWriteConfig, c.span())
		} else {
			k.hit(ruleWriteHome, c.span())
		}
	case placeDevice:
		k.hit(ruleDestroyDevice, c.span())
	case placeTemp:
		k.hit(ruleWriteTemp, c.span())
	case placeUnknown:
		k.hit(ruleWriteOther, c.span())
	case placeProject:
		if !appendOnly && isSource(n) && !w.Dynamic {
			k.hit(ruleWriteClobber, c.span())
		}
	}
}

func cacheDir(n string) bool {
	for _, p := range []string{"~/.cache/", "~/go/", "~/.npm/", "~/.cargo/registry/", "~/.local/share/", "~/.config/", "~/.m2/", "~/.gradle/", "~/.rustup/", "~/.nvm/", "~/Downloads/", "~/.local/lib/"} {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}

// recursiveReader are programs that read whole trees when given a folder.
var recursiveReader = set("diff", "grep", "rg", "ag", "tar", "zip", "7z", "cp", "rsync", "scp")

// outputUsed reports whether c's stdout goes to a file or a pipe rather
// than the terminal.
func (k *check) outputUsed(c *cmd) bool {
	for _, r := range c.Redirs {
		if r.Op == ">" || r.Op == ">>" || r.Op == ">|" || r.Op == "&>" || r.Op == "&>>" {
			return true
		}
	}
	for j := c.idx + 1; j < len(k.facts.Commands); j++ {
		if k.facts.Commands[j].PipeFrom == c.idx {
			return true
		}
	}
	return false
}

var (
	shebang    = lazyre.New(`#!\s*/(usr/)?bin/(env\s+)?\w+`)
	spawnsText = lazyre.New(`(?i)(/bin/(ba|z|da|k)?sh\b|\besyscmd\(|\bsyscmd\(|os\.execute|\bsystem\s*\(|\bexec\s+["'/]|\bpopen\(|pty\.spawn|child_process|Runtime\.getRuntime|\bshell_exec|\.shell\s+/)`)
)

// stagesCode reports whether text written somewhere is code that starts
// a shell or runs commands (a payload staged for another program).
func stagesCode(text string) bool {
	return spawnsText.MatchString(shebang.ReplaceAllString(text, ""))
}

// runWords are parts of option names whose value is a program to run
// (--conf-script, --rsh-command, --pre-hook …).
var runWords = []string{"script", "command", "exec", "hook", "cmd", "program", "shell", "pager", "editor", "filter", "rsh", "helper", "interpreter", "askpass"}

func runsOption(name string) bool {
	if len(name) < 3 || name[0] != '-' {
		return false
	}
	name = strings.ToLower(name)
	for _, w := range runWords {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// runsSomething reports whether an option value is a command line that
// starts a shell or runs a program from outside the project.
func runsSomething(v string, w *where) bool {
	f := strings.Fields(v)
	if len(f) == 0 {
		return false
	}
	if parser.IsShell(baseName(f[0])) && strings.HasPrefix(f[0], "/") || shellArg(v) || strings.ContainsAny(v, ";|&`") || strings.Contains(v, "$(") {
		return true
	}
	switch w.placeOf(f[0], false) {
	case placeTemp, placeHome:
		return true
	}
	return false
}

// runsSubst judges a shell, eval or interpreter whose code is the output
// of a command substitution: fetched code is download-and-execute,
// decoded code is obfuscated; anything else is left to the opaque rule.
func (k *check) runsSubst(c *cmd) bool {
	runner := c.name == "eval" || parser.IsShell(c.name) || parser.Interpreter(c.name) != "" || c.name == "source" || c.name == "."
	if !runner {
		return false
	}
	for _, w := range c.Argv[1:] {
		for _, i := range w.Subst {
			m := &k.facts.Commands[i]
			if fetcher(m) || k.pipedFrom(i, fetcher) {
				k.hit(ruleExecDownload, c.span())
				return true
			}
			if decodes(m) || k.pipedFrom(i, decodes) {
				k.hit(ruleExecObfuscated, c.span())
				return true
			}
		}
	}
	return false
}

// pipedFrom reports whether a command upstream of command i in its pipe
// satisfies f.
func (k *check) pipedFrom(i int, f func(*models.Command) bool) bool {
	for n := 0; n < 64; n++ {
		p := k.facts.Commands[i].PipeFrom
		if p < 0 || p == i || p >= len(k.facts.Commands) {
			return false
		}
		if f(&k.facts.Commands[p]) {
			return true
		}
		i = p
	}
	return false
}

// netSenders are programs that send their arguments or input over the
// network.
var netSenders = set("curl", "wget", "nc", "ncat", "netcat", "socat", "telnet", "ssh", "scp", "dig", "nslookup", "host",
	"ping", "whois", "finger", "http", "https", "xh", "openssl", "ftp", "sftp", "smbclient", "rsync", "mail", "sendmail", "mutt")
