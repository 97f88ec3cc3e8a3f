package sandbox

import "testing"

// BenchmarkCredentialStores is what finding the credential stores to
// blank costs each bubblewrap command as it starts.
func BenchmarkCredentialStores(b *testing.B) {
	for b.Loop() {
		credentialStores("/nonexistent/project", []string{"/tmp", "/run", "/nonexistent/home"})
	}
}
