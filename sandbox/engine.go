package sandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/chaperone-dev/chaperone/internal/atomicfile"
	"github.com/chaperone-dev/chaperone/internal/reaper"
	"github.com/chaperone-dev/chaperone/internal/safefile"
)

// Engine runs commands in one long-lived container per project, through
// the docker or podman CLI. The container is created on first use (or by
// Up) and reused; each command is an exec into it with real bash, in the
// same working directory, under a reaper that ends whatever the command
// leaves behind and, before it starts, gives it a home folder free of what
// earlier commands planted there (see internal/reaper). A command whose
// write to the guarded files a person approved runs in a container of its
// own instead (Job.OpenGuarded). Safe for concurrent use.
//
// Defaults (see Policy): no network, read-only root with a tmpfs /tmp and
// an empty tmpfs home, the tree bind-mounted read-write at its own path with
// .git pinned and what host tools run read-only over it (Protect), all
// capabilities dropped, no-new-privileges, the engine's default seccomp
// profile (for podman, with chaperone's denials: podman_seccomp.go), the
// user's uid:gid, memory, CPU and pid limits, no engine socket, the
// environment allow-list. The agent's files cross through an exchange
// folder, one file at a time, never as mounts.
type Engine struct {
	// Kind is "docker" or "podman".
	Kind string
	// Path is the CLI program; empty means Kind on PATH.
	Path   string
	Policy Policy
	// Reaper is the static program mounted in the container as every
	// command's reaper (chaperone-shell or chaperone; see internal/reaper).
	// Empty means DefaultReaper.
	Reaper string
}

// Name returns the engine's kind.
func (e Engine) Name() string { return e.Kind }

func (e Engine) prog() string {
	if e.Path != "" {
		return e.Path
	}
	return e.Kind
}

// ErrImage is returned when the sandbox image is not available.
var ErrImage = errors.New("sandbox image not available")

// container is everything about a project's container that follows from
// the job and the policy.
type container struct {
	name, project string
	dir           string   // state folder of this container
	spec          string   // hash of args
	args          []string // creation arguments but the extras
	extras        []string // extra volumes this job needs
	image         string
	uid, gid      int
	outs          string // host folder for the job outputs
	marker        string // the marker file, mounted at MarkerPath
	home          string // the home folder, a tmpfs of the container's ("": none)
	seccomp       string // podman: the seccomp profile (podman_seccomp.go)
}

// user is the container user, "uid:gid".
func (c *container) user() string { return fmt.Sprintf("%d:%d", c.uid, c.gid) }

// inContainer paths.
const (
	outMount = "/run/chaperone-out"
)

// container works out the project's container for job j.
func (e Engine) container(j *Job, env []string) (*container, error) {
	_, project, err := j.dirs()
	if err != nil {
		return nil, err
	}
	name := ContainerName(project)
	state := stateDir(env)
	c := &container{name: name, project: project, dir: filepath.Join(state, name), uid: os.Getuid(), gid: os.Getgid()}
	c.outs = filepath.Join(c.dir, "out")
	if c.marker, err = writeMarker(state); err != nil {
		return nil, err
	}
	built, _ := os.ReadFile(filepath.Join(c.dir, "image"))
	c.image = e.Policy.image(env, strings.TrimSpace(string(built)))
	if home := lookup(env, "HOME"); home != "" && home != "/" && filepath.IsAbs(home) && !within(home, project) {
		c.home = home
	}
	if e.Kind == "podman" {
		if c.seccomp, err = podmanSeccomp(state, env); err != nil {
			return nil, err
		}
	}
	a := append(e.runArgs(c, env, false), "-w", project, c.image)
	sum := sha256.Sum256([]byte(strings.Join(a, "\x00")))
	c.spec = hex.EncodeToString(sum[:8])
	c.args = a

	// What a job may need beyond those: the shell path. A container that
	// has it is reused as it is. (Agent files go through the exchange
	// folder: see newRun.)
	if sh, _ := shellPath(j); sh != "" {
		script, err := bashShim(state)
		if err != nil {
			return nil, err
		}
		c.extras = append(c.extras, script+":"+sh+":ro")
	}
	sort.Strings(c.extras)
	return c, nil
}

// runArgs are the arguments of `docker run` that make c's container, but
// the working folder and the image. open: the person approved the job's
// write to the guarded files, which are then not mounted read-only
// (Protect); only a container of the job's own is made so (see once).
func (e Engine) runArgs(c *container, env []string, open bool) []string {
	p := e.Policy
	a := []string{"--network", p.engineNetwork()}
	if !p.WritableRoot {
		a = append(a, "--read-only")
	}
	a = append(a, "--tmpfs", "/tmp:rw,nosuid,nodev,mode=1777")
	if c.home != "" {
		opts := fmt.Sprintf("uid=%d,gid=%d", c.uid, c.gid)
		if e.Kind == "podman" {
			opts = "U" // podman's way: owned by the container's user
		}
		a = append(a, "--tmpfs", c.home+":rw,nosuid,nodev,mode=0700,"+opts, "-e", "HOME="+c.home)
	}
	a = append(a, "--cap-drop", "ALL", "--security-opt", "no-new-privileges")
	if c.seccomp != "" {
		a = append(a, "--security-opt", "seccomp="+c.seccomp)
	}
	a = append(a, "--user", c.user(),
		"--memory", p.memory(), "--cpus", p.cpus(), "--pids-limit", strconv.Itoa(p.pids()))
	if e.Kind == "podman" {
		a = append(a, "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024")
		if c.uid != 0 {
			a = append(a, "--userns", "keep-id")
		}
	}
	if p.Runtime != "" {
		a = append(a, "--runtime", p.Runtime)
	}
	// The tree read-write; .git pinned in place; what host tools run,
	// read-only (the engine orders mounts by their depth).
	a = append(a, "-v", c.project+":"+c.project)
	g := Protect(c.project, p.Protect, open)
	for _, pp := range g.Pinned {
		a = append(a, "-v", pp+":"+pp)
	}
	for _, pp := range g.ReadOnly {
		a = append(a, "-v", pp+":"+pp+":ro")
	}
	var shown [][2]string // user mounts: host folder, where it is inside
	for _, m := range p.Mounts {
		src, dst := splitMount(m)
		if _, err := os.Stat(src); err == nil {
			a = append(a, "-v", src+":"+dst+":ro")
			shown = append(shown, [2]string{filepath.Clean(src), filepath.Clean(dst)})
		}
	}
	// chaperone's own folders that a user mount would show: blank.
	for _, d := range p.own(env) {
		for _, m := range shown {
			if within(d, m[0]) {
				a = append(a, "--tmpfs", filepath.Join(m[1], strings.TrimPrefix(d, m[0]))+":rw,nosuid,nodev,mode=0700")
			}
		}
	}
	a = append(a, e.reaperMount()...) // the program every command runs under (reaper.go)
	return append(a, "-v", c.marker+":"+MarkerPath+":ro", "-v", c.outs+":"+outMount)
}

// bashShim is the script mounted in containers where the agent started
// chaperone (Codex re-executes its shell by path): plain bash, same argv.
func bashShim(state string) (string, error) {
	const text = "#!/bin/bash\nexec -a \"$0\" /bin/bash \"$@\"\n"
	return stateFile(state, "bash-shim", text, 0o555)
}

// status is what is known of a container.
type status struct {
	exists, running bool
	spec            string
	extras          []string
}

// fits reports whether a running container with st serves c.
func (st status) fits(c *container) bool {
	return st.running && st.spec == c.spec && covers(st.extras, c.extras)
}

// inspect asks the engine about the container: docker through its API
// socket when it can (a millisecond), else through the CLI.
func (e Engine) inspect(ctx context.Context, name string, env []string) (status, error) {
	if e.Kind == "docker" {
		if sock := dockerSocket(env); sock != "" {
			if st, err := apiInspect(ctx, sock, name); err == nil {
				return st, nil
			}
		}
	}
	out, err := exec.CommandContext(ctx, e.prog(), "container", "inspect", "--format",
		`{{.State.Running}} {{index .Config.Labels "chaperone.spec"}} {{index .Config.Labels "chaperone.extra"}}`, name).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return status{}, nil // no such container
		}
		return status{}, fmt.Errorf("%s inspect: %w", e.Kind, err)
	}
	f := strings.SplitN(strings.TrimSpace(string(out)), " ", 3)
	st := status{exists: true, running: len(f) > 0 && f[0] == "true"}
	if len(f) > 1 {
		st.spec = f[1]
	}
	if len(f) > 2 {
		json.Unmarshal([]byte(f[2]), &st.extras)
	}
	return st, nil
}

// dockerSocket returns the docker daemon's unix socket path, or "" when
// DOCKER_HOST names something else.
func dockerSocket(env []string) string {
	h := lookup(env, "DOCKER_HOST")
	if h == "" {
		return "/var/run/docker.sock"
	}
	if p, ok := strings.CutPrefix(h, "unix://"); ok {
		return p
	}
	return ""
}

// apiInspect asks the docker API for a container's state and labels.
func apiInspect(ctx context.Context, sock, name string) (status, error) {
	cl := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}, Timeout: 5 * time.Second}
	req, err := http.NewRequestWithContext(ctx, "GET", "http://docker/containers/"+name+"/json", nil)
	if err != nil {
		return status{}, err
	}
	resp, err := cl.Do(req)
	if err != nil {
		return status{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return status{}, nil
	}
	if resp.StatusCode != http.StatusOK {
		return status{}, fmt.Errorf("docker API: %s", resp.Status)
	}
	var v struct {
		State  struct{ Running bool }
		Config struct{ Labels map[string]string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return status{}, fmt.Errorf("docker API: %w", err)
	}
	st := status{exists: true, running: v.State.Running, spec: v.Config.Labels["chaperone.spec"]}
	json.Unmarshal([]byte(v.Config.Labels["chaperone.extra"]), &st.extras)
	return st, nil
}

// ensure makes the container exist, run, and match the wanted settings,
// creating or replacing it when needed. Notes go to progress.
func (e Engine) ensure(ctx context.Context, c *container, env []string, progress io.Writer) error {
	known := filepath.Join(c.dir, e.Kind+".state")
	if e.Kind == "podman" && knownFits(known, c) {
		return nil // trusted; a failed exec looks again (see Run)
	}
	st, err := e.inspect(ctx, c.name, env)
	if err != nil {
		return err
	}
	if st.fits(c) {
		return nil
	}
	if err := os.MkdirAll(c.outs, 0o700); err != nil {
		return fmt.Errorf("sandbox state folder: %w", err)
	}
	unlock, err := lock(filepath.Join(c.dir, "lock"))
	if err != nil {
		return err
	}
	defer unlock()
	if st, err = e.inspect(ctx, c.name, env); err != nil { // another shim may have done it
		return err
	}
	extras := c.extras
	switch {
	case st.fits(c):
	case st.exists && (st.spec != c.spec || !covers(st.extras, c.extras)):
		if st.spec == c.spec {
			extras = union(st.extras, c.extras)
			fmt.Fprintf(progress, "chaperone: this command needs more mounts; replacing sandbox container %s\n", c.name)
		} else {
			fmt.Fprintf(progress, "chaperone: sandbox settings changed; replacing container %s\n", c.name)
		}
		if err := e.cli(ctx, env, nil, "rm", "-f", c.name); err != nil {
			return err
		}
		fallthrough
	case !st.exists:
		var msg bytes.Buffer
		if err := e.cli(ctx, env, &msg, c.createArgs(extras)...); err != nil {
			return e.createError(c, c.name, msg.String(), err)
		}
	case !st.running:
		extras = st.extras
		if err := e.cli(ctx, env, nil, "start", c.name); err != nil {
			return err
		}
	}
	if e.Kind == "podman" {
		x, _ := json.Marshal(extras)
		if err := atomicfile.WriteFile(known, x, 0o600, nil); err != nil {
			return err
		}
		return atomicfile.WriteFile(known+".spec", []byte(c.spec), 0o600, nil)
	}
	return nil
}

// knownFits reports whether chaperone last left the podman container
// running with c's spec and mounts, as recorded in the files known (the
// mounts) and known.spec (podman has no cheap inspect).
func knownFits(known string, c *container) bool {
	var extras []string
	b, err := os.ReadFile(known)
	if err != nil || json.Unmarshal(b, &extras) != nil {
		return false
	}
	spec, err := os.ReadFile(known + ".spec")
	return err == nil && string(spec) == c.spec && covers(extras, c.extras)
}

// cli runs the engine's CLI quietly; its stderr goes to errw (or into the
// error).
func (e Engine) cli(ctx context.Context, env []string, errw io.Writer, args ...string) error {
	cmd := exec.CommandContext(ctx, e.prog(), args...)
	cmd.Env = env
	var buf bytes.Buffer
	cmd.Stderr = &buf
	err := cmd.Run()
	if errw != nil {
		errw.Write(buf.Bytes())
	}
	if err != nil {
		if errw == nil {
			return fmt.Errorf("%s %s: %s: %w", e.Kind, args[0], strings.TrimSpace(buf.String()), err)
		}
		return fmt.Errorf("%s %s: %w", e.Kind, args[0], err)
	}
	return nil
}

// lock takes an exclusive lock on path and returns its release.
func lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock sandbox: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock sandbox: %w", err)
	}
	return func() { f.Close() }, nil
}

// Run runs the job in the project's container (creating it if needed) and
// returns bash's exit status. A job whose write to the guarded files a
// person approved (Job.OpenGuarded), and a shell session's (Job.Control),
// run in a container of their own (see once): the first needs other
// mounts, the second its control folder mounted read-only and a pid
// namespace no other command shares (a process that sees the session's
// bash could write to its channel through /proc). Cancelling ctx, or killing this process in any way, ends the
// command inside the container too.
func (e Engine) Run(ctx context.Context, j *Job) (int, error) {
	env := j.env()
	_, _, errw := stdio(j)
	if errw == nil {
		errw = io.Discard
	}
	c, err := e.container(j, env)
	if err != nil {
		return 126, err
	}
	if j.OpenGuarded || j.Control != nil {
		return e.once(ctx, c, j, env)
	}
	code, err := e.attempt(ctx, c, j, env, errw)
	if code == 125 && err == nil && e.Kind == "podman" {
		// podman's own failure (container gone or stopped) or the
		// command's exit 125: look, and retry only in the first case.
		if st, ierr := e.inspect(ctx, c.name, env); ierr == nil && !st.fits(c) {
			os.Remove(filepath.Join(c.dir, "podman.state.spec"))
			return e.attempt(ctx, c, j, env, errw)
		}
	}
	return code, err
}

// attempt makes the container exist and run (ensure), and runs the job in
// it (exec). The job's watchdog is started meanwhile: each takes a few
// milliseconds, and the command starts only once both are done.
func (e Engine) attempt(ctx context.Context, c *container, j *Job, env []string, errw io.Writer) (int, error) {
	r, err := e.newRun(c, j, env)
	if err != nil {
		return 126, err
	}
	armed := e.armWatchdog(env, e.killArgs(c, "-kill", r.id)...)
	err = e.ensure(ctx, c, env, errw)
	lifeline, werr := armed()
	if err == nil {
		err = werr
	}
	if err != nil {
		if werr == nil {
			lifeline.Write([]byte("ok\n")) // nothing ran
			lifeline.Close()
		}
		r.done()
		return 126, err
	}
	return e.exec(ctx, c, j, env, r, lifeline)
}

// run is one job's run in a container: what its exec (or its own
// container) is given, and what is left to do once it has ended.
type run struct {
	id     string // the job's id, on its reaper's command line
	result string // the name of the reaper's result file in the exchange folder: secret
	tty    bool
	dir    string   // working folder
	env    []string // -e arguments: what passes into the sandbox, and the reaper's files
	moves  [][2]string
	copies []string    // the inputs' copies in the exchange folder
	egress *egressSock // the job's proxy socket in the exchange folder, or nil
	ctl    string      // the job's control folder (only in a container of its own), or ""
}

// maxInput caps the size of an agent's input file (a shell snapshot).
const maxInput = 4 << 20

// newRun prepares job j's run in c: its agent files in the exchange folder
// (each input copied there, read here; each output's place), and the
// reaper's Setup, which links them at their paths in the container, sees
// to the home folder, makes TMPDIR and sets the terminal's size.
func (e Engine) newRun(c *container, j *Job, env []string) (*run, error) {
	if _, err := e.reaperProgram(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.outs, 0o700); err != nil {
		return nil, fmt.Errorf("sandbox state folder: %w", err)
	}
	// The result file's name is secret, given to the reaper in its
	// environment, which the command cannot read: knowing it, the command
	// could write a result of its own and kill the reaper.
	r := &run{id: jobID(), result: jobID() + ".result", tty: wantsTTY(j), dir: j.Dir}
	if r.dir == "" {
		r.dir, _ = os.Getwd()
	}
	s := reaper.Setup{Home: c.home, Seal: sealed(j), Channel: channelIn(j)}
	outputs, inputs := agentFiles(j)
	for i, f := range outputs {
		name := fmt.Sprintf("%s-%d", r.id, i)
		s.Links = append(s.Links, [2]string{f, outMount + "/" + name})
		r.moves = append(r.moves, [2]string{filepath.Join(c.outs, name), f})
	}
	for i, f := range inputs {
		data, err := safefile.Read(f, maxInput)
		if err != nil {
			continue // gone, or no longer a file: the command finds nothing
		}
		name := fmt.Sprintf("%s-in%d", r.id, i)
		p := filepath.Join(c.outs, name)
		if err := writeNew(p, data); err != nil {
			r.done()
			return nil, fmt.Errorf("copy %s into the sandbox: %w", f, err)
		}
		r.copies = append(r.copies, p)
		s.Links = append(s.Links, [2]string{f, outMount + "/" + name})
	}
	if tmp := lookup(env, "TMPDIR"); filepath.IsAbs(tmp) && tmp != "/tmp" && !within(tmp, c.project) {
		s.Dirs = append(s.Dirs, tmp)
	}
	if r.tty {
		if ws, err := pty.GetsizeFull(j.StdinFile); err == nil && ws.Rows > 0 {
			s.Rows, s.Cols = int(ws.Rows), int(ws.Cols)
		}
	}
	if e.Policy.proxied(j) {
		name := r.id + ".egress"
		eg, err := startEgress(j, c.outs, name)
		if err != nil {
			r.done()
			return nil, err
		}
		r.egress = eg
		s.Egress, s.EgressKey = outMount+"/"+name, eg.key
	}
	if j.Control != nil {
		// Outside the exchange folder, which the container may write:
		// mounted read-only into the job's own container (see once).
		dir, err := os.MkdirTemp(c.dir, "ctl-")
		if err != nil {
			r.done()
			return nil, fmt.Errorf("control folder: %w", err)
		}
		if err := fillControl(j, dir); err != nil {
			r.done()
			return nil, err
		}
		r.ctl = dir
		r.env = append(r.env, "-e", ControlEnv+"="+controlMount)
	}
	for _, kv := range e.Policy.Env(env, false) {
		name, _, _ := strings.Cut(kv, "=")
		r.env = append(r.env, "-e", name)
	}
	r.env = append(r.env, "-e", reaper.ResultEnv+"="+outMount+"/"+r.result, "-e", reaper.SetupEnv+"="+s.Encode())
	return r, nil
}

// command is the job's argv in the container: bash under the reaper.
func (r *run) command(j *Job) []string {
	return append([]string{reaperPath, r.id, "--"}, bashArgv("bash", j)...)
}

// done moves the job's outputs to the host and removes its inputs' copies.
func (r *run) done() {
	r.egress.stop()
	r.egress = nil
	if r.ctl != "" {
		os.RemoveAll(r.ctl)
		r.ctl = ""
	}
	for _, m := range r.moves {
		moveFile(m[0], m[1])
	}
	for _, p := range r.copies {
		os.Remove(p)
	}
}

// wait reads the reaper's result once the engine's CLI has returned. When
// ctx has ended, the CLI may have been killed with us while the reaper
// still gives the command its grace: the result is waited for a little.
func (r *run) wait(ctx context.Context, c *container) (reaper.Result, error) {
	path := filepath.Join(c.outs, r.result)
	defer os.Remove(path)
	res, err := readResult(path)
	if err != nil && ctx.Err() != nil {
		for end := time.Now().Add(reaper.Grace + time.Second); err != nil && time.Now().Before(end); {
			time.Sleep(20 * time.Millisecond)
			res, err = readResult(path)
		}
	}
	return res, err
}

// writeNew creates the file p, which must not exist, holding data, readable
// by its owner only (the container's user is the same).
func writeNew(p string, data []byte) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o400)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(p)
	}
	return err
}

// exec runs one job (prepared as r) in the running container, under the
// reaper (see internal/reaper): the command's status comes from the
// reaper's result file, which the reaper writes once nothing of the command
// is left, with the list of what it had to kill (reported in j.Killed).
// Cancelling ctx sends SIGTERM to the reaper, which forwards it and ends
// everything after reaper.Grace. When the reaper did not report (killed by
// its own command, say), what is left of the job is killed through the
// engine. lifeline is the job's watchdog's (see watchdog), which exec
// closes.
func (e Engine) exec(ctx context.Context, c *container, j *Job, env []string, r *run, lifeline *os.File) (int, error) {
	if r.ctl != "" {
		r.done()
		lifeline.Close()
		return 126, errors.New("a job with a control folder runs in a container of its own")
	}
	a := []string{"exec", "-i"}
	if r.tty {
		a = append(a, "-t")
	}
	a = append(a, "-u", c.user(), "-w", r.dir)
	a = append(a, r.env...)
	a = append(a, c.name)
	a = append(a, r.command(j)...)

	cmd := exec.Command(e.prog(), a...)
	cmd.Env = env
	cancel := func() {
		hostSignal(r.id, syscall.SIGTERM) // at once where the host sees it
		e.reaperCLI(c, env, "-term", r.id)
	}
	// Pass the agent's terminal straight to the CLI, which gives the
	// command a terminal of the same size and forwards resizes.
	code, err := child(ctx, cmd, j, false, r.tty, nil, cancel)
	r.done()
	res, rerr := r.wait(ctx, c)
	ended := rerr == nil
	if ended {
		code = res.Status
	} else {
		// The reaper did not report: killed (its command can do that),
		// never started, or still running (the CLI was killed). End what
		// is left of the job, and the strays.
		out, kerr := e.reaperCLI(c, env, "-kill", r.id)
		if k, perr := reaper.ParseResult(out); kerr == nil && perr == nil {
			res = reaper.Result{Killed: k.Killed, Left: k.Left}
			ended = true
		}
		code = interrupted(ctx, code, err)
	}
	report(j, res)
	if ended {
		lifeline.Write([]byte("ok\n"))
	}
	lifeline.Close() // without "ok", the watchdog kills what is left
	return code, err
}

// interrupted is the status of a job whose reaper did not report, from
// what the engine's CLI said (code, err).
func interrupted(ctx context.Context, code int, err error) int {
	if ctx.Err() != nil && err == nil && code < 128 {
		// The CLI said nothing useful (podman exec killed by SIGTERM
		// says 0): the command was interrupted.
		return 128 + int(syscall.SIGTERM)
	}
	return code
}

// once runs job j in a container of its own, made for it with c's
// settings but for the guarded files, which are left writable (Protect with
// open) when a person approved the job's write to them (Job.OpenGuarded),
// and the job's control folder (Job.Control), mounted read-only: the
// project's container cannot change its mounts for one exec. The
// container has c's image, user, limits, network, home, exchange folder
// and extras; the job has the same environment, working folder, terminal,
// agent files and reaper (here the container's first process) as an exec.
// The container is made first and then started attached (so that it never
// runs unwatched); a watchdog removes it once the job has ended, also when
// chaperone is killed. Its name, c's and the job's id, is its alone.
func (e Engine) once(ctx context.Context, c *container, j *Job, env []string) (int, error) {
	r, err := e.newRun(c, j, env)
	if err != nil {
		return 126, err
	}
	defer r.done()
	name := c.name + "-once-" + r.id
	a := []string{"create", "--rm", "-i"}
	if r.tty {
		a = append(a, "-t")
	}
	a = append(a, "--name", name, "--label", "chaperone.project="+c.project, "--label", onceLabel+"="+c.name)
	for _, v := range c.extras {
		a = append(a, "-v", v)
	}
	if r.ctl != "" {
		a = append(a, "-v", r.ctl+":"+controlMount+":ro")
	}
	a = append(a, e.runArgs(c, env, j.OpenGuarded)...)
	a = append(a, r.env...)
	a = append(a, "-w", r.dir, c.image)
	a = append(a, r.command(j)...)
	var msg bytes.Buffer
	if err := e.cli(ctx, env, &msg, a...); err != nil {
		e.cli(context.Background(), env, nil, "rm", "-f", name) // in case it was made after all
		return 126, e.createError(c, name, msg.String(), err)
	}
	// From here on, whatever happens, the watchdog removes the container
	// (the lifeline is closed without "ok"); --rm removes it too once the
	// reaper has ended.
	lifeline, err := e.watchdog(env, "rm", "-f", name)
	if err != nil {
		e.cli(context.Background(), env, nil, "rm", "-f", name)
		return 126, err
	}
	defer lifeline.Close()
	cmd := exec.Command(e.prog(), "start", "-a", "-i", name)
	cmd.Env = env
	cancel := func() {
		hostSignal(r.id, syscall.SIGTERM)
		e.cli(context.Background(), env, nil, "kill", "--signal", "TERM", name)
	}
	code, err := child(ctx, cmd, j, false, r.tty, nil, cancel)
	res, rerr := r.wait(ctx, c)
	if rerr == nil {
		code = res.Status
	} else {
		// The reaper did not report: what is left ends with the
		// container.
		e.cli(context.Background(), env, nil, "rm", "-f", name)
		res = reaper.Result{}
		code = interrupted(ctx, code, err)
	}
	report(j, res)
	return code, err
}

// onceLabel marks a container of one job's own (see once) with its
// project container's name.
const onceLabel = "chaperone.once"

// createError is the error for the engine's failure to create the
// container name for c, with what the engine said (msg).
func (e Engine) createError(c *container, name, msg string, err error) error {
	m := strings.TrimSpace(msg)
	if strings.Contains(m, "image") || strings.Contains(m, "manifest") || strings.Contains(m, "pull") {
		return fmt.Errorf("%w: %s cannot use image %s (build one with `chaperone sandbox up --build`, or set [sandbox] image or CHAPERONE_IMAGE): %s",
			ErrImage, e.Kind, c.image, m)
	}
	return fmt.Errorf("create sandbox %s: %s: %w", name, m, err)
}

// watchdog starts a detached process (its own session, not a child of
// chaperone once started) that waits on a pipe: if chaperone ends without
// writing "ok" to it — killed, even by SIGKILL — it runs the engine's CLI
// with args (`chaperone-reaper -kill` in the container, say, which kills
// the job's reaper and everything below it). It returns the pipe's write
// end.
func (e Engine) watchdog(env []string, args ...string) (*os.File, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	script := `{ read -r x <&3 || exec "$@"; } 3<&3 </dev/null >/dev/null 2>&1 &`
	cmd := exec.Command("/bin/sh", append([]string{"-c", script, "chaperone-watchdog", e.prog()}, args...)...)
	cmd.Env = env
	cmd.ExtraFiles = []*os.File{r}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("start watchdog: %w", err)
	}
	go cmd.Wait() // sh exits at once, leaving the watchdog in the background
	return w, nil
}

// armWatchdog starts the watchdog (see watchdog) in the background; the
// function it returns waits for it to have started.
func (e Engine) armWatchdog(env []string, args ...string) func() (*os.File, error) {
	type started struct {
		lifeline *os.File
		err      error
	}
	ch := make(chan started, 1)
	go func() {
		f, err := e.watchdog(env, args...)
		ch <- started{f, err}
	}()
	return func() (*os.File, error) {
		s := <-ch
		return s.lifeline, s.err
	}
}

// moveFile moves an output from the exchange folder to where the agent
// reads it, keeping the destination file (and its mode) when it exists.
// The sandbox could have put a symbolic link or a FIFO in either place, to
// make chaperone copy a host file out to the agent, write over one, or
// block: only a regular file (not followed, at most 1 MiB) is taken, and
// it is written only over a regular file or where there is none, never
// through a symbolic link.
func moveFile(src, dst string) {
	f, err := os.OpenFile(src, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		os.Remove(src)
		return
	}
	defer f.Close()
	defer os.Remove(src)
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return
	}
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return
	}
	defer out.Close()
	if fi, err := out.Stat(); err != nil || !fi.Mode().IsRegular() {
		return
	}
	if out.Truncate(0) == nil {
		out.Write(data)
	}
}

// jobID returns a fresh random job id.
func jobID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// createArgs is the CLI command that creates the container with extras
// (extra volumes "HOST:CTR:ro", sorted).
func (c *container) createArgs(extras []string) []string {
	x, _ := json.Marshal(extras)
	a := []string{"run", "-d", "-i", "--name", c.name,
		"--label", "chaperone.project=" + c.project, "--label", "chaperone.spec=" + c.spec,
		"--label", "chaperone.extra=" + string(x)}
	for _, v := range extras {
		a = append(a, "-v", v)
	}
	a = append(a, c.args...)
	// The container's main process: bash waiting on a stdin that stays
	// open; as pid 1 it also reaps orphans, and it ends on SIGTERM (so
	// removing the container is quick). Any image with bash will do.
	return append(a, "bash", "-c", `trap "exit 0" TERM; read -r _`)
}

// covers reports whether have holds every mount in need.
func covers(have, need []string) bool {
	set := map[string]bool{}
	for _, h := range have {
		set[h] = true
	}
	for _, n := range need {
		if !set[n] {
			return false
		}
	}
	return true
}

// union returns the sorted union of two mount lists.
func union(a, b []string) []string {
	set := map[string]bool{}
	var out []string
	for _, x := range append(append([]string{}, a...), b...) {
		if !set[x] {
			set[x] = true
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}
