// Command seccomp-probe makes, in a sandbox, the system calls chaperone's
// seccomp profiles deny, and a few they must allow, and prints one line
// each: "NAME ok" or "NAME ERRNO". The filters answer EPERM or ENOSYS; a
// call they let through fails, if at all, with the kernel's own errno
// (the probe's arguments are mostly invalid on purpose). The tests build
// it static and run it in the containers.
package main

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

func main() {
	// The ioctls go to /dev/null: ENOTTY when the filter lets them
	// through, its own errno when it does not.
	null, err := os.OpenFile("/dev/null", os.O_RDWR, 0)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	tty := int(null.Fd())
	c := byte('x')
	probes := []struct {
		name string
		call func() syscall.Errno
	}{
		{"unshare-user", func() syscall.Errno { return raw(syscall.SYS_UNSHARE, syscall.CLONE_NEWUSER, 0, 0) }},
		{"unshare-ns", func() syscall.Errno { return raw(syscall.SYS_UNSHARE, syscall.CLONE_NEWNS, 0, 0) }},
		{"clone-user", func() syscall.Errno { return fork(syscall.CLONE_NEWUSER) }},
		{"clone3", func() syscall.Errno { return raw(unix.SYS_CLONE3, 0, 0, 0) }},
		{"setns", func() syscall.Errno { return raw(unix.SYS_SETNS, 0, 0, 0) }},
		{"mount", func() syscall.Errno { return raw(syscall.SYS_MOUNT, 0, 0, 0) }},
		{"keyctl", func() syscall.Errno { return raw(syscall.SYS_KEYCTL, 0, 0, 0) }},
		{"bpf", func() syscall.Errno { return raw(unix.SYS_BPF, 0, 0, 0) }},
		{"userfaultfd", func() syscall.Errno { return raw(unix.SYS_USERFAULTFD, 0, 0, 0) }},
		{"io_uring_setup", func() syscall.Errno { return raw(unix.SYS_IO_URING_SETUP, 1, 0, 0) }},
		{"fsopen", func() syscall.Errno { return raw(unix.SYS_FSOPEN, 0, 0, 0) }},
		{"tiocsti", func() syscall.Errno { return raw(syscall.SYS_IOCTL, uintptr(tty), 0x5412, uintptr(unsafe.Pointer(&c))) }},
		{"tiocsti-high", func() syscall.Errno {
			return raw(syscall.SYS_IOCTL, uintptr(tty), 0x5412|1<<32, uintptr(unsafe.Pointer(&c)))
		}},
		{"tcgets", func() syscall.Errno {
			var t syscall.Termios
			return raw(syscall.SYS_IOCTL, uintptr(tty), syscall.TCGETS, uintptr(unsafe.Pointer(&t)))
		}},
		{"fork", func() syscall.Errno { return fork(0) }},
	}
	for _, p := range probes {
		if e := p.call(); e == 0 {
			fmt.Println(p.name, "ok")
		} else {
			fmt.Println(p.name, errName(e))
		}
	}
}

// fork calls clone with flags and SIGCHLD; the child exits at once.
func fork(flags uintptr) syscall.Errno {
	pid, _, e := syscall.RawSyscall(syscall.SYS_CLONE, flags|uintptr(syscall.SIGCHLD), 0, 0)
	if e == 0 && pid == 0 {
		syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
	}
	if e == 0 {
		var ws syscall.WaitStatus
		syscall.Wait4(int(pid), &ws, 0, nil)
	}
	return e
}

func raw(n, a, b, c uintptr) syscall.Errno {
	_, _, e := syscall.RawSyscall(n, a, b, c)
	return e
}

func errName(e syscall.Errno) string {
	switch e {
	case syscall.EPERM:
		return "EPERM"
	case syscall.ENOSYS:
		return "ENOSYS"
	case syscall.EINVAL:
		return "EINVAL"
	case syscall.EBADF:
		return "EBADF"
	case syscall.EFAULT:
		return "EFAULT"
	case syscall.EIO:
		return "EIO"
	case syscall.ENOTTY:
		return "ENOTTY"
	}
	return fmt.Sprintf("errno-%d", int(e))
}
