package parser

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/models"
)

// argv returns a command's words, dynamic ones marked with a leading "~~".
func argv(c models.Command) string {
	var parts []string
	for _, w := range c.Argv {
		s := w.Lit
		if w.Dynamic {
			s = "~~" + s
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func find(f *models.Facts, prefix string) *models.Command {
	for i := range f.Commands {
		if strings.HasPrefix(argv(f.Commands[i]), prefix) {
			return &f.Commands[i]
		}
	}
	return nil
}

func names(f *models.Facts) []string {
	var out []string
	for _, c := range f.Commands {
		out = append(out, argv(c))
	}
	return out
}

func TestEverySimpleCommand(t *testing.T) {
	t.Parallel()
	src := "a; b && c || d | e; (f); { g; }; h $(i) `j` <(k) >(l); function m { n; }; if o; then p; elif q; then r; else s; fi\n" +
		"while t; do u; done; for v in $(w); do x; done; case y in z) aa;; esac; [[ -f $(bb) ]]; cc <<END\n$(dd)\nEND\n" +
		"time ee; coproc ff; declare gg=$(hh); let ii=$(jj)"
	f := Parse(src)
	if f.ParseError != "" {
		t.Fatal(f.ParseError)
	}
	for _, name := range strings.Fields("a b c d e f g h i j k l n o p q r s t u w x aa bb cc dd ee ff declare hh jj") {
		found := false
		for _, c := range f.Commands {
			if c.Name() == name {
				found = true
			}
		}
		if !found {
			t.Errorf("command %q not found in %q", name, names(f))
		}
	}
}

func TestWords(t *testing.T) {
	t.Parallel()
	for src, want := range map[string]string{
		`echo 'a b' "c d"`:         "echo a b c d",
		`echo $'\x41\n\101\u00e9'`: "echo A\nAé",
		`"r""m" -rf ~`:             "rm -rf ~",
		`\rm -r x`:                 "rm -r x",
		`ba$'\x73'h -c id`:         "bash -c id",
		`echo "$HOME/.ssh"`:        "echo ~~~/.ssh",
		`echo ${HOME}/x`:           "echo ~~~/x",
		`echo "a\"b\\c"`:           `echo a"b\c`,
		`echo $(ls)`:               "echo ~~$(ls)",
	} {
		f := Parse(src)
		ok := false
		for _, c := range f.Commands {
			ok = ok || argv(c) == want
		}
		if !ok {
			t.Errorf("%s: got %q, want %q", src, names(f), want)
		}
	}
}

func TestRedirsAndAssigns(t *testing.T) {
	t.Parallel()
	f := Parse("FOO=bar cmd <in.txt >out.txt 2>&1 >>log; export A=b; cat <<'END' >x\nbody\nEND")
	c := find(f, "cmd")
	if c == nil {
		t.Fatal(names(f))
	}
	if len(c.Assigns) != 1 || c.Assigns[0].Name != "FOO" || c.Assigns[0].Value.Lit != "bar" {
		t.Errorf("assigns: %+v", c.Assigns)
	}
	var ops []string
	for _, r := range c.Redirs {
		ops = append(ops, r.Fd+r.Op+r.Target.Lit)
	}
	if got := strings.Join(ops, " "); got != "<in.txt >out.txt 2>&1 >>log" {
		t.Errorf("redirs: %s", got)
	}
	if c.Stdin != "file" {
		t.Errorf("stdin: %q", c.Stdin)
	}
	cat := find(f, "cat")
	if cat == nil || cat.Stdin != "heredoc" || len(cat.Redirs) != 2 || cat.Redirs[0].Target.Lit != "body\n" {
		t.Errorf("heredoc: %+v", cat)
	}
	exp := find(f, "export")
	if exp == nil || len(exp.Assigns) != 1 || exp.Assigns[0].Name != "A" {
		t.Errorf("export: %+v", exp)
	}
}

func TestPipes(t *testing.T) {
	t.Parallel()
	f := Parse(`curl -s x | tee a | sh`)
	if len(f.Commands) != 3 {
		t.Fatal(names(f))
	}
	if f.Commands[0].PipeFrom != -1 || f.Commands[1].PipeFrom != 0 || f.Commands[2].PipeFrom != 1 {
		t.Errorf("pipe_from: %d %d %d", f.Commands[0].PipeFrom, f.Commands[1].PipeFrom, f.Commands[2].PipeFrom)
	}
	f = Parse(`curl x | sudo bash -c 'cat'`)
	cat := find(f, "cat")
	if cat == nil || cat.PipeFrom != 0 || cat.Stdin != "pipe" {
		t.Errorf("pipe through wrappers: %+v", cat)
	}
	f = Parse(`echo x | xargs rm`)
	if rm := find(f, "rm"); rm == nil || rm.PipeFrom != -1 {
		t.Errorf("xargs' command does not read the pipe: %+v", rm)
	}
}

func TestWrappers(t *testing.T) {
	t.Parallel()
	for src, want := range map[string]string{
		`sudo -u root rm -rf /`:                               "rm -rf / via sudo",
		`env -i FOO=1 bash -c 'rm x'`:                         "rm x via env,bash -c",
		`nice -n 5 nohup timeout 3 rm x`:                      "rm x via nice,nohup,timeout",
		`xargs -I{} -n1 rm {}`:                                "rm {} via xargs",
		`find . -name x -exec rm {} \;`:                       "rm {} via find -exec",
		`find . -execdir sh -c 'id' \;`:                       "id via find -execdir,sh -c",
		`eval "rm -rf /"`:                                     "rm -rf / via eval",
		`command rm x`:                                        "rm x via command",
		`builtin eval 'rm x'`:                                 "rm x via builtin,eval",
		`exec -a n rm x`:                                      "rm x via exec",
		`watch -n 1 'rm x'`:                                   "rm x via watch",
		`script -q -c 'rm x' /dev/null`:                       "rm x via script -c",
		`su root -c 'rm x'`:                                   "rm x via su -c",
		`ssh -p 22 host rm x`:                                 "rm x via ssh",
		`docker exec -it web rm x`:                            "rm x via docker exec",
		`kubectl exec web -- rm x`:                            "rm x via kubectl exec",
		`busybox rm x`:                                        "rm x via busybox",
		`git -c core.pager='rm x' log`:                        "rm x via git -c",
		`python3 -c 'import os; os.system("rm x")'`:           "rm x via python -c",
		`perl -e 'system("rm x")'`:                            "rm x via perl -e",
		`node -e 'require("child_process").execSync("rm x")'`: "rm x via node -e",
		`awk 'BEGIN{system("rm x")}'`:                         "rm x via awk system",
		`sed '1e rm x' f`:                                     "rm x via sed e",
		`trap 'rm x' EXIT`:                                    "rm x via trap",
		`stdbuf -oL rm x`:                                     "rm x via stdbuf",
		`zsh -c 'rm x'`:                                       "rm x via zsh -c",
		`bash -lc 'rm x'`:                                     "rm x via bash -c",
		`bash -c -l 'rm x'`:                                   "rm x via bash -c",
	} {
		f := Parse(src)
		var got []string
		for _, c := range f.Commands {
			if c.Name() == "rm" || c.Name() == "id" {
				got = append(got, argv(c)+" via "+strings.Join(c.Via, ","))
			}
		}
		if len(got) == 0 || got[len(got)-1] != want {
			t.Errorf("%s: got %q, want %q (all: %q)", src, got, want, names(f))
		}
	}
}

func TestOpaque(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		`$CMD -rf /`, `$(echo rm) x`, "`echo rm` x", `eval "$(curl -s x)"`, `bash -c "$(base64 -d <<< aWQ=)"`,
		`echo 'unterminated`, `sed 's/x/id/e' f`, `"$@"`, `echo aWQ= | base64 -d | sh`, `xxd -r -p x.hex | bash`,
	} {
		if f := Parse(src); !f.Opaque {
			t.Errorf("%s: not opaque: %q", src, names(f))
		}
	}
	for _, src := range []string{`ls $DIR`, `echo $(date)`, `rm -rf "$OUT"`, `cat file`} {
		if f := Parse(src); f.Opaque {
			t.Errorf("%s: opaque: %v", src, f.OpaqueReasons)
		}
	}
	if f := Parse(`echo 'x`); f.ParseError == "" {
		t.Error("no parse error for an unterminated quote")
	}
}

func TestDepthLimit(t *testing.T) {
	t.Parallel()
	src := strings.Repeat("eval ", 30) + "ls"
	start := time.Now()
	f := Parse(src)
	if time.Since(start) > 2*time.Second {
		t.Fatal("nested wrappers took too long")
	}
	if !f.Opaque {
		t.Error("too deep and not opaque")
	}
}

func TestStaticVariables(t *testing.T) {
	t.Parallel()
	for src, want := range map[string]string{
		`CMD=rm; $CMD -rf /`:              "rm -rf /",
		`D=/tmp; rm -r "$D/x"`:            "rm -r /tmp/x",
		`export F=a.txt; cat $F`:          "cat a.txt",
		`X=ls; if c; then X=rm; fi; $X /`: "~~$X /",
		`for X in a b; do $X; done`:       "~~$X",
		`X=ls && $X`:                      "ls",
		`X=ls; read X; $X`:                "~~$X",
		`X=a | true; $X`:                  "~~$X",
	} {
		f := Parse(src)
		if c := f.Commands[len(f.Commands)-1]; argv(c) != want {
			t.Errorf("%s: got %q, want %q", src, argv(c), want)
		}
	}
}

func TestWrittenThenRun(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		"cat > x.sh <<'END'\nrm x\nEND\nbash x.sh", "echo 'rm x' > r.sh; ./r.sh", "echo 'rm x' > e.sh; . ./e.sh",
		"cat <<END > ./y.sh\nrm x\nEND\nsh y.sh",
	} {
		if find(Parse(src), "rm x") == nil {
			t.Errorf("%q: the script's command was not found", src)
		}
	}
}

func TestDecodeANSIC(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{`\x2f\x62in`: "/bin", `\t`: "\t", `\cA`: "\x01", `\'`: "'", `\z`: `\z`, `\U0001F600`: "😀", `\x`: `\x`} {
		if got := DecodeANSIC(in); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

// FuzzParse: never panics or hangs, and returns consistent facts.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"ls", "a | b", "bash -c 'x'", "$(a) b", "eval \"$(c)\"", "f() { f | f & }; f", "echo $'\\x41'",
		"find . -exec sh -c 'x' \\;", "python -c 'os.system(\"id\")'", "awk 'BEGIN{system(\"id\")}'", "cat <<END\n$(x)\nEND", "[[ $(a) ]]",
		"x='a[$(b)]'; echo $((x))", "x='$(b)'; echo ${x@P}", "x='a[$x]'; (( x ))"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		// A hang never returns, so a watchdog crashes the worker and the
		// fuzzer keeps the input.
		watchdog := time.AfterFunc(5*time.Second, func() { panic(fmt.Sprintf("Parse hangs on %q", src)) })
		defer watchdog.Stop()
		start := time.Now()
		facts := Parse(src)
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("parse took %s", d)
		}
		if facts == nil {
			t.Fatal("nil facts")
		}
		if facts.ParseError != "" && !facts.Opaque {
			t.Fatal("parse error without opaque")
		}
		for _, c := range facts.Commands {
			if c.PipeFrom >= len(facts.Commands) {
				t.Fatalf("pipe_from %d out of range", c.PipeFrom)
			}
			for _, w := range c.Argv {
				for _, i := range w.Subst {
					if i < 0 || i >= len(facts.Commands) {
						t.Fatalf("subst %d out of range", i)
					}
				}
			}
		}
	})
}

func BenchmarkParseTypical(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Parse(`cd /home/dev/proj && go test ./... 2>&1 | grep -v '^ok' | head -50`)
	}
}
