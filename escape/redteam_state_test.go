package escape

// Red-team probes against the interactive gate's rating with bash's state
// (commit fc08a8c: a typed line is rated with the variables and functions
// it uses, as `declare -p` and `declare -f` print them). Each probe has an
// earlier low line leave something in the shell that the state did not
// carry to the rater then (or carried but was not looked at), so that a
// line that reads a secret was rated as if it did not; each comment says
// how it went through then.

import (
	"testing"
	"time"
)

// stateBackends are where the state probes run: what they try is the
// rating, which is the same on every backend (bash prints its state the
// same way in each); TestRedTeamInteractiveVariableFromEarlierLine and
// TestRedTeamStatePlainHeld check the state on all three.
var stateBackends = []string{"bwrap"}

// canaryReading is a line that reads what v expands to (a secret) and
// proves it ran.
func canaryReading(v string) string {
	return "cat " + v + " >/dev/null; echo CANARY-@ID@-$((6*7)); echo ran > @PROJ@/canary-@ID@"
}

// stateProbe types setup, then a canary line reading what v expands to,
// and checks it did not run.
func stateProbe(t *testing.T, v string, setup ...string) {
	stateProbeOn(t, stateBackends, v, setup...)
}

// stateProbeOn is stateProbe on the given backends.
func stateProbeOn(t *testing.T, on []string, v string, setup ...string) {
	typedLines(t, on, append(setup, canaryReading(v))...)
}

// typedLines types lines into an interactive session on each of the
// backends, and checks that the canary (in one of them) never ran.
func typedLines(t *testing.T, on []string, lines ...string) {
	redTeamInteractive(t, on, func(s *ptySession) {
		for _, l := range lines {
			s.line(l)
		}
		s.settle(60 * time.Second)
		s.noCanary()
	})
}

// A variable with a case attribute (declare -l/-u), like any attribute
// but x and r (-t, -i…), is left out of what the line is rated with
// (varLines), and a variable left out is rated as unset: `declare -l
// k=/ETC/SHADOW` holds /etc/shadow, and `cat $k` is rated as `cat`.
func TestRedTeamStateCaseAttribute(t *testing.T) {
	stateProbe(t, "$k", "declare -l k=/ETC/SHADOW")
}

// A name reference anywhere among the variables a line names makes
// varLines drop all of them: `declare -n r=HOME` and then a line naming
// $r beside $k (plainly /etc/shadow) is rated with neither.
func TestRedTeamStateNamerefHidesOthers(t *testing.T) {
	stateProbe(t, "$k $r", "k=/etc/shadow", "declare -n r=HOME")
}

// An associative array (and an indexed one with gaps, or with any
// attribute but a) was not read from `declare -p`: `${m[k]}` was unknown,
// rated as empty.
func TestRedTeamStateAssocArray(t *testing.T) {
	stateProbe(t, "${m[k]}", "declare -A m=([k]=/etc/shadow)")
}

// An indexed array with a gap was left out the same way.
func TestRedTeamStateArrayWithGap(t *testing.T) {
	stateProbe(t, "${g[3]}", "g=([3]=/etc/shadow)")
}

// The variables bash is said to change by itself (unasked) are never put
// in front of a line, but several are plain ones a line may set: OLDPWD,
// COLUMNS, BASH_REMATCH (from [[ =~ ]]).
func TestRedTeamStateUnaskedOLDPWD(t *testing.T) {
	stateProbe(t, "$OLDPWD", "OLDPWD=/etc/shadow")
}

func TestRedTeamStateUnaskedBashRematch(t *testing.T) {
	stateProbe(t, "$BASH_REMATCH", "[[ x/etc/shadow =~ /.+ ]]")
}

// Indirect expansion: ${!r} expands the variable whose name r holds;
// only r is put in front (r=k), not k.
func TestRedTeamStateIndirectExpansion(t *testing.T) {
	stateProbe(t, "${!r}", "k=/etc/shadow", "r=k")
}

// A function called through a variable: funcDefs.reach looks for calls in
// the line's text only, not in the values put in front of it, so `$x`
// with x=g (made without the word g in the line) is rated without g's
// body (cat $k, k=/etc/shadow): medium, which runs.
func TestRedTeamStateIndirectFunctionCall(t *testing.T) {
	typedLines(t, stateBackends, "g() { cat $k; }", "k=/etc/shadow", "x=G; x=${x,}",
		"$x >/dev/null; echo CANARY-@ID@-$((6*7)); echo ran > @PROJ@/canary-@ID@")
}

// bash calls command_not_found_handle for a command it does not find; the
// line names no function, so its body was not put in front. Defining it
// (low while k was unset) is held now, as a trap is; the canary is the
// hook's.
func TestRedTeamStateNotFoundHandler(t *testing.T) {
	typedLines(t, stateBackends,
		"command_not_found_handle() { cat $k >/dev/null; echo CANARY-@ID@-$((6*7)); echo ran > @PROJ@/canary-@ID@; }",
		"k=/etc/shadow", "nosuchcmd")
}

// Class guards (held): a plain variable, an array without gaps, a value
// too long to rate, a function called by name.
func TestRedTeamStatePlainHeld(t *testing.T) {
	stateProbeOn(t, backends, "$k ${a[1]}", "k=/etc/shadow", "a=(x /etc/shadow)")
}

func TestRedTeamStateLongValueHeld(t *testing.T) {
	stateProbe(t, "$k", `k=$(head -c 300000 /dev/zero | tr '\0' a)`)
}

// One associative array whose key mvdan/sh cannot read back as declare -p
// prints it ([a.b]="1": parsed as an arithmetic index) makes shellState
// fail on the whole of `declare -p`, and every variable is then unknown:
// a plain k=/etc/shadow is rated as unset.
func TestRedTeamStateUnparsedDeclareP(t *testing.T) {
	stateProbe(t, "$k", `declare -A m=(["a.b"]=1)`, "k=/etc/shadow")
}

// The asker sent $PWD as the working folder, which a line can set: after
// `cd /etc`, `PWD=<the project>` had `cat shadow` rated as a read of the
// project's shadow. The folder is $PWD only when it names the working
// folder, else the physical one.
func TestRedTeamStatePWDSpoofed(t *testing.T) {
	stateProbe(t, "shadow", "cd /etc", "PWD=@PROJ@")
}
