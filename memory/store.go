package memory

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/chaperone-dev/chaperone/internal/atomicfile"
)

// Defaults of Store's limits.
const (
	DefaultMaxAge      = 7 * 24 * time.Hour
	DefaultMaxSessions = 256
	DefaultMaxBytes    = 64 << 10
)

// maxRead is the most of a session file Load reads; a file grown past it
// (it never should: Append compacts at MaxBytes) is read that far.
const maxRead = 1 << 20

// Store keeps session memories in a folder (chaperone's state folder's
// "sessions"), one file per session: lines of Notes, appended under
// an exclusive lock (of the folder), so that commands of one session that run at once
// both land; compacted (rewritten whole, atomically) when the file passes
// MaxBytes; pruned when untouched for MaxAge or beyond MaxSessions files.
// Readers take no lock: a half-written last line is skipped. A Store is
// safe for concurrent use, also from several processes.
type Store struct {
	// Dir holds the files; it is created (0700) when missing.
	Dir string
	// MaxAge, MaxSessions and MaxBytes are the limits; zero means the
	// default.
	MaxAge      time.Duration
	MaxSessions int
	MaxBytes    int64
}

// Path returns the file that holds session id's memory. The name is a
// hash of id, so any id is a safe, short file name.
func (st Store) Path(id string) string {
	h := sha256.Sum256([]byte(id))
	return filepath.Join(st.Dir, hex.EncodeToString(h[:16])+".mem")
}

// Load returns session id's memory. A session with no file is empty. A
// file that cannot be read gives an empty memory and the error; lines
// that do not decode are skipped (a damaged memory is a smaller one: the
// memory only ever raises ratings).
func (st Store) Load(id string) (*Session, error) {
	s := &Session{}
	f, err := os.Open(st.Path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("load session memory: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxRead))
	if err != nil {
		return &Session{}, fmt.Errorf("load session memory: %w", err)
	}
	decode(s, b)
	return s, nil
}

// decode folds the complete lines of b into s. The text is converted
// once; the notes' fields are slices of it.
func decode(s *Session, b []byte) {
	data := string(b)
	for len(data) > 0 {
		i := strings.IndexByte(data, '\n')
		if i < 0 {
			return // a line still being written, or cut off
		}
		line := data[:i]
		data = data[i+1:]
		if n, ok := parseNote(line); ok {
			s.Apply(n)
		}
	}
}

// A note is stored as one line of tab-separated fields, in the order of
// noteFields, each with backslash, tab and newline escaped. It is much
// quicker to read than JSON, and loading is on every command's path.
const noteFields = 10 // op path from how project name value push origin text

// appendNote appends n's line to buf.
func appendNote(buf []byte, n Note) []byte {
	push := "0"
	if n.Push {
		push = "1"
	}
	for i, f := range [noteFields]string{string(n.Op), n.Path, n.From, strconv.Itoa(int(n.How)), n.Project, n.Name, n.Value, push, n.Origin, n.Text} {
		if i > 0 {
			buf = append(buf, '\t')
		}
		buf = appendEscaped(buf, f)
	}
	return append(buf, '\n')
}

func appendEscaped(buf []byte, f string) []byte {
	for i := 0; i < len(f); i++ {
		switch c := f[i]; c {
		case '\\':
			buf = append(buf, '\\', '\\')
		case '\t':
			buf = append(buf, '\\', 't')
		case '\n':
			buf = append(buf, '\\', 'n')
		default:
			buf = append(buf, c)
		}
	}
	return buf
}

// parseNote reads one line; ok is false for a line that is not a note.
func parseNote(line string) (n Note, ok bool) {
	var f [noteFields]string
	for i := range noteFields {
		j := strings.IndexByte(line, '\t')
		if i == noteFields-1 {
			if j >= 0 {
				return n, false
			}
			j = len(line)
		} else if j < 0 {
			return n, false
		}
		v, good := unescapeField(line[:j])
		if !good {
			return n, false
		}
		f[i] = v
		if j < len(line) {
			line = line[j+1:]
		} else {
			line = ""
		}
	}
	how, err := strconv.ParseUint(f[3], 10, 8)
	if err != nil || f[0] == "" || f[7] != "0" && f[7] != "1" {
		return n, false
	}
	return Note{Op: Op(f[0]), Path: f[1], From: f[2], How: How(how), Project: f[4], Name: f[5], Value: f[6], Push: f[7] == "1",
		Origin: f[8], Text: f[9]}, true
}

func unescapeField(b string) (string, bool) {
	if strings.IndexByte(b, '\\') < 0 {
		return b, true
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			out = append(out, b[i])
			continue
		}
		i++
		if i >= len(b) {
			return "", false
		}
		switch b[i] {
		case '\\':
			out = append(out, '\\')
		case 't':
			out = append(out, '\t')
		case 'n':
			out = append(out, '\n')
		default:
			return "", false
		}
	}
	return string(out), true
}

// Append adds notes to session id's memory, in one write under the
// folder's lock. The first note of a session prunes the folder.
func (st Store) Append(id string, notes ...Note) error {
	if len(notes) == 0 {
		return nil
	}
	var buf []byte
	for _, n := range notes {
		if len(n.Text) > MaxText {
			n.Text = n.Text[:MaxText+1] // Apply marks it Partial
		}
		buf = appendNote(buf, n)
	}
	if err := os.MkdirAll(st.Dir, 0o700); err != nil {
		return fmt.Errorf("save session memory: %w", err)
	}
	unlock, err := lockDir(st.Dir)
	if err != nil {
		return fmt.Errorf("save session memory: %w", err)
	}
	defer unlock()
	path := st.Path(id)
	_, serr := os.Lstat(path)
	created := errors.Is(serr, fs.ErrNotExist)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("save session memory: %w", err)
	}
	_, werr := f.Write(buf)
	fi, serr := f.Stat()
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("save session memory: %w", werr)
	}
	if serr == nil && fi.Size() > st.maxBytes() {
		if err := compact(path); err != nil {
			return err
		}
	}
	if created {
		st.prune(path)
	}
	return nil
}

// lockDir locks the folder dir exclusively (flock on the folder itself,
// whose inode never changes, unlike a file that compaction replaces)
// and returns the unlock.
func lockDir(dir string) (func(), error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(d.Fd()), unix.LOCK_EX); err != nil {
		d.Close()
		return nil, err
	}
	return func() { d.Close() }, nil
}

// compact rewrites the file at path (whose lock the caller holds) as the
// notes of the session it holds.
func compact(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("compact session memory: %w", err)
	}
	s := &Session{}
	decode(s, b)
	var buf []byte
	for _, n := range s.Notes() {
		buf = appendNote(buf, n)
	}
	if err := atomicfile.WriteFile(path, buf, 0o600, nil); err != nil {
		return fmt.Errorf("compact session memory: %w", err)
	}
	return nil
}

// prune removes session files untouched for MaxAge, then the oldest
// beyond MaxSessions; never keep, the file just created.
func (st Store) prune(keep string) {
	ents, err := os.ReadDir(st.Dir)
	if err != nil {
		return
	}
	type file struct {
		path string
		mod  time.Time
	}
	var files []file
	cutoff := time.Now().Add(-st.maxAge())
	for _, e := range ents {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), ".mem") {
			continue
		}
		p := filepath.Join(st.Dir, e.Name())
		if p == keep {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		if fi.ModTime().Before(cutoff) {
			os.Remove(p)
			continue
		}
		files = append(files, file{p, fi.ModTime()})
	}
	if extra := len(files) + 1 - st.maxSessions(); extra > 0 {
		sort.Slice(files, func(i, j int) bool { return files[i].mod.Before(files[j].mod) })
		for _, f := range files[:min(extra, len(files))] {
			os.Remove(f.path)
		}
	}
}

func (st Store) maxAge() time.Duration {
	if st.MaxAge > 0 {
		return st.MaxAge
	}
	return DefaultMaxAge
}

func (st Store) maxSessions() int {
	if st.MaxSessions > 0 {
		return st.MaxSessions
	}
	return DefaultMaxSessions
}

func (st Store) maxBytes() int64 {
	if st.MaxBytes > 0 {
		return st.MaxBytes
	}
	return DefaultMaxBytes
}
