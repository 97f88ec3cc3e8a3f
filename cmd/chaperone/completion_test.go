package main

import (
	"context"
	"errors"
	"flag"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// output runs verb with args as chaperone would and returns what it wrote
// to stdout and stderr, and its error. It swaps os.Stdout and os.Stderr:
// no parallel tests.
func output(t *testing.T, verb string, args ...string) (string, error) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stdout, stderr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = f, f
	err = subcommands[verb](context.Background(), args)
	os.Stdout, os.Stderr = stdout, stderr
	out, rerr := os.ReadFile(f.Name())
	if rerr != nil {
		t.Fatal(rerr)
	}
	return string(out), err
}

var (
	// flagLine is a flag in a flag set's defaults ("  -json", "  -n int").
	flagLine = regexp.MustCompile(`(?m)^  -([a-z][a-z0-9-]*)`)
	// flagWord is a flag named in a usage text ("[--json]", "-c CMD").
	flagWord = regexp.MustCompile(`(?:^|[\s\[|(])--?([a-z][a-z0-9-]*)`)
)

// flagsIn are the flags a verb's help names: those of its flag set and
// those its usage mentions, without their dashes.
func flagsIn(help string) []string {
	seen := map[string]bool{}
	for _, re := range []*regexp.Regexp{flagLine, flagWord} {
		for _, m := range re.FindAllStringSubmatch(help, -1) {
			seen[m[1]] = true
		}
	}
	delete(seen, "help")
	return slices.Sorted(maps.Keys(seen))
}

func undashed(flags []string) []string {
	out := make([]string, len(flags))
	for i, f := range flags {
		out[i] = strings.TrimLeft(f, "-")
	}
	slices.Sort(out)
	return out
}

// The completion table says what each verb's --help says: the same
// flags, and commands that exist. A verb added with flags but not added
// to completions fails here, naming them.
func TestCompletionsMatchUsage(t *testing.T) {
	completions := completions()
	for _, verb := range slices.Sorted(maps.Keys(subcommands)) {
		if hiddenVerbs[verb] {
			continue
		}
		c := completions[verb]
		help, err := output(t, verb, "--help")
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%s --help: %v", verb, err)
		}
		if len(c.subs) == 0 {
			if got, want := flagsIn(help), undashed(c.flags); !slices.Equal(got, want) {
				t.Errorf("%s --help names the flags %q; completions has %q", verb, got, want)
			}
			continue
		}
		if len(c.flags) > 0 {
			t.Errorf("%s has commands and flags of its own in completions: flags belong to its commands", verb)
		}
		// Where the verb lists its commands when given a wrong one, they
		// are the ones completed.
		_, err = output(t, verb, "zzzzzzzzzz")
		if _, list, ok := strings.Cut(errString(err), "(want "); ok {
			got := strings.Split(strings.TrimSuffix(list, ")"), ", ")
			if want := slices.Sorted(slices.Values(c.subs)); !slices.Equal(got, want) {
				t.Errorf("%s has the commands %q; completions has %q", verb, got, want)
			}
		}
		if verb == "completion" {
			if got := slices.Sorted(maps.Keys(completionShells())); !slices.Equal(got, slices.Sorted(slices.Values(c.subs))) {
				t.Errorf("completion writes scripts for %q; completions has %q", got, c.subs)
			}
			continue
		}
		for _, sub := range c.subs {
			help, err := output(t, verb, sub, "--help")
			if err != nil && !errors.Is(err, flag.ErrHelp) {
				t.Errorf("%s %s --help: %v", verb, sub, err)
			}
			if !strings.Contains(help, "usage: chaperone "+verb+" "+sub) && !strings.Contains(help, "\n       chaperone "+verb+" "+sub) {
				t.Errorf("%s %s --help does not show its usage:\n%s", verb, sub, help)
			}
			if got, want := flagsIn(help), undashed(completions[verb+" "+sub].flags); !slices.Equal(got, want) {
				t.Errorf("%s %s --help names the flags %q; completions has %q", verb, sub, got, want)
			}
		}
	}
	for key := range completions {
		verb, sub, _ := strings.Cut(key, " ")
		if _, ok := subcommands[verb]; !ok || (sub != "" && !slices.Contains(completions[verb].subs, sub)) {
			t.Errorf("completions has %q, which is no command of chaperone's", key)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// completionScript writes chaperone's completion script for shell to a
// file and returns its path.
func completionScript(t *testing.T, shell string) string {
	t.Helper()
	out, err := output(t, "completion", shell)
	if err != nil {
		t.Fatalf("completion %s: %v\n%s", shell, err, out)
	}
	path := filepath.Join(t.TempDir(), "chaperone."+shell)
	if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// shownVerbs are the verbs a person may type, sorted: those of the verb
// table but the ones other programs start.
func shownVerbs() []string {
	var out []string
	for _, v := range slices.Sorted(maps.Keys(subcommands)) {
		if !hiddenVerbs[v] {
			out = append(out, v)
		}
	}
	return out
}

// The bash script is valid bash, registers itself for chaperone, and
// completes what a person types: run in a real bash, as readline would
// call it (COMP_WORDS, COMP_CWORD).
func TestCompletionBash(t *testing.T) {
	script := completionScript(t, "bash")
	if out, err := exec.Command("bash", "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "proj", "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "proj", "file"), nil, 0o644)
	bin := filepath.Join(dir, "bin") // the programs on PATH: what run -- completes
	os.MkdirAll(bin, 0o755)
	for _, p := range []string{"git", "bash"} {
		os.WriteFile(filepath.Join(bin, p), nil, 0o755)
	}
	cases := []struct {
		line string // the words before the cursor, the last one being completed
		want string
	}{
		{"chaperone ", strings.Join(shownVerbs(), " ")},
		{"chaperone au", "audit"},
		{"chaperone audit ", "list show tail verify replay rerate export"},
		{"chaperone audit re", "replay rerate"},
		{"chaperone audit show --", "--json --help"},
		{"chaperone audit tail -", "-n -f --help"},
		{"chaperone audit show ", ""}, // a session ID: no file names
		{"chaperone sandbox ", "up down status exec"},
		{"chaperone sandbox up -", "--build --help"},
		{"chaperone completion ", "bash zsh fish"},
		{"chaperone help sa", "sandbox"},
		{"chaperone run -- gi", "git"},
		{"chaperone sandbox exec --print -- bas", "bash"},
		{"chaperone -", "--help -h --version"},
		{"chaperone rate --", "--json --no-model --rules --explain --help"},
		{"chaperone shims ", "sub"},
		{"chaperone trust s", "sub"},
		{"chaperone fewshot add --r", "--risk --reason"},
		{"chaperone shell-", ""}, // started by other programs, not offered
		{"chaperone -c ", ""},    // bash's own arguments: file names, from readline
	}
	var b strings.Builder
	b.WriteString("source " + script + "\ncomplete -p chaperone\n")
	b.WriteString(`c() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); COMPREPLY=(); _chaperone; echo "${COMPREPLY[*]}"; }` + "\n")
	for _, tc := range cases {
		words := strings.Split(tc.line, " ")
		for i, w := range words {
			words[i] = shellQuote(w)
		}
		b.WriteString("c " + strings.Join(words, " ") + "\n")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bash, "--norc", "--noprofile", "-c", b.String())
	cmd.Dir = filepath.Join(dir, "proj")
	cmd.Env = append(os.Environ(), "PATH="+bin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(cases)+1 {
		t.Fatalf("bash printed %d lines for %d cases:\n%s", len(lines), len(cases), out)
	}
	if lines[0] != "complete -o default -F _chaperone chaperone" {
		t.Errorf("complete -p chaperone = %q", lines[0])
	}
	for i, tc := range cases {
		if got := lines[i+1]; got != tc.want {
			t.Errorf("%q<TAB> = %q, want %q", tc.line, got, tc.want)
		}
	}
}

// The zsh and fish scripts: parsed by the shell where it is installed
// (and, for fish, asked what it completes); else their text is checked:
// every key of the table has its branch, every verb its description, the
// quotes and blocks are balanced.
func TestCompletionZshFish(t *testing.T) {
	table := completionTable()
	for _, shell := range []string{"zsh", "fish"} {
		t.Run(shell, func(t *testing.T) {
			script := completionScript(t, shell)
			text, _ := os.ReadFile(script)
			s := string(text)
			if path, err := exec.LookPath(shell); err == nil {
				if out, err := exec.Command(path, "-n", script).CombinedOutput(); err != nil {
					t.Errorf("%s -n: %v\n%s", shell, err, out)
				}
				if shell == "fish" {
					out, err := exec.Command(path, "--no-config", "-c", "source "+script+"; complete -C 'chaperone au'; complete -C 'chaperone audit sh'").CombinedOutput()
					if err != nil || !strings.HasPrefix(string(out), "audit\t") || !strings.Contains(string(out), "\nshow") {
						t.Errorf("fish completes %q, %v", out, err)
					}
				}
			} else {
				t.Logf("%s is not installed: checking the script's text only", shell)
			}
			var branch, verb func(c completed) string
			var opens, closes *regexp.Regexp
			unquote := strings.NewReplacer(`\'`, "").Replace
			switch shell {
			case "zsh":
				if !strings.HasPrefix(s, "#compdef chaperone\n") || !strings.Contains(s, "\tcompdef _chaperone chaperone\n") {
					t.Error("zsh script neither declares nor registers its function")
				}
				branch = func(c completed) string { return "\t(" + shellQuote(c.key) + ")\n" }
				verb = func(c completed) string { return "\t\t" + shellQuote(c.key+":"+c.desc) + "\n" }
				opens, closes = regexp.MustCompile(`(?m)^\s*(case|if) `), regexp.MustCompile(`(?m)^\s*(esac|fi)$`)
			case "fish":
				if !strings.Contains(s, "\nfunction __chaperone_key ") || !strings.Contains(s, "\nfunction __chaperone_at ") {
					t.Error("fish script lacks its functions")
				}
				cond := func(key string) string {
					return "complete -c chaperone -n " + fishQuote("__chaperone_at "+fishQuote(key))
				}
				branch = func(c completed) string { return cond(c.key) + " " }
				verb = func(c completed) string {
					return cond("") + " -f -a " + fishQuote(c.key) + " -d " + fishQuote(c.desc) + "\n"
				}
				opens, closes = regexp.MustCompile(`(?m)^\s*(function|if|switch) `), regexp.MustCompile(`(?m)^\s*end$`)
				unquote = strings.NewReplacer(`\\`, "", `\'`, "").Replace
			}
			for _, c := range table {
				if !strings.Contains(s, branch(c)) {
					t.Errorf("no branch for %q: %q", c.key, branch(c))
				}
				if c.key != "" && !strings.Contains(c.key, " ") && (c.desc == "" || !strings.Contains(s, verb(c))) {
					t.Errorf("verb %q is not offered with its description (%q)", c.key, c.desc)
				}
			}
			if o, c := len(opens.FindAllString(s, -1)), len(closes.FindAllString(s, -1)); o != c || o == 0 {
				t.Errorf("%d blocks opened, %d closed", o, c)
			}
			for i, line := range strings.Split(s, "\n") {
				if !strings.HasPrefix(strings.TrimSpace(line), "#") && strings.Count(unquote(line), "'")%2 != 0 {
					t.Errorf("line %d has an open quote: %s", i+1, line)
				}
			}
		})
	}
}
