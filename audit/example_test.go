package audit_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/chaperone-dev/chaperone/audit"
	"github.com/chaperone-dev/chaperone/models"
)

// Example shows what the shim does around one command: open the log,
// record the output and the files touched while the command runs, then
// append the record.
func Example() {
	ctx := context.Background()
	project, _ := os.MkdirTemp("", "project")
	state, _ := os.MkdirTemp("", "state")
	defer os.RemoveAll(project)
	defer os.RemoveAll(state)

	// Once per shim process. The dir comes from config.AuditConfig.AuditDir()
	// (audit.Dir() by default); retention and cap from the [audit] table.
	log, err := audit.Open(state, audit.WithRetention(90), audit.WithOutputCap(1<<20))
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaperone: audit:", err) // never a reason not to run
		return
	}
	defer log.Close()

	ev := &models.Event{
		Time:    time.Now(),
		Session: "claude-4242", // shim: CHAPERONE_SESSION, else derived from the agent process
		Agent:   "claude",
		Project: project,
		Cwd:     project,
		Command: "echo token=hunter22 > notes.txt && echo done",
		// Facts, Rating, Decision, DecidedBy come from the parser, rater and broker.
		Rating:    models.Rating{Risk: models.Low, Source: models.SourceRules},
		Decision:  models.Allow,
		DecidedBy: models.ByRules,
		Backend:   "host",
	}

	// The output: tee stdout and stderr through the recorder (only when stdout
	// is not a terminal; a terminal gets the real file and no recording).
	rec, _ := log.NewRecorder(ev)
	// Files: watch the working tree while the command runs.
	w, err := audit.WatchTree(ctx, project)
	if err != nil {
		ev.FilesNote = err.Error()
	}

	start := time.Now()
	cmd := exec.CommandContext(ctx, "bash", "-c", ev.Command)
	cmd.Dir = project
	cmd.Stdout, cmd.Stderr = rec.Tee(os.Stdout), rec.Tee(os.Stderr)
	err = cmd.Run()
	exit := cmd.ProcessState.ExitCode()

	ev.Exit = &exit
	ev.Duration = float64(time.Since(start).Microseconds()) / 1000
	if w != nil {
		ev.Files, ev.FilesDropped = w.Stop()
		ev.FilesNote = w.Note()
	}
	ev.Output, _ = rec.Close()
	if err := log.Append(ev); err != nil {
		fmt.Fprintln(os.Stderr, "chaperone: audit:", err)
	}

	evs, _ := audit.ReadAll(state)
	fmt.Println(evs[0].Command)
	fmt.Println(evs[0].Files)
	_, err = audit.Verify(state)
	fmt.Println("verify:", err)
	// Output:
	// done
	// echo token=[REDACTED:password] > notes.txt && echo done
	// [{created notes.txt}]
	// verify: <nil>
}
