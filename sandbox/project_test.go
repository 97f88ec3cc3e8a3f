package sandbox

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// world is a fake user's machine under a temp folder: HOME, chaperone's
// folders by the XDG variables, a git project, a plain folder.
type world struct {
	root, home string
	env        []string
}

func newWorld(t *testing.T) world {
	t.Helper()
	root := t.TempDir()
	w := world{root: root, home: filepath.Join(root, "home")}
	w.env = []string{"HOME=" + w.home, "XDG_CONFIG_HOME=" + filepath.Join(root, "cfg"), "XDG_STATE_HOME=" + filepath.Join(root, "state"),
		"XDG_RUNTIME_DIR=" + filepath.Join(root, "run"), "XDG_DATA_HOME=" + filepath.Join(root, "data"), "TMPDIR=" + filepath.Join(root, "tmp")}
	for _, d := range []string{"home/proj/.git", "home/proj/a/b", "home/plain/x", "home/trusted/y", "cfg/chaperone", "state/chaperone", "tmp", "elsewhere/repo/.git"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func (w world) p(rel string) string { return filepath.Join(w.root, rel) }

func TestFindProject(t *testing.T) {
	w := newWorld(t)
	own := OwnDirs(w.env)
	trusted := []string{w.p("home/trusted")}
	os.Symlink(w.p("home/proj"), w.p("home/link"))
	tests := []struct {
		name, dir, want string
		why             string // when refused: part of the reason
	}{
		{"git top level", "home/proj", "home/proj", ""},
		{"subfolder of a git project", "home/proj/a/b", "home/proj", ""},
		{"trusted folder", "home/trusted/y", "home/trusted", ""},
		{"through a symbolic link", "home/link/a", "home/link", ""},
		{"plain folder", "home/plain/x", "", "no git repository"},
		{"home folder", "home", "", "home folder"},
		{"chaperone's config folder", "cfg/chaperone", "", "chaperone's own folder"},
		{"folder holding chaperone's folders", "cfg", "", "holds chaperone's own folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FindProject(w.p(tt.dir), w.env, trusted, own)
			if tt.why == "" {
				if err != nil || got != w.p(tt.want) {
					t.Fatalf("FindProject = %q, %v; want %q", got, err, w.p(tt.want))
				}
				return
			}
			var ne *NotProjectError
			if !errors.As(err, &ne) || !errors.Is(err, ErrNotProject) || !strings.Contains(err.Error(), tt.why) {
				t.Fatalf("FindProject = %q, %v; want a refusal saying %q", got, err, tt.why)
			}
			if !strings.Contains(err.Error(), "nothing was run") || !strings.Contains(err.Error(), "chaperone trust") {
				t.Errorf("the refusal does not say how to proceed: %v", err)
			}
		})
	}
}

func TestCheckProjectRefuses(t *testing.T) {
	w := newWorld(t)
	own := OwnDirs(w.env)
	// A git repository that is HOME itself (dotfiles), one that holds HOME,
	// /, system folders, a folder holding or inside chaperone's folders.
	os.MkdirAll(filepath.Join(w.home, ".git"), 0o700)
	for name, dir := range map[string]string{
		"home as a git repository": w.home,
		"ancestor of home":         w.root,
		"root":                     "/",
		"system folder":            "/etc",
		"inside a system folder":   "/usr/share",
		"tmp itself":               "/tmp",
		"holds the state folder":   w.p("state"),
		"inside the config folder": w.p("cfg/chaperone"),
	} {
		t.Run(name, func(t *testing.T) {
			if err := CheckProject(dir, w.env, own); !errors.Is(err, ErrNotProject) {
				t.Errorf("CheckProject(%s) = %v, want a refusal", dir, err)
			}
		})
	}
	t.Run("home repository found from a plain subfolder", func(t *testing.T) {
		if _, err := FindProject(w.p("home/plain/x"), w.env, nil, own); !errors.Is(err, ErrNotProject) || !strings.Contains(err.Error(), "home folder") {
			t.Errorf("FindProject = %v", err)
		}
	})
	t.Run("a project elsewhere is fine", func(t *testing.T) {
		if err := CheckProject(w.p("elsewhere/repo"), w.env, own); err != nil {
			t.Error(err)
		}
	})
	t.Run("a symbolic link to home", func(t *testing.T) {
		os.Symlink(w.home, w.p("elsewhere/homelink"))
		if err := CheckProject(w.p("elsewhere/homelink"), w.env, own); !errors.Is(err, ErrNotProject) {
			t.Errorf("CheckProject = %v", err)
		}
	})
}

func TestAgentFile(t *testing.T) {
	w := newWorld(t)
	own := OwnDirs(w.env)
	tmp := w.p("tmp")
	claudeSnap := filepath.Join(w.home, ".claude", "shell-snapshots")
	codexSnap := filepath.Join(w.home, ".codex", "shell_snapshots")
	for _, d := range []string{claudeSnap, codexSnap, filepath.Join(tmp, "gemini-shell-Ab12")} {
		os.MkdirAll(d, 0o700)
	}
	write := func(p string) string { os.WriteFile(p, []byte("x"), 0o600); return p }
	snap := write(filepath.Join(claudeSnap, "snapshot-bash-1795905160741-mros8p.sh"))
	codex := write(filepath.Join(codexSnap, "01a2244a-2d98-7eb1-ae0a-ba4c372c46d9.1795905170844895441.sh"))
	codexTmp := write(filepath.Join(codexSnap, "01a2244a-2d98.tmp-8"))
	os.Symlink(filepath.Join(w.home, ".bashrc"), filepath.Join(tmp, "claude-ab-cwd"))
	fifo := filepath.Join(claudeSnap, "snapshot-bash-1-fifo.sh")
	mkfifo(t, fifo)
	tests := []struct {
		name   string
		path   string
		output bool
		ok     bool
	}{
		{"claude cwd file in TMPDIR", filepath.Join(tmp, "claude-8f99-cwd"), true, true},
		{"claude cwd file in /tmp", "/tmp/claude-1a-cwd", true, true},
		{"gemini bgpids", filepath.Join(tmp, "gemini-shell-Ab12", "bgpids.tmp"), true, true},
		{"claude snapshot read", snap, false, true},
		{"claude snapshot written", snap, true, true},
		{"codex snapshot", codex, false, true},
		{"codex snapshot check", codexTmp, false, true},
		{"input must exist", filepath.Join(codexSnap, "01a2.2.sh"), false, false},
		{"rc file", filepath.Join(w.home, ".bashrc"), true, false},
		{"config file", w.p("cfg/chaperone/config.toml"), true, false},
		{"cwd file named like one but in chaperone's folder", w.p("cfg/chaperone/claude-1-cwd"), true, false},
		{"cwd file in HOME", filepath.Join(w.home, "claude-1-cwd"), true, false},
		{"cwd file name not hex", filepath.Join(tmp, "claude-zz-cwd"), true, false},
		{"cwd file is a symbolic link", filepath.Join(tmp, "claude-ab-cwd"), true, false},
		{"bgpids outside a gemini folder", filepath.Join(tmp, "bgpids.tmp"), true, false},
		{"snapshot folder itself", claudeSnap, false, false},
		{"snapshot named otherwise", write(filepath.Join(claudeSnap, "id_rsa")), false, false},
		{"snapshot is a fifo", fifo, false, false},
		{"codex snapshot in claude's folder", filepath.Join(claudeSnap, "01a2.1.sh"), false, false},
		{"a file under /run", "/run/claude-1-cwd", true, false},
		{"output kinds are not inputs", filepath.Join(tmp, "claude-8f99-cwd"), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := agentFile(tt.path, tt.output, w.env, own); got != tt.ok {
				t.Errorf("agentFile(%s, output=%v) = %v, want %v", tt.path, tt.output, got, tt.ok)
			}
		})
	}
	t.Run("files of the job", func(t *testing.T) {
		os.MkdirAll(w.p("home/proj/.git"), 0o700)
		j := &Job{Dir: w.p("home/proj"), Project: w.p("home/proj"), Env: w.env,
			Outputs: []string{filepath.Join(tmp, "claude-8f99-cwd"), filepath.Join(w.home, ".bashrc"), "relative-cwd"},
			Inputs:  []string{snap, w.home, "/run"}}
		outs, ins := agentFiles(j)
		if strings.Join(outs, ",") != filepath.Join(tmp, "claude-8f99-cwd") || strings.Join(ins, ",") != snap {
			t.Errorf("agentFiles = %q, %q", outs, ins)
		}
	})
}

func mkfifo(t *testing.T, p string) {
	t.Helper()
	if err := syscallMkfifo(p); err != nil {
		t.Fatal(err)
	}
}
