package rater

import (
	"strings"

	"github.com/chaperone-dev/chaperone/catalog"
	"github.com/chaperone-dev/chaperone/internal/lazyre"
	"github.com/chaperone-dev/chaperone/parser"
)

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// program applies the rules for the program c runs: the check its
// catalogue entry names (catalog.Lookup, checks). A program the catalogue
// does not know is left undecided (see unfamiliar).
func (k *check) program(c *cmd) {
	k.catalogued(c)
	e := catalog.Lookup(c.name)
	if e != nil && !k.defined(c) {
		k.effects(c, e)
	}
	h := handlerOf(e)
	if strings.Contains(c.Argv[0].Lit, "/") && k.where.placeOf(c.Argv[0].Lit, false) == placeProject {
		// A script or binary of the project (./run.sh, bin/server,
		// ./gradlew): the rules cannot see inside it. When it bears the
		// name of a program we know (./gradlew, a copied ./python), what
		// that program would do with these arguments is judged too.
		k.hit(ruleScript, c.span())
		if h != nil {
			h(k, c)
		} else if lang := parser.Interpreter(c.name); lang != "" {
			k.interpreter(c, lang)
		}
		return
	}
	if h != nil {
		h(k, c)
		return
	}
	if k.defined(c) {
		// A function defined in this text: its body is rated.
		return
	}
	if strings.HasPrefix(c.name, "mkfs.") || strings.HasPrefix(c.name, "mkswap") || strings.HasPrefix(c.name, "fsck.") {
		device(k, c)
		return
	}
	if lang := parser.Interpreter(c.name); lang != "" {
		k.interpreter(c, lang)
		return
	}
	if e == nil || e.Check != "" {
		// Unknown, or an entry whose check did not apply (an interpreter
		// entry under a name the parser does not take for one).
		k.unfamiliar(c)
	}
}

// defined reports whether c calls a function defined in this text
// rather than the program of that name.
func (k *check) defined(c *cmd) bool {
	for _, fn := range k.facts.Functions {
		if fn == c.name && c.Argv[0].Lit == fn {
			return true
		}
	}
	return false
}

// escapeText matches argument text that makes a program run a shell or
// code: vi's ":!", "!sh", Lua's os.execute, system(), exec "…".
var escapeText = lazyre.New(`(^|[\s'"({;:])(:!|!\s*/?\w*sh\b)|os\.execute|\bsystem\s*\(|\bexec\s*\(|\bexec\s+["'/]|\bpopen\s*\(|\bspawn\s*\(|\bsyscmd\s*\(|\bsh\s+-c\b`)

// unfamiliar judges a program no rule knows: undecided, unless its
// arguments hand it a shell escape or name files whose change makes code
// run later, which no ordinary tool needs.
func (k *check) unfamiliar(c *cmd) {
	k.hit(ruleUnknown, c.span())
	for _, a := range c.args {
		if escapeText.MatchString(a) {
			k.hit(ruleExecIndirect, c.span())
			return
		}
		for _, p := range candidatePaths(a) {
			if n := k.where.norm(p); (strings.HasPrefix(n, "/") || strings.HasPrefix(n, "~")) && isPersist(n) && n != "/etc/passwd" && n != "/etc/group" && n != "/etc/hosts" && n != "/etc/resolv.conf" {
				k.hit(rulePersistFile, c.span())
				return
			}
		}
	}
}

// catalogued applies the classes kept as tables: package sources
// (sources.go), settings written by a tool's config command
// (configwrite.go) and attacks on chaperone itself (self.go).
func (k *check) catalogued(c *cmd) {
	switch {
	case signallers[c.name]:
		k.selfSignal(c)
	case c.name == "unset" || c.name == "env":
		k.guardEnvRemoved(c)
	case installerProg(c.name):
		k.packageSource(c)
		k.configCommand(c)
	case parser.Interpreter(c.name) == "python":
		// python -m pip …: pip's own arguments.
		for i, a := range c.args {
			if a == "-m" && i+1 < len(c.args) && c.args[i+1] == "pip" {
				pip := &cmd{Command: c.Command, idx: c.idx, name: "pip", args: c.args[i+2:]}
				k.packageSource(pip)
				k.configCommand(pip)
				break
			}
			if !strings.HasPrefix(a, "-") {
				break
			}
		}
	}
}
