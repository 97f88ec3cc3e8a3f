package audit

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/models"
)

func writeFiles(t testing.TB, root string, files ...string) {
	t.Helper()
	for _, f := range files {
		p := filepath.Join(root, f)
		if strings.HasSuffix(f, "/") {
			os.MkdirAll(p, 0o755)
			continue
		}
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestWatchTree runs a real shell command in a real tree and checks the
// changes recorded.
func TestWatchTree(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writeFiles(t, root, "src/main.go", "old.txt", "keep.txt", ".git/objects/ab/cd", ".git/HEAD",
		"node_modules/left-pad/index.js", "docs/a/b/c/deep.md")
	w, err := WatchTree(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	script := strings.Join([]string{
		"echo new > a.txt",
		"echo more >> src/main.go",
		"rm old.txt",
		"mkdir -p new/sub && echo x > new/sub/f.txt", // created faster than a watch can be added
		"echo x > node_modules/left-pad/other.js",    // ignored
		"echo x > .git/objects/ab/ef",                // ignored
		"echo x > tmp.swp && rm tmp.swp",             // net effect: nothing
		"echo x > docs/a/b/c/deep.md",
		"mkdir target",          // an ignored dir itself is recorded
		"echo x > target/out.o", // its contents are not
	}, "\n")
	cmd := exec.Command("sh", "-ec", script)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	files, dropped := w.Stop()
	got := map[string]string{}
	for _, f := range files {
		got[f.Path] = f.Op
	}
	want := map[string]string{
		"a.txt":              "created",
		"src/main.go":        "modified",
		"old.txt":            "removed",
		"new/":               "created",
		"new/sub/":           "created",
		"new/sub/f.txt":      "created",
		"docs/a/b/c/deep.md": "modified",
		"target/":            "created",
	}
	if !reflect.DeepEqual(got, want) || dropped != 0 {
		t.Errorf("changes %v (dropped %d)\nwant    %v", got, dropped, want)
	}
	if w.Note() != "" {
		t.Errorf("note %q", w.Note())
	}
	// Stop again returns the same.
	if again, _ := w.Stop(); len(again) != len(files) {
		t.Error("second Stop differs")
	}
}

func TestWatchTreeCaps(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for i := range 30 {
		writeFiles(t, root, fmt.Sprintf("d%02d/", i))
	}
	w, err := WatchTree(context.Background(), root, MaxDirs(10), MaxFiles(5))
	if err != nil {
		t.Fatal(err)
	}
	if w.Dirs() != 10 || !strings.Contains(w.Note(), "watch limit reached") {
		t.Errorf("watching %d dirs, note %q", w.Dirs(), w.Note())
	}
	for i := range 8 {
		os.WriteFile(filepath.Join(root, fmt.Sprintf("f%d", i)), nil, 0o644)
	}
	files, dropped := w.Stop()
	if len(files) != 5 || dropped != 3 {
		t.Errorf("%d files, %d dropped; want 5 and 3", len(files), dropped)
	}
}

func TestWatchTreeMissingRoot(t *testing.T) {
	t.Parallel()
	if _, err := WatchTree(context.Background(), filepath.Join(t.TempDir(), "nope")); err == nil {
		t.Error("watching a missing directory did not fail")
	}
}

// bigTree makes 20 × 10 × 10 = 2,000 leaf directories (2,220 in all),
// each with a file.
func bigTree(tb testing.TB) string {
	root := tb.TempDir()
	for a := range 20 {
		for b := range 10 {
			for c := range 10 {
				p := filepath.Join(root, fmt.Sprintf("a%d/b%d/c%d", a, b, c))
				os.MkdirAll(p, 0o755)
				os.WriteFile(filepath.Join(p, "f.go"), nil, 0o644)
			}
		}
	}
	return root
}

// TestWatchTreeBigTree watches 2,221 directories, logs how long setup
// took, and checks a change deep in the tree is seen.
func TestWatchTreeBigTree(t *testing.T) {
	root := bigTree(t)
	start := time.Now()
	w, err := WatchTree(context.Background(), root, MaxDirs(5000), SetupBudget(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	setup := time.Since(start)
	os.WriteFile(filepath.Join(root, "a19/b9/c9/new.go"), nil, 0o644)
	files, _ := w.Stop()
	t.Logf("watching %d dirs took %v to set up", w.Dirs(), setup)
	if w.Dirs() != 2221 || w.Note() != "" {
		t.Errorf("watching %d dirs (note %q), want 2221", w.Dirs(), w.Note())
	}
	if !reflect.DeepEqual(files, []models.FileChange{{Op: "created", Path: "a19/b9/c9/new.go"}}) {
		t.Errorf("changes %v", files)
	}
}

func BenchmarkWatchTree(b *testing.B) {
	root := bigTree(b)
	for b.Loop() {
		w, err := WatchTree(context.Background(), root, MaxDirs(5000), SetupBudget(10*time.Second))
		if err != nil {
			b.Fatal(err)
		}
		w.Stop()
	}
}

func TestWatchTreeInBackground(t *testing.T) {
	t.Parallel()
	root := bigTree(t)
	start := time.Now()
	w, err := WatchTree(context.Background(), root, InBackground(), MaxDirs(5000), SetupBudget(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	setup := time.Since(start)
	os.WriteFile(filepath.Join(root, "top.txt"), nil, 0o644) // the root is watched at once
	for deadline := time.Now().Add(time.Minute); w.Dirs() < 2221 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond) // let the walk finish
	}
	os.WriteFile(filepath.Join(root, "a3/b3/c3/deep.txt"), nil, 0o644)
	files, _ := w.Stop()
	t.Logf("background setup returned after %v; %d dirs watched", setup, w.Dirs())
	want := []models.FileChange{{Op: "created", Path: "top.txt"}, {Op: "created", Path: "a3/b3/c3/deep.txt"}}
	if !reflect.DeepEqual(files, want) {
		t.Errorf("changes %v, want %v", files, want)
	}
}
