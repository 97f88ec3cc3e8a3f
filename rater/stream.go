package rater

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/chaperone-dev/chaperone/models"
)

// Line is the JSON object `chaperone rate --json` writes for one command:
// {"cmd", "risk", "reasons": [{"rule", "risk", "reason", "span"}], "source"}.
type Line struct {
	Cmd       string           `json:"cmd"`
	Risk      models.Risk      `json:"risk"`
	Reasons   []models.Finding `json:"reasons"`
	Source    string           `json:"source"`
	Undecided bool             `json:"undecided,omitempty"`
	Opaque    bool             `json:"opaque,omitempty"`
}

// NewLine makes the JSON line for a rated command.
func NewLine(cmd string, r models.Rating) Line {
	reasons := r.Findings
	if reasons == nil {
		reasons = []models.Finding{}
	}
	return Line{Cmd: cmd, Risk: r.Risk.Effective(), Reasons: reasons, Source: r.Source, Undecided: r.Undecided, Opaque: r.Opaque}
}

// Format is how RateStream writes its results.
type Format int

// Formats.
const (
	FormatText Format = iota // a readable report
	FormatJSON               // one JSON object per line
)

// RateStream rates every line of in as one command, in order, and writes
// one result per line to out. Lines are never run. It stops at the end of
// in, at a read or write error, or when ctx is done.
func (r *Rater) RateStream(ctx context.Context, in io.Reader, out io.Writer, req Request, f Format) error {
	br := bufio.NewReaderSize(in, 1<<16)
	bw := bufio.NewWriterSize(out, 1<<16)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for {
		if err := ctx.Err(); err != nil {
			bw.Flush()
			return err
		}
		line, err := br.ReadString('\n')
		if line == "" && err != nil {
			if err == io.EOF {
				return bw.Flush()
			}
			bw.Flush()
			return fmt.Errorf("read commands: %w", err)
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		req.Command = line
		rating, _ := r.Rate(ctx, req)
		if werr := r.write(bw, enc, line, rating, f); werr != nil {
			return fmt.Errorf("write ratings: %w", werr)
		}
		if err == io.EOF {
			return bw.Flush()
		}
	}
}

// RateOne rates a single command and writes the result to out.
func (r *Rater) RateOne(ctx context.Context, out io.Writer, req Request, f Format) error {
	bw := bufio.NewWriter(out)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	rating, _ := r.Rate(ctx, req)
	if err := r.write(bw, enc, req.Command, rating, f); err != nil {
		return fmt.Errorf("write rating: %w", err)
	}
	return bw.Flush()
}

func (r *Rater) write(w *bufio.Writer, enc *json.Encoder, cmd string, rating models.Rating, f Format) error {
	if f == FormatJSON {
		return enc.Encode(NewLine(cmd, rating))
	}
	return WriteReport(w, cmd, rating)
}

// WriteReport writes a readable report of one rating.
func WriteReport(w io.Writer, cmd string, r models.Rating) error {
	tag := r.Risk.Effective().String()
	switch {
	case r.Undecided:
		tag += " (undecided: no rule knows it)"
	case r.Opaque:
		tag += " (opaque)"
	}
	if _, err := fmt.Fprintf(w, "%-6s %s\n", r.Risk.Effective(), cmd); err != nil {
		return err
	}
	if r.Undecided || r.Opaque {
		fmt.Fprintf(w, "       %s\n", tag)
	}
	for _, f := range r.Findings {
		span := ""
		if f.Span != "" && f.Span != cmd {
			span = ": " + f.Span
		}
		if _, err := fmt.Fprintf(w, "       - %s [%s] %s%s\n", f.Risk, f.Rule, f.Reason, span); err != nil {
			return err
		}
	}
	switch m := r.Model; {
	case m == nil:
	case m.Error != "":
		// No answer: say why, and what decided instead.
		fmt.Fprintf(w, "       - model %s: no answer: %s; rated by the rules alone (`chaperone model check` says what to fix)\n", m.Model, m.Error)
	default:
		fmt.Fprintf(w, "       - model %s: %s %s\n", m.Model, m.Risk, m.Reason)
	}
	return nil
}

// WriteRules writes the built-in rules, one per line: id, risk, reason.
func WriteRules(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for _, r := range Rules() {
		fmt.Fprintf(bw, "%-20s %-6s %s\n", r.ID, r.Risk, r.Reason)
	}
	return bw.Flush()
}
