package shim

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/rater"
)

// Red-team probes of commit fc08a8c: a line typed at an interactive
// session is rated with what its bash holds (shellState, fromState). Each
// probe types low lines that leave something in the shell, then a line
// that reads /etc/shadow through it; that line must be high.

// rtSession rates lines as an interactive session would: each line with
// the state a real bash holds after the lines before it (declare -p and
// declare -f, captured in POSIX mode as the asker does). It returns each
// line's effective risk.
func rtSession(t *testing.T, lines ...string) []models.Risk {
	t.Helper()
	home := filepath.Join(t.TempDir(), "home")
	os.MkdirAll(filepath.Join(home, ".ssh"), 0o700)
	os.WriteFile(filepath.Join(home, ".ssh", "id_rsa"), []byte("KEY\n"), 0o600)
	env := map[string]string{"HOME": home, "PATH": os.Getenv("PATH")}
	sc := shellContext{s: &Shim{Rater: typedRater{rater.New()}}, getenv: func(k string) string { return env[k] }}
	dir := t.TempDir()
	sc.project = dir
	var risks []models.Risk
	for i, l := range lines {
		script := strings.Join(lines[:i], "\n") + "\n" +
			"POSIXLY_CORRECT=y; __s=$(builtin declare -p; builtin printf '\\x1f'; builtin declare -f); builtin printf '%s\\x1e%s' \"$PWD\" \"$__s\""
		cmd := exec.Command("bash", "-c", script)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "HOME="+home)
		out, _ := cmd.Output()
		pwd, state, _ := strings.Cut(string(out), "\x1e")
		declared, funcs, _ := strings.Cut(state, "\x1f")
		sc.pwd = pwd
		text := sc.fromState(t.Context(), l, declared, funcs)
		r, _ := sc.s.Rater.Rate(t.Context(), rater.Request{Command: text, Cwd: sc.pwd, Project: sc.project, Home: env["HOME"], Gated: true})
		risks = append(risks, r.Risk.Effective())
		if i == len(lines)-1 && r.Risk.Effective() != models.High {
			t.Logf("%v %q rated as:\n%s", r.Risk.Effective(), l, text)
		}
	}
	return risks
}

// rtHeld checks that one of lines is rated high: the attack needs them
// all to run.
func rtHeld(t *testing.T, lines ...string) {
	t.Helper()
	if risks := rtSession(t, lines...); !slices.Contains(risks, models.High) {
		t.Errorf("%q rated %v, want one of them high", lines, risks)
	}
}

// Escapes of the first version of the interactive state (commit
// fc08a8c): what the state did not carry to the rater, or carried but
// was not looked at, was rated as if unset.
func TestRedTeamStateUnit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string
	}{
		// Values with attributes other than -x and -r were dropped (a
		// dropped value is rated as an unset one).
		{"CaseAttribute", []string{`declare -l k=/ETC/SHADOW`, `cat $k`}},
		{"UpperThenLowered", []string{`declare -u k=/etc/shadow`, `cat ${k,,}`}},
		{"TraceAttribute", []string{`declare -t k=/etc/shadow`, `cat $k`}},
		{"ReadonlyArray", []string{`declare -ar a=(/etc/shadow)`, `cat ${a[0]}`}},
		// A name reference among the named variables dropped all of them.
		{"NamerefHidesOthers", []string{`k=/etc/shadow`, `declare -n r=HOME`, `cat $k $r`}},
		{"NamerefToSecret", []string{`k=/etc/shadow`, `declare -n r=k`, `cat $r`}},
		// Associative arrays and arrays with gaps were left out.
		{"AssocArray", []string{`declare -A m=([k]=/etc/shadow)`, `cat ${m[k]}`}},
		{"ArrayWithGap", []string{`g=([3]=/etc/shadow)`, `cat ${g[3]}`}},
		{"ArrayWithGapDeclared", []string{`declare -a g=([0]=x [3]=/etc/shadow)`, `cat ${g[3]}`}},
		{"NamerefToArrayElement", []string{`declare -A m=([k]=/etc/shadow)`, `declare -n r=m`, `cat ${r[k]}`}},
		// One key mvdan/sh cannot read back ([a.b]="1" is parsed as an
		// arithmetic index) failed the parse of the whole declare -p,
		// and every variable was unknown.
		{"UnparsedDeclareP", []string{`declare -A m=(["a.b"]=1)`, `k=/etc/shadow`, `cat $k`}},
		// Variables a line can set, which bash also sets by itself.
		{"UnaskedOLDPWD", []string{`OLDPWD=/etc/shadow`, `cat $OLDPWD`}},
		{"UnaskedOLDPWDByCd", []string{`cd /etc`, `cd -`, `cat $OLDPWD/shadow`}},
		{"UnaskedBashRematch", []string{`[[ x/etc/shadow =~ /.+ ]]`, `cat $BASH_REMATCH`}},
		{"UnaskedColumns", []string{`COLUMNS=/etc/shadow`, `cat $COLUMNS`}},
		// Values a builtin put there, not an assignment.
		{"SetByRead", []string{`read -r k <<< /etc/shadow`, `cat "$k"`}},
		{"SetByPrintfV", []string{`printf -v k %s /etc/sha dow`, `cat $k`}},
		{"SetByMapfile", []string{`mapfile -t a <<< /etc/shadow`, `cat "${a[0]}"`}},
		// A variable used by the name another holds.
		{"IndirectExpansion", []string{`k=/etc/shadow`, `r=k`, `cat ${!r}`}},
		// Functions reached other than by a word of the line: through a
		// value, or by bash itself (held where it is defined).
		{"IndirectFunctionCall", []string{`g() { cat $k; }`, `k=/etc/shadow`, `x=G; x=${x,}`, `$x`}},
		{"NotFoundHandler", []string{`command_not_found_handle() { cat $k; }`, `k=/etc/shadow`, `nosuchcmd`}},
	} {
		t.Run(tc.name, func(t *testing.T) { rtHeld(t, tc.lines...) })
	}
}

// Class guards: what the state does carry is rated (held).
func TestRedTeamStateUnitGuards(t *testing.T) {
	for _, lines := range [][]string{
		{`k=/etc/shadow`, `cat $k`},
		{`k=/etc/sha; j=dow`, `cat $k$j`},
		{`readonly k=/etc/shadow`, `cat $k`},
		{`a=(x /etc/shadow)`, `cat ${a[1]}`},
		{`k=$(head -c 300000 /dev/zero | tr '\0' a)`, `cat $k`},
		{`declare -A m=([x]=1)`, `k=/etc/shadow`, `cat $k`},
		{`X=$'\x01\xff\u00e9'`, `k=/etc/shadow`, `cat $k`},
		{`g() { cat $k; }`, `k=/etc/shadow`, `g`},
		{`g() { cat $k; }`, `k=/etc/shadow`, `x=g`},
		{`V='f() { cat /etc/shadow; }'`, `eval "$V"`},
		{`declare -l t=TRAP`, `$t - DEBUG`},
	} {
		rtHeld(t, lines...)
	}
}
