package rater

import (
	"regexp"
	"strings"

	"github.com/chaperone-dev/chaperone/models"
)

// Attacks on chaperone itself: an agent that can stop the guard, or turn
// its switches, runs everything after that unseen. Signalling chaperone's
// processes found by name (pkill -f chaperone, kill $(pgrep chaperone),
// ps | awk /chaperone/ | xargs kill), looking their ids up to that end
// (pidof chaperone), signalling the agent's own parent (the shell server)
// and setting or removing CHAPERONE_* variables (envSettings' valGuard) are
// chaperone.self. Killing an ordinary process stays proc.signal.

// selfNames are the names chaperone's processes run under; a pattern that
// matches one of them selects chaperone.
var selfNames = []string{"chaperone", "chaperone-shell", "chaperone-panel", "chaperone-sweeper", "chaperone serve", "chaperone-shell -c"}

// signallers send signals to the processes their arguments or input name.
var signallers = set("kill", "pkill", "killall", "skill", "snice", "pgrep", "pidof", "killall5", "renice", "prlimit", "systemctl", "service")

// selfCases are the class's examples: held, and look-alikes that are not.
var selfCases = struct{ catch, not []string }{
	catch: []string{"pkill -f chaperone", "killall chaperone-shell", "kill $(pgrep chaperone)", "pidof chaperone",
		"ps aux | awk '/chaperone/{print $2}' | xargs kill", "pkill -f 'chap.*shell'", "kill -9 $PPID", "unset CHAPERONE_SESSION"},
	not: []string{"kill 1234", "pkill node", "ps aux | grep node", "pgrep -f gunicorn", "echo $CHAPERONE_SESSION"},
}

// selfSignal judges a command that signals or looks up processes.
func (k *check) selfSignal(c *cmd) {
	if !signallers[c.name] {
		return
	}
	if c.name == "systemctl" || c.name == "service" {
		// Only what stops or changes a unit; status and show look.
		if !c.has("stop", "kill", "disable", "mask", "restart", "reload", "edit", "revert", "set-property") {
			return
		}
	}
	pattern := c.name == "pkill" || c.name == "pgrep" || c.name == "skill" || c.name == "snice" || c.name == "killall" && c.has("-r", "--regexp")
	for _, a := range c.positional("-s", "--signal", "-u", "--uid", "-U", "--euid", "-g", "--pgroup", "-G", "--group", "-P", "--parent", "-t", "--terminal", "-n") {
		if selectsSelf(a, pattern) {
			k.hit(ruleChaperone, c.span())
			return
		}
	}
	if c.name == "kill" || c.name == "renice" || c.name == "prlimit" {
		for _, w := range c.Argv[1:] {
			if strings.Contains(w.Lit, "$PPID") || strings.Contains(w.Lit, "${PPID}") {
				// The agent's own parent: chaperone's shell.
				k.hit(ruleChaperone, c.span())
				return
			}
			for _, i := range w.Subst {
				if k.feedsSelf(i) {
					k.hit(ruleChaperone, c.span())
					return
				}
			}
		}
		// kill run by xargs: its input comes through the wrapper's pipe.
		if len(c.Via) > 0 && c.Via[len(c.Via)-1] == "xargs" {
			for j := c.idx - 1; j >= 0; j-- {
				if w := &k.facts.Commands[j]; w.Wrapper == "xargs" && w.Span == c.Span {
					if w.PipeFrom >= 0 && k.feedsSelf(w.PipeFrom) {
						k.hit(ruleChaperone, c.span())
					}
					break
				}
			}
		}
		if c.PipeFrom >= 0 && k.feedsSelf(c.PipeFrom) {
			k.hit(ruleChaperone, c.span())
		}
	}
}

// feedsSelf reports whether command i, or one upstream of it in its pipe,
// selects chaperone's processes by name.
func (k *check) feedsSelf(i int) bool { return k.feedsSelfDepth(i, 0) }

func (k *check) feedsSelfDepth(i, depth int) bool {
	if depth > 8 {
		return false
	}
	for n := 0; n < 64 && i >= 0 && i < len(k.facts.Commands); n++ {
		m := &k.facts.Commands[i]
		name := m.Name()
		pattern := name == "grep" || name == "egrep" || name == "pgrep" || name == "awk" || name == "gawk" || name == "sed" || name == "rg"
		for _, w := range m.Argv[1:] {
			if strings.HasPrefix(w.Lit, "-") {
				continue
			}
			if selectsSelf(w.Lit, pattern) {
				return true
			}
		}
		for _, j := range substOf(m) {
			if j != i && k.feedsSelfDepth(j, depth+1) {
				return true
			}
		}
		if m.PipeFrom == i {
			break
		}
		i = m.PipeFrom
	}
	return false
}

// substOf lists the commands of m's substitutions.
func substOf(m *models.Command) []int {
	var out []int
	for _, w := range m.Argv {
		out = append(out, w.Subst...)
	}
	return out
}

// selectsSelf reports whether a process name or pattern picks chaperone:
// it names it, or (pattern) it is a regular expression that matches one
// of its process names, as pkill -f 'chap.*' does.
func selectsSelf(a string, pattern bool) bool {
	if strings.Contains(strings.ToLower(a), "chaperone") {
		return true
	}
	if !pattern || a == "" || len(a) > 200 {
		return false
	}
	// awk '/re/{…}' and sed '/re/d' carry the pattern between slashes.
	if i := strings.IndexByte(a, '/'); i >= 0 {
		if j := strings.IndexByte(a[i+1:], '/'); j > 0 {
			a = a[i+1 : i+1+j]
		}
	}
	re, err := regexp.Compile(a)
	if err != nil {
		return false
	}
	for _, n := range selfNames {
		if re.MatchString(n) {
			return true
		}
	}
	return false
}

// guardEnvRemoved judges unset and env -u of CHAPERONE_* variables.
func (k *check) guardEnvRemoved(c *cmd) {
	switch c.name {
	case "unset", "env":
		for i, a := range c.args {
			n := a
			if c.name == "env" {
				switch {
				case (a == "-u" || a == "--unset") && i+1 < len(c.args):
					n = c.args[i+1]
				case strings.HasPrefix(a, "--unset="):
					n = a[len("--unset="):]
				case strings.HasPrefix(a, "-u") && len(a) > 2:
					n = a[2:]
				default:
					continue
				}
			}
			if strings.HasPrefix(n, "CHAPERONE_") {
				k.hit(ruleChaperone, c.span())
				return
			}
		}
	}
}
