package rater

import (
	"context"
	"testing"

	"github.com/chaperone-dev/chaperone/models"
)

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
		{"source .venv/bin/activate", true},
		{". ./env.sh", true},
		{"builtin source x.sh", true},
		{"cd sub && . ../env.sh", true},
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
