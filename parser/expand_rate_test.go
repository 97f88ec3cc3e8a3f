package parser_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/rater"
)

// FuzzExpandRate rates mutations of the expansion class cases
// (rater/testdata/classes/expansion.jsonl): no panic, no hang, and a
// command that is opaque, or whose program name is only known at run time
// or assembled to hide it, is never rated low.
func FuzzExpandRate(f *testing.F) {
	file, err := os.Open(filepath.Join("..", "rater", "testdata", "classes", "expansion.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	sc := bufio.NewScanner(file)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var c struct{ Cmd string }
		if line := sc.Text(); strings.HasPrefix(line, "{") && json.Unmarshal([]byte(line), &c) == nil {
			f.Add(c.Cmd)
		}
	}
	file.Close()
	r := rater.New()
	env := []string{"EDITOR=vim", "PATH=/usr/bin:/bin"}
	f.Fuzz(func(t *testing.T, cmd string) {
		watchdog := time.AfterFunc(5*time.Second, func() { panic(fmt.Sprintf("Rate hangs on %q", cmd)) })
		defer watchdog.Stop()
		got, facts := r.Rate(context.Background(), rater.Request{Command: cmd, Cwd: "/home/dev/proj", Project: "/home/dev/proj", Home: "/home/dev", Env: env})
		if got.Risk != models.Low {
			return
		}
		if facts.Opaque {
			t.Fatalf("opaque command rated low: %q %v", cmd, facts.OpaqueReasons)
		}
		for _, c := range facts.Commands {
			if len(c.Argv) > 0 && (c.Argv[0].Dynamic || c.Argv[0].Assembled) {
				t.Fatalf("%q: program name %q built at run time or assembled, rated low", cmd, c.Argv[0].Lit)
			}
		}
	})
}
