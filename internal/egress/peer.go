package egress

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// ownClient reports whether the TCP connection fd (accepted on the
// forwarder's port) was opened by a process below this one: the job's
// command or what it started (the reaper is their subreaper, so even a
// detached one is below it). In a container, every command of the project
// shares the network, and another job's command could otherwise send
// through this job's forwarder, passing its connections off as this
// job's. The socket's inode is found in /proc/net/tcp by the client's port,
// then its holder among this process's descendants' descriptors (and its
// own: the tests', and doctor's self-test, whose client is the forwarder's
// own process).
func ownClient(fd int, port int) bool {
	sa, err := syscall.Getpeername(fd)
	if err != nil {
		return false
	}
	peer, ok := sa.(*syscall.SockaddrInet4)
	if !ok {
		return false
	}
	inode := tcpInode(peer.Port, port)
	if inode == "" {
		return false
	}
	want := "socket:[" + inode + "]"
	self := os.Getpid()
	for _, pid := range append(descendants(self), self) {
		dir := "/proc/" + strconv.Itoa(pid) + "/fd/"
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			if l, err := os.Readlink(dir + e.Name()); err == nil && l == want {
				return true
			}
		}
	}
	return false
}

// tcpInode finds, in /proc/net/tcp, the inode of the socket on
// 127.0.0.1:from connected to 127.0.0.1:to ("" when there is none).
func tcpInode(from, to int) string {
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return ""
	}
	local := "0100007F:" + hex4(from)
	remote := "0100007F:" + hex4(to)
	for _, line := range bytes.Split(b, []byte{'\n'}) {
		f := strings.Fields(string(line))
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		if len(f) >= 10 && f[1] == local && f[2] == remote {
			return f[9]
		}
	}
	return ""
}

func hex4(n int) string {
	s := strings.ToUpper(strconv.FormatInt(int64(n), 16))
	return strings.Repeat("0", 4-len(s)) + s
}

// descendants lists the processes below pid (not pid itself), from their
// parent links in /proc.
func descendants(pid int) []int {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	parent := map[int]int{}
	for _, n := range names {
		p, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + n + "/stat")
		if err != nil {
			continue
		}
		// "PID (COMM) STATE PPID …", COMM may hold spaces and parentheses.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 {
			continue
		}
		if pp, err := strconv.Atoi(f[1]); err == nil {
			parent[p] = pp
		}
	}
	var out []int
	for p := range parent {
		for q, seen := parent[p], 0; q != 0 && seen < 64; q, seen = parent[q], seen+1 {
			if q == pid {
				out = append(out, p)
				break
			}
		}
	}
	return out
}
