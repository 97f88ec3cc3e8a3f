package shim

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/parser"
	"github.com/chaperone-dev/chaperone/rater"
	"github.com/chaperone-dev/chaperone/sandbox"
)

// fixedRater rates every command with one rating and remembers what it saw.
type fixedRater struct {
	rating models.Rating
	seen   []string
}

func (f *fixedRater) Rate(_ context.Context, req rater.Request) (models.Rating, *models.Facts) {
	f.seen = append(f.seen, req.Command)
	return f.rating, &models.Facts{}
}

type fakeBackend struct{ jobs []*sandbox.Job }

func (*fakeBackend) Name() string { return "fake" }
func (b *fakeBackend) Run(_ context.Context, j *sandbox.Job) (int, error) {
	b.jobs = append(b.jobs, j)
	return 7, nil
}

type fakeApprover struct {
	v   models.Verdict
	req *models.HoldRequest
}

func (a *fakeApprover) Ask(_ context.Context, r models.HoldRequest) (models.Verdict, error) {
	a.req = &r
	return a.v, nil
}

type memRecorder struct{ evs []*models.Event }

func (m *memRecorder) Record(ev *models.Event) error { m.evs = append(m.evs, ev); return nil }

var high = models.Rating{Risk: models.High, Findings: []models.Finding{{Rule: "secrets.read", Risk: models.High, Reason: "reads a key"}}}

func newShim(t *testing.T, r models.Rating, ap Approver) (*Shim, *fakeBackend, *memRecorder, *os.File) {
	t.Helper()
	errf, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	be, rec := &fakeBackend{}, &memRecorder{}
	// A home of its own: the shim keeps its pending watches in the state
	// folder under it.
	home := t.TempDir()
	env := map[string]string{"HOME": home}
	proj := filepath.Join(t.TempDir(), "proj")
	if err := os.MkdirAll(filepath.Join(proj, ".git"), 0o700); err != nil {
		t.Fatal(err)
	}
	return &Shim{Rater: &fixedRater{rating: r}, Backend: be, Approver: ap, Recorder: rec, Stderr: errf,
		Getenv: func(k string) string { return env[k] }, Environ: []string{"A=1", "HOME=" + home, PassEnv + "=x"}, Dir: proj}, be, rec, errf
}

func stderrOf(t *testing.T, f *os.File) string {
	t.Helper()
	f.Seek(0, io.SeekStart)
	b, _ := io.ReadAll(f)
	return string(b)
}

func TestRunDecisions(t *testing.T) {
	ctx := context.Background()
	inv := &Invocation{Mode: ModeCommand, Script: "cat ~/.ssh/id_rsa"}

	// No approver: denied at once, nothing run, one line with the reason.
	s, be, rec, errf := newShim(t, high, nil)
	if err := s.Run(ctx, "bash", inv); err != ExitCode(DeniedStatus) {
		t.Fatalf("got %v, want exit 126", err)
	}
	if len(be.jobs) != 0 {
		t.Error("a denied command ran")
	}
	if got := stderrOf(t, errf); got != "chaperone: denied: reads a key (secrets.read)\n" {
		t.Errorf("stderr %q", got)
	}
	if len(rec.evs) != 1 || rec.evs[0].Decision != models.Denied || rec.evs[0].Exit != nil {
		t.Errorf("recorded %+v", rec.evs)
	}

	// A person denies with a note: the note reaches the agent.
	ap := &fakeApprover{v: models.Verdict{Approved: false, By: models.ByPerson, Note: "use the test key"}}
	s, be, _, errf = newShim(t, high, ap)
	s.Run(ctx, "bash", inv)
	if got := stderrOf(t, errf); got != "chaperone: denied: reads a key (secrets.read): use the test key\n" {
		t.Errorf("stderr %q", got)
	}
	if ap.req == nil || ap.req.Command != inv.Script || len(be.jobs) != 0 {
		t.Errorf("hold request %+v, jobs %d", ap.req, len(be.jobs))
	}

	// A person approves: it runs, silently, with bash's status.
	ap = &fakeApprover{v: models.Verdict{Approved: true, By: models.ByPerson}}
	s, be, rec, errf = newShim(t, high, ap)
	if err := s.Run(ctx, "bash", inv); err != ExitCode(7) {
		t.Fatalf("got %v, want exit 7", err)
	}
	if len(be.jobs) != 1 || stderrOf(t, errf) != "" || rec.evs[0].Decision != models.Approved || *rec.evs[0].Exit != 7 {
		t.Errorf("jobs %d, stderr %q, event %+v", len(be.jobs), stderrOf(t, errf), rec.evs[0])
	}
	// The job gets the script, $0 = argv[0], and never a pass it did not mint.
	j := be.jobs[0]
	if j.Script != inv.Script || strings.Join(j.Args, " ") != "bash" || strings.Contains(strings.Join(j.Env, " "), PassEnv) {
		t.Errorf("job %+v", j)
	}

	// Medium: one line, then it runs.
	med := models.Rating{Risk: models.Medium, Findings: []models.Finding{{Rule: "unknown.script", Risk: models.Medium, Reason: "runs a project script"}}}
	s, be, _, errf = newShim(t, med, nil)
	s.Run(ctx, "bash", &Invocation{Mode: ModeCommand, Script: "./x.sh"})
	if got := stderrOf(t, errf); got != "chaperone: medium: runs a project script (unknown.script)\n" || len(be.jobs) != 1 {
		t.Errorf("stderr %q, jobs %d", got, len(be.jobs))
	}

	// RiskUnknown is high.
	s, be, _, _ = newShim(t, models.Rating{}, nil)
	if err := s.Run(ctx, "bash", inv); err != ExitCode(DeniedStatus) || len(be.jobs) != 0 {
		t.Errorf("unrated: %v, jobs %d", err, len(be.jobs))
	}
}

// geminiForm is Gemini CLI's wrapper around cmd (parser.Unwrap's
// "gemini-trap").
func geminiForm(cmd string) string {
	return "shopt -u promptvars nullglob extglob nocaseglob dotglob; _bgpids_file=/tmp/g/bgpids.tmp\n(\n  trap 'jobs -p > \"$_bgpids_file\"' EXIT\n" + cmd + "\n)\n__code=$?\nexit $__code"
}

func TestRunRatesInnerCommand(t *testing.T) {
	s, be, rec, _ := newShim(t, models.Rating{Risk: models.Low}, nil)
	env := map[string]string{"GEMINI_CLI": "1"}
	s.Getenv = func(k string) string { return env[k] }
	script := geminiForm("echo inner")
	s.Run(context.Background(), "bash", &Invocation{Mode: ModeCommand, Script: script})
	r := s.Rater.(*fixedRater)
	if len(r.seen) != 2 || r.seen[0] != "echo inner" || r.seen[1] != script {
		t.Errorf("rated %q, want the inner command, then the whole string", r.seen)
	}
	if len(be.jobs) != 1 || be.jobs[0].Script != script {
		t.Error("the wrapper itself must run")
	}
	if rec.evs[0].Command != script || rec.evs[0].Inner != "echo inner" || rec.evs[0].Agent != parser.AgentGemini {
		t.Errorf("event %+v", rec.evs[0])
	}
}

// wholeRater rates high any text that contains marker, else low.
type wholeRater struct{ marker string }

func (w wholeRater) Rate(_ context.Context, req rater.Request) (models.Rating, *models.Facts) {
	if strings.Contains(req.Command, w.marker) {
		return models.Rating{Risk: models.High, Findings: []models.Finding{{Rule: "x.whole", Risk: models.High, Reason: "the wrapper itself"}}}, &models.Facts{}
	}
	return models.Rating{Risk: models.Low}, &models.Facts{}
}

func TestRunHoldsWhenTheWholeWrapperIsRiskier(t *testing.T) {
	s, be, _, errf := newShim(t, models.Rating{Risk: models.Low}, nil)
	s.Rater = wholeRater{marker: "trap"}
	env := map[string]string{"GEMINI_CLI": "1"}
	s.Getenv = func(k string) string { return env[k] }
	err := s.Run(context.Background(), "bash", &Invocation{Mode: ModeCommand, Script: geminiForm("echo inner")})
	if err != ExitCode(DeniedStatus) || len(be.jobs) != 0 || !strings.Contains(stderrOf(t, errf), "the wrapper itself") {
		t.Errorf("err %v, jobs %d, stderr %q: the riskier whole string must decide", err, len(be.jobs), stderrOf(t, errf))
	}
}

// TestRunRefusesNoProject: from a folder that is no project (no git
// repository, nothing trusted; here a bare temp folder) a sandboxed backend
// runs nothing, and chaperone says how to proceed.
func TestRunRefusesNoProject(t *testing.T) {
	s, be, _, errf := newShim(t, models.Rating{Risk: models.Low}, nil)
	s.Dir = t.TempDir()
	s.Environ = append(s.Environ, "XDG_STATE_HOME="+t.TempDir())
	err := s.Run(context.Background(), "bash", &Invocation{Mode: ModeCommand, Script: "touch ran"})
	if code, ok := err.(ExitCode); !ok || code != DeniedStatus {
		t.Fatalf("Run = %v, want exit %d", err, DeniedStatus)
	}
	if len(be.jobs) != 0 {
		t.Error("the command ran")
	}
	if got := stderrOf(t, errf); !strings.HasPrefix(got, "chaperone: not running in") || !strings.Contains(got, "git init") || strings.Count(got, "\n") != 1 {
		t.Errorf("stderr %q", got)
	}
}

// sweepingBackend plays a command that creates what host tools run.
type sweepingBackend struct {
	fakeBackend
	create string
}

func (b *sweepingBackend) Run(ctx context.Context, j *sandbox.Job) (int, error) {
	b.jobs = append(b.jobs, j)
	if !j.OpenGuarded {
		os.MkdirAll(filepath.Join(j.Project, filepath.Dir(b.create)), 0o700)
		os.WriteFile(filepath.Join(j.Project, b.create), []byte("{}"), 0o600)
	}
	return 0, nil
}

// TestRunSweepsCreatedHostFiles: what host tools run, created by a command
// that was not approved to write it, is moved out of the project; a
// person's approval of such a write opens it for that command only.
func TestRunSweepsCreatedHostFiles(t *testing.T) {
	s, _, rec, errf := newShim(t, models.Rating{Risk: models.Low}, nil)
	be := &sweepingBackend{create: ".vscode/tasks.json"}
	s.Backend = be
	state := t.TempDir()
	s.Environ = append(s.Environ, "XDG_STATE_HOME="+state)
	env := map[string]string{"HOME": "/home/x", "XDG_STATE_HOME": state}
	s.Getenv = func(k string) string { return env[k] }
	if err := s.Run(context.Background(), "bash", &Invocation{Mode: ModeCommand, Script: "make setup"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(be.jobs[0].Project, ".vscode")); err == nil {
		t.Error(".vscode was left in the project")
	}
	ev := rec.evs[0]
	if len(ev.Quarantined) != 1 || ev.Quarantined[0] != ".vscode" || !strings.HasPrefix(ev.QuarantineDir, filepath.Join(state, "chaperone", "quarantine")) {
		t.Errorf("audit: %q in %q", ev.Quarantined, ev.QuarantineDir)
	}
	if b, err := os.ReadFile(filepath.Join(ev.QuarantineDir, ".vscode", "tasks.json")); err != nil || string(b) != "{}" {
		t.Errorf("quarantined content %q, %v", b, err)
	}
	if got := stderrOf(t, errf); !strings.Contains(got, "chaperone: moved .vscode out of the project") {
		t.Errorf("stderr %q", got)
	}

	// Approved by a person, for a finding on such a write: open.
	guarded := models.Rating{Risk: models.High, Findings: []models.Finding{{Rule: "persist.project", Risk: models.High}}}
	for _, tt := range []struct {
		by   string
		open bool
	}{{models.ByPerson, true}, {models.ByRemembered, false}} {
		s2, _, _, _ := newShim(t, guarded, &fakeApprover{v: models.Verdict{Approved: true, By: tt.by}})
		be2 := &fakeBackend{}
		s2.Backend = be2
		s2.Run(context.Background(), "bash", &Invocation{Mode: ModeCommand, Script: "echo x > .envrc"})
		if len(be2.jobs) != 1 || be2.jobs[0].OpenGuarded != tt.open {
			t.Errorf("approved by %s: open = %v, want %v", tt.by, len(be2.jobs) == 1 && be2.jobs[0].OpenGuarded, tt.open)
		}
	}
}
