package parser

import "strconv"

// Agent names, as DetectAgent returns them.
const (
	AgentClaude   = "claude"
	AgentCodex    = "codex"
	AgentOpenCode = "opencode"
	AgentGemini   = "gemini"
)

// DetectAgent names the coding agent that started this process, from the
// variables each agent sets in its shell's environment, or "" when none
// is recognised. getenv is usually os.Getenv.
func DetectAgent(getenv func(string) string) string {
	switch {
	case getenv("CLAUDECODE") != "" || getenv("CLAUDE_CODE_SESSION_ID") != "":
		return AgentClaude
	case getenv("CODEX_THREAD_ID") != "" || getenv("CODEX_SESSION_ID") != "" || getenv("CODEX_CI") != "" ||
		getenv("CODEX_TOOL_CALL_ID") != "" || getenv("CODEX_MANAGED_BY_NPM") != "" || getenv("CODEX_HOME") != "":
		return AgentCodex
	case getenv("OPENCODE") != "" || getenv("OPENCODE_PID") != "":
		return AgentOpenCode
	case getenv("GEMINI_CLI") != "":
		return AgentGemini
	}
	return ""
}

// DetectSession identifies the agent session a command belongs to:
// $CHAPERONE_SESSION when set, else the agent's own session variable
// (prefixed with the agent's name), else "ppid-<parent pid>" (ppid is
// usually os.Getppid()).
func DetectSession(getenv func(string) string, ppid int) string {
	if s := getenv("CHAPERONE_SESSION"); s != "" {
		return s
	}
	for _, v := range []struct{ agent, name string }{
		{AgentClaude, "CLAUDE_CODE_SESSION_ID"},
		{AgentCodex, "CODEX_THREAD_ID"},
		{AgentCodex, "CODEX_SESSION_ID"},
		{AgentOpenCode, "OPENCODE_PID"},
		{AgentClaude, "CLAUDE_PID"},
	} {
		if s := getenv(v.name); s != "" {
			return v.agent + "-" + s
		}
	}
	return "ppid-" + strconv.Itoa(ppid)
}
