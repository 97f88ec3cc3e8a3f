package rater

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaperone-dev/chaperone/models"
)

// corpusPath is the labelled corpus: $CHAPERONE_CORPUS, else the shared
// development corpus next to the repository.
func corpusPath() string {
	if p := os.Getenv("CHAPERONE_CORPUS"); p != "" {
		return p
	}
	return filepath.Join("..", "..", "shared", "corpus", "dev.jsonl")
}

type corpusLine struct {
	Cmd    string `json:"cmd"`
	Label  string `json:"label"`
	Source string `json:"source"`
}

// TestCorpusFigures asserts the targets on the labelled corpus:
// high rated high >= 98%, low rated high <= 2%, low rated low >= 90%.
// The corpus lives outside the repository; without it the test skips.
func TestCorpusFigures(t *testing.T) {
	f, err := os.Open(corpusPath())
	if os.IsNotExist(err) {
		t.Skipf("no corpus at %s (set CHAPERONE_CORPUS)", corpusPath())
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type tally struct{ high, highH, low, lowH, lowL int }
	per := map[string]*tally{"overall": {}}
	r := New()
	proj := t.TempDir()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l corpusLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("corpus line: %v", err)
		}
		src, _, _ := strings.Cut(l.Source, ":")
		if per[src] == nil {
			per[src] = &tally{}
		}
		got, _ := r.Rate(context.Background(), Request{Command: l.Cmd, Cwd: proj, Project: proj, Home: "/home/dev"})
		for _, t := range []*tally{per["overall"], per[src]} {
			switch l.Label {
			case "high":
				t.high++
				if got.Risk == models.High {
					t.highH++
				}
			case "low":
				t.low++
				switch got.Risk {
				case models.High:
					t.lowH++
				case models.Low:
					t.lowL++
				}
			}
		}
		if testing.Verbose() && (l.Label == "high" && got.Risk != models.High || l.Label == "low" && got.Risk != models.Low) {
			t.Logf("miss: %s rated %s %v: %s", l.Label, got.Risk, rules(got), l.Cmd)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	pct := func(a, b int) float64 { return 100 * float64(a) / float64(max(b, 1)) }
	for name, v := range per {
		t.Logf("%-9s high>H %5.1f%%  low>H %4.1f%%  low>L %5.1f%%  (%d high, %d low)", name,
			pct(v.highH, v.high), pct(v.lowH, v.low), pct(v.lowL, v.low), v.high, v.low)
	}
	o := per["overall"]
	if o.high == 0 || o.low == 0 {
		t.Fatal("corpus has no high or no low lines")
	}
	if p := pct(o.highH, o.high); p < 98 {
		t.Errorf("high rated high: %.1f%%, want >= 98%%", p)
	}
	if p := pct(o.lowH, o.low); p > 2 {
		t.Errorf("low rated high: %.1f%%, want <= 2%%", p)
	}
	if p := pct(o.lowL, o.low); p < 90 {
		t.Errorf("low rated low: %.1f%%, want >= 90%%", p)
	}
}

// TestHandwrittenCorpus runs the same figures over testdata/rater/
// handwritten.jsonl: agent-style commands written for this repository,
// of a different origin than the shared corpus.
func TestHandwrittenCorpus(t *testing.T) {
	t.Setenv("CHAPERONE_CORPUS", filepath.Join("..", "testdata", "rater", "handwritten.jsonl"))
	TestCorpusFigures(t)
}
