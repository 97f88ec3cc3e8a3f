//go:build linux && (amd64 || arm64)

package seccomp

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/chaperone-dev/chaperone/internal/itest"
	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// probeEnv, set, turns the test binary into a probe that makes the system
// calls it names (space-separated) and prints "name=ERRNO" for each ("0"
// when the call succeeds). Run in a jail, it shows what the filter does to
// each call. The name "program" writes Program to stdout instead (for
// scripts/bench-seccomp).
const probeEnv = "CHAPERONE_SECCOMP_PROBE"

func TestMain(m *testing.M) {
	if names := os.Getenv(probeEnv); names != "" {
		os.Exit(runProbes(strings.Fields(names)))
	}
	os.Exit(m.Run())
}

// A probe makes one system call. Its arguments are chosen, as Flatpak's
// and bubblewrap's try-syscall choose them, so that a call the filter lets
// through fails harmlessly (a bad file descriptor, pointer or flag) or does
// nothing that outlives the probe.
type probe struct {
	name string
	call func() unix.Errno
	want unix.Errno // in the jail with the filter; 0: the call succeeds
	// control: the kernel answers the call with something other than want
	// when there is no filter, whoever runs the test, so a jail without the
	// filter shows that the probe can see the filter missing.
	control bool
}

// sys makes system call nr with args; it returns 0 on success.
func sys(nr uintptr, args ...uintptr) unix.Errno {
	var a [6]uintptr
	copy(a[:], args)
	_, _, e := unix.Syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5])
	return e
}

// bad is an address no mapping holds: the kernel answers EFAULT.
const bad = 1

// none is file descriptor -1.
const none = ^uintptr(0)

// socketProbe opens and closes a socket of the family.
func socketProbe(family int) func() unix.Errno {
	return func() unix.Errno {
		fd, err := unix.Socket(family, unix.SOCK_STREAM, 0)
		if err != nil {
			return err.(unix.Errno)
		}
		unix.Close(fd)
		return 0
	}
}

// ioctlProbe makes ioctl request req on stdin (a terminal), with a byte
// for an argument.
func ioctlProbe(req uintptr) func() unix.Errno {
	return func() unix.Errno {
		var buf [64]byte // room for struct termios too
		return sys(unix.SYS_IOCTL, 0, req, uintptr(unsafe.Pointer(&buf[0])))
	}
}

var probes = []probe{
	// In a Go program, which has threads, CLONE_NEWUSER fails with EINVAL
	// when allowed; CLONE_NEWUSER|CLONE_FS always does.
	{"unshare-newuser", func() unix.Errno { return sys(unix.SYS_UNSHARE, unix.CLONE_NEWUSER) }, unix.EPERM, true},
	{"clone-newuser", func() unix.Errno { return sys(unix.SYS_CLONE, unix.CLONE_NEWUSER|unix.CLONE_FS) }, unix.EPERM, true},
	{"clone3", func() unix.Errno { return sys(unix.SYS_CLONE3, 0, 0) }, unix.ENOSYS, true},
	{"setns", func() unix.Errno { return sys(unix.SYS_SETNS, none, 0) }, unix.EPERM, true},
	{"mount", func() unix.Errno { return sys(unix.SYS_MOUNT, 0, 0, bad, 0, 0) }, unix.EPERM, true},
	{"umount2", func() unix.Errno { return sys(unix.SYS_UMOUNT2, bad, 0xffffffff) }, unix.EPERM, true},
	{"pivot_root", func() unix.Errno { return sys(unix.SYS_PIVOT_ROOT, bad, bad) }, unix.EPERM, false},
	{"chroot", func() unix.Errno { return sys(unix.SYS_CHROOT, bad) }, unix.EPERM, true},
	{"open_by_handle_at", func() unix.Errno { return sys(unix.SYS_OPEN_BY_HANDLE_AT, none, bad, 0) }, unix.EPERM, false},
	{"open_tree", func() unix.Errno { return sys(unix.SYS_OPEN_TREE, none, bad, 0) }, unix.ENOSYS, true},
	{"move_mount", func() unix.Errno { return sys(unix.SYS_MOVE_MOUNT, none, bad, none, bad, 0xffffffff) }, unix.ENOSYS, true},
	{"fsopen", func() unix.Errno { return sys(unix.SYS_FSOPEN, bad, 0) }, unix.ENOSYS, true},
	{"fsconfig", func() unix.Errno { return sys(unix.SYS_FSCONFIG, none, 0xffff, 0, 0, 0) }, unix.ENOSYS, true},
	{"fsmount", func() unix.Errno { return sys(unix.SYS_FSMOUNT, none, 0xffffffff, 0) }, unix.ENOSYS, true},
	{"fspick", func() unix.Errno { return sys(unix.SYS_FSPICK, none, bad, 0xffffffff) }, unix.ENOSYS, true},
	{"mount_setattr", func() unix.Errno { return sys(unix.SYS_MOUNT_SETATTR, none, bad, 0xffffffff, 0, 0) }, unix.ENOSYS, true},
	{"keyctl", func() unix.Errno { return sys(unix.SYS_KEYCTL, 0xffff) }, unix.EPERM, true},
	{"add_key", func() unix.Errno { return sys(unix.SYS_ADD_KEY, bad, bad, 0, 0, 0) }, unix.EPERM, true},
	{"request_key", func() unix.Errno { return sys(unix.SYS_REQUEST_KEY, bad, bad, 0, 0) }, unix.EPERM, true},
	{"bpf", func() unix.Errno { return sys(unix.SYS_BPF, 0xffff, 0, 0) }, unix.EPERM, false},
	// The attribute pointer is read before any permission check.
	{"perf_event_open", func() unix.Errno { return sys(unix.SYS_PERF_EVENT_OPEN, 0, 0, none, none, 0) }, unix.EPERM, true},
	// UFFD_USER_MODE_ONLY passes the permission check; the other bits are
	// invalid.
	{"userfaultfd", func() unix.Errno { return sys(unix.SYS_USERFAULTFD, 0xffffffff) }, unix.EPERM, true},
	{"io_uring_setup", func() unix.Errno { return sys(unix.SYS_IO_URING_SETUP, 0, 0) }, unix.EPERM, false},
	{"io_uring_enter", func() unix.Errno { return sys(unix.SYS_IO_URING_ENTER, none, 0, 0, 0, 0, 0) }, unix.EPERM, true},
	{"io_uring_register", func() unix.Errno { return sys(unix.SYS_IO_URING_REGISTER, none, 0, 0, 0) }, unix.EPERM, true},
	{"kexec_load", func() unix.Errno { return sys(unix.SYS_KEXEC_LOAD, 0, 0, 0, 0xffffffff) }, unix.EPERM, false},
	{"init_module", func() unix.Errno { return sys(unix.SYS_INIT_MODULE, 0, 0, 0) }, unix.EPERM, false},
	{"finit_module", func() unix.Errno { return sys(unix.SYS_FINIT_MODULE, none, 0, 0) }, unix.EPERM, false},
	{"delete_module", func() unix.Errno { return sys(unix.SYS_DELETE_MODULE, bad, 0) }, unix.EPERM, false},
	{"socket-vsock", socketProbe(unix.AF_VSOCK), unix.EPERM, true},

	// Allowed.
	{"socket-unix", socketProbe(unix.AF_UNIX), 0, false},
	{"unshare-nothing", func() unix.Errno { return sys(unix.SYS_UNSHARE, 0) }, 0, false},
	{"personality", func() unix.Errno { return sys(unix.SYS_PERSONALITY, 0xffffffff) }, 0, false},
	{"ptrace", func() unix.Errno { return sys(unix.SYS_PTRACE, unix.PTRACE_PEEKDATA, 0x3fffffff, 0, 0) }, unix.ESRCH, false},
}

// ttyProbes need a terminal on stdin, the controlling one: without the
// filter TIOCSTI then succeeds (or fails with EIO where the
// dev.tty.legacy_tiocsti sysctl is off), TIOCLINUX fails with ENOTTY on a
// pseudo-terminal.
var ttyProbes = []probe{
	{"tcgets", ioctlProbe(unix.TCGETS), 0, false},
	{"tiocsti", ioctlProbe(unix.TIOCSTI), unix.EPERM, true},
	{"tiocsti-high-bits", ioctlProbe(0xffffffff_00000000 | unix.TIOCSTI), unix.EPERM, true},
	{"tioclinux", ioctlProbe(unix.TIOCLINUX), unix.EPERM, true},
}

// runProbes runs the named probes and returns the exit status.
func runProbes(names []string) int {
	if len(names) == 1 && names[0] == "program" {
		prog, err := Program()
		if err == nil {
			_, err = os.Stdout.Write(prog)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	}
	if len(names) == 3 && names[0] == "install" {
		return installProbe(names[1], names[2])
	}
	all := map[string]func() unix.Errno{
		// A call through x32's ABI (x86_64 only; the number is x32's
		// getpid): the filter kills the process.
		"x32-getpid": func() unix.Errno { return sys(0x40000000 | 39) },
	}
	for _, p := range slices.Concat(probes, ttyProbes) {
		all[p.name] = p.call
	}
	for _, n := range names {
		call, ok := all[n]
		if !ok {
			fmt.Fprintf(os.Stderr, "no probe %q\n", n)
			return 2
		}
		fmt.Printf("%s=%s\n", n, errnoName(call()))
	}
	return 0
}

// installProbe installs a filter count times on this thread (filters
// stack) and prints the median time the kernel took, in nanoseconds. which
// is "program", the filter, or "allow", a one-instruction filter that
// allows everything: what any filter costs.
func installProbe(which, count string) int {
	n, err := strconv.Atoi(count)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	prog := binary.NativeEndian.AppendUint16(nil, 0x06) // BPF_RET|BPF_K
	prog = append(prog, 0, 0)
	prog = binary.NativeEndian.AppendUint32(prog, retAllow)
	if which == "program" {
		if prog, err = Program(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	fprog := unix.SockFprog{Len: uint16(len(prog) / 8), Filter: (*unix.SockFilter)(unsafe.Pointer(&prog[0]))}
	runtime.LockOSThread() // a filter is installed on the calling thread
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	took := make([]float64, n)
	for i := range took {
		start := time.Now()
		err := unix.Prctl(unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, uintptr(unsafe.Pointer(&fprog)), 0, 0)
		took[i] = float64(time.Since(start).Nanoseconds())
		if err != nil {
			fmt.Fprintln(os.Stderr, "install filter:", err)
			return 1
		}
	}
	fmt.Println(median(took))
	return 0
}

// errnoName is e's name, "0" for success.
func errnoName(e unix.Errno) string {
	if e == 0 {
		return "0"
	}
	if n := unix.ErrnoName(e); n != "" {
		return n
	}
	return fmt.Sprint(int(e))
}

// jailArgs is a jail like chaperone's: new user, pid and network
// namespaces, the host's root read-only, and an empty /tmp; with the filter
// as file descriptor 3 when filtered.
func jailArgs(filtered bool, script string) []string {
	a := []string{"--unshare-user", "--unshare-pid", "--unshare-net",
		"--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"}
	// The test binary, for the probes, when it lives under /tmp.
	if exe, err := os.Executable(); err == nil {
		a = append(a, "--ro-bind", exe, exe)
	}
	if filtered {
		a = append(a, "--seccomp", "3")
	}
	return append(a, "--", "bash", "-c", script)
}

// jail runs script with bash in a jail and returns its output (stdout and
// stderr) and how it ended. setup, if not nil, adjusts the command.
func jail(t testing.TB, filtered bool, script string, setup func(*exec.Cmd)) (string, error) {
	t.Helper()
	out, _, err := runJail(t, filtered, script, setup)
	return out, err
}

// runJail is jail that also returns the process state, for its resource
// use. It tries again, twice, when bwrap cannot make the jail because a
// mount under / came or went meanwhile (other programs' containers).
func runJail(t testing.TB, filtered bool, script string, setup func(*exec.Cmd)) (string, *os.ProcessState, error) {
	t.Helper()
	for try := 1; ; try++ {
		out, st, err := runJailOnce(t, filtered, script, setup)
		if err == nil || try == 3 || !strings.HasPrefix(out, "bwrap: Can't bind mount") {
			return out, st, err
		}
	}
}

// runJailOnce is one try of runJail.
func runJailOnce(t testing.TB, filtered bool, script string, setup func(*exec.Cmd)) (string, *os.ProcessState, error) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bwrap", jailArgs(filtered, script)...)
	if filtered {
		f, err := File()
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd.ExtraFiles = []*os.File{f}
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if setup != nil {
		setup(cmd)
	}
	err := cmd.Run()
	return out.String(), cmd.ProcessState, err
}

// requireBwrap skips the test, or fails it in CI, without a working bwrap.
func requireBwrap(t testing.TB) {
	t.Helper()
	_, err := exec.LookPath("bwrap")
	itest.Require(t, "bwrap", err == nil)
	if out, err := jail(t, false, "true", nil); err != nil {
		itest.Require(t, "bwrap that can make a jail ("+strings.TrimSpace(out)+")", false)
	}
}

func TestJailSeccompStatus(t *testing.T) {
	requireBwrap(t)
	for _, c := range []struct {
		filtered bool
		want     string
	}{{true, "Seccomp:\t2"}, {false, "Seccomp:\t0"}} {
		out, err := jail(t, c.filtered, "grep '^Seccomp:' /proc/self/status", nil)
		if err != nil {
			t.Fatalf("filtered %v: %v\n%s", c.filtered, err, out)
		}
		if got := strings.TrimSpace(out); got != c.want {
			t.Errorf("filtered %v: /proc/self/status says %q, want %q", c.filtered, got, c.want)
		}
	}
}

// TestJailProbes makes each probe's system call in a jail with the filter
// and checks how it fails; then in a jail without it, to show that the
// probes that can tell see the difference.
func TestJailProbes(t *testing.T) {
	requireBwrap(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	all := slices.Concat(probes, ttyProbes)
	var names []string
	for _, p := range all {
		names = append(names, p.name)
	}
	run := func(filtered bool) map[string]string {
		t.Helper()
		ptmx, tty, err := pty.Open()
		if err != nil {
			t.Fatal(err)
		}
		defer ptmx.Close()
		defer tty.Close()
		out, err := jail(t, filtered, `exec "$0"`, func(cmd *exec.Cmd) {
			cmd.Args = append(cmd.Args, exe)
			cmd.Env = append(os.Environ(), probeEnv+"="+strings.Join(names, " "))
			// The pseudo-terminal as the probe's stdin and controlling
			// terminal, as an agent's terminal would be.
			cmd.Stdin = tty
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
		})
		if err != nil {
			t.Fatalf("filtered %v: probes: %v\n%s", filtered, err, out)
		}
		got := map[string]string{}
		for line := range strings.Lines(out) {
			if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
				got[k] = v
			}
		}
		return got
	}
	with, without := run(true), run(false)
	for _, p := range all {
		t.Run(p.name, func(t *testing.T) {
			want := errnoName(p.want)
			if got := with[p.name]; got != want {
				t.Errorf("with the filter: %s, want %s", got, want)
			}
			if got := without[p.name]; p.control && (got == want || got == "") {
				t.Errorf("without the filter: %q, want something else than %s: the probe cannot tell", got, want)
			}
			t.Logf("with the filter: %s; without: %s", with[p.name], without[p.name])
		})
	}
}

// TestJailForeignABI makes a system call through the x32 ABI: the filter
// kills the process with SIGSYS (bash reports 128+31).
func TestJailForeignABI(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("x32 is an x86_64 ABI") // arm64's 32-bit ABI is checked in TestForeignABI only
	}
	requireBwrap(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		filtered bool
		want     string
	}{{true, "status=159"}, {false, "status=0"}} {
		out, _ := jail(t, c.filtered, `"$0"; echo "status=$?"`, func(cmd *exec.Cmd) {
			cmd.Args = append(cmd.Args, exe)
			cmd.Env = append(os.Environ(), probeEnv+"=x32-getpid")
		})
		if !strings.Contains(out, c.want) {
			t.Errorf("filtered %v: want %s in\n%s", c.filtered, c.want, out)
		}
	}
}

// TestJailDenies runs commands that the filter must stop, checking that they
// fail for lack of permission.
func TestJailDenies(t *testing.T) {
	requireBwrap(t)
	for _, c := range []struct{ name, script string }{
		{"unshare user namespace", "unshare -U true"},
		{"unshare mount namespace", "unshare -m true"},
		{"unshare network namespace", "unshare -n true"},
		{"mount", "mount -t tmpfs none /tmp"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			out, err := jail(t, true, c.script, nil)
			if err == nil {
				t.Fatalf("%s succeeded with the filter:\n%s", c.script, out)
			}
			// EPERM, as util-linux words it.
			if low := strings.ToLower(out); !strings.Contains(low, "operation not permitted") && !strings.Contains(low, "permission denied") {
				t.Errorf("%s failed, but not for lack of permission:\n%s", c.script, out)
			}
		})
	}
}

// TestJailWorks runs ordinary development commands with the filter.
func TestJailWorks(t *testing.T) {
	requireBwrap(t)
	for _, c := range []struct {
		name   string
		needs  string // a program the command runs, "" for bash's own
		script string
		want   string
	}{
		{"echo", "", "echo ok", "ok\n"},
		{"ls", "ls", "ls / | grep -x usr", "usr\n"},
		{"pipeline", "sort", "printf 'b\\na\\n' | sort | head -n1", "a\n"},
		{"background job", "sleep", "sleep 0.1 & wait $! && echo waited", "waited\n"},
		{"command substitution", "", `x=$(echo inner); echo "outer $x"`, "outer inner\n"},
		{"git", "git", "git init -q /tmp/r && git -C /tmp/r -c user.name=t -c user.email=t@example.com commit -q --allow-empty -m m && git -C /tmp/r rev-list --count HEAD", "1\n"},
		{"go", "go", "go version | cut -d' ' -f1-2", "go version\n"},
		{"gcc", "gcc", "printf 'int main(void){return 0;}\\n' | gcc -x c -o /tmp/a - && /tmp/a && echo built", "built\n"},
		{"make", "make", "printf 'all:\\n\\t@echo made\\n' >/tmp/Makefile && make -s -C /tmp", "made\n"},
		{"python fork", "python3", "python3 -c 'import os\npid = os.fork()\nif pid == 0: os._exit(7)\nprint(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))'", "7\n"},
		// glibc makes threads with clone3 and falls back to clone on ENOSYS.
		{"python threads", "python3", "python3 -c 'import threading\nt = threading.Thread(target=print, args=(\"thread\",))\nt.start(); t.join()'", "thread\n"},
		// libuv's thread pool, and io_uring when the kernel gives it.
		{"node", "node", `node -e 'require("fs").readFile("/proc/self/status", (e, b) => console.log(e ? e.code : "read"))'`, "read\n"},
		{"strace", "strace", "strace -f -o /dev/null true && echo traced", "traced\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if c.needs != "" {
				_, err := exec.LookPath(c.needs)
				itest.Require(t, c.needs, err == nil)
			}
			out, err := jail(t, true, c.script, nil)
			if err != nil || out != c.want {
				t.Errorf("%s: %v, printed %q, want %q", c.script, err, out, c.want)
			}
		})
	}
}

// BenchmarkJail runs the same jail without and with the filter, in turn,
// and reports what the filter adds to a command: the medians of the paired
// differences in wall-clock time and in CPU time (bwrap and everything in
// the jail, user and system; steadier than wall-clock time on a busy
// machine). BENCH_CMD, if set, is the script the jail runs (default true).
func BenchmarkJail(b *testing.B) {
	requireBwrap(b)
	script := cmp.Or(os.Getenv("BENCH_CMD"), "true")
	var wall, cpu []float64
	run := func(filtered bool) (time.Duration, time.Duration) {
		start := time.Now()
		out, st, err := runJail(b, filtered, script, nil)
		if err != nil {
			b.Fatalf("%v\n%s", err, out)
		}
		return time.Since(start), st.UserTime() + st.SystemTime()
	}
	for i := 0; b.Loop(); i++ {
		var w, c [2]time.Duration // without, with
		if i%2 == 0 {
			w[0], c[0] = run(false)
			w[1], c[1] = run(true)
		} else {
			w[1], c[1] = run(true)
			w[0], c[0] = run(false)
		}
		wall = append(wall, (w[1]-w[0]).Seconds()*1000)
		cpu = append(cpu, (c[1]-c[0]).Seconds()*1000)
	}
	b.ReportMetric(median(wall), "extra-ms")
	b.ReportMetric(median(cpu), "extra-cpu-ms")
}

// median is the middle of xs, which it sorts.
func median(xs []float64) float64 {
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// BenchmarkInstall measures what installing the filter costs the kernel
// (it translates and compiles the program, and runs it on every call
// number to learn which calls it always allows), against a filter of one
// instruction that allows everything: the part of the cost that the
// filter's rules add. bwrap installs the filter twice a jail, for its pid 1
// and for the command. ns/install is a median, steadier than a mean on a
// busy machine; ns/op counts starting the probe processes too.
func BenchmarkInstall(b *testing.B) {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	for _, which := range []string{"program", "allow"} {
		b.Run(which, func(b *testing.B) {
			// Filters stack, up to 32768 instructions in all: a probe
			// process installs at most 200.
			var medians []float64
			for left := b.N; left > 0; left -= 200 {
				cmd := exec.Command(exe)
				cmd.Env = append(os.Environ(), fmt.Sprintf("%s=install %s %d", probeEnv, which, min(left, 200)))
				out, err := cmd.Output()
				if err != nil {
					b.Fatalf("install probe: %v", err)
				}
				ns, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
				if err != nil {
					b.Fatalf("install probe said %q", out)
				}
				medians = append(medians, ns)
			}
			b.ReportMetric(median(medians), "ns/install")
		})
	}
}
