package main

// A new user's first run, as the README gives it, on three machines:
//
//	scripts/install && ~/.local/bin/chaperone -c 'git log --oneline -3; ls'
//
// with a fresh HOME: the install builds and places chaperone and says
// (through chaperone doctor) which sandbox it will use and why, and the
// first command runs in that sandbox, silently.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/internal/itest"
	"github.com/chaperone-dev/chaperone/models"
)

// firstCommand is the README's first command through chaperone.
const firstCommand = "git log --oneline -3; ls"

func TestFirstRun(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bwrap", "tmux", "git"} { // without them, scripts/install runs apt-get
		_, err := exec.LookPath(tool)
		itest.Require(t, tool, err == nil)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	// The Go build cache and module cache of this machine, so that the
	// install builds offline and fast; a new user's own are no different.
	goEnv, err := exec.Command(goBin, "env", "GOCACHE", "GOMODCACHE").Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	caches := strings.Fields(string(goEnv))
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("bubblewrap only", func(t *testing.T) {
		// No docker or podman on PATH: a folder of links to every other
		// program, outside /tmp so that the sandbox sees it as well.
		_, err := os.Stat("/var/tmp")
		itest.Require(t, "/var/tmp (for a PATH without docker and podman)", err == nil)
		bin, err := os.MkdirTemp("/var/tmp", "chaperone-firstrun-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(bin) })
		linkPrograms(t, bin, append(filepath.SplitList(os.Getenv("PATH")), filepath.Dir(goBin)), "docker", "podman")
		u := newUser(t, repo, caches, bin)
		doctor := u.install(t)
		for _, want := range []string{
			"\n  docker  NO  not installed\n", "\n  podman  NO  not installed\n", "\n  bwrap   ok ",
			"\nwill use: bwrap (the first that works of docker, podman, bwrap",
			"\n  not used: docker (not installed), podman (not installed)\n",
		} {
			if !strings.Contains(doctor, want) {
				t.Errorf("the install's stderr lacks %q:\n%s", want, doctor)
			}
		}
		u.firstCommand(t, "bwrap")
	})

	t.Run("docker without an image", func(t *testing.T) {
		itest.Require(t, "a docker daemon", dockerAnswers())
		const image = "docker.io/library/debian:stable-slim" // what chaperone uses when nothing names one
		itest.Require(t, "a docker daemon without "+image+" (the case of a machine that cannot pull)", !dockerHas(image))
		u := newUser(t, repo, caches, filepath.Dir(goBin)+string(os.PathListSeparator)+os.Getenv("PATH"))
		doctor := u.install(t)
		for _, want := range []string{
			"\n  docker  ok  ", "image " + image + " is not here yet",
			"\nwill use: bwrap (the first that works of docker, podman, bwrap",
			"\n  not used: docker (no image here yet, and none named or built)",
		} {
			if !strings.Contains(doctor, want) {
				t.Errorf("the install's stderr lacks %q:\n%s", want, doctor)
			}
		}
		u.firstCommand(t, "bwrap")
	})

	t.Run("docker with an image", func(t *testing.T) {
		itest.Require(t, "a docker daemon", dockerAnswers())
		itest.Require(t, "the image chaperone-test:latest (scripts/ci-setup.d/10-sandbox-images.sh)", dockerHas("chaperone-test:latest"))
		image := gitImage(t)
		u := newUser(t, repo, caches, filepath.Dir(goBin)+string(os.PathListSeparator)+os.Getenv("PATH"), "CHAPERONE_IMAGE="+image)
		doctor := u.install(t)
		for _, want := range []string{
			"\n  docker  ok  ", "image " + image + " present",
			"\nwill use: docker (the first that works of docker, podman, bwrap",
		} {
			if !strings.Contains(doctor, want) {
				t.Errorf("the install's stderr lacks %q:\n%s", want, doctor)
			}
		}
		t.Cleanup(func() { // the project's container lives on after its first command
			if out, err := u.run(filepath.Join(u.home, ".local", "bin", "chaperone"), "sandbox", "down"); err != nil {
				t.Errorf("sandbox down: %v\n%s", err, out)
			}
		})
		u.firstCommand(t, "docker")
	})
}

// user is a new user: a fresh HOME, a clone with a few commits to run
// the first command in, and the environment of a login (PATH, HOME, a
// runtime folder) with nothing of chaperone's.
type user struct {
	repo, home, proj string
	env              []string
}

func newUser(t *testing.T, repo string, caches []string, path string, env ...string) *user {
	t.Helper()
	dir := t.TempDir()
	u := &user{repo: repo, home: filepath.Join(dir, "home"), proj: filepath.Join(dir, "clone")}
	run := filepath.Join(dir, "run")
	for _, d := range []string{u.home, u.proj} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(run, 0o700); err != nil {
		t.Fatal(err)
	}
	u.env = append([]string{"HOME=" + u.home, "PATH=" + path, "XDG_RUNTIME_DIR=" + run, "LANG=C.UTF-8",
		"GOCACHE=" + caches[0], "GOMODCACHE=" + caches[1], "GOFLAGS=-mod=mod", "GOPROXY=off", "GOTOOLCHAIN=local"}, env...)
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		u.env = append(u.env, "DOCKER_HOST="+h)
	}
	for i := 1; i <= 4; i++ {
		name := fmt.Sprintf("file%d.txt", i)
		if err := os.WriteFile(filepath.Join(u.proj, name), []byte(name+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		script := "git add . && git -c user.name=Tester -c user.email=tester@example.com commit -qm " + shellQuote("add "+name)
		if i == 1 {
			script = "git init -q && " + script
		}
		if out, err := u.run("sh", "-c", script); err != nil {
			t.Fatalf("make the clone: %v\n%s", err, out)
		}
	}
	return u
}

// run runs name with args in the clone with the user's environment, and
// returns its combined output.
func (u *user) run(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = u.proj, u.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// install runs the README's scripts/install from the clone, checks what
// it installed, and returns what it wrote on stderr (chaperone doctor's
// report among it).
func (u *user) install(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(u.repo, "scripts", "install"))
	cmd.Dir, cmd.Env = u.proj, u.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("scripts/install: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if stdout.Len() != 0 {
		t.Errorf("scripts/install wrote on stdout:\n%s", stdout.String())
	}
	for _, f := range []string{".local/bin/chaperone", ".local/bin/chaperone-shell", ".local/bin/chaperone-panel",
		".local/share/chaperone/bin/bash", ".local/share/chaperone/bin/sh"} {
		if _, err := os.Stat(filepath.Join(u.home, f)); err != nil {
			t.Errorf("scripts/install: %v", err)
		}
	}
	if !strings.Contains(stderr.String(), "installed chaperone, chaperone-shell and chaperone-panel in "+filepath.Join(u.home, ".local", "bin")) {
		t.Errorf("scripts/install does not say what it installed:\n%s", stderr.String())
	}
	return stderr.String()
}

// firstCommand runs the README's first command with the installed
// chaperone: it prints the clone's last three commits and its files,
// nothing of chaperone's, and runs in backend (so says its audit record).
func (u *user) firstCommand(t *testing.T, backend string) {
	t.Helper()
	chaperone := filepath.Join(u.home, ".local", "bin", "chaperone")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, chaperone, "-c", firstCommand)
	cmd.Dir, cmd.Env = u.proj, u.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chaperone -c %q: %v\nstdout:\n%s\nstderr:\n%s", firstCommand, err, stdout.String(), stderr.String())
	}
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	want := []string{"add file4.txt", "add file3.txt", "add file2.txt", "file1.txt", "file2.txt", "file3.txt", "file4.txt"}
	if len(lines) != len(want) {
		t.Fatalf("chaperone -c %q printed:\n%s\nwant three commits and four files; stderr:\n%s", firstCommand, stdout.String(), stderr.String())
	}
	for i, w := range want {
		if !strings.HasSuffix(lines[i], " "+w) && lines[i] != w {
			t.Errorf("line %d: %q, want %q", i+1, lines[i], w)
		}
	}
	if stderr.Len() != 0 {
		t.Errorf("chaperone -c %q wrote on stderr (a low command runs silently):\n%s", firstCommand, stderr.String())
	}
	out, err := u.run(chaperone, "audit", "show", "--json")
	if err != nil {
		t.Fatalf("audit show: %v\n%s", err, out)
	}
	var ev models.Event
	if err := json.Unmarshal([]byte(out), &ev); err != nil || ev.Command != firstCommand || ev.Backend != backend || ev.Exit == nil || *ev.Exit != 0 {
		t.Errorf("audit record of the first command: %v\n%s\nwant it run with %s, exit 0", err, out, backend)
	}
}

// linkPrograms fills dir with links to the programs in the folders of
// path, the first of each name, but those whose names begin with one of
// left.
func linkPrograms(t *testing.T, dir string, path []string, left ...string) {
	t.Helper()
	for _, d := range path {
		entries, err := os.ReadDir(d)
		if err != nil {
			continue
		}
	names:
		for _, e := range entries {
			for _, l := range left {
				if strings.HasPrefix(e.Name(), l) {
					continue names
				}
			}
			err := os.Symlink(filepath.Join(d, e.Name()), filepath.Join(dir, e.Name()))
			if err != nil && !errors.Is(err, os.ErrExist) {
				t.Fatal(err)
			}
		}
	}
}

func dockerAnswers() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, "docker", "info").Run() == nil
}

func dockerHas(image string) bool {
	return exec.Command("docker", "image", "inspect", image).Run() == nil
}

// gitImage builds, without a registry, the test image with git added (the
// host's git and the libraries it loads), so that the first command's git
// log runs in the container, and returns its name. It is removed when the
// test ends.
func gitImage(t *testing.T) string {
	t.Helper()
	git, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.TempDir()
	files := []string{git}
	out, err := exec.Command("ldd", git).Output()
	if err != nil {
		t.Fatalf("ldd %s: %v", git, err)
	}
	for _, f := range strings.Fields(string(out)) {
		if strings.HasPrefix(f, "/") {
			files = append(files, f)
		}
	}
	for _, f := range files {
		data, err := os.ReadFile(f) // through links: the file itself
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(ctx, "root", f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dockerfile := "FROM chaperone-test:latest\nCOPY root/ /\n"
	if err := os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	image := fmt.Sprintf("chaperone-firstrun-%d:latest", os.Getpid())
	if out, err := exec.Command("docker", "build", "-q", "-t", image, ctx).CombinedOutput(); err != nil {
		t.Fatalf("docker build %s: %v\n%s", image, err, out)
	}
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", image).Run() })
	return image
}
