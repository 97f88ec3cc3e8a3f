package tui

import (
	"cmp"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/chaperone-dev/chaperone/audit"
	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/shape"
)

var (
	styleTitle  = lipgloss.NewStyle().Bold(true)
	styleDim    = lipgloss.NewStyle().Faint(true)
	styleSpan   = lipgloss.NewStyle().Reverse(true).Bold(true)
	styleStatus = lipgloss.NewStyle().Italic(true)
	styleRule   = lipgloss.NewStyle().Bold(true)
	styleRisk   = map[models.Risk]lipgloss.Style{
		models.Low:    lipgloss.NewStyle().Foreground(lipgloss.Color("2")),
		models.Medium: lipgloss.NewStyle().Foreground(lipgloss.Color("3")),
		models.High:   lipgloss.NewStyle().Foreground(lipgloss.Color("1")).Bold(true),
	}
)

func riskLabel(r models.Risk) string {
	r = r.Effective()
	return styleRisk[r].Render(strings.ToUpper(r.String()))
}

// Title is the pane title: how many commands are held.
func (m Model) Title() string {
	if len(m.queue) == 0 {
		return "chaperone: nothing held"
	}
	return fmt.Sprintf("chaperone: %d held", len(m.queue))
}

// View draws the panel.
func (m Model) View() tea.View {
	v := tea.NewView(m.Render())
	v.AltScreen = true
	v.WindowTitle = m.Title()
	return v
}

// Render is the panel's text (View's content), for tests and tools.
func (m Model) Render() string {
	width := max(m.width, 20)
	var footer []string
	if m.status != "" {
		// Wrapped, not clipped: it may say what a key would remember.
		footer = append(footer, styleStatus.Render(lipgloss.Wrap(m.status, width, " ")))
	}
	switch m.mode {
	case modeNote:
		footer = append(footer, "Note to the agent: "+m.note.View(), m.help.View(noteHelp{m.keys}))
	case modeDetails:
		footer = append(footer, m.help.View(detailsHelp{m.keys}))
	default:
		footer = append(footer, m.help.View(m.keys))
	}
	// MaxWidth: the help's own truncation lets a line through whole when
	// its ellipsis would not fit either.
	foot := lipgloss.NewStyle().MaxWidth(width).Render(strings.Join(footer, "\n"))
	avail := max(m.height-lipgloss.Height(foot), 3)

	var body string
	if m.mode == modeDetails && m.selected() != nil {
		body = m.details(m.selected(), width)
	} else {
		body = m.queueView(width, avail)
	}
	lines := strings.Split(body, "\n")
	if len(lines) > avail {
		lines = append(lines[:avail-1], styleDim.Render("…"))
	}
	for len(lines) < avail {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n") + "\n" + foot
}

// queueView is the header, the held commands and the feed under them.
func (m Model) queueView(width, avail int) string {
	var b strings.Builder
	head := "chaperone · nothing held"
	if n := len(m.queue); n > 0 {
		head = fmt.Sprintf("chaperone · %d held · oldest waiting %s", n, age(m.now.Sub(m.queue[0].Received)))
	}
	b.WriteString(styleTitle.Render(head))
	b.WriteByte('\n')
	if len(m.queue) == 0 {
		sock := m.opts.Socket
		if sock == "" {
			sock = "the broker socket"
		}
		b.WriteString(styleDim.Render(clip("Held commands appear here. Shims connect to "+sock, width)))
		b.WriteByte('\n')
	}
	full := make([]string, len(m.queue))
	total := 0
	for i, it := range m.queue {
		full[i] = m.itemView(i, it, width, false)
		total += lipgloss.Height(full[i])
	}
	// Too long for the pane: only the selected request is drawn in full.
	if total > avail-6 {
		for i, it := range m.queue {
			if i != m.sel {
				full[i] = m.itemView(i, it, width, true)
			}
		}
	}
	for _, s := range full {
		b.WriteString(s)
		b.WriteByte('\n')
	}
	used := lipgloss.Height(b.String())
	b.WriteString(m.feedView(width, avail-used))
	return strings.TrimRight(b.String(), "\n")
}

// itemView draws one held request.
func (m Model) itemView(i int, it *item, width int, compact bool) string {
	r := it.Req
	mark := "  "
	if i == m.sel {
		mark = "▶ "
	}
	var b strings.Builder
	waited := m.now.Sub(it.Received)
	label := riskLabel(r.Rating.Risk)
	if r.Network != nil {
		label = styleRisk[models.High].Render("NETWORK")
	}
	line := fmt.Sprintf("%s%d. %s  waiting %s", mark, i+1, label, age(waited))
	if !r.Deadline.IsZero() {
		line += styleDim.Render(fmt.Sprintf(" · denied in %s", age(r.Deadline.Sub(m.now))))
	}
	b.WriteString(line)
	b.WriteByte('\n')
	const indent = "     "
	inner := max(width-len(indent), 10)
	if n := r.Network; n != nil {
		b.WriteString(indent + styleRule.Render(clip(sanitize(networkLine(n)), inner)) + "\n")
		if compact {
			b.WriteString(indent + styleDim.Render(clip("from: "+strings.ReplaceAll(sanitize(display(r)), "\n", "↵ "), inner)))
			return b.String()
		}
		b.WriteString(indent + styleDim.Render(clip(sanitize("why: "+n.Reason), inner)) + "\n")
		for _, l := range strings.Split(lipgloss.Wrap("from: "+sanitize(display(r)), inner, " /|;&"), "\n") {
			b.WriteString(indent + l + "\n")
		}
		b.WriteString(indent + styleDim.Render(clip(sanitize(fmt.Sprintf("project %s  agent %s  session %s  record %s",
			orDash(r.Project), orDash(r.Agent), orDash(r.Session), orDash(r.EventID))), inner)))
		return b.String()
	}
	if compact {
		b.WriteString(indent + clip(strings.ReplaceAll(sanitize(display(r)), "\n", "↵ "), inner))
		return b.String()
	}
	cmd := highlight(display(r), spans(r.Rating))
	for _, l := range strings.Split(lipgloss.Wrap(cmd, inner, " /|;&"), "\n") {
		b.WriteString(indent + l + "\n")
	}
	where := "project " + orDash(r.Project)
	if r.Cwd != "" && r.Cwd != r.Project {
		where += "  cwd " + r.Cwd
	}
	b.WriteString(indent + styleDim.Render(clip(sanitize(where), inner)) + "\n")
	who := "agent " + orDash(r.Agent)
	if r.Session != "" {
		who += "  session " + r.Session
	}
	if pid := pidText(it); pid != "" {
		who += "  pid " + pid
	}
	b.WriteString(indent + styleDim.Render(clip(sanitize(who), inner)) + "\n")
	for _, f := range r.Rating.Findings {
		reason := fmt.Sprintf("%s %s: %s", riskLabel(f.Risk), styleRule.Render(sanitize(f.Rule)), sanitize(f.Reason))
		for j, l := range strings.Split(lipgloss.Wrap(reason, inner-2, " "), "\n") {
			p := "• "
			if j > 0 {
				p = "  "
			}
			b.WriteString(indent + p + l + "\n")
		}
	}
	if a := r.Rating.Model; a != nil && a.Error == "" && a.Reason != "" {
		b.WriteString(indent + "• " + riskLabel(a.Risk) + " " + styleRule.Render("model") + ": " + clip(sanitize(a.Reason), inner-16) + "\n")
	}
	if r.Rating.Opaque {
		b.WriteString(indent + "• " + styleRule.Render("opaque") + ": part of the command cannot be read before it runs\n")
	}
	if c := it.Claim; c != nil {
		claim := fmt.Sprintf("%s %s: %s", riskLabel(c.Risk), styleRule.Render("the shim's claim, not the panel's rating"), sanitize(c.Reason))
		for j, l := range strings.Split(lipgloss.Wrap(claim, inner-2, " "), "\n") {
			p := "• "
			if j > 0 {
				p = "  "
			}
			b.WriteString(indent + p + l + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// networkLine says what a held connection wants, for a person.
func networkLine(n *models.NetworkHold) string {
	target := net.JoinHostPort(n.Host, strconv.Itoa(n.Port))
	if n.Upload > 0 {
		return fmt.Sprintf("upload of %s to %s (%s)", audit.SizeText(n.Upload), target, n.Method)
	}
	return fmt.Sprintf("connect to %s (%s)", target, n.Method)
}

// connectionsText sums up a command's connections for the feed:
// "registry.npmjs.org:443 ✓ evil.example:443 ✗".
func connectionsText(cs []models.Connection) string {
	seen := map[string]bool{}
	var parts []string
	for _, c := range cs {
		mark := "✗"
		if c.Allowed {
			mark = "✓"
		}
		p := net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) + " " + mark
		if !seen[p] {
			seen[p] = true
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "  ")
}

// feedView is the live feed of recent commands, newest first, in at most
// lines lines.
func (m Model) feedView(width, lines int) string {
	if lines < 2 {
		return ""
	}
	events := m.feed
	title := "recent commands"
	if m.frozen != nil {
		events = m.frozen
		title = fmt.Sprintf("recent commands · paused (%d new) · f resumes", m.missed)
	}
	var b strings.Builder
	head := clip("── "+title+" ", width)
	b.WriteString(styleDim.Render(head + strings.Repeat("─", max(0, width-lipgloss.Width(head)))))
	if len(events) == 0 {
		b.WriteString("\n" + styleDim.Render("  none yet"))
	}
	for i, n := len(events)-1, 1; i >= 0 && n < lines; i, n = i-1, n+1 {
		ev := events[i]
		proj := filepath.Base(ev.Project)
		if ev.Project == "" {
			proj = "-"
		}
		cmd := cmp.Or(ev.Inner, ev.Command) // as display does for a held one
		prefix := fmt.Sprintf("%s %-6s %s ", ev.Time.Local().Format("15:04:05"), ev.Rating.Risk.Effective(), sanitize(proj))
		text := strings.ReplaceAll(sanitize(cmd), "\n", "↵ ")
		if ev.Exit != nil && *ev.Exit != 0 {
			text = fmt.Sprintf("[exit %d] %s", *ev.Exit, text)
		}
		if d := decisionText(ev); d != "" {
			text = "[" + d + "] " + text
		}
		b.WriteString("\n" + styleRisk[ev.Rating.Risk.Effective()].Render(clip(prefix, width)) + clip(text, width-lipgloss.Width(prefix)))
		if fl := audit.FilesSummary(ev); fl != "" && n+1 < lines {
			n++
			b.WriteString("\n" + styleDim.Render(clip("    files: "+sanitize(fl), width)))
		}
		if len(ev.Connections) > 0 && n+1 < lines {
			n++
			b.WriteString("\n" + styleDim.Render(clip("    net: "+sanitize(connectionsText(ev.Connections)), width)))
		}
	}
	return b.String()
}

// decisionText says who decided a held command, for the feed: "approved
// by person", "denied by timeout", "approved by memory c0ffee12"; "" for
// a command that was not held.
func decisionText(ev models.Event) string {
	if ev.Decision != models.Approved && ev.Decision != models.Denied {
		return ""
	}
	by := orDash(ev.DecidedBy)
	switch {
	case ev.DecidedBy == models.ByRemembered && ev.Memory != "":
		by = "memory " + ev.Memory
	case ev.Memory != "":
		by += ", remembered as " + ev.Memory
	}
	return sanitize(ev.Decision.String() + " by " + by)
}

// details is the full picture of one request: parsed facts and findings.
func (m Model) details(it *item, width int) string {
	r := it.Req
	var b strings.Builder
	w := func(format string, a ...any) {
		b.WriteString(lipgloss.Wrap(sanitize(fmt.Sprintf(format, a...)), width, " "))
		b.WriteByte('\n')
	}
	b.WriteString(styleTitle.Render("Details of request "+strconv.Itoa(m.sel+1)) + "\n")
	w("command: %s", r.Command)
	if r.Inner != "" {
		w("inner:   %s", r.Inner)
	}
	w("risk %s (source %s)%s", r.Rating.Risk.Effective(), orDash(r.Rating.Source), yes(r.Rating.Opaque, ", opaque"))
	w("project %s  cwd %s", orDash(r.Project), orDash(r.Cwd))
	w("agent %s  session %s  pid %s  id %s", orDash(r.Agent), orDash(r.Session), orDash(pidText(it)), r.ID)
	b.WriteString(styleTitle.Render("Findings") + "\n")
	for _, f := range r.Rating.Findings {
		w("  %s [%s] %s", f.Rule, f.Risk.Effective(), f.Reason)
		if f.Span != "" {
			w("      on: %s", f.Span)
		}
	}
	if a := r.Rating.Model; a != nil {
		w("  model %s: %s %s%s", a.Model, a.Risk, a.Reason, yes(a.Error != "", " (error: "+a.Error+")"))
	}
	if c := it.Claim; c != nil {
		w("  the shim claims %s (not the panel's rating, not remembered): %s", c.Risk.Effective(), c.Reason)
	}
	if n := r.Network; n != nil {
		w("held connection: %s", networkLine(n))
		w("why: %s", n.Reason)
		w("audit record of the command: %s", orDash(r.EventID))
		if n.Upload > 0 {
			w("A lets this session upload to %s", n.Host)
		} else {
			w("A allows %s for %s from now on ([[network.project]] in your config)", net.JoinHostPort(n.Host, strconv.Itoa(n.Port)), orDash(r.Project))
		}
	} else {
		if rem, err := remembers(r); err != nil {
			w("A: %v", err)
		} else {
			w("A would remember %s", shape.Describe(rem))
		}
		if rem, err := wider(r); err != nil {
			w("W: %v", err)
		} else {
			w("W would remember %s", shape.Describe(rem))
		}
	}
	b.WriteString(styleTitle.Render("Parsed") + "\n")
	f := r.Facts
	switch {
	case f == nil:
		w("  (nothing parsed)")
	default:
		if f.ParseError != "" {
			w("  parse error: %s", f.ParseError)
		}
		for _, reason := range f.OpaqueReasons {
			w("  opaque: %s", reason)
		}
		for i, c := range f.Commands {
			argv := make([]string, len(c.Argv))
			for j, a := range c.Argv {
				argv[j] = strconv.Quote(a.Lit)
				if a.Dynamic {
					argv[j] += "(dynamic)"
				}
			}
			line := fmt.Sprintf("  %d. %s", i+1, strings.Join(argv, " "))
			if len(c.Via) > 0 {
				line += "  via " + strings.Join(c.Via, " > ")
			}
			for _, rd := range c.Redirs {
				line += fmt.Sprintf("  %s%s %s", rd.Fd, rd.Op, rd.Target.Lit)
			}
			if c.PipeFrom >= 0 && c.PipeFrom != i {
				line += fmt.Sprintf("  stdin from %d", c.PipeFrom+1)
			}
			if c.Background {
				line += "  &"
			}
			w("%s", line)
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// spans are the texts the findings point at, longest first.
func spans(r models.Rating) []string {
	var out []string
	for _, f := range r.Findings {
		if f.Span != "" {
			out = append(out, f.Span)
		}
	}
	if r.Model != nil {
		out = append(out, r.Model.DangerousSpans...)
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// highlight returns cmd, sanitized, with every occurrence of each span
// marked.
func highlight(cmd string, marks []string) string {
	text := []rune(sanitize(cmd))
	on := make([]bool, len(text))
	s := string(text)
	for _, span := range marks {
		sp := sanitize(span)
		if sp == "" {
			continue
		}
		for from := 0; ; {
			i := strings.Index(s[from:], sp)
			if i < 0 {
				break
			}
			start := len([]rune(s[:from+i]))
			for k := start; k < start+len([]rune(sp)); k++ {
				on[k] = true
			}
			from += i + len(sp)
		}
	}
	var b strings.Builder
	for i := 0; i < len(text); {
		j := i
		for j < len(text) && on[j] == on[i] {
			j++
		}
		part := string(text[i:j])
		if on[i] {
			// Style each line on its own so wrapping keeps the mark.
			ls := strings.Split(part, "\n")
			for k, l := range ls {
				ls[k] = styleSpan.Render(l)
			}
			part = strings.Join(ls, "\n")
		}
		b.WriteString(part)
		i = j
	}
	return b.String()
}

// sanitize makes text from a shim safe to draw: control characters
// (which could move the cursor or hide text) and bidirectional overrides
// are shown as escapes; tabs become spaces.
func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteRune(r)
		case r == '\t':
			b.WriteString("    ")
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, "\\x%02x", r)
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200b, r == 0x200e, r == 0x200f, r == 0xfeff:
			fmt.Fprintf(&b, "<U+%04X>", r)
		case !unicode.IsPrint(r) && !unicode.IsSpace(r):
			fmt.Fprintf(&b, "<U+%04X>", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// clip cuts s to width cells.
func clip(s string, width int) string {
	if width <= 1 || lipgloss.Width(s) <= width {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && lipgloss.Width(string(r)) > width-1 {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}

func oneLine(s string, n int) string {
	return clip(strings.Join(strings.Fields(sanitize(s)), " "), n)
}

func age(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	default:
		return d.Round(time.Minute).String()
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yes(b bool, s string) string {
	if b {
		return s
	}
	return ""
}

// pidText is the held command's process: the kernel's word for who asked
// (PeerPID), and the shim's own PID when another process asked for it (the
// shell server, for chaperone-shell).
func pidText(it *item) string {
	switch {
	case it.PeerPID == 0:
		return ""
	case it.Req.PID != 0 && it.Req.PID != it.PeerPID:
		return strconv.Itoa(it.Req.PID) + " (through chaperone " + strconv.Itoa(it.PeerPID) + ")"
	}
	return strconv.Itoa(it.PeerPID)
}
