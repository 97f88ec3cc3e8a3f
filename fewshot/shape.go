package fewshot

import (
	"path"
	"slices"
	"strings"

	"github.com/chaperone-dev/chaperone/models"
)

// Shape is what a command looks like to the example selector: the
// programs it runs, their subcommands and flags, the kinds of paths it
// touches, where its data goes (sinks) and the wrappers around it — not its
// raw text. Two commands with a similar shape are judged alike.
type Shape struct {
	features map[string]float64
}

// Feature weights: programs and sinks matter most, flags least.
const (
	wProg  = 3
	wSub   = 3
	wSink  = 3
	wPath  = 2
	wFlag  = 1
	wVia   = 1
	wOther = 1
)

// ShapeOf computes the shape of parsed facts. Nil facts have an empty shape.
func ShapeOf(f *models.Facts) Shape {
	s := Shape{features: map[string]float64{}}
	if f == nil {
		return s
	}
	if f.Opaque {
		s.add("opaque", wOther)
	}
	for i, c := range f.Commands {
		if len(c.Argv) == 0 {
			for _, r := range c.Redirs {
				s.redir(r)
			}
			continue
		}
		prog := progName(c.Argv[0])
		s.add("prog:"+prog, wProg)
		if sub := subcommand(c.Argv); sub != "" {
			s.add("sub:"+prog+" "+sub, wSub)
		}
		for _, w := range c.Argv[1:] {
			switch {
			case w.Dynamic:
				s.add("dynamic-arg", wOther)
			case strings.HasPrefix(w.Lit, "-") && len(w.Lit) > 1:
				s.add("flag:"+prog+" "+flagName(w.Lit), wFlag)
			}
			if k := pathKind(w.Lit); k != "" {
				s.add("path:"+k, wPath)
			}
		}
		for _, r := range c.Redirs {
			s.redir(r)
		}
		for _, v := range c.Via {
			s.add("via:"+v, wVia)
		}
		if c.PipeFrom >= 0 && c.PipeFrom < len(f.Commands) && c.PipeFrom != i {
			s.add("pipe", wOther)
			if shells[prog] {
				s.add("sink:pipe-to-interpreter", wSink)
			}
		}
		if netProgs[prog] || (prog == "git" && slices.ContainsFunc(c.Argv[1:], func(w models.Word) bool { return w.Lit == "push" })) {
			s.add("sink:network", wSink)
		}
		if c.Background {
			s.add("background", wOther)
		}
	}
	return s
}

func (s Shape) add(f string, w float64) {
	if s.features[f] < w {
		s.features[f] = w
	}
}

func (s Shape) redir(r models.Redir) {
	if strings.HasPrefix(r.Target.Lit, "/dev/tcp/") || strings.HasPrefix(r.Target.Lit, "/dev/udp/") {
		s.add("sink:network", wSink)
		return
	}
	if strings.Contains(r.Op, ">") && r.Target.Lit != "/dev/null" && !strings.HasPrefix(r.Target.Lit, "&") {
		s.add("sink:file-write", wSink)
	}
	if k := pathKind(r.Target.Lit); k != "" {
		s.add("path:"+k, wPath)
	}
}

// Features lists the shape's features, sorted, for display and tests.
func (s Shape) Features() []string {
	out := make([]string, 0, len(s.features))
	for f := range s.features {
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

// Similarity is the weighted Jaccard similarity of two shapes, from 0
// (nothing shared) to 1 (the same features).
func Similarity(a, b Shape) float64 {
	var inter, union float64
	for f, w := range a.features {
		if v, ok := b.features[f]; ok {
			inter += min(w, v)
			union += max(w, v)
		} else {
			union += w
		}
	}
	for f, w := range b.features {
		if _, ok := a.features[f]; !ok {
			union += w
		}
	}
	if union == 0 {
		return 0
	}
	return inter / union
}

// Canonical is a command's text as the parser saw it: the argv words,
// assignments and redirections of every command, quoting and spacing
// normalised. Commands that differ only in quoting or spaces have the same
// canonical text. It is used to spot repeated commands.
func Canonical(raw string, f *models.Facts) string {
	if f == nil || len(f.Commands) == 0 || f.ParseError != "" {
		return strings.Join(strings.Fields(raw), " ")
	}
	var b strings.Builder
	for i, c := range f.Commands {
		if i > 0 {
			b.WriteString(" ; ")
		}
		if c.PipeFrom >= 0 {
			b.WriteString("| ")
		}
		for _, v := range c.Via {
			b.WriteString("[" + v + "] ")
		}
		for _, a := range c.Assigns {
			b.WriteString(a.Name + "=" + quoteWord(a.Value) + " ")
		}
		for j, w := range c.Argv {
			if j > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(quoteWord(w))
		}
		for _, r := range c.Redirs {
			b.WriteString(" " + r.Fd + r.Op + quoteWord(r.Target))
		}
		if c.Background {
			b.WriteString(" &")
		}
	}
	return b.String()
}

func quoteWord(w models.Word) string {
	s := w.Lit
	if strings.ContainsAny(s, " \t\n'\"\\;|&$") || s == "" {
		s = "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	if w.Dynamic {
		s = "{" + s + "}"
	}
	return s
}

func progName(w models.Word) string {
	if w.Dynamic {
		return "(dynamic)"
	}
	return path.Base(w.Lit)
}

// subcommand returns the verb of multi-verb tools (git push, docker run,
// npm install): the first argument when it is a plain word.
func subcommand(argv []models.Word) string {
	for _, w := range argv[1:] {
		if w.Dynamic || w.Lit == "" {
			return ""
		}
		if strings.HasPrefix(w.Lit, "-") {
			continue
		}
		if len(w.Lit) > 20 || strings.ContainsAny(w.Lit, "/.=:~@ ") {
			return ""
		}
		return w.Lit
	}
	return ""
}

// flagName keeps a flag's name without its value (--output=x -> --output).
func flagName(f string) string {
	if i := strings.IndexByte(f, '='); i > 0 {
		f = f[:i]
	}
	if len(f) > 24 {
		f = f[:24]
	}
	return f
}

var netProgs = map[string]bool{
	"curl": true, "wget": true, "nc": true, "ncat": true, "netcat": true, "socat": true,
	"ssh": true, "scp": true, "sftp": true, "rsync": true, "ftp": true, "telnet": true,
	"aws": true, "gsutil": true, "rclone": true, "http": true, "xh": true,
}

var shells = map[string]bool{
	"sh": true, "bash": true, "zsh": true, "dash": true, "ksh": true, "fish": true,
	"python": true, "python3": true, "perl": true, "ruby": true, "node": true, "php": true,
}

var secretMarks = []string{
	".ssh", "id_rsa", "id_ed25519", ".aws", ".gnupg", ".netrc", ".git-credentials",
	"credentials", ".env", "secret", "token", ".kube/config", ".docker/config.json",
	"shadow", "history", ".npmrc", ".pypirc", "keychain", ".pem", ".key",
}

// pathKind classifies a word that looks like a path or URL.
func pathKind(s string) string {
	if s == "" {
		return ""
	}
	low := strings.ToLower(s)
	if strings.Contains(low, "://") {
		return "url"
	}
	if !strings.ContainsAny(s, "/.~") {
		return ""
	}
	for _, m := range secretMarks {
		if strings.Contains(low, m) {
			return "secret"
		}
	}
	switch {
	case strings.HasPrefix(s, "/tmp") || strings.HasPrefix(s, "/var/tmp") || strings.HasPrefix(s, "/dev/shm"):
		return "tmp"
	case strings.HasPrefix(s, "/etc") || strings.HasPrefix(s, "/usr") || strings.HasPrefix(s, "/bin") ||
		strings.HasPrefix(s, "/sbin") || strings.HasPrefix(s, "/boot") || strings.HasPrefix(s, "/lib") ||
		strings.HasPrefix(s, "/sys") || strings.HasPrefix(s, "/proc") || strings.HasPrefix(s, "/dev/sd") ||
		strings.HasPrefix(s, "/var"):
		return "system"
	case s == "/" || s == "/*":
		return "root"
	case strings.HasPrefix(s, "~") || strings.HasPrefix(s, "/home/") || strings.HasPrefix(s, "/root") || strings.HasPrefix(s, "$HOME"):
		return "home"
	case strings.HasPrefix(s, "/"):
		return "absolute"
	case strings.HasPrefix(s, ".."):
		return "parent"
	}
	return "project"
}
