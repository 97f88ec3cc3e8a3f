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
)

// Engine runs commands in one long-lived container per project, through
// the docker or podman CLI. The container is created on first use (or by
// Up) and reused; each command is an exec into it with real bash, in the
// same working directory. Safe for concurrent use.
//
// Defaults (see Policy): no network, read-only root with a tmpfs /tmp and
// an empty tmpfs home, the tree bind-mounted read-write at its own path with
// .git/hooks, .git/config and .chaperone.toml read-only over it, all
// capabilities dropped, no-new-privileges, the user's uid:gid, memory, CPU
// and pid limits, no engine socket, the environment allow-list.
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
	marker, err := writeMarker(state)
	if err != nil {
		return nil, err
	}
	built, _ := os.ReadFile(filepath.Join(c.dir, "image"))
	c.image = e.Policy.image(env, strings.TrimSpace(string(built)))

	p := e.Policy
	a := []string{"--network", p.network()}
	if !p.WritableRoot {
		a = append(a, "--read-only")
	}
	a = append(a, "--tmpfs", "/tmp:rw,nosuid,nodev,mode=1777")
	home := lookup(env, "HOME")
	if home != "" && home != "/" && filepath.IsAbs(home) && !within(home, project) {
		opts := fmt.Sprintf("uid=%d,gid=%d", c.uid, c.gid)
		if e.Kind == "podman" {
			opts = "U" // podman's way: owned by the container's user
		}
		a = append(a, "--tmpfs", home+":rw,nosuid,nodev,mode=0700,"+opts, "-e", "HOME="+home)
	}
	a = append(a, "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
		"--user", c.user(),
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
	a = append(a, "-v", project+":"+project)
	g := Protect(project, p.Protect, false)
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
	a = append(a, "-v", marker+":"+MarkerPath+":ro", "-v", c.outs+":"+outMount, "-w", project, c.image)
	sum := sha256.Sum256([]byte(strings.Join(a, "\x00")))
	c.spec = hex.EncodeToString(sum[:8])
	c.args = a

	// Mounts a job may need beyond those: agent snapshots, the shell
	// path. A container that has them all is reused as it is.
	_, inputs := agentFiles(j)
	for _, pp := range inputs {
		c.extras = append(c.extras, pp+":"+pp+":ro")
	}
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
			m := strings.TrimSpace(msg.String())
			if strings.Contains(m, "image") || strings.Contains(m, "manifest") || strings.Contains(m, "pull") {
				return fmt.Errorf("%w: %s cannot use image %s (build one with `chaperone sandbox up --build`, or set [sandbox] image or CHAPERONE_IMAGE): %s",
					ErrImage, e.Kind, c.image, m)
			}
			return fmt.Errorf("create sandbox %s: %s: %w", c.name, m, err)
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

// prelude runs as the reaper's command: it links the job's outputs to the
// exchange folder, makes TMPDIR, sets the terminal size (docker before API
// 1.42 sets it only after the command started), and becomes the command.
// $1 is TMPDIR, $2 ROWSxCOLS or "", then pairs FILE LINK, "--", argv.
const prelude = `t=$1; shift; if [ -n "$t" ]; then mkdir -p -- "$t" 2>/dev/null; fi; ` +
	`if [ -n "$1" ]; then stty rows "${1%x*}" cols "${1#*x}" 2>/dev/null; fi; shift; ` +
	`while [ "$1" != -- ]; do mkdir -p -- "${1%/*}" 2>/dev/null; ln -sfn -- "$2" "$1"; shift 2; done; shift; ` +
	`exec "$@"`

// Run runs the job in the project's container (creating it if needed) and
// returns bash's exit status. Cancelling ctx, or killing this process in
// any way, ends the command inside the container too.
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
	if err := e.ensure(ctx, c, env, errw); err != nil {
		return 126, err
	}
	code, err := e.exec(ctx, c, j, env)
	if code == 125 && err == nil && e.Kind == "podman" {
		// podman's own failure (container gone or stopped) or the
		// command's exit 125: look, and retry only in the first case.
		if st, ierr := e.inspect(ctx, c.name, env); ierr == nil && !st.fits(c) {
			os.Remove(filepath.Join(c.dir, "podman.state.spec"))
			if err := e.ensure(ctx, c, env, errw); err != nil {
				return 126, err
			}
			return e.exec(ctx, c, j, env)
		}
	}
	return code, err
}

// exec runs one job in the running container, under the reaper (see
// internal/reaper): the command's status comes from the reaper's result
// file, which the reaper writes once nothing of the command is left, with
// the list of what it had to kill (reported in j.Killed). Cancelling ctx
// sends SIGTERM to the reaper, which forwards it and ends everything after
// reaper.Grace. When the reaper did not report (killed by its own command,
// say), what is left of the job is killed through the engine.
func (e Engine) exec(ctx context.Context, c *container, j *Job, env []string) (int, error) {
	if _, err := e.reaperProgram(); err != nil {
		return 126, err
	}
	id := jobID()
	dir := j.Dir
	if dir == "" {
		dir, _ = os.Getwd()
	}
	tty := wantsTTY(j)
	a := []string{"exec", "-i"}
	if tty {
		a = append(a, "-t")
	}
	a = append(a, "-u", c.user(), "-w", dir)
	pass := e.Policy.Env(env, false)
	for _, kv := range pass {
		name, _, _ := strings.Cut(kv, "=")
		a = append(a, "-e", name)
	}
	// The result file's name is secret, given to the reaper in its
	// environment, which the command cannot read: knowing it, the command
	// could write a result of its own and kill the reaper.
	result := jobID() + ".result"
	a = append(a, "-e", reaper.ResultEnv+"="+outMount+"/"+result, c.name)

	outputs, _ := agentFiles(j)
	var links []string // FILE LINK pairs
	var moves [][2]string
	for i, f := range outputs {
		if within(f, c.project) {
			continue
		}
		name := fmt.Sprintf("%s-%d", id, i)
		links = append(links, f, outMount+"/"+name)
		moves = append(moves, [2]string{filepath.Join(c.outs, name), f})
	}
	tmp := lookup(env, "TMPDIR")
	if tmp == "/tmp" || within(tmp, c.project) {
		tmp = ""
	}
	size := ""
	if tty {
		if ws, err := pty.GetsizeFull(j.StdinFile); err == nil && ws.Rows > 0 {
			size = fmt.Sprintf("%dx%d", ws.Rows, ws.Cols)
		}
	}
	os.MkdirAll(c.outs, 0o700)
	a = append(a, reaperPath, id, "--", "bash", "-c", prelude, "chaperone-prelude", tmp, size)
	a = append(a, links...)
	a = append(a, "--")
	a = append(a, bashArgv("bash", j)...)

	cmd := exec.Command(e.prog(), a...)
	cmd.Env = env
	// Pass the agent's terminal straight to the CLI, which gives the
	// command a terminal of the same size and forwards resizes.
	lifeline, err := e.watchdog(c, id, env)
	if err != nil {
		return 126, err
	}
	cancel := func() {
		hostSignal(id, syscall.SIGTERM) // at once where the host sees it
		e.reaperCLI(c, env, "-term", id)
	}
	code, err := child(ctx, cmd, j, false, tty, nil, cancel)
	for _, m := range moves {
		moveFile(m[0], m[1])
	}
	resultFile := filepath.Join(c.outs, result)
	res, rerr := readResult(resultFile)
	if rerr != nil && ctx.Err() != nil {
		// The CLI may have been killed with us while the reaper still
		// gives the command its grace.
		for end := time.Now().Add(reaper.Grace + time.Second); rerr != nil && time.Now().Before(end); {
			time.Sleep(20 * time.Millisecond)
			res, rerr = readResult(resultFile)
		}
	}
	os.Remove(resultFile)
	ended := rerr == nil
	if ended {
		code = res.Status
	} else {
		// The reaper did not report: killed (its command can do that),
		// never started, or still running (the CLI was killed). End what
		// is left of the job, and the strays.
		out, kerr := e.reaperCLI(c, env, "-kill", id)
		if r, perr := reaper.ParseResult(out); kerr == nil && perr == nil {
			res = reaper.Result{Killed: r.Killed, Left: r.Left}
			ended = true
		}
		if ctx.Err() != nil && err == nil && code < 128 {
			// The CLI said nothing useful (podman exec killed by SIGTERM
			// says 0): the command was interrupted.
			code = 128 + int(syscall.SIGTERM)
		}
	}
	report(j, res)
	if ended {
		lifeline.Write([]byte("ok\n"))
	}
	lifeline.Close() // without "ok", the watchdog kills what is left
	return code, err
}

// watchdog starts a detached process (its own session, not a child of
// chaperone once started) that waits on a pipe: if chaperone ends without
// writing "ok" to it — killed, even by SIGKILL — it kills the job's reaper
// and everything below it through the engine (`chaperone-reaper -kill`).
// It returns the pipe's write end.
func (e Engine) watchdog(c *container, id string, env []string) (*os.File, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	script := `{ read -r x <&3 || exec "$@"; } 3<&3 </dev/null >/dev/null 2>&1 &`
	args := append([]string{"-c", script, "chaperone-watchdog", e.prog()}, e.killArgs(c, "-kill", id)...)
	cmd := exec.Command("/bin/sh", args...)
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

// moveFile moves an output from the exchange folder to where the agent
// reads it, keeping the destination file (and its mode) when it exists.
// The sandbox could have put a symbolic link there, to make chaperone copy a
// host file out to the agent: only a regular file (not followed, at most
// 1 MiB) is taken.
func moveFile(src, dst string) {
	f, err := os.OpenFile(src, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
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
	os.WriteFile(dst, data, 0o600)
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
