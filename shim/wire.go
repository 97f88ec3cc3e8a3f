package shim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/chaperone-dev/chaperone/audit"
	"github.com/chaperone-dev/chaperone/broker"
	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/rater"
	"github.com/chaperone-dev/chaperone/sandbox"
)

// BackendEnv names the environment variable that chooses the backend,
// over the config's `backend`.
const BackendEnv = "CHAPERONE_BACKEND"

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
	project := sandbox.ProjectRoot(o.dir)
	if err := mergeProject(cfg, project); err != nil {
		return nil, err
	}
	getenv := lookupEnv(o.environ)
	be, err := SelectBackend(cfg, getenv, o.environ)
	if err != nil {
		return nil, err
	}
	// A broken user rule is an error here, before anything runs.
	if err := rater.CheckRules(cfg.Rules); err != nil {
		return nil, fmt.Errorf("%s: %w", config.UserPath(), err)
	}
	ropts := []rater.Option{rater.WithUserRules(cfg.Rules)}
	// The model joins only when one is configured; building it costs no I/O.
	model := rater.NewModelAsker(cfg.Model, nil, rater.WithProblemReport(func(err error) {
		fmt.Fprintf(stderr, "chaperone: fewshot: %v\n", err)
	}))
	if model != nil {
		ropts = append(ropts, rater.WithModel(model))
	}
	s := &Shim{
		Rater:      rater.New(ropts...),
		Backend:    be,
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

// mergeProject adds what the project's .chaperone.toml may contribute, when
// the user has trusted its current content (`chaperone trust`): more rules,
// more environment names and an image for the sandbox. An untrusted or
// changed file is ignored (chaperone doctor says so); a broken trusted one
// is an error.
func mergeProject(cfg *config.Config, project string) error {
	proj, err := config.LoadProject(project)
	switch {
	case errors.Is(err, config.ErrUntrusted):
		return nil
	case err != nil:
		return err
	case proj == nil:
		return nil
	}
	cfg.Rules.Allow = append(cfg.Rules.Allow, proj.Rules.Allow...)
	cfg.Rules.Deny = append(cfg.Rules.Deny, proj.Rules.Deny...)
	cfg.Rules.Rate = append(cfg.Rules.Rate, proj.Rules.Rate...)
	cfg.Sandbox = cfg.Sandbox.Project(proj.Sandbox)
	return nil
}

// SelectBackend chooses the backend: $CHAPERONE_BACKEND, else the config's
// `backend`, else the first sandbox that works (sandbox.Choose; the host
// only when named).
func SelectBackend(cfg *config.Config, getenv func(string) string, env []string) (Backend, error) {
	name := getenv(BackendEnv)
	if name == "" {
		name = cfg.Backend
	}
	be, err := sandbox.Choose(name, cfg.Sandbox, env)
	if err != nil {
		return nil, fmt.Errorf("choose backend: %w", err)
	}
	return be, nil
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
