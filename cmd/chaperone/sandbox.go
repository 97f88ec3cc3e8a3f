package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"mvdan.cc/sh/v3/syntax"

	"github.com/chaperone-dev/chaperone/broker"
	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/engine"
	"github.com/chaperone-dev/chaperone/internal/shellsrv"
	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/netproxy"
	"github.com/chaperone-dev/chaperone/sandbox"
	"github.com/chaperone-dev/chaperone/shim"
)

const sandboxUsage = `usage: chaperone sandbox up [--build] | down | status | exec [--print] -- CMD [ARG...]

The project's sandbox (the project is the git top level, or a trusted folder).

  up [--build]     create it now; --build builds its image from the project's
                   devcontainer.json or Dockerfile
  down             remove it
  status           say whether it runs
  exec [--print] -- CMD [ARG...]
                   run CMD in it without rating, for a person to look around
                   (recorded in the audit log as the user's own); --print shows
                   bubblewrap's command line instead`

// sandboxSubs are sandbox's commands and their usage.
var sandboxSubs = map[string]string{
	"up":     "usage: chaperone sandbox up [--build]\n\nCreates the project's sandbox now; --build builds its image from the project's\ndevcontainer.json or Dockerfile.",
	"down":   "usage: chaperone sandbox down\n\nRemoves the project's sandbox.",
	"status": "usage: chaperone sandbox status\n\nSays whether the project's sandbox runs.",
	"exec":   "usage: chaperone sandbox exec [--print] -- CMD [ARG...]\n\nRuns CMD in the project's sandbox without rating it, for a person to look around;\nit is recorded in the audit log as the user's own command. --print shows\nbubblewrap's command line instead.",
}

// runSandbox manages the project's sandbox: up (create it now, --build to
// build its image from the project's devcontainer.json or Dockerfile),
// down (remove it), status, and exec (run CMD in it without rating, for a
// person to look around; --print shows bubblewrap's command line instead). The project is the git top level, else the
// current directory.
func runSandbox(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, sandboxUsage)
		return fmt.Errorf("%w: sandbox needs a command", errUsage)
	}
	if err := showUsage(args, sandboxUsage); err != nil {
		return err
	}
	subUsage, ok := sandboxSubs[args[0]]
	if !ok {
		fmt.Fprintln(os.Stderr, sandboxUsage)
		return unknownSub("sandbox", args[0], slices.Collect(maps.Keys(sandboxSubs)))
	}
	if err := showUsage(args[1:], subUsage); err != nil {
		return err
	}
	wrong := func(format string, a ...any) error {
		fmt.Fprintln(os.Stderr, subUsage)
		return fmt.Errorf("%w: sandbox %s: %s", errUsage, args[0], fmt.Sprintf(format, a...))
	}
	if sandbox.Inside() {
		return errors.New("chaperone sandbox works on the host only; this is inside the sandbox")
	}
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	env := os.Environ()
	b, _, err := sandbox.Select(cfg, env)
	if err != nil {
		return err
	}
	dir, err := os.Getwd()
	if err != nil {
		return err
	}
	project, err := shim.FindProject(dir, env, cfg)
	if err != nil {
		return err
	}
	eng, isEngine := b.(sandbox.Engine)
	switch verb, rest := args[0], args[1:]; verb {
	case "up":
		build := false
		for _, a := range rest {
			if a != "--build" {
				return wrong("unexpected argument %q", a)
			}
			build = true
		}
		if !isEngine {
			fmt.Fprintf(os.Stderr, "chaperone: backend %s makes a fresh sandbox per command; nothing to start\n", b.Name())
			return nil
		}
		name, err := eng.Up(ctx, project, env, build, os.Stderr)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "chaperone: sandbox %s is up (%s) for %s\n", name, eng.Kind, project)
		return nil
	case "down":
		if len(rest) > 0 {
			return wrong("unexpected argument %q", rest[0])
		}
		if !isEngine {
			fmt.Fprintf(os.Stderr, "chaperone: backend %s keeps no sandbox between commands; nothing to remove\n", b.Name())
			return nil
		}
		name, err := eng.Down(ctx, project, env)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "chaperone: sandbox %s removed\n", name)
		return nil
	case "status":
		if len(rest) > 0 {
			return wrong("unexpected argument %q", rest[0])
		}
		if !isEngine {
			fmt.Printf("%s: a fresh sandbox per command, nothing running between commands (project %s)\n", b.Name(), project)
			return nil
		}
		s, err := eng.Status(ctx, project, env)
		if err != nil {
			return err
		}
		fmt.Println(s)
		return nil
	case "exec":
		print := len(rest) > 0 && rest[0] == "--print"
		if print {
			rest = rest[1:]
		}
		if len(rest) > 0 && rest[0] == "--" {
			rest = rest[1:]
		}
		if len(rest) == 0 {
			return wrong("give the command to run after --")
		}
		job := &sandbox.Job{Script: `exec "$@"`, Args: append([]string{"chaperone-exec"}, rest...), Dir: dir, Project: project,
			Env: env, StdinFile: os.Stdin, StdoutFile: os.Stdout, StderrFile: os.Stderr}
		if print {
			bw, ok := b.(sandbox.Bwrap)
			if !ok {
				return fmt.Errorf("sandbox exec --print shows bubblewrap's command line; the backend here is %s", b.Name())
			}
			argv, err := bw.CommandLine(job)
			if err != nil {
				return err
			}
			for i, a := range argv {
				q, _ := syntax.Quote(a, syntax.LangBash)
				argv[i] = q
			}
			fmt.Println(strings.Join(argv, " "))
			return nil
		}
		// The person's own command reaches the network as the agent's do:
		// through the egress proxy, with the same lists and questions.
		var proxy *netproxy.Proxy
		if n := cfg.Sandbox.Network; (n == "" || n == "proxy") && b.Name() != "host" {
			c := cfg.Clone()
			if _, err := engine.New(c, project); err != nil { // the trusted project's [network]
				return err
			}
			pol, err := netproxy.NewPolicy(c.Network, project)
			if err != nil {
				return err
			}
			ask := &broker.Client{Timeout: cfg.HoldTimeout.Duration}
			proxy = &netproxy.Proxy{Policy: pol, Warn: os.Stderr, Ask: func(ctx context.Context, r netproxy.Request) models.Verdict {
				v, err := ask.Ask(ctx, models.HoldRequest{Time: time.Now(), Session: shim.Session(), Agent: "user", Project: project, Cwd: dir,
					Command: strings.Join(rest, " "), Network: &models.NetworkHold{Host: r.Host, Port: r.Port, Method: r.Method, Upload: r.Upload, Reason: r.Reason}})
				if err != nil {
					v.Approved = false
				}
				return v
			}}
			job.Egress = func(c net.Conn) { proxy.ServeConn(ctx, c) }
		}
		start := time.Now()
		code, err := b.Run(ctx, job)
		var conns []models.Connection
		if proxy != nil {
			proxy.Close()
			conns = proxy.Connections()
		}
		recordUserExec(cfg, project, dir, b.Name(), rest, start, code, conns)
		if err != nil {
			return err
		}
		if code != 0 {
			return shim.ExitCode(code)
		}
		return nil
	}
	return nil // every command of sandboxSubs is handled above
}

const doctorUsage = `usage: chaperone doctor

Checks what chaperone needs here: the sandbox backends (which one is used,
and why not the others), the project, the shell server and the model, with
the command that fixes each problem.`

// runDoctor says which sandbox backends work here, which one is used and
// why not the others, with the command that fixes each.
func runDoctor(ctx context.Context, args []string) error {
	if err := showUsage(args, doctorUsage); err != nil {
		return err
	}
	if len(args) > 0 {
		fmt.Fprintln(os.Stderr, doctorUsage)
		return fmt.Errorf("%w: doctor takes no arguments", errUsage)
	}
	// A broken config is one of the problems doctor reports, not a reason
	// to stop: the other checks run with the defaults.
	cfg, fileErr := config.LoadFile(config.UserPath())
	if fileErr != nil {
		cfg = &config.Config{}
	}
	envErr := config.CheckEnv(os.Getenv)
	doctorConfig(os.Stdout, fileErr, envErr)
	env := os.Environ()
	writeDoctor(ctx, os.Stdout, cfg, env)
	doctorProject(os.Stdout, cfg, env)
	doctorShell(os.Stdout, env)
	doctorNetwork(os.Stdout, cfg)
	doctorModel(os.Stdout, cfg)
	if fileErr != nil || envErr != nil {
		return errBrokenConfig
	}
	return nil
}

// errBrokenConfig is doctor's answer when the configuration is broken.
var errBrokenConfig = errors.New("doctor: the configuration has a problem (shown first): chaperone runs no command until it is fixed")

// doctorConfig says whether the user's config file and chaperone's
// environment variables can be used.
func doctorConfig(w io.Writer, fileErr, envErr error) {
	path := config.UserPath()
	switch _, statErr := os.Stat(path); {
	case fileErr != nil:
		fmt.Fprintf(w, "config: NO  %v\n        (the checks below use the defaults instead)\n", fileErr)
	case statErr != nil:
		fmt.Fprintf(w, "config: none at %s: the defaults\n", path)
	default:
		fmt.Fprintf(w, "config: %s ok\n", path)
	}
	if envErr != nil {
		fmt.Fprintf(w, "config: NO  %v\n", envErr)
	}
}

// doctorProject says which project commands run in from here (the folder
// the sandbox keeps writable), or why none.
func doctorProject(w io.Writer, cfg *config.Config, env []string) {
	dir, err := os.Getwd()
	if err != nil {
		return
	}
	trusted, err := config.TrustedProjects()
	if err != nil {
		fmt.Fprintf(w, "project: %v\n", err)
		return
	}
	project, err := sandbox.FindProject(dir, env, trusted, sandbox.OwnDirs(env, cfg.Audit.Dir))
	switch {
	case err != nil:
		fmt.Fprintf(w, "project: none here: %v\n", err)
	case slices.Contains(trusted, project):
		fmt.Fprintf(w, "project: %s (a folder you trusted); writable in the sandbox, but for .git metadata and what host tools run\n", project)
	default:
		fmt.Fprintf(w, "project: %s (git top level); writable in the sandbox, but for .git metadata and what host tools run\n", project)
	}
}

// doctorShell says whether agents' commands go through chaperone-shell and
// its warm shell server (see internal/shellsrv), and whether one runs for
// this environment.
func doctorShell(w io.Writer, env []string) {
	self, err := os.Executable()
	if err != nil {
		return
	}
	sh, ok := beside("chaperone-shell")
	if !ok {
		fmt.Fprintf(w, "shell: no chaperone-shell beside %s: every command starts chaperone itself (slower); fix: scripts/install, or go build -o %s ./cmd/chaperone-shell, then chaperone shims DIR\n", self, sh)
		return
	}
	state := "none runs for this environment yet (the next command starts one)"
	if sock, err := shellsrv.SocketPath(self, env); err == nil {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			state = "one runs for this environment (" + sock + ")"
		}
	}
	fmt.Fprintf(w, "shell: %s hands commands to a warm shell server; %s\n", sh, state)
}

// writeDoctor writes the sandbox part of `chaperone doctor`.
func writeDoctor(ctx context.Context, w io.Writer, cfg *config.Config, env []string) {
	checks := sandbox.Diagnose(ctx, cfg.Sandbox, env)
	fmt.Fprintln(w, "sandbox backends:")
	for _, c := range checks {
		state := "ok"
		if !c.OK {
			state = "NO"
		}
		fmt.Fprintf(w, "  %-7s %-3s %s\n", c.Name, state, c.Detail)
		if c.Fix != "" {
			fmt.Fprintf(w, "          fix: %s\n", c.Fix)
		}
	}
	b, by, err := sandbox.Select(cfg, env)
	switch {
	case err != nil:
		fmt.Fprintf(w, "will use: nothing: %v\n", err)
	case by == sandbox.ChosenEnv:
		fmt.Fprintf(w, "will use: %s (named by %s in the environment)\n", b.Name(), sandbox.BackendEnv)
	case by == sandbox.ChosenConfig:
		fmt.Fprintf(w, "will use: %s (named by backend = %q in %s)\n", b.Name(), cfg.Backend, cfg.Path)
		if b.Name() == "host" {
			fmt.Fprintln(w, "  warning: commands run unconfined on the host")
		}
	default:
		var skipped []string
		for _, c := range checks {
			if c.Name == b.Name() {
				break
			}
			why := strings.SplitN(c.Detail, ";", 2)[0]
			if c.OK {
				why = "no image here yet, and none named or built"
			}
			skipped = append(skipped, c.Name+" ("+why+")")
		}
		fmt.Fprintf(w, "will use: %s (the first that works of docker, podman, bwrap — an engine only with its image here, named or built; set backend = \"...\" in %s to choose)\n", b.Name(), config.UserPath())
		if len(skipped) > 0 {
			fmt.Fprintf(w, "  not used: %s\n", strings.Join(skipped, ", "))
		}
		after := false
		for _, c := range checks {
			if c.Name == b.Name() {
				after = true
			} else if after && c.OK && c.Name != "host" {
				fmt.Fprintf(w, "  %s works too but comes later in the order\n", c.Name)
			}
		}
	}
}

// recordUserExec writes `sandbox exec` to the audit log as the user's own
// command: not rated, decided by the user.
func recordUserExec(cfg *config.Config, project, dir, backend string, argv []string, start time.Time, code int, conns []models.Connection) {
	log, err := shim.OpenAudit(cfg.Audit)
	if err != nil {
		fmt.Fprintf(os.Stderr, "chaperone: audit: %v\n", err)
		return
	}
	defer log.Close()
	words := make([]string, len(argv))
	for i, a := range argv {
		words[i], _ = syntax.Quote(a, syntax.LangBash)
	}
	ev := &models.Event{Time: start, Session: shim.Session(), Agent: "user", Project: project, Cwd: dir,
		Command: strings.Join(words, " "), Decision: models.Allow, DecidedBy: models.ByUser,
		Rating: models.Rating{Source: models.ByUser}, Exit: &code, Backend: backend,
		Duration: float64(time.Since(start).Microseconds()) / 1000, Connections: conns}
	if err := log.Append(ev); err != nil {
		fmt.Fprintf(os.Stderr, "chaperone: audit: %v\n", err)
	}
}
