package lazyre

import "testing"

func TestLazy(t *testing.T) {
	re := New(`a(b+)c`)
	if re.re != nil {
		t.Fatal("compiled before first use")
	}
	if !re.MatchString("xabbc") || re.MatchString("ac") {
		t.Fatal("MatchString wrong")
	}
	if m := re.FindStringSubmatch("abbbc"); len(m) != 2 || m[1] != "bbb" {
		t.Fatalf("FindStringSubmatch = %q", m)
	}
	if got := re.ReplaceAllString("abc abbc", "x"); got != "x x" {
		t.Fatalf("ReplaceAllString = %q", got)
	}
}
