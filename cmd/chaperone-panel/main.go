// Command chaperone-panel is the approval panel that `chaperone tui` runs:
// it shows held commands and decides them with one key. It is a program of
// its own so that chaperone itself, started for every command an agent
// runs, does not carry (and start up) the terminal UI.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"golang.org/x/term"

	"github.com/chaperone-dev/chaperone/broker"
	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/tui"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaperone:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("usage: chaperone-panel takes no arguments (it is started by `chaperone tui`), got %q", args)
	}
	if !term.IsTerminal(int(os.Stdin.Fd())) || !term.IsTerminal(int(os.Stdout.Fd())) {
		return errors.New("the approval panel needs a terminal: run `chaperone tui` in a terminal beside the agent (inside tmux, `chaperone tui --split` opens one)")
	}
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	// The broker rates every held command itself, with the engine built
	// from the user's config as it is at that hold (broker.WithEngine's
	// default) and the trusted project's rules; the panel shows that.
	srv, err := broker.Listen("")
	if err != nil {
		return fmt.Errorf("start the panel: %w", err)
	}
	defer srv.Close()
	return tui.Run(ctx, srv, tui.Options{ConfigPath: config.UserPath(), ExamplesDir: filepath.Join(config.Dir(), "fewshot"), Socket: srv.Path(), AuditDir: cfg.Audit.AuditDir()})
}
