package audit

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/chaperone-dev/chaperone/models"
)

// CastHeader is the header line of an asciicast v2 file.
type CastHeader struct {
	Version   int               `json:"version"`
	Width     int               `json:"width"`
	Height    int               `json:"height"`
	Timestamp int64             `json:"timestamp,omitempty"`
	Command   string            `json:"command,omitempty"`
	Title     string            `json:"title,omitempty"`
	Env       map[string]string `json:"env,omitempty"`
	// IdleTimeLimit asks players to shorten every pause to this many
	// seconds; 0 leaves them as recorded.
	IdleTimeLimit float64 `json:"idle_time_limit,omitempty"`
}

// Recorder keeps a command's output beside its record, as an asciicast v2
// file (a header line, then one [seconds, "o", text] event a line) that
// `asciinema play` and `chaperone audit replay` can play. Output is
// redacted like records are, and capped: past the cap bytes are counted,
// not kept, and a final event says so.
//
// Tee wraps the writers the command's stdout and stderr go to: what the
// agent sees is exactly what the command wrote (the recording is a copy
// taken after the write, and a failing recording never fails the write).
// A Recorder is safe for concurrent use: stdout and stderr may be copied
// from two goroutines.
//
// Terminals: tee only a command whose stdout is not a terminal. A
// command on a terminal must keep the real *os.File (isatty, window size,
// raw mode), so the shim hands it the file untouched and records nothing;
// Event.Output is then nil.
type Recorder struct {
	mu        sync.Mutex
	f         *castFile
	w         *bufio.Writer
	sum       hash.Hash
	rel       string
	start     time.Time
	cap       int64
	total     int64 // bytes the command wrote
	recorded  int64 // bytes of command output kept
	pending   []byte
	red       streamRedactor
	crlf      bool
	lastCR    bool
	closed    bool
	writeErr  error
	truncated bool
}

// RecorderOption configures a Recorder.
type RecorderOption func(*Recorder, *CastHeader)

// WithSize sets the terminal size written in the cast header (default 80x24).
func WithSize(width, height int) RecorderOption {
	return func(_ *Recorder, h *CastHeader) { h.Width, h.Height = width, height }
}

// WithRawNewlines keeps "\n" as written. By default a bare "\n" is
// recorded as "\r\n", as a terminal would show it, so that output written
// to a pipe replays without a staircase.
func WithRawNewlines() RecorderOption { return func(r *Recorder, _ *CastHeader) { r.crlf = false } }

// NewRecorder starts recording ev's output in
// output/YYYY-MM-DD/ID.cast under the log's directory, setting ev.ID when
// empty (so the record and its output share it). Call Close when the
// command is done and store its result in ev.Output before Append.
// When the log's output cap is 0 it returns nil, nil: a nil *Recorder
// records nothing and its Tee returns the writer unchanged.
func (l *Log) NewRecorder(ev *models.Event, opts ...RecorderOption) (*Recorder, error) {
	if l.outputCap <= 0 {
		return nil, nil
	}
	if ev.Time.IsZero() {
		ev.Time = l.now()
	}
	if ev.ID == "" {
		ev.ID = NewID(ev.Time)
	}
	rel := filepath.Join(outputDir, ev.Time.UTC().Format(dayLayout), ev.ID+".cast")
	cmd, _ := Redact(cmp.Or(ev.Inner, ev.Command))
	h := CastHeader{Version: 2, Width: 80, Height: 24, Timestamp: ev.Time.Unix(), Command: cmd,
		Title: ev.Session, Env: castEnv()}
	r := &Recorder{rel: rel, start: time.Now(), cap: l.outputCap, crlf: true, sum: sha256.New()}
	for _, o := range opts {
		o(r, &h)
	}
	// The file is made when the first 32 KiB are written out, or at
	// Close: a short command's output costs no file system work while it
	// runs (a session's statement waits for none).
	r.f = &castFile{path: filepath.Join(l.dir, rel)}
	r.w = bufio.NewWriterSize(io.MultiWriter(r.f, r.sum), 32<<10)
	hb, _ := marshal(h)
	r.w.Write(hb)
	r.w.WriteByte('\n')
	return r, nil
}

// Tee returns a writer that writes to w and records a copy. A nil
// Recorder returns w itself.
func (r *Recorder) Tee(w io.Writer) io.Writer {
	if r == nil {
		return w
	}
	return &teeWriter{w: w, r: r}
}

type teeWriter struct {
	w io.Writer
	r *Recorder
}

func (t *teeWriter) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	if n > 0 {
		t.r.record(p[:n])
	}
	return n, err
}

// Write records p as output without writing it anywhere else.
func (r *Recorder) Write(p []byte) (int, error) {
	r.record(p)
	return len(p), nil
}

// maxPending is how long a line may grow before it is recorded unfinished.
const maxPending = 4 << 10

// record keeps p: complete lines (ending in \n or \r) are redacted and
// written as one event; an unfinished line waits for the rest of it, so a
// secret split across two writes is still redacted.
func (r *Recorder) record(p []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.total += int64(len(p))
	if r.truncated {
		return
	}
	room := r.cap - r.recorded - int64(len(r.pending))
	if int64(len(p)) > room {
		p = p[:max(room, 0)]
		r.truncated = true
	}
	r.pending = append(r.pending, p...)
	cut := bytes.LastIndexAny(r.pending, "\r\n") + 1
	if cut == 0 && len(r.pending) >= maxPending {
		cut = len(r.pending)
	}
	if r.truncated {
		cut = len(r.pending)
	}
	if cut > 0 {
		// Never split a UTF-8 sequence between two events.
		for cut < len(r.pending) && cut > 0 && !utf8.RuneStart(r.pending[cut]) {
			cut--
		}
		r.emit(r.pending[:cut])
		r.pending = append(r.pending[:0], r.pending[cut:]...)
	}
}

// emit redacts and writes one output event.
func (r *Recorder) emit(b []byte) {
	if len(b) == 0 {
		return
	}
	r.recorded += int64(len(b))
	var text strings.Builder
	s := string(b)
	for len(s) > 0 {
		i := strings.IndexAny(s, "\n\r")
		var seg string
		if i < 0 {
			seg, s = s, ""
		} else {
			seg, s = s[:i+1], s[i+1:]
		}
		text.WriteString(r.red.line(seg))
	}
	out := text.String()
	if r.crlf {
		out = r.toCRLF(out)
	}
	r.event(out)
}

// toCRLF turns a bare "\n" into "\r\n".
func (r *Recorder) toCRLF(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\n' && !r.lastCR {
			b.WriteByte('\r')
		}
		b.WriteByte(c)
		r.lastCR = c == '\r'
	}
	return b.String()
}

func (r *Recorder) event(text string) {
	t := time.Since(r.start).Seconds()
	b, _ := marshal([]any{json.Number(fmt.Sprintf("%.6f", t)), "o", text})
	r.w.Write(b)
	if err := r.w.WriteByte('\n'); err != nil && r.writeErr == nil {
		r.writeErr = err
	}
}

// Close records what is still pending, marks a truncation, closes the
// file and returns what to store in Event.Output. A nil Recorder returns
// nil. The error reports a failure to write the recording, never the
// command's.
func (r *Recorder) Close() (*models.Output, error) {
	if r == nil {
		return nil, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, fmt.Errorf("audit: recorder closed twice")
	}
	r.closed = true
	r.emit(r.pending)
	r.pending = nil
	if r.total > r.recorded {
		r.event(fmt.Sprintf("\r\n[chaperone: output truncated: %d of %d bytes recorded]\r\n", r.recorded, r.total))
	}
	err := r.w.Flush()
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	if r.f.f == nil {
		return nil, fmt.Errorf("audit: record output: %w", err) // no file was made
	}
	if err == nil {
		err = r.writeErr
	}
	out := &models.Output{Path: filepath.ToSlash(r.rel), Bytes: r.total, Recorded: r.recorded,
		Truncated: r.total > r.recorded, SHA256: hex.EncodeToString(r.sum.Sum(nil)), Redactions: r.red.n}
	if err != nil {
		return out, fmt.Errorf("audit: record output: %w", err)
	}
	return out, nil
}

// castFile is a recording's file, made (never replacing one) when it is
// first written to.
type castFile struct {
	path string
	f    *os.File
}

func (c *castFile) Write(p []byte) (int, error) {
	if c.f == nil {
		if err := os.MkdirAll(filepath.Dir(c.path), 0o700); err != nil {
			return 0, err
		}
		f, err := os.OpenFile(c.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return 0, err
		}
		c.f = f
	}
	return c.f.Write(p)
}

// Close closes the file, if it was made.
func (c *castFile) Close() error {
	if c.f == nil {
		return nil
	}
	return c.f.Close()
}

// Cast is a recorded output read back: its header and events.
type Cast struct {
	Header CastHeader
	Events []CastEvent
}

// CastEvent is one [time, "o", data] line of a cast.
type CastEvent struct {
	Time float64
	Type string
	Data string
}

// ReadCast reads an asciicast v2 file.
func ReadCast(path string) (*Cast, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseCast(f, path)
}

// parseCast reads an asciicast v2 document from r; path names it in
// errors.
func parseCast(r io.Reader, path string) (*Cast, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	c := &Cast{}
	if !sc.Scan() {
		return nil, fmt.Errorf("read cast %s: empty", path)
	}
	if err := json.Unmarshal(sc.Bytes(), &c.Header); err != nil || c.Header.Version != 2 {
		return nil, fmt.Errorf("read cast %s: not an asciicast v2 header", path)
	}
	for sc.Scan() {
		var raw []json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil || len(raw) != 3 {
			return nil, fmt.Errorf("read cast %s: bad event %q", path, sc.Bytes())
		}
		var e CastEvent
		if json.Unmarshal(raw[0], &e.Time) != nil || json.Unmarshal(raw[1], &e.Type) != nil || json.Unmarshal(raw[2], &e.Data) != nil {
			return nil, fmt.Errorf("read cast %s: bad event %q", path, sc.Bytes())
		}
		c.Events = append(c.Events, e)
	}
	return c, sc.Err()
}

// Text returns all the output of a cast, concatenated.
func (c *Cast) Text() string {
	var b strings.Builder
	for _, e := range c.Events {
		if e.Type == "o" {
			b.WriteString(e.Data)
		}
	}
	return b.String()
}
