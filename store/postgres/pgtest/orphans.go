package pgtest

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// removeOrphans stops the servers of earlier test runs whose test binary
// was killed (a SIGKILL or a timeout leaves its server running, adopted by
// init) and removes their directories, so that they do not take the
// machine's memory and CPU from the runs after them. A server whose test
// binary still runs (another package's, in parallel) is left alone: its
// parent is that binary, not init.
func removeOrphans() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "fhirhub-pgtest-*"))
	for _, dir := range dirs {
		pid := postmasterPID(filepath.Join(dir, "data", "postmaster.pid"))
		switch {
		case pid > 0 && parentPID(pid) == 1:
			_ = syscall.Kill(pid, syscall.SIGQUIT) // immediate shutdown
			for i := 0; i < 50 && parentPID(pid) == 1; i++ {
				time.Sleep(100 * time.Millisecond)
			}
			_ = os.RemoveAll(dir)
		case pid == 0:
			// No server: a directory left by a run that stopped before
			// starting one, or after stopping it. Leave young ones, which
			// a starting run may be filling.
			if fi, err := os.Stat(dir); err == nil && time.Since(fi.ModTime()) > time.Hour {
				_ = os.RemoveAll(dir)
			}
		}
	}
}

// postmasterPID reads the first line of a postmaster.pid file: the pid of
// a server that may still run (0 when there is none).
func postmasterPID(file string) int {
	f, err := os.Open(file)
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	if !s.Scan() {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(s.Text()))
	if pid > 0 && parentPID(pid) < 0 {
		return 0 // not running
	}
	return pid
}

// parentPID returns the parent of process pid, -1 when there is no such
// process.
func parentPID(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 2 {
		return -1
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return -1
	}
	return ppid
}
