package sandbox

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/internal/itest"
)

func TestEnv(t *testing.T) {
	in := []string{"TERM=xterm", "LANG=C", "LC_ALL=C.UTF-8", "TZ=UTC", "NO_COLOR=1", "CI=1", "PATH=/bin", "HOME=/h",
		"GEMINI_API_KEY=x", "AWS_SECRET_ACCESS_KEY=x", "AWS_REGION=eu", "GITHUB_TOKEN=x", "MY_TOKEN=x", "DB_PASSWORD=x",
		"SSH_AUTH_SOCK=/s", "GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=core.hooksPath", "GIT_CONFIG_VALUE_0=", "GEMINI_CLI=1", "RANDOM_THING=1",
		"PROJ_NAME=a", "PROJ_API_KEY=b", "NAMED_SECRET=c"}
	p := Policy{SandboxConfig: config.SandboxConfig{Env: []string{"PROJ_*", "NAMED_SECRET"}}}
	got := p.Env(in, false)
	want := []string{"TERM=xterm", "LANG=C", "LC_ALL=C.UTF-8", "TZ=UTC", "NO_COLOR=1", "CI=1", "HOME=/h",
		"GEMINI_CLI=1", "PROJ_NAME=a", "NAMED_SECRET=c",
		"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=core.hooksPath", "GIT_CONFIG_VALUE_0="}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Env:\n got %q\nwant %q", got, want)
	}
	if got := p.Env([]string{"PATH=/bin"}, true); len(got) != 1 {
		t.Errorf("withPath dropped PATH: %q", got)
	}
}

func TestContainerName(t *testing.T) {
	a, b := ContainerName("/home/u/My Project"), ContainerName("/home/v/My Project")
	if a == b || !strings.HasPrefix(a, "chaperone-my-project-") || len(a) != len("chaperone-my-project-")+12 {
		t.Errorf("names %q %q", a, b)
	}
}

func TestStripJSONC(t *testing.T) {
	in := `{
  // the image
  "image": "http://x//y", /* block */
  "build": {"dockerfile": "Dockerfile",},
}`
	got := string(stripJSONC([]byte(in)))
	if strings.Contains(got, "the image") || strings.Contains(got, "block") || !strings.Contains(got, `"http://x//y"`) || strings.Contains(got, ",}") {
		t.Errorf("stripJSONC = %s", got)
	}
}

func TestInsideOnHost(t *testing.T) {
	if _, err := os.Stat(MarkerPath); err == nil {
		t.Skip("running inside a sandbox")
	}
	if Inside() {
		t.Error("Inside() on the host")
	}
	t.Setenv("CHAPERONE_INSIDE", "1")
	if Inside() {
		t.Error("an environment variable made Inside() true")
	}
}

func TestChoose(t *testing.T) {
	for name, want := range map[string]string{"docker": "docker", "podman": "podman", "bwrap": "bwrap", "host": "host"} {
		b, err := Choose(name, config.SandboxConfig{}, nil)
		if err != nil || b.Name() != want {
			t.Errorf("Choose(%q) = %v, %v", name, b, err)
		}
	}
	if _, err := Choose("chroot", config.SandboxConfig{}, nil); err == nil {
		t.Error("unknown backend accepted")
	}
	b, err := Choose("", config.SandboxConfig{}, []string{"DOCKER_HOST=unix:///nonexistent.sock"})
	if err == nil && (b.Name() == "docker" || b.Name() == "host") {
		t.Errorf("chose %s with no docker daemon", b.Name())
	}
}

func BenchmarkChoose(b *testing.B) {
	env := os.Environ()
	for b.Loop() {
		Choose("", config.SandboxConfig{}, env)
	}
}

func TestMoveFileRefusesLinks(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	os.WriteFile(secret, []byte("KEY"), 0o600)
	link := filepath.Join(dir, "out-0")
	os.Symlink(secret, link)
	dst := filepath.Join(dir, "cwd")
	moveFile(link, dst)
	if b, err := os.ReadFile(dst); err == nil {
		t.Errorf("followed a link planted by the sandbox: %q", b)
	}
	plain := filepath.Join(dir, "out-1")
	os.WriteFile(plain, []byte("/work/sub\n"), 0o644)
	moveFile(plain, dst)
	if b, _ := os.ReadFile(dst); string(b) != "/work/sub\n" {
		t.Errorf("moved %q", b)
	}
	if _, err := os.Stat(plain); err == nil {
		t.Error("source left behind")
	}
}

// A docker daemon that answers but has no image for chaperone (and none
// can be pulled here) would fail every command: with bubblewrap at hand,
// the first choice is bubblewrap then, and docker once the image is here,
// named or built.
func TestChooseNeedsAnImage(t *testing.T) {
	_, err := exec.LookPath("bwrap")
	itest.Require(t, "bwrap", err == nil)
	_, err = exec.LookPath("docker")
	itest.Require(t, "docker CLI", err == nil)
	var have atomic.Bool
	sock := filepath.Join(t.TempDir(), "docker.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/images/") && have.Load() {
			w.Write([]byte("{}"))
			return
		}
		http.NotFound(w, r)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	state := t.TempDir()
	env := []string{"DOCKER_HOST=unix://" + sock, "XDG_STATE_HOME=" + state, "HOME=" + t.TempDir()}
	pick := func(env []string, cfg config.SandboxConfig) string {
		b, err := Choose("", cfg, env)
		if err != nil {
			t.Fatal(err)
		}
		return b.Name()
	}
	if got := pick(env, config.SandboxConfig{}); got != "bwrap" {
		t.Errorf("no image here: chose %s, want bwrap", got)
	}
	if got := pick(append(env, "CHAPERONE_IMAGE=myimage"), config.SandboxConfig{}); got != "docker" {
		t.Errorf("image named: chose %s, want docker", got)
	}
	if got := pick(env, config.SandboxConfig{Image: "myimage"}); got != "docker" {
		t.Errorf("image configured: chose %s, want docker", got)
	}
	have.Store(true)
	if got := pick(env, config.SandboxConfig{}); got != "docker" {
		t.Errorf("default image here: chose %s, want docker", got)
	}
	have.Store(false)
	must(t, os.MkdirAll(filepath.Join(stateDir(env), "chaperone-proj-x"), 0o700))
	must(t, os.WriteFile(filepath.Join(stateDir(env), "chaperone-proj-x", "image"), []byte("built\n"), 0o600))
	if got := pick(env, config.SandboxConfig{}); got != "docker" {
		t.Errorf("an image built by sandbox up --build: chose %s, want docker", got)
	}
}
