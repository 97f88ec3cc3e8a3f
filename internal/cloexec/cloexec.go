// Package cloexec keeps descriptors from reaching a sandbox: what a process
// inherited from its caller (the agent) and did not mean to pass on. It
// imports only the standard library's basics, for chaperone-shell.
package cloexec

import (
	"os"
	"strconv"
	"syscall"
)

// From marks every descriptor from lowest up close-on-exec, so
// that no program this process starts gets them: close_range(2) with
// CLOSE_RANGE_CLOEXEC where the kernel has it (5.11), else one fcntl per
// descriptor listed in /proc/self/fd.
func From(lowest int) {
	const sysCloseRange = 436 // the same number on amd64 and arm64
	const closeRangeCloexec = 1 << 2
	if _, _, errno := syscall.Syscall(sysCloseRange, uintptr(lowest), ^uintptr(0), closeRangeCloexec); errno == 0 {
		return
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range ents {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd >= lowest {
			syscall.CloseOnExec(fd)
		}
	}
}
