package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "reg")
	os.WriteFile(reg, []byte("hello"), 0o600)
	link := filepath.Join(dir, "link")
	os.Symlink(reg, link)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	fifoLink := filepath.Join(dir, "fifolink")
	os.Symlink(fifo, fifoLink)

	tests := []struct {
		name   string
		read   func(string, int64) ([]byte, error)
		path   string
		max    int64
		want   string
		wantIs error
	}{
		{"regular", Read, reg, 10, "hello", nil},
		{"regular at the limit", Read, reg, 5, "hello", nil},
		{"too large", Read, reg, 4, "", ErrTooLarge},
		{"symlink not followed", Read, link, 10, "", ErrNotRegular},
		{"symlink followed", ReadFollow, link, 10, "hello", nil},
		{"fifo does not block", Read, fifo, 10, "", ErrNotRegular},
		{"fifo behind a followed link", ReadFollow, fifoLink, 10, "", ErrNotRegular},
		{"folder", Read, dir, 10, "", ErrNotRegular},
		{"missing", Read, filepath.Join(dir, "nope"), 10, "", os.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan struct{})
			var got []byte
			var err error
			go func() { got, err = tt.read(tt.path, tt.max); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("read blocked")
			}
			if tt.wantIs != nil {
				if !errors.Is(err, tt.wantIs) {
					t.Fatalf("err = %v, want %v", err, tt.wantIs)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
