package seccomp

import "golang.org/x/sys/unix"

// The arm64 kernel may also take 32-bit arm system calls (seen as
// AUDIT_ARCH_ARM); only the native ABI is allowed.
const (
	auditArch = unix.AUDIT_ARCH_AARCH64
	x32Bit    = 0 // arm64 has no x32-like ABI in the native number space
)

// archRules are the calls denied only on arm64: none.
func archRules() []rule { return nil }
