package rater

import (
	"path/filepath"
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/chaperone-dev/chaperone/memory"
	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/parser"
)

// maxSessionDepth bounds how deeply a script the session wrote is rated
// through the scripts it runs in turn.
const maxSessionDepth = 3

// session adds what the session's memory (req.Memory) says about the
// command: running a file the session downloaded or decoded, running a
// script it wrote piece by piece (rated as its content), sending or
// committing a file holding secret data it copied, pushing to a remote it
// pointed elsewhere, running git with a setting it changed to run a
// program. It only adds findings.
func (r *Rater) session(k *check, req Request) {
	mem := req.Memory
	if mem.Empty() || k.facts == nil {
		return
	}
	s := &sessionCheck{r: r, k: k, req: req, mem: mem, home: k.where.home}
	s.cwd = cmpOr(req.Cwd, req.Project)
	if s.cwd == "" {
		s.cwd = r.cwd
	}
	s.project = cmpOr(req.Project, s.cwd)
	s.l = &learner{facts: k.facts, memo: map[int]*flow{}, home: s.home, cwd: s.cwd, project: s.project, where: k.where, work: mem}
	for i := range k.facts.Commands {
		m := &k.facts.Commands[i]
		k.cur = i
		s.command(i, m)
	}
	k.cur = -1
}

// sessionCheck is the state of session over one command string.
type sessionCheck struct {
	r                  *Rater
	k                  *check
	req                Request
	mem                *memory.Session
	home, cwd, project string
	// l follows the string's data flow (what each command's output holds)
	// against the memory, without learning from it.
	l *learner
}

func (s *sessionCheck) add(rule Rule, risk models.Risk, detail, span string) {
	reason := rule.Reason
	if detail != "" {
		reason += " (" + detail + ")"
	}
	for _, f := range s.k.findings {
		if f.Rule == rule.ID && f.Span == span && f.Risk >= risk {
			return
		}
	}
	s.k.findings = append(s.k.findings, models.Finding{Rule: rule.ID, Risk: risk, Reason: reason, Span: span})
	s.k.owner = append(s.k.owner, s.k.cur)
}

func (s *sessionCheck) command(i int, m *models.Command) {
	c := sessCmd(m)
	c.idx = i
	if len(m.Argv) == 0 || m.Argv[0].Dynamic {
		return
	}
	s.runs(c)
	s.sends(i, c)
	if c.name == "git" {
		s.git(c)
	}
	if (c.name == "cd" || c.name == "pushd") && m.Depth == 0 && len(m.Via) == 0 && len(m.Argv) == 2 {
		if d := s.l.abs(m.Argv[1]); d != "" {
			s.cwd, s.l.cwd = d, d
		}
	}
}

// runTarget returns the file a command runs as a program or script, with
// the interpreter that reads it ("" for the file's own #! line).
func (s *sessionCheck) runTarget(c *cmd) (path, interp string) {
	name := c.Argv[0].Lit
	if strings.Contains(name, "/") {
		return absPath(name, s.cwd, s.home), ""
	}
	lang := parser.Interpreter(c.name)
	shell := parser.IsShell(c.name) || c.name == "source" || c.name == "."
	if !shell && lang == "" {
		return "", ""
	}
	for j, a := range c.args {
		if strings.HasPrefix(a, "-") {
			switch a {
			case "-c", "-e", "-E", "-r", "-m", "--eval", "-p", "--print", "--command":
				return "", "" // inline code, or a module by name
			}
			continue
		}
		if c.Argv[j+1].Dynamic {
			return "", ""
		}
		if lang == "node" && (a == "run" || a == "x") && j+1 < len(c.args) && c.name != "node" {
			continue // deno run FILE, bun run FILE
		}
		if shell {
			lang = "sh"
		}
		return absPath(a, s.cwd, s.home), lang
	}
	return "", ""
}

// runs judges a command that runs a file the session wrote.
func (s *sessionCheck) runs(c *cmd) {
	p, lang := s.runTarget(c)
	if p == "" {
		return
	}
	f := s.mem.File(p)
	if f == nil {
		if s.mem.Lost {
			s.add(ruleSessionLost, ruleSessionLost.Risk, "", c.span())
		}
		return
	}
	from := ""
	if f.Origin != "" {
		from = "from " + f.Origin
	}
	if f.How&memory.Downloaded != 0 {
		s.add(ruleExecDownload, models.High, joinDetail("downloaded earlier in this session", from), c.span())
	}
	if f.How&memory.Decoded != 0 {
		s.add(ruleExecObfuscated, models.High, "decoded earlier in this session", c.span())
	}
	if f.How&(memory.Written|memory.Partial) == 0 {
		return
	}
	risk, detail := s.rateText(f, lang)
	if f.How&memory.Partial != 0 {
		detail = joinDetail("part of it was not kept or came from elsewhere", detail)
	}
	s.add(ruleSessionScript, models.MaxRisk(models.Medium, risk), detail, c.span())
}

func joinDetail(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// rateText rates the text the session wrote into f, as the interpreter
// lang would run it ("" reads the #! line; shell by default).
func (s *sessionCheck) rateText(f *memory.File, lang string) (models.Risk, string) {
	if f.Text == "" {
		return models.Medium, ""
	}
	if s.req.sessionDepth >= maxSessionDepth {
		return models.Medium, "it runs further scripts"
	}
	if lang == "" {
		lang = shebangLang(f.Text)
	}
	text := f.Text
	if flag := inlineFlag[lang]; flag != "" {
		q, err := syntax.Quote(text, syntax.LangBash)
		if err != nil {
			return models.High, "its text cannot be quoted for rating"
		}
		text = lang + " " + flag + " " + q
	} else if lang != "sh" {
		return models.Medium, ""
	}
	sub := s.req
	sub.Command = text
	sub.Cwd = s.cwd // bash resolves the script's relative paths from where it runs
	sub.sessionDepth++
	facts, dirs := parser.ParseWhere(text, parser.Env{})
	rating := s.r.rateFacts(sub, facts, dirs)
	if rating.Risk.Effective() <= models.Low || len(rating.Findings) == 0 {
		return rating.Risk.Effective(), ""
	}
	return rating.Risk.Effective(), "inside it: " + Summary(rating)
}

// inlineFlag is the option each interpreter takes inline code with.
var inlineFlag = map[string]string{"python": "-c", "node": "-e", "perl": "-e", "ruby": "-e", "php": "-r", "lua": "-e"}

// shebangLang is the interpreter a script's #! line names: "sh" for a
// shell or none, the parser.Interpreter language otherwise ("" when it is
// some other program).
func shebangLang(text string) string {
	if !strings.HasPrefix(text, "#!") {
		return "sh"
	}
	line, _, _ := strings.Cut(text[2:], "\n")
	f := strings.Fields(line)
	if len(f) == 0 {
		return "sh"
	}
	prog := baseName(f[0])
	if prog == "env" {
		for _, a := range f[1:] {
			if !strings.HasPrefix(a, "-") {
				prog = baseName(a)
				break
			}
		}
	}
	if parser.IsShell(prog) {
		return "sh"
	}
	return parser.Interpreter(prog)
}

// sessSenders send the files and input they are given off the machine.
var sessSenders = set("curl", "wget", "wget2", "nc", "ncat", "netcat", "socat", "telnet", "ssh", "scp", "sftp", "rsync", "ftp",
	"tftp", "http", "https", "xh", "mail", "mailx", "sendmail", "mutt", "openssl", "gh", "glab", "aws", "gsutil", "gcloud", "az",
	"azcopy", "rclone", "s3cmd", "mc", "b2", "smbclient", "lftp", "ncftpput", "dig", "nslookup", "host", "transfer", "croc",
	"magic-wormhole", "wormhole")

// sends judges a command that sends, off the machine, data the session
// copied from secrets: the command reads such a file (or its input comes
// from one through a pipe) and sends.
func (s *sessionCheck) sends(i int, c *cmd) {
	lang := parser.Interpreter(c.name)
	if !sessSenders[c.name] && lang == "" {
		return
	}
	if (c.name == "scp" || c.name == "rsync") && !remoteArg(c.args) {
		return
	}
	f := s.l.output(i) // what it reads: its input and the files it names
	if lang != "" {
		// Inline code that names a secret file and uses the network.
		f = &flow{}
		code := strings.Join(c.args, " ")
		if !netCode(code) {
			return
		}
		for _, g := range s.mem.Files {
			if g.How&memory.Secret != 0 && strings.Contains(code, filepath.Base(g.Path)) {
				f.how |= memory.Secret
				f.origin = g.Origin
			}
		}
	}
	if f.how&memory.Secret == 0 {
		return
	}
	s.add(ruleSessionExfil, models.High, secretDetail(f.origin), c.span())
}

func secretDetail(origin string) string {
	if origin == "" {
		return ""
	}
	return "copied from " + origin + " earlier in this session"
}

// remoteArg reports whether an scp or rsync argument names a remote
// host (host:path, user@host:path, rsync://…).
func remoteArg(args []string) bool {
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			continue
		}
		if strings.Contains(a, "://") {
			return true
		}
		if i := strings.IndexByte(a, ':'); i > 0 && !strings.Contains(a[:i], "/") {
			return true
		}
	}
	return false
}

// netCode reports whether inline program text uses the network.
func netCode(code string) bool {
	for _, w := range []string{"http", "socket", "requests", "urllib", "fetch(", "Net::", "curl", "smtplib", "ftplib", "dns", "net.connect", "XMLHttpRequest"} {
		if strings.Contains(code, w) {
			return true
		}
	}
	return false
}

// forges are public code hosts: a brand-new repository (one with no
// remotes before the session) may be pointed at them.
var forges = set("github.com", "gitlab.com", "bitbucket.org", "codeberg.org", "git.sr.ht", "ssh.dev.azure.com", "dev.azure.com",
	"gitea.com", "vs-ssh.visualstudio.com")

// knownHost reports whether host is one the project's remotes used before
// the session changed them (or, for a project that had none, a public
// forge); a local path ("") always is.
func (s *sessionCheck) knownHost(project, host string) bool {
	if host == "" {
		return true
	}
	known := s.mem.Known[project]
	hosts := 0
	for _, u := range known {
		if h := memory.Host(u); h != "" {
			hosts++
			if h == host {
				return true
			}
		}
	}
	return hosts == 0 && forges[host]
}

// git judges a git command against the remotes, settings and staged
// secrets of the session.
func (s *sessionCheck) git(c *cmd) {
	project, sub, rest := s.l.gitArgs(c)
	if sub == "" {
		return
	}
	switch sub {
	case "add", "stage", "commit":
		if found := s.l.coveredSecrets(c, project, sub, rest); len(found) > 0 {
			f := s.mem.File(found[0])
			origin := ""
			if f != nil {
				origin = f.Origin
			}
			s.add(ruleSessionExfil, models.High, joinDetail(found[0]+" holds secret data", secretDetail(origin)), c.span())
			return
		}
		if sub == "commit" && s.mem.Staged[project] {
			s.add(ruleSessionExfil, models.High, "a file holding secret data was staged earlier in this session", c.span())
		}
	case "push":
		if s.mem.Staged[project] {
			s.add(ruleSessionExfil, models.High, "a file holding secret data was staged or committed earlier in this session", c.span())
		}
		s.push(c, project, rest)
	}
	s.settings(c, project, sub, rest)
}

// push judges git push to a remote the session pointed at an unknown
// host, directly or through url.*.insteadOf.
func (s *sessionCheck) push(c *cmd, project string, rest []string) {
	_, pos := splitOpts(rest, "-o", "--push-option", "--receive-pack", "--exec", "--repo")
	name := "origin"
	if v, ok := sessValue(rest, "--repo"); ok {
		name = v
	} else if len(pos) > 0 {
		name = pos[0]
	}
	for _, key := range []string{memory.RemoteKey(project, name), memory.RemoteKey("", name)} {
		rm := s.mem.Remotes[key]
		if rm == nil {
			continue
		}
		for _, u := range rm.URLs {
			if h := memory.Host(u); !s.knownHost(project, h) {
				s.add(ruleSessionRemote, models.High, "remote "+name+" was pointed at "+u+" earlier in this session", c.span())
				return
			}
		}
	}
	for _, scope := range []string{project, ""} {
		for key, v := range s.mem.Settings {
			p, k, _ := strings.Cut(key, "\x00")
			if p != scope || !strings.HasPrefix(k, "url.") || !(strings.HasSuffix(k, ".insteadof") || strings.HasSuffix(k, ".pushinsteadof")) {
				continue
			}
			base := k[len("url.") : len(k)-len(".insteadof")]
			if strings.HasSuffix(k, ".pushinsteadof") {
				base = k[len("url.") : len(k)-len(".pushinsteadof")]
			}
			if h := memory.Host(base); !s.knownHost(project, h) {
				s.add(ruleSessionRemote, models.High, "git was told to send "+v+" to "+base+" earlier in this session", c.span())
				return
			}
		}
	}
}

func sessValue(args []string, opt string) (string, bool) {
	for j, a := range args {
		if a == opt && j+1 < len(args) {
			return args[j+1], true
		}
		if v, ok := strings.CutPrefix(a, opt+"="); ok {
			return v, true
		}
	}
	return "", false
}

// gitNetwork are the git subcommands that talk to a remote.
var gitNetwork = set("push", "fetch", "pull", "clone", "ls-remote", "remote", "submodule")

// settings judges a git command run with a setting the session changed
// so that git runs a program: credential helpers and ssh commands (on
// the network), hooks, fsmonitor, pagers, editors, filters, aliases.
func (s *sessionCheck) settings(c *cmd, project, sub string, rest []string) {
	if sub == "config" {
		return
	}
	for key, v := range s.mem.Settings {
		p, k, _ := strings.Cut(key, "\x00")
		if p != project && p != "" {
			continue
		}
		applies := false
		switch {
		case strings.HasPrefix(k, "alias."):
			if k[len("alias."):] == strings.ToLower(sub) {
				s.alias(c, v, rest)
			}
			continue
		case strings.HasPrefix(k, "credential.") && (strings.HasSuffix(k, ".helper") || k == "credential.helper"),
			k == "core.sshcommand", k == "core.gitproxy":
			applies = gitNetwork[sub]
		case k == "core.hookspath":
			applies = sub == "commit" || sub == "push" || sub == "merge" || sub == "rebase" || sub == "checkout" ||
				sub == "switch" || sub == "am" || sub == "pull"
		case k == "core.fsmonitor":
			applies = v != "" && v != "true" && v != "false"
		case k == "core.pager" || strings.HasPrefix(k, "pager.") || k == "core.editor" || k == "sequence.editor" ||
			strings.HasPrefix(k, "filter.") || k == "diff.external" || strings.HasPrefix(k, "gpg.") || k == "include.path" || strings.HasPrefix(k, "includeif."):
			applies = true
		}
		if !applies {
			continue
		}
		if s.settingRuns(k, v, project) {
			s.add(ruleSessionSetting, models.High, k+" = "+v+" was set earlier in this session", c.span())
			return
		}
	}
}

// settingRuns reports whether a git setting's value runs a program that
// is not an ordinary one: shell code, a program outside the project or in
// a temp folder, a file the session downloaded or decoded.
func (s *sessionCheck) settingRuns(key, v, project string) bool {
	v = strings.TrimSpace(v)
	if v == "" {
		return false
	}
	if key == "core.hookspath" || key == "include.path" || strings.HasPrefix(key, "includeif.") {
		p := absPath(v, project, s.home)
		return p == "" || !(project != "" && strings.HasPrefix(p, project+"/")) || s.memRisky(p)
	}
	if strings.HasPrefix(v, "!") || looksLikeExec(v) || strings.ContainsAny(v, ";|&`$<>") {
		return true
	}
	first := strings.Fields(v)[0]
	if strings.Contains(first, "/") {
		p := absPath(first, project, s.home)
		if p == "" || !(project != "" && strings.HasPrefix(p, project+"/")) || s.memRisky(p) {
			return true
		}
	}
	return false
}

// memRisky reports whether the memory holds p (or files under it) as
// downloaded, decoded or written by the session.
func (s *sessionCheck) memRisky(p string) bool {
	if f := s.mem.File(p); f != nil && f.How&(memory.Downloaded|memory.Decoded|memory.Written|memory.Partial) != 0 {
		return true
	}
	for _, f := range s.mem.Under(p) {
		if f.How&(memory.Downloaded|memory.Decoded|memory.Written|memory.Partial) != 0 {
			return true
		}
	}
	return false
}

// alias rates `git NAME args` for an alias the session defined: "!code"
// as that shell code, anything else as the git command it stands for.
func (s *sessionCheck) alias(c *cmd, v string, rest []string) {
	text := ""
	if body, ok := strings.CutPrefix(strings.TrimSpace(v), "!"); ok {
		text = body
	} else {
		text = "git " + v
	}
	for _, a := range rest {
		text += " " + runQuote(a)
	}
	if s.req.sessionDepth >= maxSessionDepth {
		s.add(ruleSessionSetting, models.Medium, "alias defined earlier in this session", c.span())
		return
	}
	sub := s.req
	sub.Command = text
	sub.sessionDepth++
	facts, dirs := parser.ParseWhere(text, parser.Env{})
	rating := s.r.rateFacts(sub, facts, dirs)
	risk := models.MaxRisk(models.Medium, rating.Risk.Effective())
	detail := "alias defined earlier in this session as " + v
	if len(rating.Findings) > 0 {
		detail += "; " + Summary(rating)
	}
	s.add(ruleSessionSetting, risk, detail, c.span())
}
