package rater

// What else a command runs: when a command will execute files of the
// project (a script, a Makefile recipe, a package.json script, a
// conftest.py, a //go:generate line, a compose file, an .envrc, the
// project's git config …), those files are read at rating time and their
// content is rated with the same rules, as code of the language the
// command runs them as. A multi-step attack — a file written by a
// harmless-looking command, then run by an ordinary one — is held when it
// is run.
//
// One mechanism over a table: runners maps a program to a function that
// names the files the command runs and how: as shell text ((*runs).shell),
// as Python or JavaScript ((*runs).code), or as settings turned into the
// command line they stand for. Shell text is rated by the same check,
// recursively up to maxRunDepth, and what it finds is added to the
// command's findings with a span naming the file and line
// ("Makefile:12: curl … | sh").
//
// Files are read safely: only inside the project, with links resolved and
// checked, regular files only, opened non-blocking, at most maxRunFile
// bytes. A file that cannot be read that way is opaque (medium). Parsed
// files are cached by content hash, with path+mtime+size+inode as a cheap
// first check. A command that runs no project file costs a map look-up.

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/chaperone-dev/chaperone/internal/safefile"
	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/parser"
)

const (
	// maxRunFile is the largest project file read; a larger one is opaque.
	maxRunFile = 256 << 10
	// maxRunDepth bounds files that run files that run files.
	maxRunDepth = 4
	// maxRunUnits bounds the pieces of file content rated for one
	// command string; past it the rest is opaque.
	maxRunUnits = 256
)

var (
	ruleRunOpaque = Rule{"project.opaque", models.Medium, "runs a project file that chaperone could not read or follow (too large, not a regular file, a link out of the project, or nested too deep)"}
	ruleRunSource = Rule{"project.source", models.High, "a project file makes the install fetch from outside the default registries (index or registry setting, URL or git source)"}
	ruleRunGlob   = Rule{"project.glob-option", models.High, "file names in the folder become options of the command (a name starting with -)"}
	ruleRunShadow = Rule{"project.shadow", models.High, "puts a project folder holding programs named like host tools (git, ssh …) first on PATH"}
	ruleRunRemote = Rule{"project.remote", models.High, "a project git setting sends git's network traffic to another host (url.*.insteadOf)"}
	ruleRunHost   = Rule{"project.container", models.High, "a compose file gives a container the host (host network, pid or ipc, privileged, host root, home or docker socket)"}
)

// runner names the project files command c runs, from folder dir (an
// absolute path inside the project), and rates them through x.
type runner func(x *runs, c *cmd, dir string)

// runners maps a program's base name to what it runs of the project.
// Scripts run by path (./x.sh, bin/run) and glob words that expand to
// option-like file names are handled for every program (see apply).
var runners map[string]runner

func init() {
	runners = map[string]runner{
		"bash": runShellArg, "sh": runShellArg, "dash": runShellArg, "zsh": runShellArg, "ksh": runShellArg,
		"source": runSource, ".": runSource,
		"make": runMake, "gmake": runMake,
		"npm": runNode, "yarn": runNode, "pnpm": runNode, "bun": runNode,
		"pip": runPip, "pip3": runPip, "uv": runUv, "poetry": runPyproject, "pdm": runPyproject,
		"pytest": runPytest, "py.test": runPytest,
		"python": runPython, "python3": runPython, "node": runCodeFile, "nodejs": runCodeFile,
		"go":     runGo,
		"docker": runDocker, "podman": runDocker, "docker-compose": runCompose, "podman-compose": runCompose,
		"direnv": runDirenv,
		"git":    runGit,
	}
}

// runs is the state of looking into what one command string runs.
type runs struct {
	where where
	// registries are the package sources the user added (check.registries).
	registries []string
	root       string // the project folder, as given
	real       string // root with links resolved
	depth      int
	units      *int            // units rated so far, shared along the chain
	chain      map[string]bool // files being rated up the chain (no cycles)
	// standing is set while rating the unit the command itself stands
	// for: the script it runs, the git alias it is.
	standing bool
	// out collects the findings for the current command.
	out []runFinding
}

// runFinding is one finding that a file the command runs produced.
type runFinding struct {
	models.Finding
	// stands is true for findings of the unit the command stands for
	// (see runs.standing).
	stands bool
}

// whatRuns looks into the project files the commands of k run and adds
// what their content rates to k's findings. It does nothing when the
// project is unknown.
func (r *Rater) whatRuns(k *check, req Request) {
	if !k.mayRun() {
		return
	}
	root := k.where.project
	if root == "" || !filepath.IsAbs(root) || root == "/" {
		return
	}
	cwd := req.Cwd
	if cwd == "" {
		cwd = root
	}
	x := &runs{where: k.where, registries: k.registries, root: root, units: new(int), chain: map[string]bool{}}
	x.apply(k, filepath.Clean(cwd))
}

// mayRun reports cheaply whether any command of k might run a project
// file: a runner's name, a path as the program, or a glob.
func (k *check) mayRun() bool {
	for i := range k.facts.Commands {
		m := &k.facts.Commands[i]
		if len(m.Argv) == 0 || m.Argv[0].Dynamic {
			continue
		}
		if runners[m.Name()] != nil || strings.Contains(m.Argv[0].Lit, "/") {
			return true
		}
		for _, w := range m.Argv[1:] {
			if w.Glob {
				return true
			}
		}
	}
	return false
}

// apply rates what each command of k runs, from folder cwd (where the
// text starts), and adds the findings to k.
func (x *runs) apply(k *check, cwd string) {
	for i := range k.facts.Commands {
		m := &k.facts.Commands[i]
		if len(m.Argv) == 0 || m.Argv[0].Dynamic {
			continue
		}
		c := &cmd{Command: m, idx: i, name: m.Name()}
		c.args = make([]string, len(m.Argv)-1)
		for j, w := range m.Argv[1:] {
			c.args[j] = w.Lit
		}
		x.out = x.out[:0]
		for _, dir := range x.dirs(k, i, cwd) {
			if dir == "" || !x.inside(dir) {
				continue
			}
			switch {
			case strings.Contains(m.Argv[0].Lit, "/"):
				x.scriptFile(dir, x.abs(dir, m.Argv[0].Lit), false, true)
			case runners[c.name] != nil:
				runners[c.name](x, c, dir)
			}
			x.globOptions(c, dir)
		}
		x.emit(k, i)
	}
}

// dirs lists the absolute folders command i of k may run in, as the
// text's own cd and pushd leave them (check.dirs), for a text that
// starts in cwd; "" stands for a folder only known at run time.
func (x *runs) dirs(k *check, i int, cwd string) []string {
	if i >= len(k.dirs) || !k.dirs[i].Moved() {
		return []string{cwd}
	}
	out := make([]string, 0, len(k.dirs[i]))
	for _, d := range k.dirs[i] {
		switch abs, lost := x.where.dirOf(cwd, d); {
		case lost:
			out = append(out, "")
		case abs == "":
			out = append(out, cmpOr(x.where.project, cwd))
		default:
			out = append(out, abs)
		}
	}
	return out
}

// emit adds x.out to k as findings of command i. When the command
// stands for one unit of shell text (it runs a shell script, or is a git
// alias) and that was rated in full, the unit's findings replace "rules
// cannot see inside it" (unknown.script, unknown.program); otherwise
// only what is high, or could not be followed, is added (a Makefile's
// `rm -rf build` does not make `make clean` a warning).
func (x *runs) emit(k *check, i int) {
	if len(x.out) == 0 {
		return
	}
	replace := false
	for _, f := range x.out {
		if f.Rule == ruleRunOpaque.ID {
			replace = false
			break
		}
		replace = replace || f.stands
	}
	if replace && !writtenHere(k.facts, i) {
		for j := 0; j < len(k.findings); j++ {
			if k.owner[j] == i && undecidedRule(k.findings[j].Rule) {
				k.findings = append(k.findings[:j], k.findings[j+1:]...)
				k.owner = append(k.owner[:j], k.owner[j+1:]...)
				j--
			}
		}
	} else {
		replace = false
	}
	cur := k.cur
	k.cur = i
	for _, f := range x.out {
		if f.Rule == "" || f.Risk == models.Low {
			continue
		}
		if replace && f.stands || f.Risk.Effective() == models.High || f.Rule == ruleRunOpaque.ID {
			k.hit(Rule{ID: f.Rule, Risk: f.Risk, Reason: f.Reason}, f.Span)
		}
	}
	k.cur = cur
}

// writtenHere reports whether another command of the same string may
// change the file command i runs (it names the file as a redirection
// target or an argument, or writes somewhere only known at run time): the
// file's content at rating time then does not stand for what runs.
func writtenHere(f *models.Facts, i int) bool {
	m := &f.Commands[i]
	var names []string
	for _, w := range m.Argv {
		if strings.Contains(w.Lit, "/") || strings.Contains(w.Lit, ".") {
			names = append(names, strings.TrimPrefix(w.Lit, "./"))
		}
	}
	for j := range f.Commands {
		if j == i {
			continue
		}
		o := &f.Commands[j]
		for _, r := range o.Redirs {
			if r.Target.Dynamic {
				return true
			}
			for _, n := range names {
				if strings.TrimPrefix(r.Target.Lit, "./") == n {
					return true
				}
			}
		}
		for _, w := range o.Argv {
			for _, n := range names {
				if n != "" && strings.HasSuffix(strings.TrimPrefix(w.Lit, "./"), n) {
					return true
				}
			}
		}
	}
	return false
}

func (x *runs) abs(dir, p string) string {
	if strings.HasPrefix(p, "~/") {
		return filepath.Join(x.where.home, p[2:])
	}
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, p)
}

// inside reports whether the absolute path p is in the project.
func (x *runs) inside(p string) bool {
	return p == x.root || strings.HasPrefix(p, x.root+"/")
}

// rel names p for a person: relative to the project.
func (x *runs) rel(p string) string {
	if !filepath.IsAbs(p) {
		return p
	}
	if r, err := filepath.Rel(x.root, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}

// opaque records that file p (or a unit of it) could not be followed.
func (x *runs) opaque(p, why string) {
	x.add(ruleRunOpaque, p, 0, why)
}

// add records a finding of rule r about file p (absolute, or a label
// relative to the project), line n (0: no line).
func (x *runs) add(r Rule, p string, n int, text string) {
	x.out = append(x.out, runFinding{Finding: models.Finding{Rule: r.ID, Risk: r.Risk, Reason: r.Reason, Span: runSpan(x.rel(p), n, text)}})
}

func runSpan(name string, line int, text string) string {
	text = strings.TrimSpace(text)
	if len(text) > 200 {
		text = text[:200] + "…"
	}
	if line > 0 {
		return fmt.Sprintf("%s:%d: %s", name, line, text)
	}
	return name + ": " + text
}

// errRunSkip says a file does not exist: the command will not run it,
// or fails; nothing to rate.
var errRunSkip = errors.New("no such file")

// file reads project file p safely (see the file comment); a missing
// file is errRunSkip, anything else that stops reading is an error for
// a person.
func (x *runs) file(p string) ([]byte, error) { return x.fileMax(p, maxRunFile) }

// fileMax is file with a size limit of max bytes; only files up to
// maxRunFile are cached.
func (x *runs) fileMax(p string, max int64) ([]byte, error) {
	if !x.inside(p) {
		return nil, errors.New("outside the project")
	}
	fi, err := os.Lstat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil, errRunSkip
		}
		return nil, errors.New("unreadable")
	}
	if fi.Mode()&fs.ModeSymlink == 0 && !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if err := x.resolvedInside(p); err != nil {
		return nil, err
	}
	if data, ok := runFiles.get(p, fi); ok {
		return data, nil
	}
	data, err := safefile.ReadFollow(p, max)
	switch {
	case errors.Is(err, safefile.ErrTooLarge):
		return nil, fmt.Errorf("larger than %d KiB", max>>10)
	case errors.Is(err, safefile.ErrNotRegular):
		return nil, errors.New("not a regular file")
	case err != nil:
		return nil, errors.New("unreadable")
	}
	if fi.Mode().IsRegular() && len(data) <= maxRunFile {
		runFiles.put(p, fi, data)
	}
	return data, nil
}

// resolvedInside checks that p, with every link resolved, is still in
// the project.
func (x *runs) resolvedInside(p string) error {
	if x.real == "" {
		root, err := filepath.EvalSymlinks(x.root)
		if err != nil {
			return errors.New("the project folder is unreadable")
		}
		x.real = root
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return errors.New("unreadable")
	}
	if real != x.real && !strings.HasPrefix(real, x.real+"/") {
		return errors.New("a link out of the project")
	}
	return nil
}

// fileCache keeps the content of files read, by path, for as long as
// their size, mtime and inode stay the same; and parsed forms by content
// hash (see parsedAs). Bounded: a full map is emptied. Safe for
// concurrent use.
type fileCache struct {
	mu     sync.Mutex
	byPath map[string]cachedFile
	parsed map[[32]byte]any
}

type cachedFile struct {
	size  int64
	mtime time.Time
	ino   uint64
	data  []byte
}

const maxCached = 512

var runFiles = &fileCache{byPath: map[string]cachedFile{}, parsed: map[[32]byte]any{}}

func runInode(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}

func (c *fileCache) get(p string, fi fs.FileInfo) ([]byte, bool) {
	if !fi.Mode().IsRegular() {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byPath[p]
	if !ok || e.size != fi.Size() || !e.mtime.Equal(fi.ModTime()) || e.ino != runInode(fi) {
		return nil, false
	}
	return e.data, true
}

func (c *fileCache) put(p string, fi fs.FileInfo, data []byte) {
	if time.Since(fi.ModTime()) < 2*time.Second {
		// Written just now: a second write within the same mtime tick
		// would not show; read it again next time.
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.byPath) >= maxCached {
		clear(c.byPath)
	}
	c.byPath[p] = cachedFile{size: fi.Size(), mtime: fi.ModTime(), ino: runInode(fi), data: data}
}

// parsedAs returns parse(data), cached by kind and content hash.
func parsedAs[T any](kind string, data []byte, parse func([]byte) T) T {
	h := sha256.New()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write(data)
	var key [32]byte
	h.Sum(key[:0])
	runFiles.mu.Lock()
	v, ok := runFiles.parsed[key]
	runFiles.mu.Unlock()
	if t, isT := v.(T); ok && isT {
		return t
	}
	t := parse(data)
	runFiles.mu.Lock()
	if len(runFiles.parsed) >= maxCached {
		clear(runFiles.parsed)
	}
	runFiles.parsed[key] = t
	runFiles.mu.Unlock()
	return t
}

// readUnit reads p for rating; when it cannot, it records why and
// returns ok=false. A missing file is silently skipped.
func (x *runs) readUnit(p string) ([]byte, bool) { return x.readUnitMax(p, maxRunFile) }

// readUnitMax is readUnit with a size limit of max bytes.
func (x *runs) readUnitMax(p string, max int64) ([]byte, bool) {
	data, err := x.fileMax(p, max)
	switch {
	case errors.Is(err, errRunSkip):
		return nil, false
	case err != nil:
		x.opaque(p, err.Error())
		return nil, false
	}
	return data, true
}

// runExists reports whether anything is at p (a FIFO too: reading it
// then says why not).
func runExists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// shell rates text as shell code run from folder dir; label and line
// name where the text starts ("Makefile", 12; line 0: no line). The
// findings, with spans naming the file and line, go to x.out.
func (x *runs) shell(dir, text, label string, line int) {
	x.shellAt(dir, text, label, func(i int) int {
		if line == 0 {
			return 0
		}
		return line + i
	})
}

// shellLines is shell with lines[i] the file line of line i of text.
func (x *runs) shellLines(dir, text, label string, lines []int) {
	x.shellAt(dir, text, label, func(i int) int {
		if i < len(lines) {
			return lines[i]
		}
		return 0
	})
}

// shellAt is shell with at(i) the file line of line i of text.
func (x *runs) shellAt(dir, text, label string, at func(int) int) {
	if !x.budget(label) {
		return
	}
	if dir != x.root {
		if rel, err := filepath.Rel(x.root, dir); err == nil && !strings.HasPrefix(rel, "..") {
			text = rebase(text, rel)
		}
	}
	facts := parser.Parse(text)
	if facts.ParseError != "" {
		x.add(ruleRunOpaque, label, at(0), "is not valid shell")
		return
	}
	k := &check{facts: facts, where: x.where, registries: x.registries, cur: -1}
	k.rate()
	k.cur = -1
	for _, why := range facts.OpaqueReasons {
		k.hit(ruleOpaque, why)
	}
	if x.depth+1 < maxRunDepth {
		child := &runs{where: x.where, registries: x.registries, root: x.root, real: x.real, depth: x.depth + 1, units: x.units, chain: x.chain}
		child.apply(k, dir)
	} else if k.mayRun() {
		x.add(ruleRunOpaque, label, at(0), "runs files nested too deep to follow")
	}
	for j, f := range k.findings {
		n, what := at(0), f.Span
		if o := k.owner[j]; o >= 0 && o < len(facts.Commands) {
			i, line := runLineOf(text, facts.Commands[o].Span)
			n = at(i)
			if line != "" && !strings.Contains(line, f.Span) {
				what = line + " → " + f.Span
			} else if line != "" {
				what = line
			}
		}
		f.Span = runSpan(label, n, what)
		x.out = append(x.out, runFinding{Finding: f, stands: x.standing})
	}
	if len(k.findings) == 0 {
		// Rated in full and found nothing: say so, for emit.
		x.out = append(x.out, runFinding{Finding: models.Finding{Risk: models.Low}, stands: x.standing})
	}
}

// budget counts one more unit; past maxRunUnits the unit is opaque.
func (x *runs) budget(label string) bool {
	*x.units++
	if *x.units > maxRunUnits {
		if *x.units == maxRunUnits+1 {
			x.add(ruleRunOpaque, label, 0, "runs more project code than chaperone follows")
		}
		return false
	}
	return true
}

// runLineOf returns the 0-based line of text where span starts, and
// that line's text; 0 and "" when span is not in text.
func runLineOf(text, span string) (int, string) {
	if span == "" {
		return 0, ""
	}
	i := strings.Index(text, span)
	if i < 0 {
		return 0, ""
	}
	start := strings.LastIndexByte(text[:i], '\n') + 1
	end := strings.IndexByte(text[i:], '\n')
	if end < 0 {
		end = len(text)
	} else {
		end += i
	}
	return strings.Count(text[:i], "\n"), strings.TrimSpace(text[start:end])
}

// scriptFile rates the file at p, run from folder dir, as the program it
// is (by its #! line): shell text in full, Python and JavaScript by what
// the code does; a binary or another language is left as it is. A
// sourced file is shell whatever its first line. stands says the
// command is this script (./x.sh, bash x.sh; not a git hook). It reports
// whether the file was shell rated in full.
func (x *runs) scriptFile(dir, p string, sourced, stands bool) bool {
	if !x.inside(p) || x.chain[p] {
		return false
	}
	data, ok := x.readUnit(p)
	if !ok {
		return false
	}
	x.chain[p] = true
	defer delete(x.chain, p)
	lang := scriptLang(data)
	if sourced {
		lang = "sh"
	}
	switch lang {
	case "sh":
		x.standing = stands
		x.shell(dir, string(data), x.rel(p), 1)
		x.standing = false
		return true
	case "python", "node":
		x.code(dir, lang, string(data), x.rel(p))
	}
	return false
}

// scriptLang names the language of an executable file from its #! line:
// "sh" for shells and for text with no #! line (bash runs it), "python",
// "node", "" for a binary or another language.
func scriptLang(data []byte) string {
	if len(data) >= 4 && string(data[:4]) == "\x7fELF" {
		return ""
	}
	if len(data) < 2 || data[0] != '#' || data[1] != '!' {
		for _, b := range data[:min(len(data), 512)] {
			if b == 0 {
				return ""
			}
		}
		return "sh"
	}
	first, _, _ := strings.Cut(string(data[2:min(len(data), 256)]), "\n")
	f := strings.Fields(first)
	if len(f) == 0 {
		return ""
	}
	prog := baseName(f[0])
	if prog == "env" {
		for _, a := range f[1:] {
			if !strings.HasPrefix(a, "-") && !strings.Contains(a, "=") {
				prog = baseName(a)
				break
			}
		}
	}
	switch {
	case parser.IsShell(prog):
		return "sh"
	case strings.HasPrefix(prog, "python"):
		return "python"
	case prog == "node" || prog == "deno" || prog == "bun":
		return "node"
	}
	return ""
}

// globOptions expands the glob words of c in folder dir as bash will,
// and reports file names that become options (tar … * with a file named
// "--checkpoint-action=exec=sh x.sh"). The command with the names in
// place is rated too.
func (x *runs) globOptions(c *cmd, dir string) {
	var expanded []string
	found := false
	dash := false
	for _, w := range c.Argv[1:] {
		if w.Lit == "--" {
			dash = true
		}
		if !w.Glob || w.Dynamic || strings.Contains(w.Lit, "/") || dash {
			expanded = append(expanded, runQuote(w.Lit))
			continue
		}
		names := x.globNames(dir, w.Lit)
		for _, n := range names {
			if strings.HasPrefix(n, "-") {
				found = true
				x.add(ruleRunGlob, filepath.Join(dir, n), 0, c.name+" "+w.Lit+" → "+n)
			}
			expanded = append(expanded, runQuote(n))
		}
	}
	if found {
		x.shell(dir, runQuote(c.Argv[0].Lit)+" "+strings.Join(expanded, " "), x.rel(dir)+"/"+"*", 0)
	}
}

// globNames lists the names in dir that pattern matches, without
// hidden ones unless the pattern asks; at most 4096 entries are read.
func (x *runs) globNames(dir, pattern string) []string {
	if err := x.resolvedInside(dir); err != nil {
		return nil
	}
	f, err := os.Open(dir)
	if err != nil {
		return nil
	}
	defer f.Close()
	names, _ := f.Readdirnames(4096)
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, ".") && !strings.HasPrefix(pattern, ".") {
			continue
		}
		if ok, _ := filepath.Match(pattern, n); ok {
			out = append(out, n)
		}
	}
	return out
}

// runQuote quotes s for a shell when it needs it.
func runQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:@%+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// runShellArg: bash x.sh, sh -e x.sh (not -c, which the parser reads).
func runShellArg(x *runs, c *cmd, dir string) {
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		switch {
		case a == "-s" || a == "-c" || strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.ContainsAny(a, "cs"):
			return
		case a == "--":
			continue
		case a == "-o" || a == "-O" || a == "+o" || a == "+O" || a == "--rcfile" || a == "--init-file":
			i++
			continue
		case strings.HasPrefix(a, "-") || strings.HasPrefix(a, "+"):
			continue
		}
		if c.Argv[i+1].Dynamic {
			return
		}
		x.scriptFile(dir, x.abs(dir, a), false, true)
		return
	}
}

// runSource: source f, . f (read from the folder when it has no slash,
// as bash does when PATH has no such file).
func runSource(x *runs, c *cmd, dir string) {
	if len(c.args) == 0 || c.Argv[1].Dynamic {
		return
	}
	x.scriptFile(dir, x.abs(dir, c.args[0]), true, true)
}

// rebase rewrites the relative paths that climb ("../x") in shell text
// run from folder rel (relative to the project) into paths relative to
// the project root, which is what the rules read relative paths against:
// "../types" run from "proto" is "types", inside the project. A path that
// climbs out of the project is left as it is.
func rebase(text, rel string) string {
	if !strings.Contains(text, "..") {
		return text
	}
	var b strings.Builder
	for i := 0; i < len(text); i++ {
		start := i == 0 || strings.IndexByte(" \t\n'\"=:;(|&<>", text[i-1]) >= 0
		if !start || !strings.HasPrefix(text[i:], "..") || i+2 < len(text) && text[i+2] != '/' && strings.IndexByte(" \t\n'\";|&)", text[i+2]) < 0 {
			b.WriteByte(text[i])
			continue
		}
		j := i
		for strings.HasPrefix(text[j:], "../") {
			j += 3
		}
		if j == i {
			j = i + 2 // a bare ".."
		}
		p := filepath.Join(rel, text[i:j])
		if p == ".." || strings.HasPrefix(p, "../") {
			b.WriteString(text[i:j])
		} else if j > i+2 && text[j-1] == '/' {
			b.WriteString(p + "/")
		} else {
			b.WriteString(p)
		}
		i = j - 1
	}
	return b.String()
}
