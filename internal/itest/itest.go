// Package itest decides whether an integration test may skip: on a
// developer's machine a missing component skips the test; in CI
// (CHAPERONE_REQUIRE_INTEGRATION=1) it fails it.
package itest

import (
	"os"
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
