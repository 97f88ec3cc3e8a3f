package suggest

import "testing"

func TestClosest(t *testing.T) {
	t.Parallel()
	among := []string{"audit", "sandbox", "rate", "tui", "bwrap", "docker"}
	tests := []struct{ word, want string }{
		{"audti", "audit"},
		{"sandbx", "sandbox"},
		{"bwarp", "bwrap"},
		{"audit", "audit"},
		{"tu", "tui"},
		{"dockre", "docker"},
		{"xyzzy", ""},
		{"", ""},
		{"rat", "rate"},
	}
	for _, tt := range tests {
		if got := Closest(tt.word, among); got != tt.want {
			t.Errorf("Closest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}

func TestDistance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"kitten", "sitting", 3}, {"audti", "audit", 2}, {"same", "same", 0},
	}
	for _, tt := range tests {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
