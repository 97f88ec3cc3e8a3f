// Package config loads chaperone's TOML configuration: the user's
// $XDG_CONFIG_HOME/chaperone/config.toml and, once trusted, a project's
// .chaperone.toml. A broken file is an error naming the file, the line and
// the fix; it never silently loosens policy.
package config

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/chaperone-dev/chaperone/internal/atomicfile"
	"github.com/chaperone-dev/chaperone/internal/safefile"
	"github.com/chaperone-dev/chaperone/internal/suggest"
)

// Config is the whole configuration. The zero value is the default policy.
type Config struct {
	// Backend names the sandbox backend: "docker", "podman", "bwrap" or
	// "host". Empty means: choose the first that works.
	Backend string `toml:"backend"`
	// HoldTimeout is how long a held command waits for a person.
	HoldTimeout Duration `toml:"hold_timeout"`
	// NoPanelGrace is how long a command held while no approval panel
	// runs waits for one to start before it is denied (default 3s).
	NoPanelGrace Duration `toml:"no_panel_grace"`

	Rules    RulesConfig   `toml:"rules"`
	Sandbox  SandboxConfig `toml:"sandbox"`
	Model    ModelConfig   `toml:"model"`
	Audit    AuditConfig   `toml:"audit"`
	Network  NetworkConfig `toml:"network"`
	Remember []Remembered  `toml:"remember"`

	// Path is the file this was loaded from ("" when none existed).
	Path string `toml:"-"`
}

// RulesConfig holds the user's own allow/deny rules by command prefix.
type RulesConfig struct {
	// Allow lists command prefixes rated low, e.g. "make test".
	Allow []PrefixRule `toml:"allow"`
	// Deny lists command prefixes rated high (held).
	Deny []PrefixRule `toml:"deny"`
	// Rate lists prefixes with an explicit risk, e.g.
	// { prefix = "git push origin feature/*", risk = "medium" }.
	Rate []PrefixRule `toml:"rate"`
	// Registries adds package sources to the default registries of each
	// ecosystem (npm, PyPI, the Go proxy, crates.io …): a host such as
	// "npm.corp.example", ".corp.example" for all its sub-domains, or a
	// URL whose host and path prefix count ("https://git.corp.example/pkgs").
	// Installing from a source that is neither is held.
	Registries []string `toml:"registries"`
}

// PrefixRule matches a command by its leading words; "*" in a word is a
// glob. A plain string in TOML is accepted as {prefix = "..."}.
type PrefixRule struct {
	Prefix string `toml:"prefix"`
	Risk   string `toml:"risk"`
	Reason string `toml:"reason"`
}

// UnmarshalTOML accepts either a string or a table.
func (p *PrefixRule) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case string:
		p.Prefix = v
		return nil
	case map[string]any:
		for k, x := range v {
			s, ok := x.(string)
			if !ok {
				return fmt.Errorf("rule key %q must be a string", k)
			}
			switch k {
			case "prefix":
				p.Prefix = s
			case "risk":
				p.Risk = s
			case "reason":
				p.Reason = s
			default:
				if meant := suggest.Closest(k, []string{"prefix", "risk", "reason"}); meant != "" {
					return fmt.Errorf("unknown rule key %q; did you mean %q? (a rule has prefix, risk, reason)", k, meant)
				}
				return fmt.Errorf("unknown rule key %q (a rule has prefix, risk, reason)", k)
			}
		}
		if p.Prefix == "" {
			return errors.New("rule needs a prefix")
		}
		return nil
	}
	return fmt.Errorf("rule must be a string or a table, not %T", v)
}

// Duration is a time.Duration written as "30s" or "2m" in TOML.
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration", b)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Dir returns the user's chaperone config directory.
func Dir() string { return xdgDir("XDG_CONFIG_HOME", ".config") }

// xdgDir is chaperone's folder under the XDG base directory named by the
// variable xdg, or under ~/fallback when it is unset.
func xdgDir(xdg, fallback string) string {
	if d := os.Getenv(xdg); d != "" {
		return filepath.Join(d, "chaperone")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, fallback, "chaperone")
}

// UserPath returns the path of the user's config file.
func UserPath() string { return filepath.Join(Dir(), "config.toml") }

// Error is a problem in a config file, with where it is and how to fix it.
type Error struct {
	Path string
	Line int
	// Key is the setting or section at fault ("sandbox.image"), when one is.
	Key string
	Msg string
	Fix string
	// Err is the cause, for errors.Is and errors.As (nil for a problem
	// in the content).
	Err error
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	if e.Fix != "" {
		b.WriteString(" (fix: ")
		b.WriteString(e.Fix)
		b.WriteString(")")
	}
	return b.String()
}

// Load reads the user's config file and checks the environment variables
// that override its settings (CheckEnv). A missing file gives the
// defaults.
func Load() (*Config, error) {
	c, err := LoadFile(UserPath())
	if err != nil {
		return nil, err
	}
	if err := CheckEnv(os.Getenv); err != nil {
		return nil, err
	}
	return c, nil
}

// maxFile is the largest file chaperone reads as configuration or trust
// records: far more than any of them needs, and a bound on what a file
// put in the way can cost.
const maxFile = 4 << 20

// LoadFile reads one config file. A missing file gives the defaults. A
// symbolic link is followed (dotfiles are often linked), but what it leads
// to must be a regular file of at most 4 MiB: a FIFO or a device is an
// error, never a read that blocks.
func LoadFile(path string) (*Config, error) {
	c := &Config{}
	data, err := safefile.ReadFollow(path, maxFile)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fileError(path, err)
	}
	return decode(path, data)
}

// fileError is the error for a config or record file that cannot be read.
func fileError(path string, err error) error {
	switch {
	case errors.Is(err, safefile.ErrNotRegular):
		return &Error{Path: path, Msg: "not a regular file", Fix: "replace it with a plain file", Err: err}
	case errors.Is(err, safefile.ErrTooLarge):
		return &Error{Path: path, Msg: "larger than 4 MiB", Fix: "shorten it", Err: err}
	}
	return &Error{Path: path, Msg: "cannot be read: " + errText(err), Err: err}
}

// errText is err's message without the path that a PathError repeats.
func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// decode parses one config file's content. Every problem is an *Error
// with the line, the key and the fix: TOML syntax first, then unknown
// sections and settings and values of the wrong type (checkKeys), then the
// values themselves.
func decode(path string, data []byte) (*Config, error) {
	var raw map[string]any
	md, err := toml.Decode(string(data), &raw)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &Error{Path: path, Line: pe.Position.Line, Msg: pe.Message, Fix: "correct the TOML syntax on that line"}
		}
		return nil, &Error{Path: path, Msg: err.Error(), Fix: "correct the TOML syntax", Err: err}
	}
	if err := checkKeys(path, data, md, raw); err != nil {
		return nil, err
	}
	c := &Config{Path: path}
	if md, err = toml.Decode(string(data), c); err != nil {
		// The types are right (checkKeys): a value was refused by its own
		// rules (a duration, a rule), and the decoder knows where.
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &Error{Path: path, Line: pe.Position.Line, Key: pe.LastKey, Msg: pe.LastKey + ": " + pe.Message,
				Fix: fixFor(pe.LastKey)}
		}
		return nil, &Error{Path: path, Msg: err.Error(), Fix: "correct the value's type", Err: err}
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, &Error{Path: path, Line: keyLine(data, und[0]), Key: und[0].String(), Msg: fmt.Sprintf("unknown setting %q", und[0].String()),
			Fix: "remove it or correct its name; see the README for the settings"}
	}
	if err := checkValues(path, data, c); err != nil {
		return nil, err
	}
	if err := c.Network.Check(); err != nil {
		line := sectionLine(data, "network")
		var ee *EntryError
		if errors.As(err, &ee) {
			line = cmp.Or(valueLine(data, ee.Value), line)
		}
		return nil, &Error{Path: path, Line: line, Key: "network", Msg: err.Error(), Fix: "correct the entry; see the README's [network] section"}
	}
	return c, nil
}

// valueLine finds the first line that holds v as a quoted string, for
// errors.
func valueLine(data []byte, v string) int {
	q := strconv.Quote(v)
	for i, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, q) {
			return i + 1
		}
	}
	return 0
}

// sectionLine finds the line of the table header [name], for errors.
func sectionLine(data []byte, name string) int {
	for i, l := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(l) == "["+name+"]" {
			return i + 1
		}
	}
	return 0
}

// ProjectFile is the name of a project's own config file.
const ProjectFile = ".chaperone.toml"

// StateDir is chaperone's state folder: $XDG_STATE_HOME/chaperone, or
// ~/.local/state/chaperone.
func StateDir() string { return xdgDir("XDG_STATE_HOME", filepath.Join(".local", "state")) }

// trustPath is the file that records trusted project files by hash.
func trustPath() string { return filepath.Join(StateDir(), "trusted.json") }

// ErrUntrusted is returned by LoadProject for a project file whose content
// has not been trusted with `chaperone trust` (or changed since).
var ErrUntrusted = errors.New("project config is not trusted")

// contentHash is the hex SHA-256 by which a project file is trusted.
func contentHash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func readTrust() (map[string]string, error) {
	m := map[string]string{}
	b, err := safefile.ReadFollow(trustPath(), maxFile)
	if errors.Is(err, os.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return nil, fileError(trustPath(), err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, &Error{Path: trustPath(), Msg: "not valid JSON: " + err.Error(), Fix: "delete the file and run `chaperone trust` again"}
	}
	return m, nil
}

// Trust records the current content of the project file in projectDir as
// trusted and returns its path and hash. The file must parse, and be read
// as LoadProject reads it (see readProjectFile); a missing file is an
// error that matches os.ErrNotExist.
func Trust(projectDir string) (path, hash string, err error) {
	path, data, err := readProjectFile(projectDir)
	if errors.Is(err, os.ErrNotExist) {
		return "", "", fmt.Errorf("trust: %w", err)
	}
	if err != nil {
		return "", "", err
	}
	if _, err := decode(path, data); err != nil {
		return "", "", err
	}
	hash = contentHash(data)
	m, err := readTrust()
	if err != nil {
		return "", "", err
	}
	m[path] = hash
	b, _ := json.MarshalIndent(m, "", "  ")
	if err := atomicfile.WriteFile(trustPath(), append(b, '\n'), 0o600, nil); err != nil {
		return "", "", fmt.Errorf("trust: %w", err)
	}
	return path, hash, nil
}

// LoadProject reads projectDir's .chaperone.toml when its content is
// trusted. No file gives (nil, nil); a file that was never trusted, or
// changed since, gives ErrUntrusted (wrapped, naming the file and the fix),
// so that an agent editing it can never relax its own policy. A file that
// is not one chaperone reads (see readProjectFile) is an *Error naming it;
// reading never blocks.
func LoadProject(projectDir string) (*Config, error) {
	path, data, err := readProjectFile(projectDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m, err := readTrust()
	if err != nil {
		return nil, err
	}
	if m[path] != contentHash(data) {
		return nil, fmt.Errorf("%s: %w (run `chaperone trust %s` after reading it)", path, ErrUntrusted, projectDir)
	}
	return decode(path, data)
}

// readProjectFile reads projectDir's .chaperone.toml and returns its
// absolute path and content. The project, and so any command sandboxed in
// it, controls that file, so it is read with care: a symbolic link is
// followed only while it stays inside the project; what is read must be a
// regular file (a FIFO, a socket or a device is refused without opening it
// for long enough to block) of at most 4 MiB. Anything else is an *Error
// naming the file and saying what to do; a missing file (or a link to
// nothing) is an error that matches os.ErrNotExist.
func readProjectFile(projectDir string) (path string, data []byte, err error) {
	dir, err := filepath.Abs(projectDir)
	if err != nil {
		return "", nil, fmt.Errorf("project config: %w", err)
	}
	path = filepath.Join(dir, ProjectFile)
	root, err := os.OpenRoot(dir)
	if err != nil {
		return path, nil, fmt.Errorf("project config: %w", err)
	}
	defer root.Close()
	f, err := root.OpenFile(ProjectFile, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return path, nil, err
		}
		// Why it cannot be opened: a socket (ENXIO), a link out.
		if fi, serr := root.Stat(ProjectFile); serr == nil && !fi.Mode().IsRegular() {
			return path, nil, notRegular(path, fi.Mode())
		}
		if fi, lerr := root.Lstat(ProjectFile); lerr == nil && fi.Mode()&os.ModeSymlink != 0 {
			return path, nil, &Error{Path: path, Msg: "a symbolic link that leads out of the project",
				Fix: "replace it with a copy of the file it leads to", Err: err}
		}
		return path, nil, fileError(path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return path, nil, fileError(path, err)
	}
	if !fi.Mode().IsRegular() {
		return path, nil, notRegular(path, fi.Mode())
	}
	data, err = io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return path, nil, fileError(path, err)
	}
	if len(data) > maxFile {
		return path, nil, fileError(path, safefile.ErrTooLarge)
	}
	return path, data, nil
}

// notRegular is the error for a project file of mode m that is no
// regular file.
func notRegular(path string, m os.FileMode) error {
	return &Error{Path: path, Msg: "a " + kind(m) + ", not a regular file",
		Fix: "remove it; chaperone reads only a plain file there", Err: safefile.ErrNotRegular}
}

// kind names the type of a file that is not a regular one.
func kind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "folder"
	case m&os.ModeNamedPipe != 0:
		return "FIFO"
	case m&os.ModeSocket != 0:
		return "socket"
	case m&os.ModeDevice != 0:
		return "device"
	}
	return "special file"
}

// Clone returns a copy of c that can be changed (engine.New adds a
// project's rules to it) without changing c.
func (c *Config) Clone() *Config {
	d := *c
	d.Rules.Allow = slices.Clip(d.Rules.Allow)
	d.Rules.Deny = slices.Clip(d.Rules.Deny)
	d.Rules.Rate = slices.Clip(d.Rules.Rate)
	d.Sandbox.Env = slices.Clip(d.Sandbox.Env)
	d.Sandbox.Mounts = slices.Clip(d.Sandbox.Mounts)
	d.Sandbox.Protect = slices.Clip(d.Sandbox.Protect)
	d.Network.Allow = slices.Clip(d.Network.Allow)
	d.Network.Deny = slices.Clip(d.Network.Deny)
	d.Network.Projects = slices.Clip(d.Network.Projects)
	return &d
}
