package audit

import (
	"strings"

	"github.com/chaperone-dev/chaperone/internal/lazyre"

	"github.com/chaperone-dev/chaperone/models"
)

// secretShape is one well-known shape of secret. When group > 0 only that
// submatch is replaced (the value after "password=", say), so the record
// still shows which setting carried the secret.
type secretShape struct {
	name string
	// hints are lowercase substrings, at least one of which must occur in
	// the lowercased text before the regexp is run (a cheap prefilter).
	hints []string
	re    *lazyre.RE
	group int
}

var secretShapes = []secretShape{
	{name: "private-key", hints: []string{"private key"},
		re: lazyre.New(`-----BEGIN[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----(?s:.*?)(-----END[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|\z)`)},
	{name: "aws-access-key", hints: []string{"akia", "asia", "abia", "acca"},
		re: lazyre.New(`\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b`)},
	{name: "github-token", hints: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"},
		re: lazyre.New(`\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b`)},
	{name: "gitlab-token", hints: []string{"gl"},
		re: lazyre.New(`\bgl(?:pat|dt|rt|cbt|ptt|ft|imt|oas|soat|agent)-[A-Za-z0-9_-]{20,}`)},
	{name: "slack-token", hints: []string{"xox", "hooks.slack.com"},
		re: lazyre.New(`\bxox[abposre]-[A-Za-z0-9-]{10,}|https://hooks\.slack\.com/services/[A-Za-z0-9/]+`)},
	{name: "anthropic-key", hints: []string{"sk-ant-"},
		re: lazyre.New(`\bsk-ant-[A-Za-z0-9_-]{20,}`)},
	{name: "openai-key", hints: []string{"sk-"},
		re: lazyre.New(`\bsk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,}`)},
	{name: "stripe-key", hints: []string{"_live_", "_test_"},
		re: lazyre.New(`\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}`)},
	{name: "google-api-key", hints: []string{"aiza"},
		re: lazyre.New(`\bAIza[0-9A-Za-z_-]{35}`)},
	{name: "npm-token", hints: []string{"npm_"},
		re: lazyre.New(`\bnpm_[A-Za-z0-9]{36}\b`)},
	{name: "jwt", hints: []string{"eyj"},
		re: lazyre.New(`\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*`)},
	{name: "authorization", hints: []string{"authorization"},
		re:    lazyre.New(`(?i)\b(?:proxy-)?authorization\s*:\s*(?:(?:bearer|basic|token|bot|digest|negotiate)\s+)?("[^"]*"|'[^']*'|[^\s"']+)`),
		group: 1},
	{name: "api-key-header", hints: []string{"api-key", "auth-token", "private-token"},
		re:    lazyre.New(`(?i)\b(?:x-api-key|api-key|x-auth-token|private-token)\s*:\s*([^\s"']+)`),
		group: 1},
	{name: "url-password", hints: []string{"://"},
		re:    lazyre.New(`\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@'"]+:([^@\s/'"]+)@`),
		group: 1},
	{name: "password", hints: []string{"pass", "secret", "token", "key", "credential"},
		re:    lazyre.New(`(?i)[A-Za-z0-9_.-]*(?:password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?)["']?\s*[=:]\s*("[^"]*"|'[^']*'|[^\s"'&;|,}]+)`),
		group: 1},
	{name: "password", hints: []string{"--pass", "--token", "--secret", "--api-key", "--apikey"},
		re:    lazyre.New(`(?i)--(?:password|passwd|token|secret|api-key|apikey|access-key)\s+("[^"]*"|'[^']*'|[^\s"'-][^\s"']*)`),
		group: 1},
}

// redactedMark is what replaces a secret: [REDACTED:shape].
func redactedMark(name string) string { return "[REDACTED:" + name + "]" }

// Redact returns s with every secret of a well-known shape replaced by
// [REDACTED:shape], and how many it replaced. Shapes: private key blocks,
// AWS access keys, GitHub, GitLab, Slack, OpenAI, Anthropic, Stripe, npm and
// Google API tokens, JWTs, Authorization and API-key headers, the password
// in a URL's user:pass@, and values of password=/token=/secret=/…_KEY=
// settings and --password/--token flags.
func Redact(s string) (string, int) {
	if s == "" {
		return s, 0
	}
	lower := strings.ToLower(s)
	n := 0
	for i := range secretShapes {
		sh := &secretShapes[i]
		if !containsAny(lower, sh.hints) {
			continue
		}
		var k int
		s, k = sh.replace(s)
		if k > 0 {
			n += k
			lower = strings.ToLower(s)
		}
	}
	return s, n
}

func (sh *secretShape) replace(s string) (string, int) {
	locs := sh.re.FindAllStringSubmatchIndex(s, -1)
	if len(locs) == 0 {
		return s, 0
	}
	mark := redactedMark(sh.name)
	var b strings.Builder
	last, n := 0, 0
	for _, loc := range locs {
		start, end := loc[2*sh.group], loc[2*sh.group+1]
		if start < 0 || start < last || strings.Contains(s[loc[0]:loc[1]], "[REDACTED:") {
			continue
		}
		b.WriteString(s[last:start])
		b.WriteString(mark)
		last = end
		n++
	}
	b.WriteString(s[last:])
	return b.String(), n
}

func containsAny(s string, subs []string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}

// redactEvent redacts, in place, every text of ev that can carry a command's
// words: the command, its inner command, the note, the parsed facts, the
// findings and the model's answer. It returns how many secrets it replaced.
func redactEvent(ev *models.Event) int {
	n := 0
	red := func(s *string) {
		var k int
		*s, k = Redact(*s)
		n += k
	}
	red(&ev.Command)
	red(&ev.Inner)
	red(&ev.Note)
	if f := ev.Facts; f != nil {
		// Copy before editing: the caller's Facts may be shared.
		c := *f
		c.Commands = make([]models.Command, len(f.Commands))
		for i, cmd := range f.Commands {
			cmd.Argv = append([]models.Word(nil), cmd.Argv...)
			for j := range cmd.Argv {
				red(&cmd.Argv[j].Lit)
			}
			cmd.Assigns = append([]models.Assign(nil), cmd.Assigns...)
			for j := range cmd.Assigns {
				// An assignment's value is a secret when its name says so,
				// whatever its shape (API_TOKEN=abc).
				a := &cmd.Assigns[j]
				joined, k := Redact(a.Name + "=" + a.Value.Lit)
				if k > 0 {
					n += k
					a.Value.Lit = strings.TrimPrefix(joined, a.Name+"=")
				}
			}
			cmd.Redirs = append([]models.Redir(nil), cmd.Redirs...)
			for j := range cmd.Redirs {
				red(&cmd.Redirs[j].Target.Lit)
			}
			red(&cmd.Span)
			c.Commands[i] = cmd
		}
		c.OpaqueReasons = append([]string(nil), f.OpaqueReasons...)
		for i := range c.OpaqueReasons {
			red(&c.OpaqueReasons[i])
		}
		ev.Facts = &c
	}
	ev.Rating.Findings = append([]models.Finding(nil), ev.Rating.Findings...)
	for i := range ev.Rating.Findings {
		red(&ev.Rating.Findings[i].Span)
		red(&ev.Rating.Findings[i].Reason)
	}
	if ev.Rating.Findings == nil {
		ev.Rating.Findings = []models.Finding{}
	}
	if m := ev.Rating.Model; m != nil {
		c := *m
		red(&c.Reason)
		c.DangerousSpans = append([]string(nil), m.DangerousSpans...)
		for i := range c.DangerousSpans {
			red(&c.DangerousSpans[i])
		}
		ev.Rating.Model = &c
	}
	return n
}

// streamRedactor redacts a stream of output line by line. A private key
// block spans lines, so it remembers when it is inside one.
type streamRedactor struct {
	inKey bool
	n     int
}

var (
	keyBegin = lazyre.New(`-----BEGIN[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----`)
	keyEnd   = lazyre.New(`-----END[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----`)
)

// line redacts one segment of output (a line with its terminator).
func (r *streamRedactor) line(s string) string {
	if r.inKey {
		if loc := keyEnd.FindStringIndex(s); loc != nil {
			r.inKey = false
			return redactedMark("private-key") + r.rest(s[loc[1]:])
		}
		return keepTerminator(s)
	}
	if loc := keyBegin.FindStringIndex(s); loc != nil {
		if end := keyEnd.FindStringIndex(s[loc[1]:]); end == nil {
			r.inKey = true
			r.n++
			return r.rest(s[:loc[0]]) + redactedMark("private-key") + keepTerminator(s[loc[1]:])
		}
	}
	return r.rest(s)
}

func (r *streamRedactor) rest(s string) string {
	out, k := Redact(s)
	r.n += k
	return out
}

// keepTerminator returns only the line ending of s, so a redacted key
// block still takes up its lines on a replayed terminal.
func keepTerminator(s string) string {
	t := len(s)
	for t > 0 && (s[t-1] == '\n' || s[t-1] == '\r') {
		t--
	}
	return s[t:]
}
