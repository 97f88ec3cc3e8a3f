package sandbox

import (
	"io"
	"os"
)

// Job is one command to run: a bash script plus how bash is started.
type Job struct {
	// Script is the text given to `bash -c`.
	Script string
	// Args are $0, $1, … after the script (the `-c CMD arg0 arg1` form).
	Args []string
	// BashFlags are the options to pass to bash before -c, such as "-e",
	// "-x", "-o", "pipefail", "-l", "--noprofile".
	BashFlags []string
	// Dir is the working directory (same absolute path in every backend).
	Dir string
	// Env is the environment as given to chaperone; backends filter it.
	Env []string
	// Project is the project root (git top level, else cwd).
	Project string
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	// StdinFile etc. are the original *os.File stdio when available, so a
	// backend can hand them straight to the child (and detect terminals).
	StdinFile, StdoutFile, StderrFile *os.File
}
