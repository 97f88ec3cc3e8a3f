package rater

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/chaperone-dev/chaperone/models"
)

// TestModelReach measures what fraction of typical agent work (the low
// and medium lines of the shared development corpus) the rules leave
// undecided, i.e. what would reach the model at all. The aim is under 10%.
func TestModelReach(t *testing.T) {
	path := filepath.Join("..", "..", "shared", "corpus", "dev.jsonl")
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("no corpus beside the repository: %v", err)
	}
	defer f.Close()
	var asked countingAsker
	r := New(WithModel(&asked))
	total, undecided := 0, 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct{ Cmd, Label string }
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if line.Label != "low" && line.Label != "medium" {
			continue
		}
		total++
		before := asked.n
		rating, _ := r.Rate(context.Background(), Request{Command: line.Cmd})
		if rating.Undecided {
			undecided++
			if asked.n == before {
				t.Errorf("undecided but the model was not asked: %q", line.Cmd)
			}
		} else if asked.n != before {
			t.Errorf("decided by rules but the model was asked: %q", line.Cmd)
		}
	}
	if total == 0 {
		t.Fatal("no low or medium lines in the corpus")
	}
	t.Logf("reach the model: %d of %d low+medium corpus commands (%.1f%%)", undecided, total, 100*float64(undecided)/float64(total))
}

// countingAsker counts questions and answers none.
type countingAsker struct{ n int }

func (c *countingAsker) Ask(context.Context, Request, *models.Facts, models.Rating) *models.ModelAnswer {
	c.n++
	return nil
}
