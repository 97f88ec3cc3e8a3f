package shim

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/chaperone-dev/chaperone/config"
	"github.com/chaperone-dev/chaperone/internal/safefile"
	"github.com/chaperone-dev/chaperone/memory"
	"github.com/chaperone-dev/chaperone/models"
	"github.com/chaperone-dev/chaperone/rater"
)

// memoryStore is where the sessions' memories are kept: the state folder,
// which no sandbox sees.
func memoryStore(getenv func(string) string) memory.Store {
	return memory.Store{Dir: filepath.Join(config.DirsFrom(getenv).State, "sessions")}
}

// loadMemory loads the session's memory for rating its next command. A
// memory that cannot be read is empty: it can only raise ratings, so an
// empty one rates as chaperone would without it.
func loadMemory(getenv func(string) string, session string) *memory.Session {
	mem, _ := memoryStore(getenv).Load(session)
	return mem
}

// sessionNotes is what the session's memory learns from the command about
// to run (rater.Learn), with, before a change of a repository's remotes,
// the URLs its remotes have now (read before the command changes them), so
// that a later push can tell a new host from the project's own.
func sessionNotes(req rater.Request, facts *models.Facts) []memory.Note {
	notes := rater.Learn(req, facts)
	var known []memory.Note
	seen := map[string]bool{}
	for _, n := range notes {
		if n.Op != memory.OpRemote && !(n.Op == memory.OpSetting && strings.HasPrefix(strings.ToLower(n.Name), "url.")) {
			continue
		}
		p := n.Project
		if p == "" {
			p = req.Project // a global setting: this project's remotes
		}
		if req.Memory.KnowsRemotes(p) || seen[p] || p == "" {
			continue
		}
		seen[p] = true
		known = append(known, memory.Note{Op: memory.OpKnown, Project: p})
		for _, u := range gitRemoteURLs(p) {
			known = append(known, memory.Note{Op: memory.OpKnown, Project: p, Value: u})
		}
	}
	return append(known, notes...)
}

// remember appends the notes of a command that was allowed to run to the
// session's memory; a failure costs only the memory.
func remember(getenv func(string) string, session string, notes []memory.Note) {
	if len(notes) == 0 || session == "" {
		return
	}
	memoryStore(getenv).Append(session, notes...)
}

// gitRemoteURLs returns the URLs (url and pushurl) of the remotes in the
// config of the repository at dir, or nothing when there is none to read.
func gitRemoteURLs(dir string) []string {
	gitDir := filepath.Join(dir, ".git")
	if b, err := safefile.Read(gitDir, 4<<10); err == nil {
		// A worktree or submodule: "gitdir: PATH"; its config is in the
		// common folder when there is one.
		g, ok := strings.CutPrefix(strings.TrimSpace(string(b)), "gitdir:")
		if !ok {
			return nil
		}
		gitDir = strings.TrimSpace(g)
		if !filepath.IsAbs(gitDir) {
			gitDir = filepath.Join(dir, gitDir)
		}
		if c, err := safefile.Read(filepath.Join(gitDir, "commondir"), 4<<10); err == nil {
			common := strings.TrimSpace(string(c))
			if !filepath.IsAbs(common) {
				common = filepath.Join(gitDir, common)
			}
			gitDir = common
		}
	}
	b, err := safefile.Read(filepath.Join(gitDir, "config"), 1<<20)
	if err != nil {
		return nil
	}
	return rater.RemoteURLs(b)
}

// uploadNotes are the session memory's notes of what the command sent to
// each host (counted as key says: netproxy.Policy.UploadKey) through the
// egress proxy, and of the hosts a person let a
// large upload go to (the next commands' uploads count on from there).
func uploadNotes(conns []models.Connection, key func(host string, port int) string) []memory.Note {
	sent := map[string]int64{}
	ok := map[string]bool{}
	var hosts []string
	for _, c := range conns {
		k := key(c.Host, c.Port)
		if _, seen := sent[k]; !seen {
			hosts = append(hosts, k)
		}
		sent[k] += c.Up
		ok[k] = ok[k] || (c.Held && c.Allowed)
	}
	var notes []memory.Note
	for _, h := range hosts {
		if sent[h] > 0 || ok[h] {
			notes = append(notes, memory.Note{Op: memory.OpUpload, Name: h, Value: strconv.FormatInt(sent[h], 10), Push: ok[h]})
		}
	}
	return notes
}

// newSessionID is the id a shell session's statements are recorded under:
// the agent's session when the agent names one, else one of the session's
// own (two sessions started from one shell are two sessions, where
// DetectSession would give both its process's id).
func newSessionID(getenv func(string) string, ppid int) string {
	id := DetectSession(getenv, ppid)
	if strings.HasPrefix(id, "ppid-") {
		id = fmt.Sprintf("shell-%d-%s", os.Getpid(), time.Now().UTC().Format("20060102T150405"))
	}
	return id
}
