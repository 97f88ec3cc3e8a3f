package shellsrv_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/internal/rundir"
	"github.com/chaperone-dev/chaperone/internal/shellsrv"
)

// body builds a message body from raw fields, each NUL-terminated.
func body(fields ...string) []byte {
	return []byte(strings.Join(fields, "\x00") + "\x00")
}

// split returns the length and the body of an encoded message, failing t
// when the length does not match what follows.
func split(t *testing.T, msg []byte) []byte {
	t.Helper()
	n, err := shellsrv.Length(msg)
	if err != nil {
		t.Fatalf("Length of an encoded message: %v", err)
	}
	if n != len(msg)-4 {
		t.Fatalf("Length says %d, the body is %d bytes", n, len(msg)-4)
	}
	return msg[4:]
}

func TestRequestRoundTrip(t *testing.T) {
	t.Parallel()
	script := strings.Repeat("echo 'a line of a long script'; x=$((x+1))\n", 1000) // ~40 KB
	cases := []struct {
		name string
		req  shellsrv.Request
	}{
		{"plain", shellsrv.Request{Argv: []string{"chaperone-shell", "-c", "ls -l"}, Dir: "/home/u/proj", PPID: 4242,
			Env: []string{"PATH=/usr/bin:/bin", "HOME=/home/u"}}},
		{"spaces, equals and newlines", shellsrv.Request{Argv: []string{"bash", "-c", "echo a  b\necho 'c=d'", "arg with spaces", "k=v=w"},
			Dir: "/tmp/dir with spaces", PPID: 1, Env: []string{"A=b c", "EQ==x=", "NL=line1\nline2", "EMPTY="}}},
		{"empty strings", shellsrv.Request{Argv: []string{"", "", ""}, Dir: "/", PPID: 0, Env: []string{"", ""}}},
		{"no environment", shellsrv.Request{Argv: []string{"sh"}, Dir: "/", PPID: 7, Env: []string{}}},
		{"large script", shellsrv.Request{Argv: []string{"bash", "-c", script}, Dir: "/p", PPID: 99999,
			Env: []string{"BIG=" + strings.Repeat("v", 40<<10)}}},
		{"numbers as arguments", shellsrv.Request{Argv: []string{"3", "0", "-1"}, Dir: "/1", PPID: 3, Env: []string{"2"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			msg := c.req.Encode()
			got, err := shellsrv.Decode(split(t, msg))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(*got, c.req) {
				t.Errorf("round trip changed the request:\n got %#v\nwant %#v", *got, c.req)
			}
		})
	}
}

func TestRequestEncodeLayout(t *testing.T) {
	t.Parallel()
	msg := (&shellsrv.Request{Argv: []string{"sh", "-c", "true"}, Dir: "/d", PPID: 12, Env: []string{"A=1"}}).Encode()
	want := body(shellsrv.Hello, "/d", "12", "3", "sh", "-c", "true", "1", "A=1")
	if !bytes.Equal(msg[4:], want) {
		t.Errorf("body %q, want %q", msg[4:], want)
	}
	if n := binary.BigEndian.Uint32(msg); int(n) != len(want) {
		t.Errorf("length %d, want %d (big-endian, 4 bytes)", n, len(want))
	}
}

func TestDecodeRejects(t *testing.T) {
	t.Parallel()
	good := func(fields ...string) []byte {
		return body(append([]string{shellsrv.Hello, "/d", "12"}, fields...)...)
	}
	if _, err := shellsrv.Decode(good("1", "sh", "1", "A=1")); err != nil {
		t.Fatalf("the base message is rejected: %v", err)
	}
	cases := []struct {
		name string
		body []byte
	}{
		{"empty", nil},
		{"only a NUL", []byte{0}},
		{"wrong hello", body("chaperone-shell 2", "/d", "12", "1", "sh", "0")},
		{"exec hello", body(shellsrv.ExecHello, "/d", "12", "1", "sh", "0")},
		{"missing trailing NUL", good("1", "sh", "1", "A=1")[:len(good("1", "sh", "1", "A=1"))-1]},
		{"argument count larger than what follows", good("5", "sh", "0")},
		{"variable count larger than what follows", good("1", "sh", "2", "A=1")},
		{"negative count", good("-1", "sh", "0")},
		{"non-numeric count", good("one", "sh", "0")},
		{"missing environment", good("1", "sh")},
		{"trailing extra field", good("1", "sh", "1", "A=1", "extra")},
		{"trailing empty field", good("1", "sh", "1", "A=1", "")},
		{"relative dir", body(shellsrv.Hello, "d", "12", "1", "sh", "0")},
		{"empty dir", body(shellsrv.Hello, "", "12", "1", "sh", "0")},
		{"empty argv", good("0", "0")},
		{"non-numeric PPID", body(shellsrv.Hello, "/d", "twelve", "1", "sh", "0")},
		{"empty PPID", body(shellsrv.Hello, "/d", "", "1", "sh", "0")},
		{"hello only", body(shellsrv.Hello)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r, err := shellsrv.Decode(c.body)
			if !errors.Is(err, shellsrv.ErrBadRequest) || r != nil {
				t.Errorf("Decode(%q) = %+v, %v; want nil, ErrBadRequest", c.body, r, err)
			}
		})
	}
}

// decodeExecMsg takes an encoded Exec answer apart as chaperone-shell does:
// the hello line, the length, the fields.
func decodeExecMsg(t *testing.T, msg []byte) (*shellsrv.Exec, error) {
	t.Helper()
	line, rest, ok := bytes.Cut(msg, []byte("\n"))
	if !ok || string(line) != shellsrv.ExecHello {
		t.Fatalf("answer starts %q, want %q and a newline", line, shellsrv.ExecHello)
	}
	return shellsrv.DecodeExec(split(t, rest))
}

func TestExecRoundTrip(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		x    shellsrv.Exec
	}{
		{"bwrap", shellsrv.Exec{Path: "/usr/bin/bwrap", Argv: []string{"bwrap", "--block-fd", "3", "--", "/bin/bash", "-c", "echo hi"},
			Env: []string{"PATH=/usr/bin", "HOME=/root"}}},
		{"odd strings", shellsrv.Exec{Path: "/a b/c=d", Argv: []string{"x", "", "a\nb", "k=v=w", " "}, Env: []string{"", "NL=1\n2", "=", "SP= "}}},
		{"no environment", shellsrv.Exec{Path: "/p", Argv: []string{"p"}, Env: []string{}}},
		{"large", shellsrv.Exec{Path: "/p", Argv: []string{"p", "-c", strings.Repeat("x", 40<<10)}, Env: []string{"V=" + strings.Repeat("y", 40<<10)}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := decodeExecMsg(t, c.x.Encode())
			if err != nil {
				t.Fatalf("DecodeExec: %v", err)
			}
			if !reflect.DeepEqual(*got, c.x) {
				t.Errorf("round trip changed the answer:\n got %#v\nwant %#v", *got, c.x)
			}
		})
	}
}

func TestDecodeExecRejects(t *testing.T) {
	t.Parallel()
	if _, err := shellsrv.DecodeExec(body(shellsrv.ExecHello, "/p", "1", "p", "1", "A=1")); err != nil {
		t.Fatalf("the base message is rejected: %v", err)
	}
	cases := []struct {
		name string
		body []byte
	}{
		{"empty", nil},
		{"wrong hello", body("exec 2", "/p", "1", "p", "0")},
		{"request hello", body(shellsrv.Hello, "/p", "1", "p", "0")},
		{"missing trailing NUL", []byte(shellsrv.ExecHello + "\x00/p\x001\x00p\x000")},
		{"argument count larger than what follows", body(shellsrv.ExecHello, "/p", "3", "p", "0")},
		{"variable count larger than what follows", body(shellsrv.ExecHello, "/p", "1", "p", "4", "A=1")},
		{"negative count", body(shellsrv.ExecHello, "/p", "1", "p", "-2")},
		{"missing environment", body(shellsrv.ExecHello, "/p", "1", "p")},
		{"trailing extra field", body(shellsrv.ExecHello, "/p", "1", "p", "1", "A=1", "extra")},
		{"relative path", body(shellsrv.ExecHello, "bwrap", "1", "bwrap", "0")},
		{"empty path", body(shellsrv.ExecHello, "", "1", "p", "0")},
		{"empty argv", body(shellsrv.ExecHello, "/p", "0", "0")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			x, err := shellsrv.DecodeExec(c.body)
			if !errors.Is(err, shellsrv.ErrBadRequest) || x != nil {
				t.Errorf("DecodeExec(%q) = %+v, %v; want nil, ErrBadRequest", c.body, x, err)
			}
		})
	}
}

func TestLength(t *testing.T) {
	t.Parallel()
	head := func(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }
	cases := []struct {
		name string
		head []byte
		want int
		ok   bool
	}{
		{"zero", head(0), 0, true},
		{"small", head(300), 300, true},
		{"big-endian", []byte{0, 1, 0, 2}, 65538, true},
		{"longer input, first four bytes", append(head(5), "rest"...), 5, true},
		{"the largest allowed", head(shellsrv.MaxRequest), shellsrv.MaxRequest, true},
		{"one more than allowed", head(shellsrv.MaxRequest + 1), 0, false},
		{"the largest uint32", head(^uint32(0)), 0, false},
		{"three bytes", []byte{0, 0, 1}, 0, false},
		{"nothing", nil, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			n, err := shellsrv.Length(c.head)
			switch {
			case c.ok && (err != nil || n != c.want):
				t.Errorf("Length(%x) = %d, %v; want %d", c.head, n, err, c.want)
			case !c.ok && !errors.Is(err, shellsrv.ErrBadRequest):
				t.Errorf("Length(%x) = %d, %v; want ErrBadRequest", c.head, n, err)
			}
		})
	}
}

// executable writes a stand-in for the chaperone program and returns its
// path.
func executable(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "chaperone")
	if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func socketPath(t *testing.T, exe string, env []string) string {
	t.Helper()
	p, err := shellsrv.SocketPath(exe, env)
	if err != nil {
		t.Fatalf("SocketPath(%s): %v", exe, err)
	}
	return p
}

func TestSocketPath(t *testing.T) {
	run := t.TempDir()
	// The folder comes from env, not from this process's environment.
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	exe := executable(t, "#!/bin/sh\n")
	env := []string{"PATH=/usr/bin", "HOME=/home/u", "SHLVL=1", "_=/usr/bin/chaperone-shell", "PWD=/home/u/a", "OLDPWD=/home/u",
		"XDG_RUNTIME_DIR=" + run}
	base := socketPath(t, exe, env)

	t.Run("under the run folder of env", func(t *testing.T) {
		if filepath.Dir(base) != filepath.Join(run, "chaperone") {
			t.Errorf("socket %s is not in %s", base, filepath.Join(run, "chaperone"))
		}
		if name := filepath.Base(base); !strings.HasPrefix(name, "shell-") || !strings.HasSuffix(name, ".sock") {
			t.Errorf("socket name %q, want shell-<hash>.sock", name)
		}
	})
	t.Run("same folder as rundir.Dir in that environment", func(t *testing.T) {
		t.Setenv("XDG_RUNTIME_DIR", run)
		if filepath.Dir(base) != rundir.Dir() {
			t.Errorf("socket %s is not in rundir.Dir() %s", base, rundir.Dir())
		}
	})
	t.Run("without XDG_RUNTIME_DIR, in TMPDIR of env", func(t *testing.T) {
		tmp := t.TempDir()
		p := socketPath(t, exe, append(slices.Clone(env[:6]), "TMPDIR="+tmp))
		if want := filepath.Join(tmp, "chaperone-"+strconv.Itoa(os.Getuid())); filepath.Dir(p) != want {
			t.Errorf("socket %s is not in %s", p, want)
		}
	})
	t.Run("same inputs, same path", func(t *testing.T) {
		if p := socketPath(t, exe, slices.Clone(env)); p != base {
			t.Errorf("got %s then %s", base, p)
		}
	})
	with := func(i int, kv string) []string {
		e := slices.Clone(env)
		e[i] = kv
		return e
	}
	for i, kv := range []string{"SHLVL=5", "_=/bin/ls", "PWD=/elsewhere", "OLDPWD=/x"} {
		name, _, _ := strings.Cut(kv, "=")
		t.Run("volatile "+name+" ignored", func(t *testing.T) {
			e := with(2+i, kv)
			if p := socketPath(t, exe, e); p != base {
				t.Errorf("changing %s moved the socket from %s to %s", name, base, p)
			}
		})
	}
	t.Run("volatile variables absent", func(t *testing.T) {
		if p := socketPath(t, exe, []string{env[0], env[1], env[6]}); p != base {
			t.Errorf("without the volatile variables the socket moved from %s to %s", base, p)
		}
	})
	others := map[string][]string{
		"changed variable":  with(0, "PATH=/usr/local/bin:/usr/bin"),
		"added variable":    append(slices.Clone(env), "OLLAMA_HOST=http://x:11434"),
		"removed variable":  env[1:],
		"reordered":         append([]string{env[1], env[0]}, env[2:]...),
		"empty value":       with(1, "HOME="),
		"name like _":       append(slices.Clone(env), "__=x"),
		"volatile as value": with(1, "HOME=SHLVL"),
	}
	for name, e := range others {
		t.Run(name+" changes the path", func(t *testing.T) {
			if p := socketPath(t, exe, e); p == base {
				t.Errorf("environment %q gives the same socket as %q", e, env)
			}
		})
	}
	t.Run("new executable, new path", func(t *testing.T) {
		exe := executable(t, "version 1\n")
		old := socketPath(t, exe, env)
		if err := os.WriteFile(exe, []byte("version 2, longer\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		if p := socketPath(t, exe, env); p == old {
			t.Errorf("a rewritten executable keeps socket %s", p)
		}
	})
	t.Run("same size, new time", func(t *testing.T) {
		exe := executable(t, "version 1\n")
		old := socketPath(t, exe, env)
		later := time.Now().Add(time.Hour)
		if err := os.Chtimes(exe, later, later); err != nil {
			t.Fatal(err)
		}
		if p := socketPath(t, exe, env); p == old {
			t.Errorf("an executable with a new time keeps socket %s", p)
		}
	})
	t.Run("replaced by another file of the same size and time", func(t *testing.T) {
		exe := executable(t, "version 1\n")
		fi, err := os.Stat(exe)
		if err != nil {
			t.Fatal(err)
		}
		old := socketPath(t, exe, env)
		next := exe + ".new"
		if err := os.WriteFile(next, []byte("version 2\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(next, fi.ModTime(), fi.ModTime()); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(next, exe); err != nil {
			t.Fatal(err)
		}
		if p := socketPath(t, exe, env); p == old {
			t.Errorf("a replaced executable (new inode) keeps socket %s", p)
		}
	})
	t.Run("missing executable", func(t *testing.T) {
		p, err := shellsrv.SocketPath(filepath.Join(t.TempDir(), "gone"), env)
		if !errors.Is(err, fs.ErrNotExist) || p != "" {
			t.Errorf("got %q, %v; want an error for a missing file", p, err)
		}
	})
}

func TestSameEnv(t *testing.T) {
	t.Parallel()
	base := []string{"PATH=/bin", "SHLVL=1", "HOME=/h", "_=/bin/x", "PWD=/a"}
	cases := []struct {
		name string
		a, b []string
		want bool
	}{
		{"identical", base, slices.Clone(base), true},
		{"both empty", nil, []string{}, true},
		{"volatile values differ", base, []string{"PATH=/bin", "SHLVL=3", "HOME=/h", "_=/bin/y", "PWD=/b"}, true},
		{"volatile ones missing on one side", base, []string{"PATH=/bin", "HOME=/h", "OLDPWD=/z"}, true},
		{"volatile ones moved", base, []string{"SHLVL=1", "PATH=/bin", "PWD=/a", "HOME=/h", "_=/bin/x"}, true},
		{"value differs", base, []string{"PATH=/usr/bin", "SHLVL=1", "HOME=/h", "_=/bin/x", "PWD=/a"}, false},
		{"extra variable", base, append(slices.Clone(base), "X=1"), false},
		{"missing variable", base, base[1:], false},
		{"order of others differs", base, []string{"HOME=/h", "SHLVL=1", "PATH=/bin", "_=/bin/x", "PWD=/a"}, false},
		{"name only", []string{"A"}, []string{"A="}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			a, b := slices.Clone(c.a), slices.Clone(c.b)
			if got := shellsrv.SameEnv(c.a, c.b); got != c.want {
				t.Errorf("SameEnv(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
			}
			if got := shellsrv.SameEnv(c.b, c.a); got != c.want {
				t.Errorf("SameEnv(%q, %q) = %v, want %v", c.b, c.a, got, c.want)
			}
			if !reflect.DeepEqual(a, c.a) || !reflect.DeepEqual(b, c.b) {
				t.Errorf("SameEnv changed its arguments")
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	f.Add((&shellsrv.Request{Argv: []string{"sh", "-c", "echo hi"}, Dir: "/d", PPID: 1, Env: []string{"A=1"}}).Encode()[4:])
	f.Add((&shellsrv.Request{Argv: []string{""}, Dir: "/", Env: nil}).Encode()[4:])
	f.Add(body(shellsrv.Hello, "/d", "+7", "1", "sh", "0"))
	f.Add(body(shellsrv.Hello, "/d", "1", "2", "sh", "0"))
	f.Add(body(shellsrv.Hello, "/d", "1", "1", "sh", "0", "x"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := shellsrv.Decode(b)
		if err != nil {
			if r != nil || !errors.Is(err, shellsrv.ErrBadRequest) {
				t.Fatalf("Decode(%q) = %+v, %v; want nil and ErrBadRequest", b, r, err)
			}
			return
		}
		msg := r.Encode()
		again, err := shellsrv.Decode(split(t, msg))
		if err != nil {
			t.Fatalf("Decode accepted %q as %#v, but not its encoding %q: %v", b, *r, msg, err)
		}
		if !reflect.DeepEqual(again, r) {
			t.Fatalf("Decode(%q) = %#v; re-encoded and decoded: %#v", b, *r, *again)
		}
	})
}
