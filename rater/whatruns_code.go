package rater

import (
	"net/url"
	"strings"

	"github.com/chaperone-dev/chaperone/internal/lazyre"
)

// Project code in Python or JavaScript that a command runs as a side
// effect (conftest.py under pytest, setup.py under pip install, a
// .pnpmfile.cjs, an executable script) is judged by what it does, with
// stronger evidence than an inline one-liner needs: whole files mention
// URLs and run subprocesses for ordinary reasons. The commands it hands a
// shell are rated as shell; otherwise it is high only for a secret path,
// a send to a host that is not this machine, fetched or decoded code it
// runs, a reverse shell, or a write to a start-up file.

var (
	codeShellOut = map[string]*lazyre.RE{
		"python": lazyre.New(`(?s)\b(?:os\.system|os\.popen|subprocess\.(?:run|call|check_call|check_output|Popen|getoutput|getstatusoutput)|commands\.getoutput|os\.exec\w*|pty\.spawn)\s*\(\s*(\[[^\]]*\]|[rfbu]?"(?:[^"\\\n]|\\.)*"|[rfbu]?'(?:[^'\\\n]|\\.)*')`),
		"node":   lazyre.New("(?s)\\b(?:exec|execSync|spawn|spawnSync|execFile|execFileSync)\\s*\\(\\s*(\"(?:[^\"\\\\\\n]|\\\\.)*\"|'(?:[^'\\\\\\n]|\\\\.)*'|`[^`]*`)(\\s*,\\s*\\[[^\\]]*\\])?"),
	}
	codeStrLit  = lazyre.New(`"((?:[^"\\\n]|\\.)*)"|'((?:[^'\\\n]|\\.)*)'|` + "`([^`]*)`")
	codeSend    = lazyre.New(`(?i)(requests\.(post|put|patch)\s*\(|\burlopen\([^)]*\bdata\s*=|urllib\.request\.Request\([^)]*\bdata\s*=|http\.client\.|smtplib|ftplib|paramiko|\.sendall\(|socket\.create_connection|socket\.socket\(|method\s*:\s*["'](POST|PUT|PATCH)|https?\.request\(|net\.connect\(|net\.createConnection|dgram|navigator\.sendBeacon|\.post\s*\()`)
	codeGet     = lazyre.New(`(?i)(\burlopen\(|urlretrieve\(|requests\.get\s*\(|http\.client\.|\bfetch\s*\(|https?\.get\s*\(|axios)`)
	codeRunCode = lazyre.New(`\b(eval|exec|compile|Function|runInThisContext|runInNewContext|__import__)\s*\(`)
	codeEnv     = lazyre.New(`\b(os\.environ\b|os\.getenv|process\.env\b|dict\(os\.environ)`)
	codeURL     = lazyre.New(`(?i)\b(https?|ftp|wss?)://[^\s"'<>` + "`" + `)]+`)
	codeRevSh   = lazyre.New(`(?i)(dup2|pty\.spawn|/bin/(ba)?sh|child_process|subprocess)`)
)

// code judges program text of lang ("python" or "node") that runs from
// folder dir; label names the file.
func (x *runs) code(dir, lang, src, label string) {
	if !x.budget(label) {
		return
	}
	line := func(i int) int { return 1 + strings.Count(src[:i], "\n") }
	snippet := func(i, j int) string {
		s := src[i:j]
		if k := strings.IndexByte(s, '\n'); k >= 0 {
			s = s[:k]
		}
		return s
	}
	// Commands handed to a shell or run: rated as shell.
	if re := codeShellOut[lang]; re != nil {
		for _, m := range re.FindAllStringSubmatchIndex(src, 64) {
			text := shellOfLiteral(src[m[2]:m[3]])
			if len(m) > 5 && m[4] >= 0 {
				// spawn("curl", ["-d", …])
				text += " " + shellOfLiteral(src[m[4]:m[5]])
			}
			if text != "" {
				x.shell(dir, text, label, line(m[0]))
			}
		}
	}
	// String literals: secret paths, start-up files.
	for _, m := range codeStrLit.FindAllStringSubmatchIndex(src, 4096) {
		var s string
		for g := 2; g+1 < len(m); g += 2 {
			if m[g] >= 0 {
				s = src[m[g]:m[g+1]]
			}
		}
		if s == "" || len(s) > 512 {
			continue
		}
		for _, p := range codePaths(s) {
			n := x.where.norm(p)
			switch {
			case isSecret(n):
				x.add(ruleSecretsRead, label, line(m[0]), snippet(m[0], m[1]))
			case (strings.HasPrefix(n, "~/") || strings.HasPrefix(n, "/")) && isPersist(n):
				x.add(rulePersistFile, label, line(m[0]), snippet(m[0], m[1]))
			}
		}
	}
	remote := -1
	for _, m := range codeURL.Regexp().FindAllStringIndex(src, 256) {
		if !runLocalURL(src[m[0]:m[1]]) {
			remote = m[0]
			break
		}
	}
	if loc := codeSend.FindStringIndex(src); loc != nil {
		env := codeEnv.FindStringIndex(src)
		switch {
		case env != nil && remote >= 0:
			x.add(ruleEnvExfil, label, line(loc[0]), snippet(loc[0], loc[1]))
		case remote >= 0:
			x.add(ruleNetUpload, label, line(loc[0]), snippet(loc[0], loc[1]))
		}
		if sock := strings.Contains(src, "socket") || strings.Contains(src, "net.connect") || strings.Contains(src, "createConnection"); sock {
			if rv := codeRevSh.FindStringIndex(src); rv != nil && (strings.Contains(src, "dup2") || strings.Contains(src, ".pipe(") || strings.Contains(src, "pty.spawn") || strings.Contains(src, "fileno")) {
				x.add(ruleShellReverse, label, line(loc[0]), snippet(loc[0], loc[1]))
			}
		}
	}
	if run := codeRunCode.FindStringIndex(src); run != nil {
		if codeGet.MatchString(src) && remote >= 0 {
			x.add(ruleExecDownload, label, line(run[0]), snippet(run[0], run[1]))
		}
		if codeDecode.MatchString(src) {
			x.add(ruleExecObfuscated, label, line(run[0]), snippet(run[0], run[1]))
		}
	}
}

// shellOfLiteral turns a code literal that holds a command — a string,
// or a list of strings (argv) — into shell text; "" when nothing literal.
func shellOfLiteral(lit string) string {
	lit = strings.TrimSpace(lit)
	if strings.HasPrefix(lit, "[") {
		var parts []string
		for _, m := range codeStrLit.FindAllStringSubmatch(lit, 64) {
			s := m[1] + m[2] + m[3]
			parts = append(parts, runQuote(s))
		}
		return strings.Join(parts, " ")
	}
	if i := strings.IndexAny(lit, "\"'`"); i >= 0 && i <= 2 {
		if strings.ContainsAny(lit[:i], "fF") {
			// An f-string: the holes are run-time values.
			lit = strings.NewReplacer("{", "${", "}", "}").Replace(lit)
		}
		lit = lit[i+1:]
		if len(lit) > 0 {
			lit = lit[:len(lit)-1]
		}
	}
	if strings.Contains(lit, "${") && strings.HasPrefix(strings.TrimSpace(lit), "${") {
		return ""
	}
	return strings.NewReplacer(`\"`, `"`, `\'`, `'`, `\n`, "\n", `\\`, `\`).Replace(lit)
}

// codePaths returns the paths a string literal may name, with "~/" for
// names that only make sense in the home folder (".ssh/id_rsa").
func codePaths(s string) []string {
	out := []string{s}
	if strings.HasPrefix(s, ".") && !strings.HasPrefix(s, "./") && !strings.HasPrefix(s, "..") {
		out = append(out, "~/"+s)
	}
	if !strings.ContainsAny(s, "/ ") {
		for _, n := range secretNames {
			if s == n {
				out = append(out, "~/"+s)
			}
		}
	}
	return out
}

// runLocalURL reports whether a URL points at this machine.
func runLocalURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	h := u.Hostname()
	return h == "localhost" || strings.HasPrefix(h, "127.") || h == "0.0.0.0" || h == "::1" || h == "" || strings.HasSuffix(h, ".localhost") || h == "testserver"
}
