package inside_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chaperone-dev/chaperone/internal/inside"
	"github.com/chaperone-dev/chaperone/internal/itest"
)

// modeEnv, when set, makes the test binary do one thing and exit: print
// Sandbox()'s answer ("sandbox"), print RealBash's answer ("realbash"), or
// become bash with the arguments after "--" ("execbash").
const modeEnv = "CHAPERONE_INSIDE_TEST"

func TestMain(m *testing.M) {
	switch os.Getenv(modeEnv) {
	case "":
		os.Exit(m.Run())
	case "sandbox":
		fmt.Println(inside.Sandbox())
	case "realbash":
		p, err := inside.RealBash()
		fmt.Println(p, err)
	case "execbash":
		argv := os.Args
		for i, a := range argv {
			if a == "--" {
				argv = argv[i+1:]
				break
			}
		}
		err := inside.ExecBash(argv)
		fmt.Fprintln(os.Stderr, "ExecBash returned:", err)
		os.Exit(99)
	default:
		fmt.Fprintln(os.Stderr, "unknown", modeEnv)
		os.Exit(98)
	}
	os.Exit(0)
}

func TestSandboxOnHost(t *testing.T) {
	t.Parallel()
	if inside.Sandbox() {
		t.Fatalf("Sandbox() is true on the host (is %s there? the tests must run outside a sandbox)", inside.MarkerPath)
	}
}

func TestRealBash(t *testing.T) {
	t.Parallel()
	p, err := inside.RealBash()
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("RealBash() = %s, which is not a file: %v", p, err)
	}
	self, err := os.Stat("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	if os.SameFile(self, fi) {
		t.Errorf("RealBash() = %s, the test binary itself", p)
	}
	out, err := exec.Command(p, "-c", `echo "$BASH_VERSION"`).Output()
	if err != nil || len(bytes.TrimSpace(out)) == 0 {
		t.Errorf("%s -c 'echo $BASH_VERSION' = %q, %v; want a bash", p, out, err)
	}
}

func TestExecBash(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0], "--", "my-bash", "-c", `echo "$0|$1|$2|$KEEP"`, "zero", "one", "two words")
	cmd.Env = append(os.Environ(), modeEnv+"=execbash", "KEEP=kept value")
	out, err := cmd.CombinedOutput()
	if err != nil || string(out) != "zero|one|two words|kept value\n" {
		t.Errorf("got %q, %v; want bash to run with the arguments and environment", out, err)
	}
}

// bwrapWorks reports whether bwrap can make a jail here.
func bwrapWorks() bool {
	return exec.Command("bwrap", "--unshare-user", "--unshare-pid", "--ro-bind", "/", "/", "--proc", "/proc", "/bin/true").Run() == nil
}

// jailed runs the test binary in mode inside a bwrap jail (the host's root
// read-only, a fresh /run) with the extra bwrap arguments and files (fd 3
// on), and returns its output.
func jailed(t *testing.T, mode string, files []*os.File, extra ...string) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"--unshare-user", "--unshare-pid", "--die-with-parent", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/run"}
	args = append(append(args, extra...), "--setenv", modeEnv, mode, "--", self)
	cmd := exec.Command("bwrap", args...)
	cmd.ExtraFiles = files
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bwrap %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestSandboxInJail(t *testing.T) {
	t.Parallel()
	itest.Require(t, "bwrap", bwrapWorks())
	dir := t.TempDir()
	file := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	marker := file("marker", inside.MarkerText)
	wrong := file("wrong", "chaperone sandbox v2\n")
	longer := file("longer", inside.MarkerText+"more\n")
	empty := file("empty", "")
	folder := filepath.Join(dir, "folder")
	os.Mkdir(folder, 0o755)
	cases := []struct {
		name  string
		extra []string
		want  string
	}{
		{"marker read-only", []string{"--ro-bind", marker, inside.MarkerPath}, "true"},
		{"no marker", nil, "false"},
		{"marker read-write", []string{"--bind", marker, inside.MarkerPath}, "false"},
		{"marker written in a writable /run", []string{"--file", "3", inside.MarkerPath}, "false"},
		{"other text", []string{"--ro-bind", wrong, inside.MarkerPath}, "false"},
		{"text and more", []string{"--ro-bind", longer, inside.MarkerPath}, "false"},
		{"empty file", []string{"--ro-bind", empty, inside.MarkerPath}, "false"},
		{"a folder", []string{"--ro-bind", folder, inside.MarkerPath}, "false"},
		{"symlink to a read-only marker", []string{"--ro-bind", marker, "/run/real", "--symlink", "/run/real", inside.MarkerPath}, "false"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var files []*os.File
			if slices.Contains(c.extra, "--file") {
				f, err := os.Open(marker) // bwrap --file 3 DEST copies it to a file on the tmpfs
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				files = []*os.File{f}
			}
			if got := jailed(t, "sandbox", files, c.extra...); got != c.want {
				t.Errorf("Sandbox() = %s, want %s", got, c.want)
			}
		})
	}
}

// TestRealBashSkipsItself puts the test binary where bash is, and a bash
// further down the list, and checks that RealBash skips the first.
func TestRealBashSkipsItself(t *testing.T) {
	t.Parallel()
	itest.Require(t, "bwrap", bwrapWorks())
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bash, err := inside.RealBash()
	if err != nil {
		t.Fatal(err)
	}
	bash, err = filepath.EvalSymlinks(bash)
	if err != nil {
		t.Fatal(err)
	}
	extra := []string{"--tmpfs", "/usr/local/bin", "--ro-bind", bash, "/usr/local/bin/bash"}
	for _, p := range []string{"/bin/bash", "/usr/bin/bash"} {
		if _, err := os.Stat(p); err == nil {
			extra = append(extra, "--ro-bind", self, p)
		}
	}
	if got := jailed(t, "realbash", nil, extra...); got != "/usr/local/bin/bash <nil>" {
		t.Errorf("with the test binary at /bin/bash and /usr/bin/bash, RealBash() = %s; want /usr/local/bin/bash", got)
	}
}
