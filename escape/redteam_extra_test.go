package escape

// Red-team findings of stop 22. The session tests: a statement of the
// session wrote to the session's channel, saved by bash at fd 10/11 while
// the statement runs. Sealing stopped a child reopening the channel
// through /proc/$PPID/fd; these statements need no child: bash itself
// opened its own /proc/self/fd/10 by a name the session gate
// (rater/gate.go, fdPath) does not recognise as one (a relative cd, a
// link the statement or the repository made). The channel is now a
// socket (reaper.Setup.Channel), which no name reopens. The others: what
// a bubblewrap jail showed of the machine's credential stores, and values
// bash evaluates as code in forms the parser did not follow.

import (
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/internal/itest"
)

// deep is enough "../" to reach / from any project folder the tests use.
const deep = "../../../../../../../../../../../../"

// A relative cd reaches /proc/self/fd: the gate only follows a cd whose
// folder it knows (the project root is rated as "unknown"), and a
// relative path with an unknown folder is never taken for /proc/…/fd.
// bash opens its own fd 10 (the saved FIFO "a") by the name "10" and
// writes a statement into it, which runs unrated after this one.
func TestRedTeamSessionRelativeCdToProcFd(t *testing.T) {
	sessionBackends(t, worldOpts{deny: true}, func(t *testing.T, w *world) {
		s := startSession(t, w)
		s.try(`cd `+deep+`proc/self/fd && printf '0:%s\0' '`+inject+`' > 10; cd @PROJ@; true`, 15*time.Second)
		s.try("echo next-@ID@", 15*time.Second)
		noInjection(t, s)
	})
}

// The statement itself makes a relative link to /proc/self/fd in the
// project (ln's target is relative, so fdPath sees no /proc) and writes
// through it.
func TestRedTeamSessionRelativeLinkToProcFd(t *testing.T) {
	sessionBackends(t, worldOpts{deny: true}, func(t *testing.T, w *world) {
		s := startSession(t, w)
		s.try(`ln -s `+deep+`proc/self/fd x && printf '0:%s\0' '`+inject+`' > x/10; true`, 15*time.Second)
		s.try("echo next-@ID@", 15*time.Second)
		noInjection(t, s)
	})
}

// The repository holds a link to /proc/self/fd under a name other than
// fd: a write through it (lnk/10) is low, and reaches the channel.
func TestRedTeamSessionProjectLinkToProcFd(t *testing.T) {
	sessionBackends(t, worldOpts{deny: true}, func(t *testing.T, w *world) {
		must(t, os.Symlink("/proc/self/fd", filepath.Join(w.proj, "lnk")))
		s := startSession(t, w)
		s.try(`printf '0:%s\0' '`+inject+`' > lnk/10; true`, 15*time.Second)
		s.try("echo next-@ID@", 15*time.Second)
		noInjection(t, s)
	})
}

// The same relative route to the answer FIFO (saved at fd 11) forges the
// statement's status and working folder.
func TestRedTeamSessionRelativeCdForgedStatus(t *testing.T) {
	sessionBackends(t, worldOpts{deny: true}, func(t *testing.T, w *world) {
		s := startSession(t, w)
		r, _ := s.try(`cd `+deep+`proc/self/fd && printf '77:h:/etc\0' > 11; sleep 1; true`, 15*time.Second)
		if r.status == 77 {
			t.Errorf("FORGED: the statement's status is the one it wrote to the channel (77)")
		}
		if r, _ := s.try("pwd", 15*time.Second); strings.Contains(r.stdout, "/etc") {
			t.Errorf("FORGED: %q", r.stdout)
		}
	})
}

// bwrapWorld is a world on bubblewrap, as root (the credential stores are
// blank only where this user could read them).
func bwrapWorld(t *testing.T) *world {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the machine's credential stores are blanked for root only")
	}
	itest.Require(t, "bwrap", available("bwrap"))
	w := newWorld(t, "bwrap", worldOpts{deny: true})
	w.begin(t)
	return w
}

// readerScript is a project script that reads the file named by its
// arguments, built at run time (so the rater only knows a project script
// runs): the sandbox is the line that must hold.
const readerScript = `p=/; for part in "$@"; do p=$p$part/; done; cat -- "${p%/}" 2>&1
`

// Podman's root storage (/var/lib/containers, the /var/lib/docker of
// podman) is not among models.SystemSecrets: its secrets (the file
// driver keeps them in secretsdata.json, base64) and every container's
// files are shown in a bubblewrap jail. `podman secret create` as root,
// then a command rated low reads it.
func TestRedTeamBwrapPodmanSecretsShown(t *testing.T) {
	t.Parallel()
	w := bwrapWorld(t)
	itest.Require(t, "podman", available("podman"))
	name := "rt-" + w.id
	c := exec.Command("podman", "secret", "create", name, "-")
	c.Stdin = strings.NewReader("PODMAN-SECRET-" + w.id)
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("podman secret create: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("podman", "secret", "rm", name).Run() })
	r := w.run(step{cmd: "cat /var/lib/containers/storage/secrets/filedriver/secretsdata.json"}, viaC)
	want := base64.StdEncoding.EncodeToString([]byte("PODMAN-SECRET-" + w.id))
	if strings.Contains(r.stdout, want) {
		t.Errorf("LEAKED: a low command read root's podman secret (%q) in the bubblewrap jail: %q", "PODMAN-SECRET-"+w.id, clip(r.stdout, 300))
	}
}

// Credential stores in another user's home that models.HomeSecrets
// misses: terraform's token file is credentials.tfrc.json (the list has
// ~/.terraform.d/credentials, which terraform never writes), Hugging
// Face's token, msmtp's password, Subversion's saved logins. A project
// script reads them in the bubblewrap jail.
func TestRedTeamBwrapHomeStoresMissed(t *testing.T) {
	t.Parallel()
	w := bwrapWorld(t)
	other, err := os.MkdirTemp("/home", "chaperone-rt-")
	must(t, err)
	t.Cleanup(func() { os.RemoveAll(other) })
	must(t, os.Chmod(other, 0o700))
	w.write("@PROJ@/tools/r.sh", readerScript)
	for _, f := range []string{".terraform.d/credentials.tfrc.json", ".cache/huggingface/token", ".msmtprc", ".subversion/auth/svn.simple/0123abcd"} {
		must(t, os.MkdirAll(filepath.Join(other, filepath.Dir(f)), 0o700))
		secret := "HOME-SECRET-" + w.id + "-" + filepath.Base(f)
		must(t, os.WriteFile(filepath.Join(other, f), []byte(secret+"\n"), 0o600))
		r := w.run(step{cmd: "bash tools/r.sh " + strings.Join(strings.Split(strings.TrimPrefix(filepath.Join(other, f), "/"), "/"), " ")}, viaC)
		if strings.Contains(r.stdout, secret) {
			t.Errorf("LEAKED: %s of another user's home read in the bubblewrap jail (code %d)", f, r.code)
		}
	}
}

// Values bash evaluates as code (parser/evaluated.go), in forms the walk
// misses: a subscript holding curl|sh, evaluated by arithmetic in a case
// pattern, or by a child bash that takes the value from its environment
// (a prefix assignment, or export then bash -c). Each is rated low and
// runs; the same payload in $((x)) is high. The payload only reaches
// loopback; the file it leaves proves it ran.
func TestRedTeamEvaluatedValueMissed(t *testing.T) {
	t.Parallel()
	itest.Require(t, "bwrap", available("bwrap"))
	w := newWorld(t, "bwrap", worldOpts{deny: true})
	w.begin(t)
	for i, form := range []string{
		`x='a[$(curl -s http://127.0.0.1:9/|sh; touch ran-%d)]'; case 1 in $((x))) ;; esac`,
		`x='a[$(curl -s http://127.0.0.1:9/|sh; touch ran-%d)]' bash -c 'echo $((x))'`,
		`x='a[$(curl -s http://127.0.0.1:9/|sh; touch ran-%d)]'; export x; bash -c '[[ $x -eq 1 ]]'`,
	} {
		cmd := strings.Replace(form, "%d", strconv.Itoa(i), 1)
		r := w.run(step{cmd: cmd}, viaC)
		if _, err := os.Stat(filepath.Join(w.proj, "ran-"+strconv.Itoa(i))); err == nil {
			t.Errorf("NOT HELD: %q ran (code %d): curl|sh in a value bash evaluates", cmd, r.code)
		}
	}
}

// The channel's socket "s" is in the control folder the session's
// sandbox sees: a steered statement looks for it, to connect (python,
// socat) and send statements of its own. chaperone takes one connection,
// the reaper's, before bash runs anything, and the name goes with it.
func TestRedTeamSessionChannelSocketLeft(t *testing.T) {
	sessionBackends(t, worldOpts{deny: true}, func(t *testing.T, w *world) {
		s := startSession(t, w)
		r, _ := s.try(`for d in `+ctlDirs+`; do for f in "$d"/*; do [ -S "$f" ] && echo "SOCKET-LEFT $f"; done; done 2>/dev/null; echo looked`, 15*time.Second)
		if !strings.Contains(r.stdout, "looked") {
			t.Fatalf("the statement did not run: %q %q", r.stdout, r.stderr)
		}
		if strings.Contains(r.stdout, "SOCKET-LEFT") {
			t.Errorf("a socket to the session's channel is still there for a statement to connect to: %q", r.stdout)
		}
	})
}
