package seccomp

import "golang.org/x/sys/unix"

// archCases are the arm64-only rules: none.
var archCases []struct {
	name string
	d    seccompData
	want uint32
}

// 32-bit arm system call numbers (arch/arm/tools/syscall.tbl).
const (
	armRead  = 3
	armMount = 21
	armClone = 120
)

// foreignCases are calls through arm64's other ABI, 32-bit arm.
var foreignCases = []struct {
	name string
	d    seccompData
}{
	{"arm read", seccompData{Nr: armRead, Arch: unix.AUDIT_ARCH_ARM}},
	{"arm mount", seccompData{Nr: armMount, Arch: unix.AUDIT_ARCH_ARM}},
	{"arm clone CLONE_NEWUSER", seccompData{Nr: armClone, Arch: unix.AUDIT_ARCH_ARM, Args: [6]uint64{unix.CLONE_NEWUSER}}},
	{"arm -1", seccompData{Nr: -1, Arch: unix.AUDIT_ARCH_ARM}},
	{"arm with arm64's read number", seccompData{Nr: unix.SYS_READ, Arch: unix.AUDIT_ARCH_ARM}},
	{"x86_64", seccompData{Nr: unix.SYS_READ, Arch: unix.AUDIT_ARCH_X86_64}},
	{"no arch", seccompData{Nr: unix.SYS_READ}},
}
