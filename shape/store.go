package shape

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/internal/atomicfile"
)

// Save appends r as a [[remember]] table to the user's config file at path
// (config.UserPath() in the panel; never a project's file), with a comment
// line naming the command approved. The rest of the file is kept byte for
// byte. The result must load (config.LoadFile) before it replaces the file,
// which is written to a temporary file, synced and renamed. An entry equal
// to one already there is not added again.
func Save(path string, r config.Remembered, command string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("read config: %w", err)
	}
	mode := os.FileMode(0o600)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
		cur, err := config.LoadFile(path)
		if err != nil {
			return fmt.Errorf("config is broken, not adding to it: %w", err)
		}
		for _, m := range cur.Remember {
			if m.Project == r.Project && slices.Equal(m.Shape, r.Shape) && subset(r.Rules, m.Rules) {
				return nil
			}
		}
	}
	var b bytes.Buffer
	b.Write(old)
	if len(old) > 0 && !bytes.HasSuffix(old, []byte("\n")) {
		b.WriteByte('\n')
	}
	if len(old) > 0 {
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "# Approved with A on the chaperone panel, %s: %s\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), oneLine(command))
	if err := toml.NewEncoder(&b).Encode(struct {
		Remember []config.Remembered `toml:"remember"`
	}{[]config.Remembered{r}}); err != nil {
		return fmt.Errorf("encode remembered shape: %w", err)
	}
	// The new file must still load as a config before it replaces the old.
	return atomicfile.WriteFile(path, b.Bytes(), mode, func(tmp string) error {
		if _, err := config.LoadFile(tmp); err != nil {
			return fmt.Errorf("remembered shape would break the config: %w", err)
		}
		return nil
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
