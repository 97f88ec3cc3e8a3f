package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/chaperone-dev/chaperone/audit"
	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/engine"
	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/netproxy"
	"github.com/chaperone-dev/chaperone/rater"
)

const auditUsage = `usage: chaperone audit COMMAND [flags]

The audit log: every command an agent ran through chaperone.

  list                          sessions with their time span, agent, project and counts
  show [SESSION] [--json]       a session's records (the latest session by default)
  tail [-n N] [-f]              the last records; -f follows as commands arrive
  verify                        check the hash chain; exit 1 naming the first broken record
  replay [SESSION] [--speed N] [--no-wait] [--cast]
                                play a session back: commands, decisions, output;
                                --cast writes it to stdout as one asciicast v2 file
  rerate [SESSION] [--all]      rate the recorded commands again with the current rules
                                (reusing the recorded model answer where the rules still
                                leave a command undecided); exit 1 when any would be
                                decided differently
  export [--session S] [--since T] [--until T]
                                records as JSON lines (T: 2026-11-28, RFC 3339, or 24h ago as "24h")

The log is in $XDG_STATE_HOME/chaperone/audit unless [audit] dir says otherwise.`

// auditSubs are audit's commands and their usage.
var auditSubs = map[string]string{
	"list":   "usage: chaperone audit list\n\nLists the sessions in the audit log with their time span, agent, project and counts.",
	"show":   "usage: chaperone audit show [SESSION] [--json]\n\nShows a session's records: the latest session, or SESSION (or the one session it begins).",
	"tail":   "usage: chaperone audit tail [-n N] [-f]\n\nShows the last records; -f follows as commands arrive.",
	"verify": "usage: chaperone audit verify\n\nChecks the hash chain of the audit log; exits 1 naming the first broken record.",
	"replay": "usage: chaperone audit replay [SESSION] [--speed N] [--no-wait] [--cast]\n\nPlays a session back: commands, decisions, output.\n\n" +
		"--cast writes the whole session to stdout at once instead, as one asciicast v2\n" +
		"file (asciinema play FILE): each command at a prompt, between OSC 133 marks that\n" +
		"carry its exit status, with a marker to jump to. The log and the session's\n" +
		"outputs are checked first, as verify checks them; nothing is written when they\n" +
		"were changed.",
	"rerate": "usage: chaperone audit rerate [SESSION | --all]\n\nRates the recorded commands again with the current rules (reusing the recorded\n" +
		"model answer where the rules still leave a command undecided); exits 1 when any\nwould be decided differently. The user's own commands (sandbox exec) are not rated.",
	"export": "usage: chaperone audit export [--session S] [--since T] [--until T]\n\nWrites the records as JSON lines. T: 2026-11-28, RFC 3339, or a duration ago (\"24h\").",
}

// runAudit is `chaperone audit …`.
func runAudit(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, auditUsage)
		return fmt.Errorf("%w: audit needs a command", errUsage)
	}
	if args[0] == "help" {
		args[0] = "--help"
	}
	if err := showUsage(args, auditUsage); err != nil {
		return err
	}
	a := &auditCmd{stdout: os.Stdout}
	sub, rest := args[0], args[1:]
	switch sub {
	case "list":
		return a.list(rest)
	case "show":
		return a.show(rest)
	case "tail":
		return a.tail(ctx, rest)
	case "verify":
		return a.verify(rest)
	case "replay":
		return a.replay(ctx, rest)
	case "rerate":
		return a.rerate(ctx, rest)
	case "export":
		return a.export(rest)
	}
	fmt.Fprintln(os.Stderr, auditUsage)
	return unknownSub("audit", sub, slices.Collect(maps.Keys(auditSubs)))
}

// auditCmd holds what every audit subcommand needs.
type auditCmd struct {
	cfg    *config.Config // loaded by config, after the flags
	stdout io.Writer
}

// config loads the user's config once.
func (a *auditCmd) config() (*config.Config, error) {
	if a.cfg == nil {
		cfg, err := config.Load()
		if err != nil {
			return nil, err
		}
		a.cfg = cfg
	}
	return a.cfg, nil
}

// logDir is the audit log's folder.
func (a *auditCmd) logDir() (string, error) {
	cfg, err := a.config()
	if err != nil {
		return "", err
	}
	return cfg.Audit.AuditDir(), nil
}

// readAll reads every record of the audit log, and says where it is.
func (a *auditCmd) readAll() ([]models.Event, string, error) {
	dir, err := a.logDir()
	if err != nil {
		return nil, "", err
	}
	all, err := audit.ReadAll(dir)
	if err != nil {
		return nil, dir, fmt.Errorf("read audit log: %w", err)
	}
	return all, dir, nil
}

// auditFlags is the flag set of audit's command sub.
func auditFlags(sub string) *flag.FlagSet { return newFlags("audit "+sub, auditSubs[sub]) }

// parseInterspersed parses flags that may come before or after the positional
// arguments (`show SESSION --json`), returning the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string, maxPos int) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) > maxPos {
		return nil, usageError(fs, "%s: unexpected argument %q", fs.Name(), pos[maxPos])
	}
	return pos, nil
}

// session loads the records and picks one session: the named one (or the
// only session starting with that prefix), else the latest.
func (a *auditCmd) session(pos []string) ([]models.Event, string, error) {
	all, dir, err := a.readAll()
	if err != nil {
		return nil, "", err
	}
	if len(all) == 0 {
		return nil, "", fmt.Errorf("the audit log in %s has no records yet", dir)
	}
	want := audit.LatestSession(all)
	if len(pos) > 0 {
		want = pos[0]
		if evs := audit.Select(all, audit.Filter{Session: want}); len(evs) > 0 {
			return evs, want, nil
		}
		var match []string
		for _, s := range audit.Sessions(all) {
			if strings.HasPrefix(s.Session, want) {
				match = append(match, s.Session)
			}
		}
		switch len(match) {
		case 0:
			return nil, "", fmt.Errorf("no session %q in the audit log (chaperone audit list shows them)", want)
		case 1:
			want = match[0]
		default:
			return nil, "", fmt.Errorf("%q matches %d sessions (%s): give more of it", want, len(match), strings.Join(match, ", "))
		}
	}
	return audit.Select(all, audit.Filter{Session: want}), want, nil
}

func (a *auditCmd) list(args []string) error {
	fs := auditFlags("list")
	if _, err := parseInterspersed(fs, args, 0); err != nil {
		return err
	}
	all, dir, err := a.readAll()
	if err != nil {
		return err
	}
	if len(all) == 0 {
		fmt.Fprintf(os.Stderr, "chaperone: the audit log in %s has no records yet\n", dir)
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SESSION\tFIRST\tLAST\tAGENT\tPROJECT\tCMDS\tLOW\tMEDIUM\tHIGH\tALLOW\tWARN\tAPPROVED\tDENIED")
	for _, s := range audit.Sessions(all) {
		first, last := s.First.Local(), s.Last.Local()
		lastFmt := "15:04:05"
		if last.Format(time.DateOnly) != first.Format(time.DateOnly) {
			lastFmt = time.DateTime
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", s.Session,
			first.Format(time.DateTime), last.Format(lastFmt),
			orDash(s.Agent), orDash(s.Project), s.Commands,
			s.ByRisk[models.Low], s.ByRisk[models.Medium], s.ByRisk[models.High],
			s.ByDecision[models.Allow], s.ByDecision[models.Warn], s.ByDecision[models.Approved], s.ByDecision[models.Denied])
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (a *auditCmd) show(args []string) error {
	fs := auditFlags("show")
	asJSON := fs.Bool("json", false, "one JSON record a line")
	pos, err := parseInterspersed(fs, args, 1)
	if err != nil {
		return err
	}
	evs, session, err := a.session(pos)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSONLines(a.stdout, evs)
	}
	first := evs[0]
	fmt.Fprintf(a.stdout, "session %s · %s · %s · %d commands\n", session, orDash(first.Agent), orDash(first.Project), len(evs))
	for _, ev := range evs {
		writeEvent(a.stdout, ev, true)
	}
	return nil
}

// writeEvent prints one record for a person: a summary line and, when
// long, what was found, the model's answer, the files and the output.
func writeEvent(w io.Writer, ev models.Event, long bool) {
	exit := "-"
	if ev.Exit != nil {
		exit = fmt.Sprint(*ev.Exit)
	}
	cmd := ev.Command
	if ev.Inner != "" {
		cmd = ev.Inner
	}
	by := ev.DecidedBy
	if by == "" {
		by = "-"
	}
	risk := ev.Rating.Risk.Effective().String()
	if audit.UserCommand(ev) {
		risk = "-" // never rated: the person ran it
	}
	fmt.Fprintf(w, "%s  %-6s  %-8s by %-10s exit %-3s %7s  %s\n", ev.Time.Local().Format("2006-01-02 15:04:05"),
		risk, ev.Decision, by, exit, fmt.Sprintf("%.0fms", ev.Duration), oneLine(cmd))
	if !long {
		return
	}
	const ind = "    "
	if audit.UserCommand(ev) {
		fmt.Fprintf(w, "%sthe user's own command (chaperone sandbox exec): run without rating\n", ind)
	}
	if ev.Inner != "" && ev.Inner != ev.Command {
		fmt.Fprintf(w, "%swrapper: %s\n", ind, oneLine(ev.Command))
	}
	if ev.Cwd != "" && ev.Cwd != ev.Project {
		fmt.Fprintf(w, "%scwd: %s\n", ind, ev.Cwd)
	}
	for _, f := range ev.Rating.Findings {
		fmt.Fprintf(w, "%s! %s (%s): %s\n", ind, f.Rule, f.Risk, f.Reason)
	}
	if m := ev.Rating.Model; m != nil {
		if m.Error != "" {
			fmt.Fprintf(w, "%smodel %s: no answer: %s\n", ind, m.Model, m.Error)
		} else {
			fmt.Fprintf(w, "%smodel %s: %s: %s\n", ind, m.Model, m.Risk, m.Reason)
		}
	}
	if ev.Note != "" {
		fmt.Fprintf(w, "%snote: %s\n", ind, ev.Note)
	}
	if ev.Memory != "" {
		fmt.Fprintf(w, "%smemory: %s (chaperone remember list)\n", ind, ev.Memory)
	}
	if fl := audit.FilesSummary(ev); fl != "" {
		fmt.Fprintf(w, "%sfiles: %s\n", ind, fl)
	}
	for _, c := range ev.Connections {
		fmt.Fprintf(w, "%snet: %s\n", ind, connectionLine(c))
	}
	if o := ev.Output; o != nil {
		trunc := ""
		if o.Truncated {
			trunc = fmt.Sprintf(", %d recorded", o.Recorded)
		}
		fmt.Fprintf(w, "%soutput: %d bytes%s (%s)\n", ind, o.Bytes, trunc, o.Path)
	}
}

// connectionLine is one connection of a command, for a person:
// "allowed CONNECT registry.npmjs.org:443 ↑1.2 KiB ↓3.4 MiB (list)".
func connectionLine(c models.Connection) string {
	what := "refused"
	if c.Allowed {
		what = "allowed"
	}
	held := ""
	if c.Held {
		held = ", upload held"
	}
	line := fmt.Sprintf("%s %s %s ↑%s ↓%s (%s%s)", what, c.Method, net.JoinHostPort(c.Host, strconv.Itoa(c.Port)),
		audit.SizeText(c.Up), audit.SizeText(c.Down), c.By, held)
	if c.Reason != "" {
		line += ": " + c.Reason
	}
	return line
}

// oneLine shows a multi-line command on one line.
func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\r", `\r`)
	return strings.ReplaceAll(s, "\n", `\n`)
}

func writeJSONLines(w io.Writer, evs []models.Event) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, ev := range evs {
		if err := enc.Encode(ev); err != nil {
			return err
		}
	}
	return nil
}

func (a *auditCmd) tail(ctx context.Context, args []string) error {
	fs := auditFlags("tail")
	n := fs.Int("n", 10, "how many of the last records to show")
	follow := fs.Bool("f", false, "keep following as commands arrive")
	if _, err := parseInterspersed(fs, args, 0); err != nil {
		return err
	}
	if !*follow {
		all, _, err := a.readAll()
		if err != nil {
			return err
		}
		if len(all) > *n {
			all = all[len(all)-*n:]
		}
		for _, ev := range all {
			writeEvent(a.stdout, ev, false)
		}
		return nil
	}
	dir, err := a.logDir()
	if err != nil {
		return err
	}
	ch, err := audit.Follow(ctx, dir, *n)
	if err != nil {
		return err
	}
	for ev := range ch {
		writeEvent(a.stdout, ev, false)
	}
	return nil // interrupted: the normal end of following
}

func (a *auditCmd) verify(args []string) error {
	fs := auditFlags("verify")
	if _, err := parseInterspersed(fs, args, 0); err != nil {
		return err
	}
	dir, err := a.logDir()
	if err != nil {
		return err
	}
	rep, err := audit.Verify(dir)
	if err != nil {
		return err
	}
	for _, n := range rep.Notes {
		fmt.Fprintln(a.stdout, "note:", n)
	}
	fmt.Fprintf(a.stdout, "audit log intact: %d commands, %d records in %d files, %d outputs checked\n",
		rep.Commands, rep.Records, rep.Files, rep.Outputs)
	return nil
}

func (a *auditCmd) replay(ctx context.Context, args []string) error {
	fs := auditFlags("replay")
	speed := fs.Float64("speed", 1, "play N times as fast")
	noWait := fs.Bool("no-wait", false, "play without any pauses")
	asCast := fs.Bool("cast", false, "write the session to stdout as one asciicast v2 file, with OSC 133 marks")
	pos, err := parseInterspersed(fs, args, 1)
	if err != nil {
		return err
	}
	if *speed <= 0 {
		return fmt.Errorf("%w: audit replay: --speed must be above 0", errUsage)
	}
	if *asCast {
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "speed" || f.Name == "no-wait" {
				err = fmt.Errorf("%w: audit replay: --cast and --%s do not go together: the cast is written at once (asciinema play has -s and -i)", errUsage, f.Name)
			}
		})
		if err != nil {
			return err
		}
	}
	evs, session, err := a.session(pos)
	if err != nil {
		return err
	}
	dir, err := a.logDir()
	if err != nil {
		return err
	}
	if *asCast {
		return audit.WriteSessionCast(a.stdout, dir, session)
	}
	return audit.Replay(ctx, a.stdout, dir, evs, audit.ReplayOptions{Speed: *speed, NoWait: *noWait})
}

// errChanged is rerate's answer when a decision would change.
var errChanged = errors.New("rerate")

// connectionClass is what decided a recorded connection, as the proxy's
// action: a list (allowed, or refused by deny or policy), or a person (or
// nobody, when none answered).
func connectionClass(c models.Connection) netproxy.Action {
	switch c.By {
	case models.ByList, models.ByRemembered:
		if c.Allowed {
			return netproxy.Allow
		}
	case models.ByDenyList, models.ByPolicy:
		return netproxy.Refuse
	}
	return netproxy.Ask
}

func actionText(a netproxy.Action) string {
	switch a {
	case netproxy.Allow:
		return "allowed by the lists"
	case netproxy.Refuse:
		return "refused by the lists"
	}
	return "held for a person"
}

// verdictOf names what a risk leads to.
func verdictOf(r models.Risk) string {
	switch r.Effective() {
	case models.Low:
		return "run"
	case models.Medium:
		return "run with a warning"
	}
	return "hold for a person"
}

func (a *auditCmd) rerate(ctx context.Context, args []string) error {
	fs := auditFlags("rerate")
	all := fs.Bool("all", false, "every session, not just one")
	pos, err := parseInterspersed(fs, args, 1)
	if err != nil {
		return err
	}
	var evs []models.Event
	if *all {
		if evs, _, err = a.readAll(); err != nil {
			return err
		}
	} else if evs, _, err = a.session(pos); err != nil {
		return err
	}
	// Each command is rated as the shim would rate it now: the user's rules
	// as they are, and those of its project when its file is trusted.
	cfg, err := a.config()
	if err != nil {
		return err
	}
	engines := map[string]*engine.Engine{}
	policies := map[string]*netproxy.Policy{}
	engineFor := func(project string) (*engine.Engine, error) {
		if e := engines[project]; e != nil {
			return e, nil
		}
		c := cfg.Clone()
		e, err := engine.New(c, project) // adds the trusted project's settings to c
		if err != nil {
			return nil, err
		}
		if policies[project], err = netproxy.NewPolicy(c.Network, project); err != nil {
			return nil, err
		}
		engines[project] = e
		return e, nil
	}
	changed, own, conns, connsChanged := 0, 0, 0, 0
	for _, ev := range evs {
		if audit.UserCommand(ev) {
			own++ // never rated, so never rated differently
			continue
		}
		if len(ev.Connections) > 0 {
			if _, err := engineFor(ev.Project); err != nil {
				return err
			}
			for _, c := range ev.Connections {
				conns++
				was, is := connectionClass(c), policies[ev.Project].Decide(c.Host, c.Port).Action
				if was == is {
					continue
				}
				connsChanged++
				fmt.Fprintf(a.stdout, "%s  %s\n    connection %s:%d was %s (%s), now %s\n", ev.Time.Local().Format("2006-01-02 15:04:05"),
					oneLine(cmpText(ev.Inner, ev.Command)), c.Host, c.Port, actionText(was), orDash(c.By), actionText(is))
			}
		}
		cmd := ev.Inner
		if cmd == "" {
			cmd = ev.Command
		}
		r, err := engineFor(ev.Project)
		if err != nil {
			return err
		}
		now, _ := r.Rate(ctx, rater.Request{Command: cmd, Cwd: ev.Cwd, Project: ev.Project, Session: ev.Session})
		if now.Undecided && ev.Rating.Model != nil {
			// The rules still do not know it: the model's recorded answer
			// stands, so that only a change of rules shows as a change.
			now = rater.Combine(now, ev.Rating.Model)
		}
		was, is := ev.Rating.Risk.Effective(), now.Risk.Effective()
		if was == is {
			continue
		}
		changed++
		fmt.Fprintf(a.stdout, "%s  %s\n    was %s (%s: %s by %s), now %s (would %s)\n",
			ev.Time.Local().Format("2006-01-02 15:04:05"), oneLine(cmd), was, verdictOf(was), ev.Decision, orDash(ev.DecidedBy),
			is, verdictOf(is))
		for _, f := range now.Findings {
			if f.Risk.Effective() == is {
				fmt.Fprintf(a.stdout, "    ! %s (%s): %s\n", f.Rule, f.Risk, f.Reason)
			}
		}
	}
	skipped := ""
	if own > 0 {
		skipped = fmt.Sprintf(" (and %d of the user's own, from sandbox exec, not rated)", own)
	}
	rated := len(evs) - own
	if conns > 0 {
		skipped += fmt.Sprintf("; %d of %d connections would be decided differently by the [network] settings now", connsChanged, conns)
	}
	if changed > 0 || connsChanged > 0 {
		return fmt.Errorf("%w: %d of %d commands would be decided differently%s", errChanged, changed, rated, skipped)
	}
	fmt.Fprintf(a.stdout, "all %d commands would be decided the same%s\n", rated, skipped)
	return nil
}

func (a *auditCmd) export(args []string) error {
	fs := auditFlags("export")
	session := fs.String("session", "", "only this session")
	since := fs.String("since", "", "only records at or after this time")
	until := fs.String("until", "", "only records before this time")
	if _, err := parseInterspersed(fs, args, 0); err != nil {
		return err
	}
	var f audit.Filter
	var err error
	if f.Since, err = parseWhen(*since); err != nil {
		return fmt.Errorf("%w: audit export --since: %v", errUsage, err)
	}
	if f.Until, err = parseWhen(*until); err != nil {
		return fmt.Errorf("%w: audit export --until: %v", errUsage, err)
	}
	var evs []models.Event
	if *session != "" {
		// As show finds it: a session that is not there is an error, not
		// an empty export.
		evs, _, err = a.session([]string{*session})
	} else {
		evs, _, err = a.readAll()
	}
	if err != nil {
		return err
	}
	return writeJSONLines(a.stdout, audit.Select(evs, f))
}

// parseWhen reads a time: RFC 3339, a date (local midnight), a local
// "2006-01-02 15:04", or a duration meaning that long ago.
func parseWhen(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return time.Now().Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time (write 2026-11-28, 2026-11-28T15:04:05Z or 24h)", s)
}
