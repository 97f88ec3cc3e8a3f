// Command chaperone is the shell that coding agents run their commands
// through: it rates each command, runs it in a sandbox, holds the risky
// ones for a person, and records everything in an audit log.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/chaperone-dev/chaperone/shim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	err := run(ctx, os.Args)
	stop()
	os.Exit(exitCode(err))
}

// subcommands are chaperone's own verbs; anything else is bash's argv.
var subcommands = map[string]func(ctx context.Context, args []string) error{
	"rate":    runRate,
	"shims":   runShims,
	"run":     runRun,
	"sandbox": runSandbox,
	"doctor":  runDoctor,
	"tui":     runTUI,
	"audit":   runAudit,
	"model":   runModel,
	"fewshot": runFewshot,
	"trust":   runTrust,
	"help":    runHelp,
}

func run(ctx context.Context, args []string) error {
	// Installed or linked as bash or sh (or "-bash", a login shell), it is
	// that shell; so it is with no arguments (a script on stdin).
	name := strings.TrimPrefix(filepath.Base(args[0]), "-")
	if name == "bash" || name == "sh" || len(args) < 2 {
		return shim.Main(ctx, args)
	}
	if f, ok := subcommands[args[1]]; ok {
		return f(ctx, args[2:])
	}
	return shim.Main(ctx, args)
}

// exitCode maps an error to the process exit status; the single switch.
func exitCode(err error) int {
	var ec shim.ExitCode
	switch {
	case err == nil:
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
