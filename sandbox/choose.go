package sandbox

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/chaperone-dev/chaperone/config"
)

// Backend runs a job and returns its exit status (128+N when it died of
// signal N). Host, Engine and Bwrap are backends.
type Backend interface {
	Name() string
	Run(ctx context.Context, j *Job) (int, error)
}

// ErrNoBackend is returned by Choose when no sandbox can be used.
var ErrNoBackend = errors.New("no sandbox backend available")

// Names are the backend names a config may give, in the order Choose tries
// them when none is given ("host" is used only when named).
var Names = []string{"docker", "podman", "bwrap", "host"}

// Choose returns the backend to run commands with. name is the configured
// backend (config.Config.Backend): "docker", "podman", "bwrap" or "host",
// used as it is. Empty means the first that works: docker if its daemon
// answers on its socket, else podman if installed, else bwrap if installed,
// else ErrNoBackend with what to install. Never the host unless named.
// env is the environment chaperone was given (for DOCKER_HOST, HOME,
// CHAPERONE_IMAGE…). It runs no program, so it is cheap enough for every
// command (tens of microseconds; a connect to the docker socket).
func Choose(name string, cfg config.SandboxConfig, env []string) (Backend, error) {
	return choose(name, Policy{SandboxConfig: cfg}, env)
}

func choose(name string, p Policy, env []string) (Backend, error) {
	switch name {
	case "docker", "podman":
		return Engine{Kind: name, Policy: p}, nil
	case "bwrap", "bubblewrap":
		return Bwrap{Policy: p}, nil
	case "host":
		return Host{}, nil
	case "":
	default:
		return nil, fmt.Errorf("unknown sandbox backend %q (want one of %s)", name, strings.Join(Names, ", "))
	}
	// A container engine needs an image, and a machine that cannot pull
	// one would fail every command: with bubblewrap at hand, an engine is
	// the first choice only when its image is here or one was named or
	// built (`sandbox up --build`).
	_, bwrapErr := exec.LookPath("bwrap")
	hasImage := func(kind string) bool {
		if bwrapErr != nil || p.Image != "" || lookup(env, "CHAPERONE_IMAGE") != "" || builtImages(env) {
			return true
		}
		return kind == "docker" && dockerImageHere(env, defaultImage)
	}
	if dockerAnswers(env) && hasImage("docker") {
		return Engine{Kind: "docker", Policy: p}, nil
	}
	if _, err := exec.LookPath("podman"); err == nil && hasImage("podman") {
		return Engine{Kind: "podman", Policy: p}, nil
	}
	if bwrapErr == nil {
		return Bwrap{Policy: p}, nil
	}
	return nil, fmt.Errorf("%w: install one (Debian/Ubuntu: sudo apt-get install bubblewrap, or docker.io, or podman), "+
		"or run commands unconfined on purpose with backend = \"host\" in %s", ErrNoBackend, config.UserPath())
}

// BackendEnv names the environment variable that may pick a sandbox
// backend for one run (CHAPERONE_BACKEND=bwrap). It never picks the host.
const BackendEnv = "CHAPERONE_BACKEND"

// ErrHostFromEnv is returned by Select when the environment asks for the
// host backend: the environment is the agent's (an agent that can edit its
// own settings could set it), so running unconfined is only ever the user's
// config file's choice.
var ErrHostFromEnv = errors.New(BackendEnv + "=host is refused: commands run unconfined on the host only when the user's config file says so")

// Chosen says how Select picked a backend.
type Chosen int

// How a backend was picked.
const (
	ChosenFirst  Chosen = iota // the first that works (nothing named one)
	ChosenEnv                  // $CHAPERONE_BACKEND
	ChosenConfig               // backend = "…" in the user's config file
)

// Select is the one place that resolves the backend: the shim, the shell
// server, `doctor` and `sandbox …` all call it. $CHAPERONE_BACKEND (in env)
// may pick among the sandboxes; "host" there is refused (ErrHostFromEnv,
// naming the config key). Else cfg.Backend, which only the user's own
// config file sets (a project's .chaperone.toml cannot). Else the first
// sandbox that works (Choose).
func Select(cfg *config.Config, env []string) (Backend, Chosen, error) {
	p := Policy{SandboxConfig: cfg.Sandbox, AuditDir: cfg.Audit.Dir}
	if name := lookup(env, BackendEnv); name != "" {
		if name == "host" {
			path := cmp.Or(cfg.Path, config.UserPath())
			return nil, ChosenEnv, fmt.Errorf("%w (set backend = \"host\" in %s, or unset %s)", ErrHostFromEnv, path, BackendEnv)
		}
		b, err := choose(name, p, env)
		if err != nil {
			return nil, ChosenEnv, fmt.Errorf("%s: %w", BackendEnv, err)
		}
		return b, ChosenEnv, nil
	}
	b, err := choose(cfg.Backend, p, env)
	if cfg.Backend != "" {
		if err != nil {
			err = fmt.Errorf("%s: %w", cmp.Or(cfg.Path, config.UserPath()), err)
		}
		return b, ChosenConfig, err
	}
	return b, ChosenFirst, err
}

// builtImages reports whether `sandbox up --build` made an image for some
// project (its name is kept in the project's container folder).
func builtImages(env []string) bool {
	m, _ := filepath.Glob(filepath.Join(stateDir(env), "*", "image"))
	return len(m) > 0
}

// dockerImageHere reports whether the docker daemon has image without a
// pull, asking its API on the unix socket (a millisecond); false when it
// cannot tell.
func dockerImageHere(env []string, image string) bool {
	sock := dockerSocket(env)
	if sock == "" {
		return false
	}
	cl := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}, Timeout: 2 * time.Second}
	resp, err := cl.Get("http://docker/images/" + url.PathEscape(image) + "/json")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// dockerAnswers reports whether a docker daemon accepts connections on its
// unix socket (DOCKER_HOST or the default). Other DOCKER_HOST kinds count
// as answering when the docker CLI is installed.
func dockerAnswers(env []string) bool {
	if sock := dockerSocket(env); sock != "" {
		c, err := net.DialTimeout("unix", sock, 200*time.Millisecond)
		if err != nil {
			return false
		}
		c.Close()
	}
	_, err := exec.LookPath("docker")
	return err == nil
}

// Check is what Diagnose found about one backend.
type Check struct {
	// Name is the backend name.
	Name string
	// OK is true when the backend works here.
	OK bool
	// Detail says what was found (version, or why it does not work).
	Detail string
	// Fix is the command or setting that makes it work ("" when OK).
	Fix string
}

// Diagnose tries every backend for real (slow: it runs the engines) and
// says which work, why the others do not, and how to fix each.
func Diagnose(ctx context.Context, cfg config.SandboxConfig, env []string) []Check {
	p := Policy{SandboxConfig: cfg}
	var out []Check
	for _, kind := range []string{"docker", "podman"} {
		out = append(out, diagnoseEngine(ctx, kind, p, env))
	}
	out = append(out, diagnoseBwrap(ctx))
	out = append(out, Check{Name: "host", OK: true, Detail: "runs commands unconfined; used only when named (backend = \"host\")"})
	return out
}

func diagnoseEngine(ctx context.Context, kind string, p Policy, env []string) Check {
	c := Check{Name: kind}
	install := map[string]string{
		"docker": "sudo apt-get install docker.io && sudo usermod -aG docker $USER (then log in again)",
		"podman": "sudo apt-get install podman",
	}[kind]
	if _, err := exec.LookPath(kind); err != nil {
		c.Detail, c.Fix = "not installed", install
		return c
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if kind == "docker" && !dockerAnswers(env) {
		c.Detail = "installed, but the daemon does not answer on " + dockerSocket(env)
		c.Fix = "sudo systemctl start docker (or: sudo dockerd &); and be in the docker group: sudo usermod -aG docker $USER"
		return c
	}
	format := "{{.Server.Version}}"
	if kind == "podman" {
		format = "{{.Client.Version}}"
	}
	ver, err := exec.CommandContext(ctx, kind, "version", "--format", format).CombinedOutput()
	if err != nil {
		c.Detail = "does not work: " + firstLine(string(ver))
		c.Fix = install
		return c
	}
	image := p.image(env, "")
	if err := exec.CommandContext(ctx, kind, "image", "inspect", image).Run(); err != nil {
		c.OK = true
		c.Detail = fmt.Sprintf("%s %s; image %s is not here yet (it is pulled on first use)", kind, strings.TrimSpace(string(ver)), image)
		c.Fix = fmt.Sprintf("%s pull %s, or `chaperone sandbox up --build` with a Dockerfile, or set [sandbox] image", kind, image)
		return c
	}
	c.OK = true
	c.Detail = fmt.Sprintf("%s %s, image %s present", kind, strings.TrimSpace(string(ver)), image)
	return c
}

func diagnoseBwrap(ctx context.Context) Check {
	c := Check{Name: "bwrap"}
	if _, err := exec.LookPath("bwrap"); err != nil {
		c.Detail, c.Fix = "not installed", "sudo apt-get install bubblewrap"
		return c
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var out []byte
	var err error
	// Tried again as a command is (see setupAttempts): a mount that went
	// away meanwhile must not make chaperone choose another backend.
	for i := 0; i < setupAttempts && (i == 0 || err != nil && ctx.Err() == nil); i++ {
		out, err = exec.CommandContext(ctx, "bwrap", "--unshare-user", "--unshare-pid", "--unshare-net",
			"--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--", "/bin/true").CombinedOutput()
	}
	if err != nil {
		c.Detail = "installed, but cannot make namespaces: " + firstLine(string(out))
		c.Fix = "allow unprivileged user namespaces: sudo sysctl -w kernel.unprivileged_userns_clone=1 " +
			"(Ubuntu 24.04+: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0)"
		return c
	}
	ver, _ := exec.CommandContext(ctx, "bwrap", "--version").Output()
	c.OK = true
	c.Detail = strings.TrimSpace(string(ver))
	return c
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
