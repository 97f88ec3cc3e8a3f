package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/rater"
)

// runRate rates commands without running them: `chaperone rate [--json]
// [--no-model] [-c CMD]`. Without -c it reads one command per line from
// stdin and writes one result per line, in order.
func runRate(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("rate", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	jsonOut := fs.Bool("json", false, "write one JSON object per command")
	noModel := fs.Bool("no-model", false, "rate with the rules only, never asking the model")
	command := fs.String("c", "", "rate this command instead of reading stdin")
	listRules := fs.Bool("rules", false, "list the built-in rules and exit")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: chaperone rate [--json] [--no-model] [-c CMD] | --rules\n\nRates commands without running them. Without -c, reads one command per line from stdin.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("rate: %w", errUsage)
	}
	if *listRules {
		return rater.WriteRules(os.Stdout)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("rate: unexpected argument %q (quote the command after -c): %w", fs.Arg(0), errUsage)
	}
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	r, err := newRater(cfg, *noModel)
	if err != nil {
		return err
	}
	format := rater.FormatText
	if *jsonOut {
		format = rater.FormatJSON
	}
	var c string
	cSet := false
	fs.Visit(func(f *flag.Flag) { cSet = cSet || f.Name == "c" })
	if cSet {
		c = *command
		return r.RateOne(ctx, os.Stdout, rater.Request{Command: c}, format)
	}
	return r.RateStream(ctx, os.Stdin, os.Stdout, rater.Request{}, format)
}

// newRater builds the rater from the config: the user's rules, checked
// first so a broken rule names itself. The model is added here (with
// rater.WithModel) when noModel is false and a model is configured.
func newRater(cfg *config.Config, noModel bool) (*rater.Rater, error) {
	if err := rater.CheckRules(cfg.Rules); err != nil {
		return nil, &config.Error{Path: cfg.Path, Msg: err.Error(), Fix: "correct or remove that rule in [rules]"}
	}
	opts := []rater.Option{rater.WithUserRules(cfg.Rules)}
	if !noModel {
		// nil when no model is configured: then the rules decide alone.
		if m := rater.NewModelAsker(cfg.Model, nil, rater.WithProblemReport(reportFewshot), rater.WithWatch()); m != nil {
			opts = append(opts, rater.WithModel(m))
		}
	}
	return rater.New(opts...), nil
}
