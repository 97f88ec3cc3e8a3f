// Package safefile reads files that a sandboxed command could have put in
// chaperone's way: a FIFO (which would block the read for ever), a device,
// a symbolic link to a secret, or a huge file. It imports only the
// standard library's basics, so the small chaperone-shell may use it.
package safefile

import (
	"errors"
	"io"
	"os"
	"syscall"
)

// ErrNotRegular is returned for anything but a regular file (a FIFO, a
// socket, a device, a folder; a symbolic link unless followed).
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is returned for a file larger than the limit given.
var ErrTooLarge = errors.New("file too large")

// Read returns the content of the regular file at path, at most max bytes
// (ErrTooLarge beyond). A symbolic link at path is not followed
// (ErrNotRegular); opening never blocks.
func Read(path string, max int64) ([]byte, error) { return read(path, max, syscall.O_NOFOLLOW) }

// ReadFollow is Read, following symbolic links (the file they lead to must
// still be regular).
func ReadFollow(path string, max int64) ([]byte, error) { return read(path, max, 0) }

// Open opens the regular file at path for reading without following a
// symbolic link or blocking on a FIFO.
func Open(path string) (*os.File, error) {
	return open(path, syscall.O_NOFOLLOW)
}

func open(path string, flags int) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC|flags, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, &os.PathError{Op: "open", Path: path, Err: ErrNotRegular}
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, &os.PathError{Op: "open", Path: path, Err: ErrNotRegular}
	}
	return f, nil
}

func read(path string, max int64, flags int) ([]byte, error) {
	f, err := open(path, flags)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, &os.PathError{Op: "read", Path: path, Err: ErrTooLarge}
	}
	return b, nil
}
