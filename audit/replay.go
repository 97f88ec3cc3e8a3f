package audit

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/chaperone-dev/chaperone/models"
)

// ReplayOptions controls the pace of Replay.
type ReplayOptions struct {
	// Speed divides every pause: 2 plays twice as fast. 0 means 1.
	Speed float64
	// NoWait plays everything at once, without pauses.
	NoWait bool
	// MaxIdle caps any single pause (before Speed); 0 means 2 seconds.
	MaxIdle time.Duration
}

// typingDelay is the pause between typed characters of a command.
const typingDelay = 25 * time.Millisecond

// Replay plays evs back on w the way the session went: each command typed
// at a prompt, what chaperone decided and why, then its recorded output
// with the original timing. Pauses between commands are the real ones,
// capped by MaxIdle. It stops early when ctx is done.
func Replay(ctx context.Context, w io.Writer, dir string, evs []models.Event, opt ReplayOptions) error {
	if opt.Speed <= 0 {
		opt.Speed = 1
	}
	if opt.MaxIdle <= 0 {
		opt.MaxIdle = 2 * time.Second
	}
	pause := func(d time.Duration) error {
		if opt.NoWait || d <= 0 {
			return ctx.Err()
		}
		d = time.Duration(float64(min(d, opt.MaxIdle)) / opt.Speed)
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return nil
		}
	}
	var prevEnd time.Time
	for _, ev := range evs {
		if !prevEnd.IsZero() {
			if err := pause(ev.Time.Sub(prevEnd)); err != nil {
				return err
			}
		}
		prevEnd = ev.Time.Add(time.Duration(ev.Duration * float64(time.Millisecond)))
		cmd := cmp.Or(ev.Inner, ev.Command)
		fmt.Fprint(w, "$ ")
		delay := typingDelay
		if n := len(cmd); n > 0 && time.Duration(n)*delay > time.Second {
			delay = time.Second / time.Duration(n)
		}
		for _, r := range cmd {
			fmt.Fprint(w, string(r))
			if err := pause(delay); err != nil {
				return err
			}
		}
		fmt.Fprint(w, "\r\n")
		fmt.Fprint(w, DecisionLine(ev), "\r\n")
		if path := OutputPath(dir, ev); path != "" {
			c, err := ReadCast(path)
			if err != nil {
				fmt.Fprintf(w, "[chaperone: output not available: %v]\r\n", err)
			} else {
				last := 0.0
				for _, e := range c.Events {
					if e.Type != "o" {
						continue
					}
					if err := pause(time.Duration((e.Time - last) * float64(time.Second))); err != nil {
						return err
					}
					last = e.Time
					io.WriteString(w, e.Data)
				}
			}
		}
		if ev.Exit != nil && *ev.Exit != 0 {
			fmt.Fprintf(w, "[exit %d]\r\n", *ev.Exit)
		}
	}
	return nil
}

// DecisionLine describes in one line what chaperone decided about ev and
// why: "[chaperone] high: denied by person (rm.recursive: deletes the home directory)".
func DecisionLine(ev models.Event) string {
	if UserCommand(ev) {
		return "[chaperone] the user's own command (sandbox exec): run without rating"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[chaperone] %s: %s", ev.Rating.Risk.Effective(), ev.Decision)
	if ev.DecidedBy != "" {
		fmt.Fprintf(&b, " by %s", ev.DecidedBy)
	}
	var why []string
	for _, f := range ev.Rating.Findings {
		if f.Risk >= models.Medium {
			why = append(why, f.Rule+": "+f.Reason)
		}
	}
	if m := ev.Rating.Model; m != nil && m.Reason != "" {
		why = append(why, m.Model+": "+m.Reason)
	}
	if len(why) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(why, "; "))
	}
	if ev.Note != "" {
		fmt.Fprintf(&b, " note: %s", ev.Note)
	}
	return b.String()
}

// FilesSummary is the files a record touched, one word each: "+created",
// "~modified", "-removed", then how many were left out and why the list
// may be incomplete; "" when there is nothing to say.
func FilesSummary(ev models.Event) string {
	var fl []string
	for _, f := range ev.Files {
		sign := map[string]string{"created": "+", "modified": "~", "removed": "-"}[f.Op]
		fl = append(fl, sign+f.Path)
	}
	if ev.FilesDropped > 0 {
		fl = append(fl, fmt.Sprintf("(+%d more)", ev.FilesDropped))
	}
	if ev.FilesNote != "" {
		fl = append(fl, "("+ev.FilesNote+")")
	}
	return strings.Join(fl, " ")
}
