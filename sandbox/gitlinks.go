package sandbox

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// maxIndex bounds a git index read for its gitlinks (a repository of a
// million files has an index of about 100 MB). A bigger one cannot be
// read, and so fails closed (see WatchTop).
const maxIndex = 64 << 20

// maxLinks bounds the gitlinks one index may record; more cannot be
// guarded, and so fail closed too.
const maxLinks = 1000

// errIndex is returned for an index chaperone cannot read: corrupt,
// unknown, too big, holding too many gitlinks, or split with its shared
// part missing. Host git may still find gitlinks in it, so it fails
// closed.
var errIndex = errors.New("unreadable git index")

// errOddIndex is returned for an index that is no regular file (a FIFO, a
// socket, a folder, a link to one): git cannot read entries from it either.
var errOddIndex = errors.New("git index is no regular file")

// gitlinks returns the paths (relative to the work tree, slash-separated,
// as recorded) that the git index of gitDir records as gitlinks (mode
// 160000): submodules and repositories added inside the project. Host git
// runs in those folders when it looks at the project (`git status`
// recurses), so their own git folders are guarded like the project's. No
// index: none. A split index (`git update-index --split-index`) is read
// with its shared part, as git reads it. hash is the object id size: 32
// bytes with extensions.objectFormat = sha256, else 20.
func gitlinks(gitDir string, hash int) ([]string, error) {
	b, err := readIndex(filepath.Join(gitDir, "index"))
	if b == nil || err != nil {
		return nil, err
	}
	main, err := parseIndex(b, hash)
	if err != nil {
		return nil, err
	}
	if main.shared == "" {
		return main.links, nil
	}
	sb, err := readIndex(filepath.Join(gitDir, "sharedindex."+main.shared))
	if sb == nil || err != nil {
		return nil, fmt.Errorf("%w: shared index sharedindex.%s: %w", errIndex, main.shared, cmpErr(err, os.ErrNotExist))
	}
	return main.merge(sb, hash)
}

// cmpErr is err, or alt when err is nil.
func cmpErr(err, alt error) error {
	if err == nil {
		return alt
	}
	return err
}

// readIndex reads an index file as git does: a symbolic link is followed;
// nil for none. It never blocks (a FIFO is errOddIndex).
func readIndex(p string) ([]byte, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, nil // none, or a link to nothing
	case err != nil:
		return nil, fmt.Errorf("%w: %w", errIndex, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: %w", errIndex, err)
	case !fi.Mode().IsRegular():
		return nil, errOddIndex
	case fi.Size() > maxIndex:
		return nil, fmt.Errorf("%w: larger than %d MB", errIndex, maxIndex>>20)
	}
	b := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("%w: %w", errIndex, err)
	}
	return b, nil
}

// index is what parseIndex keeps of an index.
type index struct {
	links    []string // gitlinks with a path
	replaced []uint32 // modes of the entries without a path (a split index's replacements), in order
	shared   string   // the shared index's id, hex ("" when not split)
	deleted  []int    // a split index's deleted shared entries
	replace  []int    // the shared entries replaced, in order
	entries  int
}

// parseIndex reads a git index (versions 2, 3 and 4; see git's
// Documentation/gitformat-index.txt): its gitlinks and, for a split index,
// its link extension.
func parseIndex(b []byte, hash int) (*index, error) {
	ix := &index{}
	ext, err := walkIndex(b, hash, func(_ int, name []byte, mode uint32) error {
		switch {
		case len(name) == 0:
			ix.replaced = append(ix.replaced, mode)
		case mode&0o170000 == 0o160000:
			if len(ix.links) == maxLinks {
				return fmt.Errorf("%w: more than %d gitlinks", errIndex, maxLinks)
			}
			ix.links = append(ix.links, string(name))
		}
		ix.entries++
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Extensions: a 4-byte signature, a 4-byte size, the data; the file
	// ends with its checksum.
	for end := len(b) - hash; ext+8 <= end; {
		size := int(binary.BigEndian.Uint32(b[ext+4 : ext+8]))
		if size < 0 || size > end-ext-8 {
			return nil, errIndex
		}
		data := b[ext+8 : ext+8+size]
		if string(b[ext:ext+4]) == "link" {
			if err := ix.link(data, hash); err != nil {
				return nil, err
			}
		}
		ext += 8 + size
	}
	if len(ix.replaced) > 0 && ix.shared == "" {
		return nil, errIndex // entries without a path outside a split index
	}
	return ix, nil
}

// link reads a split index's link extension: the shared index's id, then
// two EWAH bitmaps over the shared entries: deleted, and replaced by this
// index's entries without a path.
func (ix *index) link(data []byte, hash int) error {
	if len(data) < hash {
		return errIndex
	}
	ix.shared = hex.EncodeToString(data[:hash])
	data = data[hash:]
	if len(data) == 0 {
		return nil
	}
	var err error
	if ix.deleted, data, err = ewahBits(data); err != nil {
		return err
	}
	ix.replace, _, err = ewahBits(data)
	return err
}

// merge reads the shared index b and returns the gitlinks of the whole:
// the shared entries less the deleted ones, the replaced ones with their
// replacement's mode, and this index's own entries.
func (ix *index) merge(b []byte, hash int) ([]string, error) {
	if len(ix.replace) != len(ix.replaced) {
		return nil, errIndex
	}
	deleted := map[int]bool{}
	for _, d := range ix.deleted {
		deleted[d] = true
	}
	replaced := map[int]uint32{}
	for i, r := range ix.replace {
		replaced[r] = ix.replaced[i]
	}
	links := ix.links
	n := 0
	_, err := walkIndex(b, hash, func(i int, name []byte, mode uint32) error {
		n++
		if m, ok := replaced[i]; ok {
			mode = m
		}
		if deleted[i] || mode&0o170000 != 0o160000 || len(name) == 0 {
			return nil
		}
		if len(links) == maxLinks {
			return fmt.Errorf("%w: more than %d gitlinks", errIndex, maxLinks)
		}
		links = append(links, string(name))
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, i := range append(ix.deleted, ix.replace...) {
		if i >= n {
			return nil, errIndex // a bit beyond the shared entries
		}
	}
	return links, nil
}

// walkIndex calls visit with the position, path (valid during the call
// only) and mode of each entry of the index b, and returns where its
// extensions begin.
func walkIndex(b []byte, hash int, visit func(i int, name []byte, mode uint32) error) (int, error) {
	if len(b) < 12 || string(b[:4]) != "DIRC" {
		return 0, errIndex
	}
	version := binary.BigEndian.Uint32(b[4:8])
	if version < 2 || version > 4 {
		return 0, errIndex
	}
	n := int(binary.BigEndian.Uint32(b[8:12]))
	const fixed = 40 // ctime, mtime (8 each), dev, ino, mode, uid, gid, size (4 each)
	var name []byte
	off := 12
	for i := 0; i < n; i++ {
		start := off
		if off+fixed+hash+2 > len(b) {
			return 0, errIndex
		}
		mode := binary.BigEndian.Uint32(b[off+24 : off+28])
		off += fixed + hash
		flags := binary.BigEndian.Uint16(b[off : off+2])
		off += 2
		if version >= 3 && flags&0x4000 != 0 { // extended flags
			off += 2
		}
		if off > len(b) {
			return 0, errIndex
		}
		end := bytes.IndexByte(b[off:], 0)
		if end < 0 {
			return 0, errIndex
		}
		if version == 4 {
			// The path is the previous one less N bytes, plus a suffix.
			strip, k := binary.Uvarint(b[off:])
			if k <= 0 || strip > uint64(len(name)) {
				return 0, errIndex
			}
			off += k
			if end = bytes.IndexByte(b[off:], 0); end < 0 {
				return 0, errIndex
			}
			name = append(name[:len(name)-int(strip)], b[off:off+end]...)
			off += end + 1
		} else {
			name = append(name[:0], b[off:off+end]...)
			// Entries are padded with 1 to 8 NULs to a multiple of 8.
			off = start + ((off + end - start + 8) &^ 7)
		}
		if err := visit(i, name, mode); err != nil {
			return 0, err
		}
	}
	if off > len(b) {
		return 0, errIndex
	}
	return off, nil
}

// ewahBits decodes one EWAH bitmap as git writes it (ewah/ewah_io.c: bit
// count, word count, the 64-bit words, the last marker's position) and
// returns the positions of its set bits and what follows it.
func ewahBits(b []byte) (bits []int, rest []byte, err error) {
	if len(b) < 8 {
		return nil, nil, errIndex
	}
	size := int(binary.BigEndian.Uint32(b[0:4]))
	words := int(binary.BigEndian.Uint32(b[4:8]))
	// A bit per shared entry; an entry takes 62 bytes at least.
	if size > maxIndex/62 || words < 0 || words > (len(b)-12)/8 {
		return nil, nil, errIndex
	}
	w := func(i int) uint64 { return binary.BigEndian.Uint64(b[8+8*i:]) }
	pos := 0
	for i := 0; i < words; {
		// A marker: the running bit, 32 bits of run length (in words),
		// 31 bits of how many literal words follow.
		m := w(i)
		i++
		run := int(m >> 1 & (1<<32 - 1))
		lits := int(m >> 33)
		if m&1 != 0 {
			for k := 0; k < run*64; k++ {
				if pos+k >= size {
					return nil, nil, errIndex
				}
				bits = append(bits, pos+k)
			}
		}
		pos += run * 64
		if lits > words-i {
			return nil, nil, errIndex
		}
		for ; lits > 0; lits-- {
			for l, k := w(i), 0; l != 0; l, k = l>>1, k+1 {
				if l&1 != 0 {
					if pos+k >= size {
						return nil, nil, errIndex
					}
					bits = append(bits, pos+k)
				}
			}
			pos += 64
			i++
		}
	}
	return bits, b[12+8*words:], nil
}
