package shim

import (
	"bytes"
	"os"
	"testing"
)

func TestParseHistory(t *testing.T) {
	for _, tc := range []struct {
		in   string
		num  int
		text string
		ok   bool
	}{
		{"   12  echo hi\n", 12, "echo hi", true},
		{"    7* echo edited\n", 7, "echo edited", true},
		{" 1003  if true\nthen\n  echo x\nfi\n", 1003, "if true\nthen\n  echo x\nfi", true},
		{"  5   leading space kept\n", 5, " leading space kept", true},
		{"", 0, "", false},                 // history empty (HISTSIZE=0)
		{"nonsense\n", 0, "", false},       // not history's output
		{"  12 one space\n", 0, "", false}, // not history's layout
		{"  99999999999999999999  x\n", 0, "", false},
	} {
		num, text, ok := parseHistory(tc.in)
		if num != tc.num || text != tc.text || ok != tc.ok {
			t.Errorf("parseHistory(%q) = %d, %q, %v; want %d, %q, %v", tc.in, num, text, ok, tc.num, tc.text, tc.ok)
		}
	}
}

// TestWrittenWhole: a pipe its writer has closed is a whole script; one
// still open is not, and what it held so far is kept.
func TestWrittenWhole(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	w.WriteString("echo a\necho b\n")
	got, whole := writtenWhole(r)
	if whole || string(got) != "echo a\necho b\n" {
		t.Errorf("open pipe: %q, whole %v; want the text so far, not whole", got, whole)
	}
	w.WriteString("echo c\n")
	w.Close()
	got, whole = writtenWhole(r)
	if !whole || string(got) != "echo c\n" {
		t.Errorf("closed pipe: %q, whole %v; want the rest, whole", got, whole)
	}
	// Still a blocking descriptor for whoever reads it next.
	r2, w2, _ := os.Pipe()
	defer w2.Close()
	writtenWhole(r2)
	done := make(chan struct{})
	go func() { r2.Read(make([]byte, 1)); close(done) }()
	w2.WriteString("x")
	<-done
}

func TestCRLFWriter(t *testing.T) {
	var b bytes.Buffer
	n, err := crlfWriter{&b}.Write([]byte("a\nb\n"))
	if err != nil || n != 4 || b.String() != "a\r\nb\r\n" {
		t.Errorf("wrote %q (%d, %v)", b.String(), n, err)
	}
}
