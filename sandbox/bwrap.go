package sandbox

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/sandbox/seccomp"
	"golang.org/x/sys/unix"
)

// Bwrap runs each command in a fresh bubblewrap jail: new user, pid, net,
// ipc and uts namespaces, the host root read-only, the working tree
// read-write, home and /tmp replaced by empty tmpfs, /run hidden (no docker
// or agent sockets), all capabilities dropped, and the jail dies with
// chaperone (--die-with-parent). Safe for concurrent use.
type Bwrap struct {
	// Path is the bwrap program; empty means "bwrap" on PATH.
	Path   string
	Policy Policy
}

// Name returns "bwrap".
func (Bwrap) Name() string { return "bwrap" }

// Run runs the job in a new jail and returns bash's exit status.
func (b Bwrap) Run(ctx context.Context, j *Job) (int, error) {
	tty := wantsTTY(j)
	prog, args, env, egress, err := b.command(j, tty)
	if err != nil {
		return 126, err
	}
	defer egress.stop()
	if j.ctlDir != "" {
		defer os.RemoveAll(j.ctlDir)
	}
	// bwrap sets the jail up, then waits on the gate (fd 3) before it runs
	// bash: the job's Ready hook runs meanwhile. The command has been
	// decided before this; a gate closed without a byte (chaperone gone)
	// would let bwrap go on, but --die-with-parent ends it then anyway.
	for attempt := 1; ; attempt++ {
		code, again, err := b.start(ctx, j, tty, prog, args, env)
		if !again || attempt == setupAttempts {
			return code, err
		}
		fmt.Fprintf(stderrOf(j), "chaperone: %v; starting it again\n", ErrSetupFailed)
		args = j.remask(args)
	}
}

// remask returns bwrap's arguments args with the credential stores to
// blank found again: a store that went away since (its mount point with
// it) fails bwrap's setup, which is why the sandbox is started again.
func (j *Job) remask(args []string) []string {
	if j.masks == nil {
		return args
	}
	m := j.masks()
	out := append(append(slices.Clip(args[:j.masksAt]), m...), args[j.masksAt+j.masksLen:]...)
	j.masksLen = len(m)
	return out
}

// blankStores are the arguments that show the credential stores
// (credentialStores) blank: /dev/null over a file, an empty tmpfs over a
// folder.
func blankStores(project string, blank []string) []string {
	files, dirs := credentialStores(project, blank)
	var a []string
	for _, f := range files {
		a = append(a, "--ro-bind", "/dev/null", f)
	}
	for _, d := range dirs {
		a = append(a, "--tmpfs", d)
	}
	return a
}

// start runs bwrap once. again is true when bwrap ended before it read its
// gate and the command may be started again: nothing of it ran, and its
// stdin is as it was.
func (b Bwrap) start(ctx context.Context, j *Job, tty bool, prog string, args, env []string) (code int, again bool, err error) {
	filter, err := seccomp.File()
	if err != nil {
		return 126, false, fmt.Errorf("seccomp filter: %w", err)
	}
	defer filter.Close()
	gr, gate, err := os.Pipe()
	if err != nil {
		return 126, false, err
	}
	defer gr.Close()
	defer gate.Close()
	cmd := exec.Command(prog, append([]string{"--block-fd", "3", "--seccomp", "4"}, args...)...)
	cmd.Env = env
	cmd.ExtraFiles = []*os.File{gr, filter}
	code, err = child(ctx, cmd, j, tty, false, gate, func() { cmd.Process.Kill() })
	again = err == nil && code != 0 && ctx.Err() == nil && !tty && stdinUntouched(j) && gateUnread(gr)
	return code, again, err
}

// setupAttempts is how many times a command's sandbox is started when
// bwrap's setup fails before the command runs. Such a failure can pass:
// bwrap binds / with everything mounted below it, then remounts each of
// those mounts read-only from the list it read, and a mount removed in
// between fails that remount with EINVAL (a container's, when docker or
// podman removes its folder: that takes the mount out of every namespace,
// bwrap's too, so a private mount namespace does not help).
const setupAttempts = 3

// gateUnread reports whether the byte written to bwrap's gate (its
// --block-fd) is still in the pipe once bwrap has ended: bwrap reads it
// only when the sandbox is set up, just before it runs the command, so
// then nothing of the command ran. Only chaperone writes to the gate, and
// bwrap closes its end before the command starts.
func gateUnread(r *os.File) bool {
	n, err := unix.IoctlGetInt(int(r.Fd()), unix.TIOCINQ) // FIONREAD: bytes in the pipe
	return err == nil && n > 0
}

// stdinUntouched reports whether a command that did not start left the
// job's stdin as it was: it is a file given to bwrap as is (or none), not
// a reader copied into a pipe.
func stdinUntouched(j *Job) bool {
	in, _, _ := stdio(j)
	if in == nil {
		return true
	}
	_, ok := in.(*os.File)
	return ok
}

// stderrOf is where chaperone's own line about the job goes: the job's
// stderr, else this process's.
func stderrOf(j *Job) io.Writer {
	if _, _, w := stdio(j); w != nil {
		return w
	}
	return os.Stderr
}

// CommandLine is the bwrap command line (program first) that runs the job
// without a terminal, less the gate and the seccomp filter Run adds (both
// are descriptors): what a person can run to see the sandbox chaperone
// makes.
func (b Bwrap) CommandLine(j *Job) ([]string, error) {
	jj := *j
	jj.Egress = nil // a person's own run has no proxy to reach
	jj.Control = nil
	prog, args, _, _, err := b.command(&jj, false)
	if err != nil {
		return nil, err
	}
	return append([]string{prog}, args...), nil
}

// command returns the bwrap program, its arguments (after argv[0]) and its
// environment for the job, and the job's egress socket, served until the
// caller stops it (nil when the job has no proxy).
func (b Bwrap) command(j *Job, tty bool) (prog string, args, env []string, egress *egressSock, err error) {
	prog = b.Path
	if prog == "" {
		prog = "bwrap"
	}
	prog, err = exec.LookPath(prog)
	if err != nil {
		return "", nil, nil, nil, err
	}
	jobEnv := j.env()
	args, egress, err = b.args(j, jobEnv, tty)
	if err != nil {
		return "", nil, nil, nil, err
	}
	return prog, args, b.Policy.Env(jobEnv, true), egress, nil
}

// args builds bwrap's command line for the job. The mounts come from the
// policy alone: the project, the user's config, and the agent files that
// pass agentFile; never from the command text.
func (b Bwrap) args(j *Job, env []string, tty bool) ([]string, *egressSock, error) {
	dir, project, err := j.dirs()
	if err != nil {
		return nil, nil, err
	}
	marker, err := writeMarker(stateDir(env))
	if err != nil {
		return nil, nil, err
	}
	a := []string{"--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent"}
	if n := b.Policy.network(); n != "host" {
		a = append(a, "--unshare-net")
	}
	if os.Getuid() == 0 {
		a = append(a, "--cap-drop", "ALL")
	}
	if !tty {
		a = append(a, "--new-session")
	}
	a = append(a, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--tmpfs", "/run")
	blank := []string{"/tmp", "/run"} // folders that are empty inside
	if home := lookup(env, "HOME"); filepath.IsAbs(home) && home != "/" {
		a = append(a, "--tmpfs", home)
		blank = append(blank, filepath.Clean(home))
	}
	if t := lookup(env, "TMPDIR"); filepath.IsAbs(t) && !within(t, project) && !within(project, t) {
		if _, err := os.Stat(t); err == nil {
			a = append(a, "--tmpfs", t)
			blank = append(blank, filepath.Clean(t))
		}
	}
	// The machine's own credential stores and those in other homes,
	// where this user can read them (root): blank.
	j.masks = func() []string { return blankStores(project, blank) }
	j.masksAt = len(a)
	a = append(a, j.masks()...)
	j.masksLen = len(a) - j.masksAt
	for _, m := range b.Policy.Mounts {
		src, dst := splitMount(m)
		a = append(a, "--ro-bind-try", src, dst)
	}
	// chaperone's own folders, wherever they are: blank.
	for _, d := range b.Policy.hidden(env, blank) {
		a = append(a, "--tmpfs", d)
	}
	// The tree read-write; .git pinned in place; what host tools run,
	// read-only.
	a = append(a, "--bind", project, project)
	g := Protect(project, b.Policy.Protect, j.OpenGuarded)
	for _, p := range g.Pinned {
		a = append(a, "--bind", p, p)
	}
	for _, p := range g.ReadOnly {
		a = append(a, "--ro-bind", p, p)
	}
	outputs, inputs := agentFiles(j)
	for _, p := range inputs {
		a = append(a, "--ro-bind", p, p)
	}
	for _, p := range outputs {
		if createOutput(p) {
			a = append(a, "--bind", p, p)
		}
	}
	if sh, exe := shellPath(j); sh != "" {
		a = append(a, "--ro-bind", exe, sh)
	}
	bash, err := RealBash()
	if err != nil {
		return nil, nil, err
	}
	var prefix []string
	var egress *egressSock
	if proxied := b.Policy.proxied(j); proxied || sealed(j) {
		var mounts, setenv []string
		egress, mounts, prefix, setenv, err = bwrapReaped(j, env, proxied)
		if err != nil {
			return nil, nil, err
		}
		a = append(append(a, mounts...), setenv...)
	}
	if j.Control != nil {
		ctlDir, ctl, err := bwrapControl(j, env)
		if err != nil {
			egress.stop()
			return nil, nil, err
		}
		j.ctlDir = ctlDir // removed by Run
		a = append(a, ctl...)
	}
	a = append(a, "--ro-bind", marker, MarkerPath, "--chdir", dir, "--")
	return append(append(a, prefix...), bashArgv(bash, j)...), egress, nil
}

// credentialStores are the credential stores this process can read,
// files and folders: the machine's own (models.SystemSecrets) and those in
// the other users' homes and root's (models.HomeSecrets), but those in the
// project, around it, or in a folder that is blank in the sandbox anyway
// (this user's home). Links are not followed: what a link names is either
// listed itself or not a store.
func credentialStores(project string, blank []string) (files, dirs []string) {
	shown := func(p string) bool {
		return !within(project, p) && !within(p, project) && !blankAt(p, blank)
	}
	var cands []string
	real := map[string]string{} // folders as links resolve them: /var/run is /run
	for _, s := range models.SystemSecrets {
		paths := []string{strings.TrimSuffix(s, "/")}
		if strings.HasSuffix(s, "_") { // a name prefix: the ssh host keys
			paths, _ = filepath.Glob(s + "*")
		}
		for _, p := range paths {
			d := filepath.Dir(p)
			if _, ok := real[d]; !ok {
				real[d], _ = filepath.EvalSymlinks(d)
			}
			if real[d] != "" {
				cands = append(cands, filepath.Join(real[d], filepath.Base(p)))
			}
		}
	}
	homes, _ := filepath.Glob("/home/*")
	for _, h := range append(homes, "/root") {
		h, err := filepath.EvalSymlinks(h)
		if err != nil || blankAt(h, blank) || unix.Access(h, unix.X_OK) != nil {
			continue // this user's own home is blank; others it cannot enter
		}
		// Only what is there is looked at: a home's names are read once,
		// not each store's path (hundreds of stats per command).
		there := folderNames(h)
		for _, s := range models.HomeSecrets {
			rel := strings.TrimSuffix(strings.TrimPrefix(s, "~/"), "/")
			if first, _, _ := strings.Cut(rel, "/"); there != nil && !there[first] {
				continue
			}
			cands = append(cands, filepath.Join(h, rel))
		}
	}
	for _, p := range cands {
		if !shown(p) {
			continue
		}
		fi, err := os.Lstat(p)
		if err != nil || unix.Access(p, unix.R_OK) != nil {
			continue
		}
		switch {
		case fi.IsDir():
			dirs = append(dirs, p)
		case fi.Mode().IsRegular():
			files = append(files, p)
		}
	}
	return files, dirs
}

// blankAt reports whether p is in one of the folders blank in the sandbox.
func blankAt(p string, blank []string) bool {
	for _, b := range blank {
		if within(p, b) {
			return true
		}
	}
	return false
}

// folderNames returns the names in folder dir, or nil when it cannot be read.
func folderNames(dir string) map[string]bool {
	f, err := os.Open(dir)
	if err != nil {
		return nil
	}
	defer f.Close()
	list, err := f.Readdirnames(-1)
	if err != nil {
		return nil
	}
	m := make(map[string]bool, len(list))
	for _, n := range list {
		m[n] = true
	}
	return m
}

// bashArgv is the real bash's argv for the job: flags, -c, the script and
// its $0, $1, … ($0 defaults to "bash", as when bash is run by that name).
func bashArgv(bash string, j *Job) []string {
	a := []string{bash}
	a = append(a, j.BashFlags...)
	a = append(a, "-c", j.Script)
	if len(j.Args) == 0 {
		return append(a, "bash")
	}
	return append(a, j.Args...)
}

// splitMount splits a config mount "HOST[:SANDBOX]".
func splitMount(m string) (src, dst string) {
	if i := strings.LastIndex(m, ":"); i >= 0 && filepath.IsAbs(m[i+1:]) {
		return m[:i], m[i+1:]
	}
	return m, m
}

// shellPath returns where chaperone must answer as bash inside the sandbox
// (the agent's path for it) and the chaperone program to mount there, or ""
// when there is nothing to do.
func shellPath(j *Job) (sh, exe string) {
	sh = j.Shell
	if sh == "" && len(os.Args) > 0 && filepath.IsAbs(os.Args[0]) {
		sh = os.Args[0]
	}
	switch sh {
	case "", "/bin/bash", "/usr/bin/bash", "/bin/sh", "/usr/bin/sh":
		return "", ""
	}
	exe, err := os.Executable()
	if err != nil {
		return "", ""
	}
	if _, err := os.Stat(sh); err != nil {
		return "", ""
	}
	return filepath.Clean(sh), exe
}
