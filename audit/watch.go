package audit

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/chaperone-dev/chaperone/models"
)

// IgnoredDirs are directory names whose contents WatchTree does not watch:
// build outputs and caches that change by the thousand and say little.
// Creating or removing such a directory itself is still recorded.
var IgnoredDirs = []string{
	"node_modules", "target", "__pycache__", ".cache", ".venv", "venv", ".tox",
	".mypy_cache", ".pytest_cache", ".ruff_cache", ".gradle", ".next", ".nuxt",
	".turbo", ".terraform", ".parcel-cache", ".sass-cache", "bazel-out", ".direnv",
}

// ignoredPaths are paths below the root that are not watched.
var ignoredPaths = []string{".git/objects", ".git/lfs", ".git/logs"}

// Watch defaults.
const (
	DefaultMaxDirs  = 2000
	DefaultMaxFiles = 1000
	// DefaultSetupBudget bounds how long WatchTree spends adding watches
	// before the command starts; the rest of the tree is then not watched.
	DefaultSetupBudget = 100 * time.Millisecond
	// settle is how long Stop waits for events still in flight.
	settle = 5 * time.Millisecond
)

// WatchOption configures WatchTree.
type WatchOption func(*TreeWatcher)

// MaxDirs caps how many directories are watched (inotify watches are a
// per-user kernel resource shared by every running shim).
func MaxDirs(n int) WatchOption { return func(w *TreeWatcher) { w.maxDirs = n } }

// MaxFiles caps how many changed paths are kept; the rest are counted.
func MaxFiles(n int) WatchOption { return func(w *TreeWatcher) { w.maxFiles = n } }

// SetupBudget bounds the time spent adding watches.
func SetupBudget(d time.Duration) WatchOption { return func(w *TreeWatcher) { w.budget = d } }

// LeaveOpen makes Stop leave the inotify instance open. Closing one that
// had watches waits for the kernel (synchronize_srcu: 5-25 ms), which a
// short-lived process would rather hand to someone else; see the shim.
func LeaveOpen() WatchOption { return func(w *TreeWatcher) { w.leaveOpen = true } }

// InBackground makes WatchTree return as soon as the root itself is
// watched and add the watches below it while the command already runs.
// The command starts without waiting for the walk (about 15 µs a
// directory), but what it changes in a directory not yet watched is missed.
func InBackground() WatchOption { return func(w *TreeWatcher) { w.background = true } }

// TreeWatcher records the paths created, modified and removed under a
// directory tree while a command runs. It is safe for concurrent use.
type TreeWatcher struct {
	root     string
	maxDirs  int
	maxFiles int
	budget   time.Duration
	fsw      *fsnotify.Watcher
	// background walk (InBackground): stopping ends it, walked is
	// closed when it is over.
	background bool
	leaveOpen  bool
	stopping   atomic.Bool
	walked     chan struct{}
	done       chan struct{} // closed by Stop
	exited     chan struct{} // closed when loop returns
	stopOnce   sync.Once

	mu      sync.Mutex
	dirs    int
	order   []string
	ops     map[string]string
	dropped int
	note    string
}

// WatchTree starts watching root and every directory below it (except
// IgnoredDirs and .git/objects), recursively, including directories
// created while it runs. It returns once the watches are in place, or when
// MaxDirs or SetupBudget is reached: then the rest of the tree is not
// watched and Note says so. Call Stop when the command has finished.
//
// Cost: the walk reads every directory and adds one inotify watch to each,
// about 15 µs a directory: 2,221 directories take about 35 ms on a 2-core
// VM (BenchmarkWatchTree), paid before the command starts. Hence the caps
// (MaxDirs, default 2,000; SetupBudget, default 100 ms), and InBackground
// for when starting at once matters more than catching every change.
// inotify watches and instances are limited per user
// (fs.inotify.max_user_instances, often 128), so an error here must not
// stop the command: record it in Event.FilesNote and run anyway.
//
// Paths are relative to root; what happens outside root (or in another
// mount inside the sandbox that is not the working tree) is not seen.
func WatchTree(ctx context.Context, root string, opts ...WatchOption) (*TreeWatcher, error) {
	w := &TreeWatcher{root: filepath.Clean(root), maxDirs: DefaultMaxDirs, maxFiles: DefaultMaxFiles,
		budget: DefaultSetupBudget, ops: map[string]string{}, done: make(chan struct{}), exited: make(chan struct{})}
	for _, o := range opts {
		o(w)
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", root, err)
	}
	w.fsw = fsw
	deadline := time.Now().Add(w.budget)
	w.walked = make(chan struct{})
	if w.background {
		if err := fsw.Add(w.root); err != nil {
			fsw.Close()
			return nil, fmt.Errorf("watch %s: %w", root, err)
		}
		go func() {
			defer close(w.walked)
			w.addTree(w.root, false, deadline)
		}()
	} else {
		defer close(w.walked)
		if err := w.addTree(w.root, false, deadline); err != nil {
			fsw.Close()
			return nil, fmt.Errorf("watch %s: %w", root, err)
		}
	}
	go w.loop(ctx)
	return w, nil
}

// Walked is closed once the watches below the root are in place (at once
// without InBackground).
func (w *TreeWatcher) Walked() <-chan struct{} { return w.walked }

// errLimit stops a walk at the watch cap or time budget.
var errLimit = errors.New("watch limit")

// addTree watches dir and the directories below it. When created is true
// the entries found are recorded as created (they appeared after the
// parent's watch but before this one).
func (w *TreeWatcher) addTree(dir string, created bool, deadline time.Time) error {
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == dir {
				return err
			}
			return nil // vanished or unreadable: nothing to watch
		}
		rel := w.rel(path)
		if d.IsDir() {
			// Stop cuts the first walk short; a folder the command made
			// is still walked while Stop drains the last events, or what
			// was made in it would be missed.
			if !created && w.stopping.Load() {
				return errLimit
			}
			if path != dir && w.ignored(rel) {
				if created {
					w.change(rel+"/", "created")
				}
				return filepath.SkipDir
			}
			w.mu.Lock()
			full := w.dirs >= w.maxDirs
			if full {
				w.setNote(fmt.Sprintf("watch limit reached: %d directories; changes deeper in the tree are not recorded", w.maxDirs))
			}
			w.mu.Unlock()
			if full {
				return errLimit
			}
			if !deadline.IsZero() && time.Now().After(deadline) {
				w.mu.Lock()
				w.setNote(fmt.Sprintf("watch setup stopped after %s; changes deeper in the tree are not recorded", w.budget))
				w.mu.Unlock()
				return errLimit
			}
			if err := w.fsw.Add(path); err != nil {
				if path == dir && dir == w.root {
					return err
				}
				w.mu.Lock()
				w.setNote("some directories are not watched: " + err.Error())
				w.mu.Unlock()
				return filepath.SkipDir
			}
			w.mu.Lock()
			w.dirs++
			w.mu.Unlock()
			if created && path != dir {
				w.change(rel+"/", "created")
			}
			return nil
		}
		if created {
			w.change(rel, "created")
		}
		return nil
	})
	if errors.Is(err, errLimit) {
		return nil
	}
	return err
}

func (w *TreeWatcher) setNote(s string) {
	if w.note == "" {
		w.note = s
	}
}

func (w *TreeWatcher) rel(path string) string {
	r, err := filepath.Rel(w.root, path)
	if err != nil {
		return path
	}
	return filepath.ToSlash(r)
}

// ignored reports whether the directory at rel is not to be watched.
func (w *TreeWatcher) ignored(rel string) bool {
	if slices.Contains(IgnoredDirs, rel[strings.LastIndexByte(rel, '/')+1:]) {
		return true
	}
	for _, p := range ignoredPaths {
		if rel == p || strings.HasPrefix(rel, p+"/") {
			return true
		}
	}
	return false
}

// inIgnored reports whether rel lies inside an ignored directory.
func (w *TreeWatcher) inIgnored(rel string) bool {
	parts := strings.Split(rel, "/")
	for i := 1; i < len(parts); i++ {
		if w.ignored(strings.Join(parts[:i], "/")) {
			return true
		}
	}
	return false
}

func (w *TreeWatcher) loop(ctx context.Context) {
	defer close(w.exited)
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.done:
			return
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return
			}
			w.handle(ev)
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return
			}
			w.mu.Lock()
			w.setNote("watch error: " + err.Error())
			w.mu.Unlock()
		}
	}
}

func (w *TreeWatcher) handle(ev fsnotify.Event) {
	rel := w.rel(ev.Name)
	if rel == "." || strings.HasPrefix(rel, "../") || w.inIgnored(rel) {
		return
	}
	switch {
	case ev.Has(fsnotify.Create):
		fi, err := os.Lstat(ev.Name)
		if err == nil && fi.IsDir() {
			if w.ignored(rel) {
				w.change(rel+"/", "created")
				return
			}
			w.change(rel+"/", "created")
			w.addTree(ev.Name, true, time.Time{})
			return
		}
		w.change(rel, "created")
	case ev.Has(fsnotify.Write), ev.Has(fsnotify.Chmod):
		w.change(rel, "modified")
	case ev.Has(fsnotify.Remove), ev.Has(fsnotify.Rename):
		w.mu.Lock()
		_, isDir := w.ops[rel+"/"]
		w.mu.Unlock()
		if isDir {
			w.change(rel+"/", "removed")
			return
		}
		w.change(rel, "removed")
	}
}

// change folds op into the net effect recorded for path:
// created+modified = created, created+removed = nothing,
// removed+created = modified, anything+removed = removed.
func (w *TreeWatcher) change(path, op string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	old, seen := w.ops[path]
	if !seen {
		if len(w.order) >= w.maxFiles {
			w.dropped++
			return
		}
		w.order = append(w.order, path)
		w.ops[path] = op
		return
	}
	switch {
	case old == "created" && op == "modified":
	case old == "created" && op == "removed":
		w.ops[path] = ""
	case old == "removed" && op == "created":
		w.ops[path] = "modified"
	case old == "" && op == "created":
		w.ops[path] = "created"
	case old == "" && op == "modified":
		w.ops[path] = "created"
	default:
		w.ops[path] = op
	}
}

// Stop ends the watch, waiting a few milliseconds for events still in
// flight, and returns the changes (net effect per path, in the order first
// seen, directories ending in "/") and how many were left out by MaxFiles.
// Stop may be called more than once; later calls return the same result.
func (w *TreeWatcher) Stop() ([]models.FileChange, int) {
	w.stopOnce.Do(func() {
		w.stopping.Store(true)
		<-w.walked
		// Drain: events for the command's last writes may still be on
		// their way from the kernel to fsnotify's reader.
		t := time.NewTimer(settle)
		defer t.Stop()
	drain:
		for {
			select {
			case ev, ok := <-w.fsw.Events:
				if !ok {
					break drain
				}
				w.handle(ev)
				t.Reset(settle)
			case <-t.C:
				break drain
			}
		}
		close(w.done)
		<-w.exited
		if !w.leaveOpen {
			w.fsw.Close()
		}
	})
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []models.FileChange
	for _, p := range w.order {
		if op := w.ops[p]; op != "" {
			out = append(out, models.FileChange{Op: op, Path: p})
		}
	}
	return out, w.dropped
}

// Close releases the watch's inotify descriptor, which Stop leaves open
// with LeaveOpen. It may take some milliseconds (the kernel waits for its
// watches to go).
func (w *TreeWatcher) Close() error { return w.fsw.Close() }

// Note says why the recorded changes may be incomplete ("" when they are
// not), for Event.FilesNote.
func (w *TreeWatcher) Note() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.note
}

// Dirs returns how many directories are watched.
func (w *TreeWatcher) Dirs() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dirs
}
