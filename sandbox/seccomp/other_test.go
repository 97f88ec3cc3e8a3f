//go:build linux && !(amd64 || arm64)

package seccomp

import (
	"errors"
	"testing"
)

func TestUnsupported(t *testing.T) {
	if _, err := Program(); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Program: %v, want ErrUnsupported", err)
	}
	if f, err := File(); !errors.Is(err, ErrUnsupported) {
		f.Close()
		t.Errorf("File: %v, want ErrUnsupported", err)
	}
}
