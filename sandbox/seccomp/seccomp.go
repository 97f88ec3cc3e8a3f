//go:build linux

// Package seccomp builds the seccomp filter that chaperone's bubblewrap
// jails run under (bwrap --seccomp FD). It is a short deny list in the
// spirit of Flatpak's and Codex's filters: system calls that an ordinary
// development command never makes, and that would let a process rebuild its
// view of the system or reach kernel code most programs never touch. Every
// other call is allowed, so bash, coreutils, git, go, node, python, make and
// gcc behave in the jail as they do outside it.
//
// A denied call fails with EPERM and is not run, with two exceptions that
// fail with ENOSYS so that the caller falls back to an older call the filter
// can judge: clone3, whose flags sit in memory that seccomp cannot read
// (glibc then uses clone, whose flags are a register), and the new mount
// API (tools then use mount(2), which fails with EPERM), as Flatpak
// answers them too. What is denied:
//
//   - New namespaces: clone and unshare with any CLONE_NEW* flag, above all
//     CLONE_NEWUSER, which gives the caller every capability inside the new
//     namespace and with them kernel code written for root; clone3; setns.
//   - Changing the filesystem view: mount, umount2, pivot_root, chroot,
//     open_by_handle_at, and open_tree, open_tree_attr, move_mount, fsopen,
//     fsconfig, fsmount, fspick, mount_setattr.
//   - Typing into the terminal: ioctl with request TIOCSTI (push input that
//     the shell outside the jail reads, CVE-2017-5226) or TIOCLINUX (the
//     same through the console's selection, CVE-2023-28100).
//   - Kernel attack surface: bpf, perf_event_open, userfaultfd, io_uring,
//     the keyring calls (keyctl, add_key, request_key), the NUMA memory
//     policy calls, syslog, socket(AF_VSOCK), and on x86_64 modify_ldt and
//     uselib.
//   - Calls that need a capability the jail does not have, denied as well
//     in case a jail is ever run with some: kexec_load, kexec_file_load,
//     init_module, finit_module, delete_module, reboot, swapon, swapoff,
//     acct, settimeofday, clock_settime, and on x86_64 iopl and ioperm.
//
// ptrace is allowed on purpose: strace and gdb are ordinary development
// tools, and in a jail with its own pid namespace they only reach the jail's
// own processes.
//
// Only the machine's native system call ABI is allowed. A call made through
// another one (i386's int 0x80 or x32 on x86_64, 32-bit arm on arm64) kills
// the process (SIGSYS): the deny list is written for native system call
// numbers and would not catch it. So 32-bit programs do not run in the jail.
//
// The package is for Linux. The filter exists for amd64 and arm64; on other
// architectures Program and File return ErrUnsupported.
package seccomp

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"

	"golang.org/x/sys/unix"
)

// ErrUnsupported is returned on architectures for which there is no
// filter. Whether to run jails without one is the caller's decision.
var ErrUnsupported = errors.New("no seccomp filter for this architecture")

// compiled builds the program once; every command needs it.
var compiled = sync.OnceValues(build)

// Program returns the filter as classic BPF: the bytes of an array of
// struct sock_filter (8 bytes an instruction, in the machine's byte order),
// which is what bwrap --seccomp reads from its file descriptor. The program
// is built on first use; later calls only copy it. The slice is the
// caller's.
func Program() ([]byte, error) {
	prog, err := compiled()
	if err != nil {
		return nil, err
	}
	return slices.Clone(prog), nil
}

// File returns the read end of a pipe that holds Program, its write end
// already closed, ready to be handed to one bwrap as an extra file
// (exec.Cmd.ExtraFiles) whose descriptor number goes after --seccomp. bwrap
// reads it to the end, so a File serves one jail; the caller closes it once
// bwrap has started.
func File() (*os.File, error) {
	prog, err := compiled()
	if err != nil {
		return nil, err
	}
	// A bare pipe, rather than os.Pipe's, which the runtime's poller
	// watches: half the system calls, and this runs for every command.
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, fmt.Errorf("seccomp filter pipe: %w", err)
	}
	// The program (under a kilobyte) fits the pipe's buffer, so this
	// write does not wait for a reader.
	n, err := unix.Write(p[1], prog)
	if cerr := unix.Close(p[1]); err == nil {
		err = cerr
	}
	if err == nil && n != len(prog) {
		err = io.ErrShortWrite
	}
	if err != nil {
		unix.Close(p[0])
		return nil, fmt.Errorf("write seccomp filter: %w", err)
	}
	return os.NewFile(uintptr(p[0]), "seccomp filter"), nil
}
