package reaper

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// SetupEnv is the environment variable that tells the reaper what to
// prepare in the container before it starts its command (a Setup,
// encoded). The reaper removes it from the command's environment.
const SetupEnv = "CHAPERONE_REAPER_SETUP"

// Setup is what a reaper prepares before it starts its command: what the
// engine's exec cannot do itself. The zero value prepares nothing.
type Setup struct {
	// Home is the container's home folder, a tmpfs that lives as long as
	// the container. What earlier commands left there would be read by
	// this one (a ~/.bash_profile, a ~/.gitconfig…): when no other job
	// runs in the container, Home is emptied, as bubblewrap gives each
	// command a new empty home; when others run, what shells and common
	// tools read or run at their start (StartFiles) is removed. Nothing on
	// another file system below Home (the project, a mount) is touched.
	// Empty: the home folder is left as it is.
	Home string
	// Dirs are folders to make (TMPDIR), after Home has been seen to.
	Dirs []string
	// Rows and Cols, when not 0, are the terminal's size, set on stdin
	// (docker before API 1.42 sets it only once the command has started).
	Rows, Cols int
	// Links are the symbolic links to make, each {FILE, TARGET}, with the
	// folders above FILE: the agent's files that the engine exchanges
	// with the host (see package sandbox). Whatever is at FILE is replaced.
	Links [][2]string
	// Egress, when set, is the path of the egress proxy's unix socket: the
	// reaper listens on a free port of 127.0.0.1, carries what connects
	// there to the socket, and gives the command the proxy variables that
	// point at it (see package netproxy). EgressKey is the job's secret,
	// which the forwarder sends first on each connection: the socket
	// answers nothing else, so that another command that can reach it (in
	// the same container) cannot pass its connections off as this job's.
	Egress, EgressKey string
	// Seal runs the command sealed (see sealed): what it runs cannot
	// reach into it. For a session's bash, which holds the channel
	// chaperone sends it the statements on.
	Seal bool
	// Channel, when set, is the folder of a statement session's channel
	// with chaperone: the reaper connects to its socket and gives the
	// connection to the command on descriptors 3 and 4 (see channel).
	Channel string
}

// StartFiles are the names (relative to the home folder) of what shells
// and common tools read, or run, at their start: login and interactive
// shell profiles, readline, git, ssh, package managers' settings, language
// start-up hooks (Python's user site-packages, where a .pth file runs
// code), editors, and the folders of user programs. A Setup removes them
// from Home when other jobs run in the container.
var StartFiles = []string{
	".bash_profile", ".bash_login", ".profile", ".bashrc", ".bash_logout", ".bash_aliases",
	".shrc", ".kshrc", ".mkshrc", ".cshrc", ".tcshrc", ".login", ".logout",
	".zshenv", ".zprofile", ".zshrc", ".zlogin", ".zlogout", ".config/fish",
	".inputrc", ".editrc", ".terminfo", ".hushlogin",
	".gitconfig", ".git-credentials", ".config/git", ".ssh", ".gnupg", ".netrc", ".curlrc", ".wgetrc",
	".npmrc", ".yarnrc", ".yarnrc.yml", ".bunfig.toml", ".config/npm", ".node_modules", ".node_libraries",
	".pythonrc", ".pythonrc.py", ".pythonstartup", ".pydistutils.cfg", ".pip", ".config/pip", ".local/lib", ".local/bin",
	".gemrc", ".irbrc", ".pryrc", ".Rprofile", ".perldb", ".config/go",
	".cargo/config", ".cargo/config.toml", ".cargo/env", ".cargo/bin", ".m2/settings.xml",
	".gradle/init.d", ".gradle/init.gradle", ".gradle/gradle.properties", ".docker", ".config/containers",
	".vimrc", ".vim", ".exrc", ".config/nvim", ".nanorc", ".emacs", ".emacs.d", ".lesskey", ".config/lesskey",
	".tmux.conf", ".screenrc", ".config/direnv", "bin",
}

// Encode returns s as SetupEnv's value: words, each a Go-quoted string or
// a number, that ParseSetup reads back.
func (s Setup) Encode() string {
	var b []byte
	word := func(w string) {
		if len(b) > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendQuote(b, w)
	}
	if s.Home != "" {
		word("home")
		word(s.Home)
	}
	for _, d := range s.Dirs {
		word("dir")
		word(d)
	}
	if s.Rows > 0 && s.Cols > 0 {
		word("size")
		word(strconv.Itoa(s.Rows))
		word(strconv.Itoa(s.Cols))
	}
	for _, l := range s.Links {
		word("link")
		word(l[0])
		word(l[1])
	}
	if s.Egress != "" {
		word("egress")
		word(s.Egress)
		word(s.EgressKey)
	}
	if s.Seal {
		word("seal")
	}
	if s.Channel != "" {
		word("channel")
		word(s.Channel)
	}
	return string(b)
}

// errSetup is ParseSetup's error for what Encode did not write.
var errSetup = errors.New("malformed reaper setup")

// ParseSetup reads a Setup written by Encode.
func ParseSetup(v string) (Setup, error) {
	var words []string
	for v = strings.TrimLeft(v, " "); v != ""; v = strings.TrimLeft(v, " ") {
		q, err := strconv.QuotedPrefix(v)
		if err != nil {
			return Setup{}, errSetup
		}
		w, err := strconv.Unquote(q)
		if err != nil {
			return Setup{}, errSetup
		}
		words = append(words, w)
		v = v[len(q):]
	}
	var s Setup
	for len(words) > 0 {
		var n int
		switch words[0] {
		case "seal":
			n = 1
		case "home", "dir", "channel":
			n = 2
		case "size", "link", "egress":
			n = 3
		default:
			return Setup{}, errSetup
		}
		if len(words) < n {
			return Setup{}, errSetup
		}
		switch words[0] {
		case "seal":
			s.Seal = true
		case "channel":
			s.Channel = words[1]
		case "home":
			s.Home = words[1]
		case "dir":
			s.Dirs = append(s.Dirs, words[1])
		case "egress":
			s.Egress, s.EgressKey = words[1], words[2]
		case "size":
			r, err1 := strconv.Atoi(words[1])
			c, err2 := strconv.Atoi(words[2])
			if err1 != nil || err2 != nil || r <= 0 || c <= 0 || r > 0xffff || c > 0xffff {
				return Setup{}, errSetup
			}
			s.Rows, s.Cols = r, c
		case "link":
			s.Links = append(s.Links, [2]string{words[1], words[2]})
		}
		words = words[n:]
	}
	return s, nil
}

// lockWait bounds how long a reaper waits for another one's setup (a
// command could hold the lock on the home folder for ever).
const lockWait = 2 * time.Second

// prepare does what s asks, as well as it can (what fails is left as it
// is; the command then meets it). self is this reaper's pid. Setups of
// the container's jobs take turns, locking the home folder, so that one
// that empties it cannot remove what another has just made there.
func (s Setup) prepare(self int) {
	if s.Home != "" {
		if fd, err := syscall.Open(s.Home, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0); err == nil {
			defer syscall.Close(fd) // the lock goes with it, once the links are made
			locked := lockFd(fd)
			clearHome(fd, s.Home, !locked || otherJobs(self))
		}
	}
	for _, d := range s.Dirs {
		os.MkdirAll(d, 0o700)
	}
	if s.Rows > 0 && s.Cols > 0 {
		ws := struct{ row, col, x, y uint16 }{uint16(s.Rows), uint16(s.Cols), 0, 0}
		syscall.Syscall(syscall.SYS_IOCTL, 0, syscall.TIOCSWINSZ, uintptr(unsafe.Pointer(&ws)))
	}
	for _, l := range s.Links {
		if i := strings.LastIndexByte(l[0], '/'); i > 0 {
			os.MkdirAll(l[0][:i], 0o755)
		}
		syscall.Unlink(l[0])
		os.Symlink(l[1], l[0])
	}
}

// lockFd takes an exclusive lock on fd, waiting at most lockWait, and
// reports whether it has it.
func lockFd(fd int) bool {
	deadline := time.Now().Add(lockWait)
	for pause := time.Millisecond; ; pause = min(2*pause, 50*time.Millisecond) {
		err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return true
		}
		if err != syscall.EWOULDBLOCK && err != syscall.EINTR || time.Now().After(deadline) {
			return false
		}
		time.Sleep(pause)
	}
}

// otherJobs reports whether a job other than self's runs in the container:
// a process "chaperone-reaper JOB -- …" but self. When the processes cannot
// be listed, it says yes.
func otherJobs(self int) bool {
	procs, err := scan()
	if err != nil {
		return true
	}
	for pid, p := range procs {
		if pid == self || p.dead() {
			continue
		}
		if a := args(pid); len(a) >= 3 && Is(string(a[0])) && isJob(string(a[1])) && string(a[2]) == "--" {
			return true
		}
	}
	return false
}

// tmpfsMagic is the file system type of a tmpfs (statfs f_type).
const tmpfsMagic = 0x01021994

// clearHome empties the home folder open as fd (path home), or with
// others removes only StartFiles from it. It does nothing unless the
// folder is a tmpfs of its own (a mount point): never a folder of the
// host's. Entries on another file system (mount points) are kept, and
// symbolic links are removed, never followed.
func clearHome(fd int, home string, others bool) {
	var fs syscall.Statfs_t
	var st, up syscall.Stat_t
	if syscall.Fstatfs(fd, &fs) != nil || fs.Type != tmpfsMagic || syscall.Fstat(fd, &st) != nil ||
		syscall.Stat(home+"/..", &up) != nil || up.Dev == st.Dev {
		return
	}
	sweepHome(fd, uint64(st.Dev), others)
}

// sweepHome empties the folder fd on device dev, or with others removes
// only StartFiles from it.
func sweepHome(fd int, dev uint64, others bool) {
	if !others {
		clearDir(fd, dev)
		return
	}
	for _, name := range StartFiles {
		i := strings.LastIndexByte(name, '/')
		if i < 0 {
			remove(fd, name, dev)
			continue
		}
		if d, err := openDir(fd, name[:i], dev); err == nil {
			remove(d, name[i+1:], dev)
			syscall.Close(d)
		}
	}
}

// openDir opens the folder path (relative to dirfd, without following a
// symbolic link anywhere on the way) when it is on the device dev.
func openDir(dirfd int, path string, dev uint64) (int, error) {
	fd := dirfd
	for _, name := range strings.Split(path, "/") {
		next, err := syscall.Openat(fd, name, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
		if fd != dirfd {
			syscall.Close(fd)
		}
		if err != nil {
			return -1, err
		}
		fd = next
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil || uint64(st.Dev) != dev {
		syscall.Close(fd)
		return -1, syscall.EXDEV
	}
	return fd, nil
}

// clearDir removes everything in the folder open as fd that is on device
// dev, and reports whether the folder is empty afterwards, and whether a
// mount point is kept in it.
func clearDir(fd int, dev uint64) (empty, mount bool) {
	names, err := readNames(fd)
	if err != nil {
		return false, false
	}
	empty = true
	for _, name := range names {
		gone, m := remove(fd, name, dev)
		empty = empty && gone
		mount = mount || m
	}
	return empty, mount
}

// remove removes the entry name of the folder dirfd, and everything in it,
// without following a symbolic link or entering another file system than
// dev. It reports whether the entry is gone, and whether it is or holds a
// mount point, which is kept (with the folders on the way to it: renaming
// one would move the mount, the project say, away from its path). Another
// entry that cannot be removed (a folder too deep to walk) is renamed out
// of the way, so that no tool finds it under its name.
func remove(dirfd int, name string, dev uint64) (gone, mount bool) {
	err := unlinkat(dirfd, name, 0)
	switch err {
	case nil, syscall.ENOENT:
		return true, false
	case syscall.EBUSY:
		return false, true // a file mounted there
	case syscall.EISDIR:
	default:
		return false, false
	}
	fd, err := syscall.Openat(dirfd, name, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if err != nil {
		return false, false
	}
	var st syscall.Stat_t
	if syscall.Fstat(fd, &st) != nil || uint64(st.Dev) != dev {
		syscall.Close(fd)
		return false, true // another file system (the project, a mount): kept
	}
	_, mount = clearDir(fd, dev)
	syscall.Close(fd)
	if err := unlinkat(dirfd, name, atRemoveDir); err == nil || err == syscall.ENOENT {
		return true, false
	}
	if !mount && !strings.HasPrefix(name, ".chaperone-removed-") {
		renameat(dirfd, name, ".chaperone-removed-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	}
	return false, mount
}

// readNames returns the names in the folder open as fd.
func readNames(fd int) ([]string, error) {
	var names []string
	buf := make([]byte, 8192)
	for {
		n, err := syscall.ReadDirent(fd, buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return names, err
		}
		if n <= 0 {
			return names, nil
		}
		_, _, names = syscall.ParseDirent(buf[:n], -1, names)
	}
}

// atRemoveDir is unlinkat's flag to remove a folder.
const atRemoveDir = 0x200

func unlinkat(dirfd int, name string, flags int) error {
	p, err := syscall.BytePtrFromString(name)
	if err != nil {
		return err
	}
	if _, _, e := syscall.Syscall(syscall.SYS_UNLINKAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)), uintptr(flags)); e != 0 {
		return e
	}
	return nil
}

func renameat(dirfd int, from, to string) error {
	return syscall.Renameat(dirfd, from, dirfd, to)
}
