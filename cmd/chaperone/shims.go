package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/sandbox"
	"github.com/chaperone-dev/chaperone/shim"
)

// runShims writes files named bash and sh in DIR that are chaperone:
// symbolic links to chaperone-shell beside this executable (else to this
// executable), or copies with --copy (for a login shell that must not
// depend on where the build lives; chaperone-shell finds chaperone beside
// itself, so --copy copies chaperone itself).
func runShims(ctx context.Context, args []string) error {
	fs := newFlags("shims", "usage: chaperone shims [--copy] DIR\n\nWrites DIR/bash and DIR/sh, which behave as bash and sh through chaperone.")
	copyFiles := fs.Bool("copy", false, "copy the executable instead of linking to it")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError(fs, "shims takes one folder, got %d arguments", fs.NArg())
	}
	dir, err := filepath.Abs(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("shims: %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("shims: find this executable: %w", err)
	}
	if self, err = filepath.EvalSymlinks(self); err != nil {
		return fmt.Errorf("shims: %w", err)
	}
	// chaperone-shell, installed beside chaperone, starts faster and hands
	// each command to a warm chaperone (see cmd/chaperone-shell).
	target := self
	if p, ok := beside("chaperone-shell"); ok && !*copyFiles {
		target = p
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("shims: %w", err)
	}
	for _, name := range []string{"bash", "sh"} {
		p := filepath.Join(dir, name)
		if p == self || p == target {
			return fmt.Errorf("shims: %s is chaperone itself; choose another folder", p)
		}
		tmp := filepath.Join(dir, "."+name+".tmp")
		os.Remove(tmp)
		if *copyFiles {
			err = copyFile(target, tmp)
		} else {
			err = os.Symlink(target, tmp)
		}
		if err == nil {
			err = os.Rename(tmp, p)
		}
		if err != nil {
			os.Remove(tmp)
			return fmt.Errorf("shims: write %s: %w", p, err)
		}
		fmt.Println(p)
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

const runUsage = `usage: chaperone run -- COMMAND [ARG...]
       chaperone run -c 'SHELL COMMAND'

Rates and runs one command, as a prefix: each word after -- is one argument
(quoted for bash); -c takes a shell command line, as bash -c does.`

// runRun rates and runs one command as a prefix: `chaperone run -- CMD ARG…`
// runs that argv (each word quoted); `chaperone run -c STRING` runs a
// shell string, as bash -c would.
func runRun(ctx context.Context, args []string) error {
	if err := showUsage(args, runUsage); err != nil {
		return err
	}
	switch {
	case len(args) >= 2 && args[0] == "-c":
		return shim.Main(ctx, append([]string{"chaperone", "-c"}, args[1:]...))
	case len(args) > 0 && args[0] == "--":
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, runUsage)
		return fmt.Errorf("%w: run needs a command", errUsage)
	}
	words := make([]string, len(args))
	for i, a := range args {
		q, err := syntax.Quote(a, syntax.LangBash)
		if err != nil {
			return fmt.Errorf("run: argument %d: %w", i+1, err)
		}
		words[i] = q
	}
	return shim.Main(ctx, []string{"chaperone", "-c", strings.Join(words, " ")})
}

const trustUsage = `usage: chaperone trust [DIR]

Trusts DIR (default: this project) as a project folder when it is no git repository,
and the current content of DIR/.chaperone.toml when there is one.`

// runTrust records the hash of a project's .chaperone.toml, which is used
// only while its content stays what the person trusted.
func runTrust(ctx context.Context, args []string) error {
	if err := showUsage(args, trustUsage); err != nil {
		return err
	}
	if len(args) > 1 || (len(args) == 1 && strings.HasPrefix(args[0], "-")) {
		fmt.Fprintln(os.Stderr, trustUsage)
		return fmt.Errorf("%w: trust takes one folder", errUsage)
	}
	if sandbox.Inside() {
		return errors.New("chaperone trust works on the host only; this is inside the sandbox")
	}
	env := os.Environ()
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	own := sandbox.OwnDirs(env, cfg.Audit.Dir)
	dir := ""
	if len(args) == 1 {
		dir = args[0]
	} else {
		wd, err := os.Getwd()
		if err != nil {
			return fmt.Errorf("trust: %w", err)
		}
		trusted, err := config.TrustedProjects()
		if err != nil {
			return err
		}
		dir, err = sandbox.FindProject(wd, env, trusted, own)
		if err != nil {
			dir = wd // not a project yet: this folder is to become one
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("trust: %w", err)
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return fmt.Errorf("trust: %s is not a folder", dir)
	}
	if err := sandbox.CheckProject(abs, env, own); err != nil {
		var ne *sandbox.NotProjectError
		if errors.As(err, &ne) {
			return fmt.Errorf("trust: %s cannot be a project: %s", abs, ne.Why)
		}
		return err
	}
	did := false
	if _, err := os.Lstat(filepath.Join(abs, ".git")); err != nil {
		real, err := config.TrustProject(abs)
		if err != nil {
			return err
		}
		fmt.Printf("trusted folder %s as a project: commands run there in the sandbox, with the folder writable\n", real)
		did = true
	}
	path, hash, err := config.Trust(abs)
	switch {
	case errors.Is(err, os.ErrNotExist) && did:
		return nil
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("trust: %s is a git repository (a project already) and has no %s to trust", dir, config.ProjectFile)
	case err != nil:
		return err
	}
	fmt.Printf("trusted %s (sha256 %s)\n", path, hash[:16])
	if c, err := config.LoadFile(path); err == nil {
		if ign := config.ProjectIgnored(c); len(ign) > 0 {
			fmt.Fprintf(os.Stderr, "chaperone: ignored in a project file (only your own config sets them): %s\n", strings.Join(ign, ", "))
		}
	}
	return nil
}

// runShellServer is `chaperone shell-server --socket PATH [--idle D]`,
// started by chaperone-shell (see internal/shellsrv).
func runShellServer(ctx context.Context, args []string) error {
	fs := newFlags("shell-server", "usage: chaperone shell-server --socket PATH [--idle DURATION]\n\n"+
		"chaperone kept warm for chaperone-shell, which starts it on its own.")
	socket := fs.String("socket", "", "the socket to listen on (chaperone-shell names it)")
	idle := fs.Duration("idle", shim.DefaultIdle, "end after this long without a command")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *socket == "" || fs.NArg() > 0 {
		return usageError(fs, "shell-server needs --socket PATH and no arguments")
	}
	return shim.Serve(ctx, *socket, *idle)
}

// beside returns where chaperone's program name is in this executable's
// folder (symbolic links resolved), and whether it is there: where
// scripts/install puts chaperone-shell and chaperone-panel.
func beside(name string) (string, bool) {
	self, err := os.Executable()
	if err != nil {
		return "", false
	}
	if s, err := filepath.EvalSymlinks(self); err == nil {
		self = s
	}
	p := filepath.Join(filepath.Dir(self), name)
	return p, isFile(p)
}

// isFile reports whether p is a regular file.
func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}
