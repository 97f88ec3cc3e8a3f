package reaper_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/chaperone-dev/chaperone/internal/reaper"
)

func TestSetupEncode(t *testing.T) {
	t.Parallel()
	for _, s := range []reaper.Setup{
		{},
		{Home: "/home/a b"},
		{Home: "/h", Dirs: []string{"/tmp/x", "/t \"q\"\n"}, Rows: 24, Cols: 80,
			Links: [][2]string{{"/h/.claude/s nap.sh", "/run/chaperone-out/1-in0"}, {"/tmp/é\t", "/run/chaperone-out/1-0"}}},
		{Seal: true},
		{Egress: "/run/e", EgressKey: "k", Seal: true, Channel: "/run/chaperone-ctl"},
	} {
		got, err := reaper.ParseSetup(s.Encode())
		if err != nil || !reflect.DeepEqual(got, s) {
			t.Errorf("ParseSetup(%q) = %+v, %v; want %+v", s.Encode(), got, err, s)
		}
	}
	for _, bad := range []string{`home`, `"home"`, `"home" "/h" "dir"`, `"size" "0" "80"`, `"size" "x" "80"`, `"link" "/a"`, `"what" "/a"`, `"home" "/h`} {
		if s, err := reaper.ParseSetup(bad); err == nil {
			t.Errorf("ParseSetup(%q) = %+v; want an error", bad, s)
		}
	}
}

// TestSetupPrepared runs a command under the reaper with a Setup: the
// folders and links are made before it starts, a file in a link's way is
// replaced, the setup is not in the command's environment, and a home
// folder that is not a tmpfs of its own is left alone.
func TestSetupPrepared(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	os.MkdirAll(home, 0o700)
	os.WriteFile(filepath.Join(home, ".bash_profile"), []byte("echo planted\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "target"), []byte("exchanged\n"), 0o600)
	link := filepath.Join(home, ".claude", "shell-snapshots", "snap.sh")
	old := filepath.Join(dir, "old")
	os.WriteFile(old, []byte("in the way\n"), 0o600)
	s := reaper.Setup{Home: home, Dirs: []string{filepath.Join(dir, "tmp", "x")},
		Links: [][2]string{{link, filepath.Join(dir, "target")}, {old, filepath.Join(dir, "target")}}}
	cmd := reaperCmd(t, dir, "setup", "--", "sh", "-c", `cat "$1" "$2"; test -d "$D/tmp/x" && echo dir; env | grep CHAPERONE_REAPER_ || echo clean`, "sh", link, old)
	cmd.Env = append(cmd.Env, reaper.SetupEnv+"="+s.Encode())
	out, err := cmd.CombinedOutput()
	if code := exitStatus(t, err); code != 0 || string(out) != "exchanged\nexchanged\ndir\nclean\n" {
		t.Errorf("status %d, output %q; want the linked file twice, the folder, no setup in the environment", code, out)
	}
	if _, err := os.Stat(filepath.Join(home, ".bash_profile")); err != nil {
		t.Errorf("a home folder that is no tmpfs mount was swept: %v", err)
	}
}

// TestSetupMalformed: a setup that cannot be read is refused, and the
// command does not run.
func TestSetupMalformed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := reaperCmd(t, dir, "bad", "--", "sh", "-c", "echo ran")
	cmd.Env = append(cmd.Env, reaper.SetupEnv+`="home`)
	out, err := cmd.Output()
	if code := exitStatus(t, err); code != 126 || strings.Contains(string(out), "ran") {
		t.Errorf("status %d, output %q; want 126 and nothing run", code, out)
	}
}
