package cloexec

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestFrom leaves a descriptor open without close-on-exec, as an
// agent would hand one to its shell, and checks a child does not get it.
func TestFrom(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd, err := syscall.Dup(int(f.Fd())) // dup: not close-on-exec
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	list := func() string {
		out, err := exec.Command("ls", "/proc/self/fd").Output()
		if err != nil {
			t.Fatal(err)
		}
		return " " + strings.Join(strings.Fields(string(out)), " ") + " "
	}
	name := " " + strconv.Itoa(fd) + " "
	if !strings.Contains(list(), name) {
		t.Fatalf("the child did not inherit fd %d to begin with: %s", fd, list())
	}
	From(3)
	if got := list(); strings.Contains(got, name) {
		t.Errorf("fd %d still reaches a child: %s", fd, got)
	}
}
