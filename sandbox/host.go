package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Host runs commands with the host's bash, outside any sandbox. It is used
// only when the user names it (backend = "host").
type Host struct {
	// Bash is the path of the real bash; empty means "/bin/bash".
	Bash string
}

// Name returns "host".
func (Host) Name() string { return "host" }

// Run runs the job with real bash and returns bash's exit status
// (128+N when it died of signal N).
func (h Host) Run(ctx context.Context, j *Job) (int, error) {
	bash := h.Bash
	if bash == "" {
		bash = "/bin/bash"
	}
	args := append([]string{}, j.BashFlags...)
	args = append(args, "-c", j.Script)
	args = append(args, j.Args...)
	cmd := exec.CommandContext(ctx, bash, args...)
	cmd.Args[0] = "bash"
	cmd.Dir = j.Dir
	cmd.Env = j.Env
	if j.Control != nil {
		dir, err := os.MkdirTemp("", "chaperone-ctl-")
		if err != nil {
			return 126, fmt.Errorf("control folder: %w", err)
		}
		if err := fillControl(j, dir); err != nil {
			return 126, err
		}
		defer os.RemoveAll(dir)
		cmd.Env = append(withoutControl(j.env()), ControlEnv+"="+dir)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdio(j)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 2 * time.Second
	j.ready()
	err := cmd.Run()
	return ExitStatus(err)
}

// ExitStatus turns the error of exec.Cmd.Run into a shell exit status:
// the code, or 128+N for signal N. Errors that are not exit errors are
// returned as they are, with status 127 (not found) or 126.
func ExitStatus(err error) (int, error) {
	if err == nil {
		return 0, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	}
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
		return 127, err
	}
	return 126, err
}
