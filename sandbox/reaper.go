package sandbox

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/chaperone-dev/chaperone/internal/reaper"
)

// reaperPath is where an Engine mounts the reaper program (see
// internal/reaper) in its containers, read-only. Every command runs under
// it: "/run/chaperone-reaper JOB -- bash -c …".
const reaperPath = "/run/chaperone-reaper"

// ErrReaper is returned by Engine.Run when there is no static program to
// mount as the commands' reaper.
var ErrReaper = errors.New("no static chaperone program to run commands under in the container")

// DefaultReaper is the reaper program of the Engines whose Reaper is empty
// (those Choose and Select make). Empty means chaperone-shell beside this
// executable, else this executable. A program sets it once, before any
// Run: the tests of a dynamically linked chaperone point it at a static
// build.
var DefaultReaper string

// reaperProgram returns the host program an Engine mounts as the reaper:
// Engine.Reaper, else DefaultReaper, else chaperone-shell beside this
// executable (small), else this executable. It must be static (no ELF
// interpreter): images need not have a C library, and the sandbox's has
// none of the host's.
func (e Engine) reaperProgram() (string, error) {
	named := cmp.Or(e.Reaper, DefaultReaper)
	candidates := []string{named}
	if named == "" {
		self, err := os.Executable()
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrReaper, err)
		}
		if s, err := filepath.EvalSymlinks(self); err == nil {
			self = s
		}
		candidates = []string{filepath.Join(filepath.Dir(self), "chaperone-shell"), self}
	}
	var why []error
	for i, p := range candidates {
		_, err := programID(p)
		if err == nil {
			return p, nil
		}
		if i == 0 && len(candidates) > 1 && errors.Is(err, fs.ErrNotExist) {
			continue // no chaperone-shell installed: chaperone itself will do
		}
		why = append(why, err)
	}
	return "", fmt.Errorf("%w: %w; build chaperone and chaperone-shell with CGO_ENABLED=0, as scripts/install does",
		ErrReaper, errors.Join(why...))
}

// programs caches programID's answers, by path and file identity.
var programs sync.Map // path → programInfo

type programInfo struct {
	id  string
	err error
}

// programID checks that the file at path is a static ELF program and
// returns its identity (device, inode, size, modification time), which
// changes when the file is replaced.
func programID(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", fmt.Errorf("%s: no file identity", path)
	}
	id := fmt.Sprintf("%x-%x-%x-%x", st.Dev, st.Ino, fi.Size(), fi.ModTime().UnixNano())
	if v, ok := programs.Load(path); ok && v.(programInfo).id == id {
		return id, v.(programInfo).err
	}
	err = checkStatic(path)
	programs.Store(path, programInfo{id, err})
	return id, err
}

// ptInterp is the ELF program header type of a program's interpreter.
const ptInterp = 3

// checkStatic reports why the file at path is not a static ELF program:
// one with no interpreter (PT_INTERP: a dynamic loader, and a C library
// for it to load, which the sandbox's image need not have).
func checkStatic(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var h [64]byte
	if _, err := io.ReadFull(f, h[:]); err != nil || string(h[:4]) != "\x7fELF" {
		return fmt.Errorf("%s is not a program (no ELF header)", path)
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if h[5] == 2 {
		bo = binary.BigEndian
	}
	var off int64
	var size, num int
	switch h[4] {
	case 1: // 32-bit
		off, size, num = int64(bo.Uint32(h[28:])), int(bo.Uint16(h[42:])), int(bo.Uint16(h[44:]))
	case 2: // 64-bit
		off, size, num = int64(bo.Uint64(h[32:])), int(bo.Uint16(h[54:])), int(bo.Uint16(h[56:]))
	default:
		return fmt.Errorf("%s is not a program (ELF class %d)", path, h[4])
	}
	if size < 4 {
		return fmt.Errorf("%s is not a program (program headers of %d bytes)", path, size)
	}
	phdrs := make([]byte, size*num)
	if _, err := f.ReadAt(phdrs, off); err != nil {
		return fmt.Errorf("%s is not a program (program headers: %w)", path, err)
	}
	for i := 0; i < num; i++ {
		if bo.Uint32(phdrs[i*size:]) == ptInterp {
			return fmt.Errorf("%s is dynamically linked (it needs a loader and C library that the sandbox's image need not have)", path)
		}
	}
	return nil
}

// reaperMount returns the container-creation arguments that mount the
// reaper program, with a label that changes when the program does: a
// reinstalled chaperone gets a new container, with its own reaper in it (a
// bind-mounted file stays the one that was there at creation). Nil when
// there is no program; Run then says why.
func (e Engine) reaperMount() []string {
	p, err := e.reaperProgram()
	if err != nil {
		return nil
	}
	id, _ := programID(p)
	return []string{"-v", p + ":" + reaperPath + ":ro", "--label", "chaperone.reaper=" + id}
}

// killArgs is the engine CLI's arguments that run the reaper program in
// c as `chaperone-reaper VERB JOB`: "-term" sends SIGTERM to job id's
// reaper (it forwards it, and ends everything after reaper.Grace); "-kill"
// kills the reaper, everything below it and the strays at once, and prints
// what it killed.
func (e Engine) killArgs(c *container, verb, id string) []string {
	return []string{"exec", "-u", c.user(), c.name, reaperPath, verb, id}
}

// reaperCLI runs the reaper program in c with verb for job id (see
// killArgs) and returns what it printed.
func (e Engine) reaperCLI(c *container, env []string, verb, id string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.prog(), e.killArgs(c, verb, id)...)
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s exec %s %s: %w", e.Kind, reaperPath, verb, err)
	}
	return out, nil
}

// maxResult caps the size of a reaper's result file.
const maxResult = 64 << 10

// readResult reads a reaper's result file in the exchange folder. The
// command can write there: only a regular file is read, not followed, and
// at most maxResult bytes of it.
func readResult(path string) (reaper.Result, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return reaper.Result{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return reaper.Result{}, err
	}
	if !fi.Mode().IsRegular() {
		return reaper.Result{}, fmt.Errorf("%w: %s is not a regular file", reaper.ErrResult, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxResult+1))
	if err != nil {
		return reaper.Result{}, err
	}
	if len(b) > maxResult {
		return reaper.Result{}, fmt.Errorf("%w: %s is larger than %d bytes", reaper.ErrResult, path, maxResult)
	}
	return reaper.ParseResult(b)
}

// report adds what the reaper had to kill to the job's Killed list, when
// the caller asked for it.
func report(j *Job, r reaper.Result) {
	if j.Killed == nil {
		return
	}
	list := append([]string{}, r.Killed...)
	switch {
	case r.Left > 0:
		list = append(list, strconv.Itoa(r.Left)+" more would not die")
	case r.Left < 0:
		list = append(list, "the processes left could not be listed")
	}
	*j.Killed = append(*j.Killed, list...)
}

// hostSignal sends sig to job id's reaper from the host, where the host
// sees it (runc containers share the kernel's process table; gVisor's do
// not): the process whose command line begins "/run/chaperone-reaper ID --".
// The engine's exec is the sure way; this one is instant.
func hostSignal(id string, sig syscall.Signal) {
	want := []byte(reaperPath + "\x00" + id + "\x00--\x00")
	ents, _ := os.ReadDir("/proc")
	buf := make([]byte, len(want))
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		f, err := os.Open("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		n, _ := io.ReadFull(f, buf)
		f.Close()
		if n == len(want) && bytes.Equal(buf, want) {
			syscall.Kill(pid, sig)
		}
	}
}
