package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/chaperone-dev/chaperone/models"
)

// BrokenError says where the audit log's chain is broken and how.
type BrokenError struct {
	File string // log file name, e.g. "2026-11-28.jsonl"
	Line int    // 1-based line in File (0 when it is about the file as a whole)
	Seq  int64  // the record's Seq when known
	How  string // what is wrong, for a person
}

// Error says where the chain breaks and how, for a person.
func (e *BrokenError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc += fmt.Sprintf(" line %d", e.Line)
	}
	if e.Seq > 0 {
		loc += fmt.Sprintf(" (record %d)", e.Seq)
	}
	return "audit log broken at " + loc + ": " + e.How
}

// Report is what Verify found in an intact log.
type Report struct {
	Files    int // log files checked
	Records  int // records in the chain, audit's own included
	Commands int // command records
	Outputs  int // recorded outputs whose hash was checked
	// Notes explain what is intact but unusual: crash repairs, files
	// removed by retention, a head that lags after a crash.
	Notes []string
}

// chainPos is a record's place in the chain.
type chainPos struct {
	file string
	line int
	seq  int64
	hash string
}

// unreadable is a line that is not a record, waiting for the next record
// to explain it as the remains of a crashed writer (models.Torn).
type unreadable struct {
	file    string
	line    int
	raw     []byte
	partial bool // no newline after it
}

// Verify checks every log file in dir, oldest first, as one chain: each
// record's Prev is the hash of the line before it, Seq counts up by one in
// each file, each file starts with an anchor that names the previous file
// and its last record, the head names the last record written, and every
// recorded output still has the hash its record gives. It returns a
// *BrokenError naming the first broken record and how it is broken, or a
// Report when everything is intact.
func Verify(dir string) (*Report, error) {
	rep, cmds, err := verifyChain(dir)
	if err != nil {
		return nil, err
	}
	for _, ev := range cmds {
		if ev.Output == nil || ev.Output.SHA256 == "" {
			continue
		}
		if _, err := readOutput(dir, ev); err != nil {
			return nil, err
		}
		rep.Outputs++
	}
	return rep, nil
}

// verifyChain checks the chain as Verify does, all but the outputs, and
// returns the command records of the intact chain in order.
func verifyChain(dir string) (*Report, []models.Event, error) {
	// Read the files and the head under a shared lock, so that a record
	// appended meanwhile cannot make the head and the files disagree.
	unlock := lockShared(dir)
	files, err := logFiles(dir)
	if err != nil {
		unlock()
		return nil, nil, err
	}
	rep := &Report{Files: len(files)}
	exists := map[string]bool{}
	for _, f := range files {
		exists[f] = true
	}
	// Pass 1: which files did retention remove (prune records)?
	pruned := map[string]bool{}
	type fileData struct {
		lines   []storedLine
		partial []byte
	}
	data := make([]fileData, len(files))
	for i, f := range files {
		lines, partial, err := readLines(filepath.Join(dir, f))
		if err != nil {
			unlock()
			return nil, nil, err
		}
		data[i] = fileData{lines, partial}
		for _, l := range lines {
			if ev, ok := parseRecord(l.raw); ok && ev.Kind == models.KindPrune {
				for _, p := range ev.Pruned {
					pruned[p] = true
				}
			}
		}
	}
	h, hasHead := readHead(dir)
	unlock()

	var (
		prev    chainPos   // the last record in the chain
		recent  []chainPos // the last few, for the head check
		garbage *unreadable
		cmds    []models.Event
	)
	broken := func(file string, line int, seq int64, how string, args ...any) error {
		return &BrokenError{File: file, Line: line, Seq: seq, How: fmt.Sprintf(how, args...)}
	}
	for fi, f := range files {
		lines := data[fi].lines
		if p := data[fi].partial; p != nil {
			lines = append(lines, storedLine{no: len(lines) + 1, raw: p})
		}
		partialNo := 0
		if data[fi].partial != nil {
			partialNo = len(lines)
		}
		seqLine := map[int64]int{}
		for _, l := range lines {
			if ev, ok := parseRecord(l.raw); ok {
				if _, dup := seqLine[ev.Seq]; !dup {
					seqLine[ev.Seq] = l.no
				}
			}
		}
		first := true
		for _, l := range lines {
			ev, ok := parseRecord(l.raw)
			if !ok {
				if garbage != nil {
					return nil, nil, broken(garbage.file, garbage.line, 0, "line is not a valid record (edited, or inserted)")
				}
				garbage = &unreadable{file: f, line: l.no, raw: l.raw, partial: l.no == partialNo}
				continue
			}
			h := hashLine(l.raw)
			if first {
				first = false
				if err := checkAnchor(ev, f, l.no, fi, prev, garbage, exists, pruned, rep); err != nil {
					return nil, nil, err
				}
				garbage = nil
			} else {
				if err := checkTorn(ev, f, l.no, garbage, rep); err != nil {
					return nil, nil, err
				}
				want := prev.seq + 1
				if ev.Seq != want {
					return nil, nil, seqError(f, l.no, ev.Seq, want, prev.seq, seqLine)
				}
				if ev.Prev != prev.hash {
					if garbage == nil {
						return nil, nil, broken(prev.file, prev.line, prev.seq,
							"the record was changed after it was written: record %d holds a different hash of it", ev.Seq)
					}
					return nil, nil, broken(f, l.no, ev.Seq, "does not chain to record %d before it (a record was edited, inserted or removed)", prev.seq)
				}
				garbage = nil
			}
			prev = chainPos{file: f, line: l.no, seq: ev.Seq, hash: h}
			recent = append(recent, prev)
			if len(recent) > 4 {
				recent = recent[1:]
			}
			rep.Records++
			if ev.Kind == models.KindCommand {
				rep.Commands++
				cmds = append(cmds, ev)
			}
		}
		if first && len(lines) == 0 && fi < len(files)-1 {
			return nil, nil, broken(f, 0, 0, "the log file is empty: its records were removed")
		}
		if garbage != nil && !garbage.partial {
			return nil, nil, broken(garbage.file, garbage.line, 0, "line is not a valid record (edited, or inserted)")
		}
	}
	if garbage != nil {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s line %d: the last record was cut short (a writer crashed mid-write); the next append repairs it",
			garbage.file, garbage.line))
	}
	if err := checkHead(h, hasHead, prev, recent, rep); err != nil {
		return nil, nil, err
	}
	return rep, cmds, nil
}

// checkAnchor checks the first record of file f (index fi).
func checkAnchor(ev models.Event, f string, line, fi int, prev chainPos, garbage *unreadable,
	exists, pruned map[string]bool, rep *Report) error {
	broken := func(how string, args ...any) error {
		return &BrokenError{File: f, Line: line, Seq: ev.Seq, How: fmt.Sprintf(how, args...)}
	}
	if garbage != nil && garbage.file == f {
		return &BrokenError{File: f, Line: garbage.line, How: "line is not a valid record (edited, or inserted)"}
	}
	if ev.Kind != models.KindAnchor || ev.Anchor == nil {
		return broken("the file does not start with its anchor record: its beginning was removed")
	}
	if ev.Seq != 1 {
		return broken("the anchor record has number %d, want 1: records were removed from the start of the file", ev.Seq)
	}
	a := ev.Anchor
	switch {
	case fi > 0 && a.PrevFile == prev.file:
		if err := checkTorn(ev, f, line, garbage, rep); err != nil {
			return err
		}
		if a.PrevSeq != prev.seq {
			return &BrokenError{File: prev.file, Line: prev.line, Seq: prev.seq,
				How: fmt.Sprintf("the file ends at record %d but the next file's anchor says it ended at record %d: records were removed from (or added to) its end", prev.seq, a.PrevSeq)}
		}
		if ev.Prev != prev.hash {
			return &BrokenError{File: prev.file, Line: prev.line, Seq: prev.seq,
				How: fmt.Sprintf("the record was changed after it was written: the anchor of %s holds a different hash of it", f)}
		}
	case fi == 0 && a.PrevFile == "":
		if ev.Prev != "" || ev.Torn != nil {
			return broken("the first record of the log names a record before it")
		}
	case fi == 0:
		if !pruned[a.PrevFile] {
			return broken("log file %s is missing (this file's anchor names it) and no prune record says retention removed it", a.PrevFile)
		}
		rep.Notes = append(rep.Notes, fmt.Sprintf("the chain starts at %s: %s and older files were removed by retention", f, a.PrevFile))
	case a.PrevFile == "":
		return broken("the anchor starts a new chain although %s comes before this file", prev.file)
	case exists[a.PrevFile]:
		return broken("the anchor names %s as the previous file, but the previous file is %s (files renamed or copied)", a.PrevFile, prev.file)
	default:
		return broken("log file %s is missing (this file's anchor names it): it was deleted", a.PrevFile)
	}
	return nil
}

// checkTorn checks that ev's Torn explains the unreadable line before it.
func checkTorn(ev models.Event, f string, line int, garbage *unreadable, rep *Report) error {
	switch {
	case garbage == nil && ev.Torn != nil:
		return &BrokenError{File: f, Line: line, Seq: ev.Seq, How: "the record says a partial record precedes it, but none does: a line was removed"}
	case garbage != nil && ev.Torn == nil:
		return &BrokenError{File: garbage.file, Line: garbage.line, How: "line is not a valid record (edited, or inserted)"}
	case garbage != nil && (ev.Torn.Bytes != len(garbage.raw) || ev.Torn.SHA256 != hashLine(garbage.raw)):
		return &BrokenError{File: garbage.file, Line: garbage.line, How: "the partial record left by a crashed writer was changed afterwards"}
	case garbage != nil:
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s line %d: partial record left by a writer that crashed mid-write (%d bytes), sealed by record %d",
			garbage.file, garbage.line, len(garbage.raw), ev.Seq))
	}
	return nil
}

// seqError explains a record number that is not the expected one.
func seqError(f string, line int, got, want, prev int64, seqLine map[int64]int) error {
	how := ""
	switch {
	case got > want:
		if l, ok := seqLine[want]; ok && l > line {
			how = fmt.Sprintf("record %d comes before record %d (line %d): records were reordered", got, want, l)
		} else if got == want+1 {
			how = fmt.Sprintf("record %d is missing: it was deleted", want)
		} else {
			how = fmt.Sprintf("records %d to %d are missing: they were deleted", want, got-1)
		}
	case got == prev:
		how = fmt.Sprintf("record %d appears twice: a record was inserted", got)
	default:
		how = fmt.Sprintf("record %d comes after record %d: records were reordered or inserted", got, prev)
	}
	return &BrokenError{File: f, Line: line, Seq: got, How: how}
}

// checkHead compares the head file with the end of the chain.
func checkHead(h head, ok bool, last chainPos, recent []chainPos, rep *Report) error {
	if !ok {
		if rep.Records == 0 {
			return nil
		}
		if rep.Files == 1 && rep.Records <= 3 {
			rep.Notes = append(rep.Notes, "no head file yet (the first writer crashed before writing it)")
			return nil
		}
		return &BrokenError{File: headName, How: "the head file is missing or unreadable: cannot tell whether records were cut off the end"}
	}
	for i := len(recent) - 1; i >= 0; i-- {
		r := recent[i]
		if r.file == h.File && r.seq == h.Seq && r.hash == h.Hash {
			if lag := len(recent) - 1 - i; lag > 0 {
				rep.Notes = append(rep.Notes, fmt.Sprintf("the head lags %d record(s) behind the log (a writer crashed before updating it)", lag))
			}
			return nil
		}
	}
	if rep.Records == 0 {
		return &BrokenError{File: h.File, How: fmt.Sprintf("the log is empty but the head says it ends at record %d: it was truncated or deleted", h.Seq)}
	}
	switch {
	case h.File > last.file || (h.File == last.file && h.Seq > last.seq):
		return &BrokenError{File: last.file, Line: last.line, Seq: last.seq,
			How: fmt.Sprintf("the log ends here but the head says it ends at %s record %d: records were cut off the end (truncated)", h.File, h.Seq)}
	case h.File == last.file && h.Seq == last.seq:
		return &BrokenError{File: last.file, Line: last.line, Seq: last.seq,
			How: "the last record was changed after it was written: its hash differs from the head's"}
	}
	return &BrokenError{File: headName, How: fmt.Sprintf("the head names %s record %d, which does not end the log as written", h.File, h.Seq)}
}

// readOutput reads ev's recorded output and checks it against the hash
// its record gives, so that what is read is what was checked.
func readOutput(dir string, ev models.Event) ([]byte, error) {
	data, err := os.ReadFile(OutputPath(dir, ev))
	if err != nil {
		return nil, &BrokenError{File: ev.Output.Path, How: fmt.Sprintf("the output of record %s is missing: %v", ev.ID, err)}
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != ev.Output.SHA256 {
		return nil, &BrokenError{File: ev.Output.Path, How: fmt.Sprintf("the output of record %s was changed after it was written", ev.ID)}
	}
	return data, nil
}

// lockShared takes a shared lock on dir's lock file, when there is one (a
// copy of a log being checked elsewhere may have none), and returns its
// release.
func lockShared(dir string) func() {
	f, err := os.Open(filepath.Join(dir, lockName))
	if err != nil {
		return func() {}
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH); err != nil {
		f.Close()
		return func() {}
	}
	return func() { f.Close() }
}
