package reaper

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
	"time"
	"unicode/utf8"
)

// proc is one process as /proc/PID/stat shows it.
type proc struct {
	pid, ppid int
	state     byte // R, S, D, T, Z…
	comm      string
}

// dead reports whether p has exited and only waits to be reaped.
func (p proc) dead() bool { return p.state == 'Z' || p.state == 'X' }

// scan reads every process of this pid namespace from /proc. A process
// that ends meanwhile may be missing.
func scan() (map[int]proc, error) {
	d, err := os.Open("/proc")
	if err != nil {
		return nil, err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, err
	}
	procs := make(map[int]proc, len(names))
	buf := make([]byte, 512)
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil || pid <= 0 {
			continue
		}
		if p, ok := parseStat(pid, buf[:readFile("/proc/"+name+"/stat", buf)]); ok {
			procs[pid] = p
		}
	}
	return procs, nil
}

// parseStat reads the state, parent and name from a /proc/PID/stat line,
// "PID (COMM) STATE PPID …", where COMM may hold spaces and parentheses.
func parseStat(pid int, b []byte) (proc, bool) {
	open, shut := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
	if open < 0 || shut < open || len(b) < shut+5 {
		return proc{}, false
	}
	rest := b[shut+2:] // "S 123 …"
	end := bytes.IndexByte(rest[2:], ' ')
	if end < 0 {
		return proc{}, false
	}
	ppid, err := strconv.Atoi(string(rest[2 : 2+end]))
	if err != nil {
		return proc{}, false
	}
	return proc{pid: pid, ppid: ppid, state: rest[0], comm: string(b[open+1 : shut])}, true
}

// readFile reads up to len(buf) bytes of the file at path into buf and
// returns how many; 0 when it cannot be read.
func readFile(path string, buf []byte) int {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return 0
	}
	defer syscall.Close(fd)
	n := 0
	for n < len(buf) {
		m, err := syscall.Read(fd, buf[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil || m <= 0 {
			break
		}
		n += m
	}
	return n
}

// args returns the first arguments of process pid (its command line, at
// most 4 KiB of it), or nil.
func args(pid int) [][]byte {
	buf := make([]byte, 4096)
	b := bytes.TrimRight(buf[:readFile("/proc/"+strconv.Itoa(pid)+"/cmdline", buf)], "\x00")
	if len(b) == 0 {
		return nil
	}
	return bytes.Split(b, []byte{0})
}

// reapers returns the processes but self that are job's reapers: run as
// "chaperone-reaper JOB -- …".
func reapers(procs map[int]proc, job string, self int) []int {
	var out []int
	for pid := range procs {
		if pid == self {
			continue
		}
		a := args(pid)
		if len(a) >= 3 && Is(string(a[0])) && string(a[1]) == job && string(a[2]) == "--" {
			out = append(out, pid)
		}
	}
	return out
}

// killer ends processes and keeps the list of what it killed. Not safe for
// concurrent use.
type killer struct {
	self   int    // this process: never a target
	job    string // -kill: the job whose reapers are ended (last)
	strays bool   // whether strays are ended too
	cmd    int    // the command's pid (0: none), whose status is kept
	status int    // the command's status once reaped; -1 until then

	listed map[int]bool
	killed []string
	more   int // killed but not listed, past MaxListed
	left   int
}

// newKiller returns a killer of what is below self, below job's reapers
// (when job is not empty), and of the strays (when strays).
func newKiller(self int, job string, strays bool) *killer {
	return &killer{self: self, job: job, strays: strays, status: -1, listed: map[int]bool{}}
}

// target is a process to end.
type target struct {
	proc
	stray bool // below init: its job's reaper is gone
}

// targets returns the processes to end: every descendant of self and of
// job's reapers, and with strays every descendant of init (pid 1). Parent
// links are what the kernel keeps: a process leaves a tree only when its
// parent dies, and then it is reparented to the nearest subreaper above
// it (this process, or a reaper below it) or to init.
func (k *killer) targets(procs map[int]proc) []target {
	children := make(map[int][]int, len(procs))
	for pid, p := range procs {
		children[p.ppid] = append(children[p.ppid], pid)
	}
	seen := map[int]bool{k.self: true}
	var out []target
	walk := func(root int, stray bool) {
		stack := append([]int(nil), children[root]...)
		for len(stack) > 0 {
			pid := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[pid] {
				continue
			}
			seen[pid] = true
			out = append(out, target{procs[pid], stray})
			stack = append(stack, children[pid]...)
		}
	}
	walk(k.self, false)
	if k.job != "" {
		for _, pid := range reapers(procs, k.job, k.self) {
			seen[pid] = true
			walk(pid, false)
		}
	}
	if k.strays {
		seen[1] = true
		walk(1, true)
	}
	return out
}

// end kills the targets with SIGKILL, again and again (what a dying
// parent leaves is reparented, and a process may fork until it is killed),
// until none is alive, and reaps what becomes this process's child. With
// job, the job's reapers are killed once nothing is left below them, so
// that what they have adopted stays theirs until then. It gives up after
// endWait, counting what is still alive in k.left.
func (k *killer) end() {
	deadline := time.Now().Add(endWait)
	pause := time.Millisecond
	for {
		procs, err := scan()
		if err != nil {
			warn("cannot list the processes to end: " + err.Error())
			k.left = -1
			return
		}
		alive := 0
		for _, t := range k.targets(procs) {
			if !t.dead() {
				alive++
				k.kill(t)
			}
		}
		if alive == 0 && k.job != "" {
			for _, pid := range reapers(procs, k.job, k.self) {
				if p := procs[pid]; !p.dead() {
					alive++
					k.kill(target{proc: p})
				}
			}
		}
		k.reap()
		if alive == 0 {
			k.left = 0
			return
		}
		if time.Now().After(deadline) {
			k.left = alive
			return
		}
		time.Sleep(pause)
		pause = min(2*pause, 20*time.Millisecond)
	}
}

// kill notes t (the first time) and sends it SIGKILL.
func (k *killer) kill(t target) {
	if !k.listed[t.pid] {
		k.listed[t.pid] = true
		if len(k.killed) < MaxListed {
			k.killed = append(k.killed, describe(t))
		} else {
			k.more++
		}
	}
	syscall.Kill(t.pid, syscall.SIGKILL)
}

// list returns what k killed, for Result.Killed.
func (k *killer) list() []string {
	if k.more > 0 {
		return append(k.killed, "and "+strconv.Itoa(k.more)+" more")
	}
	return k.killed
}

// reap waits for every child that has ended, keeping the command's status.
func (k *killer) reap() {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			return
		}
		if pid == k.cmd {
			k.status = statusOf(ws)
		}
	}
}

// statusOf is a shell's exit status for ws: the code, or 128+N for signal N.
func statusOf(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// maxEntry caps the length of one entry of Result.Killed, in bytes.
const maxEntry = 200

// describe returns t's entry for Result.Killed: "PID (comm) command line",
// "stray " first for a stray, printable and at most maxEntry bytes.
func describe(t target) string {
	var b []byte
	if t.stray {
		b = append(b, "stray "...)
	}
	b = strconv.AppendInt(b, int64(t.pid), 10)
	b = append(b, " ("...)
	b = appendPrintable(b, []byte(t.comm))
	b = append(b, ')')
	for _, a := range args(t.pid) {
		b = append(b, ' ')
		b = appendPrintable(b, a)
		if len(b) > maxEntry {
			break
		}
	}
	if len(b) > maxEntry {
		n := maxEntry - len("…")
		for n > 0 && !utf8.RuneStart(b[n]) {
			n--
		}
		b = append(b[:n], "…"...)
	}
	return string(b)
}

// appendPrintable appends s to b with control characters as '?'.
func appendPrintable(b, s []byte) []byte {
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			c = '?'
		}
		b = append(b, c)
	}
	return b
}
