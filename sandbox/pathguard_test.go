package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// pathWorld is a project, a host program folder and a home folder, each
// under one temporary folder.
type pathWorld struct {
	t                     *testing.T
	root, proj, bin, home string
}

func newPathWorld(t *testing.T) *pathWorld {
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := &pathWorld{t: t, root: root, proj: filepath.Join(root, "proj"), bin: filepath.Join(root, "usr", "bin"), home: filepath.Join(root, "home")}
	for _, d := range []string{w.proj, w.bin, w.home} {
		must(t, os.MkdirAll(d, 0o755))
	}
	for _, p := range []string{"git", "python3", "ssh", "ls"} {
		w.file(filepath.Join(w.bin, p), 0o755)
	}
	w.file(filepath.Join(w.bin, "README"), 0o644) // not a program
	must(t, os.Mkdir(filepath.Join(w.bin, "share"), 0o755))
	return w
}

func (w *pathWorld) file(p string, mode os.FileMode) {
	w.t.Helper()
	must(w.t, os.MkdirAll(filepath.Dir(p), 0o755))
	must(w.t, os.WriteFile(p, []byte("#!/bin/sh\n"), mode))
}

func (w *pathWorld) link(target, p string) {
	w.t.Helper()
	must(w.t, os.MkdirAll(filepath.Dir(p), 0o755))
	must(w.t, os.Symlink(target, p))
}

// r replaces @P@ (the project), @B@ (the host's bin), @H@ (home), @R@
// (the root).
func (w *pathWorld) r(s string) string {
	return strings.NewReplacer("@P@", w.proj, "@B@", w.bin, "@H@", w.home, "@R@", w.root).Replace(s)
}

// Every way an agent's PATH can hold a folder a sandboxed command writes,
// as an attacker would look for one.
func TestPathFolders(t *testing.T) {
	tests := []struct {
		name  string
		setup func(w *pathWorld)
		path  string
		pwd   string
		want  []string // Dir|Real|Later,Later (@-names replaced)
	}{
		{"an activated venv", func(w *pathWorld) { w.file(w.r("@P@/.venv/bin/python3"), 0o755) },
			"@P@/.venv/bin:@B@", "", []string{"@P@/.venv/bin|@P@/.venv/bin|@B@"}},
		{"no project folder", nil, "@B@:/usr/bin", "", nil},
		{"a sibling whose name starts like the project", func(w *pathWorld) { os.MkdirAll(w.r("@R@/proj2/bin"), 0o755) },
			"@R@/proj2/bin:@B@", "", nil},
		{"not there yet (npm install makes it)", nil,
			"@P@/node_modules/.bin:@B@", "", []string{"@P@/node_modules/.bin||@B@"}},
		{"written untidily", func(w *pathWorld) { os.MkdirAll(w.r("@P@/bin"), 0o755) },
			"@P@//tools/../bin/:@R@/x/../proj/bin:@B@", "", []string{"@P@/bin|@P@/bin|@B@"}},
		{"after the host's folders", func(w *pathWorld) { os.MkdirAll(w.r("@P@/bin"), 0o755) },
			"@B@:@P@/bin", "", []string{"@P@/bin|@P@/bin|"}},
		{"later project folders are not host folders", func(w *pathWorld) {
			os.MkdirAll(w.r("@P@/a"), 0o755)
			os.MkdirAll(w.r("@P@/b"), 0o755)
		}, "@P@/a:@P@/b:@B@", "", []string{"@P@/a|@P@/a|@B@", "@P@/b|@P@/b|@B@"}},
		{"a venv that is a link inside the project", func(w *pathWorld) {
			os.MkdirAll(w.r("@P@/envs/v1/bin"), 0o755)
			w.link("envs/v1", w.r("@P@/.venv"))
		}, "@P@/.venv/bin:@B@", "", []string{"@P@/.venv/bin|@P@/envs/v1/bin|@B@"}},
		{"a venv that is a link out of the project", func(w *pathWorld) {
			os.MkdirAll(w.r("@R@/opt/venv/bin"), 0o755)
			w.link(w.r("@R@/opt/venv"), w.r("@P@/.venv"))
		}, "@P@/.venv/bin:@B@", "", []string{"@P@/.venv/bin||@B@"}},
		{"a host folder that is a link into the project", func(w *pathWorld) {
			os.MkdirAll(w.r("@P@/tools/bin"), 0o755)
			w.link(w.r("@P@/tools/bin"), w.r("@H@/bin"))
		}, "@H@/bin:@B@", "", []string{"@H@/bin|@P@/tools/bin|@B@"}},
		{"a host link into the project, not there yet", func(w *pathWorld) {
			w.link(w.r("@P@/tools"), w.r("@H@/tools"))
		}, "@H@/tools/bin:@B@", "", []string{"@H@/tools/bin||@B@"}},
		{"the empty entry is the working folder", nil, ":@B@", "@P@", []string{"@P@|@P@|@B@"}},
		{"relative entries", func(w *pathWorld) { os.MkdirAll(w.r("@P@/sub/bin"), 0o755) },
			".:bin:@B@", "@P@/sub", []string{"@P@/sub|@P@/sub|@B@", "@P@|@P@|@B@", "@P@/sub/bin|@P@/sub/bin|@B@", "@P@/bin||@B@"}},
		{"relative entries from outside", nil, "bin:@B@", "@H@", []string{"@P@/bin||@B@"}},
		{"host folders once, links resolved", func(w *pathWorld) {
			os.MkdirAll(w.r("@P@/bin"), 0o755)
			w.link(w.bin, w.r("@R@/bin"))
		}, "@P@/bin:@B@:@R@/bin:@B@/", "", []string{"@P@/bin|@P@/bin|@B@"}},
		{"the same folder twice", func(w *pathWorld) { os.MkdirAll(w.r("@P@/bin"), 0o755) },
			"@P@/bin:@B@:@P@/bin/", "", []string{"@P@/bin|@P@/bin|@B@"}},
		{"a file, not a folder", func(w *pathWorld) { w.file(w.r("@P@/bin"), 0o755) },
			"@P@/bin:@B@", "", []string{"@P@/bin||@B@"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newPathWorld(t)
			if tt.setup != nil {
				tt.setup(w)
			}
			env := []string{"PATH=/nothing", "PATH=" + w.r(tt.path)}
			if tt.pwd != "" {
				env = append(env, "PWD="+w.r(tt.pwd))
			}
			var got []string
			for _, f := range PathFolders(w.proj, env) {
				got = append(got, f.Dir+"|"+f.Real+"|"+strings.Join(f.Later, ","))
			}
			var want []string
			for _, s := range tt.want {
				want = append(want, w.r(s))
			}
			if !slices.Equal(got, want) {
				t.Errorf("PathFolders:\n got %q\nwant %q", got, want)
			}
		})
	}
	t.Run("a project named through a link", func(t *testing.T) {
		w := newPathWorld(t)
		os.MkdirAll(w.r("@P@/.venv/bin"), 0o755)
		alias := w.r("@R@/alias")
		w.link(w.proj, alias)
		for _, tc := range []struct{ project, path, want string }{
			{alias, "@P@/.venv/bin:@B@", "@P@/.venv/bin|" + alias + "/.venv/bin"},
			{w.proj, alias + "/.venv/bin:@B@", alias + "/.venv/bin|@P@/.venv/bin"},
		} {
			fs := PathFolders(tc.project, []string{"PATH=" + w.r(tc.path)})
			if len(fs) != 1 || fs[0].Dir+"|"+fs[0].Real != w.r(tc.want) {
				t.Errorf("PathFolders(%s, %s) = %+v, want %s", tc.project, tc.path, fs, w.r(tc.want))
			}
		}
	})
	t.Run("no PATH", func(t *testing.T) {
		if fs := PathFolders("/p", []string{"HOME=/h"}); fs != nil {
			t.Errorf("got %+v", fs)
		}
	})
}

func TestShadowing(t *testing.T) {
	w := newPathWorld(t)
	venv := w.r("@P@/.venv/bin")
	w.file(filepath.Join(venv, "python3"), 0o755)         // shadows the host's
	w.file(filepath.Join(venv, "black"), 0o755)           // the host has none: left alone
	w.file(filepath.Join(venv, "activate"), 0o644)        // not a program either side
	w.file(filepath.Join(venv, "README"), 0o644)          // the host's README is no program
	w.file(filepath.Join(venv, "ls"), 0o644)              // not executable yet: chmod is one step away
	must(t, os.Mkdir(filepath.Join(venv, "ssh"), 0o755))  // a folder now, a program later
	w.link("../../tools/git", filepath.Join(venv, "git")) // dangling until tools/git is made
	must(t, os.Mkdir(filepath.Join(venv, "share"), 0o755))
	mkfifo(t, filepath.Join(w.bin, "pipe"))
	mkfifo(t, filepath.Join(venv, "pipe"))
	// A host program reached through a link counts.
	other := w.r("@R@/opt/bin")
	w.file(filepath.Join(other, "node"), 0o755)
	w.link(filepath.Join(other, "node"), w.r("@R@/links/node"))
	w.file(filepath.Join(venv, "node"), 0o755)

	done := make(chan []string)
	go func() { done <- Shadowing(venv, []string{w.r("@R@/missing"), w.bin, w.r("@R@/links")}) }()
	select {
	case got := <-done:
		want := []string{"git", "ls", "node", "python3", "ssh"}
		if !slices.Equal(got, want) {
			t.Errorf("Shadowing = %q, want %q", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Shadowing blocked")
	}
	if got := Shadowing(venv, nil); got != nil {
		t.Errorf("nothing later: %q", got)
	}
	if got := Shadowing(w.r("@P@/missing"), []string{w.bin}); got != nil {
		t.Errorf("missing folder: %q", got)
	}
	// A FIFO where the folder was (the command's), or where a host
	// folder is: refused, never waited on.
	fifoDir := w.r("@P@/node_modules/.bin")
	must(t, os.MkdirAll(filepath.Dir(fifoDir), 0o755))
	mkfifo(t, fifoDir)
	w.link(fifoDir, w.r("@P@/fifolink"))
	go func() {
		Shadowing(fifoDir, []string{w.bin})
		Shadowing(w.r("@P@/fifolink"), []string{w.bin})
		done <- Shadowing(venv, []string{fifoDir, w.bin})
	}()
	select {
	case got := <-done:
		if !slices.Contains(got, "git") {
			t.Errorf("with a FIFO among the later folders: %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Shadowing blocked on a FIFO")
	}
}

// The red team's case end to end, as Protect and Sweep will ask: git
// planted in the venv is found after the command, through the folder as
// PATH names it.
func TestPathGuardFindsPlantedGit(t *testing.T) {
	w := newPathWorld(t)
	w.file(w.r("@P@/.venv/bin/python3"), 0o755)
	env := []string{"PATH=" + w.r("@P@/.venv/bin:@B@")}
	fs := PathFolders(w.proj, env)
	if len(fs) != 1 {
		t.Fatalf("PathFolders = %+v", fs)
	}
	before := Shadowing(fs[0].Real, fs[0].Later)
	// The command: pip install black, and a git of its own.
	w.file(w.r("@P@/.venv/bin/black"), 0o755)
	w.file(w.r("@P@/.venv/bin/git"), 0o755)
	after := Shadowing(fs[0].Dir, fs[0].Later)
	var planted []string
	for _, n := range after {
		if !slices.Contains(before, n) {
			planted = append(planted, n)
		}
	}
	if !slices.Equal(planted, []string{"git"}) {
		t.Errorf("new shadowing names = %q, want git alone", planted)
	}
}

// BenchmarkShadowing is the cost for a node_modules/.bin of 300 names, and
// a .venv/bin of 20, against this machine's own PATH folders.
func BenchmarkShadowing(b *testing.B) {
	b.Run("300 names", func(b *testing.B) { benchShadowing(b, 300) })
	b.Run("20 names", func(b *testing.B) { benchShadowing(b, 20) })
}

func benchShadowing(b *testing.B, n int) {
	dir := b.TempDir()
	for i := range n {
		name := fmt.Sprintf("tool-%d", i)
		if i%50 == 0 {
			name = []string{"git", "ls", "sh", "cat", "env", "node"}[i/50]
		} else if i == 1 {
			name = "python3"
		}
		os.WriteFile(filepath.Join(dir, name), nil, 0o755)
	}
	later := PathFolders(dir, []string{"PATH=" + dir + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"})[0].Later
	b.Logf("later: %q; shadowing: %q", later, Shadowing(dir, later))
	for b.Loop() {
		Shadowing(dir, later)
	}
}

func BenchmarkPathFolders(b *testing.B) {
	dir := b.TempDir()
	os.MkdirAll(filepath.Join(dir, ".venv", "bin"), 0o755)
	env := []string{"PWD=" + dir, "PATH=" + dir + "/.venv/bin:/usr/local/go/bin:/root/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	for b.Loop() {
		PathFolders(dir, env)
	}
}

// Every way a command can leave the host a program of its own by a name
// on the agent's PATH, and what an ordinary command does there that must
// not be taken for one.
func TestSweepPathFolders(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(w *pathWorld)
		path    string
		command func(w *pathWorld)
		moved   []string
	}{
		{"a git planted in an activated venv",
			func(w *pathWorld) { w.link(w.r("@B@/python3"), w.r("@P@/.venv/bin/python3")) },
			"@P@/.venv/bin:@B@",
			func(w *pathWorld) {
				w.file(w.r("@P@/.venv/bin/git"), 0o755)
				w.file(w.r("@P@/.venv/bin/black"), 0o755) // shadows nothing
			},
			[]string{".venv/bin/git"}},
		{"a venv's python relinked",
			func(w *pathWorld) { w.link(w.r("@B@/python3"), w.r("@P@/.venv/bin/python3")) },
			"@P@/.venv/bin:@B@",
			func(w *pathWorld) {
				os.Remove(w.r("@P@/.venv/bin/python3"))
				w.file(w.r("@P@/evil"), 0o755)
				w.link("../../evil", w.r("@P@/.venv/bin/python3"))
			},
			[]string{".venv/bin/python3"}},
		{"a script that shadows rewritten",
			func(w *pathWorld) { w.file(w.r("@P@/.venv/bin/ssh"), 0o755) },
			"@P@/.venv/bin:@B@",
			func(w *pathWorld) {
				must(w.t, os.WriteFile(w.r("@P@/.venv/bin/ssh"), []byte("#!/bin/sh\ntouch /tmp/x\n"), 0o755))
			},
			[]string{".venv/bin/ssh"}},
		{"a link's target in the project rewritten",
			func(w *pathWorld) {
				w.file(w.r("@P@/tools/ls.sh"), 0o755)
				w.link("../tools/ls.sh", w.r("@P@/bin/ls"))
			},
			"@P@/bin:@B@",
			func(w *pathWorld) {
				must(w.t, os.WriteFile(w.r("@P@/tools/ls.sh"), []byte("#!/bin/sh\nevil\n"), 0o755))
			},
			[]string{"bin/ls"}},
		{"the venv rebuilt as it was",
			func(w *pathWorld) {
				w.link(w.r("@B@/python3"), w.r("@P@/.venv/bin/python3"))
				w.file(w.r("@P@/.venv/bin/ssh"), 0o755)
			},
			"@P@/.venv/bin:@B@",
			func(w *pathWorld) {
				must(w.t, os.RemoveAll(w.r("@P@/.venv")))
				w.link(w.r("@B@/python3"), w.r("@P@/.venv/bin/python3"))
				w.file(w.r("@P@/.venv/bin/ssh"), 0o755)
			},
			nil},
		{"node_modules/.bin made by the command (on PATH before it existed)",
			nil,
			"@P@/node_modules/.bin:@B@",
			func(w *pathWorld) {
				w.file(w.r("@P@/node_modules/eslint/bin/eslint.js"), 0o755)
				w.link("../eslint/bin/eslint.js", w.r("@P@/node_modules/.bin/eslint"))
				w.file(w.r("@P@/node_modules/x/git.js"), 0o755)
				w.link("../x/git.js", w.r("@P@/node_modules/.bin/git"))
			},
			[]string{"node_modules/.bin/git"}},
		{"the PATH folder turned into a link to another project folder",
			func(w *pathWorld) { os.MkdirAll(w.r("@P@/.venv/bin"), 0o755) },
			"@P@/.venv/bin:@B@",
			func(w *pathWorld) {
				must(w.t, os.RemoveAll(w.r("@P@/.venv/bin")))
				w.file(w.r("@P@/other/git"), 0o755)
				w.link("../other", w.r("@P@/.venv/bin"))
			},
			[]string{".venv/bin"}},
		{"the PATH folder's parent turned into a link out of the project",
			func(w *pathWorld) { os.MkdirAll(w.r("@P@/.venv/bin"), 0o755) },
			"@P@/.venv/bin:@B@",
			func(w *pathWorld) {
				must(w.t, os.RemoveAll(w.r("@P@/.venv")))
				w.file(w.r("@H@/q/.venv/bin/git"), 0o755)
				w.link(w.r("@H@/q/.venv"), w.r("@P@/.venv"))
			},
			[]string{".venv"}},
		{"a link through /proc/self, which leads elsewhere for each process",
			func(w *pathWorld) { os.MkdirAll(w.r("@P@/.venv/bin"), 0o755) },
			"@P@/.venv/bin:@B@",
			func(w *pathWorld) {
				must(w.t, os.RemoveAll(w.r("@P@/.venv")))
				w.file(w.r("@P@/evil/bin/git"), 0o755)
				w.link("/proc/self/cwd/evil", w.r("@P@/.venv"))
			},
			[]string{".venv"}},
		{"a PATH entry written with ~",
			func(w *pathWorld) { os.MkdirAll(w.r("@P@/bin"), 0o755) },
			"~/proj/bin:@B@",
			func(w *pathWorld) { w.file(w.r("@P@/bin/ssh"), 0o755) },
			[]string{"bin/ssh"}},
		{"a relative PATH entry",
			nil,
			"bin:@B@",
			func(w *pathWorld) { w.file(w.r("@P@/bin/git"), 0o755) },
			[]string{"bin/git"}},
		{"a folder outside the project is never touched",
			func(w *pathWorld) { os.MkdirAll(w.r("@H@/bin"), 0o755) },
			"@H@/bin:@B@",
			func(w *pathWorld) { w.file(w.r("@H@/bin/git"), 0o755) },
			nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newPathWorld(t)
			if tc.setup != nil {
				tc.setup(w)
			}
			wt, err := WatchTop(w.proj, nil)
			if err != nil {
				t.Fatal(err)
			}
			wt.WatchPath([]string{"HOME=" + w.root, "PWD=" + w.proj, "PATH=" + w.r(tc.path)})
			tc.command(w)
			moved, _, err := wt.Sweep(filepath.Join(w.root, "quarantine"))
			if err != nil {
				t.Errorf("Sweep: %v", err)
			}
			slices.Sort(moved)
			if !slices.Equal(moved, tc.moved) {
				t.Errorf("moved %q, want %q", moved, tc.moved)
			}
			for _, m := range tc.moved {
				if _, err := os.Lstat(filepath.Join(w.proj, m)); err == nil {
					t.Errorf("%s is still in the project", m)
				}
			}
			if _, err := os.Lstat(w.r("@H@/bin/git")); tc.name == "a folder outside the project is never touched" && err != nil {
				t.Errorf("the home's program was moved: %v", err)
			}
		})
	}
}
