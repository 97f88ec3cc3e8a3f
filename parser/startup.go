package parser

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// The agents' own start-up scripts. They must come out low, as they run
// before any command and a warning there is noise; they are recognised
// exactly, and what is left after taking out the agent's own parts is
// rated as usual (Wrapper.Inner).

// knownScripts are start-up scripts recognised by their exact text (no
// part varies): the SHA-256 of the text and the agent's form.
var knownScripts = map[string]string{
	// Codex 0.171.0 `-lc` snapshot: sources ~/.bashrc when BASH_ENV is
	// unset (as an interactive bash would), then prints shopt, functions,
	// set -o, aliases and exported variables. The rules cannot see through
	// its helper function (__codex_snapshot_command "$@"), hence the hash.
	"6414b5f0a9e24341a4f2215ad77a0ae9b1871bcfa1dfff48260df5e29f4f8638": "codex-snapshot",
}

// knownScript recognises a start-up script by its exact text.
func knownScript(src, agent string) *Wrapper {
	sum := sha256.Sum256([]byte(src))
	kind, ok := knownScripts[hex.EncodeToString(sum[:])]
	if !ok || !strings.HasPrefix(kind, agent+"-") {
		return nil
	}
	return &Wrapper{Agent: agent, Kind: kind}
}

// codexCheck recognises Codex's snapshot check:
//
//	set -e; . "$CODEX_HOME/shell_snapshots/<id>.tmp-<n>"
func codexCheck(f *syntax.File, pl Places) *Wrapper {
	if len(f.Stmts) != 2 || pl.CodexHome == "" {
		return nil
	}
	a, ok := callLits(f.Stmts[0])
	b, ok2 := callLits(f.Stmts[1])
	if !ok || !ok2 || strings.Join(a, " ") != "set -e" || len(b) != 2 || (b[0] != "." && b[0] != "source") ||
		!inDir(b[1], filepath.Join(pl.CodexHome, "shell_snapshots")) {
		return nil
	}
	for _, s := range f.Stmts {
		if !plainStmt(s) || len(s.Redirs) > 0 {
			return nil
		}
	}
	return &Wrapper{Agent: AgentCodex, Kind: "codex-check", Inner: "set -e", Inputs: []string{b[1]}}
}

// claudeSnapshot recognises Claude Code's start-up snapshot script
// (`-c -l 'SNAPSHOT_FILE=… …'`): it sets SNAPSHOT_FILE to a file in its
// own shell-snapshots folder, writes the shell's state there, and checks
// the file exists. Its writes into that file are the agent's own and are
// taken out (the redirections only); every command stays in Inner and is
// rated — echo, cat of a here-document, shopt -p, declare -f, sourcing the
// user's rc file. SNAPSHOT_FILE must be set once, by the first statement,
// and used only as "$SNAPSHOT_FILE", so no write can go elsewhere.
func claudeSnapshot(src string, f *syntax.File, pl Places) *Wrapper {
	if len(f.Stmts) < 2 || pl.ClaudeDir == "" {
		return nil
	}
	c, ok := f.Stmts[0].Cmd.(*syntax.CallExpr)
	if !ok || !plainStmt(f.Stmts[0]) || len(f.Stmts[0].Redirs) > 0 || len(c.Args) != 0 || len(c.Assigns) != 1 ||
		c.Assigns[0].Name == nil || c.Assigns[0].Name.Value != "SNAPSHOT_FILE" {
		return nil
	}
	path, ok := lit(c.Assigns[0].Value)
	if !ok || !inDir(path, filepath.Join(pl.ClaudeDir, "shell-snapshots")) || !strings.HasPrefix(filepath.Base(path), "snapshot-") {
		return nil
	}
	uses, writes := 0, 0
	syntax.Walk(f, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.ParamExp:
			if n.Param != nil && n.Param.Value == "SNAPSHOT_FILE" {
				uses++
			}
		case *syntax.Stmt:
			kept := n.Redirs[:0]
			for _, r := range n.Redirs {
				if r.N == nil && (r.Op == syntax.AppOut || r.Op == syntax.ClbOut || r.Op == syntax.RdrOut) && isSnapshotVar(r.Word) {
					writes++
					continue
				}
				kept = append(kept, r)
			}
			n.Redirs = kept
		}
		return true
	})
	// Every mention is the first assignment or a plain expansion.
	if writes == 0 || strings.Count(src, "SNAPSHOT_FILE") != uses+writes+1 { // a removed redirection held one use
		return nil
	}
	var b strings.Builder
	if err := syntax.NewPrinter().Print(&b, f); err != nil {
		return nil
	}
	return &Wrapper{Agent: AgentClaude, Kind: "claude-snapshot", Inner: b.String(), Outputs: []string{path}}
}

// isSnapshotVar is the word "$SNAPSHOT_FILE" (double-quoted, plain).
func isSnapshotVar(w *syntax.Word) bool {
	if w == nil || len(w.Parts) != 1 {
		return false
	}
	dq, ok := w.Parts[0].(*syntax.DblQuoted)
	if !ok || len(dq.Parts) != 1 {
		return false
	}
	pe, ok := dq.Parts[0].(*syntax.ParamExp)
	return ok && pe.Param.Value == "SNAPSHOT_FILE" && pe.Exp == nil && pe.Repl == nil && pe.Index == nil &&
		!pe.Excl && !pe.Length && !pe.Width && pe.Slice == nil
}
