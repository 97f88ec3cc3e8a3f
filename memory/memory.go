// Package memory is chaperone's memory of an agent session: what the
// session's earlier commands did that changes how a later command reads —
// files it downloaded, decoded or wrote piece by piece, secret data it
// copied somewhere, git remotes and settings it changed.
//
// A Session is folded from Notes. Package rater learns the notes from a
// command's parsed facts (rater.Learn) and reads a Session when it rates
// (rater.Request.Memory); the shim loads the session's memory before it
// rates a command and, once the command was allowed to run, appends what
// it learned (Store). The memory can only raise a rating: the rater adds
// findings from it and never takes one away, so a memory that is lost,
// cut short or unreadable makes ratings no lower than no memory at all.
//
// Memory lives in chaperone's state folder, which no sandboxed command can
// see, one small append-only file per session.
package memory

import (
	"maps"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// How says what is known of a file's content. The values are bits.
type How uint8

// The ways a session comes to have written a file.
const (
	// Downloaded: the content came from the network (curl -o, wget, a
	// fetcher's output redirected).
	Downloaded How = 1 << iota
	// Decoded: the content was decoded or unpacked from text (base64 -d,
	// xxd -r, printf of escapes).
	Decoded
	// Written: the session wrote the content as text (echo, printf, a
	// heredoc), kept in File.Text.
	Written
	// Secret: the content holds secret data (a credential file, an
	// environment dump).
	Secret
	// Executable: the session made the file executable.
	Executable
	// Partial: part of the content is not in File.Text (written by a
	// program whose output is unknown, or cut to keep the memory small).
	Partial
)

// Risky are the bits a file keeps until it is removed or overwritten.
const Risky = Downloaded | Decoded | Secret

var howNames = []string{"downloaded", "decoded", "written", "secret", "executable", "partial"}

// String lists the bits by name, "+"-separated.
func (h How) String() string {
	var parts []string
	for i, n := range howNames {
		if h&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	return strings.Join(parts, "+")
}

// Limits keep a session's memory small (see Session.Apply).
const (
	// MaxFiles is how many files a session remembers. Beyond it the oldest
	// harmless ones are forgotten first; if only risky ones are left, the
	// oldest of those goes and the session is marked Lost.
	MaxFiles = 256
	// MaxText is how much text one file keeps; the rest is dropped and the
	// file marked Partial.
	MaxText = 16 << 10
	// MaxTotalText is how much text all files keep together; the text of
	// the oldest files is dropped (they become Partial) beyond it.
	MaxTotalText = 48 << 10
	// maxOrigin bounds File.Origin and the setting values kept.
	maxOrigin = 512
)

// File is what the session did to one file.
type File struct {
	// Path is absolute and clean.
	Path string
	How  How
	// Text is what the session wrote into the file as text, in order,
	// when How has Written (up to MaxText).
	Text string
	// Origin is where the content came from: a URL or a secret's path,
	// for the reason a person reads.
	Origin string
	// seq orders changes, for eviction.
	seq int
}

// Remote is a git remote the session added or changed.
type Remote struct {
	Project, Name string
	// URLs are the fetch and push URLs the session gave the remote.
	URLs []string
}

// Session is the memory of one agent session. The zero value is empty;
// nil maps are fine to read. A Session is not safe for concurrent
// mutation; concurrent reads are fine.
type Session struct {
	// Files are the files the session wrote, by absolute path.
	Files map[string]*File
	// Remotes are the remotes the session changed, by project and name
	// (RemoteKey).
	Remotes map[string]*Remote
	// Known holds, per project, the URLs its remotes had before the
	// session changed any (read from the repository's config by the
	// shim). A project present with no URLs had no remotes.
	Known map[string][]string
	// Settings are the git settings the session changed: key
	// SettingKey(project, name), value as set. Project "" is the user's
	// global config.
	Settings map[string]string
	// Staged lists the projects where the session staged or committed a
	// file that holds secret data.
	Staged map[string]bool
	// Lost is set when the session had to forget something risky to stay
	// within MaxFiles.
	Lost bool
	// Uploads are the bytes the session's commands sent to each host
	// through the egress proxy, and UploadOK the hosts a person let a
	// large upload go to (see netproxy.Proxy.Uploaded).
	Uploads  map[string]int64
	UploadOK map[string]bool

	seq       int
	textBytes int
}

// Op is what a Note does.
type Op string

// The operations of notes.
const (
	// OpWrite: Path was (over)written with content of kind How (Text for
	// Written; Origin where from). A write with no How forgets the file.
	OpWrite Op = "write"
	// OpAppend: content of kind How (and Text) was appended to Path.
	OpAppend Op = "append"
	// OpCopy: Path now holds what From held.
	OpCopy Op = "copy"
	// OpMove: From was moved to Path.
	OpMove Op = "move"
	// OpRemove: Path, and all under it, was removed.
	OpRemove Op = "remove"
	// OpChmod: Path was made executable.
	OpChmod Op = "chmod"
	// OpRemote: remote Name of Project was given URL Value (Push: as a
	// push URL).
	OpRemote Op = "remote"
	// OpKnown: remote Name of Project had URL Value before the session
	// changed any remote; Value "" only marks the project as read.
	OpKnown Op = "known"
	// OpSetting: git setting Name (lower-case) was set to Value in
	// Project ("" for the global config).
	OpSetting Op = "setting"
	// OpStage: a file holding secret data (Path) was staged or committed
	// in Project.
	OpStage Op = "stage"
	// OpUpload: Value (decimal) more bytes were sent to host Name; with
	// Push set, a person let uploads to Name past the limit.
	OpUpload Op = "upload"
)

// Note is one change to a session's memory, as stored (one line; see
// appendNote).
type Note struct {
	Op      Op
	Path    string
	From    string
	How     How
	Text    string
	Origin  string
	Project string
	Name    string
	Value   string
	Push    bool
}

// RemoteKey is the key of Session.Remotes.
func RemoteKey(project, name string) string { return project + "\x00" + name }

// SettingKey is the key of Session.Settings.
func SettingKey(project, name string) string { return project + "\x00" + strings.ToLower(name) }

// File returns what the session did to the file at path (absolute,
// clean), or nil.
func (s *Session) File(path string) *File {
	if s == nil {
		return nil
	}
	return s.Files[path]
}

// Apply folds n into the session. Notes that make no sense (no path, an
// unknown op) are ignored: a damaged memory is a smaller one, never a
// wrong one.
func (s *Session) Apply(n Note) {
	s.seq++
	switch n.Op {
	case OpWrite:
		if n.Path == "" {
			return
		}
		s.forget(n.Path)
		if n.How == 0 && n.Text == "" {
			return
		}
		f := &File{Path: n.Path, How: n.How, Origin: clip(n.Origin, maxOrigin)}
		s.put(f)
		s.addText(f, n.Text)
	case OpAppend:
		if n.Path == "" {
			return
		}
		f := s.Files[n.Path]
		if f == nil {
			// What the file held before is not known.
			f = &File{Path: n.Path, How: Partial}
			s.put(f)
		}
		f.seq = s.seq
		f.How |= n.How
		if f.Origin == "" {
			f.Origin = clip(n.Origin, maxOrigin)
		}
		s.addText(f, n.Text)
	case OpCopy, OpMove:
		if n.Path == "" || n.From == "" || n.Path == n.From {
			return
		}
		src := s.Files[n.From]
		s.forget(n.Path)
		if src != nil {
			f := &File{Path: n.Path, How: src.How, Origin: src.Origin}
			s.put(f)
			s.addText(f, src.Text)
		}
		if n.Op == OpMove {
			s.forget(n.From)
		}
	case OpRemove:
		if n.Path == "" {
			return
		}
		s.forget(n.Path)
		for p := range s.Files {
			if strings.HasPrefix(p, n.Path+"/") || n.Path == "/" {
				s.forget(p)
			}
		}
	case OpChmod:
		if f := s.Files[n.Path]; f != nil {
			f.How |= Executable
			f.seq = s.seq
		}
	case OpRemote:
		if n.Name == "" || n.Value == "" {
			return
		}
		if s.Remotes == nil {
			s.Remotes = map[string]*Remote{}
		}
		k := RemoteKey(n.Project, n.Name)
		r := s.Remotes[k]
		if r == nil {
			r = &Remote{Project: n.Project, Name: n.Name}
			s.Remotes[k] = r
		}
		if len(r.URLs) < 16 {
			r.URLs = append(r.URLs, clip(n.Value, maxOrigin))
		}
	case OpKnown:
		if s.Known == nil {
			s.Known = map[string][]string{}
		}
		urls := s.Known[n.Project]
		if urls == nil {
			urls = []string{}
		}
		if n.Value != "" && len(urls) < 32 {
			urls = append(urls, clip(n.Value, maxOrigin))
		}
		s.Known[n.Project] = urls
	case OpSetting:
		if n.Name == "" {
			return
		}
		if s.Settings == nil {
			s.Settings = map[string]string{}
		}
		if len(s.Settings) < 256 {
			s.Settings[SettingKey(n.Project, n.Name)] = clip(n.Value, maxOrigin)
		}
	case OpStage:
		if s.Staged == nil {
			s.Staged = map[string]bool{}
		}
		s.Staged[n.Project] = true
	case OpUpload:
		n64, err := strconv.ParseInt(n.Value, 10, 64)
		if n.Name == "" || err != nil || n64 < 0 {
			return
		}
		if s.Uploads == nil {
			s.Uploads = map[string]int64{}
		}
		if _, ok := s.Uploads[n.Name]; ok || len(s.Uploads) < maxHosts {
			s.Uploads[n.Name] += n64
		}
		if n.Push {
			if s.UploadOK == nil {
				s.UploadOK = map[string]bool{}
			}
			s.UploadOK[n.Name] = true
		}
	case opLost:
		s.Lost = true
	}
}

// maxHosts bounds the hosts whose uploads a session counts.
const maxHosts = 1024

// Uploaded returns what the session sent to host and whether a person let
// it send more than the limit; a nil Session sent nothing.
func (s *Session) Uploaded(host string) (int64, bool) {
	if s == nil {
		return 0, false
	}
	return s.Uploads[host], s.UploadOK[host]
}

func (s *Session) put(f *File) {
	if s.Files == nil {
		s.Files = map[string]*File{}
	}
	f.seq = s.seq
	s.Files[f.Path] = f
	if len(s.Files) > MaxFiles {
		s.evict()
	}
}

func (s *Session) forget(path string) {
	if f := s.Files[path]; f != nil {
		s.textBytes -= len(f.Text)
		delete(s.Files, path)
	}
}

// evict forgets one file: the oldest harmless one, else the oldest of all
// (and the session is Lost).
func (s *Session) evict() {
	var old, oldRisky *File
	for _, f := range s.Files {
		if f.How&Risky == 0 {
			if old == nil || f.seq < old.seq {
				old = f
			}
		} else if oldRisky == nil || f.seq < oldRisky.seq {
			oldRisky = f
		}
	}
	if old == nil {
		old = oldRisky
		s.Lost = true
	}
	if old != nil {
		s.forget(old.Path)
	}
}

// addText appends text to f within MaxText and MaxTotalText.
func (s *Session) addText(f *File, text string) {
	if text == "" {
		return
	}
	room := MaxText - len(f.Text)
	if room < len(text) {
		f.How |= Partial
		if room <= 0 {
			return
		}
		text = text[:room]
	}
	f.Text += text
	s.textBytes += len(text)
	for s.textBytes > MaxTotalText {
		// Drop the text of the oldest file that has some (not f's own
		// unless it is the only one).
		var old *File
		for _, g := range s.Files {
			if g.Text != "" && g != f && (old == nil || g.seq < old.seq) {
				old = g
			}
		}
		if old == nil {
			old = f
		}
		s.textBytes -= len(old.Text)
		old.Text = ""
		old.How |= Partial
	}
}

// Notes returns notes that rebuild the session (for compaction), in the
// order of the files' last changes.
func (s *Session) Notes() []Note {
	var out []Note
	projects := make([]string, 0, len(s.Known))
	for p := range s.Known {
		projects = append(projects, p)
	}
	sort.Strings(projects)
	for _, p := range projects {
		out = append(out, Note{Op: OpKnown, Project: p})
		for _, u := range s.Known[p] {
			out = append(out, Note{Op: OpKnown, Project: p, Value: u})
		}
	}
	keys := make([]string, 0, len(s.Remotes))
	for k := range s.Remotes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		r := s.Remotes[k]
		for _, u := range r.URLs {
			out = append(out, Note{Op: OpRemote, Project: r.Project, Name: r.Name, Value: u})
		}
	}
	keys = keys[:0]
	for k := range s.Settings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p, name, _ := strings.Cut(k, "\x00")
		out = append(out, Note{Op: OpSetting, Project: p, Name: name, Value: s.Settings[k]})
	}
	for p := range s.Staged {
		out = append(out, Note{Op: OpStage, Project: p})
	}
	hosts := make([]string, 0, len(s.Uploads))
	for h := range s.Uploads {
		hosts = append(hosts, h)
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		out = append(out, Note{Op: OpUpload, Name: h, Value: strconv.FormatInt(s.Uploads[h], 10), Push: s.UploadOK[h]})
	}
	files := make([]*File, 0, len(s.Files))
	for _, f := range s.Files {
		files = append(files, f)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].seq < files[j].seq })
	for _, f := range files {
		out = append(out, Note{Op: OpWrite, Path: f.Path, How: f.How, Text: f.Text, Origin: f.Origin})
	}
	if s.Lost {
		out = append(out, Note{Op: opLost})
	}
	return out
}

// opLost carries Session.Lost through compaction.
const opLost Op = "lost"

// Host returns the host a git or web URL names ("github.com" for
// "git@github.com:a/b.git" and "https://github.com/a/b"), lower-case; ""
// for a local path.
func Host(u string) string {
	if i := strings.Index(u, "://"); i > 0 {
		p, err := url.Parse(u)
		if err != nil {
			return strings.ToLower(u)
		}
		if p.Scheme == "file" {
			return ""
		}
		return strings.ToLower(p.Hostname())
	}
	// scp-like: [user@]host:path, where host has no slash before the colon.
	if i := strings.IndexByte(u, ':'); i > 0 && !strings.Contains(u[:i], "/") {
		h := u[:i]
		if j := strings.LastIndexByte(h, '@'); j >= 0 {
			h = h[j+1:]
		}
		return strings.ToLower(strings.Trim(h, "[]"))
	}
	return ""
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Clone returns a copy of s that can be changed without changing s; nil
// gives an empty session.
func (s *Session) Clone() *Session {
	c := &Session{}
	if s == nil {
		return c
	}
	c.Lost, c.seq, c.textBytes = s.Lost, s.seq, s.textBytes
	if s.Files != nil {
		c.Files = make(map[string]*File, len(s.Files))
		for k, f := range s.Files {
			g := *f
			c.Files[k] = &g
		}
	}
	if s.Remotes != nil {
		c.Remotes = make(map[string]*Remote, len(s.Remotes))
		for k, r := range s.Remotes {
			g := *r
			g.URLs = append([]string(nil), r.URLs...)
			c.Remotes[k] = &g
		}
	}
	if s.Known != nil {
		c.Known = make(map[string][]string, len(s.Known))
		for k, v := range s.Known {
			c.Known[k] = append([]string{}, v...)
		}
	}
	if s.Settings != nil {
		c.Settings = make(map[string]string, len(s.Settings))
		for k, v := range s.Settings {
			c.Settings[k] = v
		}
	}
	if s.Staged != nil {
		c.Staged = make(map[string]bool, len(s.Staged))
		for k, v := range s.Staged {
			c.Staged[k] = v
		}
	}
	c.Uploads = maps.Clone(s.Uploads)
	c.UploadOK = maps.Clone(s.UploadOK)
	return c
}

// Under returns the files the session holds under the folder dir.
func (s *Session) Under(dir string) []*File {
	if s == nil || dir == "" {
		return nil
	}
	var out []*File
	for p, f := range s.Files {
		if strings.HasPrefix(p, dir+"/") || dir == "/" && p != "/" {
			out = append(out, f)
		}
	}
	return out
}

// Dir reports whether the session holds files under path, which is then
// a folder.
func (s *Session) Dir(path string) bool { return len(s.Under(path)) > 0 }

// KnowsRemotes reports whether the remotes project had before the
// session changed any were noted (OpKnown).
func (s *Session) KnowsRemotes(project string) bool {
	if s == nil {
		return false
	}
	_, ok := s.Known[project]
	return ok
}

// Empty reports whether the session remembers nothing (nil is empty).
func (s *Session) Empty() bool {
	return s == nil || len(s.Files) == 0 && len(s.Remotes) == 0 && len(s.Settings) == 0 && len(s.Staged) == 0 && !s.Lost
}
