// Package itest decides whether an integration test may skip: on a
// developer's machine a missing component skips the test; in CI
// (CHAPERONE_REQUIRE_INTEGRATION=1) it fails it.
package itest

import (
	"os"
	"os/exec"
	"sync"
	"testing"
)

// Required reports whether integration components are mandatory.
func Required() bool { return os.Getenv("CHAPERONE_REQUIRE_INTEGRATION") == "1" }

// Require skips (or, in CI, fails) t when the component what is not available.
func Require(t testing.TB, what string, available bool) {
	t.Helper()
	if available {
		return
	}
	if Required() {
		t.Fatalf("integration component %s is not available, and CHAPERONE_REQUIRE_INTEGRATION=1", what)
	}
	t.Skipf("%s not available (set up by .ci/run)", what)
}

var programs struct {
	once sync.Once
	dir  string
	out  []byte
	err  error
}

// Programs builds chaperone's programs (chaperone, chaperone-shell,
// chaperone-panel) once per test binary, as scripts/install does, into a
// temp folder, and returns it.
func Programs(t testing.TB) string {
	t.Helper()
	programs.once.Do(func() {
		dir, err := os.MkdirTemp("", "chaperone-programs")
		if err != nil {
			programs.err = err
			return
		}
		programs.dir = dir
		const mod = "github.com/chaperone-dev/chaperone/cmd/"
		cmd := exec.Command("go", "build", "-o", dir+"/", mod+"chaperone", mod+"chaperone-shell", mod+"chaperone-panel")
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "CGO_ENABLED=0")
		programs.out, programs.err = cmd.CombinedOutput()
	})
	if programs.err != nil {
		t.Fatalf("build chaperone's programs: %v\n%s", programs.err, programs.out)
	}
	return programs.dir
}

// RemovePrograms removes what Programs built; call it from TestMain after
// m.Run.
func RemovePrograms() {
	if programs.dir != "" {
		os.RemoveAll(programs.dir)
	}
}
