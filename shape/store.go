package shape

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/internal/atomicfile"
	"github.com/chaperone-dev/chaperone/internal/lazyre"
)

// Save appends r as a [[remember]] table to the user's config file at path
// (config.UserPath() in the panel; never a project's file), with a comment
// line naming the command approved. The rest of the file is kept byte for
// byte. The result must load (config.LoadFile) before it replaces the file,
// which is written to a temporary file, synced and renamed. An entry with
// the Key of one already there is not added again.
func Save(path string, r config.Remembered, command string) error {
	return config.Append(path, "remembered approval", func(cur *config.Config) bool {
		for _, m := range cur.Remember {
			if m.Key() == r.Key() {
				return true
			}
		}
		return false
	}, func(b *bytes.Buffer) error {
		key := "A"
		if !r.Exact() {
			key = "W"
		}
		fmt.Fprintf(b, "# Approved with %s on the chaperone panel, %s: %s\n",
			key, time.Now().UTC().Format("2006-01-02 15:04 UTC"), oneLine(command))
		return toml.NewEncoder(b).Encode(struct {
			Remember []config.Remembered `toml:"remember"`
		}{[]config.Remembered{r}})
	})
}

// oneLine keeps a comment on one line and short.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 120 {
		s = string(r[:119]) + "…"
	}
	return s
}

// ErrNotRemembered is wrapped by Forget's error when no entry has the ID.
var ErrNotRemembered = errors.New("nothing remembered with that id")

// rememberHeader is the line that starts a [[remember]] table.
var rememberHeader = lazyre.New(`^\s*\[\[\s*remember\s*\]\]\s*(#.*)?$`)

// tableHeader is any table header line.
var tableHeader = lazyre.New(`^\s*\[`)

// Forget removes the [[remember]] entries whose Key is id from the user's
// config file at path, with the comment lines just above each, and
// returns what was removed. The rest of the file is kept byte for byte;
// the result must load before it replaces the file (as in Save). An id
// nothing has wraps ErrNotRemembered.
func Forget(path, id string) ([]config.Remembered, error) {
	cur, err := config.LoadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	// The [[remember]] tables: from a header to the next header of any
	// table, less the comments and blank lines that lead into that one.
	type table struct{ from, to int }
	var tables []table
	for i := 0; i < len(lines); i++ {
		if !rememberHeader.MatchString(strings.TrimRight(lines[i], "\r\n")) {
			continue
		}
		j := i + 1
		for j < len(lines) && !tableHeader.MatchString(lines[j]) {
			j++
		}
		for j > i+1 && isCommentOrBlank(lines[j-1]) {
			j--
		}
		tables = append(tables, table{i, j})
		i = j - 1
	}
	if len(tables) != len(cur.Remember) {
		return nil, fmt.Errorf("%s holds remembered approvals in a form other than [[remember]] tables: remove the entry by hand", path)
	}
	var gone []config.Remembered
	drop := make([]bool, len(lines))
	for k, t := range tables {
		if cur.Remember[k].Key() != id {
			continue
		}
		gone = append(gone, cur.Remember[k])
		from := t.from
		for from > 0 && strings.HasPrefix(strings.TrimSpace(lines[from-1]), "#") {
			from--
		}
		if from > 0 && strings.TrimSpace(lines[from-1]) == "" {
			from-- // the blank line Save put before it
		}
		for i := from; i < t.to; i++ {
			drop[i] = true
		}
	}
	if len(gone) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNotRemembered, id)
	}
	var b strings.Builder
	for i, l := range lines {
		if !drop[i] {
			b.WriteString(l)
		}
	}
	mode := os.FileMode(0o600)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	err = atomicfile.WriteFile(path, []byte(b.String()), mode, func(tmp string) error {
		c, err := config.LoadFile(tmp)
		if err != nil {
			return fmt.Errorf("forgetting would break the config: %w", err)
		}
		if len(c.Remember) != len(cur.Remember)-len(gone) {
			return fmt.Errorf("forgetting %s would change other entries of %s: remove it by hand", id, path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return gone, nil
}

func isCommentOrBlank(l string) bool {
	t := strings.TrimSpace(l)
	return t == "" || strings.HasPrefix(t, "#")
}
