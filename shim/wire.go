package shim

import (
	"context"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/chaperone-dev/chaperone/audit"
	"github.com/chaperone-dev/chaperone/broker"
	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/engine"
	"github.com/chaperone-dev/chaperone/rater"
	"github.com/chaperone-dev/chaperone/sandbox"
)

// origin is where a command comes from: this process, or chaperone-shell
// through the shell server (server.go).
type origin struct {
	dir       string
	stdio     [3]*os.File
	environ   []string
	pid, ppid int
}

// thisProcess is the origin of a command given to this process.
func thisProcess() origin {
	dir, _ := os.Getwd()
	return origin{dir: dir, stdio: [3]*os.File{os.Stdin, os.Stdout, os.Stderr}, environ: os.Environ(),
		pid: os.Getpid(), ppid: os.Getppid()}
}

// configured builds the Shim from the user's configuration. It is the one
// place where the backend, the rater, the approval panel and the audit log
// are chosen. A broken config file is an error: policy is never loosened
// silently. Configuration is read from this process's environment, which
// is the command's (the shell server serves one environment only).
func configured(ctx context.Context, o origin) (*Shim, error) {
	stderr := o.stdio[2]
	cfg, err := config.Load()
	if err != nil {
		return nil, err
	}
	// The project: a git top level or a trusted folder, never HOME or /
	// (sandbox.FindProject). None: no project file joins the config, and
	// only the host backend runs anything.
	project, perr := findProject(o.dir, o.environ, cfg)
	// The model joins only when one is configured; building it costs no I/O.
	model := rater.NewModelAsker(cfg.Model, nil, rater.WithProblemReport(func(err error) {
		fmt.Fprintf(stderr, "chaperone: fewshot: %v\n", err)
	}))
	// The engine adds what the trusted project contributes to cfg (the
	// backend below sees its sandbox settings); a broken rule is an error
	// here, before anything runs.
	eng, err := engine.New(cfg, project, engine.WithModel(model))
	if err != nil {
		return nil, err
	}
	getenv := lookupEnv(o.environ)
	be, _, err := sandbox.Select(cfg, o.environ)
	if err != nil {
		return nil, fmt.Errorf("choose backend: %w", err)
	}
	if perr != nil {
		if be.Name() != "host" {
			fmt.Fprintf(stderr, "chaperone: %v\n", perr)
			return nil, ExitCode(DeniedStatus)
		}
		project = o.dir // unconfined anyway: no sandbox to keep a project in
	}
	s := &Shim{
		Rater:      eng,
		Backend:    be,
		Protect:    cfg.Sandbox.Protect,
		Remembered: cfg.Remember,
		Approver:   &broker.Client{Timeout: cfg.HoldTimeout.Duration},
		Stdin:      o.stdio[0], Stdout: o.stdio[1], Stderr: stderr,
		Getenv: getenv, Environ: o.environ, Dir: o.dir, Project: project, PID: o.pid, PPID: o.ppid,
	}
	if log, err := OpenAudit(cfg.Audit); err == nil {
		s.Recorder, s.Log, s.WatchDirs = log, log, cfg.Audit.MaxWatchDirs()
	} else {
		fmt.Fprintf(stderr, "chaperone: audit: %v\n", err)
	}
	if model != nil {
		s.Model = model
	}
	return s, nil
}

// findProject is sandbox.FindProject with the trusted folders and
// chaperone's own folders (the audit folder too when the config moves it).
func findProject(dir string, env []string, cfg *config.Config) (string, error) {
	trusted, err := config.TrustedProjects()
	if err != nil {
		return "", err
	}
	return sandbox.FindProject(dir, env, trusted, sandbox.OwnDirs(env, cfg.Audit.Dir))
}

// lookupEnv returns a getenv over the environment env (the last of a name
// wins, as in getenv(3) on a list built by appending).
func lookupEnv(env []string) func(string) string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return func(k string) string { return m[k] }
}

// OpenAudit opens the audit log as the [audit] table configures it.
func OpenAudit(c config.AuditConfig) (*audit.Log, error) {
	return audit.Open(c.AuditDir(), audit.WithRetention(c.Retention()), audit.WithOutputCap(c.OutputCap()), audit.WithFsync(c.Fsync))
}

// fdOpen reports whether fd is an open descriptor.
func fdOpen(fd int) bool {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return err == nil
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	if f == nil {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
