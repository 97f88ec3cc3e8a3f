package rater

import (
	"context"
	"testing"
)

func TestMayUseNetwork(t *testing.T) {
	r := New()
	for _, c := range []struct {
		cmd string
		net bool
	}{
		{"ls -la", false}, {"cat README.md | grep -n foo", false}, {"echo hi > out.txt", false}, {"git status", false},
		{"git diff HEAD~1", false}, {"pwd; wc -l *.go", false}, {"mkdir -p a && cp x a/", false},
		{"npm install", true}, {"pip install requests", true}, {"curl https://example.org", true}, {"git fetch", true},
		{"git push origin main", true}, {"go build ./...", true}, {"make test", true}, {"./build.sh", true}, {"python3 x.py", true},
		{"bash -c 'ls'", true}, {"frobnicate --all", true}, {"$CMD", true}, {"f() { ls; }; f", true}, {"eval \"$X\"", true},
		{"ssh host true", true}, {"docker run x", true}, {"cargo build", true}, {"if [ -f x ]; then", true},
	} {
		_, facts := r.Rate(context.Background(), Request{Command: c.cmd, Cwd: "/home/u/proj", Project: "/home/u/proj", Home: "/home/u"})
		if got := MayUseNetwork(facts); got != c.net {
			t.Errorf("MayUseNetwork(%q) = %v, want %v", c.cmd, got, c.net)
		}
	}
}
