package shim

import (
	"strings"
	"testing"
)

// FuzzUnwrap: no panic, and a recognised wrapper's inner command is text
// of the script (recognition never invents a command).
func FuzzUnwrap(f *testing.F) {
	f.Add(claudeForm(snap, "'ls'", "/tmp/claude-1-cwd"), 0)
	f.Add(geminiForm("ls"), 2)
	f.Add("eval 'ls'", 3)
	f.Add("exec '/bin/bash' -c 'ls'", 1)
	agents := []string{AgentClaude, AgentCodex, AgentGemini, AgentOpenCode, ""}
	f.Fuzz(func(t *testing.T, script string, a int) {
		if a < 0 {
			a = -a
		}
		agent := agents[a%len(agents)]
		w, ok := Unwrap(script, agent, Places{ClaudeDir: "/tmp/agent-run.EjuTur/home/.claude", CodexHome: "/h/.codex"})
		if !ok {
			return
		}
		if w.Kind != "claude-snapshot" && w.Kind != "codex-check" && w.Kind != "codex-snapshot" &&
			w.Kind != "eval" && w.Kind != "claude-eval" && w.Kind != "codex-exec" && !strings.Contains(script, w.Inner) {
			t.Errorf("inner %q is not in the script", w.Inner)
		}
	})
}

// FuzzParse: no panic, and the script of a -c invocation is one of the
// arguments, unchanged.
func FuzzParse(f *testing.F) {
	f.Add("-euo\x00pipefail\x00-c\x00ls")
	f.Add("--rcfile\x00x\x00-ilc\x00ls\x00a")
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Split(s, "\x00")
		inv, err := Parse(args)
		if err != nil || inv.Mode != ModeCommand {
			return
		}
		for _, a := range args {
			if a == inv.Script {
				return
			}
		}
		t.Errorf("script %q is none of %q", inv.Script, args)
	})
}
