package sandbox

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
)

// An agent's wrapper around a command writes or reads a few files of the
// agent's own outside the project (Claude Code's cwd file and shell
// snapshots, Gemini CLI's background-jobs file, Codex's snapshots); the
// shim recognises the wrapper and lists them in Job.Outputs and Job.Inputs.
// The sandbox shows them one file at a time, and only files of exactly
// the agent's own kind in exactly the agent's own folder: nothing the
// command text says can widen the sandbox beyond that.

// agentKind is one kind of agent file: its name pattern and the folders it
// may be in (from the environment: the agent's own settings).
type agentKind struct {
	name   string
	output bool // written by the command (bound read-write)
	// fresh, for an output: the command creates the file, so one that
	// exists already is never shown (see agentFiles).
	fresh bool
	base  *regexp.Regexp // the file's name
	// dirs returns the folders the file may be in.
	dirs func(env []string) []string
	// parent, when set, is the pattern of the folder between dirs and
	// the file (Gemini's gemini-shell-XXXX).
	parent *regexp.Regexp
}

var (
	agentKindsOnce sync.Once
	agentKinds     []agentKind
)

func kinds() []agentKind {
	agentKindsOnce.Do(func() {
		temp := func(env []string) []string {
			out := []string{"/tmp"}
			if t := lookup(env, "TMPDIR"); filepath.IsAbs(t) {
				out = append(out, filepath.Clean(t))
			}
			return out
		}
		claude := func(env []string) []string {
			d := lookup(env, "CLAUDE_CONFIG_DIR")
			if !filepath.IsAbs(d) {
				if h := lookup(env, "HOME"); filepath.IsAbs(h) {
					d = filepath.Join(h, ".claude")
				}
			}
			if d == "" {
				return nil
			}
			return []string{filepath.Join(d, "shell-snapshots")}
		}
		codex := func(env []string) []string {
			d := lookup(env, "CODEX_HOME")
			if !filepath.IsAbs(d) {
				if h := lookup(env, "HOME"); filepath.IsAbs(h) {
					d = filepath.Join(h, ".codex")
				}
			}
			if d == "" {
				return nil
			}
			return []string{filepath.Join(d, "shell_snapshots")}
		}
		snapshot := regexp.MustCompile(`^snapshot-(bash|zsh|sh)-[0-9]+-[0-9A-Za-z]+\.sh$`)
		agentKinds = []agentKind{
			{name: "claude-cwd", output: true, base: regexp.MustCompile(`^claude-[0-9a-f]{1,64}-cwd$`), dirs: temp},
			{name: "gemini-bgpids", output: true, base: regexp.MustCompile(`^bgpids\.tmp$`), dirs: temp,
				parent: regexp.MustCompile(`^gemini-shell-[0-9A-Za-z]{1,32}$`)},
			// Claude Code's start-up form writes a new snapshot, which
			// every later command sources: never one that exists.
			{name: "claude-snapshot", output: true, fresh: true, base: snapshot, dirs: claude},
			{name: "claude-snapshot", base: snapshot, dirs: claude},
			{name: "codex-snapshot", base: regexp.MustCompile(`^[0-9A-Za-z-]{1,64}\.([0-9]{1,32}\.sh|tmp-[0-9A-Za-z]{1,32})$`), dirs: codex},
		}
	})
	return agentKinds
}

// agentFiles returns the job's agent files that the sandbox shows: outputs
// (read-write) and inputs (read-only), outside the project, each accepted
// by agentFile. Everything else in Job.Outputs and Job.Inputs is dropped.
//
// An output of a fresh kind (a shell snapshot that later commands source)
// is shown only when it does not exist yet: agentFiles creates it here,
// empty and exclusively (O_EXCL), and drops it when that fails. So every
// backend binds or fills in a file chaperone has just made for this
// command, never one that was there before (bwrap binds it read-write;
// docker and podman link it to their exchange file, whose content
// moveFile writes into it afterwards).
func agentFiles(j *Job) (outputs, inputs []string) {
	env := j.env()
	_, project, err := j.dirs()
	if err != nil {
		return nil, nil
	}
	own := OwnDirs(env)
	for _, p := range clean(j.Outputs) {
		if within(p, project) || !agentFile(p, true, env, own) {
			continue
		}
		if freshOutput(p, env) && !createNew(p) {
			continue
		}
		outputs = append(outputs, p)
	}
	for _, p := range clean(j.Inputs) {
		if !within(p, project) && agentFile(p, false, env, own) {
			inputs = append(inputs, p)
		}
	}
	return outputs, inputs
}

// agentFile reports whether p may be shown in the sandbox as an agent
// file (output: read-write): its name and folder are those of one of the
// agents' own kinds; it is a regular file (an output may also be absent),
// not a symbolic link; its folder, where its links lead, is no system
// folder, home folder or folder of chaperone's own (own).
func agentFile(p string, output bool, env, own []string) bool {
	dir, base := filepath.Split(p)
	dir = filepath.Clean(dir)
	fi, err := os.Lstat(p)
	switch {
	case err != nil && (!output || !os.IsNotExist(err)):
		return false
	case err == nil && !fi.Mode().IsRegular():
		return false
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return false
	}
	for _, d := range []string{dir, realDir} {
		if badAgentDir(d, env, own) {
			return false
		}
	}
	for _, k := range kinds() {
		if k.output == output && k.matches(dir, base, env) {
			return true
		}
	}
	return false
}

// matches reports whether a file named base in the folder dir (cleaned)
// is of kind k, by its name and folder.
func (k agentKind) matches(dir, base string, env []string) bool {
	if !k.base.MatchString(base) {
		return false
	}
	if k.parent != nil {
		if !k.parent.MatchString(filepath.Base(dir)) {
			return false
		}
		dir = filepath.Dir(dir)
	}
	return slices.Contains(k.dirs(env), dir)
}

// freshOutput reports whether the output p is of a fresh kind (name and
// folder; agentFile has accepted it already).
func freshOutput(p string, env []string) bool {
	dir, base := filepath.Split(p)
	dir = filepath.Clean(dir)
	for _, k := range kinds() {
		if k.output && k.fresh && k.matches(dir, base, env) {
			return true
		}
	}
	return false
}

// createNew makes the file p, empty, only if nothing is there (not even a
// dangling symbolic link), and reports whether it did.
func createNew(p string) bool {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return false
	}
	return f.Close() == nil
}

// badAgentDir reports whether d can never hold an agent file: /, a system
// or runtime folder, the home folder itself, or one of chaperone's own.
func badAgentDir(d string, env, own []string) bool {
	if d == "/" || strings.Count(d, "/") < 2 && d != "/tmp" {
		return true // a top-level folder: /home, /etc, /root …
	}
	for _, s := range append([]string{"/run", "/var/run"}, systemDirs...) {
		if within(d, s) {
			return true
		}
	}
	for _, h := range homes(env) {
		if d == h {
			return true
		}
	}
	for _, o := range own {
		if within(d, o) {
			return true
		}
	}
	return false
}

// createOutput makes the output file p exist (empty) without following a
// symbolic link or blocking on a FIFO, so that it can be bound; it reports
// whether p is now a regular file.
func createOutput(p string) bool {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return false
	}
	defer f.Close()
	fi, err := f.Stat()
	return err == nil && fi.Mode().IsRegular()
}
