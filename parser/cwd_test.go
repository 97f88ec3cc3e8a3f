package parser

import (
	"cmp"
	"strings"
	"testing"
)

// TestParseWhere checks the folder each command runs in: want maps a
// command's span to its Dir, entries joined with "|" ("?" for one only
// known at run time).
func TestParseWhere(t *testing.T) {
	t.Parallel()
	cases := []struct {
		src  string
		want map[string]string
	}{
		{"cat shadow", map[string]string{"cat shadow": "."}},
		{"cd /etc; cat shadow", map[string]string{"cd /etc": ".", "cat shadow": "/etc"}},
		{"cd /etc && cat shadow", map[string]string{"cat shadow": "/etc"}},
		{"cd sub && cat notes.txt", map[string]string{"cat notes.txt": "sub"}},
		{"cd ../..; cat .ssh/id_rsa", map[string]string{"cat .ssh/id_rsa": "../.."}},
		{"cd /; cd etc; cd ../tmp; ls", map[string]string{"ls": "/tmp"}},
		{"cd ~/.ssh && cat id_rsa", map[string]string{"cat id_rsa": "/home/dev/.ssh"}},
		{"cd ~root; ls", map[string]string{"ls": "/root"}},
		{"cd; ls", map[string]string{"ls": "/home/dev"}},
		{"cd -P /etc; ls", map[string]string{"ls": "/etc"}},
		{"cd -L -- /etc; ls", map[string]string{"ls": "/etc"}},
		{"cd -x /etc; ls", map[string]string{"ls": "."}},
		{"cd ''; ls", map[string]string{"ls": "."}},
		{"cd /etc x; ls", map[string]string{"ls": ".|/etc"}},
		{"builtin cd /etc; command cd /tmp; ls", map[string]string{"command cd /tmp": "/etc", "ls": "/tmp"}},
		{"sudo cd /etc; ls", map[string]string{"ls": "."}},
		{"CDPATH=/:/usr; cd etc; ls", map[string]string{"ls": "/etc|/usr/etc|etc"}},
		{"CDPATH=/; cd ./etc; ls", map[string]string{"ls": "etc"}},
		{`cd "$X"; cat shadow`, map[string]string{"cat shadow": "?"}},
		{`cd "$X"; cd /etc; ls`, map[string]string{"ls": "/etc"}},
		{`cd $(git rev-parse --show-toplevel) && ls`, map[string]string{"ls": "?"}},
		{"cd /e*; ls", map[string]string{"ls": "?"}},
		{"cd -; ls", map[string]string{"ls": "?"}},
		{"cd /etc; cd /tmp; cd -; ls", map[string]string{"ls": "/etc"}},
		{"cd /etc; cd -; ls", map[string]string{"ls": "."}},
		{"pushd /etc; ls; popd; cat x", map[string]string{"ls": "/etc", "cat x": "."}},
		{"pushd -n /etc; ls", map[string]string{"ls": "."}},
		{"pushd /etc; pushd; ls", map[string]string{"ls": "."}},
		{"pushd +1; ls", map[string]string{"ls": "?"}},
		{"popd; ls", map[string]string{"ls": "?"}},
		// Subshells keep their cd.
		{"( cd /etc; cat shadow ); ls", map[string]string{"cat shadow": "/etc", "ls": "."}},
		{"cd /etc | cat shadow; ls", map[string]string{"cat shadow": ".", "ls": "."}},
		{"cd /etc & ls", map[string]string{"ls": "."}},
		{"x=$(cd /etc && pwd); ls", map[string]string{"pwd": "/etc", "ls": "."}},
		{"bash -c 'cd /etc; cat shadow'; ls", map[string]string{"cat shadow": "/etc", "ls": "."}},
		{"ssh h 'cd /etc; cat shadow'; cd /tmp; ssh h cat x", map[string]string{"cat shadow": "/etc", "cat x": "."}},
		{"eval cd /etc; ls", map[string]string{"ls": "/etc"}},
		{"f() { cd /etc; ls; }; pwd; f; cat x", map[string]string{"pwd": ".", "cat x": "/etc"}},
		// The current shell's compound commands.
		{"{ cd /etc; }; ls", map[string]string{"ls": "/etc"}},
		{"test -d x && cd /etc; ls", map[string]string{"ls": "/etc|."}},
		{"cd /etc || exit 1; ls", map[string]string{"ls": "/etc"}},
		{"cd /etc && cd /tmp && ls; pwd", map[string]string{"ls": "/tmp", "pwd": "/tmp|/etc"}},
		{"if [ -d x ]; then cd /etc; elif y; then cd /tmp; fi; ls", map[string]string{"ls": ".|/etc|/tmp"}},
		{"if x; then cd /etc; else cd /tmp; fi; ls", map[string]string{"ls": ".|/etc|/tmp"}},
		{"case $x in a) cd /etc;; b) cd /tmp;& c) ls;; esac", map[string]string{"ls": "/tmp|."}},
		{"case $x in a) cd /etc;& b) ls;; esac; pwd", map[string]string{"ls": "/etc|.", "pwd": ".|/etc"}},
		{"for i in 1 2; do cat x; cd /etc; done; ls", map[string]string{"cat x": ".|?", "ls": "/etc|?|."}},
		{"for i in 1 2; do cd /etc; cat x; done; ls", map[string]string{"cat x": "/etc|?"}},
		{"while read d; do ls; done; pwd", map[string]string{"ls": ".", "pwd": "."}},
	}
	env := Env{Home: "/home/dev", Cwd: "/home/dev/proj"}
	for _, tc := range cases {
		f, dirs := ParseWhere(tc.src, env)
		if len(dirs) != len(f.Commands) {
			t.Errorf("%q: %d dirs for %d commands", tc.src, len(dirs), len(f.Commands))
			continue
		}
		got := map[string]string{}
		for i, c := range f.Commands {
			var ds []string
			for _, d := range dirs[i] {
				ds = append(ds, cmp.Or(d, "?"))
			}
			got[c.Span] = strings.Join(ds, "|")
		}
		for span, want := range tc.want {
			if g, ok := got[span]; !ok {
				t.Errorf("%q: no command %q in %v", tc.src, span, got)
			} else if g != want {
				t.Errorf("%q: %q runs in %q, want %q", tc.src, span, g, want)
			}
		}
	}
}

// TestParseWhereBounded: a text that may take very many ways keeps a
// bounded list of folders, with "only known at run time" among them.
func TestParseWhereBounded(t *testing.T) {
	src := strings.Repeat("test -d a && cd a; ", 40) + "ls"
	f, dirs := ParseWhere(src, Env{})
	d := dirs[len(f.Commands)-1]
	if len(d) > maxDirs {
		t.Fatalf("%d folders, want at most %d", len(d), maxDirs)
	}
	found := false
	for _, x := range d {
		found = found || x == ""
	}
	if !found {
		t.Errorf("folders past the bound are not marked unknown: %q", d)
	}
}
