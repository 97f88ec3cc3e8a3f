package audit

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/chaperone-dev/chaperone/models"
)

var update = flag.Bool("update", false, "rewrite the audit log fixtures in testdata/script/audit_*.txtar")

// fixturePrefix is where the CLI scripts keep their log ($XDG_STATE_HOME
// is $WORK/.state in cmd/chaperone's testscript setup).
const fixturePrefix = ".state/chaperone/audit/"

// TestScriptFixtures checks that the logs inside the CLI scripts
// (testdata/script/audit_*.txtar) are intact logs as Append writes them;
// with -update it writes them afresh with writeFixture.
func TestScriptFixtures(t *testing.T) {
	scripts, _ := filepath.Glob("../testdata/script/audit_*.txtar")
	if len(scripts) == 0 {
		t.Fatal("no audit scripts found")
	}
	for _, script := range scripts {
		t.Run(filepath.Base(script), func(t *testing.T) {
			a, err := txtar.ParseFile(script)
			if err != nil {
				t.Fatal(err)
			}
			if *update {
				updateFixture(t, a)
				if err := os.WriteFile(script, txtar.Format(a), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			dir := t.TempDir()
			n := 0
			for _, f := range a.Files {
				if rel, ok := strings.CutPrefix(f.Name, fixturePrefix); ok {
					n++
					p := filepath.Join(dir, rel)
					os.MkdirAll(filepath.Dir(p), 0o700)
					os.WriteFile(p, f.Data, 0o600)
				}
			}
			if n == 0 {
				t.Fatalf("%s holds no log under %s", script, fixturePrefix)
			}
			rep, err := Verify(dir)
			if err != nil {
				t.Fatalf("the fixture log in %s is not intact: %v", script, err)
			}
			if rep.Commands != 9 || rep.Outputs != 5 {
				t.Errorf("fixture report %+v, want 9 commands and 5 outputs", rep)
			}
		})
	}
}

// updateFixture replaces the log files (and tampered/ copies) in a.
func updateFixture(t *testing.T, a *txtar.Archive) {
	dir := t.TempDir()
	tampered := writeFixture(t, dir)
	var keep []txtar.File
	hasTampered := false
	for _, f := range a.Files {
		if strings.HasPrefix(f.Name, "tampered/") {
			hasTampered = true
		}
		if !strings.HasPrefix(f.Name, fixturePrefix) && !strings.HasPrefix(f.Name, "tampered/") {
			keep = append(keep, f)
		}
	}
	var names []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() && fi.Name() != lockName {
			rel, _ := filepath.Rel(dir, p)
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(names)
	for _, n := range names {
		data, _ := os.ReadFile(filepath.Join(dir, n))
		keep = append(keep, txtar.File{Name: fixturePrefix + n, Data: data})
	}
	if hasTampered {
		for _, name := range []string{"deleted.jsonl", "edited.jsonl", "reordered.jsonl", "truncated.jsonl"} {
			keep = append(keep, txtar.File{Name: "tampered/" + name, Data: []byte(tampered[name])})
		}
	}
	a.Files = keep
}

// writeFixture writes the scripts' log: four sessions over two days, with
// output, files and findings, written by Append with a fixed clock. It
// returns tampered copies of the second day's file.
func writeFixture(t *testing.T, dir string) map[string]string {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	l := mustOpen(t, dir, WithClock(func() time.Time { return now }))
	n := 0
	add := func(at time.Time, session, agent, cmd string, risk models.Risk, dec models.Decision, by string, exit int,
		out string, files []models.FileChange, find []models.Finding) {
		now = at
		n++
		ev := &models.Event{Time: at, ID: fmt.Sprintf("rec%02d", n), Session: session, Agent: agent,
			Project: "/home/dev/webshop", Cwd: "/home/dev/webshop", Command: cmd,
			Rating:   models.Rating{Risk: risk, Source: models.SourceRules, Findings: find},
			Decision: dec, DecidedBy: by, Duration: 12, Backend: "docker", Files: files}
		if dec == models.Denied {
			ev.Note = "no way"
		} else {
			ev.Exit = &exit
		}
		if out != "" {
			rec, err := l.NewRecorder(ev)
			if err != nil {
				t.Fatal(err)
			}
			rec.Write([]byte(out))
			ev.Output, _ = rec.Close()
		}
		if err := l.Append(ev); err != nil {
			t.Fatal(err)
		}
	}
	d1 := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	add(d1, "claude-4242", "claude", "ls -la", models.Low, models.Allow, models.ByRules, 0, "total 8\nREADME.md\n", nil, nil)
	add(d1.Add(5*time.Second), "claude-4242", "claude", "git push --force origin main", models.High, models.Approved, models.ByPerson, 0,
		"Everything up-to-date\n", nil, []models.Finding{{Rule: "git.force-push", Risk: models.High, Reason: "rewrites the remote's history"}})
	add(d1.Add(9*time.Second), "claude-4242", "claude", "rm -rf ~", models.High, models.Denied, models.ByPerson, 0, "", nil,
		[]models.Finding{{Rule: "rm.home", Risk: models.High, Reason: "deletes the home directory"}})
	d2 := time.Date(2026, 11, 28, 14, 30, 0, 0, time.UTC)
	add(d2, "claude-4242", "claude", "curl -s -H 'Authorization: Bearer abcdef123456' https://api.example.com > out.json",
		models.Medium, models.Warn, models.ByRules, 6, "curl: (6) Could not resolve host: api.example.com\n",
		[]models.FileChange{{Op: "created", Path: "out.json"}}, []models.Finding{{Rule: "net.fetch", Risk: models.Medium, Reason: "reaches the network"}})
	add(d2.Add(time.Minute), "codex-77", "codex", "cat README.md", models.Low, models.Allow, models.ByRules, 0, "# webshop\n", nil, nil)
	add(d2.Add(2*time.Minute), "codex-77", "codex", "make test", models.Medium, models.Warn, models.ByModel, 2, "FAIL: TestCart\n",
		[]models.FileChange{{Op: "modified", Path: "cart.go"}, {Op: "created", Path: "build/"}}, nil)
	add(d2.Add(3*time.Minute), "rerate-s", "opencode", "ls -la", models.High, models.Approved, models.ByPerson, 0, "", nil, nil)
	add(d2.Add(4*time.Minute), "rerate-s", "opencode", "rm -rf ~", models.Low, models.Allow, models.ByRules, 0, "", nil, nil)
	add(d2.Add(5*time.Minute), "same-s", "gemini", "rm -rf /", models.High, models.Denied, models.ByTimeout, 0, "", nil, nil)

	data, _ := os.ReadFile(filepath.Join(dir, "2026-11-28.jsonl"))
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	join := func(ls []string) string { return strings.Join(ls, "\n") + "\n" }
	edited := append([]string(nil), lines...)
	edited[2] = strings.Replace(edited[2], "cat README.md", "cat READYOU.md", 1)
	reordered := append([]string(nil), lines...)
	reordered[2], reordered[3] = reordered[3], reordered[2]
	return map[string]string{
		"edited.jsonl":    join(edited),
		"deleted.jsonl":   join(append(append([]string(nil), lines[:2]...), lines[3:]...)),
		"reordered.jsonl": join(reordered),
		"truncated.jsonl": join(lines[:len(lines)-2]),
	}
}
