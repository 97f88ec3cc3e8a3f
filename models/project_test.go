package models

import "testing"

func TestHostExecPath(t *testing.T) {
	for p, want := range map[string]bool{
		".envrc": true, "./.envrc": true, "/w/proj/.claude/settings.json": true, ".vscode/tasks.json": true,
		"sub/.idea/workspace.xml": true, ".git": true, ".git/config": true, ".git/hooks/pre-commit": true,
		".git/modules/lib/config": true, ".git/info/attributes": true, ".git/objects/info/alternates": true,
		"/w/p/.git/": true, "opencode.json": true, "lefthook.yml": true, "sub/.lefthook-local.yaml": true,
		".lintstagedrc.json": true, ".cursor/mcp.json": true, ".zed/settings.json": true, "mise.local.toml": true,
		".config/mise/config.toml": true, ".config/lefthook.yml": true, ".yarn/releases/yarn-4.cjs": true,
		"proj.code-workspace": true, ".git/rebase-merge/git-rebase-todo": true, ".git/sequencer/todo": true,
		".envrc.local": true, "flake.nix": true, "shell.nix": true, ".vimrc": true, ".githooks/pre-commit": true,
		".git/HEAD": false, ".git/refs/heads/main": false, ".git/index": false, ".git/objects/ab/cdef": false,
		"src/main.go": false, ".gitignore": false, ".github/workflows/ci.yml": false, "envrc": false, ".env": false,
		".config/nvim/init.lua": false, ".yarn/cache/x.zip": false, "src/mise.go": false, ".git/rebase-apply/patch": false,
	} {
		if got := HostExecPath(p); got != want {
			t.Errorf("HostExecPath(%q) = %v, want %v", p, got, want)
		}
	}
}
