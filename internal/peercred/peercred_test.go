package peercred

import (
	"net"
	"os"
	"path/filepath"
	"testing"
)

func TestNamespaces(t *testing.T) {
	t.Parallel()
	if Namespaces(os.Getpid()) == "" {
		t.Fatal("own namespaces unreadable")
	}
	for _, pid := range []int{0, -1, 1 << 30} {
		if got := Namespaces(pid); got != "" {
			t.Errorf("Namespaces(%d) = %q, want empty", pid, got)
		}
	}
}

// TestCheckSameProcess: a peer that is this process passes, with its PID.
func TestCheckSameProcess(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "s")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := l.AcceptUnix()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, conn := range []*net.UnixConn{s, c} {
		cred, err := Check(conn)
		if err != nil || cred.PID != os.Getpid() || cred.UID != os.Getuid() {
			t.Errorf("Check = %+v, %v; want this process", cred, err)
		}
	}
}
