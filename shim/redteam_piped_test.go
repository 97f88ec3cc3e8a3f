package shim

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/rater"
	"github.com/chaperone-dev/chaperone/sandbox"
)

// Red-team probes of a statement session's rating with its bash's state,
// asked by name through the driver (askedShell, resolve). rtPiped runs
// the real driver in a plain bash (no sandbox) over the real channel,
// sends each earlier statement as a session would (with the "?q" answer
// after it, ss.pre), and rates the last one exactly as stmtSession.rated
// does. It returns each statement's risk (the earlier ones rated the same
// way, before they are sent) and the text the last was rated as.
func rtPiped(t *testing.T, lines ...string) ([]models.Risk, string) {
	t.Helper()
	home := filepath.Join(t.TempDir(), "home")
	os.MkdirAll(filepath.Join(home, ".ssh"), 0o700)
	os.WriteFile(filepath.Join(home, ".ssh", "id_rsa"), []byte("KEY\n"), 0o600)
	dir := t.TempDir()
	env := map[string]string{"HOME": home, "PATH": os.Getenv("PATH")}
	getenv := func(k string) string { return env[k] }
	s := &Shim{Rater: typedRater{rater.New()}}
	ss := &stmtSession{s: s, job: &sandbox.Job{Project: dir, Dir: dir}, getenv: getenv, pwd: dir}
	ctlDir := t.TempDir()
	if err := ss.ctl.make(ctlDir); err != nil {
		t.Fatal(err)
	}
	defer ss.ctl.close()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", driver)
	cmd.Dir = dir
	cmd.Env = []string{"HOME=" + home, "PATH=" + env["PATH"], "CHAPERONE_CTL=" + ctlDir}
	devnull, _ := os.Open(os.DevNull)
	defer devnull.Close()
	cmd.Stdin = devnull
	if testing.Verbose() {
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ended := make(chan bashResult, 1)
	go func() {
		err := cmd.Wait()
		code := 0
		if cmd.ProcessState != nil {
			code = cmd.ProcessState.ExitCode()
		}
		ended <- bashResult{code, err}
	}()
	replies := ss.replies(ctx)
	ss.ctl.send("?q\n" + strings.Join(preNames, "\n"))
	if _, done := ss.recvAnswer(&ss.pre, preNames, replies, ended); done {
		t.Fatal("bash ended")
	}
	var risks []models.Risk
	var last string
	for i, l := range lines {
		text, _, done := ss.rated(ctx, l, replies, ended)
		if done {
			t.Fatalf("bash ended before %q", l)
		}
		r, _ := s.Rater.Rate(ctx, rater.Request{Command: text, Cwd: ss.pwd, Project: dir, Home: home, Gated: true})
		risks = append(risks, r.Risk.Effective())
		last = text
		if i == len(lines)-1 {
			break
		}
		ss.ctl.send(strconv.Itoa(ss.status) + ":" + l)
		reply, ok := <-replies
		if !ok {
			t.Fatalf("bash ended running %q", l)
		}
		if _, done := ss.recvPre(replies, ended); done {
			t.Fatalf("bash ended after %q", l)
		}
		st, rest, _ := strings.Cut(reply, ":")
		_, pwd, _ := strings.Cut(rest, ":")
		if pwd = strings.TrimSuffix(pwd, "\n"); pwd != "" {
			ss.pwd = pwd
		}
		ss.status, _ = strconv.Atoi(st)
	}
	ss.ctl.send("!0")
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
	}
	return risks, last
}

// rtPipedHeld checks that one of lines is rated high.
func rtPipedHeld(t *testing.T, lines ...string) {
	t.Helper()
	risks, last := rtPiped(t, lines...)
	for _, r := range risks {
		if r == models.High {
			return
		}
	}
	t.Errorf("%q rated %v; the last rated as:\n%s", lines, risks, last)
}

// Escapes found by red-teaming the piped session's state (each comment
// says why it went through): each sequence's last statement reads
// /etc/shadow, and none of them was rated high.
func TestRedTeamPipedUnit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		lines []string
	}{
		// PWD was not asked ("the working folder: the rating has it"), but
		// $PWD is a variable a statement sets; bash's pwd then prints the
		// physical folder (the project), and $PWD is not put in front.
		{"UnaskedPWD", []string{`PWD=/etc/shadow`, `cat $PWD`}},
		// Not asked either: bash's dynamic variables lose what makes them dynamic
		// once unset, and then hold what a statement puts in them.
		{"UnsetRANDOM", []string{`unset RANDOM; RANDOM=/etc/shadow`, `cat $RANDOM`}},
		{"UnsetSECONDS", []string{`unset SECONDS; SECONDS=/etc/shadow`, `cat $SECONDS`}},
		{"UnsetFUNCNAME", []string{`unset FUNCNAME; FUNCNAME=/etc/shadow`, `cat $FUNCNAME`}},
		{"UnsetBASHPID", []string{`unset BASHPID; BASHPID=/etc/shadow`, `cat $BASHPID`}},
		{"UnsetLINENO", []string{`unset LINENO; LINENO=/etc/shadow`, `cat $LINENO`}},
		// ${!r} was followed only when r's value was a bare name; bash
		// also takes a subscript. A name reference to an element: the same.
		{"IndirectArrayElement", []string{`a=(x /etc/shadow)`, `r='a[1]'`, `cat ${!r}`}},
		{"IndirectScalarSubscript", []string{`k=/etc/shadow`, `r='k[0]'`, `cat ${!r}`}},
		{"IndirectAssocElement", []string{`declare -A m=([x]=/etc/shadow)`, `r='m[x]'`, `cat ${!r}`}},
		{"NamerefArrayElement", []string{`a=(x /etc/shadow)`, `declare -n r='a[1]'`, `cat $r`}},
		// HOME was put in front (export HOME=/etc), but ~ was read with the
		// request's Home (chaperone's environment).
		{"HomeTilde", []string{`HOME=/etc`, `cat ~/shadow`}},
		// ${!k@} expands to the names that start with k: none is asked.
		{"PrefixNames", []string{`kx=/etc/shadow`, `for n in ${!k@}; do cat "${!n}"; done`}},
		// funcDefs.learn keeps every definition at any depth: f's inner
		// g (asked after g) replaces the real g, which runs first.
		{"NestedDefinitionReplaces", []string{`g() { cat $k; }`, `f() { g() { :; }; }`, `k=/etc/shadow`, `g; f`}},
		// words() splits /bin/ls at the slashes: the function is never
		// asked for, and the statement is rated as the program ls.
		{"FunctionNameWithSlash", []string{`/bin/ls() { cat $k; }`, `k=/etc/shadow`, `/bin/ls`}},
		// Past maxFuncRounds the functions left are not asked, and what is
		// left out is not said (no UNSHOWN_FUNCTIONS): f8 calls ls, a
		// function, rated as the program.
		{"FunctionChainPastRounds", []string{`f1() { f2; }`, `f2() { f3; }`, `f3() { f4; }`, `f4() { f5; }`, `f5() { f6; }`,
			`f6() { f7; }`, `f7() { f8; }`, `f8() { ls; }`, `ls() { cat $k; }`, `k=/etc/shadow`, `f1`}},
		// The shell's command hash is state nobody asks: ls runs cat.
		{"HashP", []string{`hash -p /bin/cat ls`, `ls /etc/shadow`}},
	} {
		t.Run(tc.name, func(t *testing.T) { rtPipedHeld(t, tc.lines...) })
	}
}

// Guards: what the asking does carry (held).
func TestRedTeamPipedUnitGuards(t *testing.T) {
	for _, lines := range [][]string{
		{`k=/etc/shadow`, `cat $k`},
		{`set -- /etc/shadow`, `cat "$1"`},
		{`k=/etc/shadow`, `declare -n r=k`, `declare -n s=r`, `cat $s`},
		{`k=/etc/shadow`, `r=k`, `cat ${!r}`},
		{`IFS=x`, `k=/etc/shadowx`, `cat $k`},
		{`HOME=/etc`, `cat $HOME/shadow`},
		{`k=/etc/shadow`, `ls() { cat $k; }`, `ls`},
		{`h() { cat $k; }`, `k=/etc/shadow`, `x=h`, `g() { $x; }`, `g`},
		{`printf -v k %s /etc/shadow`, `cat $k`},
		{`read -r k <<< /etc/shadow`, `cat $k`},
		{`mapfile -t a <<< /etc/shadow`, `cat ${a[0]}`},
		{`f() { declare -g k=/etc/shadow; }`, `f`, `cat $k`},
		{`k=$(head -c 300000 /dev/zero | tr '\0' a)`, `cat $k /etc/shadowx`},
	} {
		rtPipedHeld(t, lines...)
	}
}

// TestRedTeamPipedExplore logs how each attempt is rated (exploration).
func TestRedTeamPipedExplore(t *testing.T) {
	cases := strings.Split(os.Getenv("RT_CASES"), "\n\n")
	for i, c := range cases {
		if strings.TrimSpace(c) == "" {
			continue
		}
		lines := strings.Split(strings.TrimSpace(c), "\n")
		risks, last := rtPiped(t, lines...)
		t.Logf("#%d %q\n  risks %v\n  last rated as:\n%s\n", i, lines, risks, last)
	}
}
