package sandbox

import (
	"fmt"
	"os"
	"strings"

	"github.com/chaperone-dev/chaperone/internal/rundir"
	"github.com/chaperone-dev/chaperone/models"
)

// ControlEnv names the variable that tells a job's bash where its control
// folder is inside the sandbox (see Job.Control).
const ControlEnv = "CHAPERONE_CTL"

// controlMount is where a sandbox shows its job's control folder.
const controlMount = models.ControlMount

// fillControl lets j.Control fill dir, a private folder made for it, and
// removes the folder when that fails.
func fillControl(j *Job, dir string) error {
	if err := j.Control(dir); err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("control folder: %w", err)
	}
	return nil
}

// bwrapControl makes the job's control folder in the runtime folder and
// returns it with bubblewrap's arguments that show it, read-only, at
// controlMount (its FIFOs stay writable: a read-only mount does not stop
// a FIFO's writer; its files are chaperone's alone to write). The caller
// removes the folder (os.RemoveAll) once the job has ended.
func bwrapControl(j *Job, env []string) (dir string, args []string, err error) {
	if j.Control == nil {
		return "", nil, nil
	}
	base := rundir.DirFrom(func(k string) string { return lookup(env, k) })
	if err := rundir.Make(base); err != nil {
		return "", nil, err
	}
	if dir, err = os.MkdirTemp(base, "ctl-"); err != nil {
		return "", nil, fmt.Errorf("control folder: %w", err)
	}
	if err := fillControl(j, dir); err != nil {
		return "", nil, err
	}
	return dir, []string{"--ro-bind", dir, controlMount, "--setenv", ControlEnv, controlMount}, nil
}

// withoutControl is env without a $CHAPERONE_CTL of its own: only the
// backend says where a job's control folder is.
func withoutControl(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, ControlEnv+"=") {
			out = append(out, kv)
		}
	}
	return out
}
