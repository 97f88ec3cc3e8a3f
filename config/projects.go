package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"

	"github.com/chaperone-dev/chaperone/internal/atomicfile"
	"github.com/chaperone-dev/chaperone/internal/safefile"
)

// projectsPath is the file that lists the folders the person trusted as
// projects (`chaperone trust DIR` on a folder that is no git repository).
// It lives in the state folder, which no sandbox can see, so an agent can
// never trust a folder itself.
func projectsPath() string { return filepath.Join(StateDir(), "projects.json") }

// projectsFile is the content of projectsPath.
type projectsFile struct {
	Projects []string `json:"projects"`
}

// TrustedProjects returns the folders trusted as projects (absolute,
// symbolic links resolved when they were trusted). No file: none.
func TrustedProjects() ([]string, error) {
	b, err := safefile.ReadFollow(projectsPath(), maxFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fileError(projectsPath(), err)
	}
	var f projectsFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, &Error{Path: projectsPath(), Msg: "not valid JSON: " + err.Error(),
			Fix: "delete the file and run `chaperone trust DIR` again for each project folder"}
	}
	return f.Projects, nil
}

// TrustProject records dir as a project folder and returns its path as
// recorded (absolute, symbolic links resolved). Whether dir may be a
// project at all is the caller's to check (sandbox.CheckProject).
func TrustProject(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("trust: %w", err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("trust: %w", err)
	}
	if st, err := os.Stat(real); err != nil || !st.IsDir() {
		return "", fmt.Errorf("trust: %s is not a folder", dir)
	}
	have, err := TrustedProjects()
	if err != nil {
		return "", err
	}
	if slices.Contains(have, real) {
		return real, nil
	}
	b, _ := json.MarshalIndent(projectsFile{Projects: append(have, real)}, "", "  ")
	if err := os.MkdirAll(StateDir(), 0o700); err != nil {
		return "", fmt.Errorf("trust: %w", err)
	}
	if err := atomicfile.WriteFile(projectsPath(), append(b, '\n'), 0o600, nil); err != nil {
		return "", fmt.Errorf("trust: %w", err)
	}
	return real, nil
}

// Sources are the files the settings for project come from: the user's
// config, the trust records, the trusted folders and, when project is an
// absolute path, its .chaperone.toml. Whoever keeps settings built from
// them (the shell server) builds them again when one of these changes.
func Sources(project string) []string {
	s := []string{UserPath(), trustPath(), projectsPath()}
	if filepath.IsAbs(project) {
		s = append(s, filepath.Join(project, ProjectFile))
	}
	return s
}

// ProjectIgnored lists the settings c (read from a project's
// .chaperone.toml) sets that a project file cannot: only the user's own
// config chooses the backend, the hold timeout, the model, the audit, the
// sandbox's network and limits, pins and remembered approvals (see
// engine.New and SandboxConfig.Project for what a project adds).
func ProjectIgnored(c *Config) []string {
	var out []string
	set := func(name string, v any) {
		if !reflect.ValueOf(v).IsZero() {
			out = append(out, name)
		}
	}
	set("backend", c.Backend)
	set("hold_timeout", c.HoldTimeout)
	set("no_panel_grace", c.NoPanelGrace)
	set("[model]", c.Model)
	set("[audit]", c.Audit)
	set("[[remember]]", c.Remember)
	set("[sandbox] network", c.Sandbox.Network)
	set("[sandbox] memory", c.Sandbox.Memory)
	set("[sandbox] cpus", c.Sandbox.CPUs)
	set("[sandbox] pids", c.Sandbox.Pids)
	set("[sandbox] runtime", c.Sandbox.Runtime)
	set("[sandbox] mounts", c.Sandbox.Mounts)
	set("[sandbox] writable_root", c.Sandbox.WritableRoot)
	set("[network] hosts", c.Network.Hosts)
	set("[network] upload_limit", c.Network.UploadLimit)
	set("[[network.project]]", c.Network.Projects)
	return out
}
