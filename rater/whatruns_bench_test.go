package rater

import (
	"context"
	"testing"
)

// benchRunsIn rates cmd in a project made of files; compare with the
// same command in an empty folder for the cost of reading what it runs.
func benchRunsIn(b *testing.B, files map[string]string, cmd string) {
	dir := makeProject(b, files)
	r := New()
	req := Request{Command: cmd, Cwd: dir, Project: dir, Home: "/home/dev"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		r.Rate(ctx, req)
	}
}

// BenchmarkWhatRunsNone is a command that runs no project file, in a
// project that has them: the cost must stay that of rating the text.
func BenchmarkWhatRunsNone(b *testing.B) {
	benchRunsIn(b, map[string]string{"Makefile": normalMakefile}, typical)
}

func BenchmarkWhatRunsMake(b *testing.B) {
	benchRunsIn(b, map[string]string{"Makefile": normalMakefile}, "make test")
}

func BenchmarkWhatRunsMakeEmpty(b *testing.B) { benchRunsIn(b, nil, "make test") }

func BenchmarkWhatRunsNpm(b *testing.B) {
	benchRunsIn(b, map[string]string{"package.json": `{"scripts":{"pretest":"tsc -p .","test":"jest --ci","posttest":"eslint ."}}`, ".npmrc": "save-exact=true\n"}, "npm test")
}

func BenchmarkWhatRunsScript(b *testing.B) {
	benchRunsIn(b, map[string]string{"scripts/build.sh": "#!/bin/sh\nset -e\ngo vet ./...\ngo build -o bin/app ./cmd/app\ngo test ./...\n"}, "./scripts/build.sh")
}

func BenchmarkWhatRunsGit(b *testing.B) {
	benchRunsIn(b, map[string]string{".git/config": normalGitConfig}, "git status")
}

func BenchmarkWhatRunsPytest(b *testing.B) {
	benchRunsIn(b, map[string]string{"conftest.py": normalConftest, "tests/test_a.py": "def test_a(): pass\n", "tests/unit/test_b.py": "def test_b(): pass\n"}, "pytest -q")
}
