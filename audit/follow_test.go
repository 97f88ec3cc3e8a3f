package audit

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chaperone-dev/chaperone/models"
)

func TestFollow(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Date(2026, 11, 27, 23, 59, 0, 0, time.UTC)
	l := mustOpen(t, dir, WithClock(func() time.Time { return now }))
	for i := range 3 {
		l.Append(&models.Event{Command: fmt.Sprintf("old %d", i)})
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := Follow(ctx, dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	next := func() models.Event {
		t.Helper()
		select {
		case ev := <-ch:
			return ev
		case <-time.After(5 * time.Second):
			t.Fatal("no event from Follow")
		}
		return models.Event{}
	}
	for _, want := range []string{"old 1", "old 2"} {
		if ev := next(); ev.Command != want {
			t.Fatalf("backlog gave %q, want %q", ev.Command, want)
		}
	}
	start := time.Now()
	l.Append(&models.Event{Command: "new 1"})
	if ev := next(); ev.Command != "new 1" {
		t.Fatalf("got %q, want new 1", ev.Command)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("Follow took %v to see a record: fsnotify did not wake it", d)
	}
	// Across midnight, into a new file.
	now = now.Add(2 * time.Minute)
	l.Append(&models.Event{Command: "new 2"})
	if ev := next(); ev.Command != "new 2" {
		t.Fatalf("got %q, want new 2 from the next day's file", ev.Command)
	}
	cancel()
	for range ch {
	}
}

func TestFollowEmptyDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir() + "/not-yet"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := Follow(ctx, dir, 10)
	if err != nil {
		t.Fatal(err)
	}
	l := mustOpen(t, dir)
	l.Append(&models.Event{Command: "first"})
	select {
	case ev := <-ch:
		if ev.Command != "first" {
			t.Errorf("got %q", ev.Command)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
}
