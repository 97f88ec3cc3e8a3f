package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ollama/ollama/api"
	"github.com/ollama/ollama/envconfig"

	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/fewshot"
	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/rater"
)

const modelUsage = `usage: chaperone model check
       chaperone model show-prompt [--json] [--session ID] -c CMD

check        asks the configured Ollama model one timed question and says
             what to fix when the server or the model is not there.
show-prompt  prints the exact prompt the model would be sent for CMD.`

// runModel is `chaperone model check|show-prompt`.
func runModel(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, modelUsage)
		return fmt.Errorf("%w: model needs a command", errUsage)
	}
	switch args[0] {
	case "check":
		return modelCheck(ctx, os.Stdout, args[1:])
	case "show-prompt":
		return modelShowPrompt(os.Stdout, args[1:])
	case "help", "-h", "--help", "-help":
		fmt.Fprintln(os.Stdout, modelUsage)
		return flag.ErrHelp
	}
	fmt.Fprintln(os.Stderr, modelUsage)
	return unknownSub("model", args[0], []string{"check", "show-prompt"})
}

// errCheckFailed marks a failed `model check` whose details were printed.
var errCheckFailed = errors.New("model check failed")

func modelConfig() (config.ModelConfig, string, error) {
	cfg, err := config.Load()
	if err != nil {
		return config.ModelConfig{}, "", err
	}
	return cfg.Model.Resolved(), config.UserPath(), nil
}

func reportFewshot(err error) { fmt.Fprintln(os.Stderr, "chaperone: fewshot:", err) }

func modelCheck(ctx context.Context, w io.Writer, args []string) error {
	fs := newFlags("model check", "usage: chaperone model check\n\nAsks the configured Ollama model one timed question and says what to fix when\nthe server or the model is not there.")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, "model check: unexpected argument %q", fs.Arg(0))
	}
	mc, path, err := modelConfig()
	if err != nil {
		return err
	}
	if !mc.Enabled() {
		fmt.Fprintf(w, "no model configured: chaperone rates by rules alone.\nfix: set name under [model] in %s (for example name = \"qwen2.5:0.5b\") or CHAPERONE_MODEL, then run: ollama pull qwen2.5:0.5b\n", path)
		return errCheckFailed
	}
	host := envconfig.Host()
	client, err := api.ClientFromEnvironment()
	if err != nil {
		return fmt.Errorf("model check: %w", err)
	}
	fmt.Fprintf(w, "model %s at %s (timeout %s, context %d commands)\n", mc.Name, host, mc.Timeout.Duration, mc.Context)

	vctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	version, err := client.Version(vctx)
	cancel()
	if err != nil {
		fmt.Fprintf(w, "FAIL server: not reachable at %s: %v\nfix: start it with `ollama serve`, or point OLLAMA_HOST at the server\n", host, err)
		return errCheckFailed
	}
	fmt.Fprintf(w, "ok   server: ollama %s\n", version)

	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	_, err = client.Show(sctx, &api.ShowRequest{Model: mc.Name})
	cancel()
	var se api.StatusError
	switch {
	case errors.As(err, &se) && se.StatusCode == http.StatusNotFound:
		fmt.Fprintf(w, "FAIL model: %s is not on the server\nfix: ollama pull %s\n", mc.Name, mc.Name)
		return errCheckFailed
	case err != nil:
		fmt.Fprintf(w, "FAIL model: %v\n", err)
		return errCheckFailed
	}
	fmt.Fprintf(w, "ok   model: %s present\n", mc.Name)

	m := rater.NewModelAsker(mc, client, rater.WithProblemReport(reportFewshot))
	// The first question may load the model into memory: allow for it.
	probeTimeout := max(mc.Timeout.Duration, 60*time.Second)
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	ans, err := m.Probe(pctx)
	if err != nil {
		fmt.Fprintf(w, "FAIL question: %v\n", err)
		if errors.Is(err, rater.ErrInvalidAnswer) {
			fmt.Fprintln(w, "fix: use a model that follows JSON-schema output (an instruct model such as qwen2.5 or llama3.2)")
		}
		return errCheckFailed
	}
	fmt.Fprintf(w, "ok   question: %q rated %s in %.0f ms (%s)\n", "ls -la", ans.Risk, ans.DurationMS, ans.Reason)
	ans, err = m.Probe(pctx)
	if err == nil {
		note := ""
		if time.Duration(ans.DurationMS*float64(time.Millisecond)) > mc.Timeout.Duration {
			note = fmt.Sprintf(" — slower than the %s timeout: raise [model] timeout or use a smaller model", mc.Timeout.Duration)
		}
		fmt.Fprintf(w, "ok   loaded: answers in %.0f ms%s\n", ans.DurationMS, note)
	}
	return nil
}

func modelShowPrompt(w io.Writer, args []string) error {
	fs := newFlags("model show-prompt", "usage: chaperone model show-prompt [--json] [--session ID] -c CMD\n\nPrints the exact prompt the model would be sent for CMD.")
	command := fs.String("c", "", "the command to show the prompt for")
	session := fs.String("session", os.Getenv("CHAPERONE_SESSION"), "include this session's earlier commands")
	jsonOut := fs.Bool("json", false, "print the exact JSON request sent to Ollama's /api/chat")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *command == "" || fs.NArg() > 0 {
		return usageError(fs, "model show-prompt: give the command with -c CMD")
	}
	mc, _, err := modelConfig()
	if err != nil {
		return err
	}
	if !mc.Enabled() {
		fmt.Fprintln(os.Stderr, "chaperone: no model configured; showing the prompt a model would get")
		mc.Name = "(none)"
	}
	m := rater.NewModelAsker(mc, nil, rater.WithProblemReport(reportFewshot))
	req := rater.Request{Command: *command, Session: *session}
	if *jsonOut {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(m.ChatRequest(req, nil))
	}
	p := m.Prompt(req, nil)
	fmt.Fprintf(w, "model %s, %d messages, %d bytes; answer constrained to %s\n\n", m.Name(), len(p.Messages), p.Size(), rater.AnswerSchema)
	_, err = io.WriteString(w, p.String())
	return err
}

// doctorModel writes what `chaperone doctor` says about the model: none
// configured (rules alone), or whether the server answers and has the
// model, any back-off in force, and broken example lines.
func doctorModel(w io.Writer, cfg *config.Config) {
	mc, path := cfg.Model.Resolved(), config.UserPath()
	exDir := filepath.Join(config.Dir(), "fewshot")
	store := fewshot.Open(exDir, nil)
	for _, p := range store.Problems() {
		fmt.Fprintf(w, "model: broken example %v (fix or delete that line)\n", p)
	}
	if !mc.Enabled() {
		fmt.Fprintf(w, "model: none configured — rating by rules alone (to add one: [model] name = \"...\" in %s, or CHAPERONE_MODEL)\n", path)
		return
	}
	host := envconfig.Host()
	client, err := api.ClientFromEnvironment()
	if err != nil {
		fmt.Fprintf(w, "model: %s: %v\n", mc.Name, err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err = client.Show(ctx, &api.ShowRequest{Model: mc.Name})
	var se api.StatusError
	switch {
	case errors.As(err, &se) && se.StatusCode == http.StatusNotFound:
		fmt.Fprintf(w, "model: %s is not on the ollama server at %s (fix: ollama pull %s); rating by rules alone until then\n", mc.Name, host, mc.Name)
	case err != nil:
		fmt.Fprintf(w, "model: ollama server at %s not reachable (%v) (fix: `ollama serve`, or set OLLAMA_HOST); rating by rules alone until then\n", host, oneLineErr(err))
	default:
		fmt.Fprintf(w, "model: %s at %s ok (timeout %s; `chaperone model check` asks a test question)\n", mc.Name, host, mc.Timeout.Duration)
	}
	if until, reason, ok := rater.NewModelAsker(mc, client).BackingOff(); ok {
		fmt.Fprintf(w, "model: skipping questions until %s after: %s\n", until.Local().Format("15:04:05"), reason)
	}
}

func oneLineErr(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

const fewshotUsage = `usage: chaperone fewshot list [--user]
       chaperone fewshot add --risk low|medium|high --reason TEXT [--span S]... [--context CMD]... -c CMD
       chaperone fewshot rm ID

Examples teach the model what low, medium and high mean for your tools.
Yours live in $XDG_CONFIG_HOME/chaperone/fewshot/*.jsonl and are re-read
when they change.`

// runFewshot is `chaperone fewshot add|list|rm`.
func runFewshot(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, fewshotUsage)
		return fmt.Errorf("%w: fewshot needs a command", errUsage)
	}
	dir := filepath.Join(config.Dir(), "fewshot")
	switch args[0] {
	case "list", "ls":
		return fewshotList(os.Stdout, dir, args[1:])
	case "add":
		return fewshotAdd(os.Stdout, dir, args[1:])
	case "rm", "remove":
		const rmUsage = "usage: chaperone fewshot rm ID\n\nRemoves your example ID (as `chaperone fewshot list` shows it)."
		if err := showUsage(args[1:], rmUsage); err != nil {
			return err
		}
		if len(args) != 2 {
			fmt.Fprintln(os.Stderr, rmUsage)
			return fmt.Errorf("%w: fewshot rm: give one example ID", errUsage)
		}
		n, err := fewshot.Remove(dir, args[1])
		if errors.Is(err, fewshot.ErrNoExample) {
			return fmt.Errorf("fewshot rm: no example %s in %s (built-in examples cannot be removed)", args[1], dir)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stdout, "removed %d example(s) %s\n", n, args[1])
		return nil
	case "help", "-h", "--help", "-help":
		fmt.Fprintln(os.Stdout, fewshotUsage)
		return flag.ErrHelp
	}
	fmt.Fprintln(os.Stderr, fewshotUsage)
	return unknownSub("fewshot", args[0], []string{"list", "add", "rm"})
}

func fewshotList(w io.Writer, dir string, args []string) error {
	fs := newFlags("fewshot list", "usage: chaperone fewshot list [--user]\n\nLists the examples the model is shown: yours first, then the built-in ones.")
	userOnly := fs.Bool("user", false, "list only your own examples")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, "fewshot list: unexpected argument %q", fs.Arg(0))
	}
	store := fewshot.Open(dir, nil, fewshot.WithReport(reportFewshot))
	for _, ex := range store.Examples() {
		if *userOnly && ex.Source == "builtin" {
			continue
		}
		src := ex.Source
		if rel, err := filepath.Rel(dir, src); err == nil && !strings.HasPrefix(rel, "..") {
			src = rel
		}
		fmt.Fprintf(w, "%s  %-6s  %-16s  %s  — %s\n", ex.ID(), ex.Risk, src, exampleCmd(ex.Cmd), ex.Reason)
	}
	if n := len(store.Problems()); n > 0 {
		return fmt.Errorf("fewshot: %d broken example line(s) skipped (shown above)", n)
	}
	return nil
}

func exampleCmd(s string) string {
	b, _ := json.Marshal(s)
	if !strings.ContainsAny(s, "\n\r\t\"") {
		return s
	}
	return string(b)
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ", ") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

func fewshotAdd(w io.Writer, dir string, args []string) error {
	fs := newFlags("fewshot add", "usage: chaperone fewshot add --risk low|medium|high --reason TEXT [--span S]... [--context CMD]... -c CMD\n\n"+
		"Adds an example to your "+fewshot.AddedFile+": CMD is rated RISK because of REASON.")
	command := fs.String("c", "", "the example command")
	risk := fs.String("risk", "", "its risk: low, medium or high")
	reason := fs.String("reason", "", "why, in one line")
	var spans, context stringList
	fs.Var(&spans, "span", "a dangerous part of the command (repeatable)")
	fs.Var(&context, "context", "an earlier command of the session the label depends on (repeatable, oldest first)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, "fewshot add: unexpected argument %q (give the command with -c)", fs.Arg(0))
	}
	r, err := models.ParseRisk(*risk)
	if err != nil || r == models.RiskUnknown {
		return fmt.Errorf("%w: fewshot add: --risk must be low, medium or high", errUsage)
	}
	ex := fewshot.Example{Cmd: *command, Risk: r, Reason: *reason, Spans: spans, Context: context}
	if err := ex.Validate(); err != nil {
		return fmt.Errorf("%w: fewshot add: %v", errUsage, err)
	}
	if err := fewshot.Add(dir, ex); err != nil {
		return err
	}
	fmt.Fprintf(w, "added example %s to %s\n", ex.ID(), filepath.Join(dir, fewshot.AddedFile))
	return nil
}
