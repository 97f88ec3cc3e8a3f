package rater

import (
	"context"
	"os"
	"path/filepath"
	"testing"
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
