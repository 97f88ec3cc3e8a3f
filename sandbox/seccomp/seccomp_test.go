//go:build linux && (amd64 || arm64)

package seccomp

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"testing"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// The verdicts the tests expect, spelled from linux/seccomp.h rather than
// from the package's own constants.
const (
	allowed = unix.SECCOMP_RET_ALLOW
	killed  = unix.SECCOMP_RET_KILL_PROCESS
	eperm   = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	enosys  = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
)

// seccompData is the kernel's struct seccomp_data (linux/seccomp.h): what
// a filter reads.
type seccompData struct {
	Nr   int32
	Arch uint32
	IP   uint64
	Args [6]uint64
}

// call is the seccomp_data of native system call nr with args.
func call(nr uint32, args ...uint64) seccompData {
	d := seccompData{Nr: int32(nr), Arch: auditArch}
	copy(d.Args[:], args)
	return d
}

// vmInput lays d out in memory as the kernel does, then writes each 32-bit
// word big-endian: the kernel's filter loads words in the machine's byte
// order, x/net/bpf's VM in network order, so the VM sees the words the
// kernel would.
func vmInput(d seccompData) []byte {
	mem := unsafe.Slice((*byte)(unsafe.Pointer(&d)), unsafe.Sizeof(d))
	in := make([]byte, len(mem))
	for i := 0; i < len(mem); i += 4 {
		binary.BigEndian.PutUint32(in[i:], binary.NativeEndian.Uint32(mem[i:]))
	}
	return in
}

// filterVM decodes Program's bytes, as the kernel would read them, into
// x/net/bpf's interpreter.
func filterVM(t testing.TB) *bpf.VM {
	t.Helper()
	prog, err := Program()
	if err != nil {
		t.Fatal(err)
	}
	if len(prog) == 0 || len(prog)%8 != 0 {
		t.Fatalf("program is %d bytes, want a positive multiple of 8", len(prog))
	}
	raw := make([]bpf.RawInstruction, len(prog)/8)
	for i := range raw {
		b := prog[8*i:]
		raw[i] = bpf.RawInstruction{Op: binary.NativeEndian.Uint16(b), Jt: b[2], Jf: b[3], K: binary.NativeEndian.Uint32(b[4:])}
	}
	insts, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatalf("program has instructions that do not decode: %v", insts)
	}
	vm, err := bpf.NewVM(insts)
	if err != nil {
		t.Fatalf("program does not load: %v", err)
	}
	return vm
}

// verdict runs the filter on d.
func verdict(t testing.TB, vm *bpf.VM, d seccompData) uint32 {
	t.Helper()
	v, err := vm.Run(vmInput(d))
	if err != nil {
		t.Fatalf("run filter: %v", err)
	}
	return uint32(v)
}

// name is a verdict's name, for messages.
func name(v uint32) string {
	switch v {
	case allowed:
		return "ALLOW"
	case killed:
		return "KILL_PROCESS"
	}
	if v&^unix.SECCOMP_RET_DATA == unix.SECCOMP_RET_ERRNO {
		return "ERRNO(" + unix.ErrnoName(unix.Errno(v&unix.SECCOMP_RET_DATA)) + ")"
	}
	return fmt.Sprintf("%#x", v)
}

func TestSeccompDataLayout(t *testing.T) {
	var d seccompData
	for _, c := range []struct {
		field     string
		got, want uintptr
	}{
		{"size", unsafe.Sizeof(d), 64},
		{"nr", unsafe.Offsetof(d.Nr), offNr},
		{"arch", unsafe.Offsetof(d.Arch), offArch},
		{"instruction_pointer", unsafe.Offsetof(d.IP), 8},
		{"args", unsafe.Offsetof(d.Args), offArgs},
	} {
		if c.got != c.want {
			t.Errorf("seccomp_data %s at %d, want %d", c.field, c.got, c.want)
		}
	}
	// The low half of an argument comes first on these little-endian
	// machines: the filter reads it at argLow.
	d.Args[1] = 0xaaaaaaaa_00005412
	in := vmInput(d)
	if got := binary.BigEndian.Uint32(in[argLow(1):]); got != 0x5412 {
		t.Errorf("low half of args[1] reads %#x, want 0x5412", got)
	}
}

// hi sets the high 32 bits of an argument to garbage the kernel ignores.
const hi = 0xffffffff_00000000

func TestProgram(t *testing.T) {
	vm := filterVM(t)
	const sigchld = uint64(unix.SIGCHLD)
	atFDCWD := int64(unix.AT_FDCWD) // sign-extended, as a register holds it
	threadFlags := uint64(unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND |
		unix.CLONE_THREAD | unix.CLONE_SYSVSEM | unix.CLONE_SETTLS | unix.CLONE_PARENT_SETTID | unix.CLONE_CHILD_CLEARTID)
	cases := []struct {
		name string
		d    seccompData
		want uint32
	}{
		// What every command does.
		{"read", call(unix.SYS_READ, 0, 0, 1), allowed},
		{"write", call(unix.SYS_WRITE, 1, 0, 1), allowed},
		{"openat", call(unix.SYS_OPENAT, uint64(atFDCWD), 0, unix.O_RDONLY), allowed},
		{"close", call(unix.SYS_CLOSE, 3), allowed},
		{"mmap", call(unix.SYS_MMAP, 0, 4096, unix.PROT_READ, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS), allowed},
		{"execve", call(unix.SYS_EXECVE), allowed},
		{"exit_group", call(unix.SYS_EXIT_GROUP), allowed},
		{"wait4", call(unix.SYS_WAIT4), allowed},
		{"fork by clone", call(unix.SYS_CLONE, sigchld), allowed},
		{"vfork by clone", call(unix.SYS_CLONE, unix.CLONE_VM|unix.CLONE_VFORK|sigchld), allowed},
		{"thread by clone", call(unix.SYS_CLONE, threadFlags), allowed},
		{"clone with pidfd", call(unix.SYS_CLONE, unix.CLONE_PIDFD|sigchld), allowed},
		{"unshare files", call(unix.SYS_UNSHARE, unix.CLONE_FILES), allowed},
		{"unshare fs", call(unix.SYS_UNSHARE, unix.CLONE_FS), allowed},
		{"ioctl TCGETS", call(unix.SYS_IOCTL, 0, unix.TCGETS), allowed},
		{"ioctl TIOCGWINSZ", call(unix.SYS_IOCTL, 0, unix.TIOCGWINSZ), allowed},
		{"ioctl TIOCSWINSZ", call(unix.SYS_IOCTL, 0, unix.TIOCSWINSZ), allowed},
		{"ioctl TIOCSTI-numbered fd", call(unix.SYS_IOCTL, unix.TIOCSTI, unix.TCGETS), allowed},
		{"socket AF_UNIX", call(unix.SYS_SOCKET, unix.AF_UNIX, unix.SOCK_STREAM), allowed},
		{"socket AF_INET", call(unix.SYS_SOCKET, unix.AF_INET, unix.SOCK_STREAM), allowed},
		{"socket AF_INET6", call(unix.SYS_SOCKET, unix.AF_INET6, unix.SOCK_DGRAM), allowed},
		{"socket AF_NETLINK", call(unix.SYS_SOCKET, unix.AF_NETLINK, unix.SOCK_RAW), allowed},
		{"socketpair AF_UNIX", call(unix.SYS_SOCKETPAIR, unix.AF_UNIX, unix.SOCK_STREAM), allowed},
		// Allowed on purpose.
		{"ptrace", call(unix.SYS_PTRACE, unix.PTRACE_ATTACH, 2), allowed},
		{"process_vm_readv", call(unix.SYS_PROCESS_VM_READV), allowed},
		{"personality query", call(unix.SYS_PERSONALITY, 0xffffffff), allowed},
		{"name_to_handle_at", call(unix.SYS_NAME_TO_HANDLE_AT), allowed},
		{"prctl", call(unix.SYS_PRCTL, unix.PR_SET_NAME), allowed},

		// New namespaces.
		{"clone CLONE_NEWUSER", call(unix.SYS_CLONE, unix.CLONE_NEWUSER|sigchld), eperm},
		{"clone CLONE_NEWUSER high garbage", call(unix.SYS_CLONE, hi|unix.CLONE_NEWUSER|sigchld), eperm},
		{"clone CLONE_NEWUSER among thread flags", call(unix.SYS_CLONE, threadFlags|unix.CLONE_NEWUSER), eperm},
		{"clone CLONE_NEWNET", call(unix.SYS_CLONE, unix.CLONE_NEWNET|sigchld), eperm},
		{"clone CLONE_NEWNS", call(unix.SYS_CLONE, unix.CLONE_NEWNS|sigchld), eperm},
		{"clone CLONE_NEWPID", call(unix.SYS_CLONE, unix.CLONE_NEWPID|sigchld), eperm},
		{"unshare CLONE_NEWUSER", call(unix.SYS_UNSHARE, unix.CLONE_NEWUSER), eperm},
		{"unshare CLONE_NEWUSER|CLONE_NEWNS", call(unix.SYS_UNSHARE, unix.CLONE_NEWUSER|unix.CLONE_NEWNS), eperm},
		{"unshare CLONE_NEWNS", call(unix.SYS_UNSHARE, unix.CLONE_NEWNS), eperm},
		{"unshare CLONE_NEWCGROUP", call(unix.SYS_UNSHARE, unix.CLONE_NEWCGROUP), eperm},
		{"unshare CLONE_NEWTIME", call(unix.SYS_UNSHARE, unix.CLONE_NEWTIME), eperm},
		{"clone3", call(unix.SYS_CLONE3, 0, 88), enosys},
		{"setns", call(unix.SYS_SETNS, 3, unix.CLONE_NEWUSER), eperm},
		{"setns any", call(unix.SYS_SETNS, 3, 0), eperm},

		// The filesystem view.
		{"mount", call(unix.SYS_MOUNT), eperm},
		{"umount2", call(unix.SYS_UMOUNT2), eperm},
		{"pivot_root", call(unix.SYS_PIVOT_ROOT), eperm},
		{"chroot", call(unix.SYS_CHROOT), eperm},
		{"open_by_handle_at", call(unix.SYS_OPEN_BY_HANDLE_AT), eperm},
		{"open_tree", call(unix.SYS_OPEN_TREE), enosys},
		{"open_tree_attr", call(unix.SYS_OPEN_TREE_ATTR), enosys},
		{"move_mount", call(unix.SYS_MOVE_MOUNT), enosys},
		{"fsopen", call(unix.SYS_FSOPEN), enosys},
		{"fsconfig", call(unix.SYS_FSCONFIG), enosys},
		{"fsmount", call(unix.SYS_FSMOUNT), enosys},
		{"fspick", call(unix.SYS_FSPICK), enosys},
		{"mount_setattr", call(unix.SYS_MOUNT_SETATTR), enosys},

		// The terminal.
		{"ioctl TIOCSTI", call(unix.SYS_IOCTL, 0, unix.TIOCSTI), eperm},
		{"ioctl TIOCSTI high garbage", call(unix.SYS_IOCTL, 0, hi|unix.TIOCSTI), eperm},
		{"ioctl TIOCSTI bit 32", call(unix.SYS_IOCTL, 0, 1<<32|unix.TIOCSTI), eperm},
		{"ioctl TIOCLINUX", call(unix.SYS_IOCTL, 0, unix.TIOCLINUX), eperm},
		{"ioctl TIOCLINUX high garbage", call(unix.SYS_IOCTL, 0, hi|unix.TIOCLINUX), eperm},

		// Kernel attack surface.
		{"bpf", call(unix.SYS_BPF), eperm},
		{"perf_event_open", call(unix.SYS_PERF_EVENT_OPEN), eperm},
		{"userfaultfd", call(unix.SYS_USERFAULTFD), eperm},
		{"io_uring_setup", call(unix.SYS_IO_URING_SETUP, 8), eperm},
		{"io_uring_enter", call(unix.SYS_IO_URING_ENTER), eperm},
		{"io_uring_register", call(unix.SYS_IO_URING_REGISTER), eperm},
		{"keyctl", call(unix.SYS_KEYCTL), eperm},
		{"add_key", call(unix.SYS_ADD_KEY), eperm},
		{"request_key", call(unix.SYS_REQUEST_KEY), eperm},
		{"mbind", call(unix.SYS_MBIND), eperm},
		{"migrate_pages", call(unix.SYS_MIGRATE_PAGES), eperm},
		{"move_pages", call(unix.SYS_MOVE_PAGES), eperm},
		{"get_mempolicy", call(unix.SYS_GET_MEMPOLICY), eperm},
		{"set_mempolicy", call(unix.SYS_SET_MEMPOLICY), eperm},
		{"set_mempolicy_home_node", call(unix.SYS_SET_MEMPOLICY_HOME_NODE), eperm},
		{"syslog", call(unix.SYS_SYSLOG), eperm},
		{"socket AF_VSOCK", call(unix.SYS_SOCKET, unix.AF_VSOCK, unix.SOCK_STREAM), eperm},
		{"socket AF_VSOCK high garbage", call(unix.SYS_SOCKET, hi|unix.AF_VSOCK, unix.SOCK_STREAM), eperm},

		// Privileged.
		{"kexec_load", call(unix.SYS_KEXEC_LOAD), eperm},
		{"kexec_file_load", call(unix.SYS_KEXEC_FILE_LOAD), eperm},
		{"init_module", call(unix.SYS_INIT_MODULE), eperm},
		{"finit_module", call(unix.SYS_FINIT_MODULE), eperm},
		{"delete_module", call(unix.SYS_DELETE_MODULE), eperm},
		{"reboot", call(unix.SYS_REBOOT), eperm},
		{"swapon", call(unix.SYS_SWAPON), eperm},
		{"swapoff", call(unix.SYS_SWAPOFF), eperm},
		{"acct", call(unix.SYS_ACCT), eperm},
		{"settimeofday", call(unix.SYS_SETTIMEOFDAY), eperm},
		{"clock_settime", call(unix.SYS_CLOCK_SETTIME), eperm},

		// The number -1 is no call; the kernel answers ENOSYS.
		{"syscall -1", seccompData{Nr: -1, Arch: auditArch}, allowed},
		// A number past every table is allowed, and fails with ENOSYS.
		{"unknown number", call(0x3fff0000), allowed},
	}
	cases = append(cases, archCases...)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := verdict(t, vm, c.d); got != c.want {
				t.Errorf("nr %d args %#x: %s, want %s", c.d.Nr, c.d.Args, name(got), name(c.want))
			}
		})
	}
}

// TestRules checks every rule of the deny list as the filter runs it: a
// rule that denies always does so whatever the arguments; one that tests
// an argument denies each value or bit it names, with or without high
// bits, and allows the call when the argument is 0. Calls no rule names
// are allowed.
func TestRules(t *testing.T) {
	vm := filterVM(t)
	seen := map[uint32]bool{}
	for _, r := range rules() {
		if seen[r.nr] {
			t.Errorf("system call %d has two rules; the second is never reached", r.nr)
		}
		seen[r.nr] = true
		want := unix.SECCOMP_RET_ERRNO | uint32(r.errno)
		if r.when == nil {
			for _, args := range [][]uint64{nil, {^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}} {
				if got := verdict(t, vm, call(r.nr, args...)); got != want {
					t.Errorf("nr %d args %#x: %s, want %s", r.nr, args, name(got), name(want))
				}
			}
			continue
		}
		var denied []uint64
		for b := uint32(1); b != 0; b <<= 1 {
			if r.when.bits&b != 0 {
				denied = append(denied, uint64(b))
			}
		}
		for _, v := range r.when.vals {
			denied = append(denied, uint64(v))
		}
		if len(denied) == 0 {
			t.Errorf("nr %d: argument test matches nothing", r.nr)
		}
		for _, v := range denied {
			for _, arg := range []uint64{v, hi | v} {
				args := make([]uint64, 6)
				args[r.when.arg] = arg
				if got := verdict(t, vm, call(r.nr, args...)); got != want {
					t.Errorf("nr %d arg%d %#x: %s, want %s", r.nr, r.when.arg, arg, name(got), name(want))
				}
			}
		}
		if got := verdict(t, vm, call(r.nr)); got != allowed {
			t.Errorf("nr %d with arguments 0: %s, want ALLOW", r.nr, name(got))
		}
	}
	// Every other number, each a different path through the search, is
	// allowed.
	for nr := uint32(0); nr < 2048; nr++ {
		if seen[nr] {
			continue
		}
		if got := verdict(t, vm, call(nr, ^uint64(0), ^uint64(0))); got != allowed {
			t.Errorf("nr %d, which no rule names: %s, want ALLOW", nr, name(got))
		}
	}
}

// TestForeignABI checks that a call through another ABI than the native
// one kills the process, whatever its number.
func TestForeignABI(t *testing.T) {
	vm := filterVM(t)
	for _, c := range foreignCases {
		t.Run(c.name, func(t *testing.T) {
			if got := verdict(t, vm, c.d); got != killed {
				t.Errorf("arch %#x nr %#x: %s, want KILL_PROCESS", c.d.Arch, uint32(c.d.Nr), name(got))
			}
		})
	}
}

func TestProgramIsACopy(t *testing.T) {
	a, err := Program()
	if err != nil {
		t.Fatal(err)
	}
	want := bytes.Clone(a)
	clear(a)
	b, err := Program()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want) {
		t.Error("changing what Program returned changed the next Program")
	}
	// The kernel takes at most BPF_MAXINSNS (4096) instructions.
	if n := len(b) / 8; n > 4096 {
		t.Errorf("program has %d instructions, more than the kernel takes", n)
	}
}

func TestFile(t *testing.T) {
	want, err := Program()
	if err != nil {
		t.Fatal(err)
	}
	f, err := File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := io.ReadAll(f) // ends only at EOF: the write end is closed
	if err != nil {
		t.Fatalf("read File: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("File holds %d bytes that differ from Program's %d", len(got), len(want))
	}
}

func BenchmarkProgram(b *testing.B) {
	for b.Loop() {
		if _, err := Program(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFile(b *testing.B) {
	for b.Loop() {
		f, err := File()
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

// BenchmarkBuild is the first call's cost: building the program.
func BenchmarkBuild(b *testing.B) {
	for b.Loop() {
		if _, err := build(); err != nil {
			b.Fatal(err)
		}
	}
}
