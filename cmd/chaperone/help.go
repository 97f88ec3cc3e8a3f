package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/chaperone-dev/chaperone/internal/suggest"
)

const helpText = `usage: chaperone COMMAND [ARG...]
       chaperone [BASH OPTION...] [-c 'COMMAND' | FILE] [ARG...]

chaperone is the shell coding agents run their commands through: it rates
each command, runs it in a sandbox, holds the risky ones for a person, and
records everything in an audit log.

As a shell, chaperone is bash: installed or linked as bash or sh (see
"chaperone shims"), every bash invocation form works; by its own name too,
for everything but its commands and --help, -h and --version:
  chaperone -c 'COMMAND' [ARG0 ARG...]  rate COMMAND, then run it with bash
  chaperone -lc 'COMMAND', FILE, -s ... as bash

Commands:
  shims       write DIR/bash and DIR/sh: chaperone as bash, for agents
  run         rate and run one command, as a prefix (run -- CMD ARG...)
  rate        rate commands without running them (--explain: why)
  rules       the built-in rules and the catalogue of programs: list, show ID
  trust       trust a folder as a project, and its .chaperone.toml as it is now
  tui         the approval panel for held commands
  remember    the approvals the panel remembers: list, forget ID
  audit       the audit log: list, show, tail, verify, replay, rerate, export
  sandbox     the project's sandbox: up, down, status, exec
  network     the sandbox's egress proxy: check HOST says what happens to a connection
  doctor      check the config, the sandbox backends, the project and the model
  model       the model that rates what the rules leave undecided: check, show-prompt
  fewshot     the examples that teach the model: list, add, rm
  version     print chaperone's version
  completion  completion for bash, zsh or fish: source <(chaperone completion bash)
  help        this text; "chaperone help COMMAND" is "chaperone COMMAND --help"

Risk: low runs silently; medium runs with one line "chaperone: medium: ..."
on stderr; high is held for a person on the panel, else denied (exit 126).
`

// runHelp is `chaperone help [COMMAND]` (also --help and -h by chaperone's
// own name).
func runHelp(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Print(helpText)
		return nil
	}
	if isHelp(args) {
		fmt.Print("usage: chaperone help [COMMAND]\n\nPrints chaperone's usage, or COMMAND's.\n")
		return flag.ErrHelp
	}
	cmd, ok := verbs[args[0]]
	if !ok || len(args) > 1 {
		return &unknownVerbError{Name: args[0], Suggest: mistypedVerb(args[0])}
	}
	return cmd(ctx, []string{"--help"})
}

// runVersion is `chaperone version` (also --version by chaperone's own
// name).
func runVersion(ctx context.Context, args []string) error {
	fs := newFlags("version", "usage: chaperone version\n\nPrints chaperone's version: the module version, or the commit it was built from.")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, "version takes no arguments")
	}
	bi, _ := debug.ReadBuildInfo()
	fmt.Println(versionText(bi))
	return nil
}

// versionText says which chaperone this is: its module version, else the
// commit it was built from (and whether the tree had changes), and the Go
// that built it. bi may be nil.
func versionText(bi *debug.BuildInfo) string {
	if bi == nil {
		return "chaperone (unknown version: built without module information)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, at, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", with uncommitted changes"
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "chaperone %s", v)
	if rev != "" {
		fmt.Fprintf(&b, " (commit %.12s", rev)
		if at != "" {
			fmt.Fprintf(&b, " of %s", at)
		}
		fmt.Fprintf(&b, "%s)", modified)
	}
	if bi.GoVersion != "" {
		fmt.Fprintf(&b, ", built with %s", bi.GoVersion)
	}
	return b.String()
}

// verbs is subcommands, for what the verbs themselves do with the verbs
// (help, suggestions): subcommands cannot refer to itself.
var verbs map[string]func(ctx context.Context, args []string) error

func init() { verbs = subcommands }

// unknownVerbError is a first argument that is no verb of chaperone's but
// looks like a mistyped one. It is a usage error (exit status 2).
type unknownVerbError struct {
	Name    string
	Suggest string // the verb meant, or ""
}

func (e *unknownVerbError) Error() string {
	if e.Suggest != "" {
		return fmt.Sprintf("unknown command %q; did you mean %q?", e.Name, e.Suggest)
	}
	return fmt.Sprintf("unknown command %q (chaperone help lists the commands)", e.Name)
}

// Unwrap makes it a usage error.
func (e *unknownVerbError) Unwrap() error { return errUsage }

// hiddenVerbs are verbs that other programs start, never suggested.
var hiddenVerbs = map[string]bool{"shell-server": true}

// bashWords are bash 5.2's builtins and reserved words: by chaperone's own
// name, one of them alone is a command (the CLAUDE_CODE_SHELL_PREFIX form),
// never a mistyped verb.
var bashWords = strings.Fields(`. : [ alias bg bind break builtin caller cd command compgen complete
	compopt continue declare dirs disown echo enable eval exec exit export false fc fg getopts hash
	help history jobs kill let local logout mapfile popd printf pushd pwd read readarray readonly
	return set shift shopt source suspend test times trap true type typeset ulimit umask unalias
	unset wait if then else elif fi case esac for select while until do done in function time
	coproc`)

// mistypedVerb returns the verb that word (chaperone's first argument) is
// most likely a mistyping of, or "" when bash must have it. It is a
// mistyping only when bash could do nothing with it either: a plain
// lower-case word (no option, path or command line) that is no file here
// (bash would run it as a script), no program on PATH and no bash builtin
// (alone, chaperone runs it as a command), within two edits of a verb.
func mistypedVerb(word string) string {
	return suggestVerb(word, func(w string) bool {
		if _, err := os.Lstat(w); err == nil {
			return true
		}
		_, err := exec.LookPath(w)
		return err == nil || !errors.Is(err, exec.ErrNotFound)
	})
}

// suggestVerb is mistypedVerb with bash's view of word given by bashHas:
// whether it is a file here or a program on PATH.
func suggestVerb(word string, bashHas func(string) bool) string {
	if word == "" || len(word) > 32 || strings.Trim(word, "abcdefghijklmnopqrstuvwxyz-") != "" || word[0] == '-' {
		return ""
	}
	if slices.Contains(bashWords, word) {
		return ""
	}
	var shown []string
	for verb := range verbs {
		if !hiddenVerbs[verb] {
			shown = append(shown, verb)
		}
	}
	best := suggest.Closest(word, shown)
	if best == "" || bashHas(word) {
		return ""
	}
	return best
}

// isHelp reports whether args ask for help: their first word is -h,
// --help or -help.
func isHelp(args []string) bool {
	return len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help")
}

// newFlags returns a flag set for one verb whose usage is usage followed
// by the flags, written wherever parseFlags sends it.
func newFlags(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), usage)
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(fs.Output(), "\nflags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args with fs, as every verb does: -h or --help writes
// the usage to stdout and returns flag.ErrHelp (exit status 0, nothing
// done); a bad flag writes the usage to stderr and returns a usage error
// (exit status 2) naming the flag.
func parseFlags(fs *flag.FlagSet, args []string) error {
	usage := fs.Usage
	fs.Usage = func() {} // written below, to the stream it belongs on
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.Usage = usage
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(os.Stdout)
		fs.Usage()
		return flag.ErrHelp
	case err != nil:
		fs.SetOutput(os.Stderr)
		fs.Usage()
		return fmt.Errorf("%w: %s: %v", errUsage, fs.Name(), err)
	}
	fs.SetOutput(os.Stderr)
	return nil
}

// usageError writes fs's usage to stderr and returns a usage error that
// says what was wrong.
func usageError(fs *flag.FlagSet, format string, a ...any) error {
	fs.SetOutput(os.Stderr)
	fs.Usage()
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, a...))
}

// showUsage answers a verb without flags of its own: on -h or --help it
// writes usage to stdout and returns flag.ErrHelp.
func showUsage(args []string, usage string) error {
	if isHelp(args) {
		fmt.Println(usage)
		return flag.ErrHelp
	}
	return nil
}

// unknownSub is the usage error for a command of verb that is none of
// subs, naming the one meant when it is within two edits of one.
func unknownSub(verb, sub string, subs []string) error {
	if best := suggest.Closest(sub, subs); best != "" {
		return fmt.Errorf("%w: %s: unknown command %q; did you mean %q?", errUsage, verb, sub, best)
	}
	slices.Sort(subs)
	return fmt.Errorf("%w: %s: unknown command %q (want %s)", errUsage, verb, sub, strings.Join(subs, ", "))
}
