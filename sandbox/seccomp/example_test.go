//go:build linux

package seccomp_test

import (
	"fmt"
	"os"
	"os/exec"

	"github.com/chaperone-dev/chaperone/sandbox/seccomp"
)

// File goes to bwrap as an extra file; the number after --seccomp is its
// descriptor in bwrap: 3 for the first of cmd.ExtraFiles.
func ExampleFile() {
	filter, err := seccomp.File()
	if err != nil {
		fmt.Fprintln(os.Stderr, "no seccomp filter:", err)
		return
	}
	defer filter.Close()
	cmd := exec.Command("bwrap", "--unshare-user", "--unshare-pid", "--unshare-net",
		"--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
		"--seccomp", "3", "--", "bash", "-c", "unshare -U true")
	cmd.ExtraFiles = []*os.File{filter}
	out, err := cmd.CombinedOutput()
	fmt.Printf("%s%v\n", out, err) // unshare: unshare failed: Operation not permitted
}
