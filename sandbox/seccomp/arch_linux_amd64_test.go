package seccomp

import "golang.org/x/sys/unix"

// archCases are the x86_64-only rules.
var archCases = []struct {
	name string
	d    seccompData
	want uint32
}{
	{"modify_ldt", call(unix.SYS_MODIFY_LDT, 1), eperm},
	{"uselib", call(unix.SYS_USELIB), eperm},
	{"iopl", call(unix.SYS_IOPL, 3), eperm},
	{"ioperm", call(unix.SYS_IOPERM), eperm},
	{"arch_prctl", call(unix.SYS_ARCH_PRCTL, 0x1002), allowed},
}

// i386 system call numbers (arch/x86/entry/syscalls/syscall_32.tbl).
const (
	i386Read    = 3
	i386Getpid  = 20
	i386Mount   = 21
	i386Clone   = 120
	i386Syscall = 0xffffffff
)

// foreignCases are calls through x86_64's other ABIs: i386 (int 0x80) and
// x32 (the native arch, with bit 30 set in the number).
var foreignCases = []struct {
	name string
	d    seccompData
}{
	{"i386 read", seccompData{Nr: i386Read, Arch: unix.AUDIT_ARCH_I386}},
	{"i386 getpid", seccompData{Nr: i386Getpid, Arch: unix.AUDIT_ARCH_I386}},
	{"i386 mount", seccompData{Nr: i386Mount, Arch: unix.AUDIT_ARCH_I386}},
	{"i386 clone CLONE_NEWUSER", seccompData{Nr: i386Clone, Arch: unix.AUDIT_ARCH_I386, Args: [6]uint64{unix.CLONE_NEWUSER}}},
	{"i386 -1", seccompData{Nr: -1, Arch: unix.AUDIT_ARCH_I386}},
	{"i386 with x86_64's read number", seccompData{Nr: unix.SYS_READ, Arch: unix.AUDIT_ARCH_I386}},
	{"x32 read", call(x32Bit | unix.SYS_READ)},
	{"x32 mount", call(x32Bit | unix.SYS_MOUNT)},
	{"x32 ioctl TIOCSTI", call(x32Bit|unix.SYS_IOCTL, 0, unix.TIOCSTI)},
	{"x32 only number", call(x32Bit | 512)},
	{"aarch64", seccompData{Nr: unix.SYS_READ, Arch: unix.AUDIT_ARCH_AARCH64}},
	{"no arch", seccompData{Nr: unix.SYS_READ}},
}
