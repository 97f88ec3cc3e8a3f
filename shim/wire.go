package shim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/chaperone-dev/chaperone/audit"
	"github.com/chaperone-dev/chaperone/broker"
	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/engine"
	"github.com/chaperone-dev/chaperone/netproxy"
	"github.com/chaperone-dev/chaperone/rater"
	"github.com/chaperone-dev/chaperone/sandbox"
)

// origin is where a command comes from: this process, or chaperone-shell
// through the shell server (server.go).
type origin struct {
	dir       string
	stdio     [3]*os.File
	environ   []string
	pid, ppid int
}

// thisProcess is the origin of a command given to this process.
func thisProcess() origin {
	dir, _ := os.Getwd()
	return origin{dir: dir, stdio: [3]*os.File{os.Stdin, os.Stdout, os.Stderr}, environ: os.Environ(),
		pid: os.Getpid(), ppid: os.Getppid()}
}

// configured builds the Shim from the user's configuration. It is the one
// place where the backend, the rater, the approval panel and the audit log
// are chosen. A broken config file is an error: policy is never loosened
// silently. Configuration is read from this process's environment, which
// is the command's (the shell server serves one environment only).
func configured(ctx context.Context, o origin) (*Shim, error) {
	return (*warm)(nil).configured(ctx, o)
}

// configured is configured, with the settings and the engine kept in w
// when w is not nil.
func (w *warm) configured(ctx context.Context, o origin) (*Shim, error) {
	stderr := o.stdio[2]
	cfg, err := w.config()
	if err != nil {
		return nil, err
	}
	// The project: a git top level or a trusted folder, never HOME or /
	// (sandbox.FindProject). None: no project file joins the config, and
	// only the host backend runs anything.
	project, perr := FindProject(o.dir, o.environ, cfg)
	// The engine adds what the trusted project contributes to cfg (the
	// backend below sees its sandbox settings); a broken rule is an error
	// here, before anything runs.
	cfg, eng, model, err := w.engine(cfg, project, stderr)
	if err != nil {
		return nil, err
	}
	getenv := lookupEnv(o.environ)
	noteUntrusted(project, getenv, o.ppid, stderr)
	be, _, err := sandbox.Select(cfg, o.environ)
	if err != nil {
		return nil, fmt.Errorf("choose backend: %w", err)
	}
	if perr != nil {
		if be.Name() != "host" {
			fmt.Fprintf(stderr, "chaperone: %v\n", perr)
			return nil, ExitCode(DeniedStatus)
		}
		project = o.dir // unconfined anyway: no sandbox to keep a project in
	}
	s := &Shim{
		Rater:      eng,
		Backend:    be,
		Protect:    cfg.Sandbox.Protect,
		Remembered: cfg.Remember,
		Approver: &broker.Client{Timeout: cfg.HoldTimeout.Duration, Grace: cfg.NoPanelGrace.Duration,
			OnHold: heldNotice{stderr: stderr, getenv: getenv}.onHold},
		Stdin: o.stdio[0], Stdout: o.stdio[1], Stderr: stderr,
		Getenv: getenv, Environ: o.environ, Dir: o.dir, Project: project, PID: o.pid, PPID: o.ppid,
	}
	if log, err := OpenAudit(cfg.Audit); err == nil {
		s.Recorder, s.Log, s.WatchDirs = log, log, cfg.Audit.MaxWatchDirs()
	} else {
		fmt.Fprintf(stderr, "chaperone: audit: %v\n", err)
	}
	if model != nil {
		s.Model = model
	}
	if cfg.Sandbox.Network == "" || cfg.Sandbox.Network == "proxy" {
		// The user's [network] table, with the trusted project's allow
		// and deny; checked when the config was read.
		if s.Network, err = netproxy.NewPolicy(cfg.Network, project); err != nil {
			return nil, fmt.Errorf("%s: %w", config.UserPath(), err)
		}
	}
	return s, nil
}

// warm keeps, across the commands a shell server runs, what configured
// builds from the settings: the user's config, and per project the engine
// (its rules compiled, its model's few-shot examples loaded) with the
// config the trusted project file adds to. Each is built again when a file
// it comes from (config.Sources) is no longer the same file with the same
// content: its identity, size and change time are compared at every use,
// which costs a few stat calls and, unlike a file watch, misses no change
// (no command can set a change time back). The server's environment is
// fixed (it serves one), so it needs no comparing. A nil *warm keeps
// nothing. It is safe for concurrent use.
type warm struct {
	mu      sync.Mutex
	base    warmConfig
	engines map[string]*warmEngine  // by project
	stderr  atomic.Pointer[os.File] // the latest command's: where the model's problems go
}

type warmConfig struct {
	stamp string
	cfg   *config.Config
}

type warmEngine struct {
	stamp string
	cfg   *config.Config // with the project's settings merged
	eng   *engine.Engine
	model *rater.Model
}

// stamp describes the files paths as they are now: what changes when one
// is replaced, written or removed.
func stamp(paths []string) string {
	var b strings.Builder
	for _, p := range paths {
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			fmt.Fprintf(&b, "%s:-;", p)
			continue
		}
		fmt.Fprintf(&b, "%s:%d:%d:%d:%d.%d:%d.%d;", p, st.Dev, st.Ino, st.Size, st.Mtim.Sec, st.Mtim.Nsec, st.Ctim.Sec, st.Ctim.Nsec)
	}
	return b.String()
}

// config is config.Load, kept while the files it reads stay the same.
// The caller may not change what it returns.
func (w *warm) config() (*config.Config, error) {
	if w == nil {
		return config.Load()
	}
	st := stamp(config.Sources(""))
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.base.cfg != nil && w.base.stamp == st {
		return w.base.cfg, nil
	}
	cfg, err := config.Load()
	if err != nil {
		w.base = warmConfig{}
		return nil, err
	}
	w.base = warmConfig{stamp: st, cfg: cfg}
	return cfg, nil
}

// engine builds the engine for project from base (which it does not
// change), with the model when one is configured, and returns it with the
// config the project's trusted settings add to; kept while the files they
// come from stay the same. Problems of the model's few-shot store are
// reported on stderr.
func (w *warm) engine(base *config.Config, project string, stderr *os.File) (*config.Config, *engine.Engine, *rater.Model, error) {
	report := func(err error) { fmt.Fprintf(stderr, "chaperone: fewshot: %v\n", err) }
	if w != nil {
		w.stderr.Store(stderr)
		report = func(err error) {
			if f := w.stderr.Load(); f != nil {
				fmt.Fprintf(f, "chaperone: fewshot: %v\n", err)
			}
		}
	}
	build := func() (*config.Config, *engine.Engine, *rater.Model, error) {
		cfg := base.Clone()
		// The model joins only when one is configured; building it costs
		// no I/O.
		model := rater.NewModelAsker(cfg.Model, nil, rater.WithProblemReport(report))
		eng, err := engine.New(cfg, project, engine.WithModel(model))
		return cfg, eng, model, err
	}
	if w == nil {
		return build()
	}
	st := stamp(config.Sources(project))
	w.mu.Lock()
	defer w.mu.Unlock()
	if e := w.engines[project]; e != nil && e.stamp == st {
		return e.cfg, e.eng, e.model, nil
	}
	cfg, eng, model, err := build()
	if err != nil {
		delete(w.engines, project)
		return nil, nil, nil, err
	}
	if w.engines == nil || len(w.engines) >= 64 {
		w.engines = map[string]*warmEngine{} // a server serves a few projects: start again past that
	}
	w.engines[project] = &warmEngine{stamp: st, cfg: cfg, eng: eng, model: model}
	return cfg, eng, model, nil
}

// FindProject is sandbox.FindProject with the trusted folders and
// chaperone's own folders (the audit folder too when the config moves it):
// the project the shim runs a command from dir in.
func FindProject(dir string, env []string, cfg *config.Config) (string, error) {
	trusted, err := config.TrustedProjects()
	if err != nil {
		return "", err
	}
	return sandbox.FindProject(dir, env, trusted, sandbox.OwnDirs(env, cfg.Audit.Dir))
}

// lookupEnv returns a getenv over the environment env (the last of a name
// wins, as in getenv(3) on a list built by appending).
func lookupEnv(env []string) func(string) string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return func(k string) string { return m[k] }
}

// OpenAudit opens the audit log as the [audit] table configures it.
func OpenAudit(c config.AuditConfig) (*audit.Log, error) {
	return audit.Open(c.AuditDir(), audit.WithRetention(c.Retention()), audit.WithOutputCap(c.OutputCap()), audit.WithFsync(c.Fsync))
}

// fdOpen reports whether fd is an open descriptor.
func fdOpen(fd int) bool {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return err == nil
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	if f == nil {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// noteUntrusted says, once per agent session, that the project's
// .chaperone.toml is not used because it is new or changed since the
// person trusted it: a policy file that is silently ignored looks like one
// that works. A marker in the state folder, named by the session and the
// file's identity, keeps it to one line (an edited file is told again).
func noteUntrusted(project string, getenv func(string) string, ppid int, stderr io.Writer) {
	if project == "" {
		return
	}
	_, err := config.LoadProject(project)
	if !errors.Is(err, config.ErrUntrusted) {
		return
	}
	fi, serr := os.Stat(filepath.Join(project, config.ProjectFile))
	if serr != nil {
		return
	}
	key := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%d\x00%d", DetectSession(getenv, ppid), project, fi.Size(), fi.ModTime().UnixNano()))
	dir := filepath.Join(config.DirsFrom(getenv).State, "notices")
	if os.MkdirAll(dir, 0o700) != nil {
		return
	}
	f, ferr := os.OpenFile(filepath.Join(dir, hex.EncodeToString(key[:8])), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if ferr != nil {
		return // told already in this session (or the state folder is not writable)
	}
	f.Close()
	fmt.Fprintf(stderr, "chaperone: %s; its settings are not used\n", printable(err.Error()))
}
