package sandbox

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// profileRule is a rule of a profile as the tests read it back.
type profileRule struct {
	Names    []string     `json:"names"`
	Name     string       `json:"name"`
	Action   string       `json:"action"`
	ErrnoRet *uint        `json:"errnoRet"`
	Args     []seccompArg `json:"args"`
	Includes struct {
		Arches, Caps []string
	} `json:"includes"`
	Excludes struct {
		Arches, Caps []string
	} `json:"excludes"`
}

type profile struct {
	DefaultAction   string            `json:"defaultAction"`
	DefaultErrnoRet *uint             `json:"defaultErrnoRet"`
	ArchMap         []json.RawMessage `json:"archMap"`
	Syscalls        []profileRule     `json:"syscalls"`
}

func action(a string, errno *uint) string {
	if errno != nil {
		return fmt.Sprintf("%s(%d)", a, *errno)
	}
	return a
}

// decide is what the profile does with the call name and its arguments on
// arch (GOARCH's names) in a container without capabilities, as runc and
// crun build it with libseccomp: the action of the rules that name the call
// and whose comparisons all hold, else the default. Rules of different
// actions that both hold are an error: libseccomp would pick one by an
// order of its own.
func (p profile) decide(t *testing.T, name string, arch string, args ...uint64) string {
	t.Helper()
	var got []string
	for _, r := range p.Syscalls {
		names := r.Names
		if r.Name != "" {
			names = append(names, r.Name)
		}
		if !slices.Contains(names, name) ||
			len(r.Includes.Arches) > 0 && !slices.Contains(r.Includes.Arches, arch) ||
			len(r.Includes.Caps) > 0 || slices.Contains(r.Excludes.Arches, arch) {
			continue
		}
		holds := true
		for _, c := range r.Args {
			var v uint64
			if int(c.Index) < len(args) {
				v = args[c.Index]
			}
			switch c.Op {
			case "SCMP_CMP_EQ":
				holds = holds && v == c.Value
			case "SCMP_CMP_NE":
				holds = holds && v != c.Value
			case "SCMP_CMP_MASKED_EQ":
				holds = holds && v&c.Value == c.ValueTwo
			default:
				t.Fatalf("comparison %s not modelled", c.Op)
			}
		}
		if holds {
			a := action(r.Action, r.ErrnoRet)
			if !slices.Contains(got, a) {
				got = append(got, a)
			}
		}
	}
	switch len(got) {
	case 0:
		return action(p.DefaultAction, p.DefaultErrnoRet)
	case 1:
		return got[0]
	}
	t.Errorf("%s%v on %s: rules of different actions hold: %q", name, args, arch, got)
	return got[0]
}

func readProfile(t *testing.T, b []byte) profile {
	t.Helper()
	var p profile
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("profile: %v\n%s", err, b)
	}
	return p
}

func TestComplement(t *testing.T) {
	t.Parallel()
	denied := []uint64{ioctlTIOCSTI, ioctlTIOCLINUX}
	cover := complement(denied, 32)
	if len(cover) > 40 {
		t.Errorf("%d comparisons; want at most 40 (each costs every ioctl a few instructions)", len(cover))
	}
	matches := func(v uint64) int {
		n := 0
		for _, m := range cover {
			if v&m[0] == m[1] {
				n++
			}
		}
		return n
	}
	values := []uint64{0, 1, 0x5401, 0x5411, 0x5413, 0x541b, 0x541d, 0x5412 | 1<<32, 0x5412 | 1<<31, 0xffffffff, 1<<32 - 2, 0x80045430}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		values = append(values, r.Uint64())
	}
	for _, v := range values {
		want := 1
		if slices.Contains(denied, v&(1<<32-1)) {
			want = 0
		}
		if got := matches(v); got != want {
			t.Errorf("%#x is matched by %d comparisons; want %d", v, got, want)
		}
	}
	for _, d := range denied {
		if n := matches(d | 7<<40); n != 0 {
			t.Errorf("denied %#x with high bits is matched %d times", d, n)
		}
	}
}

// TestDeriveSeccomp reads the derived profiles back as libseccomp would
// apply them: namespaces, mounts, keyrings, bpf, io_uring and TIOCSTI are
// refused; fork, ordinary ioctls and the rest of the default stay.
func TestDeriveSeccomp(t *testing.T) {
	t.Parallel()
	sample, err := os.ReadFile("testdata/podman-seccomp-sample.json")
	if err != nil {
		t.Fatal(err)
	}
	bases := []struct {
		name string
		base []byte
	}{{"sample", sample}, {"no default profile", nil}}
	if installed, err := os.ReadFile("/usr/share/containers/seccomp.json"); err == nil {
		bases = append(bases, struct {
			name string
			base []byte
		}{"installed", installed})
	}
	const (
		eperm  = "SCMP_ACT_ERRNO(1)"
		enosys = "SCMP_ACT_ERRNO(38)"
		allow  = "SCMP_ACT_ALLOW"
	)
	const newUser, newNS, newPID, sigchld, files = 0x10000000, 0x20000, 0x20000000, 17, 0x400
	cases := []struct {
		call string
		arch string
		args []uint64
		want string
	}{
		{"unshare", "amd64", []uint64{newUser}, eperm},
		{"unshare", "amd64", []uint64{newNS}, eperm},
		{"unshare", "amd64", []uint64{newUser | newNS | files}, eperm},
		{"unshare", "amd64", []uint64{files}, allow},
		{"clone", "amd64", []uint64{sigchld}, allow},
		{"clone", "amd64", []uint64{0x3d0f00}, allow}, // a thread
		{"clone", "amd64", []uint64{newPID | sigchld}, eperm},
		{"clone", "arm64", []uint64{newUser | sigchld}, eperm},
		{"clone", "s390x", []uint64{0, newUser | sigchld}, eperm},
		{"clone", "s390x", []uint64{newUser, sigchld}, allow}, // arg 0 is the stack there
		{"clone3", "amd64", nil, enosys},
		{"setns", "amd64", nil, eperm},
		{"mount", "amd64", nil, eperm},
		{"umount2", "amd64", nil, eperm},
		{"pivot_root", "amd64", nil, eperm},
		{"keyctl", "amd64", nil, eperm},
		{"bpf", "amd64", nil, eperm},
		{"perf_event_open", "amd64", nil, eperm},
		{"userfaultfd", "amd64", nil, eperm},
		{"io_uring_setup", "amd64", nil, eperm},
		{"kexec_load", "amd64", nil, eperm},
		{"finit_module", "amd64", nil, eperm},
		{"fsopen", "amd64", nil, enosys},
		{"move_mount", "amd64", nil, enosys},
		{"ioctl", "amd64", []uint64{0, ioctlTIOCSTI}, eperm},
		{"ioctl", "amd64", []uint64{0, ioctlTIOCSTI | 1<<32}, eperm},
		{"ioctl", "amd64", []uint64{0, ioctlTIOCLINUX}, eperm},
		{"ioctl", "amd64", []uint64{0, 0x5401}, allow}, // TCGETS
		{"ioctl", "amd64", []uint64{0, 0x5414}, allow}, // TIOCSWINSZ
		{"ioctl", "amd64", []uint64{0, 0xc0306201}, allow},
		{"read", "amd64", nil, allow},
		{"personality", "amd64", []uint64{0}, allow},
	}
	for _, b := range bases {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			out, err := deriveSeccomp(b.base)
			if err != nil {
				t.Fatal(err)
			}
			p := readProfile(t, out)
			for _, c := range cases {
				if got := p.decide(t, c.call, c.arch, c.args...); got != c.want {
					t.Errorf("%s%#x on %s: %s; want %s", c.call, c.args, c.arch, got, c.want)
				}
			}
			if b.base == nil {
				if p.DefaultAction != allow {
					t.Errorf("default action %s; want %s", p.DefaultAction, allow)
				}
				return
			}
			base := readProfile(t, b.base)
			if p.DefaultAction != base.DefaultAction || len(p.ArchMap) != len(base.ArchMap) {
				t.Errorf("default %s, %d architectures; want the base's %s, %d", p.DefaultAction, len(p.ArchMap), base.DefaultAction, len(base.ArchMap))
			}
			// What the base says of other calls is kept.
			for _, call := range []string{"write", "execve", "wait4", "vmsplice", "reboot"} {
				if got, want := p.decide(t, call, "amd64"), base.decide(t, call, "amd64"); got != want {
					t.Errorf("%s: %s; the default profile says %s", call, got, want)
				}
			}
		})
	}
}

// TestPodmanSeccomp finds the default profile as podman does, writes the
// derived one under a name from its content, and makes it again only when
// podman's files change.
func TestPodmanSeccomp(t *testing.T) {
	dir := t.TempDir()
	sample, _ := os.ReadFile("testdata/podman-seccomp-sample.json")
	etc, usr := filepath.Join(dir, "etc-seccomp.json"), filepath.Join(dir, "usr-seccomp.json")
	confUsr, confEtc := filepath.Join(dir, "usr.conf"), filepath.Join(dir, "etc.conf")
	defer func(d, c []string) { seccompDefaults, containersConfs = d, c }(seccompDefaults, containersConfs)
	seccompDefaults, containersConfs = []string{etc, usr}, []string{confUsr, confEtc}
	state := filepath.Join(dir, "state")
	env := []string{"HOME=" + filepath.Join(dir, "home")}
	made := func(what string) (string, profile) {
		t.Helper()
		seccompCache.seccompMade = seccompMade{} // a new process
		p, err := podmanSeccomp(state, env)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if !strings.HasPrefix(filepath.Base(p), "podman-seccomp-") || filepath.Dir(p) != state {
			t.Errorf("%s: profile at %s; want podman-seccomp-HASH.json in the state folder", what, p)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return p, readProfile(t, b)
	}

	p0, prof := made("no files")
	if prof.DefaultAction != "SCMP_ACT_ALLOW" {
		t.Errorf("with no default profile: default %s; want the allow-by-default fallback", prof.DefaultAction)
	}
	os.WriteFile(usr, sample, 0o644)
	p1, prof := made("the default in /usr")
	if p1 == p0 || prof.DefaultAction != "SCMP_ACT_ERRNO" {
		t.Errorf("profile %s (default %s) after podman's default appeared; want a new one from it", p1, prof.DefaultAction)
	}
	if again, _ := made("again"); again != p1 {
		t.Errorf("made again as %s, nothing having changed; want %s", again, p1)
	}
	// The override in /etc wins; then containers.conf.
	override := strings.Replace(string(sample), `"vmsplice"`, `"vmsplice", "tee"`, 1)
	os.WriteFile(etc, []byte(override), 0o644)
	p2, prof := made("the override in /etc")
	if p2 == p1 || prof.decide(t, "tee", "amd64") != "SCMP_ACT_ERRNO(1)" {
		t.Errorf("profile %s did not come from the override", p2)
	}
	named := filepath.Join(dir, "named.json")
	os.WriteFile(named, []byte(strings.Replace(string(sample), `"read",`, `"read", "splice",`, 1)), 0o644)
	os.WriteFile(confUsr, []byte("[containers]\nseccomp_profile = \"/nowhere\"\n"), 0o644)
	os.WriteFile(confEtc, []byte("[containers]\nseccomp_profile = \""+named+"\"\n"), 0o644)
	p3, prof := made("containers.conf")
	if p3 == p2 || prof.decide(t, "splice", "amd64") != "SCMP_ACT_ALLOW" {
		t.Errorf("profile %s did not come from the file containers.conf names", p3)
	}
	// A change to the named file itself is seen.
	os.WriteFile(named, sample, 0o644)
	if p4, _ := made("the named file changed"); p4 == p3 {
		t.Errorf("profile unchanged after the file it came from changed")
	}
	os.WriteFile(confEtc, []byte("[containers]\nseccomp_profile = \"unconfined\"\n"), 0o644)
	if _, prof := made("unconfined"); prof.DefaultAction != "SCMP_ACT_ALLOW" || prof.decide(t, "unshare", "amd64", 0x10000000) != "SCMP_ACT_ERRNO(1)" {
		t.Errorf("with seccomp_profile unconfined: default %s; want the fallback, which still denies", prof.DefaultAction)
	}
	// CONTAINERS_CONF alone.
	only := filepath.Join(dir, "only.conf")
	os.WriteFile(only, []byte("[containers]\nseccomp_profile = \""+usr+"\"\n"), 0o644)
	env = append(env, "CONTAINERS_CONF="+only)
	if p, _ := made("CONTAINERS_CONF"); p != p1 {
		t.Errorf("with CONTAINERS_CONF naming the /usr profile: %s; want %s", p, p1)
	}
}
