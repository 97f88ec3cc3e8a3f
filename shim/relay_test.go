package shim

import (
	"bytes"
	"io"
	"os"
	"testing"
	"time"
)

// TestRelayDrained: what the pipe held when drained was called has been
// written to the caller once its channel is closed (bwrap's statements
// end their output so, without a mark).
func TestRelayDrained(t *testing.T) {
	rl, out := testRelay(t)
	defer rl.close()
	select {
	case <-rl.drained():
	case <-time.After(time.Second):
		t.Fatal("an empty relay is not drained")
	}
	total := 0
	for i := range 200 {
		chunk := bytes.Repeat([]byte{byte('a' + i%26)}, 1+i*97%40000)
		rl.w.Write(chunk)
		total += len(chunk)
		select {
		case <-rl.drained():
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: not drained", i)
		}
		if fi, err := out.Stat(); err != nil || fi.Size() != int64(total) {
			t.Fatalf("round %d: drained with %v bytes written out of %d (%v)", i, fi.Size(), total, err)
		}
	}
}

// TestRelayDrainedWaitsForRelay: drained's channel stays open while what
// the pipe held is still on its way; a caller that does not read keeps it
// open without blocking drained itself (the session is not stuck in it).
func TestRelayDrainedWaitsForRelay(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	rl, err := newRelay(w)
	if err != nil {
		t.Fatal(err)
	}
	defer rl.close()
	// More than the caller's pipe takes: the relay blocks writing.
	go rl.w.Write(bytes.Repeat([]byte("x"), 1<<20))
	time.Sleep(100 * time.Millisecond)
	called := make(chan (<-chan struct{}), 1)
	go func() { called <- rl.drained() }()
	var done <-chan struct{}
	select {
	case done = <-called:
	case <-time.After(2 * time.Second):
		t.Fatal("drained blocks while the caller does not read")
	}
	select {
	case <-done:
		t.Fatal("drained with most of the output not written out")
	case <-time.After(200 * time.Millisecond):
	}
	go io.Copy(io.Discard, r)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("not drained once the caller reads")
	}
}
