package models

// Facts is what the parser learned about a command string, statically,
// without running it. Owned by package parser; read by rater, audit and tui.
type Facts struct {
	// Commands lists every simple command wherever it sits (lists, pipelines,
	// subshells, substitutions, functions, and inside wrappers such as
	// sudo, bash -c or find -exec), in source order.
	Commands []Command `json:"commands"`
	// Opaque is true when some part could not be resolved statically
	// (a command name built from variables, eval of a substitution, text
	// that does not parse). Opaque commands are never rated Low.
	Opaque        bool     `json:"opaque,omitempty"`
	OpaqueReasons []string `json:"opaque_reasons,omitempty"`
	// ParseError is set when the text is not valid bash.
	ParseError string `json:"parse_error,omitempty"`
	// Functions names the shell functions the text defines; their bodies'
	// commands are in Commands.
	Functions []string `json:"functions,omitempty"`
}

// Command is one simple command.
type Command struct {
	Argv    []Word   `json:"argv"`
	Assigns []Assign `json:"assigns,omitempty"`
	Redirs  []Redir  `json:"redirs,omitempty"`
	// Via lists the wrappers this command was found inside, outermost first
	// ("sudo", "bash -c", "xargs", "find -exec", "ssh", "python -c" …).
	Via []string `json:"via,omitempty"`
	// PipeFrom is the index in Facts.Commands of the command whose stdout
	// feeds this one's stdin through a pipe, or -1.
	PipeFrom int `json:"pipe_from"`
	// Background is true for `cmd &`.
	Background bool `json:"background,omitempty"`
	// Span is the command's text in the source.
	Span string `json:"span,omitempty"`
	// Stdin is where the command's standard input comes from when it is
	// not inherited: "pipe" (see PipeFrom), "file", "heredoc", "subst"
	// (a process substitution) or "".
	Stdin string `json:"stdin,omitempty"`
	// Wrapper is set when this command runs another command that is listed
	// on its own (sudo, xargs, bash -c, find -exec …): it names the wrapper.
	Wrapper string `json:"wrapper,omitempty"`
	// Depth is how deeply the command is nested in substitutions and
	// wrappers (0 for a top-level command).
	Depth int `json:"depth,omitempty"`
}

// Name returns the base name of the program the command runs ("rm" for
// "/bin/rm"), or "" when there is no literal command name.
func (c *Command) Name() string {
	if len(c.Argv) == 0 || c.Argv[0].Dynamic {
		return ""
	}
	n := c.Argv[0].Lit
	for i := len(n) - 1; i >= 0; i-- {
		if n[i] == '/' {
			return n[i+1:]
		}
	}
	return n
}

// Word is one argv word, assignment value or redirection target.
type Word struct {
	// Lit is the word's value when it is fully literal after quote removal
	// (ANSI-C quoting and simple concatenations decoded), else the best
	// static approximation.
	Lit string `json:"lit"`
	// Dynamic is true when the value depends on expansions (variables,
	// command substitution, globs with unknown matches). A variable that
	// the same text assigned a literal value on a path that always runs
	// (X=rm; $X …) is resolved to that value and does not count.
	Dynamic bool `json:"dynamic,omitempty"`
	// Glob is true when the word has unquoted glob characters (* ? [).
	Glob bool `json:"glob,omitempty"`
	// Subst lists the indexes in Facts.Commands of the commands run inside
	// command or process substitutions in this word.
	Subst []int `json:"subst,omitempty"`
	// ProcSubst is true when the word is (or contains) a process
	// substitution such as <(curl …).
	ProcSubst bool `json:"proc_subst,omitempty"`
	// Assembled is true when the value is put together in a way that
	// hides what it is: a substring, replacement, case change or
	// indirection of a variable, arithmetic, IFS splitting, a brace
	// expansion, escapes in $'…', text built by $(echo …)/$(printf …),
	// or several expansions glued into one name ($a$b). A program name
	// so built is obfuscation, whether or not its value is known.
	Assembled bool `json:"assembled,omitempty"`
}

// Assign is a variable assignment (`FOO=bar cmd` or `export FOO=bar`).
type Assign struct {
	Name  string `json:"name"`
	Value Word   `json:"value"`
}

// Redir is a redirection, such as `> file` or `< /dev/tcp/host/port`.
type Redir struct {
	Op     string `json:"op"` // ">", ">>", "<", ">|", "&>", "<<", "<<<", …
	Fd     string `json:"fd,omitempty"`
	Target Word   `json:"target"`
}
