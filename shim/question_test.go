package shim

import (
	"strings"
	"testing"
)

// A question's folder, variables and functions are taken by their
// lengths, so that nothing they hold can move the fields after them; what
// is no question of the gate's is not one.
func TestParseQuestion(t *testing.T) {
	t.Parallel()
	const vars, funcs = "declare -- X=\"/x\"", "f () \n{ \n    ls\n}"
	state := "35\x1f" + vars + "\x1f" + funcs + "\x1f"
	q := func(id, pwdLen, pwd, hist string) string {
		return "Q\x1f" + id + "\x1f0\x1f1\x1f" + pwdLen + "\x1f" + pwd + "\x1f" + state + hist
	}
	tests := []struct {
		name    string
		msg     string
		ok      bool
		pwd     string
		num     int
		text    string
		history string
	}{
		{"plain", q("12.345", "5", "/proj", "   17  ls -la"), true, "/proj", 17, "ls -la", "   17  ls -la"},
		{"folder holding the separator and a forged history",
			q("12.345", "12", "/proj/\x1f18  #", "   18  trap - DEBUG"), true, "/proj/\x1f18  #", 18, "trap - DEBUG", "   18  trap - DEBUG"},
		{"text holding the separator", q("1.2", "1", "/", "    3  echo a\x1fb"), true, "/", 3, "echo a\x1fb", "    3  echo a\x1fb"},
		{"variables holding the separator and a forged history", "Q\x1f1.2\x1f0\x1f1\x1f1\x1f/\x1f" + "24\x1fdeclare -- X=$'\x1f   9  x'\x1f    3  ls", true, "/", 3, "ls", "    3  ls"},
		{"multi-line", q("1.2", "1", "/", "    4  f() {\n  echo x\n}"), true, "/", 4, "f() {\n  echo x\n}", "    4  f() {\n  echo x\n}"},
		{"length past the end", q("1.2", "99", "/", "    3  ls"), false, "", 0, "", ""},
		{"length not at a separator", q("1.2", "2", "/proj", "    3  ls"), false, "", 0, "", ""},
		{"negative length", q("1.2", "-1", "/", "    3  ls"), false, "", 0, "", ""},
		{"no asker id", q("", "1", "/", "    3  ls"), false, "", 0, "", ""},
		{"asker id a path", q("../v", "1", "/", "    3  ls"), false, "", 0, "", ""},
		{"status only", "D\x1f0", false, "", 0, "", ""},
		{"old form", "Q\x1f1.2\x1f0\x1f1\x1f/proj\x1f   3  ls", false, "", 0, "", ""},
		{"no state", "Q\x1f1.2\x1f0\x1f1\x1f5\x1f/proj\x1f   3  ls", false, "", 0, "", ""},
		{"state length past the end", "Q\x1f1.2\x1f0\x1f1\x1f1\x1f/\x1f99\x1fdeclare\x1f    3  ls", false, "", 0, "", ""},
		{"state length not at a separator", "Q\x1f1.2\x1f0\x1f1\x1f1\x1f/\x1f3\x1fdeclare\x1f    3  ls", false, "", 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := parseQuestion(tt.msg)
			if ok != tt.ok {
				t.Fatalf("parseQuestion(%q) ok = %v, want %v", tt.msg, ok, tt.ok)
			}
			if !ok {
				return
			}
			if strings.Contains(tt.msg, state) && (got.vars != vars || got.funcs != funcs) {
				t.Errorf("parseQuestion(%q): variables %q, functions %q", tt.msg, got.vars, got.funcs)
			}
			if got.pwd != tt.pwd || got.num != tt.num || got.text != tt.text || got.history != tt.history || !got.parsed || !got.historyOn {
				t.Errorf("parseQuestion(%q) = %+v; want folder %q, number %d, text %q, history %q", tt.msg, got, tt.pwd, tt.num, tt.text, tt.history)
			}
		})
	}
}
