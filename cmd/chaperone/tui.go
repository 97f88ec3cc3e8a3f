package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"golang.org/x/term"

	"github.com/chaperone-dev/chaperone/broker"
	"github.com/chaperone-dev/chaperone/config"
)

// runTUI is `chaperone tui [--split]`: the approval panel.
func runTUI(ctx context.Context, args []string) error {
	fs := newFlags("tui", "usage: chaperone tui [--split]\n\nThe approval panel: shows held commands and decides them with one key.\nKeep it in a pane beside the agent.")
	split := fs.Bool("split", false, "open the panel in a new tmux pane beside the current one")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, "tui takes no arguments, got %q", fs.Args())
	}
	if broker.Running("") {
		return fmt.Errorf("an approval panel is already running (socket %s): use that one, or quit it first", broker.SocketPath())
	}
	if *split {
		return splitPane(ctx)
	}
	if !term.IsTerminal(int(os.Stdin.Fd())) || !term.IsTerminal(int(os.Stdout.Fd())) {
		return errors.New("the approval panel needs a terminal: run `chaperone tui` in a terminal beside the agent (inside tmux, `chaperone tui --split` opens one)")
	}
	if _, err := config.Load(); err != nil {
		return err
	}
	panel, err := panelPath()
	if err != nil {
		return err
	}
	// The panel takes over this process: the terminal, the signals and
	// the exit status are its own.
	return syscall.Exec(panel, []string{"chaperone-panel"}, os.Environ())
}

// panelName is the approval panel's program, a separate build so that the
// chaperone started for every command does not carry the terminal UI.
const panelName = "chaperone-panel"

// panelPath finds the panel's program: beside this executable (where
// scripts/install puts it), else on PATH.
func panelPath() (string, error) {
	here, ok := beside(panelName)
	if ok {
		return here, nil
	}
	if p, err := exec.LookPath(panelName); err == nil {
		return p, nil
	}
	if here == "" {
		here = panelName
	}
	return "", fmt.Errorf("the approval panel's program %s is not installed beside chaperone nor on PATH: build it with `go build -o %s ./cmd/chaperone-panel` (scripts/install builds both)", panelName, here)
}

// splitPane opens `chaperone tui` in a new tmux pane to the right of the
// current one, passing on the environment that decides where the socket
// and the user's config are.
func splitPane(ctx context.Context) error {
	if os.Getenv("TMUX") == "" {
		return errors.New("not inside tmux: run `chaperone tui` in another terminal beside the agent, or start tmux and run `chaperone tui --split`")
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find chaperone's own path: %w", err)
	}
	args := []string{"split-window", "-h", "-d", "-l", "45%", "-P", "-F", "#{pane_id}"}
	for _, name := range []string{"XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "HOME", "TMPDIR", "TERM", broker.HoldTimeoutEnv} {
		if v, ok := os.LookupEnv(name); ok {
			args = append(args, "-e", name+"="+v)
		}
	}
	args = append(args, exe, "tui")
	out, err := exec.CommandContext(ctx, "tmux", args...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("tmux split-window: %s", strings.TrimSpace(string(ee.Stderr)))
		}
		return fmt.Errorf("tmux split-window: %w", err)
	}
	fmt.Fprintf(os.Stderr, "chaperone: approval panel opened in tmux pane %s, to the right\n", strings.TrimSpace(string(out)))
	return nil
}
