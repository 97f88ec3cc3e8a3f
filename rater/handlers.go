package rater

import (
	"path"
	"strconv"
	"strings"

	"github.com/chaperone-dev/chaperone/internal/lazyre"
	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/parser"
)

// handler judges one use of a program in detail; it returns false when it
// does not know what this use does. Which programs a handler judges is
// data: the catalogue entries whose Check names it (see checks).
type handler func(k *check, c *cmd) bool

func killAll5(k *check, c *cmd) bool { k.hit(ruleDestroyKillAll, c.span()); return true }

func privEsc(k *check, c *cmd) bool {
	if c.name == "su" && (c.has("-h", "--help", "-V", "--version")) {
		return true
	}
	if c.name == "passwd" {
		return true
	}
	k.hit(rulePrivSudo, c.span())
	return true
}

func namespace(k *check, c *cmd) bool { k.hit(rulePrivNamespace, c.span()); return true }

func mountCmd(k *check, c *cmd) bool {
	if len(c.args) == 0 || c.has("-l", "--list", "--show-labels") && len(c.positional()) == 0 {
		return true
	}
	k.hit(rulePrivNamespace, c.span())
	return true
}

func sshfs(k *check, c *cmd) bool {
	k.hit(ruleNetRemote, c.span())
	return true
}

func setuidCmd(k *check, c *cmd) bool {
	if c.has("-v", "--verify") {
		return true
	}
	k.hit(rulePrivSetuid, c.span())
	return true
}

// modeSetuid reports whether a chmod mode sets setuid/setgid bits.
func modeSetuid(m string) bool {
	if strings.Contains(m, "s") && (strings.ContainsAny(m, "+=")) && !strings.HasPrefix(m, "-") {
		return true
	}
	if len(m) == 4 && m[0] >= '1' && m[0] <= '7' && isOctal(m) {
		return m[0] != '1' // 1 alone is the sticky bit; 2 and 4 are setgid and setuid
	}
	return false
}

func isOctal(s string) bool {
	for _, r := range s {
		if r < '0' || r > '7' {
			return false
		}
	}
	return s != ""
}

func chmodCmd(k *check, c *cmd) bool {
	pos := c.positional("--reference")
	if len(pos) == 0 {
		return true
	}
	mode := pos[0]
	if modeSetuid(mode) {
		k.hit(rulePrivSetuid, c.span())
	}
	recursive := c.has("-R", "--recursive") || c.hasShort("R")
	k.permTargets(c, pos[1:], recursive, mode)
	return true
}

func chownCmd(k *check, c *cmd) bool {
	pos := c.positional("--reference", "--from")
	if len(pos) == 0 {
		return true
	}
	targets := pos[1:]
	if _, ok := c.value("--reference"); ok {
		targets = pos
	}
	k.permTargets(c, targets, c.has("-R", "--recursive") || c.hasShort("R"), "")
	return true
}

func (k *check) permTargets(c *cmd, targets []string, recursive bool, mode string) {
	for _, t := range targets {
		n := k.where.norm(t)
		switch k.where.placeOf(t, false) {
		case placeSystem, placeOther, placeDevice:
			k.hit(ruleDestroyPerms, c.span())
			return
		case placeHome:
			if !recursive && isSecret(n) && restrictive(mode) {
				// chmod 600 ~/.ssh/id_rsa tightens access.
				k.hit(rulePerms, c.span())
				continue
			}
			if recursive || isSecret(n) || isPersist(n) || n == "~" || strings.Count(n, "/") <= 1 {
				k.hit(ruleDestroyPerms, c.span())
				return
			}
			k.hit(rulePerms, c.span())
		case placeTemp:
			if strings.Contains(mode, "x") || modeExec(mode) {
				k.hit(ruleExecTemp, c.span())
				return
			}
			k.hit(rulePerms, c.span())
		default:
			k.hit(rulePerms, c.span())
		}
	}
}

func modeExec(m string) bool {
	if isOctal(m) && len(m) >= 3 {
		d, _ := strconv.Atoi(m[len(m)-3:])
		return d/100%2 == 1 || d/10%2 == 1 || d%2 == 1
	}
	return false
}

func chattrCmd(k *check, c *cmd) bool {
	for _, t := range c.positional() {
		if strings.HasPrefix(t, "+") || strings.HasPrefix(t, "-") || strings.HasPrefix(t, "=") {
			continue
		}
		switch k.where.placeOf(t, false) {
		case placeProject, placeTemp:
		default:
			k.hit(ruleDestroyPerms, c.span())
			return true
		}
	}
	for _, a := range c.args {
		if (strings.HasPrefix(a, "+") || strings.HasPrefix(a, "-")) && len(a) > 1 && !strings.HasPrefix(a, "--") {
			k.hit(rulePerms, c.span())
			break
		}
	}
	return true
}

func setfaclCmd(k *check, c *cmd) bool {
	if !c.has("-m", "-x", "-M", "-X", "--modify", "--remove", "-b", "-k", "--set", "--restore") && !c.hasShort("mxMXbk") {
		return true
	}
	k.permTargets(c, c.positional("-m", "-x", "-M", "-X", "--set"), c.hasShort("R"), "")
	return true
}

// rmCmd: deleting inside the project is medium; the root, home, system
// paths, a path built from an unset variable, or anything outside the
// project is high.
func rmCmd(k *check, c *cmd) bool {
	recursive := c.has("-r", "-R", "--recursive") || c.hasShort("rR")
	targets := 0
	for _, w := range c.Argv[1:] {
		a := w.Lit
		if strings.HasPrefix(a, "-") && a != "-" && !w.Dynamic {
			continue
		}
		targets++
		if a == "{}" || strings.Contains(a, "{}") {
			k.itemsTarget(c, recursive)
			continue
		}
		k.deleteTarget(c, w, recursive)
	}
	if targets == 0 && len(c.Via) > 0 {
		// xargs rm: the paths come from xargs' input.
		k.itemsTarget(c, recursive)
	}
	return true
}

// itemsTarget judges a deletion whose paths a wrapper supplies: find
// -exec's {} (the find roots) or xargs' input (the roots of a find or ls
// feeding it).
func (k *check) itemsTarget(c *cmd, recursive bool) {
	if len(c.Via) == 0 {
		k.hit(ruleDeleteLocal, c.span())
		return
	}
	label := c.Via[len(c.Via)-1]
	for i := c.idx - 1; i >= 0; i-- {
		p := &k.facts.Commands[i]
		if p.Wrapper != label {
			continue
		}
		src := p
		if label == "xargs" {
			if p.PipeFrom < 0 {
				break
			}
			src = &k.facts.Commands[p.PipeFrom]
		}
		if n := src.Name(); n == "find" || n == "fd" || n == "ls" || n == "locate" || n == "git" {
			hit := false
			for _, w := range src.Argv[1:] {
				if strings.HasPrefix(w.Lit, "-") || w.Lit == "!" || w.Lit == "(" {
					break
				}
				switch k.where.placeOf(w.Lit, w.Dynamic) {
				case placeProject, placeTemp, placeSink:
				default:
					k.deleteTarget(c, w, recursive)
					hit = true
				}
			}
			if hit {
				return
			}
		}
		break
	}
	k.hit(ruleDeleteLocal, c.span())
}

// varNameChars are the characters of a variable reference after its "$":
// a name, or a name in braces.
const varNameChars = "{}ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"

func (k *check) deleteTarget(c *cmd, w models.Word, recursive bool) {
	a := w.Lit
	n := k.where.norm(a)
	trimmed := strings.TrimRight(n, "/*.")
	switch {
	case n == "/" || n == "/*" || n == "~" || n == "~/" || n == "~/*" || trimmed == "" || trimmed == "~" || n == "/." || n == ".*" && recursive:
		k.hit(ruleDestroyUnbounded, c.span())
		return
	case w.Dynamic && strings.HasPrefix(a, "$") && strings.HasPrefix(strings.TrimLeft(a[1:], varNameChars), "/"):
		// "$DIR/" or "$DIR/*": if DIR is unset this is the root.
		rest := strings.TrimLeft(a[1:], varNameChars)
		if rest == "/" || rest == "/*" || rest == "/." || recursive && strings.Count(rest, "/") <= 1 {
			k.hit(ruleDestroyUnbounded, c.span())
			return
		}
	}
	if isSecret(n) || strings.HasPrefix(n, "~/.bash_history") || strings.HasSuffix(n, "_history") {
		if strings.HasSuffix(n, "_history") {
			k.hit(ruleEvadeHistory, c.span())
		}
		k.hit(ruleDestroyOutside, c.span())
		return
	}
	switch k.where.placeOf(a, w.Dynamic) {
	case placeSystem, placeOther:
		if strings.HasPrefix(n, "/var/log") {
			k.hit(ruleEvadeLogs, c.span())
		}
		for _, d := range systemDirs {
			if n == d {
				k.hit(ruleDestroyUnbounded, c.span())
				return
			}
		}
		k.hit(ruleDestroyOutside, c.span())
	case placeHome:
		k.hit(ruleDestroyOutside, c.span())
	case placeDevice:
		k.hit(ruleDestroyDevice, c.span())
	case placeSink:
	default:
		if strings.Contains(n, ".git/hooks") {
			k.hit(rulePersistGit, c.span())
		} else if models.HostExecPath(n) {
			k.hit(rulePersistProject, c.span())
		}
		k.hit(ruleDeleteLocal, c.span())
	}
}

func shredCmd(k *check, c *cmd) bool {
	for _, w := range c.Argv[1:] {
		if strings.HasPrefix(w.Lit, "-") {
			continue
		}
		k.deleteTarget(c, w, true)
	}
	return true
}

func ddCmd(k *check, c *cmd) bool {
	for _, a := range c.args {
		switch {
		case strings.HasPrefix(a, "of="):
			t := a[3:]
			switch k.where.placeOf(t, false) {
			case placeDevice:
				k.hit(ruleDestroyDevice, c.span())
			case placeSink, placeProject:
			default:
				k.write(c, models.Word{Lit: t}, false)
			}
		case strings.HasPrefix(a, "if="):
			t := a[3:]
			if k.where.placeOf(t, false) == placeDevice && !strings.HasPrefix(t, "/dev/zero") && !strings.HasPrefix(t, "/dev/urandom") && !strings.HasPrefix(t, "/dev/random") {
				k.hit(ruleDestroyDevice, c.span())
			}
		}
	}
	return true
}

func device(k *check, c *cmd) bool {
	if c.name == "fdisk" || c.name == "sfdisk" || c.name == "parted" {
		if c.has("-l", "--list") || c.has("print") {
			return true
		}
	}
	k.hit(ruleDestroyDevice, c.span())
	return true
}

func killCmd(k *check, c *cmd) bool {
	pos := c.positional("-s", "-n")
	if c.has("-l", "-L", "--list", "--table") {
		return true
	}
	for _, p := range pos {
		if p == "-1" || p == "0" || p == "1" {
			k.hit(ruleDestroyKillAll, c.span())
			return true
		}
	}
	// kill -9 -1: the last word -1 is a pid.
	if len(c.args) >= 2 && c.args[len(c.args)-1] == "-1" {
		k.hit(ruleDestroyKillAll, c.span())
		return true
	}
	k.hit(ruleSignal, c.span())
	return true
}

func killallCmd(k *check, c *cmd) bool {
	if c.has("-l", "--list") {
		return true
	}
	if c.has("-u", "--user") && len(c.positional("-u", "--user", "-s", "--signal")) == 0 {
		k.hit(ruleDestroyKillAll, c.span())
		return true
	}
	k.hit(ruleSignal, c.span())
	return true
}

func crontabCmd(k *check, c *cmd) bool {
	if len(c.args) == 1 && c.args[0] == "-l" {
		return true
	}
	if c.has("-l") && !c.has("-e", "-r", "-") && len(c.positional("-u")) == 0 {
		return true
	}
	k.hit(rulePersistCron, c.span())
	return true
}

func atCmd(k *check, c *cmd) bool {
	if c.name == "at" && (c.has("-l", "-c") || len(c.args) == 1 && c.args[0] == "-V") {
		return true
	}
	k.hit(rulePersistCron, c.span())
	return true
}

var systemctlRead = set("status", "show", "cat", "list-units", "list-unit-files", "list-timers", "list-sockets",
	"list-dependencies", "is-active", "is-enabled", "is-failed", "is-system-running", "get-default", "help", "list-jobs", "print")

func systemctlCmd(k *check, c *cmd) bool {
	sub, _ := c.sub("-t", "--type", "-p", "--property", "-H", "--host", "-M", "--machine", "-n", "--lines", "-o", "--output", "--state")
	if sub == "" || systemctlRead[sub] || c.name == "launchctl" && (sub == "list" || sub == "print") {
		return true
	}
	switch sub {
	case "enable", "link", "preset", "reenable", "set-default", "edit", "add-wants", "add-requires", "load", "bootstrap", "submit":
		k.hit(rulePersistService, c.span())
	default:
		if c.has("--user") && (sub == "start" || sub == "stop" || sub == "restart") {
			k.hit(ruleBackground, c.span())
			return true
		}
		k.hit(rulePrivSystem, c.span())
	}
	return true
}

func serviceCmd(k *check, c *cmd) bool {
	pos := c.positional()
	if len(pos) >= 2 && pos[1] == "status" || c.has("--status-all") {
		return true
	}
	k.hit(rulePrivSystem, c.span())
	return true
}

func historyCmd(k *check, c *cmd) bool {
	if c.has("-c", "-d", "-r", "-n") || c.hasShort("cd") {
		k.hit(ruleEvadeHistory, c.span())
	}
	return true
}

func unsetCmd(k *check, c *cmd) bool {
	for _, a := range c.args {
		if a == "HISTFILE" || a == "HISTSIZE" || a == "HISTFILESIZE" {
			k.hit(ruleEvadeHistory, c.span())
		}
	}
	return true
}

func exportCmd(k *check, c *cmd) bool {
	for _, a := range c.args {
		name, val, ok := strings.Cut(a, "=")
		if !ok {
			continue
		}
		k.assignment(c, models.Assign{Name: name, Value: models.Word{Lit: val}})
	}
	return true
}

func setCmd(k *check, c *cmd) bool {
	for i, a := range c.args {
		if (a == "+o" && i+1 < len(c.args) && c.args[i+1] == "history") || a == "+H" {
			k.hit(ruleEvadeHistory, c.span())
		}
	}
	return true
}

func firewall(k *check, c *cmd) bool {
	if c.name == "ufw" && (c.has("status") || c.has("app") && c.has("list")) {
		return true
	}
	if (c.name == "iptables" || c.name == "ip6tables") && (c.hasShort("LS") || c.has("--list", "--list-rules")) && !c.hasShort("ADIFXNZP") {
		return true
	}
	if c.name == "nft" && len(c.args) > 0 && c.args[0] == "list" {
		return true
	}
	k.hit(ruleEvadeFirewall, c.span())
	return true
}

func selinux(k *check, c *cmd) bool {
	if c.name == "auditctl" && (c.has("-l", "-s")) {
		return true
	}
	k.hit(ruleEvadeSELinux, c.span())
	return true
}

func journalCmd(k *check, c *cmd) bool {
	if c.has("--vacuum-time", "--vacuum-size", "--vacuum-files", "--rotate", "--flush", "--relinquish-var") {
		k.hit(ruleEvadeLogs, c.span())
	}
	return true
}

func logsCmd(k *check, c *cmd) bool {
	if c.has("-f", "--force") {
		k.hit(ruleEvadeLogs, c.span())
	}
	return true
}

func system(k *check, c *cmd) bool {
	if c.has("--help", "-h", "--version", "-V") && len(c.args) == 1 {
		return true
	}
	if c.name == "modprobe" && c.has("-n", "--dry-run", "-c", "--showconfig") {
		return true
	}
	k.hit(rulePrivSystem, c.span())
	return true
}

func ldconfigCmd(k *check, c *cmd) bool {
	if c.has("-p", "--print-cache") {
		return true
	}
	k.hit(ruleExecLibrary, c.span())
	return true
}

func sysctlCmd(k *check, c *cmd) bool {
	if c.has("-w", "--write", "-p", "--load", "--system") || c.hasShort("wp") {
		k.hit(rulePrivSystem, c.span())
		return true
	}
	for _, a := range c.positional() {
		if strings.Contains(a, "=") {
			k.hit(rulePrivSystem, c.span())
			return true
		}
	}
	return true
}

func passwdCmd(k *check, c *cmd) bool {
	if c.has("-S", "--status") {
		return true
	}
	k.hit(rulePrivSystem, c.span())
	return true
}

func hostnamectlCmd(k *check, c *cmd) bool {
	if sub, _ := c.sub(); sub == "" || sub == "status" {
		return true
	}
	k.hit(rulePrivSystem, c.span())
	return true
}

func timedatectlCmd(k *check, c *cmd) bool {
	if sub, _ := c.sub(); sub == "" || sub == "status" || strings.HasPrefix(sub, "list") || sub == "show" {
		return true
	}
	k.hit(rulePrivSystem, c.span())
	return true
}

// host returns the host part of a URL or host:port, lower case.
func host(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	if i := strings.IndexAny(u, "/?#"); i >= 0 {
		u = u[:i]
	}
	if i := strings.LastIndexByte(u, '@'); i >= 0 {
		u = u[i+1:]
	}
	if strings.HasPrefix(u, "[") {
		if i := strings.IndexByte(u, ']'); i >= 0 {
			return strings.ToLower(u[1:i])
		}
	}
	if i := strings.LastIndexByte(u, ':'); i >= 0 {
		u = u[:i]
	}
	return strings.ToLower(u)
}

func isLocalHost(h string) bool {
	return h == "localhost" || h == "127.0.0.1" || h == "::1" || h == "0.0.0.0" || strings.HasPrefix(h, "127.") || strings.HasSuffix(h, ".localhost")
}

func urls(c *cmd) []string {
	var out []string
	for _, a := range c.args {
		if strings.Contains(a, "://") {
			out = append(out, a)
		}
	}
	return out
}

func allLocal(c *cmd) bool {
	us := urls(c)
	if len(us) == 0 {
		return false
	}
	for _, u := range us {
		if !isLocalHost(host(u)) {
			return false
		}
	}
	return true
}

// infoOnly reports whether a command was given only flags that print
// something about the program itself (`curl --version`) and touch nothing.
func infoOnly(c *cmd) bool {
	if len(c.args) == 0 {
		return false
	}
	for _, a := range c.args {
		switch a {
		case "--version", "-V", "--help", "-h", "--manual":
		default:
			return false
		}
	}
	return true
}

func curlCmd(k *check, c *cmd) bool {
	if infoOnly(c) {
		return true
	}
	upload := c.has("-d", "--data", "--data-binary", "--data-raw", "--data-urlencode", "--data-ascii", "-F", "--form",
		"--form-string", "-T", "--upload-file", "--json") || c.hasShortVal("dFT")
	if m, ok := c.value("-X", "--request"); ok {
		switch strings.ToUpper(m) {
		case "POST", "PUT", "PATCH", "DELETE":
			upload = true
		}
	}
	for _, u := range urls(c) {
		if strings.HasPrefix(u, "gopher://") || strings.HasPrefix(u, "dict://") || strings.HasPrefix(u, "telnet://") ||
			strings.HasPrefix(u, "smtp") || strings.HasPrefix(u, "ftp://") && c.has("-T", "--upload-file") {
			upload = true
		}
		if strings.HasPrefix(u, "file://") {
			k.word(c, strings.TrimPrefix(u, "file://"))
		}
	}
	local := allLocal(c)
	switch {
	case upload && !local:
		k.upload(c)
	case upload:
		k.hit(ruleNetFetch, c.span())
	case local:
	default:
		k.hit(ruleNetFetch, c.span())
	}
	for _, o := range []string{"-o", "--output", "--output-dir", "-c", "--cookie-jar", "-D", "--dump-header", "--trace", "--trace-ascii", "--stderr", "-K", "--config"} {
		if v, ok := c.value(o); ok && v != "-" {
			if o == "-K" || o == "--config" {
				k.word(c, v)
				continue
			}
			k.write(c, models.Word{Lit: v}, false)
			k.noteDownload(v)
		}
	}
	for _, r := range c.Redirs {
		if r.Op == ">" || r.Op == ">|" || r.Op == ">>" {
			k.noteDownload(r.Target.Lit)
		}
	}
	if c.has("-O", "--remote-name", "--remote-name-all") {
		for _, u := range urls(c) {
			k.noteDownload(baseName(u))
		}
	}
	return true
}

// hasShortVal reports a short option that takes a value written glued
// to it, such as -d@file or -Fname=x.
func (c *cmd) hasShortVal(letters string) bool {
	for _, a := range c.args {
		if len(a) > 2 && a[0] == '-' && a[1] != '-' && strings.ContainsRune(letters, rune(a[1])) {
			return true
		}
	}
	return false
}

func (k *check) noteDownload(p string) {
	if k.downloaded == nil {
		k.downloaded = map[string]bool{}
	}
	n := k.where.norm(p)
	k.downloaded[n] = true
	k.downloaded[strings.TrimPrefix(n, "./")] = true
	k.downloaded["./"+strings.TrimPrefix(n, "./")] = true
}

// upload records that c sends data off the machine, and that what it
// sends is the environment when it is fed an environment dump.
func (k *check) upload(c *cmd) {
	k.hit(ruleNetUpload, c.span())
	if k.envProducer(c) {
		k.hit(ruleEnvExfil, c.span())
	}
}

// envProducer reports whether c reads an environment dump: from a pipe
// fed by env/printenv/set, or as an argument "$(env)".
func (k *check) envProducer(c *cmd) bool {
	for _, w := range c.Argv {
		for _, i := range w.Subst {
			if dumpsEnv(&k.facts.Commands[i]) {
				return true
			}
		}
	}
	for p := c.PipeFrom; p >= 0 && p < len(k.facts.Commands); p = k.facts.Commands[p].PipeFrom {
		if dumpsEnv(&k.facts.Commands[p]) {
			return true
		}
		if p == k.facts.Commands[p].PipeFrom {
			break
		}
	}
	return false
}

func dumpsEnv(m *models.Command) bool {
	switch m.Name() {
	case "env", "printenv":
		return len(m.Argv) == 1 || m.Argv[len(m.Argv)-1].Lit == "-0"
	case "set", "export", "declare", "typeset":
		return len(m.Argv) == 1 || len(m.Argv) == 2 && (m.Argv[1].Lit == "-p" || m.Argv[1].Lit == "-x")
	case "cat", "strings", "xargs":
		for _, w := range m.Argv[1:] {
			if strings.HasSuffix(w.Lit, "/environ") {
				return true
			}
		}
	}
	return false
}

func wgetCmd(k *check, c *cmd) bool {
	if infoOnly(c) {
		return true
	}
	if c.has("--post-data", "--post-file", "--body-data", "--body-file", "--method") {
		k.upload(c)
		return true
	}
	if !allLocal(c) {
		k.hit(ruleNetFetch, c.span())
	}
	if v, ok := c.value("-O", "--output-document", "-o", "--output-file", "-a", "--append-output", "-P", "--directory-prefix"); ok && v != "-" {
		k.write(c, models.Word{Lit: v}, false)
		k.noteDownload(v)
	} else {
		for _, u := range urls(c) {
			k.noteDownload(baseName(u))
		}
	}
	if v, ok := c.value("-i", "--input-file"); ok {
		k.word(c, v)
	}
	return true
}

func fetchCmd(k *check, c *cmd) bool {
	for _, a := range c.args {
		if strings.HasPrefix(a, "--on-") {
			k.hit(ruleExecIndirect, c.span())
		}
	}
	if c.name == "ab" && c.has("-p", "-u") {
		k.hit(ruleNetUpload, c.span())
		return true
	}
	k.hit(ruleNetFetch, c.span())
	pos := c.positional("-o", "--out", "-d", "--dir", "-p", "-u", "-n", "-c", "-v")
	if len(pos) >= 2 {
		k.write(c, models.Word{Lit: pos[len(pos)-1]}, false)
	}
	if v, ok := c.value("-o", "--out"); ok {
		k.write(c, models.Word{Lit: v}, false)
	}
	return true
}

func lwpRequest(k *check, c *cmd) bool {
	if m, ok := c.value("-m"); ok && m != "GET" && m != "HEAD" {
		k.hit(ruleNetUpload, c.span())
		return true
	}
	k.hit(ruleNetFetch, c.span())
	return true
}

func httpie(k *check, c *cmd) bool {
	pos := c.positional()
	upload := false
	if len(pos) > 0 {
		switch strings.ToUpper(pos[0]) {
		case "POST", "PUT", "PATCH", "DELETE":
			upload = true
		}
	}
	for _, p := range pos {
		if strings.Contains(p, "=") || strings.Contains(p, ":=") || strings.Contains(p, "@") {
			upload = true
		}
	}
	if upload {
		k.hit(ruleNetUpload, c.span())
		return true
	}
	k.hit(ruleNetFetch, c.span())
	return true
}

// ncCmd: a connection to a remote host is high; a local listener that
// only receives is medium; -e/-c hands a shell to the network.
func ncCmd(k *check, c *cmd) bool {
	if c.has("-e", "-c", "--exec", "--sh-exec", "--lua-exec") || c.hasShortVal("e") {
		k.hit(ruleShellReverse, c.span())
		return true
	}
	listen := c.has("-l", "--listen") || c.hasShort("l")
	pos := c.positional("-p", "-s", "-w", "-i", "-q", "-x", "-X", "-T", "-W", "-I", "-O", "-P", "-S", "-V", "-M", "-m")
	if listen {
		// Something sent to whoever connects.
		if c.Stdin == "file" || c.Stdin == "pipe" || c.Stdin == "heredoc" {
			for _, r := range c.Redirs {
				if r.Op == "<" {
					k.secretWord(c, r.Target.Lit)
				}
			}
			k.hit(ruleNetSocket, c.span())
			return true
		}
		k.hit(ruleNetListen, c.span())
		return true
	}
	if len(pos) > 0 && isLocalHost(pos[0]) {
		k.hit(ruleNetListen, c.span())
		return true
	}
	k.hit(ruleNetSocket, c.span())
	return true
}

func socatCmd(k *check, c *cmd) bool {
	remote, listen, execs := false, false, false
	for _, a := range c.positional() {
		u := strings.ToUpper(a)
		switch {
		case strings.HasPrefix(u, "EXEC:") || strings.HasPrefix(u, "SYSTEM:"):
			execs = true
		case strings.HasPrefix(u, "TCP-LISTEN") || strings.HasPrefix(u, "TCP4-LISTEN") || strings.HasPrefix(u, "TCP6-LISTEN") ||
			strings.HasPrefix(u, "UDP-LISTEN") || strings.HasPrefix(u, "OPENSSL-LISTEN") || strings.HasPrefix(u, "UNIX-LISTEN") || strings.HasPrefix(u, "UDP-RECV"):
			listen = true
		case strings.HasPrefix(u, "TCP") || strings.HasPrefix(u, "UDP") || strings.HasPrefix(u, "OPENSSL") || strings.HasPrefix(u, "SCTP") ||
			strings.HasPrefix(u, "SOCKS") || strings.HasPrefix(u, "PROXY") || strings.HasPrefix(u, "IP4") || strings.HasPrefix(u, "IP6") || strings.HasPrefix(u, "DCCP"):
			parts := strings.Split(a, ":")
			if len(parts) < 2 || !isLocalHost(strings.ToLower(parts[1])) {
				remote = true
			}
		case strings.HasPrefix(u, "OPEN:") || strings.HasPrefix(u, "CREATE:") || strings.HasPrefix(u, "GOPEN:"):
			t := a[strings.IndexByte(a, ':')+1:]
			if i := strings.IndexByte(t, ','); i >= 0 {
				t = t[:i]
			}
			k.write(c, models.Word{Lit: t}, false)
		case strings.HasPrefix(u, "FILE:"):
			k.word(c, a[5:])
		}
	}
	switch {
	case execs && (remote || listen):
		k.hit(ruleShellReverse, c.span())
	case execs:
		k.hit(ruleExecIndirect, c.span())
	case remote:
		k.hit(ruleNetSocket, c.span())
	case listen:
		k.hit(ruleNetListen, c.span())
	}
	return true
}

func remoteShell(k *check, c *cmd) bool {
	if c.has("--help", "-h", "--version") && len(c.args) == 1 {
		return true
	}
	k.hit(ruleNetRemote, c.span())
	return true
}

func fingerCmd(k *check, c *cmd) bool {
	for _, w := range c.Argv[1:] {
		if w.Dynamic || strings.Count(w.Lit, "@") > 0 && len(w.Subst) > 0 {
			k.upload(c)
			return true
		}
	}
	k.hit(ruleNetFetch, c.span())
	return true
}

func whoisCmd(k *check, c *cmd) bool {
	for _, w := range c.Argv[1:] {
		if len(w.Subst) > 0 || w.Dynamic {
			k.upload(c)
			return true
		}
	}
	if c.has("-h") && c.has("-p") {
		k.hit(ruleNetFetch, c.span())
	}
	return true
}

// sshCmd: any ssh to a host is high; ssh -V and ssh -G are not.
func sshCmd(k *check, c *cmd) bool {
	if c.has("-V", "-G", "-Q") && len(c.positional()) <= 1 && !c.has("-L", "-R", "-D") {
		return true
	}
	// Even ssh localhost runs a shell as whoever the key logs in as.
	k.hit(ruleNetRemote, c.span())
	return true
}

// remotePath reports whether an scp/rsync argument is on another host.
func remotePath(a string) bool {
	if strings.HasPrefix(a, "rsync://") || strings.HasPrefix(a, "scp://") || strings.HasPrefix(a, "sftp://") {
		return true
	}
	i := strings.IndexByte(a, ':')
	if i <= 0 {
		return false
	}
	if j := strings.IndexByte(a, '/'); j >= 0 && j < i {
		return false
	}
	return true
}

// anyRemote reports whether any of the paths is on another host.
func anyRemote(paths []string) bool {
	for _, p := range paths {
		if remotePath(p) {
			return true
		}
	}
	return false
}

func scpCmd(k *check, c *cmd) bool {
	if c.has("-S") {
		k.hit(ruleExecIndirect, c.span())
	}
	pos := c.positional("-c", "-F", "-i", "-J", "-l", "-o", "-P", "-S", "-D", "-X")
	return k.copyRemote(c, pos)
}

func (k *check) copyRemote(c *cmd, pos []string) bool {
	if len(pos) < 2 {
		k.hit(ruleNetRemote, c.span())
		return true
	}
	dst := pos[len(pos)-1]
	switch {
	case remotePath(dst):
		k.hit(ruleNetCopy, c.span())
	case anyRemote(pos[:len(pos)-1]):
		k.hit(ruleNetFetch, c.span())
		k.write(c, models.Word{Lit: dst}, false)
	default:
		// local copy
		k.write(c, models.Word{Lit: dst}, false)
		if c.has("--delete") {
			k.hit(ruleDeleteLocal, c.span())
		}
	}
	return true
}

func rsyncCmd(k *check, c *cmd) bool {
	if v, ok := c.value("-e", "--rsh"); ok && looksLikeExec(v) && !strings.HasPrefix(v, "ssh") {
		k.hit(ruleExecIndirect, c.span())
	}
	pos := c.positional("-e", "--rsh", "--exclude", "--include", "--filter", "-f", "--files-from", "--exclude-from", "--port", "--password-file", "-T", "--temp-dir", "--partial-dir", "--log-file", "--chmod", "--info", "-B", "--block-size", "--bwlimit", "--timeout", "-M", "--remote-option")
	if len(pos) >= 2 && !remotePath(pos[len(pos)-1]) && !anyRemote(pos[:len(pos)-1]) {
		// A local copy.
		k.write(c, models.Word{Lit: pos[len(pos)-1]}, false)
		if c.has("--delete", "--delete-before", "--delete-after", "--remove-source-files") {
			k.hit(ruleDeleteLocal, c.span())
		}
		return true
	}
	return k.copyRemote(c, pos)
}

func sshCopyID(k *check, c *cmd) bool {
	k.hit(rulePersistFile, c.span())
	return true
}

func pingCmd(k *check, c *cmd) bool {
	if c.has("-p", "--pattern") || c.hasShortVal("p") {
		k.hit(ruleNetCovert, c.span())
	}
	for _, w := range c.Argv[1:] {
		if len(w.Subst) > 0 {
			k.hit(ruleNetCovert, c.span())
		}
	}
	return true
}

func covert(k *check, c *cmd) bool { k.hit(ruleNetCovert, c.span()); return true }

func digCmd(k *check, c *cmd) bool {
	for _, w := range c.Argv[1:] {
		if len(w.Subst) > 0 {
			k.hit(ruleNetCovert, c.span())
			return true
		}
	}
	if v, ok := c.value("-f"); ok {
		k.word(c, v)
	}
	return true
}

func scan(k *check, c *cmd) bool { k.hit(ruleNetScan, c.span()); return true }

func opensslCmd(k *check, c *cmd) bool {
	sub, _ := c.sub()
	switch sub {
	case "s_client":
		if v, ok := c.value("-connect"); ok && isLocalHost(host(v)) {
			k.hit(ruleNetListen, c.span())
			return true
		}
		k.hit(ruleNetSocket, c.span())
	case "s_server":
		k.hit(ruleNetListen, c.span())
	case "enc", "base64":
		// Decoding is fine; feeding the result to a shell is caught by
		// the pipe rules.
		if v, ok := c.value("-out"); ok {
			k.write(c, models.Word{Lit: v}, false)
		}
	case "req", "x509", "genrsa", "genpkey", "rsa", "ec", "pkcs12", "dgst", "rand", "verify", "version", "ciphers", "crl", "ca", "list", "speed", "pkey", "passwd", "prime", "asn1parse", "smime", "cms", "ecparam", "dhparam", "sha256", "md5", "sha1":
		for _, a := range c.args {
			if strings.HasPrefix(a, "-engine") {
				k.hit(ruleExecLibrary, c.span())
			}
		}
		if v, ok := c.value("-out"); ok {
			k.write(c, models.Word{Lit: v}, false)
		}
	default:
		return false
	}
	if c.has("-engine") {
		k.hit(ruleExecLibrary, c.span())
	}
	return true
}

func socketCmd(k *check, c *cmd) bool {
	if c.has("-p") || c.hasShort("p") {
		k.hit(ruleShellReverse, c.span())
		return true
	}
	k.hit(ruleNetSocket, c.span())
	return true
}

func tcpdumpCmd(k *check, c *cmd) bool {
	if c.has("-z") || c.hasShortVal("z") {
		k.hit(ruleExecIndirect, c.span())
	}
	for _, a := range c.args {
		if strings.HasPrefix(a, "-Xlua_script") || strings.HasPrefix(a, "lua_script") {
			k.hit(ruleExecIndirect, c.span())
		}
	}
	k.hit(rulePrivSystem, c.span())
	return true
}

func tunnel(k *check, c *cmd) bool { k.hit(ruleNetRemote, c.span()); return true }

// decoderCmd notes decoders; their output fed to a shell is handled by
// the pipe rules.
func decoderCmd(k *check, c *cmd) bool {
	if c.name == "xxd" || c.name == "uudecode" {
		if v, ok := c.value("-o"); ok {
			k.write(c, models.Word{Lit: v}, false)
		}
	}
	return true
}

func quietWrapper(k *check, c *cmd) bool {
	if c.name == "strace" || c.name == "ltrace" {
		if v, ok := c.value("-o", "--output"); ok {
			k.write(c, models.Word{Lit: v}, false)
		}
		if c.has("-p", "--attach") {
			k.hit(rulePrivSystem, c.span())
		}
	}
	if c.name == "sshpass" && c.Wrapper == "" {
		k.hit(ruleNetRemote, c.span())
	}
	return true
}

func nohupCmd(k *check, c *cmd) bool {
	k.hit(ruleBackground, c.span())
	return true
}

func screenCmd(k *check, c *cmd) bool {
	if c.has("-ls", "-list", "-r", "-x", "-R") {
		return true
	}
	if c.has("-L", "-Logfile") {
		if v, ok := c.value("-Logfile"); ok {
			k.write(c, models.Word{Lit: v}, false)
		}
		for i, a := range c.args {
			if a == "-L" && i+1 < len(c.args) && strings.HasPrefix(c.args[i+1], "/") {
				k.write(c, models.Word{Lit: c.args[i+1]}, false)
			}
		}
	}
	k.hit(ruleBackground, c.span())
	return true
}

func tmuxCmd(k *check, c *cmd) bool {
	if v, ok := c.value("-f"); ok {
		k.word(c, v)
	}
	sub, _ := c.sub("-f", "-L", "-S", "-c", "-t", "-s", "-n")
	switch sub {
	case "", "ls", "list-sessions", "list-windows", "list-panes", "attach", "attach-session", "a", "capture-pane", "display-message", "has-session", "show-options":
		return true
	}
	k.hit(ruleBackground, c.span())
	return true
}

func scriptCmd(k *check, c *cmd) bool {
	if !c.has("-c", "--command") && c.Wrapper == "" {
		// script without -c starts an interactive $SHELL.
		k.hit(ruleExecShell, c.span())
	}
	pos := c.positional("-c", "--command", "-E", "--echo", "-I", "-O", "-T", "-t", "-m", "--log-in", "--log-out", "--log-timing")
	if len(pos) > 0 {
		k.write(c, models.Word{Lit: pos[0]}, false)
	}
	return true
}

func systemdRun(k *check, c *cmd) bool {
	k.hit(rulePersistService, c.span())
	return true
}

func gdbCmd(k *check, c *cmd) bool {
	if c.has("-p", "--pid") {
		k.hit(rulePrivSystem, c.span())
	}
	for i, a := range c.args {
		if (a == "-ex" || a == "--eval-command" || a == "-x" || a == "--command") && i+1 < len(c.args) {
			v := c.args[i+1]
			if strings.HasPrefix(v, "!") || strings.HasPrefix(v, "shell") || strings.HasPrefix(v, "python") || strings.HasPrefix(v, "call") {
				k.hit(ruleExecIndirect, c.span())
			}
		}
	}
	return true
}

func editorCmd(k *check, c *cmd) bool {
	for i, a := range c.args {
		if (a == "-c" || a == "--cmd" || strings.HasPrefix(a, "+")) && (i+1 < len(c.args) || strings.HasPrefix(a, "+")) {
			v := a
			if !strings.HasPrefix(a, "+") {
				v = c.args[i+1]
			}
			if strings.Contains(v, "!") || strings.Contains(v, "system") || strings.Contains(v, "lua") || strings.Contains(v, "py") ||
				strings.Contains(v, "shell") || strings.Contains(v, "term") || strings.Contains(v, "call ") {
				k.hit(ruleExecIndirect, c.span())
			}
		}
		if c.name == "emacs" && (a == "--eval" || a == "-l" || a == "--load" || a == "-batch") {
			k.hit(ruleExecIndirect, c.span())
		}
	}
	for _, w := range c.Argv[1:] {
		if strings.HasPrefix(w.Lit, "-") {
			continue
		}
		switch k.where.placeOf(w.Lit, w.Dynamic) {
		case placeSystem, placeOther:
			if !strings.HasPrefix(w.Lit, "/dev/null") {
				k.write(c, w, false)
			}
		case placeHome:
			k.write(c, w, false)
		}
	}
	return true
}

func pagerCmd(k *check, c *cmd) bool {
	for _, a := range c.args {
		if c.name == "man" && (strings.HasPrefix(a, "-H") || strings.HasPrefix(a, "--html") || a == "-P" || strings.HasPrefix(a, "--pager")) {
			k.hit(ruleExecIndirect, c.span())
		}
	}
	return true
}

// makeCmd: make's variables and options on the command line are settings
// (settings.go): $(shell …) in a value, SHELL=, a makefile from a temp dir.
func makeCmd(k *check, c *cmd) bool {
	for i, a := range c.args {
		if (a == "-f" || a == "--file" || a == "--makefile" || a == "-I" || a == "--include-dir") && i+1 < len(c.args) {
			a += "=" + c.args[i+1]
			if a[1] != '-' {
				a = a[:2] + a[3:]
			}
		}
		switch k.makeArg(a) {
		case vHigh:
			k.hit(ruleExecIndirect, c.span())
		case vMedium:
			k.hit(ruleScript, c.span())
		}
	}
	return true
}

func chaperoneCmd(k *check, c *cmd) bool {
	sub, _ := c.sub()
	switch sub {
	case "rate", "help", "version", "--version", "doctor", "":
		return true
	}
	k.hit(ruleChaperone, c.span())
	return true
}

// sh/bash run directly: -c is looked into by the parser; a script file is
// a project script; nothing reads stdin: an interactive shell.
func shellCmd(k *check, c *cmd) bool {
	code, file, stdin := false, "", false
	priv := false
	for i := 0; i < len(c.args); i++ {
		a := c.args[i]
		if a == "-o" || a == "+o" || a == "-O" || a == "+O" || a == "--rcfile" || a == "--init-file" {
			i++
			continue
		}
		if a == "-" || a == "-s" || a == "--" {
			stdin = a != "--"
			if a == "--" && i+1 < len(c.args) {
				file = c.args[i+1]
			}
			break
		}
		if strings.HasPrefix(a, "-") || strings.HasPrefix(a, "+") {
			if !strings.HasPrefix(a, "--") && strings.Contains(a, "c") {
				code = true
				break
			}
			if !strings.HasPrefix(a, "--") && strings.Contains(a, "p") {
				priv = true
			}
			if !strings.HasPrefix(a, "--") && strings.Contains(a, "s") {
				stdin = true
			}
			continue
		}
		file = a
		break
	}
	if priv {
		k.hit(rulePrivSetuid, c.span())
	}
	if code {
		return true
	}
	if file != "" {
		n := k.where.norm(file)
		switch {
		case k.downloaded[n] || k.downloaded[strings.TrimPrefix(n, "./")]:
			k.hit(ruleExecDownload, c.span())
		case k.where.placeOf(file, false) == placeTemp:
			k.hit(ruleExecTemp, c.span())
		case file == "/dev/stdin" || strings.HasPrefix(file, "/dev/fd/") || strings.HasPrefix(file, "/proc/self/fd/"):
			stdin = true
		case c.Argv[len(c.Argv)-1].ProcSubst || k.procSubstArg(c):
			// bash <(curl …)
			if k.feedsFromNetwork(c) {
				k.hit(ruleExecDownload, c.span())
			} else {
				k.hit(ruleScript, c.span())
			}
			return true
		case k.where.placeOf(file, false) == placeProject:
			k.hit(ruleScript, c.span())
		default:
			k.hit(ruleExecIndirect, c.span())
		}
		if !stdin {
			return true
		}
	}
	if c.Stdin == "pipe" || c.Stdin == "file" || c.Stdin == "heredoc" || c.Stdin == "subst" || stdin {
		k.shellFromStdin(c)
		return true
	}
	if len(c.Via) > 0 {
		k.hit(ruleExecShell, c.span())
		return true
	}
	k.hit(ruleShellBare, c.span())
	return true
}

func (k *check) procSubstArg(c *cmd) bool {
	for _, w := range c.Argv[1:] {
		if w.ProcSubst {
			return true
		}
	}
	for _, r := range c.Redirs {
		if r.Target.ProcSubst {
			return true
		}
	}
	return false
}

// feedsFromNetwork reports whether a process substitution in c's words or
// redirections runs a network fetch.
func (k *check) feedsFromNetwork(c *cmd) bool {
	check := func(w models.Word) bool {
		for _, i := range w.Subst {
			if fetcher(&k.facts.Commands[i]) {
				return true
			}
		}
		return false
	}
	for _, w := range c.Argv[1:] {
		if check(w) {
			return true
		}
	}
	for _, r := range c.Redirs {
		if check(r.Target) {
			return true
		}
	}
	return false
}

// fetchers are programs whose output may come from the network. git is
// not one: its output is about the repository.
var fetchers = set("curl", "wget", "wget2", "fetch", "aria2c", "lwp-request", "lwp-download", "http", "https", "xh", "nc", "ncat",
	"netcat", "socat", "telnet", "ssh", "scp", "ftp", "tftp", "smbclient", "openssl", "gh", "aws", "gsutil", "s3cmd", "rclone")

// fetcher reports whether m's output may come from the network: one of
// fetchers, or a program the catalogue says fetches, named with a host
// on another machine (fetchesRemote).
func fetcher(m *models.Command) bool { return fetchers[m.Name()] || fetchesRemote(m) }

var decoders = set("base64", "base32", "basenc", "xxd", "uudecode", "openssl", "gunzip", "zcat", "gzip", "bzip2", "xz", "rev",
	"tr", "printf", "echo", "perl", "python", "python3", "ruby", "node", "unzip", "tar", "zstd", "lz4", "ascii85", "base58", "sed", "awk")

// shellFromStdin judges a shell (or interpreter) that runs whatever
// arrives on its stdin.
func (k *check) shellFromStdin(c *cmd) {
	if k.feedsFromNetwork(c) {
		k.hit(ruleExecDownload, c.span())
		return
	}
	seen := 0
	for p := c.PipeFrom; p >= 0 && p < len(k.facts.Commands) && seen < 64; seen++ {
		m := &k.facts.Commands[p]
		if fetcher(m) {
			k.hit(ruleExecDownload, c.span())
			return
		}
		for _, w := range m.Argv {
			for _, i := range w.Subst {
				if fetcher(&k.facts.Commands[i]) {
					k.hit(ruleExecDownload, c.span())
					return
				}
			}
		}
		if n := m.Name(); decoders[n] && decodes(m) {
			k.hit(ruleExecObfuscated, c.span())
			return
		}
		if m.PipeFrom == p {
			break
		}
		p = m.PipeFrom
	}
	switch c.Stdin {
	case "pipe":
		// What is piped was looked into by the parser when it was
		// literal (echo 'cmd' | sh); anything else is a script nobody
		// has read.
		if c.PipeFrom >= 0 {
			m := &k.facts.Commands[c.PipeFrom]
			if n := m.Name(); n == "echo" || n == "printf" {
				lit := true
				for _, w := range m.Argv[1:] {
					if w.Dynamic {
						lit = false
					}
				}
				if lit {
					return
				}
			}
			if n := m.Name(); n == "cat" && len(m.Argv) == 2 && k.where.placeOf(m.Argv[1].Lit, false) == placeProject {
				k.hit(ruleScript, c.span())
				return
			}
		}
		k.hit(ruleExecIndirect, c.span())
	case "file":
		for _, r := range c.Redirs {
			if r.Op == "<" {
				switch {
				case k.downloaded[k.where.norm(r.Target.Lit)]:
					k.hit(ruleExecDownload, c.span())
				case k.where.placeOf(r.Target.Lit, r.Target.Dynamic) == placeProject:
					k.hit(ruleScript, c.span())
				case k.where.placeOf(r.Target.Lit, r.Target.Dynamic) == placeSink:
				default:
					k.hit(ruleExecIndirect, c.span())
				}
			}
		}
	case "heredoc":
		// The parser read the heredoc when it could.
	case "subst":
		k.hit(ruleExecIndirect, c.span())
	}
}

// decodes reports whether m turns encoded text back into code.
func decodes(m *models.Command) bool {
	if len(m.Argv) == 0 {
		return false
	}
	n := m.Name()
	for _, w := range m.Argv[1:] {
		a := w.Lit
		switch n {
		case "base64", "base32", "basenc", "ascii85", "base58":
			if a == "-d" || a == "--decode" || a == "-D" || strings.HasPrefix(a, "-") && strings.Contains(a, "d") && !strings.HasPrefix(a, "--") {
				return true
			}
		case "xxd":
			if strings.Contains(a, "r") && strings.HasPrefix(a, "-") {
				return true
			}
		case "openssl":
			if a == "-d" {
				return true
			}
		case "gunzip", "zcat", "rev", "uudecode":
			return true
		case "gzip", "bzip2", "xz", "zstd", "lz4":
			if a == "-d" || a == "--decompress" || a == "-dc" || a == "-cd" {
				return true
			}
		case "tr":
			return true
		case "printf", "echo":
			if strings.Contains(a, `\x`) || strings.Contains(a, `\0`) {
				return true
			}
		}
	}
	return n == "rev" || n == "gunzip" || n == "zcat" || n == "uudecode"
}

func evalCmd(k *check, c *cmd) bool {
	for _, w := range c.Argv[1:] {
		for _, i := range w.Subst {
			if fetcher(&k.facts.Commands[i]) {
				k.hit(ruleExecDownload, c.span())
				return true
			}
			if decodes(&k.facts.Commands[i]) {
				k.hit(ruleExecObfuscated, c.span())
				return true
			}
		}
	}
	return true
}

func sourceCmd(k *check, c *cmd) bool {
	if len(c.Argv) < 2 {
		return true
	}
	w := c.Argv[1]
	if w.ProcSubst {
		if k.feedsFromNetwork(c) {
			k.hit(ruleExecDownload, c.span())
		} else {
			k.hit(ruleExecIndirect, c.span())
		}
		return true
	}
	n := k.where.norm(w.Lit)
	if agentSnapshot(w.Lit) {
		return true
	}
	switch {
	case k.downloaded[n]:
		k.hit(ruleExecDownload, c.span())
	case w.Lit == "/dev/stdin" || w.Lit == "-":
		k.shellFromStdin(c)
	}
	switch k.where.placeOf(w.Lit, w.Dynamic) {
	case placeTemp:
		k.hit(ruleExecTemp, c.span())
	case placeProject:
		if strings.Contains(n, "venv/bin/activate") || strings.HasSuffix(n, ".env") || strings.HasSuffix(n, "/activate") {
			return true
		}
		k.hit(ruleScript, c.span())
	case placeHome:
		if strings.HasPrefix(n, "~/.") && (strings.HasSuffix(n, "rc") || strings.HasSuffix(n, "profile") || strings.HasSuffix(n, "/env") || strings.HasSuffix(n, "nvm.sh")) {
			return true
		}
		k.hit(ruleScript, c.span())
	case placeUnknown:
		k.hit(ruleOpaque, c.span())
	}
	return true
}

func envCmd(k *check, c *cmd) bool {
	if c.name == "printenv" || c.Wrapper == "" {
		// A dump of the environment: fine on the terminal; sent to a
		// file or a pipe the other end decides.
		for _, r := range c.Redirs {
			if r.Op == ">" || r.Op == ">>" || r.Op == "&>" || r.Op == ">|" {
				pl := k.where.placeOf(r.Target.Lit, r.Target.Dynamic)
				if pl != placeSink && pl != placeProject {
					k.hit(ruleEnvExfil, c.span())
				}
			}
		}
	}
	return true
}

// xargsCmd: xargs itself is quiet; the parser lists what it runs.
func xargsCmd(k *check, c *cmd) bool { return true }

var secretWords = lazyre.New(`(?i)(password|passwd|secret|token|api[_-]?key|private[_-]?key|BEGIN (RSA|OPENSSH|EC) PRIVATE|aws_secret|credential)`)

func grepCmd(k *check, c *cmd) bool {
	recursive := c.has("-r", "-R", "--recursive", "--dereference-recursive") || c.hasShort("rR") || c.name == "rg" || c.name == "ag"
	pattern := ""
	pos := c.positional("-e", "-f", "-m", "-A", "-B", "-C", "--include", "--exclude", "-g", "--glob", "-t", "--type", "-T", "--max-count", "--regexp", "--file", "--context", "--after-context", "--before-context", "-d", "--directories", "-D", "--devices", "--color", "--label", "-M")
	if v, ok := c.value("-e", "--regexp"); ok {
		pattern = v
	} else if len(pos) > 0 {
		pattern = pos[0]
		pos = pos[1:]
	}
	if recursive && secretWords.MatchString(pattern) {
		for _, p := range pos {
			switch k.where.placeOf(p, false) {
			case placeHome, placeSystem, placeOther:
				k.hit(ruleSecretsSearch, c.span())
				return true
			}
		}
	}
	if recursive {
		for _, p := range pos {
			n := k.where.norm(p)
			if n == "/" || n == "~" || n == "/etc" || n == "/home" || n == "/root" {
				if secretWords.MatchString(pattern) {
					k.hit(ruleSecretsSearch, c.span())
					return true
				}
			}
		}
	}
	return true
}

func findCmd(k *check, c *cmd) bool {
	roots := []string{}
	for _, a := range c.args {
		if strings.HasPrefix(a, "-") || a == "!" || a == "(" || a == ")" {
			break
		}
		roots = append(roots, a)
	}
	wide := false
	for _, r := range roots {
		switch k.where.placeOf(r, false) {
		case placeHome, placeSystem, placeOther:
			wide = true
		}
	}
	for i, a := range c.args {
		switch a {
		case "-name", "-iname", "-path", "-ipath", "-regex", "-iregex", "-wholename":
			if i+1 < len(c.args) {
				v := strings.Trim(c.args[i+1], "*")
				if isSecret("~/"+v) || isSecret(v) || strings.HasPrefix(v, "id_") || strings.Contains(v, "credentials") || v == ".env" ||
					strings.Contains(v, "secret") || strings.Contains(v, "wallet") || strings.Contains(v, "password") || keyFileExt(v) {
					if wide {
						k.hit(ruleSecretsSearch, c.span())
					}
				}
			}
		case "-delete":
			if wide {
				for _, r := range roots {
					k.deleteTarget(c, models.Word{Lit: r}, true)
				}
			} else {
				k.hit(ruleDeleteLocal, c.span())
			}
		case "-fprintf", "-fprint", "-fprint0", "-fls":
			if i+1 < len(c.args) {
				k.write(c, models.Word{Lit: c.args[i+1]}, false)
			}
		case "-perm":
			if i+1 < len(c.args) && (strings.Contains(c.args[i+1], "4000") || strings.Contains(c.args[i+1], "u=s") || strings.Contains(c.args[i+1], "2000")) && wide {
				k.hit(ruleSecretsSearch, c.span())
			}
		}
	}
	return true
}

func teeCmd(k *check, c *cmd) bool {
	appendOnly := c.has("-a", "--append") || c.hasShort("a")
	for _, w := range c.Argv[1:] {
		if strings.HasPrefix(w.Lit, "-") {
			continue
		}
		k.write(c, w, appendOnly)
	}
	return true
}

// destination returns the target of cp/mv/install/ln: -t DIR or the last
// positional.
func (c *cmd) destination(withValue ...string) (models.Word, bool) {
	if v, ok := c.value("-t", "--target-directory"); ok {
		return models.Word{Lit: v}, true
	}
	pos := c.positional(withValue...)
	if len(pos) < 2 {
		return models.Word{}, false
	}
	last := pos[len(pos)-1]
	for j := len(c.Argv) - 1; j > 0; j-- {
		if c.Argv[j].Lit == last {
			return c.Argv[j], true
		}
	}
	return models.Word{Lit: last}, true
}

// intoFolder hits persist.project when a copy or move puts a source named
// like what host tools run (.envrc, .vscode, …) into the folder d.
func (k *check) intoFolder(c *cmd, d models.Word, sources []string) {
	if _, isT := c.value("-t", "--target-directory"); !isT && d.Lit != "." && !strings.HasSuffix(d.Lit, "/") {
		return
	}
	for _, src := range sources {
		if models.HostExecPath(baseName(strings.TrimSuffix(src, "/"))) {
			k.hit(rulePersistProject, c.span())
			return
		}
	}
}

func cpCmd(k *check, c *cmd) bool {
	if d, ok := c.destination("-t", "--target-directory", "-S", "--suffix", "--preserve", "--reflink", "--sparse", "--backup"); ok {
		// Copies and moves inside the project are ordinary work; whether
		// the target existed is not known here.
		k.write(c, d, true)
		k.intoFolder(c, d, c.positional("-t", "--target-directory", "-S", "--suffix"))
		if k.where.placeOf(d.Lit, d.Dynamic) == placeTemp {
			// copying a program or secret to temp is staging
			for _, p := range c.positional("-t", "--target-directory", "-S", "--suffix") {
				if parser.IsShell(baseName(p)) && strings.HasPrefix(p, "/") {
					k.hit(ruleExecTemp, c.span())
				}
			}
		}
	}
	if c.has("--attributes-only") {
		k.hit(rulePrivSetuid, c.span())
	}
	return true
}

func mvCmd(k *check, c *cmd) bool {
	pos := c.positional("-t", "--target-directory", "-S", "--suffix", "--backup")
	d, ok := c.destination("-t", "--target-directory", "-S", "--suffix", "--backup")
	if ok {
		k.write(c, d, true)
		k.intoFolder(c, d, pos)
	}
	// Moving a file away from a system or home path deletes it there;
	// moving .git or what host tools run swaps what they run.
	for _, p := range pos[:max(0, len(pos)-1)] {
		switch k.where.placeOf(p, false) {
		case placeSystem, placeOther, placeHome:
			k.deleteTarget(c, models.Word{Lit: p}, false)
		default:
			if models.HostExecPath(k.where.norm(p)) {
				k.hit(rulePersistProject, c.span())
			}
		}
	}
	return true
}

func installCmd(k *check, c *cmd) bool {
	if v, ok := c.value("-m", "--mode"); ok && modeSetuid(v) {
		k.hit(rulePrivSetuid, c.span())
	}
	if d, ok := c.destination("-m", "--mode", "-o", "--owner", "-g", "--group", "-t", "--target-directory", "-S", "--suffix"); ok {
		k.write(c, d, false)
	}
	return true
}

func lnCmd(k *check, c *cmd) bool {
	d, ok := c.destination("-t", "--target-directory", "-S", "--suffix")
	if ok {
		pl := k.where.placeOf(d.Lit, d.Dynamic)
		if pl != placeProject || c.has("-f", "--force") || c.hasShort("f") {
			k.write(c, d, false)
		}
	}
	// A link to a folder with credentials below it (/, /etc, ~) makes
	// them readable under a name in the project: `ln -s /etc e`, then
	// `cat e/shadow`, which no rule would see. A relative target is
	// read from the link's folder, as the link will be.
	sources := c.positional("-t", "--target-directory", "-S", "--suffix")
	if _, isT := c.value("-t", "--target-directory"); !isT && len(sources) > 1 {
		sources = sources[:len(sources)-1]
	}
	linkDir := ""
	if ok && !strings.HasSuffix(d.Lit, "/") {
		linkDir = path.Dir(d.Lit)
	}
	for _, src := range sources {
		targets := []string{src}
		if linkDir != "" && !path.IsAbs(src) && !strings.HasPrefix(src, "~") {
			targets = append(targets, path.Join(linkDir, src))
		}
		for _, t := range targets {
			if holdsSecrets(k.where.norm(t)) {
				k.hit(ruleSecretsRead, c.span())
				return true
			}
		}
	}
	return true
}

func touchCmd(k *check, c *cmd) bool {
	for _, w := range c.Argv[1:] {
		if strings.HasPrefix(w.Lit, "-") {
			continue
		}
		switch k.where.placeOf(w.Lit, w.Dynamic) {
		case placeProject, placeSink:
		default:
			k.write(c, w, true)
		}
	}
	return true
}

func mkdirCmd(k *check, c *cmd) bool {
	for _, w := range c.Argv[1:] {
		if strings.HasPrefix(w.Lit, "-") {
			continue
		}
		switch k.where.placeOf(w.Lit, w.Dynamic) {
		case placeProject, placeSink:
		case placeTemp:
			k.hit(ruleWriteTemp, c.span())
		default:
			k.write(c, w, true)
		}
	}
	return true
}

func truncateCmd(k *check, c *cmd) bool {
	for _, w := range c.Argv[1:] {
		if strings.HasPrefix(w.Lit, "-") {
			continue
		}
		k.deleteTarget(c, w, false)
	}
	return true
}

func sedCmd(k *check, c *cmd) bool {
	inPlace := c.has("-i", "--in-place") || c.hasShort("i") || c.hasShortVal("i")
	if parser.ExecFlagInSed(strings.Join(c.args, " ")) {
		k.hit(ruleExecIndirect, c.span())
	}
	if inPlace {
		pos := c.positional("-e", "--expression", "-f", "--file", "-l")
		if _, ok := c.value("-e", "--expression"); !ok && len(pos) > 0 {
			pos = pos[1:]
		}
		for _, p := range pos {
			pl := k.where.placeOf(p, false)
			if pl != placeProject || models.HostExecPath(k.where.norm(p)) {
				k.write(c, models.Word{Lit: p}, false)
			}
		}
	}
	return true
}

var awkWrite = lazyre.New(`>>?\s*"([^"]+)"`)

func awkCmd(k *check, c *cmd) bool {
	prog := ""
	if pos := c.positional("-F", "-v", "-f", "--file", "--assign", "--field-separator", "-i", "-l", "-E"); len(pos) > 0 {
		prog = pos[0]
	}
	if strings.Contains(prog, "|&") || strings.Contains(prog, "/inet/") {
		k.hit(ruleShellReverse, c.span())
	}
	for _, m := range awkWrite.FindAllStringSubmatch(prog, -1) {
		k.write(c, models.Word{Lit: m[1]}, strings.Contains(m[0], ">>"))
	}
	if c.has("-f") || c.has("--file") {
		if v, ok := c.value("-f", "--file"); ok && k.where.placeOf(v, false) == placeTemp {
			k.hit(ruleExecTemp, c.span())
		}
	}
	return true
}

func tarCmd(k *check, c *cmd) bool {
	for _, a := range c.args {
		switch {
		case strings.HasPrefix(a, "--to-command"), strings.HasPrefix(a, "--checkpoint-action"), strings.HasPrefix(a, "--rsh-command"),
			strings.HasPrefix(a, "--use-compress-program"), strings.HasPrefix(a, "--info-script"), strings.HasPrefix(a, "--new-volume-script"), a == "-I", a == "-F":
			if strings.HasPrefix(a, "--use-compress-program") || a == "-I" {
				if v, ok := c.value("-I", "--use-compress-program"); ok && !looksLikeExec(v) && !strings.Contains(v, "tar") {
					continue
				}
			}
			if strings.HasPrefix(a, "--rsh-command") {
				k.hit(ruleNetRemote, c.span())
				continue
			}
			k.hit(ruleExecIndirect, c.span())
		}
	}
	if v, ok := c.value("-C", "--directory"); ok {
		if k.where.placeOf(v, false) != placeProject {
			extract := false
			for _, a := range c.args {
				if a == "-x" || a == "--extract" || a == "--get" || strings.HasPrefix(a, "x") || strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && strings.Contains(a, "x") {
					extract = true
				}
			}
			if extract {
				k.write(c, models.Word{Lit: v}, false)
			}
		}
	}
	if v, ok := c.value("-f", "--file"); ok {
		if remotePath(v) && !strings.HasPrefix(v, "/") {
			k.hit(ruleNetRemote, c.span())
		}
	}
	if c.has("-P", "--absolute-names") || c.hasShort("P") {
		k.hit(ruleWriteOther, c.span())
	}
	return true
}

func unzipCmd(k *check, c *cmd) bool {
	if v, ok := c.value("-d"); ok {
		k.write(c, models.Word{Lit: v}, false)
	}
	if c.has("-K") {
		k.hit(rulePrivSetuid, c.span())
	}
	return true
}

func zipCmd(k *check, c *cmd) bool {
	if c.has("-TT", "--unzip-command") || c.has("-T") && c.has("-TT") {
		k.hit(ruleExecIndirect, c.span())
	}
	return true
}

func gpgCmd(k *check, c *cmd) bool {
	if c.has("--export-secret-keys", "--export-secret-subkeys", "--export-ssh-key") {
		k.hit(ruleSecretsRead, c.span())
		return true
	}
	if c.has("--send-keys", "--send-key") {
		k.hit(ruleNetUpload, c.span())
		return true
	}
	if c.has("--recv-keys", "--locate-keys", "--refresh-keys", "--fetch-keys", "--search-keys") {
		k.hit(ruleNetFetch, c.span())
		return true
	}
	if c.has("--delete-secret-keys", "--delete-keys", "--delete-secret-and-public-key", "--import", "--full-gen-key", "--gen-key", "--quick-gen-key", "--edit-key") {
		k.hit(ruleWriteConfig, c.span())
	}
	return true
}

// ztcpCmd is zsh's TCP module: a connection to a remote host.
func ztcpCmd(k *check, c *cmd) bool {
	if c.has("-l", "-c") && len(c.positional()) <= 1 {
		k.hit(ruleNetListen, c.span())
		return true
	}
	k.hit(ruleNetSocket, c.span())
	return true
}

// codeCmd is the VS Code launcher: `code tunnel` opens the machine to a
// remote session.
func codeCmd(k *check, c *cmd) bool {
	if sub, _ := c.sub(); sub == "tunnel" || sub == "serve-web" {
		k.hit(ruleNetRemote, c.span())
	}
	return true
}

// agentSnapshot reports whether p is a coding agent's own shell snapshot
// (Claude Code's ~/.claude/shell-snapshots, Codex's
// $CODEX_HOME/shell_snapshots), which agents source before each command.
func agentSnapshot(p string) bool {
	return strings.Contains(p, "/.claude/shell-snapshots/snapshot-") ||
		strings.HasPrefix(p, "$CODEX_HOME/shell_snapshots/") || strings.Contains(p, "/.codex/shell_snapshots/")
}

// restrictive reports whether a chmod mode only takes access away from
// group and others (600, 0700, go-rwx).
func restrictive(m string) bool {
	if isOctal(m) && len(m) >= 3 {
		return m[len(m)-1] == '0' && m[len(m)-2] == '0'
	}
	return strings.HasPrefix(m, "go-") || strings.HasPrefix(m, "og-") || strings.HasPrefix(m, "o-") || strings.HasPrefix(m, "g-")
}

// keyFileExt reports whether a file name pattern is for key or password
// files (.pem, .key, .kdbx, .p12 …).
func keyFileExt(v string) bool {
	for _, e := range []string{".pem", ".key", ".kdbx", ".keychain", ".p12", ".pfx", ".jks", ".keystore", ".ovpn", ".gpg", ".asc", ".ppk"} {
		if strings.Contains(v, e) {
			return true
		}
	}
	return false
}

// vaultCmd: secret managers (HashiCorp vault, 1Password op, pass, macOS
// security) print secrets.
func vaultCmd(k *check, c *cmd) bool {
	sub, rest := c.sub()
	switch {
	case c.name == "security" && strings.HasPrefix(sub, "find-") && c.has("-w", "-g"),
		c.name == "security" && sub == "dump-keychain",
		c.name == "vault" && (sub == "read" || sub == "kv" && len(rest) > 0 && rest[0] == "get" || sub == "token" && len(rest) > 0 && rest[0] == "create"),
		c.name == "op" && (sub == "read" || sub == "item" && len(rest) > 0 && rest[0] == "get" || sub == "document"),
		c.name == "pass" && (sub == "show" || sub != "ls" && sub != "find" && sub != "init" && sub != "generate" && sub != "insert" && sub != "rm"):
		k.hit(ruleSecretsRead, c.span())
	case c.name == "vault" && (sub == "write" || sub == "delete" || sub == "kv" || sub == "policy" || sub == "secrets" || sub == "auth"):
		k.hit(ruleCloudChange, c.span())
	}
	return true
}

// xtermCmd: xterm -display HOST opens a terminal on another machine.
func xtermCmd(k *check, c *cmd) bool {
	if v, ok := c.value("-display", "-d"); ok && !strings.HasPrefix(v, ":") && !isLocalHost(host(strings.Split(v, ":")[0])) {
		k.hit(ruleNetRemote, c.span())
	}
	return true
}

func helmfileCmd(k *check, c *cmd) bool {
	switch sub, _ := c.sub("-f", "--file", "-e", "--environment", "-l", "--selector"); sub {
	case "apply", "sync", "destroy", "delete", "deps":
		if sub == "deps" {
			k.hit(ruleNetFetch, c.span())
			return true
		}
		k.hit(ruleDeployInfra, c.span())
	case "diff", "lint", "template", "build", "list", "status", "version", "":
	default:
		k.hit(ruleUnknown, c.span())
		return false
	}
	return true
}

// contextCmd: kubectx and kubens switch the current cluster or namespace
// with no argument they list them.
func contextCmd(k *check, c *cmd) bool {
	if len(c.positional()) > 0 || c.has("-d") {
		k.hit(ruleWriteConfig, c.span())
	}
	return true
}

// localInfraCmd: local VMs, clusters and CI runners; packer builds cloud
// images.
func localInfraCmd(k *check, c *cmd) bool {
	sub, _ := c.sub()
	switch sub {
	case "status", "version", "validate", "fmt", "inspect", "list", "ls", "global-status", "get", "logs", "help", "--version", "-l", "--list", "":
		return true
	case "ssh":
		k.hit(ruleContainer, c.span())
	case "build":
		if c.name == "packer" {
			k.hit(ruleDeployCloud, c.span())
			return true
		}
		k.hit(ruleContainer, c.span())
	default:
		k.hit(ruleContainer, c.span())
	}
	return true
}
