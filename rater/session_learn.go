package rater

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/chaperone-dev/chaperone/memory"
	"github.com/chaperone-dev/chaperone/models"
)

// Learn returns what a command that ran tells the session's memory: the
// files it wrote and how (downloaded, decoded, written as text, holding
// secret data), copies, moves, removals and chmod +x of files, git
// remotes and settings it changed, and secret files it staged. facts are
// req.Command's; req.Memory is the memory before it (for what the
// command read of earlier files: `cat x > y` copies what x held). Learn
// is pure: it reads no file. The caller applies the notes only once the
// command was allowed to run (see memory.Store).
func Learn(req Request, facts *models.Facts) []memory.Note {
	if facts == nil {
		return nil
	}
	l := &learner{facts: facts, memo: map[int]*flow{}}
	l.home = req.Home
	if l.home == "" {
		l.home, _ = os.UserHomeDir()
	}
	l.home = filepath.Clean(l.home)
	l.cwd = cmpOr(req.Cwd, req.Project)
	if l.cwd == "" {
		l.cwd, _ = os.Getwd()
	}
	l.project = cmpOr(req.Project, l.cwd)
	l.where = where{home: l.home, project: l.project}
	if l.where.project == l.home {
		l.where.project = ""
	}
	l.work = req.Memory
	for i := range facts.Commands {
		l.command(i)
	}
	return l.notes
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// learner is the state of Learn over one command string.
type learner struct {
	facts              *models.Facts
	home, cwd, project string
	where              where
	// work is the memory as the string's commands so far leave it: the
	// caller's until the first note, then a copy (cloned).
	work   *memory.Session
	cloned bool
	notes  []memory.Note
	memo   map[int]*flow
}

func (l *learner) emit(n memory.Note) {
	if !l.cloned {
		l.work, l.cloned = l.work.Clone(), true
	}
	l.notes = append(l.notes, n)
	l.work.Apply(n)
}

// flow is what a command's standard output carries.
type flow struct {
	how memory.How
	// text is the output when known (how has Written and not Partial).
	text   string
	origin string
}

func (f *flow) merge(g *flow, keepText bool) {
	if g == nil {
		return
	}
	if keepText && g.how&memory.Written != 0 {
		f.how |= memory.Written | g.how&memory.Partial
		f.text += g.text
	} else if g.how&(memory.Written|memory.Partial) != 0 {
		f.how |= memory.Partial
	}
	f.how |= g.how & memory.Risky
	if f.origin == "" {
		f.origin = g.origin
	}
}

// abs resolves a literal path against the working folder ("" when it
// cannot be resolved).
func (l *learner) abs(w models.Word) string {
	if w.Dynamic || w.Glob {
		return ""
	}
	return absPath(w.Lit, l.cwd, l.home)
}

// absPath resolves p against cwd and home, as bash would: "~" and "~/…"
// to home, relative paths against cwd; "" for what it cannot resolve.
func absPath(p, cwd, home string) string {
	p = strings.TrimPrefix(p, "file://")
	switch {
	case p == "" || p == "-" || strings.ContainsAny(p, "$`\n"):
		return ""
	case p == "~":
		p = home
	case strings.HasPrefix(p, "~/"):
		p = home + p[1:]
	case strings.HasPrefix(p, "~"):
		return ""
	}
	if !filepath.IsAbs(p) {
		if cwd == "" {
			return ""
		}
		p = filepath.Join(cwd, p)
	}
	return filepath.Clean(p)
}

// command learns from command i.
func (l *learner) command(i int) {
	m := &l.facts.Commands[i]
	c := sessCmd(m)
	l.sinks(i, m, c)
	switch c.name {
	case "cd", "pushd":
		if m.Depth == 0 && len(m.Via) == 0 {
			if p := c.positional(); len(p) == 1 && len(m.Argv) == 2 {
				if d := l.abs(m.Argv[1]); d != "" {
					l.cwd = d
				}
			}
		}
	case "git":
		l.git(c)
	}
}

// sessCmd wraps a parsed command with the helpers of check.go.
func sessCmd(m *models.Command) *cmd {
	c := &cmd{Command: m, name: m.Name()}
	if len(m.Argv) > 1 {
		c.args = make([]string, len(m.Argv)-1)
		for j, w := range m.Argv[1:] {
			c.args[j] = w.Lit
		}
	}
	return c
}

// sinks learns the files command i writes.
func (l *learner) sinks(i int, m *models.Command, c *cmd) {
	for _, r := range m.Redirs {
		switch r.Op {
		case ">", ">|", "&>", ">>", "&>>":
		default:
			continue
		}
		p := l.abs(r.Target)
		if p == "" || strings.HasPrefix(p, "/dev/") || strings.HasPrefix(p, "/proc/") {
			continue
		}
		f := &flow{}
		if r.Fd != "2" {
			f = l.output(i)
		}
		l.write(p, f, r.Op == ">>" || r.Op == "&>>")
	}
	if len(m.Argv) == 0 || m.Argv[0].Dynamic {
		return
	}
	switch c.name {
	case "tee":
		f := l.output(i)
		for _, w := range m.Argv[1:] {
			if strings.HasPrefix(w.Lit, "-") {
				continue
			}
			if p := l.abs(w); p != "" && !strings.HasPrefix(p, "/dev/") {
				l.write(p, f, c.has("-a", "--append"))
			}
		}
	case "curl":
		l.curl(c)
	case "wget", "wget2":
		l.wget(c)
	case "aria2c":
		if o, ok := c.value("-o", "--out"); ok {
			dir := l.cwd
			if d, ok := c.value("-d", "--dir"); ok {
				dir = absPath(d, l.cwd, l.home)
			}
			if p := absPath(o, dir, l.home); p != "" {
				l.write(p, &flow{how: memory.Downloaded, origin: firstURL(c)}, false)
			}
		}
	case "cp", "install", "ln", "mv", "rsync":
		l.copy(c)
	case "rm", "unlink", "shred":
		for _, w := range m.Argv[1:] {
			if strings.HasPrefix(w.Lit, "-") {
				continue
			}
			if p := l.abs(w); p != "" {
				l.emit(memory.Note{Op: memory.OpRemove, Path: p})
			}
		}
	case "chmod":
		l.chmod(c)
	case "dd":
		for _, a := range c.args {
			if v, ok := strings.CutPrefix(a, "of="); ok {
				if p := absPath(v, l.cwd, l.home); p != "" && !strings.HasPrefix(p, "/dev/") {
					l.write(p, l.output(i), false)
				}
			}
		}
	case "tar", "zip", "7z", "7za", "jar":
		if p := archiveOut(c); p != "" {
			if a := absPath(p, l.cwd, l.home); a != "" {
				l.write(a, l.output(i), false)
			}
		}
	case "xxd", "openssl", "base64", "uudecode":
		// Decoders that write their result to a named file.
		out := ""
		switch {
		case c.name == "xxd" && c.hasShort("r"):
			if p := c.positional(); len(p) == 2 {
				out = p[1]
			}
		case c.name == "openssl" || c.name == "base64" || c.name == "uudecode":
			out, _ = c.value("-out", "-o", "--output")
		}
		if a := absPath(out, l.cwd, l.home); a != "" && out != "" {
			f := l.output(i)
			l.write(a, f, false)
		}
	}
}

// write notes that p was written (or appended to) with what f carries.
func (l *learner) write(p string, f *flow, appendTo bool) {
	n := memory.Note{Op: memory.OpWrite, Path: p, How: f.how, Origin: f.origin}
	if f.how&memory.Written != 0 {
		n.Text = f.text
	}
	if appendTo {
		n.Op = memory.OpAppend
		if f.how == 0 {
			// Appended by a program whose output is unknown: only a file
			// the memory holds changes (its text is no longer all of it).
			if l.work.File(p) == nil {
				return
			}
			n.How = memory.Partial
		}
	} else if f.how == 0 && l.work.File(p) == nil {
		return
	}
	l.emit(n)
}

// output returns what command i writes to its standard output (memoised).
func (l *learner) output(i int) *flow {
	if f, ok := l.memo[i]; ok {
		if f == nil {
			return &flow{} // a pipe loop
		}
		return f
	}
	l.memo[i] = nil
	f := l.produce(i)
	l.memo[i] = f
	return f
}

// passThrough are programs whose output is their input, unchanged.
var passThrough = set("cat", "tee", "dd", "pv", "sponge", "buffer", "tac")

// produce computes command i's output.
func (l *learner) produce(i int) *flow {
	m := &l.facts.Commands[i]
	c := sessCmd(m)
	f := &flow{}
	if len(m.Argv) == 0 || m.Argv[0].Dynamic {
		return f
	}
	if c.Wrapper != "" {
		// timeout 5 curl URL > x: the output is the wrapped command's.
		for j := i + 1; j < len(l.facts.Commands); j++ {
			n := &l.facts.Commands[j]
			if n.Depth <= m.Depth {
				break
			}
			if n.Depth == m.Depth+1 && len(n.Via) > 0 {
				return l.output(j)
			}
		}
		return f
	}
	keep := passThrough[c.name] && c.name != "tac"
	switch {
	case sessFetchers[c.name]:
		f.how |= memory.Downloaded
		f.origin = firstURL(c)
	case sessDecodes(m):
		f.how |= memory.Decoded
	case c.name == "echo":
		f.how |= memory.Written
		f.text = echoText(c.args)
	case c.name == "printf":
		f.how |= memory.Written
		f.text = printfText(c.args)
	case envDump(c):
		f.how |= memory.Secret
		f.origin = "the environment"
	}
	if c.name == "echo" || c.name == "printf" {
		for _, w := range m.Argv[1:] {
			if w.Dynamic && secretVar(w.Lit) {
				f.how |= memory.Secret
				f.origin = "the environment"
			}
			for _, s := range w.Subst {
				f.merge(l.output(s), false)
			}
		}
		return f
	}
	// Its input: the pipe, a heredoc, files redirected in.
	if m.PipeFrom >= 0 && m.PipeFrom < len(l.facts.Commands) && m.PipeFrom != i {
		f.merge(l.output(m.PipeFrom), keep)
	}
	for _, r := range m.Redirs {
		switch r.Op {
		case "<<", "<<-", "<<<":
			text := r.Target.Lit
			if r.Op == "<<<" {
				text += "\n"
			}
			if keep && !r.Target.Dynamic {
				f.merge(&flow{how: memory.Written, text: text}, true)
			} else {
				f.how |= memory.Partial
			}
		case "<", "<>":
			l.readFile(f, r.Target, keep, c)
		}
	}
	// Files named as arguments (also inside option values: if=x, @x).
	for j, w := range m.Argv[1:] {
		if strings.HasPrefix(w.Lit, "-") && !strings.Contains(w.Lit, "=") || isSessSink(c, j) {
			continue
		}
		l.readFile(f, w, keep, c)
	}
	return f
}

// isSessSink reports whether argument j of c is a file c writes rather
// than reads.
func isSessSink(c *cmd, j int) bool {
	if c.name == "tee" {
		return true
	}
	if j > 0 {
		switch c.args[j-1] {
		case "-o", "--output", "-O", "--output-document", "-out", "of":
			return true
		}
	}
	return false
}

// readFile merges into f what reading the file named by w gives: a file
// the memory holds, a secret, or files under a folder that a recursive
// program reads.
func (l *learner) readFile(f *flow, w models.Word, keep bool, c *cmd) {
	if w.Dynamic {
		return
	}
	cands := candidatePaths(w.Lit)
	for _, cand := range cands {
		if t := strings.TrimLeft(cand, "@<"); t != cand && t != "" {
			cands = append(cands, t) // curl -d @file, -F name=@file, name=<file
		}
	}
	for _, cand := range cands {
		if n := l.where.norm(cand); isSecret(n) && !namesOnly[c.name] {
			f.how |= memory.Secret
			if f.origin == "" {
				f.origin = n
			}
		}
		p := absPath(cand, l.cwd, l.home)
		if p == "" {
			continue
		}
		if g := l.work.File(p); g != nil {
			f.merge(&flow{how: g.How &^ memory.Executable, text: g.Text, origin: g.Origin}, keep)
			continue
		}
		if recursiveReader[c.name] || c.name == "zip" || c.name == "7z" || c.name == "7za" || c.name == "jar" || c.name == "rsync" {
			for _, g := range l.work.Under(p) {
				f.merge(&flow{how: g.How & memory.Risky, origin: g.Origin}, false)
			}
		}
	}
}

// namesOnly are programs that name a path without reading its content.
var namesOnly = set("echo", "printf", "test", "[", "[[", "basename", "dirname", "realpath", "readlink", "cd", "pushd",
	"which", "type", "file", "ls", "stat", "mkdir", "touch", "chmod", "chown", "rm", "du", "wc", "git", "ssh-keygen", "ssh-add")

// sessFetchers are programs whose output is what they fetched.
var sessFetchers = set("curl", "wget", "wget2", "fetch", "aria2c", "lwp-request", "lwp-download", "http", "https", "xh",
	"ftp", "tftp")

// sessDecodes reports whether m turns encoded text back into bytes.
func sessDecodes(m *models.Command) bool {
	n := m.Name()
	switch n {
	case "uudecode", "rev":
		return true
	}
	for _, w := range m.Argv[1:] {
		a := w.Lit
		switch n {
		case "base64", "base32", "basenc", "ascii85", "base58":
			if a == "-d" || a == "--decode" || a == "-D" || strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.Contains(a, "d") {
				return true
			}
		case "xxd":
			if strings.HasPrefix(a, "-") && strings.Contains(a, "r") {
				return true
			}
		case "openssl":
			if a == "-d" || a == "base64" && hasOption(commandArgs(m), "-d") {
				return true
			}
		case "printf", "echo":
			if strings.Contains(a, `\x`) || strings.Contains(a, `\0`) || strings.Contains(a, `\u`) {
				return true
			}
		}
	}
	return false
}

func commandArgs(m *models.Command) []string {
	out := make([]string, 0, len(m.Argv))
	for _, w := range m.Argv[1:] {
		out = append(out, w.Lit)
	}
	return out
}

// envDump reports whether c prints the environment (or much of it).
func envDump(c *cmd) bool {
	switch c.name {
	case "env", "printenv":
		if c.Wrapper != "" {
			return false
		}
		for _, a := range c.args {
			if c.name == "printenv" && secretVar("$"+a) {
				return true
			}
			if !strings.HasPrefix(a, "-") && !strings.Contains(a, "=") {
				return false
			}
		}
		return true
	case "set", "export", "declare", "typeset":
		if len(c.args) == 0 {
			return c.name == "set" || c.name == "export"
		}
		return len(c.args) == 1 && (c.args[0] == "-p" || c.args[0] == "-x" || c.args[0] == "-px")
	case "compgen":
		return c.has("-e", "-v")
	}
	return false
}

// secretVar reports whether a word expands a variable whose name says it
// holds a credential ($GITHUB_TOKEN, ${AWS_SECRET_ACCESS_KEY}).
func secretVar(w string) bool {
	for {
		i := strings.IndexByte(w, '$')
		if i < 0 {
			return false
		}
		w = strings.TrimPrefix(w[i+1:], "{")
		j := 0
		for j < len(w) && (w[j] == '_' || w[j] >= 'A' && w[j] <= 'Z' || w[j] >= 'a' && w[j] <= 'z' || w[j] >= '0' && w[j] <= '9') {
			j++
		}
		name := strings.ToUpper(w[:j])
		if strings.HasSuffix(name, "_KEY") || strings.HasSuffix(name, "_PAT") {
			return true
		}
		for _, s := range []string{"TOKEN", "SECRET", "PASSWORD", "PASSWD", "APIKEY", "CREDENTIAL"} {
			if strings.Contains(name, s) {
				return true
			}
		}
		w = w[j:]
	}
}

func firstURL(c *cmd) string {
	for _, a := range c.args {
		if strings.Contains(a, "://") {
			return a
		}
	}
	return ""
}

// curl learns the files curl writes: -o/--output (in --output-dir), -O.
func (l *learner) curl(c *cmd) {
	dir := l.cwd
	if d, ok := c.value("--output-dir"); ok {
		dir = absPath(d, l.cwd, l.home)
	}
	f := &flow{how: memory.Downloaded, origin: firstURL(c)}
	remoteName := false
	var outs []string
	for j := 0; j < len(c.args); j++ {
		a := c.args[j]
		switch {
		case a == "--output" || a == "-o":
			if j+1 < len(c.args) {
				outs = append(outs, c.args[j+1])
				j++
			}
		case strings.HasPrefix(a, "--output="):
			outs = append(outs, a[len("--output="):])
		case a == "--remote-name" || a == "--remote-name-all":
			remoteName = true
		case len(a) > 1 && a[0] == '-' && a[1] != '-':
			// A cluster of short options: -sSLo x, -LO, -ox.
			for k := 1; k < len(a); k++ {
				if a[k] == 'O' {
					remoteName = true
				}
				if a[k] == 'o' {
					if k+1 < len(a) {
						outs = append(outs, a[k+1:])
					} else if j+1 < len(c.args) {
						outs = append(outs, c.args[j+1])
						j++
					}
					break
				}
			}
		}
	}
	for _, o := range outs {
		if o == "-" {
			continue
		}
		if p := absPath(o, dir, l.home); p != "" {
			l.write(p, f, false)
		}
	}
	if remoteName {
		for _, a := range c.args {
			if strings.Contains(a, "://") {
				if p := absPath(urlBase(a), dir, l.home); p != "" {
					l.write(p, f, false)
				}
			}
		}
	}
}

// wget learns the file wget writes: -O, else the URL's base name (in -P).
func (l *learner) wget(c *cmd) {
	f := &flow{how: memory.Downloaded, origin: firstURL(c)}
	dir := l.cwd
	if d, ok := c.value("-P", "--directory-prefix"); ok {
		dir = absPath(d, l.cwd, l.home)
	}
	var out string
	named := false
	for j, a := range c.args {
		switch {
		case a == "-O" || a == "--output-document":
			if j+1 < len(c.args) {
				out, named = c.args[j+1], true
			}
		case strings.HasPrefix(a, "--output-document="):
			out, named = a[len("--output-document="):], true
		case len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.Contains(a, "O"):
			k := strings.IndexByte(a, 'O')
			if k+1 < len(a) {
				out, named = a[k+1:], true
			} else if j+1 < len(c.args) {
				out, named = c.args[j+1], true
			}
		}
	}
	if named {
		if out != "-" {
			if p := absPath(out, l.cwd, l.home); p != "" {
				l.write(p, f, false)
			}
		}
		return
	}
	for _, a := range c.args {
		if strings.Contains(a, "://") {
			if p := absPath(urlBase(a), dir, l.home); p != "" {
				l.write(p, f, false)
			}
		}
	}
}

// urlBase is the file name a download of u is saved under by default.
func urlBase(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	b := ""
	if i := strings.LastIndexByte(u, '/'); i >= 0 {
		b = u[i+1:]
	}
	if b == "" {
		return "index.html"
	}
	return b
}

// copy learns cp, install, ln, mv and local rsync: the destination holds
// what each source held; mv forgets the source.
func (l *learner) copy(c *cmd) {
	withValue := []string{"-t", "--target-directory", "-m", "--mode", "-o", "--owner", "-g", "--group", "-S", "--suffix", "-e"}
	pos := c.positional(withValue...)
	dest, isDir := "", false
	if d, ok := c.value("-t", "--target-directory"); ok {
		dest, isDir = d, true
	} else if len(pos) >= 2 {
		dest, pos = pos[len(pos)-1], pos[:len(pos)-1]
		isDir = len(pos) > 1 || strings.HasSuffix(dest, "/") || dest == "." || dest == ".."
	} else {
		return
	}
	if strings.Contains(dest, ":") && c.name == "rsync" {
		return // remote
	}
	d := absPath(dest, l.cwd, l.home)
	if d == "" {
		return
	}
	if !isDir && l.work.Dir(d) {
		isDir = true
	}
	op := memory.OpCopy
	if c.name == "mv" {
		op = memory.OpMove
	}
	for _, s := range pos {
		src := absPath(s, l.cwd, l.home)
		if src == "" || strings.ContainsAny(s, "*?[") {
			continue
		}
		to := d
		if isDir {
			to = filepath.Join(d, filepath.Base(src))
		}
		if n := l.where.norm(s); isSecret(n) {
			l.emit(memory.Note{Op: memory.OpWrite, Path: to, How: memory.Secret, Origin: n})
			if op == memory.OpMove {
				l.emit(memory.Note{Op: memory.OpRemove, Path: src})
			}
			continue
		}
		l.emit(memory.Note{Op: op, From: src, Path: to})
		// A folder copied: what the memory holds under it goes along.
		for _, g := range l.work.Under(src) {
			rel, _ := filepath.Rel(src, g.Path)
			l.emit(memory.Note{Op: op, From: g.Path, Path: filepath.Join(to, rel)})
		}
	}
}

// chmod learns chmod +x (and modes with an execute bit).
func (l *learner) chmod(c *cmd) {
	pos := c.positional()
	if len(pos) < 2 {
		return
	}
	mode := pos[0]
	exec := strings.Contains(mode, "x") && strings.ContainsAny(mode, "+=")
	if !exec && mode != "" && strings.Trim(mode, "01234567") == "" {
		for _, d := range mode[max(0, len(mode)-3):] {
			if (d-'0')&1 != 0 {
				exec = true
			}
		}
	}
	if !exec {
		return
	}
	for _, s := range pos[1:] {
		if p := absPath(s, l.cwd, l.home); p != "" {
			l.emit(memory.Note{Op: memory.OpChmod, Path: p})
		}
	}
}

// archiveOut returns the archive file tar (-f), zip or 7z (a) creates.
func archiveOut(c *cmd) string {
	switch c.name {
	case "tar":
		create := false
		for j, a := range c.args {
			if a == "--create" || strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.Contains(a, "c") ||
				j == 0 && !strings.HasPrefix(a, "-") && strings.Contains(a, "c") {
				create = true
			}
		}
		if !create {
			return ""
		}
		if v, ok := c.value("--file"); ok {
			return v
		}
		for j, a := range c.args {
			cluster := strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") || j == 0 && !strings.HasPrefix(a, "-")
			if cluster && strings.HasSuffix(a, "f") && j+1 < len(c.args) {
				return c.args[j+1]
			}
		}
	case "zip", "jar":
		if p := c.positional(); len(p) > 0 {
			return p[0]
		}
	case "7z", "7za":
		if p := c.positional(); len(p) > 1 && p[0] == "a" {
			return p[1]
		}
	}
	return ""
}

// echoText is what echo prints.
func echoText(args []string) string {
	nl, esc := true, false
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if len(a) < 2 || a[0] != '-' || strings.Trim(a[1:], "neE") != "" {
			break
		}
		nl = nl && !strings.Contains(a, "n")
		if strings.Contains(a, "e") {
			esc = true
		}
		if strings.Contains(a, "E") {
			esc = false
		}
	}
	s := strings.Join(args[i:], " ")
	if esc {
		s = unescape(s)
	}
	if nl {
		s += "\n"
	}
	return s
}

// printfText is what printf FORMAT ARGS… prints, for %s, %b, %d, %c and
// %% (other verbs print their argument as it is).
func printfText(args []string) string {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) > 0 && args[0] == "-v" {
		return "" // into a variable
	}
	if len(args) == 0 {
		return ""
	}
	format, rest := unescape(args[0]), args[1:]
	var b strings.Builder
	for {
		used := 0
		for i := 0; i < len(format); i++ {
			ch := format[i]
			if ch != '%' || i+1 >= len(format) {
				b.WriteByte(ch)
				continue
			}
			j := i + 1
			for j < len(format) && strings.IndexByte("-+ #0123456789.", format[j]) >= 0 {
				j++
			}
			if j >= len(format) {
				b.WriteString(format[i:])
				break
			}
			if format[j] == '%' {
				b.WriteByte('%')
				i = j
				continue
			}
			arg := ""
			if used < len(rest) {
				arg = rest[used]
			}
			used++
			if format[j] == 'b' {
				arg = unescape(arg)
			}
			if format[j] == 'c' && arg != "" {
				arg = arg[:1]
			}
			b.WriteString(arg)
			i = j
		}
		if used == 0 || used >= len(rest) || b.Len() > memory.MaxText {
			break
		}
		rest = rest[used:]
	}
	return b.String()
}

// unescape decodes the backslash escapes of echo -e and printf that
// matter for reading the text as code.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	r := strings.NewReplacer(`\n`, "\n", `\t`, "\t", `\\`, `\`, `\"`, `"`, `\'`, `'`, `\r`, "\r", `\a`, "", `\e`, "\x1b")
	return r.Replace(s)
}

// git learns remotes and settings a git command changes, and secret
// files it stages.
func (l *learner) git(c *cmd) {
	project, sub, rest := l.gitArgs(c)
	switch sub {
	case "remote":
		if len(rest) == 0 {
			return
		}
		opts, pos := splitOpts(rest[1:], "-t", "-m", "--track", "--master")
		switch rest[0] {
		case "add":
			if len(pos) >= 2 {
				l.emit(memory.Note{Op: memory.OpRemote, Project: project, Name: pos[0], Value: pos[1]})
			}
		case "set-url":
			if len(pos) >= 2 && !hasOption(opts, "--delete") {
				l.emit(memory.Note{Op: memory.OpRemote, Project: project, Name: pos[0], Value: pos[1], Push: hasOption(opts, "--push")})
			}
		}
	case "config":
		l.gitConfig(project, rest)
	case "add", "commit", "stage":
		for _, p := range l.coveredSecrets(c, project, sub, rest) {
			l.emit(memory.Note{Op: memory.OpStage, Project: project, Path: p})
		}
	}
}

// gitArgs returns the repository a git command works on (-C), its
// subcommand and the subcommand's arguments.
func (l *learner) gitArgs(c *cmd) (project, sub string, rest []string) {
	project = l.repoOf(l.cwd)
	for j := 0; j < len(c.args); j++ {
		a := c.args[j]
		switch {
		case a == "-C" && j+1 < len(c.args):
			if d := absPath(c.args[j+1], l.cwd, l.home); d != "" {
				project = d
			}
			j++
		case a == "-c" || a == "--git-dir" || a == "--work-tree" || a == "--namespace":
			j++
		case strings.HasPrefix(a, "-"):
		default:
			return project, a, c.args[j+1:]
		}
	}
	return project, "", nil
}

// repoOf is the repository a folder belongs to, as far as the rater knows:
// the project when the folder is in it, else the folder.
func (l *learner) repoOf(dir string) string {
	if l.project != "" && (dir == l.project || strings.HasPrefix(dir, l.project+"/")) {
		return l.project
	}
	return dir
}

// splitOpts splits args into options and positional arguments; options in
// withValue take the next word.
func splitOpts(args []string, withValue ...string) (opts, pos []string) {
	for j := 0; j < len(args); j++ {
		a := args[j]
		if strings.HasPrefix(a, "-") && a != "-" {
			opts = append(opts, a)
			for _, o := range withValue {
				if a == o && j+1 < len(args) {
					j++
				}
			}
			continue
		}
		pos = append(pos, a)
	}
	return opts, pos
}

// gitSessionKeys are the git settings the memory keeps: where pushes go,
// and programs git runs.
var gitSessionKeys = []string{"url.", "credential.", "core.sshcommand", "core.gitproxy", "core.hookspath", "core.fsmonitor",
	"core.pager", "core.editor", "sequence.editor", "pager.", "alias.", "filter.", "diff.external", "gpg.program", "gpg.",
	"remote.", "include.path", "includeif."}

func (l *learner) gitConfig(project string, rest []string) {
	if len(rest) > 0 && rest[0] == "set" {
		rest = rest[1:]
	}
	opts, pos := splitOpts(rest, "--file", "-f", "--type", "--blob", "--default", "--comment")
	for _, o := range opts {
		switch {
		case o == "--global" || o == "--system":
			project = ""
		case o == "--file" || o == "-f" || strings.HasPrefix(o, "--file=") || o == "--blob" || strings.HasPrefix(o, "--unset") ||
			strings.HasPrefix(o, "--get") || o == "-l" || o == "--list" || o == "--remove-section" || o == "--rename-section" || o == "-e" || o == "--edit":
			return
		}
	}
	if len(pos) < 2 {
		return
	}
	key, value := strings.ToLower(pos[0]), pos[1]
	if strings.HasPrefix(key, "remote.") && (strings.HasSuffix(key, ".url") || strings.HasSuffix(key, ".pushurl")) {
		name := pos[0][len("remote."):strings.LastIndexByte(pos[0], '.')]
		l.emit(memory.Note{Op: memory.OpRemote, Project: project, Name: name, Value: value, Push: strings.HasSuffix(key, ".pushurl")})
		return
	}
	for _, k := range gitSessionKeys {
		if strings.HasPrefix(key, k) {
			l.emit(memory.Note{Op: memory.OpSetting, Project: project, Name: pos[0], Value: value})
			return
		}
	}
}

// coveredSecrets returns the files holding secret data that git add or
// commit (with paths, -a or -A) takes in.
func (l *learner) coveredSecrets(c *cmd, project, sub string, rest []string) []string {
	opts, pos := splitOpts(rest, "-m", "--message", "-F", "--file", "-C", "-c", "--author", "--date", "--pathspec-from-file", "-u")
	all := false
	for _, o := range opts {
		if o == "-A" || o == "--all" || o == "-a" && sub == "commit" || o == "--update" || o == "-u" ||
			strings.HasPrefix(o, "-") && !strings.HasPrefix(o, "--") && sub == "commit" && strings.Contains(o, "a") {
			all = true
		}
	}
	if sub == "commit" && len(pos) == 0 && !all {
		return nil
	}
	var roots []string
	if all || len(pos) == 0 {
		roots = []string{project}
	}
	for _, p := range pos {
		if strings.HasPrefix(p, ":") {
			roots = append(roots, project) // a magic pathspec: count the whole tree
			continue
		}
		if strings.ContainsAny(p, "*?[") {
			roots = append(roots, absPath(filepath.Dir(p), l.cwd, l.home))
			continue
		}
		roots = append(roots, absPath(p, l.cwd, l.home))
	}
	var out []string
	for _, r := range roots {
		if r == "" {
			continue
		}
		if f := l.work.File(r); f != nil && f.How&memory.Secret != 0 {
			out = append(out, r)
		}
		for _, f := range l.work.Under(r) {
			if f.How&memory.Secret != 0 {
				out = append(out, f.Path)
			}
		}
	}
	return out
}
