package egress

import (
	"bytes"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestAdmit(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want bool
	}{{"s3cret\nGET", true}, {"s3cre7\n", false}, {"s3cret", false}, {"s3cret!", false}, {"", false}, {"\x05\x01\x00", false}} {
		a, b := net.Pipe()
		go func() { io.WriteString(b, c.in); b.Close() }()
		if got := Admit(a, "s3cret"); got != c.want {
			t.Errorf("Admit(%q) = %v, want %v", c.in, got, c.want)
		}
		a.Close()
	}
}

// The forwarder opens each connection with the key, then carries both
// ways until each side is done.
func TestForwardCarriesWithKey(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "s")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		if !Admit(c, "k") {
			return
		}
		b, _ := io.ReadAll(c) // until the client's half-close
		c.Write(bytes.ToUpper(b))
	}()
	port, err := Forward(sock, "k")
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", "127.0.0.1:"+itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	big := strings.Repeat("abc", 1<<18)
	go func() { io.WriteString(c, big); c.(*net.TCPConn).CloseWrite() }()
	got, _ := io.ReadAll(c)
	if string(got) != strings.ToUpper(big) {
		t.Errorf("got %d bytes back, want %d upper-cased", len(got), len(big))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
