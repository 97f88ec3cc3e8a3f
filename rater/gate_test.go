package rater

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/chaperone-dev/chaperone/models"
)

// A statement of a session (Request.Gated) that could reach the channel
// of the session's bash with chaperone is held; the same forms that stay
// on the ordinary descriptors are not, and outside a session none is.
func TestGateChannel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cmd  string
		held bool
	}{
		{"printf x >&12", true},
		{"cat <&10", true},
		{"read -u 10 -d '' x", true},
		{"read -ru10 x", true},
		{"IFS= read -r -u 12 x", true},
		{`read -u "$fd" x`, true},
		{"mapfile -t -u 200 lines", true},
		{"readarray -u11 a", true},
		{"read -u 0 x", false},
		{"read -r -u 3 line 3< notes.txt", false},
		{"mapfile -t lines < notes.txt", false},
		{"exec {v}>&200", true},
		{"printf x >&12-", true},
		{`printf x >&"$fd"`, true},
		{"printf x >/dev/fd/12", true},
		{"exec 5<>/dev/fd/201", true},
		{"for n in 10 11; do printf x > /dev/fd/$n; done", true},
		{"ls -l /proc/$$/fd", true},
		{"printf x > /proc/self/task/1/fd/12", true},
		{"cd /dev; printf x > fd/12", true},
		{"cd /proc/self && ls fd", true},
		{"printf x > link/fd/200", true},
		{"X=/dev/fd/12 cmd", true},
		{`echo x > "$(mktemp)"`, true},
		{`python3 -c "$code"`, true},
		{"cat /proc/$$/f?/1[0] > /dev/null &", true},
		{"read -r m < /proc/self/f[d]/10", true},
		{"ln -s /run/chaperone-ctl/q notes.txt", true},
		{`printf 'D\x1f0' >> /run/chaperone-c*/q`, true},
		{"cd /run/chaperone-ctl && cat v", true},
		{"ls /run/user", false},
		{"cat /proc/$$/status", false},

		{"exec 3>&1; echo hi >&3", false},
		{"echo x 2>&1 >&2", false},
		{"printf x >/dev/fd/1", false},
		{"cat /dev/stdin", false},
		{"diff <(ls) <(ls -a)", false},
		{"echo hi > out.txt", false},
		{"cd sub && echo x > fd", false},
		{"ls data/fd/3", false},
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			t.Parallel()
			req := testReq(tc.cmd)
			req.Gated = true
			r, _ := New().Rate(context.Background(), req)
			if got := hasRule(r, ruleSessionGate.ID); got != tc.held {
				t.Errorf("session.gate: %v, want %v (findings %v)", got, tc.held, rules(r))
			}
			if hasRule(rate(t, tc.cmd), ruleSessionGate.ID) {
				t.Errorf("session.gate outside a session")
			}
		})
	}
}

func TestChannelPath(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		dir, p string
		want   bool
	}{
		{"", "/run/chaperone-ctl", true},
		{"", "/run/chaperone-ctl/q", true},
		{"", "/run/chaperone-c*/q", true},
		{"", "/run/$x/q", true},
		{"", "/ru?/*", true},
		{"/run", "chaperone-ctl/a", true},
		{"/run/chaperone-ctl", "v", true},
		{"", "/proc/self/f?/12", true}, // a descriptor (fdPath)
		{"", "/run/user/1000/x", false},
		{"", "/run", false},
		{"", "run/chaperone-ctl/q", false}, // relative, from a folder not known
		{"", "/tmp/chaperone-ctl/q", false},
	} {
		if got := channelPath(tc.dir, tc.p); got != tc.want {
			t.Errorf("channelPath(%q, %q) = %v, want %v", tc.dir, tc.p, got, tc.want)
		}
	}
}

func TestFdPath(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		dir, p string
		want   bool
	}{
		{"", "/dev/fd", true},
		{"", "/dev/fd/", true},
		{"", "/dev/fd/9", false},
		{"", "/dev/fd/10", true},
		{"", "/dev/fd/*", true},
		{"", "/proc/self/fd/1", false},
		{"", "/proc/1/fd", true},
		{"", "/proc/*/fd/*", true},
		{"", "/proc/self/fdinfo/12", false},
		{"", "fd/12", true},
		{"", "fd/3", false},
		{"", "a/fd/$n", true},
		{"/dev", "fd/12", true},
		{"/dev", "fd", true},
		{"/dev/fd", "12", true},
		{"/home/dev/proj", "12", false},
		{"", "", false},
		// Patterns and expansions that may match a descriptor's path.
		{"", "/proc/$$/f?/1[0]", true},
		{"", "/proc/self/f[d]/1?", true},
		{"", "/proc/self/f*/12", true},
		{"", "/pr?c/self/fd/12", true},
		{"", "/proc/self/task/*/f*/1[0-9]", true},
		{"", "/dev/f?/12", true},
		{"", "/d*/fd/1*", true},
		{"", "/dev/{fd,null}/12", true},
		{"", "/proc/$$/$x/12", true},
		{"", "/dev/$x/12", true},
		{"", "x/f?/12", true},
		// What matches no descriptor's path.
		{"", "/proc/$$/status", false},
		{"", "/proc/self/f?/3", false},
		{"", "/proc/$pid/cmdline", false},
		{"", "/dev/$x", true}, // may be /dev/fd itself
		{"", "/dev/null", false},
		{"", "$d/$f", false},
		{"", "src/m?in.go", false},
	} {
		if got := fdPath(tc.dir, tc.p); got != tc.want {
			t.Errorf("fdPath(%q, %q) = %v, want %v", tc.dir, tc.p, got, tc.want)
		}
	}
}

// What a statement sources runs in the session's shell: the gate applies
// to it as to the statement, but for the prompt an activate script sets.
func TestGateSourced(t *testing.T) {
	t.Parallel()
	proj := t.TempDir()
	files := map[string]string{
		"trap.sh":     "trap 'x' DEBUG\n",
		"builtin.sh":  "builtin() { :; }\n",
		"alias.sh":    "shopt -s expand_aliases\nalias ls=\"$(cat p)\"\n",
		"channel.sh":  "exec 5>&12\n",
		"nested.sh":   "source trap.sh\n",
		"activate.sh": "VIRTUAL_ENV=/x\nexport PATH=\"$VIRTUAL_ENV/bin:$PATH\"\nPS1=\"(venv) ${PS1:-}\"\nexport PS1\ndeactivate() { unset VIRTUAL_ENV; }\n",
		"sub/trap.sh": "trap 'x' ERR\n",
	}
	for name, text := range files {
		p := filepath.Join(proj, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		cmd  string
		held bool
	}{
		{"source trap.sh", true},
		{". ./builtin.sh", true},
		{"source alias.sh", true},
		{"source channel.sh", true},
		{"source nested.sh", true},
		{"cd sub && source trap.sh", true},
		{"source sub/trap.sh", true},
		{"printf 'trap x DEBUG' > new.sh; source new.sh", true},
		{"source /dev/stdin <<< 'echo hi'", true},
		{". /dev/fd/0 <<< 'echo hi'", true},
		{"echo hi | bash /dev/stdin", true},
		{"echo hi | sh -", true},

		{"source activate.sh", false},
		{"source missing.sh", false},
		{"bash trap.sh", false},
		{"source /etc/profile", false},
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			t.Parallel()
			r, _ := New().Rate(context.Background(), Request{Command: tc.cmd, Cwd: proj, Project: proj, Home: "/home/dev", Gated: true})
			if got := hasRule(r, ruleSessionGate.ID); got != tc.held {
				t.Errorf("session.gate: %v, want %v (findings %v)", got, tc.held, r.Findings)
			}
		})
	}
}

// TestGatePrompt: a prompt is the gate's only where showing it could run
// something; the plain prompts agents set (SWE-agent's) are not held.
func TestGatePrompt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cmd  string
		held bool
	}{
		{"export PS1='SHELLPS1PREFIX'", false},
		{"export PS2=''", false},
		{"PS1='(venv) \\u@\\h:\\w\\$ '", true}, // \$ is a $: held, as the rule cannot tell
		{"PS1='> '", false},
		{"PS1='$(curl x)'", true},
		{`PS1="$(date) > "`, true},
		{"PS1='`id`'", true},
		{`export PS1="$X"`, true},
		{"declare PS4='+ '", false},
		{"PS0=", true},
		{"export PROMPT_COMMAND=x", true},
		{"unset PS1", true},
		{"HISTCONTROL=ignorespace", true},
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			t.Parallel()
			req := testReq(tc.cmd)
			req.Gated = true
			r, _ := New().Rate(context.Background(), req)
			if got := hasRule(r, ruleSessionGate.ID); got != tc.held {
				t.Errorf("session.gate: %v, want %v (findings %v)", got, tc.held, rules(r))
			}
		})
	}
}

// rateGated rates cmd as a statement of a chaperone session (Gated), and
// as a line typed at a terminal session when typed.
func rateGated(t *testing.T, cmd string, typed bool) models.Rating {
	t.Helper()
	req := testReq(cmd)
	req.Gated = true
	r, facts := New().Rate(context.Background(), req)
	if typed {
		r = TypedLine(r, facts)
	}
	return r
}

// What would take the gate's place, or go around it, is held in every
// session; what is fine in a session stays as it was.
func TestGateSession(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cmd  string
		held bool
	}{
		{"trap - DEBUG", true},
		{"printf() { builtin printf \"$@\"; }", true}, // the gate writes its questions with printf
		{"read() { :; }", true},
		{"command_not_found_handle() { cat $k; }", true}, // runs for any name that is no command
		{"command_not_found_handler() { :; }", false},    // zsh's, not bash's
		{"/bin/ls() { cat $k; }", true},                  // stands in for a program run by its path
		{"a+b() { :; }", true},
		{"run-tests.sh() { :; }", false},
		{"hash -p /bin/cat ls", true}, // ls runs cat from now on
		{"hash -rp /bin/rm ls", true},
		{"./build.sh() { :; }", true},
		{"hash -r", false},
		{"cd() { builtin cd \"$@\" && ls; }", true},
		{"kill() { :; }", true},
		{"mapfile -C 'trap - DEBUG' -c 1 lines < notes.txt", true},
		{"readarray -tC cb arr < notes.txt", true},
		{"myfn() { echo hi; }", false},
		{"mapfile -t lines < notes.txt", false},
		{"printf '%s\\n' hi", false},
		{"source .venv/bin/activate", false}, // a statement of a session on a pipe: as -c rates it
		{"python3", false},                   // its stdin is /dev/null there
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			t.Parallel()
			r := rateGated(t, tt.cmd, false)
			if got := hasRule(r, ruleSessionGate.ID); got != tt.held || (got && r.Risk != models.High) {
				t.Errorf("%q rated %s %v; want session.gate held: %v", tt.cmd, r.Risk, rules(r), tt.held)
			}
		})
	}
}

// A line typed at a terminal session is held when it sources a file into
// the gate's own bash, or hands the terminal to a program that runs what
// is typed to it.
func TestTypedLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cmd  string
		held bool
	}{
		// A project file sourced is rated by what it holds (gateSourced),
		// as in a statement session, not held for being sourced.
		{"source .venv/bin/activate", false},
		{". ./env.sh", false},
		{"builtin source x.sh", true},
		{"cd sub && . ../env.sh", false},
		{"sh", true},
		{"bash -i", true},
		{"python3", true},
		{"python3 -i tool.py", true},
		{"node", true},
		{"perl", true},
		{"sqlite3 app.db", true},
		{"psql mydb", true},
		{"vim notes.txt", true},
		{"nano notes.txt", true},
		{"xargs sh -c", true},
		{"xargs -I{} sh -c '{}'", true},
		{"awk '{system($0)}'", true},
		{"sed e", true},
		{"perl -ne 'system $_'", true},
		{"python3 -c 'import os; os.system(input())'", true},
		{"ls | xargs rm", false},
		{"xargs -a list.txt echo", false},
		{"awk '{print $1}' notes.txt", false},
		{"awk '{print}'", false},
		{"sed 's/a/b/' notes.txt", false},
		{"python3 tool.py", false},
		{"python3 -c 'print(1)'", false},
		{"python3 < tool.py", false},
		{"node -e 'console.log(1)'", false},
		{"sqlite3 app.db 'select 1'", false},
		{"psql -c 'select 1' mydb", false},
		{"bash build.sh", false},
		{"ls -la", false},
		{"echo source", false},
		{"echo $$ $HOME", false},
		{"kill -0 $$", false},
		{"git status && go test ./...", false},
		{"sed -i 's/a/b/' notes.txt", false},
		{"echo hi | sed 's/h/j/'", false},
		{"find . -name '*.go' | xargs grep -n TODO", false},
		{"xargs -n1 echo < list.txt", false},
		{"python3 -m pytest -q", false},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			t.Parallel()
			r := rateGated(t, tt.cmd, true)
			if got := hasRule(r, ruleSessionGate.ID); got != tt.held || (got && r.Risk != models.High) {
				t.Errorf("%q rated %s %v; want session.gate held: %v", tt.cmd, r.Risk, rules(r), tt.held)
			}
		})
	}
}
