package rater

import (
	"context"
	"io"
	"strings"
	"testing"
)

// typical is a typical agent command: a build and test with a filter.
const typical = `cd /home/dev/proj && go test ./... 2>&1 | grep -v '^ok' | head -50`

func BenchmarkRateTypical(b *testing.B) {
	r := New()
	req := testReq(typical)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		r.Rate(ctx, req)
	}
}

func BenchmarkRateClaudeWrapper(b *testing.B) {
	r := New()
	req := testReq(`source /home/dev/.claude/shell-snapshots/snapshot-bash-1-2.sh 2>/dev/null || true && \builtin shopt -u extglob 2>/dev/null || true && eval 'git status && git diff --stat' < /dev/null && pwd -P >| /tmp/claude-ab12-cwd`)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		r.Rate(ctx, req)
	}
}

// BenchmarkRateStream measures `chaperone rate --json` without the
// process: commands per second through RateStream.
func BenchmarkRateStream(b *testing.B) {
	lines := strings.Repeat(strings.Join(ordinary, "\n")+"\n", 10)
	n := strings.Count(lines, "\n")
	r := New()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := r.RateStream(ctx, strings.NewReader(lines), io.Discard, Request{}, FormatJSON); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "cmds/s")
}
