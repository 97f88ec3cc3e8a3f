package audit

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/chaperone-dev/chaperone/models"
)

// File names inside the audit directory.
const (
	logExt    = ".jsonl"
	lockName  = "lock"
	headName  = "head"
	outputDir = "output"
	dayLayout = "2006-01-02"
	headSize  = 256
)

// Dir returns the default audit directory, $XDG_STATE_HOME/chaperone/audit
// (~/.local/state/chaperone/audit when XDG_STATE_HOME is unset). The
// [audit] dir setting (config.AuditConfig.AuditDir) overrides it.
func Dir() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "chaperone", "audit")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".local", "state", "chaperone", "audit")
}

// Log appends records to the audit log in one directory. Any number of
// Logs, in any number of processes, may append to the same directory at
// once. A Log is safe for concurrent use.
type Log struct {
	dir       string
	lock      *os.File
	mu        sync.Mutex // serialises this process's appends (flock is per open file)
	fsync     bool
	retention int
	outputCap int64
	now       func() time.Time
}

// Option configures a Log.
type Option func(*Log)

// WithFsync makes every append fsync the log file before returning. Off by
// default: an append is then durable against the writer crashing (the
// data is in the kernel), not against the machine losing power.
func WithFsync(on bool) Option { return func(l *Log) { l.fsync = on } }

// WithRetention keeps days of logs: when a new day's file is started,
// older files and their output are removed and a "prune" record says so.
// 0 (the default) keeps everything.
func WithRetention(days int) Option { return func(l *Log) { l.retention = days } }

// WithOutputCap sets how many bytes of output a Recorder keeps per
// command (default 1 MiB; 0 records no output).
func WithOutputCap(n int64) Option { return func(l *Log) { l.outputCap = n } }

// WithClock replaces time.Now, for tests and for importing old records.
func WithClock(now func() time.Time) Option { return func(l *Log) { l.now = now } }

// DefaultOutputCap is the default per-command output cap.
const DefaultOutputCap = 1 << 20

// Open opens (creating it, mode 0700, when missing) the audit directory dir
// for appending. Close releases it.
func Open(dir string, opts ...Option) (*Log, error) {
	l := &Log{dir: dir, outputCap: DefaultOutputCap, now: time.Now}
	for _, o := range opts {
		o(l)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	l.lock = f
	return l, nil
}

// Dir returns the directory the log writes to.
func (l *Log) Dir() string { return l.dir }

// Close releases the log. Records already appended stay written.
func (l *Log) Close() error { return l.lock.Close() }

// OutputCap is how many bytes of a command's output are recorded; 0 or
// less: none.
func (l *Log) OutputCap() int64 { return l.outputCap }

// Warm does ahead of time the work that the first Append of a process
// would otherwise pay for: building the JSON encoders of a record and of
// the head file. Call it while waiting for something else (the sandbox
// starting).
func Warm() {
	marshal(&models.Event{})
	var h head
	json.Unmarshal([]byte(`{"file":"","seq":0,"hash":""}`), &h)
	json.Marshal(h)
}

// Record appends ev; it is Append under the name the shim's Recorder
// interface uses.
func (l *Log) Record(ev *models.Event) error { return l.Append(ev) }

// Append redacts ev (in place: Command, Inner, Note, Facts, findings and
// the model's answer), sets its Time (when zero), ID (when empty), Seq and
// Prev, and appends it to the log as one line with one write under an
// exclusive lock, so concurrent writers never interleave. A partial last
// line left by a writer that crashed is repaired first (see Torn).
func (l *Log) Append(ev *models.Event) error {
	if ev.Time.IsZero() {
		ev.Time = l.now()
	}
	if ev.ID == "" {
		ev.ID = NewID(ev.Time)
	}
	ev.Redactions += redactEvent(ev)
	ev.Seq, ev.Prev, ev.Torn, ev.Anchor = 0, "", nil, nil
	body, err := marshal(ev)
	if err != nil {
		return fmt.Errorf("audit: encode record: %w", err)
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if err := unix.Flock(int(l.lock.Fd()), unix.LOCK_EX); err != nil {
		return fmt.Errorf("audit: lock: %w", err)
	}
	defer unix.Flock(int(l.lock.Fd()), unix.LOCK_UN)

	seq, prev, torn, err := l.appendLocked(body, ev)
	if err != nil {
		return fmt.Errorf("audit: append: %w", err)
	}
	ev.Seq, ev.Prev, ev.Torn = seq, prev, torn
	return nil
}

// head is the small file that names the last record written, so that
// cutting records off the end of the log is detectable.
type head struct {
	File string `json:"file"`
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

func readHead(dir string) (head, bool) {
	var h head
	b, err := os.ReadFile(filepath.Join(dir, headName))
	if err != nil || json.Unmarshal(bytes.TrimSpace(b), &h) != nil || h.File == "" {
		return head{}, false
	}
	return h, true
}

func (l *Log) writeHead(h head) error {
	b, _ := json.Marshal(h)
	if len(b) >= headSize {
		return errors.New("head record too long")
	}
	buf := bytes.Repeat([]byte(" "), headSize)
	copy(buf, b)
	buf[headSize-1] = '\n'
	f, err := os.OpenFile(filepath.Join(l.dir, headName), os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteAt(buf, 0)
	if err == nil && l.fsync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// appendLocked writes body as the next record. The caller holds the lock.
func (l *Log) appendLocked(body []byte, ev *models.Event) (int64, string, *models.Torn, error) {
	name := l.now().UTC().Format(dayLayout) + logExt
	h, hasHead := readHead(l.dir)
	if hasHead && h.File > name {
		name = h.File // the clock went back: never write behind the head
	}
	f, err := os.OpenFile(filepath.Join(l.dir, name), os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return 0, "", nil, err
	}
	defer f.Close()
	st, err := readTail(f)
	if err != nil {
		return 0, "", nil, err
	}

	if st.size > 0 && st.prev == "" {
		// The file holds only part of its first write: a writer died in
		// it before any record was whole, so none was ever acknowledged.
		// Start the file again, or it could not begin with its anchor.
		if err := f.Truncate(0); err != nil {
			return 0, "", nil, err
		}
		st = tailState{}
	}
	var buf bytes.Buffer
	if st.size == 0 {
		// A new file starts with an anchor naming the file before it.
		prevName, prevSt, err := l.previousFile(name)
		if err != nil {
			return 0, "", nil, err
		}
		anchor := &models.Event{Kind: models.KindAnchor, Time: l.now(), ID: NewID(l.now()), Session: ev.Session,
			Anchor: &models.Anchor{PrevFile: prevName, PrevSeq: prevSt.seq}, Torn: prevSt.torn}
		st.prev = writeRecord(&buf, anchor, 1, prevSt.prev)
		st.seq = 1
		if pruned := l.prune(name); len(pruned) > 0 {
			p := &models.Event{Kind: models.KindPrune, Time: l.now(), ID: NewID(l.now()), Session: ev.Session, Pruned: pruned}
			st.seq++
			st.prev = writeRecord(&buf, p, st.seq, st.prev)
		}
	} else if st.partial != nil {
		// A writer died mid-record: end its partial line here; this record
		// commits to it (Torn) so verify can tell a crash from an edit.
		buf.WriteByte('\n')
	}
	seq := st.seq + 1
	var torn *models.Torn
	if st.size > 0 {
		torn = st.torn
	}
	line := spliceChain(body, seq, st.prev, torn)
	buf.Write(line)
	buf.WriteByte('\n')
	if _, err := writeRecords(f, buf.Bytes()); err != nil {
		return 0, "", nil, err
	}
	if l.fsync {
		if err := f.Sync(); err != nil {
			return 0, "", nil, err
		}
	}
	if err := l.writeHead(head{File: name, Seq: seq, Hash: hashLine(line)}); err != nil {
		return 0, "", nil, err
	}
	return seq, st.prev, torn, nil
}

// writeRecords is the one write(2) of an append. Tests replace it to
// simulate a writer killed in the middle of a record.
var writeRecords = func(f *os.File, b []byte) (int, error) { return f.Write(b) }

// marshal encodes a record without HTML escaping, so that `>` and `&` in
// a command stay greppable.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), nil
}

// ownRecord is the shape of audit's own records (anchor, prune): an Event
// without the command fields, which would only be empty there.
type ownRecord struct {
	Kind    string         `json:"kind"`
	ID      string         `json:"id"`
	Time    time.Time      `json:"time"`
	Session string         `json:"session,omitempty"` // the session whose append wrote it
	Anchor  *models.Anchor `json:"anchor,omitempty"`
	Pruned  []string       `json:"pruned,omitempty"`
}

// writeRecord marshals a record of audit's own, chains it, writes it to buf
// and returns its hash.
func writeRecord(buf *bytes.Buffer, ev *models.Event, seq int64, prev string) string {
	body, _ := marshal(ownRecord{Kind: ev.Kind, ID: ev.ID, Time: ev.Time, Session: ev.Session, Anchor: ev.Anchor, Pruned: ev.Pruned})
	line := spliceChain(body, seq, prev, ev.Torn)
	buf.Write(line)
	buf.WriteByte('\n')
	return hashLine(line)
}

// spliceChain puts the chain fields at the front of a marshalled record:
// {"seq":N,"prev":"…","torn":{…}, …rest of body}.
func spliceChain(body []byte, seq int64, prev string, torn *models.Torn) []byte {
	out := make([]byte, 0, len(body)+128)
	out = append(out, `{"seq":`...)
	out = strconv.AppendInt(out, seq, 10)
	if prev != "" {
		out = append(out, `,"prev":"`...)
		out = append(out, prev...)
		out = append(out, '"')
	}
	if torn != nil {
		t, _ := json.Marshal(torn)
		out = append(out, `,"torn":`...)
		out = append(out, t...)
	}
	if len(body) > 2 {
		out = append(out, ',')
	}
	return append(out, body[1:]...)
}

// hashLine is the chain hash of one stored line (without its newline).
func hashLine(line []byte) string {
	s := sha256.Sum256(line)
	return hex.EncodeToString(s[:])
}

// tailState is what an appender needs to know about the end of a file.
type tailState struct {
	size    int64
	seq     int64        // Seq of the last complete record
	prev    string       // hash of the last complete line
	partial []byte       // bytes after the last newline (a torn record)
	torn    *models.Torn // set when partial is not a record
}

// readTail reads the end of f: the last complete line and anything after it.
func readTail(f *os.File) (tailState, error) {
	fi, err := f.Stat()
	if err != nil {
		return tailState{}, err
	}
	st := tailState{size: fi.Size()}
	if st.size == 0 {
		return st, nil
	}
	// Read backwards, in growing chunks, until the data holds the start
	// of the last complete line.
	chunk := int64(8 << 10)
	var data []byte
	off := st.size
	for ; ; chunk *= 2 {
		n := chunk
		if off < n {
			n = off
		}
		off -= n
		b := make([]byte, n)
		if _, err := f.ReadAt(b, off); err != nil && !errors.Is(err, io.EOF) {
			return st, err
		}
		data = append(b, data...)
		// Two newlines: the one ending the last complete line and the one
		// before it (or we are at the start of the file).
		if off == 0 || bytes.Count(data, []byte{'\n'}) >= 2 {
			break
		}
		if len(data) > 256<<20 {
			return st, errors.New("last record longer than 256 MiB")
		}
	}
	last := data
	if i := bytes.LastIndexByte(data, '\n'); i != len(data)-1 {
		// Bytes after the last newline: a record cut short.
		st.partial = data[i+1:]
		last = data[:i+1]
	}
	if p := st.partial; p != nil {
		if seq, ok := parseSeq(p); ok && json.Valid(p) {
			// The whole record made it; only its newline is missing.
			st.seq, st.prev = seq, hashLine(p)
			st.torn = nil
			return st, nil
		}
		st.torn = &models.Torn{Bytes: len(p), SHA256: hashLine(p)}
	}
	last = bytes.TrimSuffix(last, []byte{'\n'})
	if i := bytes.LastIndexByte(last, '\n'); i >= 0 {
		last = last[i+1:]
	}
	if len(last) > 0 {
		st.prev = hashLine(last)
		st.seq, _ = parseSeq(last) // an unreadable line leaves seq 0; verify reports it
	}
	return st, nil
}

// parseSeq reads the "seq" field at the front of a stored line.
func parseSeq(line []byte) (int64, bool) {
	const pre = `{"seq":`
	if !bytes.HasPrefix(line, []byte(pre)) {
		return 0, false
	}
	rest := line[len(pre):]
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	n, err := strconv.ParseInt(string(rest[:i]), 10, 64)
	return n, err == nil && i < len(rest) && (rest[i] == ',' || rest[i] == '}')
}

// previousFile finds the newest log file before name and its end state.
func (l *Log) previousFile(name string) (string, tailState, error) {
	files, err := logFiles(l.dir)
	if err != nil {
		return "", tailState{}, err
	}
	prev := newestBefore(files, name)
	if prev == "" {
		return "", tailState{}, nil
	}
	f, err := os.Open(filepath.Join(l.dir, prev))
	if err != nil {
		return "", tailState{}, err
	}
	defer f.Close()
	st, err := readTail(f)
	return prev, st, err
}

// prune removes log files (and their output) older than the retention
// period, never the newest file before current. It returns their names.
func (l *Log) prune(current string) []string {
	if l.retention <= 0 {
		return nil
	}
	cutoff := l.now().UTC().AddDate(0, 0, -l.retention).Format(dayLayout) + logExt
	files, err := logFiles(l.dir)
	if err != nil {
		return nil
	}
	keep := newestBefore(files, current) // the file the new anchor names stays, so its hash can be checked
	var pruned []string
	for _, f := range files {
		if f >= cutoff || f >= current || f == keep {
			continue
		}
		if err := os.Remove(filepath.Join(l.dir, f)); err != nil {
			continue
		}
		pruned = append(pruned, f)
	}
	// Output is filed by the day its command started, which can be the
	// day before its record's file: keep one day more of it.
	outCutoff := l.now().UTC().AddDate(0, 0, -l.retention-1).Format(dayLayout)
	if ents, err := os.ReadDir(filepath.Join(l.dir, outputDir)); err == nil {
		for _, e := range ents {
			if e.IsDir() && len(e.Name()) == len(dayLayout) && e.Name() < outCutoff {
				os.RemoveAll(filepath.Join(l.dir, outputDir, e.Name()))
			}
		}
	}
	return pruned
}

// newestBefore returns the last of the sorted files that sorts before
// name ("" when none does).
func newestBefore(files []string, name string) string {
	prev := ""
	for _, f := range files {
		if f < name {
			prev = f
		}
	}
	return prev
}

// logFiles lists the log files in dir, oldest first.
func logFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if e.Type().IsRegular() && strings.HasSuffix(n, logExt) && len(n) == len(dayLayout)+len(logExt) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

// NewID returns a fresh record id: the time and 6 random bytes, so ids sort
// by time and never collide between concurrent shims.
func NewID(t time.Time) string {
	var b [6]byte
	rand.Read(b[:])
	return t.UTC().Format("20060102T150405.000000") + "-" + hex.EncodeToString(b[:])
}
