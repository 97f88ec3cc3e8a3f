package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/engine"
	"github.com/chaperone-dev/chaperone/rater"
	"github.com/chaperone-dev/chaperone/shim"
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
	explain := explainFlag(fs)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: chaperone rate [--json] [--no-model] [-c CMD] | --rules\n\nRates commands without running them. Without -c, reads one command per line from stdin.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
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
	// Rated as the shim would rate them here: with the user's rules and
	// those of the project around the working folder, when its file is
	// trusted.
	req := rater.Request{}
	if wd, err := os.Getwd(); err == nil {
		req.Cwd = wd
		req.Project, _ = shim.FindProject(wd, os.Environ(), cfg) // none: no project rules
	}
	r, err := newEngine(cfg, req.Project, *noModel)
	if err != nil {
		return err
	}
	format := rater.FormatText
	if *jsonOut {
		format = rater.FormatJSON
	}
	cSet := false
	fs.Visit(func(f *flag.Flag) { cSet = cSet || f.Name == "c" })
	if *explain {
		return rateExplain(ctx, r, req, cSet, *command, os.Stdin, os.Stdout, *jsonOut)
	}
	if cSet {
		req.Command = *command
		return r.RateOne(ctx, os.Stdout, req, format)
	}
	return r.RateStream(ctx, os.Stdin, os.Stdout, req, format)
}

// newEngine builds the engine the shim would rate with from the config:
// the user's rules and the trusted project's, checked first so a broken
// rule names itself. The model is added when noModel is false and a model
// is configured.
func newEngine(cfg *config.Config, project string, noModel bool) (*engine.Engine, error) {
	if err := rater.CheckRules(cfg.Rules); err != nil {
		return nil, &config.Error{Path: cfg.Path, Msg: err.Error(), Fix: "correct or remove that rule in [rules]"}
	}
	var opts []engine.Option
	if !noModel {
		// nil when no model is configured: then the rules decide alone.
		if m := rater.NewModelAsker(cfg.Model, nil, rater.WithProblemReport(reportFewshot), rater.WithWatch()); m != nil {
			opts = append(opts, engine.WithModel(m))
		}
	}
	return engine.New(cfg, project, opts...)
}
