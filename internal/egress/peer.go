package egress

import (
	"bytes"
	"encoding/binary"
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
	inode := diagInode(peer.Port, port)
	if inode == "" {
		inode = tcpInode(peer.Port, port) // no sock_diag in this kernel
	}
	if inode == "" {
		return false
	}
	want := "socket:[" + inode + "]"
	self := os.Getpid()
	below, alone := descendants(self)
	if alone {
		// Every process this one can see is below it (or its parents):
		// a sandbox of its own (bubblewrap's PID namespace), where no
		// other job's process can be the client.
		return true
	}
	for _, pid := range append(below, self) {
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

// diagInode asks the kernel (sock_diag netlink, one exact lookup) for the
// inode of the TCP socket on 127.0.0.1:from connected to 127.0.0.1:to; ""
// when it cannot. Unlike reading /proc/net/tcp, its cost does not grow
// with the connections the sandbox has made.
func diagInode(from, to int) string {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, netlinkSockDiag)
	if err != nil {
		return ""
	}
	defer syscall.Close(fd)
	req := make([]byte, 16+56)
	binary.LittleEndian.PutUint32(req[0:], uint32(len(req)))
	binary.LittleEndian.PutUint16(req[4:], sockDiagByFamily)
	binary.LittleEndian.PutUint16(req[6:], syscall.NLM_F_REQUEST)
	binary.LittleEndian.PutUint32(req[8:], 1)
	b := req[16:]
	b[0], b[1] = syscall.AF_INET, syscall.IPPROTO_TCP
	binary.LittleEndian.PutUint32(b[4:], 0xffffffff) // every state
	id := b[8:]
	binary.BigEndian.PutUint16(id[0:], uint16(from))
	binary.BigEndian.PutUint16(id[2:], uint16(to))
	copy(id[4:], []byte{127, 0, 0, 1})
	copy(id[20:], []byte{127, 0, 0, 1})
	binary.LittleEndian.PutUint32(id[40:], 0xffffffff) // no cookie
	binary.LittleEndian.PutUint32(id[44:], 0xffffffff)
	if err := syscall.Sendto(fd, req, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return ""
	}
	resp := make([]byte, 4096)
	n, _, err := syscall.Recvfrom(fd, resp, 0)
	if err != nil || n < 16+72 || binary.LittleEndian.Uint16(resp[4:]) != sockDiagByFamily {
		return ""
	}
	return strconv.FormatUint(uint64(binary.LittleEndian.Uint32(resp[16+68:])), 10)
}

// Netlink's sock_diag (linux/sock_diag.h).
const (
	netlinkSockDiag  = 4
	sockDiagByFamily = 20
)

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
// parent links in /proc, and reports whether every process in sight is
// pid, below it or one of its ancestors (alone).
func descendants(pid int) (below []int, alone bool) {
	d, err := os.Open("/proc")
	if err != nil {
		return nil, false
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
	ancestors := map[int]bool{}
	for q, seen := parent[pid], 0; q != 0 && seen < 64; q, seen = parent[q], seen+1 {
		ancestors[q] = true
	}
	alone = len(parent) > 0
	for p := range parent {
		if p == pid || ancestors[p] {
			continue
		}
		isBelow := false
		for q, seen := parent[p], 0; q != 0 && seen < 64; q, seen = parent[q], seen+1 {
			if q == pid {
				isBelow = true
				break
			}
		}
		if isBelow {
			below = append(below, p)
		} else {
			alone = false
		}
	}
	return below, alone
}
