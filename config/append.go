package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/chaperone-dev/chaperone/internal/atomicfile"
)

// Append adds a block to the config file at path, after what is there
// (kept byte for byte), as the panel does when a person remembers an
// approval or allows a host. has reports whether the current config holds
// it already (then nothing is written); write writes the block. The file
// keeps its mode (0600 when new); a broken file is not added to, and the
// new file must load before it replaces the old. what names the block in
// errors.
func Append(path, what string, has func(*Config) bool, write func(*bytes.Buffer) error) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("read config: %w", err)
	}
	mode := os.FileMode(0o600)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
		cur, err := LoadFile(path)
		if err != nil {
			return fmt.Errorf("config is broken, not adding to it: %w", err)
		}
		if has(cur) {
			return nil
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
	if err := write(&b); err != nil {
		return fmt.Errorf("encode %s: %w", what, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, b.Bytes(), mode, func(tmp string) error {
		if _, err := LoadFile(tmp); err != nil {
			return fmt.Errorf("the %s would break the config: %w", what, err)
		}
		return nil
	})
}
