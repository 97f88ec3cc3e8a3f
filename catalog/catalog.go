package catalog

import (
	"slices"
	"sync"

	"github.com/chaperone-dev/chaperone/models"
)

// Entry is one program (with its aliases) or a family of programs that the
// rater judges alike.
type Entry struct {
	// Names are the program names the entry covers, as they appear in
	// argv[0] after the folder is dropped. The first is the entry's name.
	Names []string
	// Desc says in a few words what the program is.
	Desc string
	// Effects are what the program can do, over all its ordinary uses.
	Effects Effect
	// Subs are subcommands whose effects are worth telling apart from the
	// program's (git push, npm publish); unlisted ones have the program's.
	Subs []Sub
	// Options are the options whose values the rules look at.
	Options []Option
	// Args says what the positional arguments carry, in order; the last
	// kind applies to all further ones. Empty when they vary or carry
	// nothing the rules look at. When a subcommand is named, its Args
	// apply instead, counted after it.
	Args []Kind
	// ArgsDo is what the program does with the files its Path arguments
	// name, when it does more than read them: Sends (their content
	// leaves the machine), Writes, Deletes, ExecFile (runs them) or
	// Serves (publishes them). The rater's generic pass judges each such
	// object where it is (see rater's objects.go).
	ArgsDo Effect
	// Check names the rater code that judges a use of the program in
	// detail (which option, which path, which host). Empty means the
	// program is quiet: only the generic rules (paths, redirections,
	// substitutions) judge it. "interpreter" means the rater's
	// interpreter check, which also covers versioned names (python3.12).
	Check string
	// Catch are uses that must be rated at least their risk; Alike are
	// look-alikes that must be rated at most theirs.
	Catch, Alike []Example
}

// Sub is a subcommand of a program.
type Sub struct {
	Names   []string // the subcommand and its aliases
	Effects Effect
	Desc    string
	// Args and ArgsDo are as the Entry's, for the words after the
	// subcommand.
	Args   []Kind
	ArgsDo Effect
}

// Option is a set of equivalent options that take a value, and what the
// value carries. A Plain option carries nothing the rules look at; it is
// listed so that its value is not taken for a positional argument.
type Option struct {
	Names []string // "-o", "--output"
	Kind  Kind
	// Does is what the program does with the file a Path value names,
	// as Entry.ArgsDo says; zero when it only reads or names it.
	Does Effect
}

// Example is a command line for an entry's tests and documentation.
type Example struct {
	Cmd  string
	Risk models.Risk
	// Rule, when set, is the rule id a must-catch example is caught by.
	Rule string
}

// Name returns the entry's first name.
func (e *Entry) Name() string { return e.Names[0] }

// Sub returns the subcommand called name, or nil.
func (e *Entry) Sub(name string) *Sub {
	for i := range e.Subs {
		if slices.Contains(e.Subs[i].Names, name) {
			return &e.Subs[i]
		}
	}
	return nil
}

// OptionKind returns what the option opt ("-o", "--output") carries, or
// Plain when the entry does not say.
func (e *Entry) OptionKind(opt string) Kind {
	if o := e.Option(opt); o != nil {
		return o.Kind
	}
	return Plain
}

// Option returns the option called opt ("-o", "--output"), or nil when
// the entry does not list it.
func (e *Entry) Option(opt string) *Option {
	for i := range e.Options {
		if slices.Contains(e.Options[i].Names, opt) {
			return &e.Options[i]
		}
	}
	return nil
}

// The catalogue: checked (programs.go), judged by their effects alone
// (objects.go), then quiet (quiet.go). Each name appears once. Both are plain data, laid out by the linker; only byName
// is built, on the first Lookup (about 0.1 ms, which a cold `chaperone -c`
// pays once and a process that rates nothing never does).
var (
	lists  = [...][]Entry{checked, judged, quiet}
	byName = sync.OnceValue(func() map[string]*Entry { return index(lists[:]...) })
)

// index maps every name of every entry to its entry.
func index(lists ...[]Entry) map[string]*Entry {
	n := 0
	for _, es := range lists {
		for i := range es {
			n += len(es[i].Names)
		}
	}
	m := make(map[string]*Entry, n)
	for _, es := range lists {
		for i := range es {
			for _, name := range es[i].Names {
				m[name] = &es[i]
			}
		}
	}
	return m
}

// Lookup returns the entry of the program called name (argv[0] without
// its folder), or nil when the catalogue does not know it. The entry must
// not be changed.
func Lookup(name string) *Entry { return byName()[name] }

// Entries returns every entry, in the catalogue's order. The entries must
// not be changed.
func Entries() []*Entry {
	var out []*Entry
	for _, es := range lists {
		for i := range es {
			out = append(out, &es[i])
		}
	}
	return out
}

// Names returns how many program names the catalogue knows.
func Names() int { return len(byName()) }
