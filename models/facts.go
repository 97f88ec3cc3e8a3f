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
}

// Word is one argv word, assignment value or redirection target.
type Word struct {
	// Lit is the word's value when it is fully literal after quote removal
	// (ANSI-C quoting and simple concatenations decoded), else the best
	// static approximation.
	Lit string `json:"lit"`
	// Dynamic is true when the value depends on expansions (variables,
	// command substitution, globs with unknown matches).
	Dynamic bool `json:"dynamic,omitempty"`
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
