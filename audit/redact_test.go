package audit

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaperone-dev/chaperone/models"
)

// Fake secrets of real shapes, built by concatenation so that scanners do
// not mistake this file for a leak.
var (
	awsKey    = "AKIA" + "IOSFODNN7EXAMPLE"
	ghToken   = "ghp_" + strings.Repeat("a1B2", 9)
	ghPAT     = "github_pat_" + "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ"
	glToken   = "glpat-" + "xxxxYYYYzzzz01234567"
	slackTok  = "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
	openaiKey = "sk-proj-" + "abcdefghijklmnopqrstuvwxyz0123456789ABCD"
	antKey    = "sk-ant-api03-" + "abcdefghijklmnopqrstuvwxyz0123456789-_ABCD"
	jwt       = "eyJhbGciOiJIUzI1NiJ9" + ".eyJzdWIiOiIxMjM0NTY3ODkwIn0" + ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
	pemKey    = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\nAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		secret  string // must not survive
		keep    string // must survive (context around the secret)
		mark    string
		noMatch bool
	}{
		{in: "aws s3 ls --profile x # " + awsKey, secret: awsKey, keep: "aws s3 ls", mark: "aws-access-key"},
		{in: "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY aws s3 ls", secret: "wJalrXUtnFEMI", keep: "AWS_SECRET_ACCESS_KEY=", mark: "password"},
		{in: "git clone https://" + ghToken + "@github.com/o/r", secret: ghToken, keep: "github.com/o/r", mark: "github-token"},
		{in: "GH_TOKEN=" + ghPAT + " gh pr list", secret: ghPAT, keep: "gh pr list"},
		{in: "curl -H 'PRIVATE-TOKEN: " + glToken + "' https://gitlab.com/api/v4/projects", secret: glToken, keep: "gitlab.com/api"},
		{in: "curl -d token=" + slackTok + " https://slack.com/api/chat.postMessage", secret: slackTok, keep: "slack.com/api"},
		{in: "export OPENAI_API_KEY=" + openaiKey, secret: openaiKey, keep: "export OPENAI_API_KEY="},
		{in: "echo " + openaiKey + " | pbcopy", secret: openaiKey, keep: "| pbcopy", mark: "openai-key"},
		{in: "echo " + antKey, secret: antKey, keep: "echo ", mark: "anthropic-key"},
		{in: "curl -H 'Authorization: Bearer " + jwt + "' https://api.example.com", secret: jwt, keep: "Authorization: Bearer"},
		{in: "curl -H 'Authorization: Basic dXNlcjpodW50ZXIy' https://x", secret: "dXNlcjpodW50ZXIy", keep: "Authorization: Basic", mark: "authorization"},
		{in: "curl -H \"X-Api-Key: abcdef123456\" https://x", secret: "abcdef123456", keep: "X-Api-Key:"},
		{in: "cat > id <<EOF\n" + pemKey + "\nEOF", secret: "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ", keep: "cat > id", mark: "private-key"},
		{in: "mysql -u root --password=hunter22 db", secret: "hunter22", keep: "--password=", mark: "password"},
		{in: "mysql -u root --password hunter22 db", secret: "hunter22", keep: "--password ", mark: "password"},
		{in: `{"password": "hunter22", "user": "bob"}`, secret: "hunter22", keep: `"user": "bob"`},
		{in: "psql postgres://bob:hunter22@db.internal:5432/app", secret: "hunter22", keep: "postgres://bob:", mark: "url-password"},
		{in: "git push https://oauth2:s3cr3tvalue@gitlab.com/x.git", secret: "s3cr3tvalue", keep: "@gitlab.com/x.git"},
		{in: "curl " + "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXX", secret: "XXXXXXXXXXXXXXXX", keep: "curl "},
		// Ordinary commands stay as they are.
		{in: "git log --format=%an -n 5", noMatch: true},
		{in: "ls -la ~/.ssh && cat README.md | grep -n token_count", noMatch: true},
		{in: "npm install --save-dev typescript", noMatch: true},
		{in: "curl https://example.com/path?q=1", noMatch: true},
		{in: "grep -rn 'max_tokens' src/", noMatch: true},
	}
	for _, tt := range tests {
		got, n := Redact(tt.in)
		if tt.noMatch {
			if n != 0 || got != tt.in {
				t.Errorf("Redact(%q) = %q, %d; want unchanged", tt.in, got, n)
			}
			continue
		}
		if n == 0 || strings.Contains(got, tt.secret) || !strings.Contains(got, tt.keep) {
			t.Errorf("Redact(%q) = %q, %d; want %q gone and %q kept", tt.in, got, n, tt.secret, tt.keep)
		}
		if tt.mark != "" && !strings.Contains(got, "[REDACTED:"+tt.mark+"]") {
			t.Errorf("Redact(%q) = %q; want mark %s", tt.in, got, tt.mark)
		}
	}
}

// TestAppendRedacts checks that no secret reaches the disk through any
// field of a record.
func TestAppendRedacts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l := mustOpen(t, dir)
	cmd := "curl -H 'Authorization: Bearer " + jwt + "' -d key=" + ghToken + " https://x"
	ev := realisticEvent(0)
	ev.Command, ev.Inner = cmd, cmd
	ev.Note = "denied, it leaks " + awsKey
	ev.Facts = &models.Facts{Commands: []models.Command{{
		Argv:    []models.Word{{Lit: "curl"}, {Lit: "-H"}, {Lit: "Authorization: Bearer " + jwt}, {Lit: ghToken}},
		Assigns: []models.Assign{{Name: "API_TOKEN", Value: models.Word{Lit: "plainvalue123"}}},
		Span:    cmd,
	}}}
	ev.Rating.Findings = []models.Finding{{Rule: "net.upload", Risk: models.High, Reason: "sends a token", Span: ghToken}}
	ev.Rating.Model = &models.ModelAnswer{Model: "m", Reason: "posts " + awsKey, DangerousSpans: []string{ghToken}}
	orig := ev.Facts
	if err := l.Append(ev); err != nil {
		t.Fatal(err)
	}
	files, _ := logFiles(dir)
	data, _ := os.ReadFile(filepath.Join(dir, files[0]))
	for _, s := range []string{jwt, ghToken, awsKey, "plainvalue123"} {
		if strings.Contains(string(data), s) {
			t.Errorf("secret %.12s… written to the log", s)
		}
	}
	if !strings.Contains(string(data), `"API_TOKEN"`) || !json.Valid([]byte(strings.Split(string(data), "\n")[1])) {
		t.Errorf("record lost its shape: %s", data)
	}
	if ev.Redactions < 8 {
		t.Errorf("Redactions = %d, want at least 8", ev.Redactions)
	}
	if orig.Commands[0].Argv[3].Lit != ghToken {
		t.Error("Append changed the caller's Facts in place")
	}
}

func TestStreamRedactsAcrossWrites(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l := mustOpen(t, dir)
	ev := &models.Event{Session: "s"}
	rec, err := l.NewRecorder(ev)
	if err != nil {
		t.Fatal(err)
	}
	// A key split over several writes, and a private key block over lines.
	for _, part := range []string{"token: " + ghToken[:10], ghToken[10:] + "\n", "key:\n", pemKey[:40], pemKey[40:] + "\nafter\n"} {
		rec.Write([]byte(part))
	}
	out, err := rec.Close()
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, out.Path))
	for _, s := range []string{ghToken, "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ", "AAAAMwAAAAtzc2gtZW"} {
		if strings.Contains(string(data), s) {
			t.Errorf("secret %.12s… in the recorded output:\n%s", s, data)
		}
	}
	c, err := ReadCast(filepath.Join(dir, out.Path))
	if err != nil {
		t.Fatal(err)
	}
	if txt := c.Text(); !strings.Contains(txt, "after\r\n") || !strings.Contains(txt, "[REDACTED:private-key]") {
		t.Errorf("cast text %q", txt)
	}
}
