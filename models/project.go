package models

import (
	"path"
	"strings"
	"sync"
)

// HostExecNames are the names in a project that tools on the host run, or
// read as settings that make them run something, outside any sandbox,
// relative to the project's top (a name may have a slash, and * as in
// path.Match within one part). The sandbox keeps them read-only; the rater
// rates a write to them high. (.git is handled on its own: see
// GitExecuted.)
var HostExecNames = []string{
	// chaperone's own project file; direnv's .envrc, and its .direnv
	// (layout python's virtualenv, cached nix shells) that it sources or
	// puts on PATH on cd.
	".chaperone.toml", ".envrc", ".direnv",
	// What an allowed .envrc runs in its turn: a local .envrc it sources
	// (source_env_if_exists), the nix shells of `use flake` / `use nix`
	// (their shellHook).
	".envrc.local", "flake.nix", "shell.nix",
	// The coding agents' project settings: hooks, MCP servers, permissions,
	// commands they run by themselves (aider's lint-cmd and test-cmd).
	".claude", ".mcp.json", ".codex", ".gemini", ".qwen", "opencode.json", "opencode.jsonc", ".opencode",
	".kilocode", ".continue", ".cursor", ".windsurf", ".roo", ".roomodes", ".clinerules", ".kiro", ".amazonq",
	".augment", "crush.json", ".crush.json", ".aider.conf.yml",
	// Editors' project settings: tasks run when the folder opens, language
	// servers and formatters by path, local vimrc and Emacs dir-locals,
	// dev containers.
	".vscode", "*.code-workspace", ".idea", ".fleet", ".zed", ".helix", ".nvim.lua", ".nvimrc", ".exrc", ".vimrc", ".gvimrc",
	".dir-locals.el", ".dir-locals-2.el", ".devcontainer", ".devcontainer.json",
	// Run by git on the host through hooks that call into the work tree:
	// husky, pre-commit, lefthook (its configs, local ones too, and script
	// folders), lint-staged, overcommit.
	".husky", ".pre-commit-config.yaml", ".pre-commit-config.yml", "lefthook*", ".lefthook*", ".config/lefthook*",
	".lintstagedrc*", "lint-staged.config.*", ".overcommit.yml", ".git-hooks", ".githooks",
	// Version managers and task runners that act on cd (mise's tasks,
	// hooks and env scripts; a path: version in .tool-versions).
	"mise.toml", "mise.*.toml", ".mise.toml", ".mise.*.toml", ".mise", ".config/mise", ".config/mise.toml",
	".config/mise.*.toml", ".tool-versions",
	// Package tools on the host before any script: npm's and yarn's
	// settings (script-shell, yarnPath), yarn's own program and plugins,
	// pnpm's hook file, cargo's (runner, rustc-wrapper).
	".npmrc", ".yarnrc", ".yarnrc.yml", ".yarn/releases", ".yarn/plugins", ".pnpmfile.cjs", ".pnpmfile.mjs", ".cargo",
}

// GitExecuted are the parts of a git folder that make git run programs or
// choose where it reads from: config, hooks, info, worktree links, the
// pointer files of a linked worktree, old-style remotes, submodules' git
// folders, object alternates, and the todo lists of a rebase or
// cherry-pick in progress (their exec lines run on --continue).
var GitExecuted = []string{"config", "config.worktree", "hooks", "info", "commondir", "gitdir", "worktrees",
	"remotes", "branches", "modules", "objects/info/alternates", "objects/info/http-alternates",
	"rebase-merge", "sequencer"}

// HostExecPath reports whether writing the path p (slash-separated,
// relative or absolute) changes what a host tool runs: a HostExecNames
// entry or anything in it, a .git folder itself or one of its GitExecuted
// parts, wherever in the path they are.
func HostExecPath(p string) bool {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	names := hostExecSplit()
	for i, part := range parts {
		for _, n := range names {
			if matchParts(n, parts[i:]) {
				return true
			}
		}
		if part != ".git" {
			continue
		}
		if i == len(parts)-1 {
			return true // .git itself: replaced, renamed, or a gitdir: file
		}
		rest := strings.Join(parts[i+1:], "/")
		for _, g := range GitExecuted {
			if rest == g || strings.HasPrefix(rest, g+"/") {
				return true
			}
		}
	}
	return false
}

// hostExecSplit is HostExecNames split at their slashes, made once (the
// list is not changed after start-up).
var hostExecSplit = sync.OnceValue(func() [][]string {
	out := make([][]string, len(HostExecNames))
	for i, n := range HostExecNames {
		out[i] = strings.Split(n, "/")
	}
	return out
})

// matchParts reports whether the parts of a name (path.Match patterns)
// match the first parts of a path.
func matchParts(name, parts []string) bool {
	if len(name) > len(parts) {
		return false
	}
	for i, n := range name {
		if !strings.ContainsAny(n, "*?[\\") {
			if n != parts[i] {
				return false
			}
			continue
		}
		if ok, _ := path.Match(n, parts[i]); !ok {
			return false
		}
	}
	return true
}
