package rater

import (
	"path/filepath"
	"sort"
	"strings"
)

// A Makefile, read as far as rating needs: variables (with $(shell …) and
// != kept as shell text), rules with their recipes, includes, the default
// goal. Conditionals are not evaluated: every branch counts.

// makefile is a parsed Makefile.
type makefile struct {
	vars    map[string]string
	rules   []makeRule
	targets map[string][]int // explicit target → rule indexes
	goal    string           // the default goal
	// shells are $(shell …) and != texts outside recipes, evaluated when
	// make reads the file or uses the variable.
	shells   []makeLine
	includes []makeLine
	// budget is what expansions for one make command may still produce
	// (see maxExpand).
	budget int
}

// expand expands s as makeExpand does, within mf's budget.
func (mf *makefile) expand(s string, r *makeRule) string {
	return makeExpandB(s, mf.vars, r, 0, &mf.budget)
}

type makeRule struct {
	targets, prereqs []string
	recipe           []makeLine
	line             int
	pattern          bool
	file             string // set when merged: the file it came from
}

type makeLine struct {
	text string
	line int
	file string // as makeRule.file
}

// maxMakeLines bounds the lines of a Makefile parsed.
const maxMakeLines = 20000

// parseMakefile reads Makefile text. It never fails: what it cannot read
// is skipped.
func parseMakefile(data []byte) *makefile {
	mf := &makefile{vars: map[string]string{}, targets: map[string][]int{}}
	lines := strings.Split(string(data), "\n")
	if len(lines) > maxMakeLines {
		lines = lines[:maxMakeLines]
	}
	cur := -1 // the rule whose recipe lines follow
	var define *strings.Builder
	defName := ""
	for i := 0; i < len(lines); i++ {
		start := i + 1
		text := strings.TrimSuffix(lines[i], "\r")
		for makeContLine(text) && i+1 < len(lines) {
			i++
			text = text[:len(text)-1] + " " + strings.TrimLeft(strings.TrimSuffix(lines[i], "\r"), " \t")
		}
		if define != nil {
			if strings.TrimSpace(text) == "endef" {
				mf.vars[defName] = define.String()
				mf.noteShells(define.String(), start)
				define = nil
				continue
			}
			define.WriteString(text)
			define.WriteByte('\n')
			continue
		}
		if strings.HasPrefix(text, "\t") && cur >= 0 {
			mf.rules[cur].recipe = append(mf.rules[cur].recipe, makeLine{text: text[1:], line: start})
			continue
		}
		text = makeStripComment(text)
		t := strings.TrimSpace(text)
		if t == "" {
			continue
		}
		for _, p := range []string{"export ", "override ", "private ", "unexport "} {
			t = strings.TrimPrefix(t, p)
		}
		word, rest, _ := strings.Cut(t, " ")
		switch word {
		case "define":
			name := strings.Fields(rest)
			if len(name) > 0 {
				defName = name[0]
			}
			define = &strings.Builder{}
			cur = -1
			continue
		case "include", "-include", "sinclude":
			for _, f := range strings.Fields(rest) {
				mf.includes = append(mf.includes, makeLine{text: f, line: start})
			}
			continue
		case "ifeq", "ifneq", "ifdef", "ifndef", "else", "endif", "vpath":
			mf.noteShells(rest, start)
			continue
		}
		if name, op, val, ok := makeAssign(t); ok {
			if op == "!=" {
				mf.shells = append(mf.shells, makeLine{text: val, line: start})
			}
			mf.noteShells(val, start)
			if op == "+=" && mf.vars[name] != "" {
				val = mf.vars[name] + " " + val
			}
			if op != "?=" || mf.vars[name] == "" {
				mf.vars[name] = val
			}
			if name == ".DEFAULT_GOAL" {
				mf.goal = strings.TrimSpace(val)
			}
			cur = -1
			continue
		}
		cur = mf.rule(t, start)
		mf.noteShells(t, start)
	}
	return mf
}

// makeContLine reports whether a line ends in an unescaped backslash.
func makeContLine(s string) bool {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

func makeStripComment(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '#' && (i == 0 || s[i-1] != '\\') {
			return s[:i]
		}
	}
	return s
}

// makeTop returns the index of the first byte of t that is one of any
// and outside $(…) and ${…}, or -1.
func makeTop(t, any string) int {
	depth := 0
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case c == '(' || c == '{':
			depth++
		case c == ')' || c == '}':
			depth = max(depth-1, 0)
		case depth == 0 && strings.IndexByte(any, c) >= 0:
			return i
		}
	}
	return -1
}

// makeAssign splits a variable assignment "NAME op VALUE"; ok is false
// for a rule line.
func makeAssign(t string) (name, op, val string, ok bool) {
	i := makeTop(t, ":=")
	switch {
	case i < 0:
		return "", "", "", false
	case t[i] == ':':
		for _, o := range []string{":::=", "::=", ":="} {
			if strings.HasPrefix(t[i:], o) {
				return strings.TrimSpace(t[:i]), o, strings.TrimSpace(t[i+len(o):]), true
			}
		}
		return "", "", "", false
	}
	j, op := i, "="
	if j > 0 && strings.IndexByte("?+!", t[j-1]) >= 0 {
		op = t[j-1 : j+1]
		j--
	}
	return strings.TrimSpace(t[:j]), op, strings.TrimSpace(t[i+1:]), true
}

// rule records a rule line and returns its index, or -1.
func (mf *makefile) rule(t string, line int) int {
	colon := makeTop(t, ":")
	if colon < 0 {
		return -1
	}
	head := t[:colon]
	tail := strings.TrimLeft(t[colon+1:], ":&")
	var inline string
	if i := strings.IndexByte(tail, ';'); i >= 0 {
		tail, inline = tail[:i], tail[i+1:]
	}
	if _, _, _, ok := makeAssign(tail); ok && inline == "" {
		// A target-specific variable: "target: VAR = value".
		return -1
	}
	if i := strings.LastIndexByte(tail, ':'); i >= 0 {
		// A static pattern rule: targets: %.o: %.c
		tail = tail[i+1:]
	}
	r := makeRule{targets: strings.Fields(head), line: line}
	for _, p := range strings.Fields(tail) {
		if p != "|" {
			r.prereqs = append(r.prereqs, p)
		}
	}
	for _, tg := range r.targets {
		if strings.Contains(tg, "%") {
			r.pattern = true
		}
	}
	if strings.TrimSpace(inline) != "" {
		r.recipe = append(r.recipe, makeLine{text: inline, line: line})
	}
	mf.rules = append(mf.rules, r)
	idx := len(mf.rules) - 1
	for _, tg := range r.targets {
		if !r.pattern {
			mf.targets[tg] = append(mf.targets[tg], idx)
		}
		if mf.goal == "" && !r.pattern && (!strings.HasPrefix(tg, ".") || strings.Contains(tg, "/")) {
			mf.goal = tg
		}
	}
	return idx
}

// noteShells records the $(shell …) calls in text.
func (mf *makefile) noteShells(text string, line int) {
	for off := 0; ; {
		i := strings.Index(text[off:], "$(shell ")
		if i < 0 {
			i = strings.Index(text[off:], "${shell ")
			if i < 0 {
				return
			}
		}
		i += off
		end := makeParen(text, i+1)
		if end < 0 {
			mf.shells = append(mf.shells, makeLine{text: text[i+8:], line: line})
			return
		}
		mf.shells = append(mf.shells, makeLine{text: text[i+8 : end], line: line})
		off = end
	}
}

// makeParen returns the index of the bracket closing the one at i.
func makeParen(s string, i int) int {
	open, close := s[i], byte(')')
	if open == '{' {
		close = '}'
	}
	depth := 0
	for j := i; j < len(s); j++ {
		switch s[j] {
		case open:
			depth++
		case close:
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}

// makeExpand expands make references in s with vars; automatic variables
// come from the rule. Unknown variables become shell variables (make
// takes them from the environment); unknown functions become an unknown
// value. depth bounds recursion.
func makeExpand(s string, vars map[string]string, r *makeRule, depth int) string {
	budget := maxExpand
	return makeExpandB(s, vars, r, depth, &budget)
}

// maxExpand bounds the text one expansion produces, over all its nested
// references (a Makefile whose variables double at every level would
// otherwise take exponential time).
const maxExpand = 1 << 20

func makeExpandB(s string, vars map[string]string, r *makeRule, depth int, budget *int) string {
	if depth > 12 || !strings.Contains(s, "$") {
		*budget -= len(s)
		return s
	}
	if *budget <= 0 {
		return ""
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		n := s[i+1]
		switch {
		case n == '$':
			b.WriteByte('$')
			i++
		case n == '(' || n == '{':
			end := makeParen(s, i+1)
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			b.WriteString(makeRef(s[i+2:end], vars, r, depth, budget))
			i = end
		default:
			b.WriteString(makeRef(string(n), vars, r, depth, budget))
			i++
		}
	}
	return b.String()
}

func makeRef(ref string, vars map[string]string, r *makeRule, depth int, budget *int) string {
	if *budget <= 0 {
		return ""
	}
	if fn, arg, ok := strings.Cut(ref, " "); ok && !strings.ContainsAny(fn, ":=") {
		arg = makeExpandB(arg, vars, r, depth+1, budget)
		args := strings.Split(arg, ",")
		switch fn {
		case "shell":
			return "$(" + arg + ")"
		case "strip", "wildcard", "sort", "notdir", "dir", "basename", "realpath", "abspath", "firstword", "lastword", "value":
			return strings.TrimSpace(arg)
		case "subst":
			if len(args) >= 3 {
				return strings.ReplaceAll(strings.Join(args[2:], ","), args[0], args[1])
			}
		case "addprefix", "addsuffix", "filter", "filter-out", "patsubst", "foreach", "join", "words", "word", "wordlist":
			if len(args) >= 2 {
				return args[len(args)-1]
			}
		case "if", "or", "and":
			return strings.Join(args[1:], " ")
		case "call":
			if len(args) >= 1 {
				body := vars[strings.TrimSpace(args[0])]
				for k := len(args) - 1; k >= 1; k-- {
					body = strings.ReplaceAll(body, "$("+string(rune('0'+k))+")", args[k])
				}
				return makeExpandB(body, vars, r, depth+1, budget)
			}
		case "info", "warning", "error", "eval", "origin", "flavor":
			return ""
		}
		return "${__make_fn}"
	}
	name := ref
	var from, to string
	if i := strings.IndexByte(ref, ':'); i >= 0 {
		// $(VAR:.c=.o)
		name = ref[:i]
		from, to, _ = strings.Cut(ref[i+1:], "=")
	}
	var val string
	switch name {
	case "@", "@D", "@F":
		if r != nil && len(r.targets) > 0 {
			val = r.targets[0]
		}
	case "<", "<D", "<F":
		if r != nil && len(r.prereqs) > 0 {
			val = r.prereqs[0]
		}
	case "^", "+", "?":
		if r != nil {
			val = strings.Join(r.prereqs, " ")
		}
	case "*":
		val = "stem"
	default:
		v, ok := vars[name]
		if !ok {
			if v, ok = makeDefaults[name]; !ok {
				if makeVarName(name) {
					return "${" + name + "}"
				}
				return ""
			}
		}
		val = makeExpandB(v, vars, r, depth+1, budget)
	}
	if from != "" {
		f := strings.Fields(val)
		for k, w := range f {
			if strings.HasSuffix(w, from) {
				f[k] = strings.TrimSuffix(w, from) + to
			}
		}
		val = strings.Join(f, " ")
	}
	return val
}

var makeDefaults = map[string]string{
	"MAKE": "make", "CC": "cc", "CXX": "g++", "RM": "rm -f", "AR": "ar", "AS": "as", "CPP": "cc -E", "FC": "f77",
	"LEX": "lex", "YACC": "yacc", "LD": "ld", "SHELL": "/bin/sh", "MAKEFLAGS": "", "MFLAGS": "", "CFLAGS": "", "CXXFLAGS": "",
	"LDFLAGS": "", "CPPFLAGS": "", "LDLIBS": "", "ARFLAGS": "rv", "INSTALL": "install",
}

func makeVarName(n string) bool {
	if n == "" {
		return false
	}
	for i, r := range n {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// makeOpts are make's options that take a value in the next word.
var makeOpts = []string{"-f", "--file", "--makefile", "-C", "--directory", "-I", "--include-dir", "-j", "--jobs", "-l", "--load-average",
	"-o", "--old-file", "--assume-old", "-W", "--what-if", "--new-file", "--assume-new", "-E", "--eval"}

// runMake rates what `make [VAR=value …] [target …]` runs: the recipes of
// the goals and everything they depend on, the $(shell …) and != texts
// make evaluates, and a SHELL the Makefile sets; included files too.
func runMake(x *runs, c *cmd, dir string) {
	var files, goals, evals []string
	over := map[string]string{}
	args := c.args
	for _, a := range c.Assigns {
		if a.Name == "MAKEFLAGS" || a.Name == "GNUMAKEFLAGS" || a.Name == "MFLAGS" {
			for _, w := range strings.Fields(a.Value.Lit) {
				if strings.HasPrefix(w, "--eval=") {
					evals = append(evals, w[len("--eval="):])
				} else if n, v, ok := strings.Cut(w, "="); ok && makeVarName(n) {
					over[n] = v
				}
			}
		}
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		val := func(short, long string) (string, bool) {
			switch {
			case a == short || a == long:
				if i+1 < len(args) {
					i++
					return args[i], true
				}
			case strings.HasPrefix(a, long+"="):
				return a[len(long)+1:], true
			case len(short) == 2 && strings.HasPrefix(a, short) && len(a) > 2 && !strings.HasPrefix(a, "--"):
				return a[2:], true
			}
			return "", false
		}
		if v, ok := val("-C", "--directory"); ok {
			dir = x.abs(dir, v)
			continue
		}
		if v, ok := val("-f", "--file"); ok {
			files = append(files, v)
			continue
		}
		if v, ok := val("", "--makefile"); ok {
			files = append(files, v)
			continue
		}
		if v, ok := val("-E", "--eval"); ok {
			evals = append(evals, v)
			continue
		}
		if a == "-j" || a == "--jobs" || a == "-l" {
			if i+1 < len(args) && args[i+1] != "" && args[i+1][0] >= '0' && args[i+1][0] <= '9' {
				i++
			}
			continue
		}
		if a == "-I" || a == "-o" || a == "-W" || a == "--include-dir" || a == "--old-file" || a == "--what-if" || a == "--new-file" || a == "--assume-old" || a == "--assume-new" {
			i++
			continue
		}
		if strings.HasPrefix(a, "-") {
			continue
		}
		if n, v, ok := strings.Cut(a, "="); ok && makeVarName(strings.TrimRight(n, ":+?")) {
			over[strings.TrimRight(n, ":+?")] = v
			continue
		}
		goals = append(goals, a)
	}
	if !x.inside(dir) {
		return
	}
	if len(files) == 0 {
		for _, n := range []string{"GNUmakefile", "makefile", "Makefile"} {
			p := filepath.Join(dir, n)
			if runExists(p) {
				files = append(files, n)
				break
			}
		}
	}
	mf := &makefile{vars: map[string]string{}, targets: map[string][]int{}}
	var names []string
	for _, f := range files {
		p := x.abs(dir, f)
		if x.loadMake(mf, p, 0) {
			names = append(names, x.rel(p))
		}
	}
	for _, e := range evals {
		em := parseMakefile([]byte(strings.ReplaceAll(e, "\\n", "\n")))
		mergeMake(mf, em, "make --eval")
		names = append(names, "--eval")
	}
	if len(names) == 0 {
		return
	}
	label := names[0]
	key := strings.Join(names, "\x00") + "\x00" + strings.Join(goals, " ")
	if x.chain[key] {
		return
	}
	x.chain[key] = true
	defer delete(x.chain, key)
	for n, v := range over {
		mf.vars[n] = v
	}
	mf.budget = 4 * maxExpand
	if len(goals) == 0 && mf.goal != "" {
		goals = []string{mf.goal}
	}
	for _, s := range mf.shells {
		x.shell(dir, mf.expand(s.text, nil), s.file, s.line)
	}
	if sh, ok := mf.vars["SHELL"]; ok {
		if v := strings.TrimSpace(mf.expand(sh, nil)); !runPlainShell(v) {
			x.shell(dir, v+" -c :", label+" (SHELL)", 0)
		}
	}
	for _, i := range mf.plan(goals) {
		r := &mf.rules[i]
		if len(r.recipe) == 0 {
			continue
		}
		var b strings.Builder
		lines := make([]int, 0, len(r.recipe))
		for _, l := range r.recipe {
			t := strings.TrimSpace(mf.expand(l.text, r))
			t = strings.TrimLeft(t, "@-+ \t")
			b.WriteString(t)
			b.WriteByte('\n')
			lines = append(lines, l.line)
			// A continued line occupies one text line here.
		}
		x.shellLines(dir, b.String(), r.file, lines)
	}
}

// runPlainShell reports whether a SHELL value is an ordinary shell.
func runPlainShell(v string) bool {
	f := strings.Fields(v)
	if len(f) == 0 {
		return true
	}
	return len(f) <= 3 && strings.HasPrefix(f[0], "/") && (strings.HasPrefix(f[0], "/bin/") || strings.HasPrefix(f[0], "/usr/bin/")) &&
		(runShellBase(baseName(f[0])) || baseName(f[0]) == "env" && len(f) > 1 && runShellBase(f[1]))
}

func runShellBase(n string) bool {
	switch n {
	case "sh", "bash", "dash", "zsh", "ksh":
		return true
	}
	return false
}

// loadMake reads Makefile p (and what it includes) into mf; it reports
// whether p was read.
func (x *runs) loadMake(mf *makefile, p string, depth int) bool {
	if depth > 8 || x.chain["include\x00"+p] {
		return false
	}
	data, ok := x.readUnit(p)
	if !ok {
		return false
	}
	part := parsedAs("make", data, parseMakefile)
	x.chain["include\x00"+p] = true
	defer delete(x.chain, "include\x00"+p)
	for _, inc := range part.includes {
		name := makeExpand(inc.text, part.vars, nil, 0)
		if strings.ContainsAny(name, "$*?[") {
			continue
		}
		sub := &makefile{vars: map[string]string{}, targets: map[string][]int{}}
		if x.loadMake(sub, x.abs(filepath.Dir(p), name), depth+1) {
			mergeMake(mf, sub, "")
		}
	}
	mergeMake(mf, part, x.rel(p))
	return true
}

// mergeMake adds b's definitions, read from file, to a (b's variables
// win; a's goal does). b is not changed: it may be a cached parse.
func mergeMake(a, b *makefile, file string) {
	for k, v := range b.vars {
		a.vars[k] = v
	}
	off := len(a.rules)
	for _, r := range b.rules {
		if r.file == "" {
			r.file = file
		}
		a.rules = append(a.rules, r)
	}
	for t, idx := range b.targets {
		for _, i := range idx {
			a.targets[t] = append(a.targets[t], i+off)
		}
	}
	if a.goal == "" {
		a.goal = b.goal
	}
	if g, ok := b.vars[".DEFAULT_GOAL"]; ok {
		a.goal = strings.TrimSpace(g)
	}
	for _, s := range b.shells {
		if s.file == "" {
			s.file = file
		}
		a.shells = append(a.shells, s)
	}
}

// plan returns the rules that making goals may run, in a stable order:
// their rules, their prerequisites' rules, and pattern rules for targets
// with no explicit rule.
func (mf *makefile) plan(goals []string) []int {
	seen := map[int]bool{}
	done := map[string]bool{}
	var patterns []int // the first pattern rules, enough for real Makefiles
	for i := range mf.rules {
		if mf.rules[i].pattern && len(patterns) < 256 {
			patterns = append(patterns, i)
		}
	}
	var walk func(t string, depth int)
	walk = func(t string, depth int) {
		if done[t] || depth > 64 || len(seen) > 4096 || len(done) > 4096 {
			return
		}
		done[t] = true
		idx := mf.targets[t]
		if len(idx) == 0 {
			for _, i := range patterns {
				if matchesPattern(mf.rules[i].targets, t) {
					idx = append(idx, i)
				}
			}
			if len(idx) == 0 {
				idx = mf.targets[".DEFAULT"]
			}
		}
		for _, i := range idx {
			seen[i] = true
			for _, p := range mf.rules[i].prereqs {
				walk(mf.expand(p, nil), depth+1)
			}
		}
	}
	for _, g := range goals {
		walk(g, 0)
	}
	out := make([]int, 0, len(seen))
	for i := range seen {
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}

func matchesPattern(targets []string, t string) bool {
	for _, p := range targets {
		pre, suf, ok := strings.Cut(p, "%")
		if ok && len(t) >= len(pre)+len(suf) && strings.HasPrefix(t, pre) && strings.HasSuffix(t, suf) {
			return true
		}
	}
	return false
}
