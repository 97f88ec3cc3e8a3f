package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/chaperone-dev/chaperone/catalog"
	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/parser"
	"github.com/chaperone-dev/chaperone/rater"
)

const rulesUsage = `usage: chaperone rules list
       chaperone rules show RULE-ID | PROGRAM

list shows every built-in rule (id, risk, reason) and how many programs
the catalogue knows. show explains one rule, with the catalogue's examples
it catches, or one program: its effects, what its options carry, the check
that judges it and its examples, each rated with the built-in rules.`

// runRules is `chaperone rules list | show ID`: the rules and the
// catalogue of programs they reason from.
func runRules(ctx context.Context, args []string) error {
	switch {
	case len(args) >= 1 && (isHelp(args) || args[0] == "help"), len(args) >= 2 && isHelp(args[1:]):
		fmt.Fprintln(os.Stdout, rulesUsage)
		return nil
	case len(args) == 1 && args[0] == "list":
		return writeRuleList(os.Stdout)
	case len(args) == 2 && args[0] == "show":
		return showRule(ctx, os.Stdout, args[1])
	}
	fmt.Fprintln(os.Stderr, rulesUsage)
	return fmt.Errorf("rules: %w", errUsage)
}

func writeRuleList(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for _, r := range rater.Rules() {
		fmt.Fprintf(bw, "%-20s %-6s %s\n", r.ID, r.Risk, r.Reason)
	}
	fmt.Fprintf(bw, "\ncatalogue: %d programs in %d entries (chaperone rules show PROGRAM)\n", catalog.Names(), len(catalog.Entries()))
	return bw.Flush()
}

// showRule explains the rule called id, or else the program called id.
func showRule(ctx context.Context, w io.Writer, id string) error {
	bw := bufio.NewWriter(w)
	r := rater.New()
	for _, rule := range rater.Rules() {
		if rule.ID != id {
			continue
		}
		fmt.Fprintf(bw, "rule %s: %s\n%s\n", rule.ID, rule.Risk, rule.Reason)
		n := 0
		for _, e := range catalog.Entries() {
			var hits []string
			for _, x := range e.Catch {
				rating, _ := r.Rate(ctx, rater.ExampleRequest(x.Cmd))
				if x.Rule == id || hasFinding(rating, id) {
					hits = append(hits, fmt.Sprintf("    %-6s %s", rating.Risk.Effective(), x.Cmd))
				}
			}
			if len(hits) > 0 {
				fmt.Fprintf(bw, "\n%s (%s), effects %s:\n%s\n", e.Name(), e.Desc, e.Effects, strings.Join(hits, "\n"))
				n += len(hits)
			}
		}
		if n == 0 {
			fmt.Fprintln(bw, "\nno catalogue example is caught by this rule")
		}
		return bw.Flush()
	}
	e := catalog.Lookup(id)
	if e == nil {
		return fmt.Errorf("rules: no rule or program called %q (chaperone rules list shows the rules)", id)
	}
	writeEntry(bw, id, e)
	for _, part := range []struct {
		title string
		xs    []catalog.Example
		cmp   string
	}{{"must catch", e.Catch, ">="}, {"look-alikes", e.Alike, "<="}} {
		if len(part.xs) == 0 {
			continue
		}
		fmt.Fprintf(bw, "%s:\n", part.title)
		for _, x := range part.xs {
			rating, _ := r.Rate(ctx, rater.ExampleRequest(x.Cmd))
			fmt.Fprintf(bw, "  %-6s (want %s %s) %s\n", rating.Risk.Effective(), part.cmp, x.Risk, x.Cmd)
			if ids := findingIDs(rating); len(ids) > 0 {
				fmt.Fprintf(bw, "         %s\n", strings.Join(ids, " "))
			}
		}
	}
	return bw.Flush()
}

// writeEntry writes what the catalogue says of the program called name.
func writeEntry(w io.Writer, name string, e *catalog.Entry) {
	fmt.Fprintf(w, "program %s: %s\n", name, e.Desc)
	if len(e.Names) > 1 {
		fmt.Fprintf(w, "entry:   %s (%s)\n", e.Name(), strings.Join(e.Names, " "))
	}
	fmt.Fprintf(w, "effects: %s\n", e.Effects)
	check := e.Check
	if check == "" {
		check = "none (quiet: only the generic rules on paths, redirections and substitutions)"
	}
	fmt.Fprintf(w, "check:   %s\n", check)
	for _, s := range e.Subs {
		fmt.Fprintf(w, "sub:     %s: %s (%s)\n", strings.Join(s.Names, "|"), s.Effects, s.Desc)
	}
	for _, o := range e.Options {
		fmt.Fprintf(w, "option:  %s carries a %s\n", strings.Join(o.Names, " "), o.Kind)
	}
	if len(e.Args) > 0 {
		var ks []string
		for _, k := range e.Args {
			ks = append(ks, k.String())
		}
		fmt.Fprintf(w, "args:    %s\n", strings.Join(ks, ", "))
	}
}

func hasFinding(r models.Rating, id string) bool {
	return slices.ContainsFunc(r.Findings, func(f models.Finding) bool { return f.Rule == id })
}

func findingIDs(r models.Rating) []string {
	var ids []string
	for _, f := range r.Findings {
		ids = append(ids, "["+f.Rule+"]")
	}
	return ids
}

// explainProgram is one program of a command, as --explain shows it.
type explainProgram struct {
	Name    string         `json:"name"`
	Via     []string       `json:"via,omitempty"`
	Entry   string         `json:"entry,omitempty"` // the entry's first name
	Desc    string         `json:"desc,omitempty"`
	Check   string         `json:"check,omitempty"`
	Effects catalog.Effect `json:"effects"`
	Note    string         `json:"note,omitempty"`
}

// explainLine is the JSON object `chaperone rate --explain --json` writes.
type explainLine struct {
	rater.Line
	Programs []explainProgram `json:"programs"`
}

// rateExplain rates like `chaperone rate` and shows the catalogue's
// reasoning: each program the command runs, its entry and effects, the
// findings with their rule ids, and the final risk. With cSet it rates
// command; else each line of in.
func rateExplain(ctx context.Context, e interface {
	Rate(context.Context, rater.Request) (models.Rating, *models.Facts)
}, req rater.Request, cSet bool, command string, in io.Reader, out io.Writer, jsonOut bool) error {
	bw := bufio.NewWriter(out)
	one := func(text string) error {
		req.Command = text
		rating, facts := e.Rate(ctx, req)
		progs := explainPrograms(facts)
		if jsonOut {
			enc := json.NewEncoder(bw)
			enc.SetEscapeHTML(false)
			return enc.Encode(explainLine{Line: rater.NewLine(text, rating), Programs: progs})
		}
		fmt.Fprintf(bw, "command: %s\n", text)
		for _, p := range progs {
			via := ""
			if len(p.Via) > 0 {
				via = " (inside " + strings.Join(p.Via, ", ") + ")"
			}
			switch {
			case p.Entry == "":
				fmt.Fprintf(bw, "  program %s%s: %s\n", p.Name, via, p.Note)
			default:
				check := p.Check
				if check == "" {
					check = "quiet"
				}
				fmt.Fprintf(bw, "  program %s%s: %s; check %s; effects %s\n", p.Name, via, p.Desc, check, p.Effects)
			}
		}
		if facts != nil && facts.Opaque {
			fmt.Fprintf(bw, "  opaque: %s\n", strings.Join(facts.OpaqueReasons, "; "))
		}
		for _, f := range rating.Findings {
			span := ""
			if f.Span != "" && f.Span != text {
				span = ": " + f.Span
			}
			fmt.Fprintf(bw, "  finding %s [%s] %s%s\n", f.Risk, f.Rule, f.Reason, span)
		}
		if rating.Model != nil {
			fmt.Fprintf(bw, "  model %s: %s %s\n", rating.Model.Model, rating.Model.Risk, rating.Model.Reason)
		}
		tag := ""
		if rating.Undecided {
			tag = " (undecided: no rule knows it)"
		}
		fmt.Fprintf(bw, "  risk: %s%s\n", rating.Risk.Effective(), tag)
		return nil
	}
	if cSet {
		if err := one(command); err != nil {
			return fmt.Errorf("write rating: %w", err)
		}
		return bw.Flush()
	}
	br := bufio.NewReaderSize(in, 1<<16)
	for {
		if err := ctx.Err(); err != nil {
			bw.Flush()
			return err
		}
		line, err := br.ReadString('\n')
		if line == "" && err != nil {
			bw.Flush()
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read commands: %w", err)
		}
		if werr := one(strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")); werr != nil {
			return fmt.Errorf("write rating: %w", werr)
		}
		if err != nil {
			return bw.Flush()
		}
	}
}

// explainPrograms lists the programs facts runs with their catalogue
// entries.
func explainPrograms(facts *models.Facts) []explainProgram {
	if facts == nil {
		return nil
	}
	var out []explainProgram
	for i := range facts.Commands {
		c := &facts.Commands[i]
		if len(c.Argv) == 0 {
			continue
		}
		p := explainProgram{Name: c.Name(), Via: c.Via}
		if p.Name == "" {
			p.Name, p.Note = c.Argv[0].Lit, "name known only at run time"
			out = append(out, p)
			continue
		}
		if e := catalog.Lookup(p.Name); e != nil {
			p.Entry, p.Desc, p.Check, p.Effects = e.Name(), e.Desc, e.Check, e.Effects
		} else if lang := parser.Interpreter(p.Name); lang != "" {
			p.Note = "interpreter (" + lang + "), judged by the interpreter check"
		} else {
			p.Note = "not in the catalogue"
		}
		out = append(out, p)
	}
	return out
}

// explainFlag is rate's --explain; see rateExplain.
func explainFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("explain", false, "show each program's catalogue entry and effects, the findings' rule ids and the final risk")
}
