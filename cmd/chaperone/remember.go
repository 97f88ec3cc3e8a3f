package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/shape"
)

const rememberUsage = `usage: chaperone remember list
       chaperone remember forget ID

The approvals you asked the panel to remember ([[remember]] in your config
file): A remembers the exact command, W the wider scope it showed you.
list shows each with its ID and what it lets through without asking; the
audit log names the ID of the one that let a command run (memory: ID in
chaperone audit show). forget ID removes it from your config file.`

// runRemember is `chaperone remember list | forget ID`.
func runRemember(ctx context.Context, args []string) error {
	switch {
	case len(args) >= 1 && (isHelp(args) || args[0] == "help"), len(args) >= 2 && isHelp(args[1:]):
		fmt.Fprintln(os.Stdout, rememberUsage)
		return nil
	case len(args) == 1 && args[0] == "list":
		return listRemembered(os.Stdout, config.UserPath())
	case len(args) == 2 && args[0] == "forget":
		return forgetRemembered(os.Stdout, config.UserPath(), args[1])
	}
	fmt.Fprintln(os.Stderr, rememberUsage)
	return fmt.Errorf("remember: %w", errUsage)
}

// listRemembered writes one line per remembered approval in the user's
// config at path: "ID  SCOPE  what it covers".
func listRemembered(w io.Writer, path string) error {
	c, err := config.LoadFile(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	if len(c.Remember) == 0 {
		fmt.Fprintf(bw, "nothing remembered (%s has no [[remember]] entries)\n", path)
		return bw.Flush()
	}
	for _, r := range c.Remember {
		scope := r.Scope
		if scope == "" {
			scope = "shape*" // from before scopes: see the footnote
		}
		fmt.Fprintf(bw, "%-8s  %-6s  %s\n", r.Key(), scope, shape.Describe(r))
	}
	if hasOld(c.Remember) {
		fmt.Fprintln(bw, "\n* written before scopes: no longer applied to secret reads, network sends or paths outside the project; forget it if it is wider than you meant")
	}
	fmt.Fprintf(bw, "\n%d remembered in %s; chaperone remember forget ID removes one\n", len(c.Remember), path)
	return bw.Flush()
}

func hasOld(rs []config.Remembered) bool {
	for _, r := range rs {
		if r.Scope == "" {
			return true
		}
	}
	return false
}

// forgetRemembered removes the approval id from the user's config at path.
func forgetRemembered(w io.Writer, path, id string) error {
	gone, err := shape.Forget(path, strings.TrimSpace(id))
	if errors.Is(err, shape.ErrNotRemembered) {
		return fmt.Errorf("nothing remembered has the ID %q: chaperone remember list shows the IDs", id)
	}
	if err != nil {
		return err
	}
	for _, r := range gone {
		fmt.Fprintf(w, "forgot %s: %s\n", r.Key(), shape.Describe(r))
	}
	return nil
}
