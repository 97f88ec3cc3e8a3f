// Package audit is chaperone's tamper-evident record of every command:
// what the agent ran, what chaperone decided and why, what the command
// printed and which files it touched.
//
// # Layout
//
// Everything lives in one directory, Dir() by default
// ($XDG_STATE_HOME/chaperone/audit):
//
//	2026-11-28.jsonl          one log file per UTC day, one JSON record a line
//	output/2026-11-28/ID.cast each command's output, asciicast v2
//	head                      the last record written: file, seq, hash
//	lock                      flock(2) taken by every appender
//
// # Records
//
// A record is a models.Event marshalled on one line, with the chain fields
// first: {"seq":N,"prev":"<sha256 of the previous line>", …}. jq reads it
// as it is. Append redacts secrets of well-known shapes (see Redact) from
// the command, its facts, findings and model answer before writing; the
// Recorder does the same for output.
//
// # Chain
//
// Every line's Prev is the hex SHA-256 of the exact bytes of the line
// before it. A log file starts with an "anchor" record whose Prev is the
// hash of the previous file's last line and which names that file and its
// last Seq, so all files form one chain. Seq counts from 1 in each file.
// The head file names the last record, so cutting records off the end is
// detectable too. Verify reports the first break: an edited record (the
// next record's Prev no longer matches), a deleted one (a gap in Seq), an
// inserted or reordered one (Seq out of order), a truncated log (the head
// points past the end), a deleted file (an anchor names a missing file).
// The chain is not keyed: it shows accidental and naive edits, not a
// rewrite of the whole log by someone who recomputes every hash; for that,
// copy the head's hash somewhere the agent cannot write.
//
// # Concurrency and crashes
//
// Many shims append at once. Each Append marshals its record, takes an
// exclusive flock on the lock file, reads the tail of today's file (the
// last line's hash and Seq), and writes the record with a single write(2)
// on an O_APPEND descriptor, so records are never torn or interleaved
// between live writers. A writer killed mid-write can leave a partial last
// line; the next Append ends that line and writes its own record with
// Torn, which commits to the partial line's length and hash, in the same
// write. Verify accepts such a line as a crash (and says so in the Report),
// and reports any other unreadable line as an edit. Readers skip it.
//
// Fsync: by default records are not fsynced. An append returns once the
// data is in the kernel, which survives the writer being killed; only a
// power loss or kernel crash can lose the last records, and then the head
// check reports it. WithFsync(true) fsyncs every record and the head
// (several milliseconds each on most disks, over the 1 ms budget).
//
// # Retention
//
// WithRetention(days) removes whole day files (and their output) older
// than the period when a new day's file is started, and writes a "prune"
// record naming them right after the new file's anchor. Verify accepts an
// anchor that names a missing file only when a prune record lists it, so
// what remains still verifies, and deleting a file by hand does not.
//
// # Reading back
//
// ReadAll and Select give the records, Replay plays a session on a
// terminal, and WriteSessionCast gives a session's whole terminal as one
// asciicast v2 document with OSC 133 marks (Mark) around each command,
// after checking the chain and the session's outputs.
//
// # Writing from the shim
//
// See Example for the whole sequence: Open, NewRecorder and Tee for the
// output, WatchTree for the files, then Append.
package audit
