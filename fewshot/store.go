package fewshot

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/chaperone-dev/chaperone/internal/atomicfile"
	"github.com/chaperone-dev/chaperone/models"
)

//go:embed examples.jsonl
var builtinJSONL []byte

// ParseFunc parses a command string into facts (parser.Parse).
type ParseFunc func(src string) *models.Facts

// AddedFile is the file in the user's example folder that Add writes to.
const AddedFile = "added.jsonl"

// Store is the set of examples: the built-in ones and the user's files in
// one folder. It is safe for concurrent use; Watch keeps it current while
// the files change.
type Store struct {
	dir    string
	parse  ParseFunc
	report func(error)

	mu       sync.RWMutex
	builtin  []Example
	user     []Example
	problems []error
}

// StoreOption configures a Store.
type StoreOption func(*Store)

// WithReport calls report for every broken line (a *LineError) or
// unreadable file found on each load. Without it, problems are only kept
// for Problems.
func WithReport(report func(error)) StoreOption { return func(s *Store) { s.report = report } }

// Open loads the built-in examples and the *.jsonl files in dir (which may
// be missing or empty: then only the built-in ones are used). parse computes
// each example's shape; nil parse gives every example an empty shape. Broken
// lines do not stop loading: see Problems.
func Open(dir string, parse ParseFunc, opts ...StoreOption) *Store {
	s := &Store{dir: dir, parse: parse}
	for _, o := range opts {
		o(s)
	}
	exs, errs, _ := ReadExamples(bytes.NewReader(builtinJSONL), "builtin")
	for i := range exs {
		exs[i].Source = "builtin"
	}
	s.builtin = s.shaped(exs)
	for _, e := range errs { // a broken built-in example is a bug, but still never fatal
		s.problem(e)
	}
	s.Reload()
	return s
}

// Dir returns the folder of the user's example files.
func (s *Store) Dir() string { return s.dir }

func (s *Store) shaped(exs []Example) []Example {
	if s.parse == nil {
		return exs
	}
	for i := range exs {
		exs[i].shape = ShapeOf(s.parse(exs[i].Cmd))
	}
	return exs
}

func (s *Store) problem(err error) {
	if s.report != nil {
		s.report(err)
	}
}

// Reload re-reads the user's files now. Watch calls it on every change.
func (s *Store) Reload() {
	var user []Example
	var problems []error
	if s.dir != "" {
		files, err := filepath.Glob(filepath.Join(s.dir, "*.jsonl"))
		if err != nil {
			problems = append(problems, fmt.Errorf("list %s: %w", s.dir, err))
		}
		sort.Strings(files)
		for _, name := range files {
			exs, errs, err := readFile(name)
			user = append(user, exs...)
			problems = append(problems, errs...)
			if err != nil {
				problems = append(problems, err)
			}
		}
	}
	user = s.shaped(user)
	s.mu.Lock()
	s.user, s.problems = user, problems
	s.mu.Unlock()
	for _, p := range problems {
		s.problem(p)
	}
}

func readFile(name string) ([]Example, []error, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, fmt.Errorf("read examples: %w", err)
	}
	defer f.Close()
	return ReadExamples(f, name)
}

// Examples returns every example: the user's first, then the built-in ones.
func (s *Store) Examples() []Example {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Concat(s.user, s.builtin)
}

// Problems returns the broken lines and unreadable files of the last load.
func (s *Store) Problems() []error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.problems)
}

// Nearest returns up to k examples most similar to shape, most similar
// first. The user's examples win ties over the built-in ones. Examples
// sharing nothing with shape are still used when fewer than k share
// something, so that the model always sees each risk level at work.
func (s *Store) Nearest(shape Shape, k int) []Example {
	if k <= 0 {
		return nil
	}
	all := s.Examples()
	type scored struct {
		ex    Example
		score float64
	}
	sc := make([]scored, len(all))
	for i, ex := range all {
		sc[i] = scored{ex, Similarity(shape, ex.shape)}
	}
	// Stable: among equal scores the user's examples (first in all) win.
	slices.SortStableFunc(sc, func(a, b scored) int { return cmp.Compare(b.score, a.score) })
	out := make([]Example, 0, k)
	for _, x := range sc[:min(k, len(sc))] {
		out = append(out, x.ex)
	}
	return out
}

// Watch re-reads the user's files whenever one changes, until ctx is done.
// A folder that does not exist yet (nor its parents) is watched for from
// the nearest folder above it that does. It returns an error only when
// watching cannot start.
func (s *Store) Watch(ctx context.Context) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch examples: %w", err)
	}
	// watched is s.dir, or the nearest existing folder above it.
	watched := ""
	arm := func() error {
		d := s.dir
		for {
			err := w.Add(d)
			switch {
			case err == nil:
				if watched != "" && watched != d {
					w.Remove(watched)
				}
				watched = d
				if d == s.dir || s.below(d) == "" {
					return nil
				}
				d = s.dir // made while d was being added: go deeper
			case errors.Is(err, fs.ErrNotExist) && d != filepath.Dir(d):
				d = filepath.Dir(d)
			default:
				return err
			}
		}
	}
	if err := arm(); err != nil {
		w.Close()
		return fmt.Errorf("watch examples: %w", err)
	}
	// onTheWay reports whether p is s.dir or a folder above it.
	onTheWay := func(p string) bool {
		return p == s.dir || strings.HasPrefix(s.dir, p+string(filepath.Separator))
	}
	go func() {
		defer w.Close()
		var debounce <-chan time.Time
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				switch {
				case watched != s.dir && ev.Has(fsnotify.Create) && onTheWay(ev.Name),
					ev.Name == watched && (ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename)):
					// A folder on the way appeared, or the watched one went
					// away: watch the nearest again, and read what is there.
					arm()
					debounce = time.After(30 * time.Millisecond)
				case ev.Name == s.dir || strings.HasSuffix(ev.Name, ".jsonl"):
					debounce = time.After(30 * time.Millisecond)
				}
			case <-w.Errors:
			case <-debounce:
				debounce = nil
				s.Reload()
			}
		}
	}()
	return nil
}

// below returns the existing folder just below d on the way to s.dir,
// or "" when there is none.
func (s *Store) below(d string) string {
	rel, err := filepath.Rel(d, s.dir)
	if err != nil || rel == "." {
		return ""
	}
	next := filepath.Join(d, strings.SplitN(rel, string(filepath.Separator), 2)[0])
	if fi, err := os.Stat(next); err == nil && fi.IsDir() {
		return next
	}
	return ""
}

// Stamp names the current state of the examples without reading them:
// the built-in set and each user file's name, size and modification time
// in dir. Prompts built while the stamp is unchanged use the same
// examples, so answers can be cached by it without loading the store.
func Stamp(dir string) string {
	h := sha256.New()
	h.Write(builtinJSONL)
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	sort.Strings(files)
	for _, name := range files {
		fi, err := os.Stat(name)
		if err != nil {
			continue
		}
		fmt.Fprintf(h, "\x00%s\x00%d\x00%d", filepath.Base(name), fi.Size(), fi.ModTime().UnixNano())
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ID is a short stable name for an example, used by `chaperone fewshot rm`.
func (ex Example) ID() string {
	h := sha256.Sum256([]byte(ex.Risk.String() + "\x00" + ex.Cmd))
	return hex.EncodeToString(h[:4])
}

// Add appends ex to the user's added.jsonl in dir, creating both as needed.
func Add(dir string, ex Example) error {
	if err := ex.Validate(); err != nil {
		return fmt.Errorf("add example: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("add example: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, AddedFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("add example: %w", err)
	}
	if _, err := f.Write(ex.Line()); err != nil {
		f.Close()
		return fmt.Errorf("add example: %w", err)
	}
	return f.Close()
}

// ErrNoExample is returned by Remove when no user example has the id.
var ErrNoExample = errors.New("no such example in the user's files")

// Remove deletes the user's examples whose ID is id from every *.jsonl file
// in dir, keeping every other line (broken ones included) as it was. It
// returns how many it removed, or ErrNoExample.
func Remove(dir, id string) (int, error) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	removed := 0
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			return removed, fmt.Errorf("remove example: %w", err)
		}
		lines := bytes.SplitAfter(data, []byte("\n"))
		kept := lines[:0]
		n := 0
		for _, l := range lines {
			if ex, err := parseLine(bytes.TrimSpace(l)); err == nil && ex.ID() == id {
				n++
				continue
			}
			kept = append(kept, l)
		}
		if n == 0 {
			continue
		}
		mode := fs.FileMode(0o600)
		if fi, err := os.Stat(name); err == nil {
			mode = fi.Mode() & fs.ModePerm
		}
		if err := atomicfile.WriteFile(name, bytes.Join(kept, nil), mode, nil); err != nil {
			return removed, fmt.Errorf("remove example: %w", err)
		}
		removed += n
	}
	if removed == 0 {
		return 0, ErrNoExample
	}
	return removed, nil
}
