package models

import "time"

// Event is one audit record: a command and what became of it. It is
// written by package audit as one JSON object on one line; the shim fills
// the descriptive fields, audit fills the chain fields (Seq, Prev, ID when
// empty, Kind for its own records) and redacts secrets before writing.
// Owned by package audit.
type Event struct {
	// Seq is the record's position in its log file, from 1. Set by audit.
	Seq int64 `json:"seq,omitempty"`
	// Prev is the hex SHA-256 of the line before this one in the chain
	// (the previous file's last line for an anchor; "" at the very start).
	// Set by audit.
	Prev string `json:"prev,omitempty"`
	// Kind is "" for a command record; audit writes its own "anchor" (first
	// record of every log file) and "prune" (retention removed files) records.
	Kind string `json:"kind,omitempty"`
	// ID names the record and its output file; audit sets one when empty.
	ID string `json:"id,omitempty"`

	Time    time.Time `json:"time"`
	Session string    `json:"session"`
	Agent   string    `json:"agent,omitempty"`
	Project string    `json:"project,omitempty"`
	Cwd     string    `json:"cwd,omitempty"`
	Command string    `json:"command"`
	Inner   string    `json:"inner,omitempty"` // the inner command of an agent wrapper
	Facts   *Facts    `json:"facts,omitempty"`
	// Rating holds the risk, every finding and the model's answer
	// (Rating.Model, with the model's name) when it was asked.
	Rating    Rating   `json:"rating"`
	Decision  Decision `json:"decision"`
	DecidedBy string   `json:"decided_by"`     // one of the By* constants
	Note      string   `json:"note,omitempty"` // a person's note on a deny
	// Memory is the ID of the remembered approval that let the command
	// run (DecidedBy ByRemembered; `chaperone remember list`), or of the
	// one the person remembered as they approved it (ByPerson).
	Memory   string  `json:"memory,omitempty"`
	Exit     *int    `json:"exit,omitempty"` // nil when the command did not run
	Duration float64 `json:"duration_ms,omitempty"`
	Backend  string  `json:"backend,omitempty"`
	// Killed lists the processes the sandbox killed because they were
	// still there when the command ended: "PID (comm) command line" each.
	Killed []string `json:"killed,omitempty"`

	// Files are the paths changed in the working tree while the command
	// ran (audit.WatchTree), relative to the watched root.
	Files []FileChange `json:"files,omitempty"`
	// FilesDropped counts changes left out of Files by its cap.
	FilesDropped int `json:"files_dropped,omitempty"`
	// Quarantined are the names at the project's top that host tools run
	// (.envrc, .vscode, …) which the command created or relinked without
	// the person's approval; chaperone moved them out of the project, to
	// QuarantineDir.
	Quarantined   []string `json:"quarantined,omitempty"`
	QuarantineDir string   `json:"quarantine_dir,omitempty"`
	// FilesNote says why Files is incomplete or missing, when it is
	// ("watch limit reached: 2000 dirs", "inotify unavailable: …").
	FilesNote string `json:"files_note,omitempty"`

	// Connections are the network connections the command made through
	// the egress proxy, allowed or refused, in order.
	Connections []Connection `json:"connections,omitempty"`

	// Output describes the command's recorded output (audit.Recorder).
	Output *Output `json:"output,omitempty"`
	// Redactions counts the secrets audit removed from this record's text.
	Redactions int `json:"redactions,omitempty"`

	// Torn is set by audit on the first record written after a writer
	// crashed mid-record: it commits to the unreadable partial line that
	// precedes this record, so verification can tell a crash from an edit.
	Torn *Torn `json:"torn,omitempty"`
	// Anchor is set on Kind "anchor" records: it names the log file the
	// chain continues from.
	Anchor *Anchor `json:"anchor,omitempty"`
	// Pruned lists the log files retention removed (Kind "prune").
	Pruned []string `json:"pruned,omitempty"`
}

// FileChange is one path changed in the working tree.
type FileChange struct {
	// Op is "created", "modified" or "removed" (the net effect while the
	// command ran; a directory's path ends in "/").
	Op   string `json:"op"`
	Path string `json:"path"`
}

// Output is where a command's output was recorded, as an asciicast v2 file.
type Output struct {
	// Path is the cast file, relative to the audit directory.
	Path string `json:"path"`
	// Bytes is how much output the command produced in all; Recorded how
	// much of it is in the file (the rest was cut by the cap).
	Bytes    int64 `json:"bytes"`
	Recorded int64 `json:"recorded"`
	// Truncated is true when the cap cut the output.
	Truncated bool `json:"truncated,omitempty"`
	// SHA256 is the hex hash of the cast file, checked by audit verify.
	SHA256 string `json:"sha256,omitempty"`
	// Redactions counts the secrets removed from the recorded output.
	Redactions int `json:"redactions,omitempty"`
	// Note says why output was not recorded (a terminal, a background job).
	Note string `json:"note,omitempty"`
}

// Torn describes a partial line left by a writer that died mid-record.
type Torn struct {
	Bytes  int    `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Anchor links a log file to the one before it.
type Anchor struct {
	// PrevFile is the previous log file's name ("" at the very start).
	PrevFile string `json:"prev_file,omitempty"`
	// PrevSeq is the Seq of that file's last record.
	PrevSeq int64 `json:"prev_seq,omitempty"`
}

// Event kinds written by audit itself.
const (
	KindCommand = ""       // a command and what became of it
	KindAnchor  = "anchor" // the first record of a log file
	KindPrune   = "prune"  // retention removed old log files
)
