package audit

import "testing"

func TestMark(t *testing.T) {
	t.Parallel()
	two, zero := 2, 0
	for _, tc := range []struct {
		name   string
		kind   MarkKind
		status *int
		want   string
	}{
		{"prompt start", PromptStart, nil, "\x1b]133;A\a"},
		{"command start", CommandStart, nil, "\x1b]133;B\a"},
		{"output start", OutputStart, nil, "\x1b]133;C\a"},
		{"end with status", CommandEnd, &two, "\x1b]133;D;2\a"},
		{"end with status 0", CommandEnd, &zero, "\x1b]133;D;0\a"},
		{"end, status unknown", CommandEnd, nil, "\x1b]133;D\a"},
		{"status only on the end", PromptStart, &two, "\x1b]133;A\a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Mark(tc.kind, tc.status); got != tc.want {
				t.Errorf("Mark = %q, want %q", got, tc.want)
			}
		})
	}
}
