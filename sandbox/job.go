package sandbox

import (
	"io"
	"net"
	"os"
	"path/filepath"

	"github.com/chaperone-dev/chaperone/config"
)

// Job is one command to run: a bash script plus how bash is started.
// A backend only reads it; one Job is run once.
type Job struct {
	// Script is the text given to `bash -c`.
	Script string
	// Args are $0, $1, … after the script (the `-c CMD arg0 arg1` form).
	Args []string
	// BashFlags are the options to pass to bash before -c, such as "-e",
	// "-x", "-o", "pipefail", "-l", "--noprofile".
	BashFlags []string
	// Dir is the working directory (same absolute path in every backend).
	// Empty means the current directory.
	Dir string
	// Env is the environment as given to chaperone; backends filter it
	// through the allow-list (see Policy.Env). Nil means os.Environ().
	Env []string
	// Project is the project root: a git top level or a folder the person
	// trusted (see FindProject). Empty means FindProject(Dir). Backends
	// refuse a project that CheckProject refuses.
	Project string
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	// StdinFile etc. are the original *os.File stdio when available, so a
	// backend can hand them straight to the child (and detect terminals).
	// When StdinFile and StdoutFile are both terminals the command gets a
	// terminal too; otherwise it gets pipes.
	StdinFile, StdoutFile, StderrFile *os.File

	// Shell is the absolute path by which the agent started chaperone
	// (argv[0] made absolute, e.g. the login shell Codex re-executes by
	// path). Backends make a plain bash answer at that path inside the
	// sandbox. Empty: os.Args[0] when it is absolute.
	Shell string
	// Outputs are host files outside the working tree that the command
	// writes and the agent reads back afterwards (Claude Code's cwd file,
	// Gemini CLI's background-jobs file). Backends make them land on the
	// host. Those forms are also found in Script by themselves; list more
	// here.
	Outputs []string
	// Inputs are host files or directories outside the working tree that
	// the command must read (agent shell snapshots); backends show them
	// read-only. Claude Code's and Codex's snapshot folders are added by
	// themselves.
	Inputs []string
	// OpenGuarded is set when the person approved this command's write to
	// the files host tools run (see Protect): for this command only, they
	// are writable; .git stays pinned in place.
	OpenGuarded bool
	// Ready, when set, is called once before the command starts, and the
	// command waits for it to return: what must be in place when it runs
	// (the audit's watch of the tree, its output recording). A backend that
	// can start the sandbox first and hold the command at its door
	// (bubblewrap) calls it while the sandbox is being set up, so that the
	// two overlap. It is not called when the sandbox cannot be started.
	Ready func()

	// Egress serves the connections the command makes to the network
	// when the policy's network is "proxy" (the default): the backend
	// listens on a unix socket that only this job's sandbox sees, runs
	// the forwarder to it inside (see internal/egress), and hands each
	// connection to Egress, the egress proxy (package netproxy), which
	// must close it. Egress is called on its own goroutine per connection
	// until the job has ended. Nil: the command has no network.
	Egress func(net.Conn)

	// Killed, when not nil, is where the backend lists the processes it
	// had to kill because they were still there when the command ended
	// (background jobs, anything that detached), one "PID (comm) command
	// line" each (see internal/reaper). The backend only appends to it.
	// Docker and podman fill it; bubblewrap's jails end with their pid
	// namespace and report nothing.
	Killed *[]string

	// Control, when set, is called with a new private folder on the host
	// before the command starts; the job's bash sees that folder at the
	// path in its $CHAPERONE_CTL (ControlEnv), read-only (its FIFOs stay
	// writable); docker and podman run such a job in a container of its
	// own. chaperone's shell sessions keep their
	// private channel with the inner bash there (FIFOs it makes in
	// Control). The backend removes the folder once the job has ended.
	Control func(dir string) error
	// ControlOnFDs, with Control: the job's bash finds its channel open
	// on descriptors 3 and 4, a connection the sandbox's reaper made to
	// the socket "s" that Control left in the folder
	// (reaper.Setup.Channel), rather than opening FIFOs there itself: a
	// statement can reopen a FIFO its bash holds, never a socket. Not
	// for the host backend, which has no reaper.
	ControlOnFDs bool
	ctlDir       string // bubblewrap's: the control folder made for this run
	// bubblewrap's: the credential stores to blank, found again (masks)
	// where they are in its arguments (from masksAt, masksLen of them)
	masks             func() []string
	masksAt, masksLen int
	readied           bool // Ready has been called
}

// ready calls the job's Ready hook, if any, the first time only: a
// sandbox started again (bwrap's setup lost a race, see setupAttempts) is the
// same command.
func (j *Job) ready() {
	if j.Ready != nil && !j.readied {
		j.readied = true
		j.Ready()
	}
}

// env is the job's environment: Env, or os.Environ() when nil.
func (j *Job) env() []string {
	if j.Env == nil {
		return os.Environ()
	}
	return j.Env
}

// dirs returns the job's working directory and project root, with their
// defaults (the current directory; FindProject of the working directory),
// or the reason the project cannot be one (a *NotProjectError).
func (j *Job) dirs() (dir, project string, err error) {
	dir, project = j.Dir, j.Project
	if dir == "" {
		dir, _ = os.Getwd()
	}
	env := j.env()
	own := OwnDirs(env)
	if project == "" {
		trusted, err := config.TrustedProjects()
		if err != nil {
			return "", "", err
		}
		project, err = FindProject(dir, env, trusted, own)
		return dir, project, err
	}
	project = filepath.Clean(project)
	if !within(filepath.Clean(dir), project) {
		return "", "", &NotProjectError{Dir: dir, Root: project, Why: "the folder is outside the project"}
	}
	return dir, project, CheckProject(project, env, own)
}
