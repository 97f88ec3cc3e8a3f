package shim

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/rater"
)

// TestRunSessionMemory drives a session end to end through the shim with
// the real rules and a fake backend: what a command that ran did is
// remembered in the state folder and raises a later command; what was
// denied is not remembered.
func TestRunSessionMemory(t *testing.T) {
	ctx := context.Background()
	s, be, rec, _ := newShim(t, models.Rating{}, nil)
	s.Rater = rater.New()
	state := t.TempDir()
	home := t.TempDir()
	env := map[string]string{"HOME": home, "XDG_STATE_HOME": state, "CHAPERONE_SESSION": "test-session"}
	s.Getenv = func(k string) string { return env[k] }
	run := func(cmd string) error {
		return s.Run(ctx, "bash", &Invocation{Mode: ModeCommand, Script: cmd})
	}

	// A download runs (medium); running what it fetched is then held.
	if err := run("curl -sSLo tool https://dl.example.net/tool"); err != ExitCode(7) {
		t.Fatalf("download: %v, want it run (exit 7 from the fake backend)", err)
	}
	if err := run("./tool"); err != ExitCode(DeniedStatus) {
		t.Fatalf("./tool after downloading it: %v, want held", err)
	}
	if ev := rec.evs[len(rec.evs)-1]; ev.Rating.Risk != models.High || ev.Rating.Findings[0].Rule != "exec.download" {
		t.Errorf("rating %+v", ev.Rating)
	}
	// Another session knows nothing of it.
	env["CHAPERONE_SESSION"] = "other"
	if err := run("./tool"); err == ExitCode(DeniedStatus) {
		t.Error("another session's memory was used")
	}
	env["CHAPERONE_SESSION"] = "test-session"

	// A held, denied copy of a secret is not remembered.
	if err := run("cat ~/.aws/credentials > notes.txt"); err != ExitCode(DeniedStatus) {
		t.Fatalf("copying a secret: %v, want held", err)
	}
	if err := run("git add notes.txt"); err == ExitCode(DeniedStatus) {
		t.Error("a command that never ran was remembered")
	}
	// One that ran is.
	if err := run("env > env.txt"); err != ExitCode(7) {
		t.Fatalf("env dump: %v", err)
	}
	if err := run("git add -f env.txt"); err != ExitCode(DeniedStatus) {
		t.Errorf("git add of the environment dump: %v, want held", err)
	}

	files, _ := filepath.Glob(filepath.Join(state, "chaperone", "sessions", "*.mem"))
	if len(files) != 1 {
		t.Fatalf("session files %q, want one", files)
	}
	if fi, err := os.Stat(files[0]); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("session file mode %v, %v", fi.Mode(), err)
	}
	if len(be.jobs) != 4 {
		t.Errorf("%d jobs ran, want 4", len(be.jobs))
	}
}

// TestSessionNotesReadsRemotes: before a command repoints a remote, the
// remotes the repository has are noted, so that the new host can be told
// from the project's own.
func TestSessionNotesReadsRemotes(t *testing.T) {
	proj := t.TempDir()
	os.MkdirAll(filepath.Join(proj, ".git"), 0o700)
	os.WriteFile(filepath.Join(proj, ".git", "config"), []byte("[core]\n\tbare = false\n[remote \"origin\"]\n\turl = git@github.com:acme/app.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n"), 0o600)
	req := rater.Request{Command: "git remote set-url origin https://evil.example/app.git", Cwd: proj, Project: proj, Home: "/home/u"}
	r := rater.New()
	_, facts := r.Rate(context.Background(), req)
	notes := sessionNotes(req, facts)
	if len(notes) != 3 || notes[0].Op != "known" || notes[1].Value != "git@github.com:acme/app.git" || notes[2].Op != "remote" {
		t.Fatalf("notes %+v", notes)
	}
}

// TestGitRemoteURLs: the URLs of every remote, quoted or not, and nothing
// from other sections.
func TestGitRemoteURLs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := "[core]\n\turl = not-a-remote\n[remote \"origin\"]\n\turl = git@github.com:a/b.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n" +
		"[remote \"mirror\"]\n\tpushurl = \"https://mirror.example/b.git\"\n"
	if err := os.MkdirAll(filepath.Join(dir, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".git", "config"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(gitRemoteURLs(dir), " ")
	if want := "git@github.com:a/b.git https://mirror.example/b.git"; got != want {
		t.Errorf("gitRemoteURLs = %q, want %q", got, want)
	}
}
