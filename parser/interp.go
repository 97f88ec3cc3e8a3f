package parser

import (
	"strings"

	"github.com/chaperone-dev/chaperone/internal/lazyre"
	"github.com/chaperone-dev/chaperone/models"
)

// Interpreter returns the language of an interpreter program name
// ("python3.12" → "python"), or "".
func Interpreter(name string) string {
	n := strings.TrimRight(name, "0123456789.")
	switch n {
	case "python", "pypy", "python-", "jython":
		return "python"
	case "perl":
		return "perl"
	case "ruby", "irb", "jruby":
		return "ruby"
	case "node", "nodejs", "deno", "bun":
		return "node"
	case "php", "php-cli":
		return "php"
	case "lua", "luajit", "texlua":
		return "lua"
	case "tclsh", "wish", "expect":
		return "tcl"
	case "osascript", "pwsh", "powershell":
		return n
	case "julia", "Rscript", "R", "guile", "sbcl", "gdb", "jrunscript", "jjs", "octave", "nix":
		return strings.ToLower(n)
	}
	return ""
}

// codeFlags says which option of each language introduces inline code.
var codeFlags = map[string][]string{
	"python":     {"-c"},
	"perl":       {"-e", "-E"},
	"ruby":       {"-e"},
	"node":       {"-e", "--eval", "-p", "--print", "eval"},
	"php":        {"-r", "--run", "-R", "--process-code", "-B", "--process-begin", "-E", "--process-end"},
	"lua":        {"-e"},
	"tcl":        {"-c"},
	"julia":      {"-e", "--eval", "-E"},
	"rscript":    {"-e"},
	"r":          {"-e"},
	"guile":      {"-c"},
	"octave":     {"--eval"},
	"gdb":        {"-ex", "--eval-command"},
	"jrunscript": {"-e"},
	"pwsh":       {"-c", "-Command", "-command"},
}

// InlineCode returns the inline program text that an interpreter command
// runs (python -c CODE, perl -e CODE …) and its language, or "" and nil.
func InlineCode(c *models.Command) (string, *models.Word) {
	return interpreterCode(c.Name(), c.Argv[1:])
}

func interpreterCode(name string, rest []models.Word) (string, *models.Word) {
	lang := Interpreter(name)
	if lang == "" {
		return "", nil
	}
	flags := codeFlags[lang]
	for i, a := range rest {
		for _, f := range flags {
			if a.Lit == f && i+1 < len(rest) {
				return lang, &rest[i+1]
			}
			// Clustered forms such as perl -le 'code' or python -Bc 'code'.
			if len(f) == 2 && flagCluster(lang, a.Lit) && strings.HasSuffix(a.Lit, f[1:]) && i+1 < len(rest) {
				return lang, &rest[i+1]
			}
		}
		if !strings.HasPrefix(a.Lit, "-") {
			break
		}
	}
	return lang, nil
}

// valueLetters are the one-letter options of each language that take a
// value, which may be attached (perl -MLWP::Simple, ruby -rnet/http).
var valueLetters = map[string]string{"perl": "MmIxCd", "ruby": "rIECFTKx", "python": "WXm", "node": "r", "php": "dcz"}

// flagCluster reports whether an argument is a few one-letter options
// written together (-lne, -Bc), not an option with its value attached,
// whose last letter means nothing.
func flagCluster(lang, a string) bool {
	if len(a) < 3 || len(a) > 6 || a[0] != '-' {
		return false
	}
	for _, r := range a[1 : len(a)-1] {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') || strings.ContainsRune(valueLetters[lang], r) {
			return false
		}
	}
	return true
}

// shellCalls find string literals passed to functions that run a shell
// command, in the common scripting languages.
var shellCalls = lazyre.New(`(?:os\.system|os\.popen|subprocess\.(?:call|run|Popen|check_output|check_call|getoutput|getstatusoutput)|commands\.getoutput|system|exec|popen|shell_exec|passthru|proc_open|execSync|exec|spawnSync|spawn|execFileSync|os\.execute|io\.popen|Process\.spawn|IO\.popen|Open3\.\w+|pty\.spawn|os\.exec[lv]p?e?|%x)\s*\(?\s*(?:\[\s*)?(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|` + "`" + `([^` + "`" + `]*)` + "`" + `)`)

// backticks in perl, ruby and php run a shell command, as do perl's
// qx{…} and ruby's %x{…} with any of the usual brackets.
var backticks = lazyre.New("`([^`]+)`" + `|(?:\bqx|%x)\s*(?:\{([^}]*)\}|\(([^)]*)\)|\[([^\]]*)\]|/([^/]*)/|\|([^|]*)\|)`)

func (s *scope) oneLiner(idx int, lang string, code models.Word) {
	label := lang + " -c"
	switch lang {
	case "perl", "ruby", "lua", "julia", "node":
		label = lang + " -e"
	case "php":
		label = "php -r"
	}
	if code.Dynamic {
		s.w.opaque(label + " runs code built at run time")
	}
	for _, m := range shellCalls.FindAllStringSubmatch(code.Lit, 8) {
		str := m[1] + m[2] + m[3]
		if str == "" {
			continue
		}
		s.shellCode(idx, label, models.Word{Lit: unescapeC(str)}, false)
	}
	if lang == "perl" || lang == "ruby" || lang == "php" {
		for _, m := range backticks.FindAllStringSubmatch(code.Lit, 8) {
			if cmd := strings.Join(m[1:], ""); cmd != "" {
				s.shellCode(idx, label, models.Word{Lit: cmd}, false)
			}
		}
	}
}
