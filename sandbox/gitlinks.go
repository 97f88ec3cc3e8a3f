package sandbox

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/chaperone-dev/chaperone/internal/safefile"
)

// maxIndex bounds the git index read for its gitlinks (a repository of a
// million files has an index of about 100 MB; beyond the bound, none are
// looked at and the nested repositories are left to the rater).
const maxIndex = 64 << 20

// errIndex is returned for an index chaperone cannot read.
var errIndex = errors.New("unreadable git index")

// gitlinks returns the paths (relative to the work tree, slash-separated)
// that the git index of gitDir records as gitlinks (mode 160000):
// submodules and repositories added inside the project. Host git runs in
// those folders when it looks at the project (`git status` recurses), so
// their own .git is guarded like the project's. No index: none.
func gitlinks(gitDir string) ([]string, error) {
	b, err := safefile.Read(filepath.Join(gitDir, "index"), maxIndex)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return parseGitlinks(b, hashSize(gitDir))
}

// hashSize is the object id length of the repository: 32 bytes with
// extensions.objectFormat = sha256, else 20.
func hashSize(gitDir string) int {
	b, err := safefile.Read(filepath.Join(gitDir, "config"), 1<<20)
	if err == nil && bytes.Contains(bytes.ToLower(bytes.ReplaceAll(b, []byte(" "), nil)), []byte("objectformat=sha256")) {
		return 32
	}
	return 20
}

// parseGitlinks reads the entries of a git index (versions 2, 3 and 4; see
// git's Documentation/gitformat-index.txt) and returns the paths of those
// whose mode is a gitlink.
func parseGitlinks(b []byte, hash int) ([]string, error) {
	if len(b) < 12 || string(b[:4]) != "DIRC" {
		return nil, errIndex
	}
	version := binary.BigEndian.Uint32(b[4:8])
	if version < 2 || version > 4 {
		return nil, errIndex
	}
	n := int(binary.BigEndian.Uint32(b[8:12]))
	const fixed = 40 // ctime, mtime (8 each), dev, ino, mode, uid, gid, size (4 each)
	var out []string
	prev := ""
	off := 12
	for i := 0; i < n; i++ {
		start := off
		if off+fixed+hash+2 > len(b) {
			return nil, errIndex
		}
		mode := binary.BigEndian.Uint32(b[off+24 : off+28])
		off += fixed + hash
		flags := binary.BigEndian.Uint16(b[off : off+2])
		off += 2
		if version >= 3 && flags&0x4000 != 0 { // extended flags
			off += 2
		}
		if off > len(b) {
			return nil, errIndex
		}
		var name string
		if version == 4 {
			// The path is the previous one less N bytes, plus a suffix.
			strip, k := binary.Uvarint(b[off:])
			if k <= 0 || int(strip) > len(prev) {
				return nil, errIndex
			}
			off += k
			end := bytes.IndexByte(b[off:], 0)
			if end < 0 {
				return nil, errIndex
			}
			name = prev[:len(prev)-int(strip)] + string(b[off:off+end])
			off += end + 1
		} else {
			end := bytes.IndexByte(b[off:], 0)
			if end < 0 {
				return nil, errIndex
			}
			name = string(b[off : off+end])
			// Entries are padded with 1 to 8 NULs to a multiple of 8.
			off = start + ((off + end - start + 8) &^ 7)
		}
		prev = name
		if mode&0o170000 == 0o160000 && name != "" && !strings.HasPrefix(name, "/") && !strings.Contains("/"+name+"/", "/../") {
			out = append(out, name)
		}
	}
	return out, nil
}
