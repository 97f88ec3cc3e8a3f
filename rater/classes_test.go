package rater

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaperone-dev/chaperone/models"
)

// classCase is one line of testdata/classes/*.jsonl: a command written for
// a class of attack (or its look-alike), never taken from a corpus.
type classCase struct {
	Cmd   string `json:"cmd"`
	Label string `json:"label"` // low, medium or high
	Why   string `json:"why"`
}

// TestClasses rates every case of every class file: a high case must be
// rated high, a low or medium look-alike must not be held, and a low one
// must not be warned about either. Each file is one class of what a
// steered agent does (see its first lines), so that a rule covers the class
// rather than one command.
func TestClasses(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "classes", "*.jsonl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no class files: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".jsonl"), func(t *testing.T) {
			t.Parallel()
			for i, c := range readClass(t, file) {
				r := rate(t, c.Cmd)
				switch want := c.Label; {
				case want == "high" && r.Risk != models.High:
					t.Errorf("%s:%d: %q (%s): rated %s %v, want high", file, i+1, c.Cmd, c.Why, r.Risk, rules(r))
				case want != "high" && r.Risk == models.High:
					t.Errorf("%s:%d: look-alike %q held: %v", file, i+1, c.Cmd, rules(r))
				case want == "low" && r.Risk != models.Low:
					t.Errorf("%s:%d: %q rated %s %v, want low", file, i+1, c.Cmd, r.Risk, rules(r))
				}
			}
		})
	}
}

func readClass(t *testing.T, file string) []classCase {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []classCase
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "//") {
			continue
		}
		var c classCase
		if err := json.Unmarshal([]byte(line), &c); err != nil || c.Cmd == "" {
			t.Fatalf("%s:%d: %v", file, n, err)
		}
		if c.Label != "low" && c.Label != "medium" && c.Label != "high" {
			t.Fatalf("%s:%d: label %q", file, n, c.Label)
		}
		out = append(out, c)
	}
	return out
}
