package rater

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/models"
)

// FuzzRate: no panic, no hang, and an opaque or unparseable command is
// never rated low.
func FuzzRate(f *testing.F) {
	for _, tc := range ruleCases {
		for _, c := range tc.catch {
			f.Add(c)
		}
		for _, c := range tc.not {
			f.Add(c)
		}
	}
	for _, c := range ordinary {
		f.Add(c)
	}
	f.Add("$(echo rm) -rf /")
	f.Add("eval \"$(echo ZWNobw== | base64 -d)\"")
	f.Add("ba$'\\x73'h -c 'id'")
	r := New()
	f.Fuzz(func(t *testing.T, cmd string) {
		// A hang never returns, so a watchdog crashes the worker and the
		// fuzzer keeps the input.
		watchdog := time.AfterFunc(5*time.Second, func() { panic(fmt.Sprintf("Rate hangs on %q", cmd)) })
		defer watchdog.Stop()
		start := time.Now()
		got, facts := r.Rate(context.Background(), testReq(cmd))
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("rating took %s", d)
		}
		if facts == nil {
			t.Fatal("nil facts")
		}
		if (facts.Opaque || facts.ParseError != "" || got.Opaque) && got.Risk == models.Low {
			t.Fatalf("opaque command rated low: %q %v", cmd, facts.OpaqueReasons)
		}
		if facts.ParseError != "" && got.Risk != models.High {
			t.Fatalf("unparseable command rated %s", got.Risk)
		}
		if got.Risk == models.RiskUnknown {
			t.Fatal("risk unknown")
		}
	})
}
