// Command chaperone is the shell that coding agents run their commands
// through: it rates each command, runs it in a sandbox, holds the risky
// ones for a person, and records everything in an audit log.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/chaperone-dev/chaperone/internal/reaper"
	"github.com/chaperone-dev/chaperone/shim"
)

func main() {
	if reaper.Is(os.Args[0]) {
		os.Exit(reaper.Main(os.Args)) // mounted in docker and podman sandboxes
	}
	if isShell(os.Args) {
		// Started for every command an agent runs: the shim handles the
		// signals itself, and only once there is something to stop.
		os.Exit(exitCode(shim.Main(context.Background(), os.Args)))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	err := run(ctx, os.Args)
	stop()
	os.Exit(exitCode(err))
}

// isShell reports whether chaperone runs as bash here rather than as one
// of its own verbs: installed or linked as bash or sh (or "-bash", a login
// shell), with no arguments (a script on stdin), or with bash's arguments.
// By its own name, chaperone's help and version options and a mistyped
// verb (see mistypedVerb) are chaperone's, not bash's.
func isShell(args []string) bool {
	name := strings.TrimPrefix(filepath.Base(args[0]), "-")
	if name == "bash" || name == "sh" || len(args) < 2 {
		return true
	}
	if _, verb := subcommands[args[1]]; verb {
		return false
	}
	if _, opt := ownOptions[args[1]]; opt && (args[1] != "-h" || len(args) == 2) {
		return false // -h with more is bash's set -h (hashall)
	}
	return mistypedVerb(args[1]) == ""
}

// ownOptions are the options chaperone answers itself when called by its
// own name, and the verb each stands for. Linked as bash, they are bash's.
var ownOptions = map[string]string{"--help": "help", "-h": "help", "--version": "version"}

// subcommands are chaperone's own verbs; anything else is bash's argv.
var subcommands = map[string]func(ctx context.Context, args []string) error{
	"rate":       runRate,
	"network":    runNetwork,
	"rules":      runRules,
	"shims":      runShims,
	"run":        runRun,
	"sandbox":    runSandbox,
	"doctor":     runDoctor,
	"tui":        runTUI,
	"audit":      runAudit,
	"model":      runModel,
	"fewshot":    runFewshot,
	"trust":      runTrust,
	"remember":   runRemember,
	"help":       runHelp,
	"version":    runVersion,
	"completion": runCompletion,
	// Started by chaperone-shell; see internal/shellsrv.
	"shell-server": runShellServer,
}

func run(ctx context.Context, args []string) error {
	if isShell(args) {
		return shim.Main(ctx, args)
	}
	verb := args[1]
	if v, ok := ownOptions[verb]; ok {
		verb = v
	}
	cmd, ok := subcommands[verb]
	if !ok {
		return &unknownVerbError{Name: verb, Suggest: mistypedVerb(verb)}
	}
	return cmd(ctx, args[2:])
}

// exitCode maps an error to the process exit status; the single switch.
func exitCode(err error) int {
	var ec shim.ExitCode
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp): // help was asked for, and shown
		return 0
	case errors.As(err, &ec):
		return int(ec)
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, "chaperone:", err)
		return 2
	default:
		fmt.Fprintln(os.Stderr, "chaperone:", err)
		return 1
	}
}

var errUsage = errors.New("usage")
