// Package reaper is the program under which each command of a docker or
// podman sandbox runs, so that nothing the command started outlives it.
//
// The engines run every command as an exec into one long-lived container.
// There, a process that detaches from its command (a new session, a double
// fork, nohup, disown, a cleared environment) would otherwise stay after
// the command ended, and could reach later commands: their processes, and
// through /proc/PID/fd their output. The reaper is the process the engine
// executes: it makes itself a child subreaper (PR_SET_CHILD_SUBREAPER), so
// that whatever the command orphans is reparented to it rather than to the
// container's init; it runs the command; and when the command has ended it
// kills every process left below it, found by their parent links in /proc
// (which no renaming, new session or change of environment undoes), until
// none is left. It writes the command's status and what it had to kill to
// a result file, and exits with the command's status.
//
// Before it starts the command, the reaper prepares what the engine's exec
// cannot (a Setup, given in SetupEnv): it sees to the container's home
// folder, which outlives commands, so that nothing an earlier command
// planted there (a ~/.bash_profile, a ~/.gitconfig) runs in this one; it
// makes TMPDIR, sets the terminal's size, and links the agent's files from
// the exchange folder to their paths. Doing it here, rather than in a
// shell the engine would start first, saves a program's start per command.
//
// chaperone and chaperone-shell become the reaper when started under the
// name chaperone-reaper (see Is); both are built static, so the engine can
// mount either into any image. The program's forms are:
//
//	chaperone-reaper JOB -- ARGV...   run ARGV as job JOB (see run), after
//	                                  the Setup given in SetupEnv
//	chaperone-reaper -term JOB        send SIGTERM to job JOB's reaper
//	chaperone-reaper -kill JOB        kill job JOB's reaper, all below it
//	                                  and the strays; print what was killed
//
// JOB is any word not starting with "-" that names the job in the reaper's
// command line, where -term and -kill find it. The result file's path is
// given in the environment (ResultEnv), not on the command line: a command
// can read its reaper's command line, but not the environment of a process
// that has made itself non-dumpable, so it cannot forge the result.
//
// Strays are processes whose job's reaper is gone (its own command can kill
// it: they run as the same user): they are reparented to the container's
// init. In chaperone's containers init is bash waiting on its stdin, with no
// children of its own, so every process below it is a stray. A reaper ends
// them before it starts its command and after, and -kill ends them too,
// but only where that is sure: inside a chaperone sandbox (internal/inside),
// started from outside the container's pid namespace (an engine's exec:
// parent pid 0), with bash as pid 1.
package reaper

import (
	"errors"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"github.com/chaperone-dev/chaperone/internal/egress"
	"github.com/chaperone-dev/chaperone/internal/inside"
)

// Name is the program name (the base name of argv[0]) under which
// chaperone's programs run as the reaper.
const Name = "chaperone-reaper"

// ResultEnv is the environment variable that gives the reaper the path of
// its result file. The reaper removes it from the command's environment.
const ResultEnv = "CHAPERONE_REAPER_RESULT"

// Grace is how long the command is given to end after the reaper itself
// receives SIGTERM or SIGHUP (and forwards it), before everything is killed.
const Grace = 500 * time.Millisecond

// endWait bounds how long the reaper tries to end what is left; a process
// that does not die by then (stuck in the kernel) is counted in Result.Left.
const endWait = 5 * time.Second

// Linux prctl options (not all in package syscall).
const (
	prSetDumpable       = 4
	prSetChildSubreaper = 36
)

// Is reports whether a program started with argv0 must run as the reaper:
// its base name is Name.
func Is(argv0 string) bool {
	return argv0[strings.LastIndexByte(argv0, '/')+1:] == Name
}

// Main runs the reaper with the command line args (args[0] is the program
// name) and returns the exit status.
func Main(args []string) int {
	switch {
	case len(args) == 3 && args[1] == "-term" && isJob(args[2]):
		return term(args[2])
	case len(args) == 3 && args[1] == "-kill" && isJob(args[2]):
		return kill(args[2])
	case len(args) >= 4 && isJob(args[1]) && args[2] == "--":
		return run(args[1], args[3:])
	}
	warn("usage: " + Name + " JOB -- ARGV... | -term JOB | -kill JOB")
	return 2
}

// isJob reports whether s can name a job.
func isJob(s string) bool { return s != "" && s[0] != '-' && !strings.ContainsRune(s, 0) }

// run runs argv as job job and returns its status: its exit code, or 128+N
// when it died of signal N (126 or 127 when it could not be started).
//
// SIGINT and SIGQUIT sent to the reaper are forwarded to the command.
// SIGTERM and SIGHUP (the engine cancelling the job) are forwarded too, and
// the command gets Grace to end before everything is killed, so that a
// SIGKILL of the reaper afterwards leaves nothing behind. When stdin is the
// reaper's controlling terminal, the command gets its own process group in
// the foreground, so that keys like ^C reach it once, from the terminal.
func run(job string, argv []string) int {
	result := os.Getenv(ResultEnv)
	// From here on only root can read this process's environment (the
	// result file's path) or trace it; processes of the same user can
	// still signal it (see Strays in the package doc).
	prctl(prSetDumpable, 0)
	if err := prctl(prSetChildSubreaper, 1); err != nil {
		warn("cannot become the command's subreaper: " + err.Error())
		return finish(result, Result{Status: 126})
	}
	k := newKiller(os.Getpid(), "", straysAllowed())
	k.end() // earlier commands' strays, before this one can meet them
	seal := false
	var ch *os.File
	if v, ok := os.LookupEnv(SetupEnv); ok {
		s, err := ParseSetup(v)
		if err != nil {
			warn(err.Error())
			return finish(result, Result{Status: 126, Killed: k.list(), Left: k.left})
		}
		seal = s.Seal
		if s.Channel != "" {
			if ch, err = channel(s.Channel); err != nil {
				warn("cannot open the session's channel: " + err.Error())
				return finish(result, Result{Status: 126, Killed: k.list(), Left: k.left})
			}
		}
		s.prepare(os.Getpid())
		if s.Egress != "" {
			if err := startEgress(s.Egress, s.EgressKey); err != nil {
				warn("cannot start the network forwarder: " + err.Error())
				return finish(result, Result{Status: 126, Killed: k.list(), Left: k.left})
			}
		}
	}

	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGCHLD)
	pid, status, err := start(argv, seal, ch)
	if err != nil {
		warn(argv[0] + ": " + err.Error())
		return finish(result, Result{Status: status, Killed: k.list(), Left: k.left})
	}
	k.cmd = pid
	var grace <-chan time.Time
wait:
	for {
		select {
		case s := <-sigs:
			sig := s.(syscall.Signal)
			if sig == syscall.SIGCHLD {
				if k.reap(); k.status >= 0 {
					break wait
				}
				continue
			}
			syscall.Kill(pid, sig)
			if (sig == syscall.SIGTERM || sig == syscall.SIGHUP) && grace == nil {
				grace = time.After(Grace)
			}
		case <-grace:
			break wait
		}
	}
	k.end()
	if k.status < 0 {
		// Never reaped (the kill did not take in endWait): report it as
		// killed.
		k.status = 128 + int(syscall.SIGKILL)
	}
	return finish(result, Result{Status: k.status, Killed: k.list(), Left: k.left})
}

// startEgress starts the forwarder to the proxy's socket and sets the proxy
// variables for the command (over any the command's environment had).
func startEgress(sock, key string) error {
	port, err := egress.Forward(sock, key)
	if err != nil {
		return err
	}
	for _, kv := range egress.Env(port) {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	return nil
}

// finish writes r to the result file (when there is one) and returns the
// status.
func finish(path string, r Result) int {
	if path != "" {
		if err := writeResult(path, r); err != nil {
			warn("cannot write the command's result: " + err.Error())
		}
	}
	return r.Status
}

// writeResult creates the result file, which must not exist yet (the
// folder it is in may be writable by the command; its name is secret).
func writeResult(path string, r Result) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(r.Encode()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// start starts argv with this process's stdio and environment (without
// ResultEnv and SetupEnv), and returns its pid, or the status to report
// and why it did not start. With seal, the program runs sealed (see
// sealed), or not at all. A channel (see channel) is given to it as
// descriptors 3 and 4 (the session's bash moves them).
func start(argv []string, seal bool, ch *os.File) (pid, status int, err error) {
	env := os.Environ()
	kept := env[:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, ResultEnv+"=") && !strings.HasPrefix(kv, SetupEnv+"=") {
			kept = append(kept, kv)
		}
	}
	path, err := lookPath(argv[0], os.Getenv("PATH"))
	if err != nil {
		return 0, 127, err
	}
	sys := &syscall.SysProcAttr{}
	if fg, err := foreground(0); err == nil && fg == syscall.Getpgrp() {
		sys.Setpgid, sys.Foreground, sys.Ctty = true, true, 0
	}
	exe := path
	if seal {
		f, err := sealed(path)
		if err != nil {
			return 0, 126, errors.New("cannot seal it: " + err.Error())
		}
		defer f.Close() // the child has it executed by then
		exe = "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
	}
	files := []uintptr{0, 1, 2}
	if ch != nil {
		files = append(files, ch.Fd(), ch.Fd())
		defer ch.Close()
	}
	pid, err = syscall.ForkExec(exe, argv, &syscall.ProcAttr{Env: kept, Files: files, Sys: sys})
	if err != nil {
		if err == syscall.ENOENT {
			return 0, 127, err
		}
		return 0, 126, err
	}
	if seal && readable(pid) {
		// Executed from a file it cannot read, yet open to its own user:
		// a capability let it read the file. Not run open.
		syscall.Kill(pid, syscall.SIGKILL)
		var ws syscall.WaitStatus
		syscall.Wait4(pid, &ws, 0, nil)
		return 0, 126, errors.New("cannot seal it: this sandbox keeps a capability that reads any file (CAP_DAC_OVERRIDE?)")
	}
	if sys.Foreground {
		// In the background now: a warning written to the terminal must
		// not stop the reaper (TOSTOP). Not before the fork: the command
		// would inherit it.
		signal.Ignore(syscall.SIGTTOU)
	}
	return pid, 0, nil
}

// sealed returns an execute-only copy of the program at path (a memfd of
// mode 0111, closed on exec). A process executed from a file it cannot
// read is not dumpable: no process of its user (without CAP_SYS_PTRACE)
// may open its /proc/PID/fd entries, read or write its memory, trace it or
// take its descriptors, and a child it forks is not either, until it
// executes a program of its own. A session's bash holds its channel with
// chaperone on descriptors (saved at high numbers while a statement runs):
// a statement's child could otherwise reopen them through /proc and write
// text to the channel that was never rated.
func sealed(path string) (*os.File, error) {
	src, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	name := []byte("chaperone-sealed\x00")
	fd, _, e := syscall.Syscall(sysMemfdCreate, uintptr(unsafe.Pointer(&name[0])), mfdCloexec, 0)
	if e != 0 {
		return nil, e
	}
	f := os.NewFile(fd, "chaperone-sealed")
	if _, err := io.Copy(f, src); err != nil {
		f.Close()
		return nil, err
	}
	if err := syscall.Fchmod(int(fd), 0o111); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// channel connects to a session's channel with chaperone, the socket "s"
// in the folder dir, and returns the connection, for the session's bash.
// A statement can reopen a FIFO its bash holds (through /proc/self/fd, by
// any name that leads there) and write text to it that was never rated;
// no name reopens a socket. chaperone takes one connection only: this
// one, made before bash runs anything.
func channel(dir string) (*os.File, error) {
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := syscall.Connect(fd, &syscall.SockaddrUnix{Name: dir + "/s"}); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), "channel"), nil
}

// mfdCloexec is memfd_create's MFD_CLOEXEC.
const mfdCloexec = 1

// readable reports whether this process can read what pid executes
// (/proc/PID/exe): a sealed process's it cannot.
func readable(pid int) bool {
	_, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	return err == nil
}

// errNotFound is lookPath's error for a program in no folder of PATH.
type errNotFound struct{}

func (errNotFound) Error() string { return "command not found" }

// lookPath finds the program name as a shell would: as it is when it has
// a slash, else in the folders of path (a default one when empty).
func lookPath(name, path string) (string, error) {
	if strings.ContainsRune(name, '/') {
		return name, nil
	}
	if path == "" {
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	}
	for _, dir := range strings.Split(path, ":") {
		if dir == "" {
			dir = "."
		}
		p := dir + "/" + name
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", errNotFound{}
}

// foreground returns the foreground process group of the terminal fd.
func foreground(fd int) (int, error) {
	var pgrp int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.TIOCGPGRP, uintptr(unsafe.Pointer(&pgrp))); e != 0 {
		return 0, e
	}
	return int(pgrp), nil
}

// term sends SIGTERM to job's reapers: each forwards it to its command and
// ends the rest after Grace.
func term(job string) int {
	procs, err := scan()
	if err != nil {
		warn(err.Error())
		return 1
	}
	for _, pid := range reapers(procs, job, os.Getpid()) {
		syscall.Kill(pid, syscall.SIGTERM)
	}
	return 0
}

// kill kills job's reapers and everything below them, and the strays, and
// prints what it killed on stdout, in the result file's form.
func kill(job string) int {
	k := newKiller(os.Getpid(), job, straysAllowed())
	k.end()
	os.Stdout.Write(Result{Killed: k.list(), Left: k.left}.Encode())
	return 0
}

// straysAllowed reports whether strays may be ended here (see the package
// doc): in a chaperone sandbox, in a process the engine executed (its parent
// is outside the pid namespace), with bash as init.
func straysAllowed() bool {
	if os.Getppid() != 0 || !inside.Sandbox() {
		return false
	}
	b, err := os.ReadFile("/proc/1/comm")
	return err == nil && string(b) == "bash\n"
}

// prctl calls prctl(2) with one argument.
func prctl(option, arg uintptr) error {
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, option, arg, 0); e != 0 {
		return e
	}
	return nil
}

// warn writes a message for the person to stderr.
func warn(msg string) {
	os.Stderr.WriteString("chaperone: sandbox: " + msg + "\n")
}
