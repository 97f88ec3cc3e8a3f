//go:build linux && (amd64 || arm64)

package seccomp

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// Where the filter finds things in the kernel's struct seccomp_data
// (linux/seccomp.h: int nr; __u32 arch; __u64 instruction_pointer;
// __u64 args[6]). Classic BPF loads 32 bits at a time; amd64 and arm64 are
// little-endian, so an argument's low half is its first four bytes.
const (
	offNr   = 0
	offArch = 4
	offArgs = 16
)

// argLow is the offset of the low 32 bits of system call argument i.
func argLow(i int) uint32 { return offArgs + 8*uint32(i) }

// The filter's verdicts (linux/seccomp.h).
const (
	retAllow = unix.SECCOMP_RET_ALLOW
	retKill  = unix.SECCOMP_RET_KILL_PROCESS
)

// retErrno is the verdict "fail with errno e without running the call".
func retErrno(e unix.Errno) uint32 { return unix.SECCOMP_RET_ERRNO | uint32(e)&unix.SECCOMP_RET_DATA }

// cloneNamespaces are the flags that make clone or unshare create
// namespaces. CLONE_NEWTIME (0x80) is one only for unshare and clone3: in
// clone's flags that bit belongs to the exit signal.
const cloneNamespaces = unix.CLONE_NEWNS | unix.CLONE_NEWCGROUP | unix.CLONE_NEWUTS |
	unix.CLONE_NEWIPC | unix.CLONE_NEWUSER | unix.CLONE_NEWPID | unix.CLONE_NEWNET

// A rule denies one system call, always or when an argument matches.
type rule struct {
	nr    uint32     // the call, as numbered by the native ABI
	errno unix.Errno // what the call fails with instead of running
	when  *argTest   // nil: always
}

// argTest matches the low 32 bits of one argument: when any of bits is set
// in it, or when it equals one of vals. Only the low half is looked at
// because the arguments tested are 32-bit to the kernel (ioctl's request,
// socket's family, clone's flags): high bits that it ignores must not let a
// call past the filter (CVE-2019-10063).
type argTest struct {
	arg  int
	bits uint32
	vals []uint32
}

// rules is the deny list: the native rules common to amd64 and arm64, then
// archRules.
func rules() []rule {
	const eperm, enosys = unix.EPERM, unix.ENOSYS
	var rs []rule

	// New namespaces. The jail's were made by bwrap; making more is only
	// for building another sandbox. A new user namespace is the dangerous
	// one: its creator holds every capability in it, which opens up kernel
	// code written for root (mounting filesystems, netfilter, ...) and is
	// the first step of many kernel exploits. The other namespaces need
	// capabilities the jail lacks, and are denied in case it has some.
	rs = append(rs,
		rule{nr: unix.SYS_CLONE, errno: eperm, when: &argTest{arg: 0, bits: cloneNamespaces}},
		rule{nr: unix.SYS_UNSHARE, errno: eperm, when: &argTest{arg: 0, bits: cloneNamespaces | unix.CLONE_NEWTIME}},
		// clone3 passes its flags in memory, which seccomp cannot read:
		// ENOSYS makes glibc (and others) fall back to clone.
		rule{nr: unix.SYS_CLONE3, errno: enosys},
	)
	// Joining another namespace: no use inside a jail, and the way out of
	// one if a namespace file ever leaks in.
	rs = append(rs, always(eperm, unix.SYS_SETNS)...)

	// The filesystem view bwrap built stays as built. chroot and
	// open_by_handle_at need capabilities the jail lacks; the latter was
	// the "shocker" container escape (it opens any file on a mounted
	// filesystem, whatever is mounted over it).
	rs = append(rs, always(eperm, unix.SYS_MOUNT, unix.SYS_UMOUNT2, unix.SYS_PIVOT_ROOT,
		unix.SYS_CHROOT, unix.SYS_OPEN_BY_HANDLE_AT)...)
	// The new mount API, all of it rather than judging each call (Flatpak,
	// CVE-2021-41133). ENOSYS, as Flatpak answers, makes tools fall back to
	// mount(2).
	rs = append(rs, always(enosys, unix.SYS_OPEN_TREE, unix.SYS_OPEN_TREE_ATTR, unix.SYS_MOVE_MOUNT,
		unix.SYS_FSOPEN, unix.SYS_FSCONFIG, unix.SYS_FSMOUNT, unix.SYS_FSPICK, unix.SYS_MOUNT_SETATTR)...)

	// Typing into the terminal: TIOCSTI pushes bytes into the terminal's
	// input, which the shell outside the jail reads once the command ends
	// (CVE-2017-5226); TIOCLINUX does the same through a virtual console's
	// selection (CVE-2023-28100). The request is an unsigned int to the
	// kernel, so only its low 32 bits count.
	rs = append(rs, rule{nr: unix.SYS_IOCTL, errno: eperm,
		when: &argTest{arg: 1, vals: []uint32{unix.TIOCSTI, unix.TIOCLINUX}}})

	// Kernel attack surface that development commands do not use, each a
	// long line of kernel CVEs:
	rs = append(rs, always(eperm,
		// eBPF: the verifier.
		unix.SYS_BPF,
		// Profiling belongs outside the jail (Flatpak denies it too).
		unix.SYS_PERF_EVENT_OPEN,
		// Stalls the kernel at a page fault of the caller's choosing: an
		// exploit's way to win a race.
		unix.SYS_USERFAULTFD,
		// io_uring: besides its own bugs, the operations it runs (open,
		// connect, socket, ...) never pass through this filter.
		unix.SYS_IO_URING_SETUP, unix.SYS_IO_URING_ENTER, unix.SYS_IO_URING_REGISTER,
		// The kernel keyrings are not the jail's: the user's keyrings can
		// hold the host's secrets.
		unix.SYS_KEYCTL, unix.SYS_ADD_KEY, unix.SYS_REQUEST_KEY,
		// NUMA memory policy (Flatpak's "scary VM/NUMA ops"; Docker denies
		// them too): programs that probe them, like libnuma, carry on
		// without NUMA.
		unix.SYS_MBIND, unix.SYS_MIGRATE_PAGES, unix.SYS_MOVE_PAGES,
		unix.SYS_GET_MEMPOLICY, unix.SYS_SET_MEMPOLICY, unix.SYS_SET_MEMPOLICY_HOME_NODE,
		// The kernel log shows kernel addresses and other users' events.
		unix.SYS_SYSLOG,
	)...)
	// VM sockets are not network-namespaced: in a virtual machine (WSL2,
	// cloud and CI runners) they reach the host past --unshare-net. Codex
	// and Docker deny them too. socket's family is an int.
	rs = append(rs, rule{nr: unix.SYS_SOCKET, errno: eperm,
		when: &argTest{arg: 0, vals: []uint32{unix.AF_VSOCK}}})

	// Calls that need a capability the jail lacks (bwrap keeps every
	// capability when root runs it, unless told to drop them): denied in
	// case a jail is ever run with some. Loading code into the kernel,
	// replacing it, rebooting, swapping, process accounting, and setting
	// the clock, which is not namespaced.
	rs = append(rs, always(eperm,
		unix.SYS_KEXEC_LOAD, unix.SYS_KEXEC_FILE_LOAD,
		unix.SYS_INIT_MODULE, unix.SYS_FINIT_MODULE, unix.SYS_DELETE_MODULE,
		unix.SYS_REBOOT, unix.SYS_SWAPON, unix.SYS_SWAPOFF, unix.SYS_ACCT,
		unix.SYS_SETTIMEOFDAY, unix.SYS_CLOCK_SETTIME,
	)...)

	// Not denied, on purpose: ptrace, process_vm_readv and
	// process_vm_writev (strace and gdb; the jail's pid namespace keeps
	// them to its own processes), personality (gdb turns address space
	// randomisation off with it), name_to_handle_at (harmless without
	// open_by_handle_at), quotactl (reads quotas; changing them needs a
	// capability).
	return append(rs, archRules()...)
}

// always returns rules that deny the calls nrs with errno, whatever their
// arguments.
func always(errno unix.Errno, nrs ...uint32) []rule {
	rs := make([]rule, len(nrs))
	for i, nr := range nrs {
		rs[i] = rule{nr: nr, errno: errno}
	}
	return rs
}

// build assembles the filter:
//
//	load arch; not the native ABI: kill
//	load nr;   (x86_64) an x32 call, other than -1: kill
//	find nr among the rules' calls (a binary search); not there: allow
//	a rule's call: deny, or test its argument and deny or allow
//
// The search is there for the kernel: when a filter is installed (twice a
// jail: bwrap filters its pid 1 too), the kernel runs it on every call
// number to learn which calls it allows whatever their arguments, and
// skips it for those from then on. A linear list made that run the most
// costly part of installing the filter.
func build() ([]byte, error) {
	var a asm
	allow, kill := a.label(), a.label()
	deny := map[unix.Errno]label{}
	denyLabel := func(e unix.Errno) label {
		l, ok := deny[e]
		if !ok {
			l = a.label()
			deny[e] = l
		}
		return l
	}

	a.emit(bpf.LoadAbsolute{Off: offArch, Size: 4})
	a.jumpIf(bpf.JumpEqual, auditArch, next, kill)
	a.emit(bpf.LoadAbsolute{Off: offNr, Size: 4})
	var x32 label
	if x32Bit != 0 {
		x32 = a.label()
		a.jumpIf(bpf.JumpGreaterOrEqual, x32Bit, x32, next)
	}

	rs := rules()
	tests := make([]label, len(rs))
	branches := make([]branch, len(rs))
	for i, r := range rs {
		to := denyLabel(r.errno)
		if r.when != nil {
			tests[i] = a.label()
			to = tests[i]
		}
		branches[i] = branch{nr: r.nr, to: to}
	}
	slices.SortFunc(branches, func(x, y branch) int { return cmp.Compare(x.nr, y.nr) })
	search(&a, branches)

	for i, r := range rs {
		if r.when == nil {
			continue
		}
		to := denyLabel(r.errno)
		a.place(tests[i])
		a.emit(bpf.LoadAbsolute{Off: argLow(r.when.arg), Size: 4})
		if r.when.bits != 0 {
			a.jumpIf(bpf.JumpBitsSet, r.when.bits, to, next)
		}
		for _, v := range r.when.vals {
			a.jumpIf(bpf.JumpEqual, v, to, next)
		}
		a.emit(bpf.RetConstant{Val: retAllow})
	}

	if x32Bit != 0 {
		// The number -1 is no call at all (tracers use it to skip one);
		// the kernel answers it with ENOSYS, whatever the ABI.
		a.place(x32)
		a.jumpIf(bpf.JumpEqual, 0xffffffff, allow, kill)
	}
	a.place(allow)
	a.emit(bpf.RetConstant{Val: retAllow})
	a.place(kill)
	a.emit(bpf.RetConstant{Val: retKill})
	for _, e := range slices.Sorted(maps.Keys(deny)) {
		a.place(deny[e])
		a.emit(bpf.RetConstant{Val: retErrno(e)})
	}
	prog, err := a.assemble()
	if err != nil {
		return nil, fmt.Errorf("build seccomp filter: %w", err)
	}
	return prog, nil
}

// branch is a system call the filter looks for, and where it goes then.
type branch struct {
	nr uint32
	to label
}

// search writes a binary search for the number in A among branches
// (sorted by number): found, it jumps to the branch's label; not, it
// allows.
func search(a *asm, branches []branch) {
	const leaf = 4 // this many or fewer are compared one by one
	if len(branches) <= leaf {
		for _, b := range branches {
			a.jumpIf(bpf.JumpEqual, b.nr, b.to, next)
		}
		a.emit(bpf.RetConstant{Val: retAllow})
		return
	}
	mid := len(branches) / 2
	upper := a.label()
	a.jumpIf(bpf.JumpGreaterOrEqual, branches[mid].nr, upper, next)
	search(a, branches[:mid])
	a.place(upper)
	search(a, branches[mid:])
}
