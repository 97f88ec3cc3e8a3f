package models

import "strings"

// HostExecNames are the names at a project's top that tools on the host
// run, or read as settings that make them run something, outside any
// sandbox: direnv's .envrc, the coding agents' and editors' project
// settings (hooks, tasks, MCP servers, environment blocks), dev containers,
// chaperone's own project file. The sandbox keeps them read-only; the
// rater rates a write to them high. (.git is handled on its own: see
// GitExecuted.)
var HostExecNames = []string{
	".chaperone.toml", ".envrc", ".claude", ".codex", ".gemini", ".qwen", ".vscode", ".idea",
	".devcontainer", ".mcp.json", "opencode.json", ".opencode", ".kilocode", ".continue",
	// Run by git on the host through hooks that call into the work tree
	// (husky, pre-commit), or by package tools on the host before any
	// script: npm's and yarn's settings (script-shell, yarnPath), pnpm's
	// hook file, cargo's (runner, rustc-wrapper).
	".husky", ".pre-commit-config.yaml", ".npmrc", ".yarnrc", ".yarnrc.yml", ".pnpmfile.cjs", ".cargo",
}

// GitExecuted are the parts of a git folder that make git run programs or
// choose where it reads from: config, hooks, info, worktree links, the
// pointer files of a linked worktree, old-style remotes, submodules' git
// folders, object alternates.
var GitExecuted = []string{"config", "config.worktree", "hooks", "info", "commondir", "gitdir", "worktrees",
	"remotes", "branches", "modules", "objects/info/alternates", "objects/info/http-alternates"}

// HostExecPath reports whether writing the path p (slash-separated,
// relative or absolute) changes what a host tool runs: a HostExecNames
// entry or anything in it, a .git folder itself or one of its GitExecuted
// parts, wherever in the path they are.
func HostExecPath(p string) bool {
	parts := strings.Split(strings.Trim(p, "/"), "/")
	for i, part := range parts {
		for _, n := range HostExecNames {
			if part == n {
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
