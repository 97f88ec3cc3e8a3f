package shim

// The Codex double invocation.
//
// Codex runs each command as `$SH -c '<38 KB prelude> … exec '$SH' -c '<CMD>''`,
// and the exec'd `$SH -c '<CMD>'` is chaperone again, in the same process.
// The command must be rated, held and recorded once, and no command string
// may ever skip rating. The scheme:
//
//  1. The outer chaperone recognises the Codex wrapper structurally
//     (codexExec: every prelude statement is one of the forms Codex writes),
//     rates CMD, decides (holds it if needed) and records it.
//  2. If it runs, the outer chaperone mints a pass bound to the exact argv
//     the prelude will exec, ["-c", CMD]:
//     CHAPERONE_PASS = <nonce>.<expiry>.<HMAC-SHA256(key, nonce|expiry|argv)>
//     where key is 32 random bytes in <runtime dir>/pass.key (dir 0700, file
//     0600, created once), and it creates the empty marker
//     <runtime dir>/pass/<nonce>. The variable goes only into the job's env.
//  3. Every chaperone started with CHAPERONE_PASS removes it from the
//     environment it passes on (so nothing the command starts inherits it)
//     and accepts the pass only if the MAC matches its own argv exactly, the
//     pass has not expired (30 s), and it can remove the marker (so a pass
//     is used at most once). Then it execs the real bash at once: it is
//     already inside the job the outer chaperone started. Anything else —
//     no pass, another command text, other flags, a replay — is rated as usual.
//
// A command string cannot carry a pass: the pass lives in the environment,
// which the agent sets, not the model, and forging one needs the key. The
// key is out of reach of sandboxed commands (the runtime dir is never
// mounted into a sandbox); with the host backend, commands run as the same
// user and could read it — the host backend is no boundary against a
// command that already runs, which the rating itself still covers.

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// PassEnv is the environment variable that carries a pass.
const PassEnv = "CHAPERONE_PASS"

const passTTL = 30 * time.Second

// RuntimeDir is chaperone's private runtime folder: $XDG_RUNTIME_DIR/chaperone,
// else chaperone-<uid> in the temp dir. It is created 0700 and must be
// owned by the user and not reachable by others.
func RuntimeDir() (string, error) {
	base := os.Getenv("XDG_RUNTIME_DIR")
	dir := filepath.Join(base, "chaperone")
	if base == "" {
		dir = filepath.Join(os.TempDir(), "chaperone-"+strconv.Itoa(os.Getuid()))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("runtime dir: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return "", fmt.Errorf("runtime dir: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || fi.Mode().Perm()&0o077 != 0 || !ok || int(st.Uid) != os.Getuid() {
		return "", fmt.Errorf("runtime dir %s must be a folder owned by you with mode 0700", dir)
	}
	return dir, nil
}

// passKey reads (or creates) the pass key.
func passKey(dir string) ([]byte, error) {
	path := filepath.Join(dir, "pass.key")
	if k, err := os.ReadFile(path); err == nil && len(k) == 32 {
		return k, nil
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("pass key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "pass.key.*")
	if err != nil {
		return nil, fmt.Errorf("pass key: %w", err)
	}
	_, werr := tmp.Write(k)
	cerr := tmp.Close()
	if werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("pass key: %w", errors.Join(werr, cerr))
	}
	// Keep the first key if another chaperone won the race.
	if err := os.Link(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		if k2, err := os.ReadFile(path); err == nil && len(k2) == 32 {
			return k2, nil
		}
		return nil, fmt.Errorf("pass key: %w", err)
	}
	os.Remove(tmp.Name())
	return k, nil
}

func passMAC(key []byte, nonce, expiry string, argv []string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(nonce + "|" + expiry + "|"))
	for _, a := range argv {
		fmt.Fprintf(m, "%d:%s", len(a), a)
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// MintPass returns a CHAPERONE_PASS value for one exec of chaperone with
// argv (without argv[0]), and the marker file to remove when the job ends.
func MintPass(argv []string) (value, marker string, err error) {
	dir, err := RuntimeDir()
	if err != nil {
		return "", "", err
	}
	key, err := passKey(dir)
	if err != nil {
		return "", "", err
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("pass nonce: %w", err)
	}
	nonce := hex.EncodeToString(b)
	expiry := strconv.FormatInt(time.Now().Add(passTTL).Unix(), 10)
	if err := os.MkdirAll(filepath.Join(dir, "pass"), 0o700); err != nil {
		return "", "", fmt.Errorf("pass marker: %w", err)
	}
	marker = filepath.Join(dir, "pass", nonce)
	f, err := os.OpenFile(marker, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", "", fmt.Errorf("pass marker: %w", err)
	}
	f.Close()
	return nonce + "." + expiry + "." + passMAC(key, nonce, expiry, argv), marker, nil
}

// UsePass reports whether value is a valid, unused, unexpired pass for
// argv, and uses it up. Any failure means "rate as usual".
func UsePass(value string, argv []string) bool {
	parts := strings.Split(value, ".")
	if len(parts) != 3 || len(parts[0]) != 32 {
		return false
	}
	if _, err := hex.DecodeString(parts[0]); err != nil {
		return false
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || time.Now().Unix() > exp {
		return false
	}
	dir, err := RuntimeDir()
	if err != nil {
		return false
	}
	key, err := os.ReadFile(filepath.Join(dir, "pass.key"))
	if err != nil || len(key) != 32 {
		return false
	}
	if !hmac.Equal([]byte(passMAC(key, parts[0], parts[1], argv)), []byte(parts[2])) {
		return false
	}
	return os.Remove(filepath.Join(dir, "pass", parts[0])) == nil
}
