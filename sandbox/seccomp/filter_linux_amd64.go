package seccomp

import "golang.org/x/sys/unix"

// The x86_64 kernel takes three system call ABIs: its own, i386's (int 0x80
// and sysenter, which seccomp sees as AUDIT_ARCH_I386) and x32's (seen as
// AUDIT_ARCH_X86_64 with x32Bit set in the number). Only the first is
// allowed; the deny list is written in its numbers.
const (
	auditArch = unix.AUDIT_ARCH_X86_64
	x32Bit    = 0x40000000 // __X32_SYSCALL_BIT
)

// archRules are the calls denied only on x86_64.
func archRules() []rule {
	return always(unix.EPERM,
		// 16-bit segments: unneeded by anything a developer runs, and a
		// history of kernel information leaks (Flatpak, Docker).
		unix.SYS_MODIFY_LDT,
		// Loads a.out libraries, obsolete for decades (Flatpak, Docker).
		unix.SYS_USELIB,
		// Raw I/O port access; needs CAP_SYS_RAWIO, which the jail lacks.
		unix.SYS_IOPL, unix.SYS_IOPERM,
	)
}
