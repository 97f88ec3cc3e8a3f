package catalog

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestNamesOnce: a program name belongs to one entry, or Lookup would
// depend on the order of the entries.
func TestNamesOnce(t *testing.T) {
	seen := map[string]string{}
	for _, e := range Entries() {
		if len(e.Names) == 0 {
			t.Errorf("an entry without names: %q", e.Desc)
			continue
		}
		for _, n := range e.Names {
			if n == "" || strings.ContainsAny(n, "/ \t") {
				t.Errorf("%s: name %q is not a program name", e.Name(), n)
			}
			if prev, ok := seen[n]; ok {
				t.Errorf("%q is in %s and in %s", n, prev, e.Name())
			}
			seen[n] = e.Name()
		}
	}
	if Names() != len(seen) {
		t.Errorf("Names() = %d, entries hold %d", Names(), len(seen))
	}
}

// TestEntries: every entry is described, a checked entry has effects, and
// its examples carry a command and a risk.
func TestEntries(t *testing.T) {
	for _, e := range Entries() {
		if e.Desc == "" {
			t.Errorf("%s: no description", e.Name())
		}
		if e.Check != "" && e.Effects == 0 {
			t.Errorf("%s: checked by %q but has no effects", e.Name(), e.Check)
		}
		if e.Effects&^(lastEffect<<1-1) != 0 {
			t.Errorf("%s: unknown effect bits in %v", e.Name(), e.Effects)
		}
		for _, x := range append(append([]Example{}, e.Catch...), e.Alike...) {
			if strings.TrimSpace(x.Cmd) == "" || x.Risk == 0 {
				t.Errorf("%s: example %+v lacks a command or a risk", e.Name(), x)
			}
		}
		for _, o := range e.Options {
			if len(o.Names) == 0 {
				t.Errorf("%s: option %+v has no name", e.Name(), o)
			}
			if o.Does != 0 && (o.Kind != Path || o.Does&^objectEffects != 0) {
				t.Errorf("%s: option %v does %v to a %v; only a path's object can be sent, written, deleted, run or served", e.Name(), o.Names, o.Does, o.Kind)
			}
		}
		checkArgs(t, e.Name(), e.Args, e.ArgsDo)
		for _, s := range e.Subs {
			if len(s.Names) == 0 || s.Effects == 0 {
				t.Errorf("%s: subcommand %+v lacks a name or effects", e.Name(), s)
			}
			checkArgs(t, e.Name()+" "+s.Names[0], s.Args, s.ArgsDo)
		}
	}
}

// objectEffects are what a program can do to a file its words name.
const objectEffects = Sends | Writes | Deletes | ExecFile | Serves

// checkArgs: what an entry does to its arguments is one of
// objectEffects, and there is a Path argument for it to be done to.
func checkArgs(t *testing.T, name string, args []Kind, does Effect) {
	t.Helper()
	if does == 0 {
		return
	}
	if does&^objectEffects != 0 {
		t.Errorf("%s: ArgsDo %v is not something done to a file", name, does)
	}
	if !slices.Contains(args, Path) {
		t.Errorf("%s: ArgsDo %v but no Path argument in %v", name, does, args)
	}
}

func TestLookup(t *testing.T) {
	for _, tc := range []struct {
		name, want string
	}{{"curl", "curl"}, {"wget2", "wget"}, {"doas", "sudo"}, {"ls", "ls"}, {"frobnicate", ""}, {"", ""}, {"/usr/bin/curl", ""}} {
		e := Lookup(tc.name)
		got := ""
		if e != nil {
			got = e.Names[0]
			if got != tc.want && !containsName(e, tc.want) {
				t.Errorf("Lookup(%q) = entry %s, want %s", tc.name, got, tc.want)
			}
			continue
		}
		if tc.want != "" {
			t.Errorf("Lookup(%q) = nil, want %s", tc.name, tc.want)
		}
	}
}

func containsName(e *Entry, n string) bool {
	for _, x := range e.Names {
		if x == n {
			return true
		}
	}
	return false
}

func TestEffectText(t *testing.T) {
	for _, e := range []Effect{0, Reads, Sends | Fetches, Reads | Writes | Deletes | ExecArg | System, lastEffect<<1 - 1} {
		b, err := e.MarshalText()
		if err != nil {
			t.Fatalf("%v: %v", uint32(e), err)
		}
		var back Effect
		if err := back.UnmarshalText(b); err != nil || back != e {
			t.Errorf("%q: back %v, %v; want %v", b, back, err, e)
		}
	}
	if got := (Sends | Reads).String(); got != "reads|sends" {
		t.Errorf("String = %q", got)
	}
	if _, err := (lastEffect << 1).MarshalText(); err == nil {
		t.Error("an unknown bit marshalled")
	}
	if _, err := ParseEffect("reads|teleports"); err == nil {
		t.Error("an unknown name parsed")
	}
	if e, err := ParseEffect("sends, fetches"); err != nil || e != Sends|Fetches {
		t.Errorf("comma list: %v %v", e, err)
	}
}

func TestKindText(t *testing.T) {
	for k := Plain; k <= Command; k++ {
		b, err := k.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Kind
		if err := back.UnmarshalText(b); err != nil || back != k {
			t.Errorf("%q: %v %v", b, back, err)
		}
	}
	var k Kind
	if err := k.UnmarshalText([]byte("socket")); err == nil {
		t.Error("an unknown kind parsed")
	}
}

// TestDeps: the catalogue is data; it imports models and the standard
// library only.
func TestDeps(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go tool not on PATH")
	}
	out, err := exec.Command("go", "list", "-mod=mod", "-deps", "github.com/chaperone-dev/chaperone/catalog").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, ".") && !strings.HasPrefix(dep, "github.com/chaperone-dev/chaperone/") {
			t.Errorf("catalog depends on %s", dep)
		}
		if strings.HasPrefix(dep, "github.com/chaperone-dev/chaperone/") && dep != "github.com/chaperone-dev/chaperone/catalog" && dep != "github.com/chaperone-dev/chaperone/models" {
			t.Errorf("catalog depends on %s", dep)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	names := []string{"ls", "git", "curl", "frobnicate", "python3", "npm"}
	for i := 0; b.Loop(); i++ {
		_ = Lookup(names[i%len(names)])
	}
}

func BenchmarkIndex(b *testing.B) {
	for b.Loop() {
		_ = index(lists[:]...)
	}
}
