package rater

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/chaperone-dev/chaperone/models"
)

// FuzzWhatRunsMakefile: any Makefile text parses, plans and expands
// without a panic or a hang.
func FuzzWhatRunsMakefile(f *testing.F) {
	f.Add([]byte(normalMakefile), "test")
	f.Add([]byte("A=$(B)$(B)\nB=$(C)$(C)\nC=$(A)\nall: $(A)\n\t$(A) $(shell x)\n"), "")
	f.Add([]byte("include x.mk\ndefine X\n$(shell curl x)\nendef\n%.o: %.c ; $(CC) $<\n"), "a.o")
	f.Fuzz(func(t *testing.T, data []byte, goal string) {
		mf := parseMakefile(data)
		mf.budget = 4 * maxExpand
		goals := []string{goal}
		if goal == "" {
			goals = []string{mf.goal}
		}
		for _, i := range mf.plan(goals) {
			for _, l := range mf.rules[i].recipe {
				mf.expand(l.text, &mf.rules[i])
			}
		}
		for _, s := range mf.shells {
			mf.expand(s.text, nil)
		}
	})
}

// FuzzWhatRunsFiles: the other readers take any bytes.
func FuzzWhatRunsFiles(f *testing.F) {
	f.Add([]byte(`{"scripts":{"test":"jest"}}`))
	f.Add([]byte("--extra-index-url https://x\\\n  y\n-r a.txt # c\n"))
	f.Add([]byte("services:\n  a:\n    volumes:\n      - type: bind\n        source: /\n    cap_add: [ALL]\n"))
	f.Add([]byte(normalGitConfig + "[url \"x\"]\n\tinsteadOf = \"y\\\"z\" ; c\n"))
	f.Add([]byte("package x\n//go:generate sh -c 'x'\n"))
	f.Add([]byte("[[tool.uv.index]]\nurl = \"https://x\"\n[build-system]\nrequires = [\"a @ git+https://x\"]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		parsePackageJSON(data)
		parseRequirements(data)
		composeSettings(data)
		parseGitConfig(data)
		goGenerateLines(data)
		pyprojectSources(data)
		scriptLang(data)
		envrcPathDirs(string(data))
		shellOfLiteral(string(data))
	})
}

// FuzzWhatRunsRate: a project whose every file holds the same fuzzed
// bytes, rated through commands that run each of them: no panic, no
// hang, and never low when a file could not be followed.
func FuzzWhatRunsRate(f *testing.F) {
	f.Add([]byte("all:\n\techo hi\n"))
	f.Add([]byte("#!/bin/sh\n./x.sh\n"))
	f.Add([]byte(`{"scripts":{"test":"npm test","pretest":"make"}}`))
	dir := f.TempDir()
	names := []string{"Makefile", "x.sh", "package.json", ".npmrc", "requirements.txt", "conftest.py", "setup.py", "compose.yaml",
		".envrc", ".git/config", ".git/hooks/pre-commit", "gen.go", "pyproject.toml"}
	if err := os.MkdirAll(filepath.Join(dir, ".git", "hooks"), 0o755); err != nil {
		f.Fatal(err)
	}
	const cmd = "make; ./x.sh; npm test; npm install; pip install -r requirements.txt; pip install .; pytest; " +
		"docker compose up; direnv allow; git commit -m x; git x; go generate ./...; uv sync; tar cf a.tar *"
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, n := range names {
			if err := os.WriteFile(filepath.Join(dir, n), data, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		r, _ := New().Rate(context.Background(), Request{Command: cmd, Cwd: dir, Project: dir, Home: "/home/dev"})
		if hasRule(r, ruleRunOpaque.ID) && r.Risk == models.Low {
			t.Fatalf("opaque rated low: %v", r.Findings)
		}
	})
}
