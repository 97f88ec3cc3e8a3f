// Package catalog says what each program an agent may run does, as data:
// its effects (reads, writes, sends over the network, fetches, executes
// an argument, a file or stdin, sets a setting that executes later,
// installs, serves, deletes, publishes, signals, elevates, changes the
// system), which options and arguments carry paths, URLs, hosts, code or
// commands, and which rater check still judges the details of a use.
//
// Each entry carries its own examples: commands that must be caught
// (rated at least a risk) and look-alikes that must not be (rated at most
// a risk). The rater's tests run them all, so a reviewer adds or changes a
// program in one place, here, and sees at once whether the rules agree.
//
// The catalogue is read-only after package initialisation and safe for
// concurrent use.
package catalog
