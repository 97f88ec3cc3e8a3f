package sandbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/BurntSushi/toml"

	"github.com/chaperone-dev/chaperone/internal/safefile"
)

// Podman's default seccomp profile allows unshare, clone, setns, mount,
// keyctl and the new mount API without conditions (docker's does not), so
// `unshare -U` works in a podman container. chaperone gives its podman
// containers podman's own default profile with what its bubblewrap filter
// (sandbox/seccomp) denies taken out of it and judged by rules of its own,
// as docker's default profile judges clone:
//
//   - unshare and clone only without a CLONE_NEW* flag (their flags are
//     argument 0, argument 1 for clone on s390); with one, EPERM;
//   - clone3, whose flags seccomp cannot read, ENOSYS, so that the C
//     library falls back to clone;
//   - setns, mount, umount, umount2, pivot_root, chroot, open_by_handle_at,
//     the keyring calls, bpf, perf_event_open, userfaultfd, io_uring,
//     kexec and module loading: EPERM; the new mount API (open_tree,
//     fsopen…): ENOSYS, so that tools fall back to mount;
//   - ioctl but TIOCSTI and TIOCLINUX (compared on the low 32 bits of the
//     request, the kernel's unsigned int), which get EPERM.
//
// Everything else is podman's default, which may also depend on the
// container's capabilities (all dropped in chaperone's). Docker keeps its
// own default profile, which denies the namespace and mount calls already.

// seccompVersion changes when the rules below do (it is part of the cache
// key; the profile's file name follows from its content).
const seccompVersion = "1"

// Linux constants of the rules (the same on amd64 and arm64).
const (
	cloneNamespaces = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 // CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET
	ioctlTIOCSTI    = 0x5412
	ioctlTIOCLINUX  = 0x541c
	errnoEPERM      = 1
	errnoENOSYS     = 38
)

// seccompRule is one entry of a profile's "syscalls" (the docker/podman
// JSON form).
type seccompRule struct {
	Names    []string       `json:"names"`
	Action   string         `json:"action"`
	ErrnoRet *uint          `json:"errnoRet,omitempty"`
	Args     []seccompArg   `json:"args,omitempty"`
	Includes *seccompArches `json:"includes,omitempty"`
	Excludes *seccompArches `json:"excludes,omitempty"`
}

// seccompArg compares one argument: for SCMP_CMP_MASKED_EQ, Value is the
// mask and ValueTwo what the masked argument must equal.
type seccompArg struct {
	Index    uint   `json:"index"`
	Value    uint64 `json:"value"`
	ValueTwo uint64 `json:"valueTwo"`
	Op       string `json:"op"`
}

type seccompArches struct {
	Arches []string `json:"arches"`
}

func errnoRule(errno uint, names ...string) seccompRule {
	return seccompRule{Names: names, Action: "SCMP_ACT_ERRNO", ErrnoRet: &errno}
}

func maskedEq(index uint, mask, value uint64) []seccompArg {
	return []seccompArg{{Index: index, Value: mask, ValueTwo: value, Op: "SCMP_CMP_MASKED_EQ"}}
}

// chaperoneRules are the rules chaperone puts in place of whatever the
// default profile says about the calls they name. allowDefault: the profile
// allows what no rule names (then only the denials are needed).
func chaperoneRules(allowDefault bool) []seccompRule {
	var rules []seccompRule
	s390 := &seccompArches{Arches: []string{"s390", "s390x"}}
	// unshare and clone: allowed without a new namespace; EPERM with one
	// (one rule a flag: seccomp compares, it cannot test "not zero").
	for _, c := range []struct {
		name               string
		index              uint
		includes, excludes *seccompArches
	}{
		{"unshare", 0, nil, nil},
		{"clone", 0, nil, s390},
		{"clone", 1, s390, nil},
	} {
		if !allowDefault {
			rules = append(rules, seccompRule{Names: []string{c.name}, Action: "SCMP_ACT_ALLOW",
				Args: maskedEq(c.index, cloneNamespaces, 0), Includes: c.includes, Excludes: c.excludes})
		}
		for bit := uint64(1); bit != 0 && bit <= cloneNamespaces; bit <<= 1 {
			if cloneNamespaces&bit != 0 {
				r := errnoRule(errnoEPERM, c.name)
				r.Args, r.Includes, r.Excludes = maskedEq(c.index, bit, bit), c.includes, c.excludes
				rules = append(rules, r)
			}
		}
	}
	rules = append(rules,
		errnoRule(errnoENOSYS, "clone3",
			"open_tree", "open_tree_attr", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr"),
		errnoRule(errnoEPERM, "setns", "mount", "umount", "umount2", "pivot_root", "chroot", "open_by_handle_at",
			"keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd",
			"io_uring_setup", "io_uring_enter", "io_uring_register",
			"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module"))
	// ioctl: every request but the two, on the low 32 bits.
	denied := []uint64{ioctlTIOCSTI, ioctlTIOCLINUX}
	if !allowDefault {
		for _, m := range complement(denied, 32) {
			rules = append(rules, seccompRule{Names: []string{"ioctl"}, Action: "SCMP_ACT_ALLOW", Args: maskedEq(1, m[0], m[1])})
		}
	}
	for _, v := range denied {
		r := errnoRule(errnoEPERM, "ioctl")
		r.Args = maskedEq(1, 1<<32-1, v)
		rules = append(rules, r)
	}
	return rules
}

// complement returns masked comparisons {mask, value} that together match
// exactly the bits-bit numbers not in denied, none of them overlapping:
// walking the bits from the top, each branch that no denied number takes
// is one comparison.
func complement(denied []uint64, bits int) [][2]uint64 {
	var out [][2]uint64
	var walk func(mask, value uint64, bit int, left []uint64)
	walk = func(mask, value uint64, bit int, left []uint64) {
		if len(left) == 0 {
			out = append(out, [2]uint64{mask, value})
			return
		}
		if bit < 0 {
			return // a denied number itself
		}
		b := uint64(1) << bit
		var zero, one []uint64
		for _, v := range left {
			if v&b == 0 {
				zero = append(zero, v)
			} else {
				one = append(one, v)
			}
		}
		walk(mask|b, value, bit-1, zero)
		walk(mask|b, value|b, bit-1, one)
	}
	walk(0, 0, bits-1, denied)
	return out
}

// managedNames are the calls chaperoneRules speaks for.
func managedNames() map[string]bool {
	set := map[string]bool{}
	for _, r := range chaperoneRules(false) {
		for _, n := range r.Names {
			set[n] = true
		}
	}
	return set
}

// deriveSeccomp returns podman's default profile (JSON) with every rule's
// word on the managed calls removed and chaperone's rules added; with no
// default profile (nil), a profile that allows every other call.
func deriveSeccomp(base []byte) ([]byte, error) {
	if base == nil {
		// No default profile to start from: allow by default, deny what
		// chaperone denies. (Weaker than podman's own list; podman finds
		// no file either, and would run the container without a filter.)
		return json.MarshalIndent(map[string]any{
			"defaultAction": "SCMP_ACT_ALLOW",
			"syscalls":      chaperoneRules(true),
		}, "", "\t")
	}
	var profile map[string]json.RawMessage
	if err := json.Unmarshal(base, &profile); err != nil {
		return nil, fmt.Errorf("podman's seccomp profile: %w", err)
	}
	var def string
	json.Unmarshal(profile["defaultAction"], &def)
	if def == "" {
		return nil, fmt.Errorf("podman's seccomp profile has no defaultAction")
	}
	var rules []map[string]json.RawMessage
	if raw, ok := profile["syscalls"]; ok {
		if err := json.Unmarshal(raw, &rules); err != nil {
			return nil, fmt.Errorf("podman's seccomp profile: syscalls: %w", err)
		}
	}
	managed := managedNames()
	var out []any
	for _, r := range rules {
		keep := true
		for _, key := range []string{"names", "name"} {
			raw, ok := r[key]
			if !ok {
				continue
			}
			var names []string
			if key == "name" {
				var n string
				if err := json.Unmarshal(raw, &n); err != nil {
					return nil, fmt.Errorf("podman's seccomp profile: %s: %w", key, err)
				}
				names = []string{n}
			} else if err := json.Unmarshal(raw, &names); err != nil {
				return nil, fmt.Errorf("podman's seccomp profile: %s: %w", key, err)
			}
			names = slices.DeleteFunc(names, func(n string) bool { return managed[n] })
			if len(names) == 0 {
				keep = false
				break
			}
			if key == "name" {
				continue
			}
			r[key], _ = json.Marshal(names)
		}
		if keep {
			out = append(out, r)
		}
	}
	for _, r := range chaperoneRules(def == "SCMP_ACT_ALLOW") {
		out = append(out, r)
	}
	profile["syscalls"], _ = json.Marshal(out)
	return json.MarshalIndent(profile, "", "\t")
}

// Where podman looks for its default seccomp profile and containers.conf
// (containers/common: an override in /etc first).
var (
	seccompDefaults = []string{"/etc/containers/seccomp.json", "/usr/share/containers/seccomp.json"}
	containersConfs = []string{"/usr/share/containers/containers.conf", "/etc/containers/containers.conf"}
)

// confFiles returns the containers.conf files podman reads, in order (a
// later one's settings win): CONTAINERS_CONF alone when set; else the
// system's, their .d folders, and for a user but root the user's.
func confFiles(env []string) []string {
	if p := lookup(env, "CONTAINERS_CONF"); p != "" {
		return []string{p}
	}
	var out []string
	add := func(p string) {
		out = append(out, p)
		ents, _ := os.ReadDir(p + ".d")
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".conf") {
				out = append(out, filepath.Join(p+".d", e.Name()))
			}
		}
	}
	out = append(out, containersConfs[0])
	add(containersConfs[1])
	if os.Getuid() != 0 {
		dir := lookup(env, "XDG_CONFIG_HOME")
		if !filepath.IsAbs(dir) {
			if h := lookup(env, "HOME"); filepath.IsAbs(h) {
				dir = filepath.Join(h, ".config")
			}
		}
		if dir != "" {
			add(filepath.Join(dir, "containers", "containers.conf"))
		}
	}
	return out
}

// defaultSeccomp returns the path of podman's default seccomp profile:
// containers.conf's [containers] seccomp_profile (the last file that sets
// it), else the first of seccompDefaults that exists; "" when none
// ("unconfined" counts as none).
func defaultSeccomp(confs []string) string {
	named := ""
	for _, p := range confs {
		b, err := safefile.ReadFollow(p, 1<<20)
		if err != nil {
			continue
		}
		var v struct {
			Containers struct {
				SeccompProfile *string `toml:"seccomp_profile"`
			} `toml:"containers"`
		}
		if _, err := toml.Decode(string(b), &v); err == nil && v.Containers.SeccompProfile != nil {
			named = *v.Containers.SeccompProfile
		}
	}
	if named != "" {
		if named == "unconfined" {
			return ""
		}
		return named
	}
	for _, p := range seccompDefaults {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// seccompCache remembers, for this process, the profile last made.
var seccompCache struct {
	sync.Mutex
	seccompMade
}

// seccompMade is what podmanSeccomp made, kept in its state file.
type seccompMade struct {
	Key     string // fingerprint of podman's files
	Src     string // the default profile it was made from ("": none)
	SrcKey  string // fingerprint of Src
	Profile string // the profile's path
}

// fits reports whether m is the profile for podman's files as they are
// now (key), and still there.
func (m seccompMade) fits(key string) bool {
	return m.Key == key && m.SrcKey == fingerprint([]string{m.Src}) && exists(m.Profile)
}

// podmanSeccomp returns the path of the seccomp profile for podman
// containers (see above), written in the sandbox state folder under a name
// made from its content, so that a changed profile changes the container
// spec. It is made again only when podman's files change (what it was made
// from is kept beside it, podman-seccomp.state).
func podmanSeccomp(state string, env []string) (string, error) {
	confs := confFiles(env)
	key := fingerprint(append(slices.Clone(confs), seccompDefaults...))
	seccompCache.Lock()
	defer seccompCache.Unlock()
	if seccompCache.fits(key) {
		return seccompCache.Profile, nil
	}
	stateName := "podman-seccomp.state"
	var m seccompMade
	if b, err := os.ReadFile(filepath.Join(state, stateName)); err == nil && json.Unmarshal(b, &m) == nil && m.fits(key) {
		seccompCache.seccompMade = m
		return m.Profile, nil
	}
	m = seccompMade{Key: key, Src: defaultSeccomp(confs)}
	m.SrcKey = fingerprint([]string{m.Src})
	var base []byte // nil: none to be read (see deriveSeccomp)
	if m.Src != "" {
		base, _ = safefile.ReadFollow(m.Src, 4<<20)
	}
	profile, err := deriveSeccomp(base)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(profile)
	if m.Profile, err = stateFile(state, "podman-seccomp-"+hex.EncodeToString(sum[:8])+".json", string(profile), 0o444); err != nil {
		return "", err
	}
	b, _ := json.Marshal(m)
	if _, err := stateFile(state, stateName, string(b), 0o600); err != nil {
		return "", err
	}
	seccompCache.seccompMade = m
	return m.Profile, nil
}

// fingerprint returns a short hash of the identities (device, inode, size,
// modification time) of the files at paths, absent ones included, and of
// seccompVersion.
func fingerprint(paths []string) string {
	var b bytes.Buffer
	b.WriteString(seccompVersion)
	for _, p := range paths {
		b.WriteString("\x00" + p + "\x00")
		var st syscall.Stat_t
		if err := syscall.Stat(p, &st); err != nil {
			b.WriteString("-")
			continue
		}
		for _, n := range []int64{int64(st.Dev), int64(st.Ino), st.Size, st.Mtim.Sec, st.Mtim.Nsec} {
			b.WriteString(strconv.FormatInt(n, 16) + ",")
		}
	}
	sum := sha256.Sum256(b.Bytes())
	return hex.EncodeToString(sum[:12])
}
