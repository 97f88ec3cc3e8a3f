package sandbox

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestProtect(t *testing.T) {
	proj := t.TempDir()
	for _, d := range []string{".git/info", ".git/objects/info", ".git/refs", ".git/modules/lib/hooks", ".git/modules/group/inner",
		".claude", ".husky", "conf/claude", "src"} {
		os.MkdirAll(filepath.Join(proj, d), 0o755)
	}
	files := map[string]string{
		".git/config":                   "[core]\n\thooksPath = .husky\n[remote \"origin\"]\n\turl = x\n",
		".git/HEAD":                     "ref: refs/heads/main\n",
		".git/objects/info/alternates":  "/elsewhere/objects\n",
		".git/modules/lib/config":       "[core]\n",
		".git/modules/lib/HEAD":         "x\n",
		".git/modules/group/inner/HEAD": "x\n",
		".mcp.json":                     "{}",
		"conf/claude/settings.json":     "{}",
	}
	for f, c := range files {
		os.WriteFile(filepath.Join(proj, f), []byte(c), 0o644)
	}
	os.Symlink("conf/claude", filepath.Join(proj, ".gemini")) // a link inside the project
	os.Symlink("/nonexistent", filepath.Join(proj, ".envrc"))

	g := Protect(proj, []string{"Makefile.local", "../outside", "/abs"}, false)
	rel := func(ps []string) []string {
		var out []string
		for _, p := range ps {
			out = append(out, strings.TrimPrefix(p, proj+"/"))
		}
		return out
	}
	// Every folder between the project and what is read-only is pinned
	// too (conf holds where .gemini leads; objects/info holds alternates).
	wantPinned := []string{"conf", ".git", ".git/objects", ".git/modules", ".git/objects/info", ".git/modules/group", ".git/modules/lib",
		".git/modules/group/inner"}
	if got := rel(g.Pinned); !slices.Equal(got, wantPinned) {
		t.Errorf("Pinned = %q, want %q", got, wantPinned)
	}
	ro := rel(g.ReadOnly)
	for _, want := range []string{".git/config", ".git/hooks", ".git/info", ".git/objects/info/alternates", ".husky",
		".git/modules/lib/config", ".git/modules/lib/hooks", ".git/modules/group/inner/hooks", ".claude", ".mcp.json", "conf/claude"} {
		if !slices.Contains(ro, want) {
			t.Errorf("%s is not read-only; ReadOnly = %q", want, ro)
		}
	}
	for _, not := range []string{".git/HEAD", ".git/refs", ".git/objects", "src", "../outside", "/abs", ".envrc"} {
		if slices.Contains(ro, not) {
			t.Errorf("%s should stay writable (or is no path of the project)", not)
		}
	}
	// Depth order: a mount never comes before one that contains it.
	for i, p := range g.ReadOnly {
		for _, q := range g.ReadOnly[i+1:] {
			if within(p, q) && p != q {
				t.Errorf("%s comes before %s, which contains it", p, q)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(proj, ".git", "hooks")); err != nil {
		t.Error("no hooks folder made, so one could be planted")
	}

	open := Protect(proj, nil, true)
	if want := []string{".git", ".git/modules", ".git/modules/group", ".git/modules/lib", ".git/modules/group/inner"}; !slices.Equal(rel(open.Pinned), want) {
		t.Errorf("an approved write unpinned .git: %q", open.Pinned)
	}
	if len(open.ReadOnly) != 0 {
		t.Errorf("an approved write still has read-only paths: %q", open.ReadOnly)
	}

	t.Run("git file", func(t *testing.T) {
		wt := t.TempDir()
		os.MkdirAll(filepath.Join(wt, "gitdata", "hooks"), 0o755)
		os.WriteFile(filepath.Join(wt, "gitdata", "config"), []byte("[core]\n"), 0o644)
		os.WriteFile(filepath.Join(wt, ".git"), []byte("gitdir: gitdata\n"), 0o644)
		g := Protect(wt, nil, true)
		if !slices.Equal(rel2(wt, g.Pinned), []string{"gitdata"}) || !slices.Contains(rel2(wt, g.ReadOnly), ".git") {
			t.Errorf("Pinned %q ReadOnly %q", g.Pinned, g.ReadOnly)
		}
	})
}

func rel2(root string, ps []string) []string {
	var out []string
	for _, p := range ps {
		out = append(out, strings.TrimPrefix(p, root+"/"))
	}
	return out
}

func TestSweep(t *testing.T) {
	proj, quarantine := t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(proj, ".git"), 0o755)
	os.MkdirAll(filepath.Join(proj, ".idea"), 0o755)
	os.Symlink("conf/envrc", filepath.Join(proj, ".envrc"))
	os.Symlink("conf/mcp.json", filepath.Join(proj, ".mcp.json"))
	w, err := WatchTop(proj, []string{"local.sh"})
	if err != nil {
		t.Fatal(err)
	}

	// What a command did: created .vscode/tasks.json and .claude as a
	// link, relinked .envrc, removed the .mcp.json link, made local.sh (a
	// user-protected name), wrote to an ordinary file.
	os.MkdirAll(filepath.Join(proj, ".vscode"), 0o755)
	os.WriteFile(filepath.Join(proj, ".vscode", "tasks.json"), []byte(`{"runOn":"folderOpen"}`), 0o644)
	os.Symlink("/tmp", filepath.Join(proj, ".claude"))
	os.Remove(filepath.Join(proj, ".envrc"))
	os.Symlink("evil", filepath.Join(proj, ".envrc"))
	os.Remove(filepath.Join(proj, ".mcp.json"))
	os.WriteFile(filepath.Join(proj, "local.sh"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(proj, "main.go"), []byte("package main"), 0o644)

	moved, dest, err := w.Sweep(quarantine)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(moved)
	if want := []string{".claude", ".envrc", ".vscode", "local.sh"}; !slices.Equal(moved, want) {
		t.Errorf("moved %q, want %q", moved, want)
	}
	if b, err := os.ReadFile(filepath.Join(dest, ".vscode", "tasks.json")); err != nil || !strings.Contains(string(b), "folderOpen") {
		t.Errorf("the quarantined file lost its content: %q, %v", b, err)
	}
	for _, gone := range []string{".vscode", ".claude", "local.sh"} {
		if _, err := os.Lstat(filepath.Join(proj, gone)); err == nil {
			t.Errorf("%s is still in the project", gone)
		}
	}
	for name, want := range map[string]string{".envrc": "conf/envrc", ".mcp.json": "conf/mcp.json"} {
		if got, _ := os.Readlink(filepath.Join(proj, name)); got != want {
			t.Errorf("%s links to %q, want it put back to %q", name, got, want)
		}
	}
	for _, kept := range []string{".git", ".idea", "main.go"} {
		if _, err := os.Lstat(filepath.Join(proj, kept)); err != nil {
			t.Errorf("%s was touched", kept)
		}
	}
	var nothing *Watch
	if m, _, err := nothing.Sweep(quarantine); m != nil || err != nil {
		t.Error("a nil watch swept")
	}
}
