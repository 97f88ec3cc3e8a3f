package shim

import (
	"context"
	"errors"
	"fmt"
	"os"

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

// configured builds the Shim from the user's configuration. It is the one
// place where the backend, the rater, the approval panel and the audit log
// are chosen. A broken config file is an error: policy is never loosened
// silently.
func configured(ctx context.Context) (*Shim, error) {
	cfg, err := config.Load()
	if err != nil {
		return nil, err
	}
	dir, _ := os.Getwd()
	project := sandbox.ProjectRoot(dir)
	if err := mergeProject(cfg, project); err != nil {
		return nil, err
	}
	be, err := SelectBackend(cfg, os.Getenv, os.Environ())
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
		fmt.Fprintf(os.Stderr, "chaperone: fewshot: %v\n", err)
	}))
	if model != nil {
		ropts = append(ropts, rater.WithModel(model))
	}
	s := &Shim{
		Rater:      rater.New(ropts...),
		Backend:    be,
		Remembered: cfg.Remember,
		Approver:   &broker.Client{Timeout: cfg.HoldTimeout.Duration},
		Stdin:      os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
	}
	if log, err := OpenAudit(cfg.Audit); err == nil {
		s.Recorder, s.Log, s.WatchDirs = log, log, cfg.Audit.MaxWatchDirs()
	} else {
		fmt.Fprintf(os.Stderr, "chaperone: audit: %v\n", err)
	}
	if model != nil {
		s.Model = model
	}
	return s, nil
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
