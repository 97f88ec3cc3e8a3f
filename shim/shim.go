// Package shim is chaperone towards the agent: it accepts bash's
// invocation forms, recognises agent wrappers, rates the command, decides,
// and runs it through a backend.
package shim

import (
	"context"
	"fmt"

	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/sandbox"
)

// ExitCode is an error that carries the command's exit status up to main.
type ExitCode int

func (e ExitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// Approver asks a person about a held command. The broker client is one.
type Approver interface {
	Ask(ctx context.Context, req models.HoldRequest) (models.Verdict, error)
}

// Backend runs a job and returns its exit status.
type Backend interface {
	Name() string
	Run(ctx context.Context, j *sandbox.Job) (int, error)
}

// Recorder appends audit events.
type Recorder interface {
	Record(ev *models.Event) error
}

// Main runs chaperone as bash with args (args[0] is the program name).
func Main(ctx context.Context, args []string) error {
	return fmt.Errorf("shim: not implemented yet")
}
