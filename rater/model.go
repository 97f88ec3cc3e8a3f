package rater

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/chaperone-dev/chaperone/internal/atomicfile"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ollama/ollama/api"

	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/fewshot"
	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/parser"
)

// OllamaClient is what the model asker needs from Ollama's client
// (*api.Client satisfies it): one chat per question, and Show to tell a
// missing model from other failures.
type OllamaClient interface {
	Chat(ctx context.Context, req *api.ChatRequest, fn api.ChatResponseFunc) error
	Show(ctx context.Context, req *api.ShowRequest) (*api.ShowResponse, error)
}

// States of the model path, for errors.Is on what Model.Question returns.
var (
	ErrServerDown    = errors.New("ollama server unreachable")
	ErrModelMissing  = errors.New("model not found on the ollama server")
	ErrTimeout       = errors.New("model did not answer")
	ErrInvalidAnswer = errors.New("model answer is not valid")
	ErrServer        = errors.New("ollama server error")
	ErrBackingOff    = errors.New("model skipped: the server failed recently")
	ErrTooLong       = errors.New("command too long to show the model")
)

// Request settings. Temperature 0 and a fixed seed make answers
// repeatable, which is what makes the cache honest.
const (
	askSeed       = 42
	askNumPredict = 160
	askNumCtx     = 4096
	askKeepAlive  = 30 * time.Minute
	defaultK      = 4
	// DefaultBackoff is how long commands skip the model after the server
	// was down, slow, or missing the model.
	DefaultBackoff = 30 * time.Second
	maxReason      = 300
	maxSpans       = 10
	// maxCommand bounds the command shown to the model. A longer one is not
	// shown cut (the cut part could hide what matters): it is not asked.
	maxCommand = 8 << 10
)

// AnswerSchema is the JSON schema the model's answer is constrained to.
var AnswerSchema = json.RawMessage(`{"type":"object","properties":{` +
	`"risk":{"type":"string","enum":["low","medium","high"]},` +
	`"reason":{"type":"string"},` +
	`"dangerous_spans":{"type":"array","items":{"type":"string"}}},` +
	`"required":["risk","reason","dangerous_spans"]}`)

// Model asks a local Ollama model about the commands the rules leave
// undecided. It implements ModelAsker. Construction is cheap: examples are
// loaded and the client made on the first question. A nil *Model asks
// nothing. It is safe for concurrent use.
//
// What it keeps in the state folder ($XDG_STATE_HOME/chaperone), shared by
// every chaperone process of the user:
//
//	model-cache/xx/KEY.json   answers, by prompt (7 days)
//	model-backoff.json        the server failed: skip questions until a time
//	sessions/ID.jsonl         each session's decided commands (NoteDecision),
//	                          the last few of which the model sees as context
type Model struct {
	name     string
	timeout  time.Duration
	context  int
	k        int
	backoff  time.Duration
	stateDir string
	exDir    string
	parse    fewshot.ParseFunc
	report   func(error)
	watch    bool
	now      func() time.Time

	initOnce sync.Once
	client   OllamaClient
	store    *fewshot.Store
	cancel   context.CancelFunc
}

// ModelOption configures a Model.
type ModelOption func(*Model)

// WithStateDir keeps the cache, the back-off state and the session
// histories in dir instead of $XDG_STATE_HOME/chaperone.
func WithStateDir(dir string) ModelOption { return func(m *Model) { m.stateDir = dir } }

// WithExamplesDir reads the user's examples from dir instead of
// $XDG_CONFIG_HOME/chaperone/fewshot.
func WithExamplesDir(dir string) ModelOption { return func(m *Model) { m.exDir = dir } }

// WithExamples sets how many nearest examples the prompt shows (default 4).
func WithExamples(k int) ModelOption { return func(m *Model) { m.k = k } }

// WithBackoff sets how long to skip the model after a failure (default 30s).
func WithBackoff(d time.Duration) ModelOption { return func(m *Model) { m.backoff = d } }

// WithProblemReport calls report with each broken example line (file:line)
// when the examples are loaded or reloaded.
func WithProblemReport(report func(error)) ModelOption { return func(m *Model) { m.report = report } }

// WithWatch re-reads the example files when they change (fsnotify), for
// long-lived processes; call Close to stop.
func WithWatch() ModelOption { return func(m *Model) { m.watch = true } }

// withClock replaces time.Now in tests.
func withClock(now func() time.Time) ModelOption { return func(m *Model) { m.now = now } }

// NewModelAsker returns the model asker for cfg, or nil when no model is
// configured (cfg.Resolved().Name and CHAPERONE_MODEL both empty): then
// chaperone rates by rules alone. client nil means Ollama's client from
// the environment (OLLAMA_HOST), made on the first question.
func NewModelAsker(cfg config.ModelConfig, client OllamaClient, opts ...ModelOption) *Model {
	cfg = cfg.Resolved()
	if !cfg.Enabled() {
		return nil
	}
	m := &Model{
		name:    cfg.Name,
		timeout: cfg.Timeout.Duration,
		context: cfg.Context,
		k:       defaultK,
		backoff: DefaultBackoff,
		parse:   parser.Parse,
		client:  client,
		now:     time.Now,
	}
	for _, o := range opts {
		o(m)
	}
	if m.stateDir == "" {
		m.stateDir = StateDir()
	}
	if m.exDir == "" {
		m.exDir = filepath.Join(config.Dir(), "fewshot")
	}
	return m
}

// StateDir is chaperone's state folder: $XDG_STATE_HOME/chaperone, or
// ~/.local/state/chaperone.
func StateDir() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "chaperone")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".local", "state", "chaperone")
}

// Name returns the Ollama model's name ("" for a nil Model).
func (m *Model) Name() string {
	if m == nil {
		return ""
	}
	return m.name
}

// Timeout returns how long one question may take.
func (m *Model) Timeout() time.Duration { return m.timeout }

// Store returns the example store (loading it on first use).
func (m *Model) Store() *fewshot.Store {
	m.init()
	return m.store
}

func (m *Model) init() {
	m.initOnce.Do(func() {
		if m.client == nil {
			c, err := api.ClientFromEnvironment()
			if err == nil {
				m.client = c
			}
		}
		var opts []fewshot.StoreOption
		if m.report != nil {
			opts = append(opts, fewshot.WithReport(m.report))
		}
		m.store = fewshot.Open(m.exDir, m.parse, opts...)
		if m.watch {
			ctx, cancel := context.WithCancel(context.Background())
			m.cancel = cancel
			if err := m.store.Watch(ctx); err != nil && m.report != nil {
				m.report(err)
			}
		}
	})
}

// Close stops watching the example files. The Model still answers.
func (m *Model) Close() error {
	if m != nil && m.cancel != nil {
		m.cancel()
	}
	return nil
}

// Prompt returns the exact prompt the model would be sent for req.
func (m *Model) Prompt(req Request, facts *models.Facts) fewshot.Prompt {
	m.init()
	if facts == nil {
		facts = m.parse(req.Command)
	}
	canon := fewshot.Canonical(req.Command, facts)
	hist := m.history(req.Session, canon)
	exs := m.store.Nearest(fewshot.ShapeOf(facts), m.k)
	return fewshot.Build(req.Command, exs, hist)
}

// Ask implements ModelAsker: it never fails, but returns an answer whose
// Error says why there is no usable answer (server down, model missing,
// timeout, invalid answer, backing off). Nil m returns nil.
func (m *Model) Ask(ctx context.Context, req Request, facts *models.Facts, rules models.Rating) *models.ModelAnswer {
	if m == nil {
		return nil
	}
	start := time.Now()
	ans, err := m.Question(ctx, req, facts)
	if err != nil {
		ans = &models.ModelAnswer{Model: m.name, Error: err.Error()}
	}
	ans.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	return ans
}

// Question asks the model about one command: from the cache when the same
// prompt was answered before, else from the server unless it is backing
// off. The error wraps one of the Err* states.
func (m *Model) Question(ctx context.Context, req Request, facts *models.Facts) (*models.ModelAnswer, error) {
	if len(req.Command) > maxCommand {
		return nil, fmt.Errorf("%w (%d bytes, at most %d)", ErrTooLong, len(req.Command), maxCommand)
	}
	if facts == nil {
		facts = m.parse(req.Command)
	}
	hist := m.history(req.Session, fewshot.Canonical(req.Command, facts))
	// A repeated question is answered without loading the examples: the
	// fast key stands for the prompt they would give.
	fast := m.fastKey(req.Command, hist)
	if ans, ok := m.cacheGet(fast); ok {
		return ans, nil
	}
	m.init()
	p := fewshot.Build(req.Command, m.store.Nearest(fewshot.ShapeOf(facts), m.k), hist)
	chat := m.chatRequest(p)
	key := cacheKey(chat)
	if ans, ok := m.cacheGet(key); ok {
		m.cachePut(fast, ans)
		return ans, nil
	}
	if b, ok := m.backingOff(); ok {
		return nil, fmt.Errorf("%w (%s); asking again after %s", ErrBackingOff, b.Reason, b.Until.Local().Format("15:04:05"))
	}
	ans, err := m.send(ctx, chat)
	if err != nil {
		if !errors.Is(err, ErrInvalidAnswer) && ctx.Err() == nil {
			m.setBackoff(err)
		}
		return nil, err
	}
	m.clearBackoff()
	m.cachePut(key, ans)
	m.cachePut(fast, ans)
	return ans, nil
}

// promptVersion changes whenever the prompt's wording or layout does, so
// that fast keys of older prompts stop matching.
const promptVersion = "1"

// fastKey names the prompt for cmd and hist by what decides it — the
// model, the prompt's version, the examples' files (fewshot.Stamp), the
// command and the session context — without building it.
func (m *Model) fastKey(cmd string, hist []fewshot.Turn) string {
	b, _ := json.Marshal(struct {
		V, Model, Stamp, Cmd string
		K                    int
		Hist                 []fewshot.Turn
	}{promptVersion, m.name, fewshot.Stamp(m.exDir), cmd, m.k, hist})
	h := sha256.Sum256(append([]byte("fast\x00"), b...))
	return hex.EncodeToString(h[:])
}

// ChatRequest returns the exact request Ask would send for req.
func (m *Model) ChatRequest(req Request, facts *models.Facts) *api.ChatRequest {
	return m.chatRequest(m.Prompt(req, facts))
}

// probeCommand is the question `chaperone model check` asks.
const probeCommand = "ls -la"

// Probe asks the server one fixed question now, bypassing the cache and
// any back-off (`chaperone model check`). A good answer ends a back-off.
func (m *Model) Probe(ctx context.Context) (*models.ModelAnswer, error) {
	chat := m.ChatRequest(Request{Command: probeCommand}, nil)
	start := time.Now()
	ans, err := m.send(ctx, chat)
	if err != nil {
		return nil, err
	}
	m.clearBackoff()
	ans.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	return ans, nil
}

// BackingOff reports whether questions are being skipped because the
// server failed recently, until when, and why.
func (m *Model) BackingOff() (until time.Time, reason string, ok bool) {
	if m == nil {
		return time.Time{}, "", false
	}
	b, ok := m.backingOff()
	return b.Until, b.Reason, ok
}

func (m *Model) chatRequest(p fewshot.Prompt) *api.ChatRequest {
	msgs := make([]api.Message, len(p.Messages))
	for i, x := range p.Messages {
		msgs[i] = api.Message{Role: x.Role, Content: x.Content}
	}
	stream := false
	return &api.ChatRequest{
		Model:     m.name,
		Messages:  msgs,
		Stream:    &stream,
		Format:    AnswerSchema,
		KeepAlive: &api.Duration{Duration: askKeepAlive},
		Options: map[string]any{
			"temperature": 0,
			"seed":        askSeed,
			"num_predict": askNumPredict,
			"num_ctx":     askNumCtx,
		},
	}
}

// send asks the server once, with the timeout, and validates the answer.
func (m *Model) send(ctx context.Context, chat *api.ChatRequest) (*models.ModelAnswer, error) {
	m.init()
	if m.client == nil {
		return nil, fmt.Errorf("%w: no client (check OLLAMA_HOST)", ErrServerDown)
	}
	qctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	var resp *api.ChatResponse
	err := m.client.Chat(qctx, chat, func(r api.ChatResponse) error {
		if resp == nil {
			resp = &r
		} else { // should not stream, but join the pieces if it does
			resp.Message.Content += r.Message.Content
			resp.Done, resp.DoneReason = r.Done, r.DoneReason
		}
		return nil
	})
	if err != nil {
		return nil, m.classify(ctx, qctx, err)
	}
	if resp == nil {
		return nil, fmt.Errorf("%w: empty response", ErrInvalidAnswer)
	}
	if resp.DoneReason == "length" {
		return nil, fmt.Errorf("%w: cut off after %d tokens", ErrInvalidAnswer, askNumPredict)
	}
	a, err := ParseAnswer(resp.Message.Content)
	if err != nil {
		return nil, err
	}
	a.Model = m.name
	return a, nil
}

// classify turns a client error into one of the Err* states.
func (m *Model) classify(ctx, qctx context.Context, err error) error {
	var se api.StatusError
	var ue *url.Error
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("model question canceled: %w", ctx.Err())
	case errors.Is(err, context.DeadlineExceeded) || qctx.Err() != nil:
		return fmt.Errorf("%w within %s", ErrTimeout, m.timeout)
	case errors.As(err, &ue):
		return fmt.Errorf("%w at %s (%v)", ErrServerDown, hostOf(ue.URL), rootCause(err))
	case errors.As(err, &se) && se.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%w: %s (fix: ollama pull %s)", ErrModelMissing, m.name, m.name)
	}
	// Ollama's streaming client turns an error body into a plain error;
	// ask Show whether the model is there at all.
	sctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if _, serr := m.client.Show(sctx, &api.ShowRequest{Model: m.name}); errors.As(serr, &se) && se.StatusCode == http.StatusNotFound {
		return fmt.Errorf("%w: %s (fix: ollama pull %s)", ErrModelMissing, m.name, m.name)
	}
	return fmt.Errorf("%w: %s", ErrServer, oneLine(err.Error()))
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	return u.Host
}

func rootCause(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// ParseAnswer validates the model's reply against AnswerSchema: one JSON
// object with exactly risk (low, medium or high), a non-empty one-line
// reason and a list of strings. Anything else is ErrInvalidAnswer.
func ParseAnswer(content string) (*models.ModelAnswer, error) {
	var raw struct {
		Risk           *string   `json:"risk"`
		Reason         *string   `json:"reason"`
		DangerousSpans *[]string `json:"dangerous_spans"`
	}
	dec := json.NewDecoder(strings.NewReader(content))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidAnswer, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: text after the JSON object", ErrInvalidAnswer)
	}
	if raw.Risk == nil || raw.Reason == nil || raw.DangerousSpans == nil {
		return nil, fmt.Errorf("%w: risk, reason and dangerous_spans are all required", ErrInvalidAnswer)
	}
	var risk models.Risk
	switch *raw.Risk {
	case "low":
		risk = models.Low
	case "medium":
		risk = models.Medium
	case "high":
		risk = models.High
	default:
		return nil, fmt.Errorf("%w: risk %q is not low, medium or high", ErrInvalidAnswer, *raw.Risk)
	}
	reason := oneLine(*raw.Reason)
	if reason == "" {
		return nil, fmt.Errorf("%w: empty reason", ErrInvalidAnswer)
	}
	if len(reason) > maxReason {
		reason = reason[:maxReason] + "…"
	}
	spans := *raw.DangerousSpans
	if len(spans) > maxSpans {
		spans = spans[:maxSpans]
	}
	return &models.ModelAnswer{Risk: risk, Reason: reason, DangerousSpans: spans}, nil
}

// cacheKey names an answer by everything that decides it: the model, the
// options and the exact prompt (the command, the examples chosen by its
// shape, and the session context).
func cacheKey(chat *api.ChatRequest) string {
	h := sha256.New()
	b, _ := json.Marshal(struct {
		Model    string
		Options  map[string]any
		Format   json.RawMessage
		Messages []api.Message
	}{chat.Model, chat.Options, chat.Format, chat.Messages})
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// backoffState is the file shared by every chaperone process that says
// the server failed and when to try again.
type backoffState struct {
	Model  string    `json:"model"`
	Until  time.Time `json:"until"`
	Reason string    `json:"reason"`
}

func (m *Model) backoffPath() string { return filepath.Join(m.stateDir, "model-backoff.json") }

func (m *Model) backingOff() (backoffState, bool) {
	var b backoffState
	data, err := os.ReadFile(m.backoffPath())
	if err != nil || json.Unmarshal(data, &b) != nil {
		return b, false
	}
	return b, b.Model == m.name && m.now().Before(b.Until)
}

func (m *Model) setBackoff(cause error) {
	if m.backoff <= 0 {
		return
	}
	b, _ := json.Marshal(backoffState{Model: m.name, Until: m.now().Add(m.backoff), Reason: oneLine(cause.Error())})
	atomicfile.WriteFile(m.backoffPath(), b, 0o600, nil)
}

func (m *Model) clearBackoff() {
	os.Remove(m.backoffPath())
}

// Session history: one JSON line per command the shim decided, in
// $STATE/sessions/<session>.jsonl, read back as the model's context.

type sessionLine struct {
	fewshot.Turn
	Canon string `json:"canon,omitempty"`
}

const (
	historyTail = 16 << 10  // bytes read from the end of a session file
	historyMax  = 256 << 10 // a session file is cut back to its tail past this
)

func (m *Model) sessionPath(session string) string {
	h := sha256.Sum256([]byte(session))
	return filepath.Join(m.stateDir, "sessions", hex.EncodeToString(h[:12])+".jsonl")
}

// NoteDecision records a decided command of session, so that the model
// sees it as context for the next commands of the same session. The shim
// calls it for every command it decides (rules- or model-decided). Nil m,
// an empty session or a zero context setting records nothing.
func (m *Model) NoteDecision(session, command string, risk models.Risk, d models.Decision) error {
	if m == nil || session == "" || m.context <= 0 {
		return nil
	}
	line, _ := json.Marshal(sessionLine{
		Turn:  fewshot.Turn{Command: command, Risk: risk, Decision: d},
		Canon: fewshot.Canonical(command, m.parse(command)),
	})
	name := m.sessionPath(session)
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		return fmt.Errorf("note decision: %w", err)
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("note decision: %w", err)
	}
	_, werr := f.Write(append(line, '\n'))
	fi, serr := f.Stat()
	f.Close()
	if werr != nil {
		return fmt.Errorf("note decision: %w", werr)
	}
	if serr == nil && fi.Size() > historyMax {
		if tail, err := readTail(name, historyTail); err == nil {
			atomicfile.WriteFile(name, tail, 0o600, nil)
		}
	}
	return nil
}

// history returns the last context commands of session, oldest first,
// leaving out repeats of the command being rated (canon), so that an agent
// repeating a command asks the same question and hits the cache.
func (m *Model) history(session, canon string) []fewshot.Turn {
	if session == "" || m.context <= 0 {
		return nil
	}
	data, err := readTail(m.sessionPath(session), historyTail)
	if err != nil {
		return nil
	}
	lines := bytes.Split(data, []byte("\n"))
	var out []fewshot.Turn
	last := ""
	for i := len(lines) - 1; i >= 0 && len(out) < m.context; i-- {
		var l sessionLine
		if json.Unmarshal(lines[i], &l) != nil {
			continue
		}
		if l.Canon == canon || l.Canon == last && l.Canon != "" {
			continue
		}
		last = l.Canon
		out = append(out, l.Turn)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// readTail reads up to n bytes from the end of name, starting at a line.
func readTail(name string, n int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	off := max(fi.Size()-n, 0)
	buf := make([]byte, fi.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
		return nil, err
	}
	if off > 0 {
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf = buf[i+1:]
		}
	}
	return buf, nil
}
