//go:build linux && !(amd64 || arm64)

package seccomp

import (
	"fmt"
	"runtime"
)

// build has no filter to build here.
func build() ([]byte, error) {
	return nil, fmt.Errorf("%w: %s", ErrUnsupported, runtime.GOARCH)
}
