package engine

import (
	"context"
	"io"

	"github.com/chaperone-dev/chaperone/rater"
)

// RateStream rates every line of in as one command with the engine's
// rules (the user's and the trusted project's) and writes one result per
// line to out: rater.Rater.RateStream, as the shim would rate.
func (e *Engine) RateStream(ctx context.Context, in io.Reader, out io.Writer, req rater.Request, f rater.Format) error {
	return e.rater.RateStream(ctx, in, out, req, f)
}

// RateOne rates req.Command with the engine's rules and writes the result
// to out (rater.Rater.RateOne).
func (e *Engine) RateOne(ctx context.Context, out io.Writer, req rater.Request, f rater.Format) error {
	return e.rater.RateOne(ctx, out, req, f)
}
