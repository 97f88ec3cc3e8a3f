package audit

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/chaperone-dev/chaperone/models"
)

// followPoll is how often Follow looks at the log when no notification
// came (a safety net; fsnotify normally wakes it at once).
const followPoll = time.Second

// Follow streams the command records appended to the log in dir, as they
// are written, until ctx is done; then the channel is closed. It first
// sends the last backlog records already in the log (0 for none). dir is
// created when missing, so a panel can follow a log nobody wrote yet.
// Records are sent whole: a line still being written waits for its end.
func Follow(ctx context.Context, dir string, backlog int) (<-chan models.Event, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("follow audit log: %w", err)
	}
	fsw, err := fsnotify.NewWatcher()
	if err == nil {
		if err := fsw.Add(dir); err != nil {
			fsw.Close()
			fsw = nil
		}
	} else {
		fsw = nil // out of inotify instances: poll instead
	}
	f := &follower{dir: dir}
	// Start at the end of the newest file, after the backlog.
	var back []models.Event
	if files, _ := logFiles(dir); len(files) > 0 {
		f.file = files[len(files)-1]
		if fi, err := os.Stat(filepath.Join(dir, f.file)); err == nil {
			f.off = fi.Size()
		}
		if backlog > 0 {
			all, _ := ReadAll(dir)
			if len(all) > backlog {
				all = all[len(all)-backlog:]
			}
			back = all
		}
	}
	ch := make(chan models.Event, 64)
	go func() {
		defer close(ch)
		if fsw != nil {
			defer fsw.Close()
		}
		for _, ev := range back {
			select {
			case ch <- ev:
			case <-ctx.Done():
				return
			}
		}
		var events chan fsnotify.Event
		var errs chan error
		if fsw != nil {
			events, errs = fsw.Events, fsw.Errors
		}
		tick := time.NewTicker(followPoll)
		defer tick.Stop()
		for {
			for _, ev := range f.read() {
				select {
				case ch <- ev:
				case <-ctx.Done():
					return
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-events:
			case <-errs:
			case <-tick.C:
			}
		}
	}()
	return ch, nil
}

// follower reads new complete lines from the newest log files.
type follower struct {
	dir     string
	file    string // the file being read
	off     int64  // how far it was read
	pending []byte // an unfinished line
}

// read returns the command records written since the last call.
func (f *follower) read() []models.Event {
	files, err := logFiles(f.dir)
	if err != nil {
		return nil
	}
	var out []models.Event
	for _, name := range files {
		if name < f.file {
			continue
		}
		if name != f.file {
			f.file, f.off, f.pending = name, 0, nil
		}
		fh, err := os.Open(filepath.Join(f.dir, name))
		if err != nil {
			continue
		}
		fh.Seek(f.off, io.SeekStart)
		b, _ := io.ReadAll(fh)
		fh.Close()
		f.off += int64(len(b))
		b = append(f.pending, b...)
		i := bytes.LastIndexByte(b, '\n')
		f.pending = append([]byte(nil), b[i+1:]...)
		for _, line := range strings.Split(string(b[:i+1]), "\n") {
			if ev, ok := parseRecord([]byte(line)); ok && ev.Kind == models.KindCommand {
				out = append(out, ev)
			}
		}
	}
	return out
}
