package parser

import (
	"slices"
	"strings"

	"github.com/chaperone-dev/chaperone/internal/lazyre"
	"github.com/chaperone-dev/chaperone/models"
)

// shells are the programs that run a shell script given with -c, in a
// file, or on stdin.
var shells = map[string]bool{
	"sh": true, "bash": true, "zsh": true, "dash": true, "ksh": true, "mksh": true,
	"ash": true, "fish": true, "csh": true, "tcsh": true, "yash": true, "posh": true,
	"busybox sh": true, "rbash": true, "elvish": true, "pwsh": true,
}

// bashLike reports whether a shell's -c code is close enough to bash for
// a bash parse error to mean the text is malformed.
func bashLike(name string) bool {
	switch name {
	case "fish", "csh", "tcsh", "elvish", "pwsh":
		return false
	}
	return true
}

// IsShell reports whether name (a base name) is a shell interpreter.
func IsShell(name string) bool { return shells[name] }

// commandOpt looks into the shell string that the first of opts found in
// rest gives the wrapper (su -c CMD, flock --command CMD); it reports
// whether there was one.
func (s *scope) commandOpt(idx int, label string, rest []models.Word, opts ...string) bool {
	for i, a := range rest {
		if i+1 < len(rest) && slices.Contains(opts, a.Lit) {
			s.shellString(idx, label, rest[i+1])
			return true
		}
	}
	return false
}

// afterDashes returns the words after the first "--" in rest, or nil.
func afterDashes(rest []models.Word) []models.Word {
	for i, a := range rest {
		if a.Lit == "--" {
			return rest[i+1:]
		}
	}
	return nil
}

// dropOperand drops the wrapper's own operand (a duration, lock file,
// new root …) that stands before the command it runs.
func dropOperand(argv []models.Word) []models.Word {
	if len(argv) == 0 {
		return argv
	}
	return argv[1:]
}

// unwrap looks inside the wrapper at Commands[idx], if it is one, and adds
// the command it runs.
func (s *scope) unwrap(idx int) {
	c := s.w.facts.Commands[idx]
	argv := c.Argv
	if len(argv) == 0 || argv[0].Dynamic {
		return
	}
	name := c.Name()
	rest := argv[1:]
	switch name {
	case "sudo", "doas", "run0", "pkexec":
		inner, shell := skipOpts(rest, "uUgGChpPrtTDR", []string{"--user", "--group", "--close-from", "--host", "--prompt", "--role", "--type", "--chdir", "--other-user", "--chroot", "--command-timeout"})
		if shell != "" {
			return
		}
		s.inner(idx, name, inner)
	case "env":
		s.env(idx, rest)
	case "nice", "nohup", "time", "stdbuf", "ionice", "chrt", "setsid", "unbuffer",
		"torsocks", "proxychains", "proxychains4", "firejail", "caffeinate",
		"catchsegv", "faketime", "cpulimit", "softlimit", "setlock", "flock", "taskset",
		"timeout", "numactl", "systemd-run", "strace", "ltrace", "valgrind", "dbus-launch",
		"xvfb-run", "unshare", "runcon", "sg", "chroot", "nsenter", "setarch", "linux32", "linux64",
		"prlimit", "rlwrap", "busybox", "builtin", "exec", "command", "nocorrect", "noglob",
		"entr", "chronic", "ts", "pv", "tini", "dumb-init", "gosu", "su-exec", "setpriv",
		"capsh", "start-stop-daemon", "ssh-agent", "script", "sshpass", "uv", "poetry", "pipenv":
		s.generic(idx, name, rest)
	case "xargs":
		s.xargs(idx, rest)
	case "find", "fd", "fdfind":
		s.findExec(idx, name, rest)
	case "watch":
		inner, _ := skipOpts(rest, "nqd", []string{"--interval", "--differences"})
		s.joined(idx, "watch", inner)
	case "su", "runuser":
		s.commandOpt(idx, name+" -c", rest, "-c", "--command", "--session-command")
	case "ssh", "autossh":
		s.ssh(idx, name, rest)
	case "docker", "podman", "kubectl", "oc", "nerdctl", "lxc", "incus":
		s.containerExec(idx, name, rest)
	case "git":
		s.gitConfig(idx, rest)
	case "eval":
		s.eval(idx, rest)
	case "source", ".":
		if len(rest) > 0 {
			if body, ok := s.w.written[cleanRel(rest[0].Lit)]; ok {
				s.shellCode(idx, name+" "+rest[0].Lit, body, false)
			}
		}
	case "trap":
		// trap 'CODE' SIGNAL…: CODE runs later, in this shell.
		if len(rest) >= 2 && rest[0].Lit != "-p" && rest[0].Lit != "-l" && rest[0].Lit != "-" {
			s.shellString(idx, "trap", rest[0])
		}
	case "sed", "gsed":
		s.sed(idx, rest)
	case "awk", "gawk", "mawk", "nawk", "busybox awk":
		s.awk(idx, name, rest)
	default:
		if shells[name] {
			if !s.shell(idx, name, rest) {
				if code, ok := StdinCode(s.w.facts, idx); ok {
					s.shellCode(idx, name+" stdin", code, bashLike(name))
				} else if s.decodedInput(idx) {
					s.w.opaque(name + " runs text decoded at run time")
				}
			}
			return
		}
		lang, code := interpreterCode(name, rest)
		switch {
		case code != nil:
			s.oneLiner(idx, lang, *code)
		case lang != "" && readsStdin(rest):
			if code, ok := StdinCode(s.w.facts, idx); ok {
				s.oneLiner(idx, lang, code)
			}
		case lang != "":
			// python script.py, written earlier in this text.
			for _, a := range rest {
				if !strings.HasPrefix(a.Lit, "-") {
					if body, ok := s.w.written[cleanRel(a.Lit)]; ok {
						s.oneLiner(idx, lang, body)
					}
					break
				}
			}
		}
	}
}

// viaFor returns the wrapper chain for a command found inside c.
func (s *scope) viaFor(c *models.Command, label string) []string {
	v := make([]string, 0, len(c.Via)+1)
	v = append(v, c.Via...)
	return append(v, label)
}

// inner adds argv, run by the wrapper at idx, as a command of its own.
func (s *scope) inner(idx int, label string, argv []models.Word) {
	if len(argv) == 0 {
		return
	}
	outer := &s.w.facts.Commands[idx]
	if outer.Depth-s.depth >= maxDepth {
		s.w.opaque("wrappers nested too deeply")
		return
	}
	c := models.Command{
		Argv:     argv,
		Via:      s.viaFor(outer, label),
		PipeFrom: outer.PipeFrom,
		Stdin:    outer.Stdin,
		Span:     outer.Span,
		Depth:    outer.Depth - s.depth + 1,
	}
	if label == "xargs" || strings.HasPrefix(label, "find ") || strings.HasPrefix(label, "fd ") {
		// xargs and find read their own input; what they run does not
		// get the pipe.
		c.PipeFrom, c.Stdin = -1, ""
	}
	if argv[0].Dynamic {
		s.w.opaque("the command name is built at run time: " + argv[0].Lit)
	}
	outer.Wrapper = label
	i := s.add(c)
	if i >= 0 {
		s.w.carry(idx, i, label)
		s.unwrap(i)
	}
}

// shellString parses w as shell code run by the wrapper at idx.
func (s *scope) shellString(idx int, label string, w models.Word) { s.shellCode(idx, label, w, true) }

// shellCode is shellString; a guessed string (strict false) that does not
// parse is ignored rather than opaque.
func (s *scope) shellCode(idx int, label string, w models.Word, strict bool) {
	outer := s.w.facts.Commands[idx]
	if w.Dynamic && len(w.Subst) > 0 {
		// Variables in the text are approximated and the command name
		// check below still catches "$CMD"; the output of a command is
		// code nobody can see before it runs.
		s.w.opaque(label + " runs the output of a command substitution")
		if t := strings.TrimSpace(w.Lit); strings.HasPrefix(t, "$(") && strings.HasSuffix(t, ")") && strings.Count(t, "$(") == 1 {
			// Nothing but the output of the substitution: there is no
			// text of our own to read.
			s.w.facts.Commands[idx].Wrapper = label
			return
		}
	}
	s.w.facts.Commands[idx].Wrapper = label
	switch {
	case label == "eval" || strings.HasPrefix(label, "source ") || strings.HasPrefix(label, ". "):
		// Run by this shell: a cd in it moves what follows.
	case label == "trap":
		// Run by this shell, later: it sees all of the shell's variables,
		// and a cd in it does not move what follows it here.
		here := s.w.here()
		defer s.w.setHere(here)
	case label == "ssh":
		// Run on another machine, from the remote user's home: relative
		// paths there are nothing of this one's.
		here := s.w.here()
		s.w.setHere(cwdState{cur: startDir, old: unknownDir})
		defer s.w.setHere(here)
		defer s.w.restoreVars(s.w.childVars(cmdEnv{apart: true}))
	default:
		// Run by another process (bash -c, sudo sh -c, a script): its cd
		// stays there, and it sees the variables in its environment.
		here := s.w.here()
		defer s.w.setHere(here)
		defer s.w.restoreVars(s.w.childVars(s.w.envOf(idx)))
	}
	via := s.viaFor(&outer, label)
	depth := outer.Depth + 1
	a, z := s.w.parseShell(w.Lit, via, depth, strict)
	for i := a; i < z; i++ {
		c := &s.w.facts.Commands[i]
		if c.Depth == depth && c.Stdin == "" && c.PipeFrom < 0 {
			c.Stdin = outer.Stdin
			c.PipeFrom = outer.PipeFrom
		}
	}
}

// joined parses words joined with spaces as shell code (ssh, watch, eval).
func (s *scope) joined(idx int, label string, words []models.Word) {
	if len(words) == 0 {
		return
	}
	var w models.Word
	parts := make([]string, len(words))
	for i, x := range words {
		parts[i] = x.Lit
		w.Dynamic = w.Dynamic || x.Dynamic
		w.Subst = append(w.Subst, x.Subst...)
	}
	w.Lit = strings.Join(parts, " ")
	s.shellString(idx, label, w)
}

// skipOpts skips leading options of a wrapper. short lists the one-letter
// options that take a value; long the long ones. It returns the words from
// the wrapped command on, and the option that makes the wrapper start a
// shell by itself (sudo -s, sudo -i), if any.
func skipOpts(rest []models.Word, short string, long []string) ([]models.Word, string) {
	shell := ""
	for i := 0; i < len(rest); i++ {
		a := rest[i].Lit
		if a == "--" {
			return rest[i+1:], shell
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			return rest[i:], shell
		}
		if strings.HasPrefix(a, "--") {
			if strings.Contains(a, "=") {
				continue
			}
			if a == "--login" || a == "--shell" {
				shell = a
			}
			for _, l := range long {
				if a == l {
					i++
					break
				}
			}
			continue
		}
		// A cluster of short options: the first one that takes a value
		// consumes the rest of the word or the next word.
		for j := 1; j < len(a); j++ {
			if a[j] == 's' || a[j] == 'i' {
				if !strings.ContainsRune(short, rune(a[j])) {
					shell = "-" + string(a[j])
				}
			}
			if strings.ContainsRune(short, rune(a[j])) {
				if j == len(a)-1 {
					i++
				}
				break
			}
		}
	}
	return nil, shell
}

func (s *scope) env(idx int, rest []models.Word) {
	for i := 0; i < len(rest); i++ {
		a := rest[i].Lit
		switch {
		case a == "--":
			s.inner(idx, "env", rest[i+1:])
			return
		case a == "-S" || a == "--split-string" || strings.HasPrefix(a, "-S") && len(a) > 2:
			str := strings.TrimPrefix(a, "-S")
			if a == "-S" || a == "--split-string" {
				if i+1 >= len(rest) {
					return
				}
				str = rest[i+1].Lit
				i++
			}
			words := strings.Fields(str)
			argv := make([]models.Word, 0, len(words)+len(rest)-i)
			for _, x := range words {
				argv = append(argv, models.Word{Lit: x})
			}
			argv = append(argv, rest[i+1:]...)
			s.inner(idx, "env", argv)
			return
		case a == "-" || a == "-i" || a == "--ignore-environment":
			s.w.clearEnv(idx)
		case a == "-u" || a == "-C" || a == "-a" || a == "--unset" || a == "--chdir" || a == "--argv0":
			i++
		case strings.HasPrefix(a, "-"):
		case strings.Contains(a, "=") && !strings.HasPrefix(a, "="):
			s.w.facts.Commands[idx].Assigns = append(s.w.facts.Commands[idx].Assigns,
				models.Assign{Name: a[:strings.IndexByte(a, '=')], Value: models.Word{Lit: a[strings.IndexByte(a, '=')+1:], Dynamic: rest[i].Dynamic}})
		default:
			s.inner(idx, "env", rest[i:])
			return
		}
	}
}

// generic handles wrappers that run the rest of their argv after options,
// some of which take values.
func (s *scope) generic(idx int, name string, rest []models.Word) {
	switch name {
	case "command":
		for _, a := range rest {
			if a.Lit == "-v" || a.Lit == "-V" {
				return
			}
			if !strings.HasPrefix(a.Lit, "-") {
				break
			}
		}
		inner, _ := skipOpts(rest, "", nil)
		s.inner(idx, name, inner)
	case "builtin", "nohup", "setsid", "unbuffer", "caffeinate", "catchsegv", "nocorrect", "noglob",
		"chronic", "tini", "dumb-init", "linux32", "linux64", "dbus-launch", "pv", "ts", "rlwrap":
		inner, _ := skipOpts(rest, "", nil)
		s.inner(idx, name, inner)
	case "exec":
		inner, _ := skipOpts(rest, "a", nil)
		s.inner(idx, name, inner)
	case "time":
		inner, _ := skipOpts(rest, "fo", []string{"--format", "--output"})
		s.inner(idx, name, inner)
	case "nice":
		inner, _ := skipOpts(rest, "n", []string{"--adjustment"})
		// nice -10 cmd
		s.inner(idx, name, inner)
	case "timeout":
		inner, _ := skipOpts(rest, "sk", []string{"--signal", "--kill-after"})
		inner = dropOperand(inner) // the duration
		s.inner(idx, name, inner)
	case "stdbuf":
		inner, _ := skipOpts(rest, "ioe", []string{"--input", "--output", "--error"})
		s.inner(idx, name, inner)
	case "ionice":
		inner, _ := skipOpts(rest, "cnpPu", []string{"--class", "--classdata", "--pid", "--pgid", "--uid"})
		s.inner(idx, name, inner)
	case "chrt":
		inner, _ := skipOpts(rest, "T", nil)
		inner = dropOperand(inner) // the priority
		s.inner(idx, name, inner)
	case "taskset":
		inner, _ := skipOpts(rest, "", nil)
		inner = dropOperand(inner) // the mask or cpu list
		s.inner(idx, name, inner)
	case "flock", "setlock":
		if s.commandOpt(idx, name+" -c", rest, "-c", "--command") {
			return
		}
		inner, _ := skipOpts(rest, "wEx", []string{"--timeout", "--conflict-exit-code"})
		inner = dropOperand(inner) // the lock file
		s.inner(idx, name, inner)
	case "cpulimit":
		inner, _ := skipOpts(rest, "lpe", []string{"--limit", "--pid", "--exe"})
		s.inner(idx, name, inner)
	case "softlimit", "prlimit":
		inner, _ := skipOpts(rest, "acdfmolprst", nil)
		s.inner(idx, name, inner)
	case "strace", "ltrace":
		inner, _ := skipOpts(rest, "eoOpPsSuaXbEIU", []string{"--output", "--trace", "--signal", "--attach", "--user"})
		s.inner(idx, name, inner)
	case "valgrind", "torsocks", "proxychains", "proxychains4", "firejail", "faketime",
		"xvfb-run", "numactl", "runcon", "setarch", "entr", "gosu", "su-exec", "setpriv", "sg":
		inner, _ := skipOpts(rest, "fqu", nil)
		if name == "faketime" || name == "gosu" || name == "su-exec" || name == "setarch" || name == "sg" {
			inner = dropOperand(inner) // the time, user or architecture
		}
		s.inner(idx, name, inner)
	case "systemd-run":
		inner, _ := skipOpts(rest, "pEuM", []string{"--property", "--setenv", "--unit", "--machine", "--uid", "--gid", "--description", "--slice", "--working-directory"})
		s.inner(idx, name, inner)
	case "unshare":
		inner, _ := skipOpts(rest, "S", []string{"--setuid", "--setgid", "--root", "--wd"})
		s.inner(idx, name, inner)
	case "chroot":
		inner, _ := skipOpts(rest, "", []string{"--userspec", "--groups"})
		inner = dropOperand(inner) // the new root
		s.inner(idx, name, inner)
	case "nsenter":
		inner, _ := skipOpts(rest, "tSG", []string{"--target", "--setuid", "--setgid"})
		s.inner(idx, name, inner)
	case "busybox":
		if len(rest) > 0 && !strings.HasPrefix(rest[0].Lit, "-") {
			s.inner(idx, name, rest)
		}
	case "script":
		s.commandOpt(idx, "script -c", rest, "-c", "--command")
	case "sshpass":
		inner, _ := skipOpts(rest, "pfdP", nil)
		s.inner(idx, name, inner)
	case "capsh":
		if inner := afterDashes(rest); len(inner) > 0 {
			s.shell(idx, "capsh", inner)
		}
	case "start-stop-daemon":
		for i, a := range rest {
			if (a.Lit == "-x" || a.Lit == "--exec" || a.Lit == "--startas" || a.Lit == "-a") && i+1 < len(rest) {
				s.inner(idx, name, rest[i+1:i+2])
			}
		}
	case "ssh-agent":
		inner, _ := skipOpts(rest, "aEPt", nil)
		s.inner(idx, name, inner)
	case "uv", "poetry", "pipenv":
		if len(rest) > 1 && rest[0].Lit == "run" {
			inner, _ := skipOpts(rest[1:], "", []string{"--with", "--python", "--project", "--directory"})
			s.inner(idx, name+" run", inner)
		}
	}
}

func (s *scope) findExec(idx int, name string, rest []models.Word) {
	for i := 0; i < len(rest); i++ {
		a := rest[i].Lit
		switch a {
		case "-exec", "-execdir", "-ok", "-okdir", "-x", "--exec", "-X", "--exec-batch":
			j := i + 1
			for j < len(rest) && rest[j].Lit != ";" && rest[j].Lit != "+" && rest[j].Lit != "\\;" {
				j++
			}
			s.inner(idx, name+" "+a, rest[i+1:j])
			i = j
		}
	}
}

// shell looks into `sh -c CODE`. It reports false when the shell reads
// its script from stdin instead (no -c and no script file).
func (s *scope) shell(idx int, name string, rest []models.Word) bool {
	for i := 0; i < len(rest); i++ {
		a := rest[i].Lit
		if a == "-" || a == "-s" {
			return false
		}
		if a == "--" || !strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "+") {
			if a == "--" && i+1 < len(rest) {
				a = rest[i+1].Lit
			}
			if body, ok := s.w.written[cleanRel(a)]; ok {
				// bash script.sh, written earlier in this text.
				s.shellCode(idx, name+" "+a, body, false)
			}
			return true
		}
		if a == "-o" || a == "+o" || a == "-O" || a == "+O" || a == "--rcfile" || a == "--init-file" {
			i++
			continue
		}
		if strings.HasPrefix(a, "--") {
			continue
		}
		if strings.Contains(a, "c") {
			// The first non-option word after the options is the script.
			for j := i + 1; j < len(rest); j++ {
				b := rest[j].Lit
				if b == "-o" || b == "+o" {
					j++
					continue
				}
				if strings.HasPrefix(b, "-") && b != "-" || strings.HasPrefix(b, "+") {
					continue
				}
				s.w.lenientFailed = false
				s.shellCode(idx, name+" -c", rest[j], bashLike(name))
				if s.w.lenientFailed {
					s.w.opaque(name + " code that is not bash")
				}
				return true
			}
			return true
		}
	}
	return false
}

func (s *scope) eval(idx int, rest []models.Word) {
	if len(rest) > 0 && rest[0].Lit == "--" {
		rest = rest[1:]
	}
	s.joined(idx, "eval", rest)
}

var sshOptsWithArg = "BbcDEeFIiJLlmOoPpQRSWw"

func (s *scope) ssh(idx int, name string, rest []models.Word) {
	inner, _ := skipOpts(rest, sshOptsWithArg, nil)
	if name == "autossh" {
		inner, _ = skipOpts(rest, sshOptsWithArg+"M", nil)
	}
	if len(inner) < 2 {
		return
	}
	s.joined(idx, "ssh", inner[1:])
}

func (s *scope) containerExec(idx int, name string, rest []models.Word) {
	// Skip global options such as --context or -n ns.
	for len(rest) > 0 && strings.HasPrefix(rest[0].Lit, "-") {
		switch rest[0].Lit {
		case "-n", "--namespace", "--context", "-H", "--host", "--kubeconfig", "-c", "--config", "--cluster", "--user", "-s", "--server":
			if len(rest) > 1 {
				rest = rest[1:]
			}
		}
		rest = rest[1:]
	}
	if len(rest) == 0 {
		return
	}
	sub := rest[0].Lit
	rest = rest[1:]
	if sub == "container" && len(rest) > 0 {
		sub = rest[0].Lit
		rest = rest[1:]
	}
	switch name {
	case "kubectl", "oc":
		if sub != "exec" && sub != "debug" {
			return
		}
		s.inner(idx, name+" "+sub, afterDashes(rest))
	case "docker", "podman", "nerdctl":
		var opts string
		var long []string
		switch sub {
		case "exec":
			opts, long = "euw", []string{"--env", "--user", "--workdir", "--env-file", "--detach-keys"}
		case "run", "create":
			opts, long = "ecmuvwphlt", []string{"--env", "--user", "--workdir", "--name", "--volume", "--mount", "--network", "--net", "--entrypoint", "--publish", "--label", "--env-file", "--memory", "--cpus", "--cap-add", "--cap-drop", "--device", "--hostname", "--pid", "--ipc", "--security-opt", "--platform", "--pull", "--restart", "--add-host", "--dns", "--log-driver", "--ulimit", "--tmpfs", "--runtime", "--userns", "--shm-size", "--gpus", "--volumes-from", "--cidfile", "--group-add", "--stop-signal"}
		default:
			return
		}
		inner, _ := skipOpts(rest, opts, long)
		if len(inner) > 1 {
			s.inner(idx, name+" "+sub, inner[1:])
		}
	case "lxc", "incus":
		if sub != "exec" {
			return
		}
		s.inner(idx, name+" exec", afterDashes(rest))
	}
}

// gitRunKeys are git config keys whose value is a program git runs.
var gitRunKeys = []string{"core.pager", "core.editor", "core.sshcommand", "core.fsmonitor", "core.hookspath",
	"alias.", "diff.external", "sequence.editor", "credential.helper", "gpg.program", "uploadpack.packobjectshook",
	"core.askpass", "pager.", "filter.", "merge.", "diff.", "protocol.ext.allow", "remote."}

// GitRunKey reports whether setting the git config key key makes git run
// a program (lower case key).
func GitRunKey(key string) bool {
	key = strings.ToLower(key)
	for _, k := range gitRunKeys {
		if strings.HasSuffix(k, ".") && strings.HasPrefix(key, k) {
			switch {
			case k == "alias.", k == "pager.":
				return true
			case strings.HasSuffix(key, ".command") || strings.HasSuffix(key, ".driver") ||
				strings.HasSuffix(key, ".clean") || strings.HasSuffix(key, ".smudge") ||
				strings.HasSuffix(key, ".process") || strings.HasSuffix(key, ".textconv") ||
				strings.HasSuffix(key, ".cmd") || strings.HasSuffix(key, ".uploadpack") || strings.HasSuffix(key, ".receivepack"):
				return true
			}
			continue
		}
		if key == k {
			return true
		}
	}
	return false
}

func (s *scope) gitConfig(idx int, rest []models.Word) {
	for i := 0; i+1 < len(rest); i++ {
		if rest[i].Lit != "-c" {
			if !strings.HasPrefix(rest[i].Lit, "-") {
				return
			}
			continue
		}
		kv := rest[i+1]
		eq := strings.IndexByte(kv.Lit, '=')
		if eq < 0 {
			continue
		}
		key, val := kv.Lit[:eq], kv.Lit[eq+1:]
		if !GitRunKey(key) {
			continue
		}
		val = strings.TrimPrefix(val, "!")
		s.shellString(idx, "git -c", models.Word{Lit: val, Dynamic: kv.Dynamic, Subst: kv.Subst})
		i++
	}
}

// sedExec finds sed's e command and s///e flag; sedWrite its w command.
var (
	sedExec  = lazyre.New(`(?:^|[;{}\n])\s*(?:[0-9$]+|/[^/]*/)?\s*e\s+([^;}\n]+)`)
	sedWrite = lazyre.New(`(?:^|[;{}\n])\s*(?:[0-9$,]+|/[^/]*/)?\s*w\s+([^;}\n]+)|s(.)(?:[^\\]|\\.)*?(?:[^\\]|\\.)*?[gpiI0-9]*w\s+(\S+)`)
)

func (s *scope) sed(idx int, rest []models.Word) {
	var scripts []models.Word
	gotScript := false
	for i := 0; i < len(rest); i++ {
		a := rest[i].Lit
		switch {
		case a == "-e" || a == "--expression":
			if i+1 < len(rest) {
				scripts = append(scripts, rest[i+1])
				gotScript = true
				i++
			}
		case strings.HasPrefix(a, "--expression="):
			scripts = append(scripts, models.Word{Lit: strings.TrimPrefix(a, "--expression=")})
			gotScript = true
		case a == "-f" || a == "--file" || a == "-l":
			i++
			gotScript = true
		case strings.HasPrefix(a, "-"):
		default:
			if !gotScript {
				scripts = append(scripts, rest[i])
				gotScript = true
			}
		}
	}
	for _, sc := range scripts {
		for _, m := range sedExec.FindAllStringSubmatch(sc.Lit, -1) {
			s.shellCode(idx, "sed e", models.Word{Lit: strings.TrimSpace(m[1])}, false)
		}
		if ExecFlagInSed(sc.Lit) {
			s.w.opaque("sed runs its pattern space as a command (s///e)")
		}
		for _, m := range sedWrite.FindAllStringSubmatch(sc.Lit, -1) {
			t := strings.TrimSpace(m[1])
			if t == "" {
				t = strings.TrimSpace(m[3])
			}
			if t != "" {
				c := &s.w.facts.Commands[idx]
				c.Redirs = append(c.Redirs, models.Redir{Op: "w", Target: models.Word{Lit: t}})
			}
		}
	}
}

// ExecFlagInSed reports whether a sed script has a substitution with the
// e flag (GNU sed runs the result as a command).
func ExecFlagInSed(script string) bool {
	for i := 0; i < len(script); i++ {
		if script[i] != 's' || i+1 >= len(script) {
			continue
		}
		if i > 0 && !strings.ContainsRune(" ;{}\n0123456789$/", rune(script[i-1])) {
			continue
		}
		d := script[i+1]
		if d == ' ' || d == '\\' || d == '\n' || d >= 'a' && d <= 'z' || d >= 'A' && d <= 'Z' {
			continue
		}
		n, j := 0, i+2
		for ; j < len(script) && n < 2; j++ {
			if script[j] == '\\' {
				j++
				continue
			}
			if script[j] == d {
				n++
			}
		}
		if n < 2 {
			continue
		}
		for ; j < len(script); j++ {
			f := script[j]
			if f == 'e' {
				return true
			}
			if !strings.ContainsRune("gpiImM0123456789", rune(f)) {
				break
			}
		}
	}
	return false
}

var (
	awkSystem = lazyre.New(`system\s*\(\s*"((?:[^"\\]|\\.)*)"`)
	awkPipe   = lazyre.New(`\|\s*&?\s*"((?:[^"\\]|\\.)*)"|"((?:[^"\\]|\\.)*)"\s*\|\s*&?\s*getline`)
)

func (s *scope) awk(idx int, name string, rest []models.Word) {
	var prog *models.Word
	for i := 0; i < len(rest); i++ {
		a := rest[i].Lit
		switch {
		case a == "-F" || a == "-v" || a == "-f" || a == "--file" || a == "--assign" || a == "--field-separator" || a == "-i" || a == "-l" || a == "-E":
			if a == "-f" || a == "--file" || a == "-E" {
				return
			}
			i++
		case a == "--":
			if i+1 < len(rest) {
				prog = &rest[i+1]
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
		default:
			prog = &rest[i]
		}
		if prog != nil {
			break
		}
	}
	if prog == nil {
		return
	}
	for _, m := range awkSystem.FindAllStringSubmatch(prog.Lit, -1) {
		s.shellCode(idx, name+" system", models.Word{Lit: unescapeC(m[1])}, false)
	}
	for _, m := range awkPipe.FindAllStringSubmatch(prog.Lit, -1) {
		t := m[1]
		if t == "" {
			t = m[2]
		}
		s.shellCode(idx, name+" pipe", models.Word{Lit: unescapeC(t)}, false)
	}
}

func unescapeC(v string) string {
	if !strings.Contains(v, `\`) {
		return v
	}
	return DecodeANSIC(v)
}

// readsStdin reports whether an interpreter given these arguments reads
// its program from stdin: no script file, or "-".
func readsStdin(rest []models.Word) bool {
	for _, a := range rest {
		if a.Lit == "-" {
			return true
		}
		if !strings.HasPrefix(a.Lit, "-") {
			return false
		}
	}
	return true
}

// StdinCode returns the text that Commands[idx] reads on stdin when it is
// known statically: a here-document, a here-string, the output of an echo
// or printf piped into it, or of a cat that passes one of these on.
func StdinCode(f *models.Facts, idx int) (models.Word, bool) {
	return stdinText(f, idx, 0)
}

func stdinText(f *models.Facts, idx, depth int) (models.Word, bool) {
	c := &f.Commands[idx]
	for _, r := range c.Redirs {
		if (r.Op == "<<" || r.Op == "<<-" || r.Op == "<<<") && (r.Fd == "" || r.Fd == "0") {
			return r.Target, true
		}
	}
	if c.PipeFrom < 0 || c.PipeFrom >= len(f.Commands) || c.PipeFrom == idx || depth > 8 {
		return models.Word{}, false
	}
	p := &f.Commands[c.PipeFrom]
	n := p.Name()
	if n == "cat" && len(p.Argv) == 1 {
		return stdinText(f, c.PipeFrom, depth+1)
	}
	if n != "echo" && n != "printf" {
		return models.Word{}, false
	}
	var w models.Word
	args := make([]string, 0, len(p.Argv)-1)
	for _, a := range p.Argv[1:] {
		w.Dynamic = w.Dynamic || a.Dynamic
		w.Subst = append(w.Subst, a.Subst...)
		args = append(args, a.Lit)
	}
	if n == "printf" {
		out, ok := printfOutput(args)
		if !ok {
			// printf -v or a bad format: its words, decoded.
			out = DecodeANSIC(strings.Join(args, " "))
		}
		w.Lit = out
		return w, true
	}
	// Decoded even without -e: either reading may be what runs.
	w.Lit = strings.TrimSuffix(echoOutput(args, true), "\n")
	return w, true
}

// xargs adds the command that xargs at idx runs, with the words of its
// input appended (or put in place of the -I string) when that input is
// known statically (printf, echo, a here-document or here-string).
func (s *scope) xargs(idx int, rest []models.Word) {
	inner, _ := skipOpts(rest, "IdEeLlnPsa", []string{"--delimiter", "--eof", "--replace", "--max-lines", "--max-args", "--max-procs", "--max-chars", "--arg-file", "--process-slot-var"})
	opts := rest[:len(rest)-len(inner)]
	if len(inner) == 0 {
		inner = []models.Word{{Lit: "echo"}}
	}
	delim, eof, repl, fromFile := "", "", "", false
	for i := 0; i < len(opts); i++ {
		a := opts[i].Lit
		next := func() string {
			if i+1 < len(opts) {
				i++
				return opts[i].Lit
			}
			return ""
		}
		switch {
		case a == "-0" || a == "--null":
			delim = "\x00"
		case a == "-d" || a == "--delimiter":
			delim = next()
		case strings.HasPrefix(a, "--delimiter="):
			delim = strings.TrimPrefix(a, "--delimiter=")
		case strings.HasPrefix(a, "-d") && !strings.HasPrefix(a, "--"):
			delim = a[2:]
		case a == "-I":
			repl = next()
		case strings.HasPrefix(a, "-I"):
			repl = a[2:]
		case a == "-i" || a == "--replace":
			repl = "{}"
		case strings.HasPrefix(a, "-i"):
			repl = a[2:]
		case strings.HasPrefix(a, "--replace="):
			repl = strings.TrimPrefix(a, "--replace=")
		case a == "-E" || a == "--eof":
			eof = next()
		case strings.HasPrefix(a, "--eof="):
			eof = strings.TrimPrefix(a, "--eof=")
		case a == "-a" || a == "--arg-file" || strings.HasPrefix(a, "--arg-file="):
			fromFile = true
		case a == "-n" || a == "-L" || a == "-P" || a == "-s" || a == "--max-args" || a == "--max-lines" || a == "--max-procs" || a == "--max-chars" || a == "--process-slot-var":
			next()
		}
	}
	in, ok := models.Word{}, false
	if !fromFile {
		in, ok = StdinCode(s.w.facts, idx)
	}
	if !ok || in.Dynamic {
		s.inner(idx, "xargs", inner)
		return
	}
	if repl != "" {
		// -I reads one item a line.
		delim = "\n"
	}
	delim = DecodeANSIC(delim)
	items := xargsItems(in.Lit, delim, eof)
	if repl == "" {
		argv := make([]models.Word, 0, len(inner)+len(items))
		argv = append(argv, inner...)
		for _, it := range items {
			argv = append(argv, models.Word{Lit: it})
		}
		s.inner(idx, "xargs", argv)
		return
	}
	if len(items) == 0 {
		s.inner(idx, "xargs", inner)
		return
	}
	for n, it := range items {
		if n >= 16 {
			break
		}
		argv := make([]models.Word, len(inner))
		for i, w := range inner {
			w.Lit = strings.ReplaceAll(w.Lit, repl, it)
			argv[i] = w
		}
		s.inner(idx, "xargs", argv)
	}
}

// decoders turn encoded text back into something a shell could run.
var decoders = map[string]bool{"base64": true, "base32": true, "basenc": true, "xxd": true, "uudecode": true, "openssl": true,
	"gunzip": true, "zcat": true, "bunzip2": true, "unxz": true, "rev": true, "ascii85": true, "base58": true}

// decodedInput reports whether a decoder feeds Commands[idx]'s stdin,
// directly or further up the pipe.
func (s *scope) decodedInput(idx int) bool {
	f := s.w.facts
	for n, p := 0, f.Commands[idx].PipeFrom; p >= 0 && p < len(f.Commands) && n < 64; n++ {
		if decoders[f.Commands[p].Name()] {
			return true
		}
		p = f.Commands[p].PipeFrom
	}
	return false
}
