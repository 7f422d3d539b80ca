package bench

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fhirhub/fhirhub/store/postgres"
)

// cpuMeter measures the CPU time that the benchmark's own process (the Go
// server and its client) and the PostgreSQL server spend between start and
// stop. Per operation, these figures depend far less on what else the
// machine runs than rates do, and they say where a rate's time goes: on
// this 2-core machine the rate cannot exceed 2 s divided by their sum.
type cpuMeter struct {
	postmaster int
	goStart    time.Duration
	pgStart    time.Duration
}

// startCPU starts a meter for the process and the server behind st.
func startCPU(tb testing.TB, st *postgres.Store) *cpuMeter {
	tb.Helper()
	var backend int
	if err := st.Pool().QueryRow(context.Background(), "SELECT pg_backend_pid()").Scan(&backend); err != nil {
		tb.Fatal(err)
	}
	m := &cpuMeter{postmaster: procStat(backend).ppid}
	m.goStart, m.pgStart = selfCPU(), m.serverCPU()
	return m
}

// perOp returns the Go and PostgreSQL CPU time per operation since start,
// in microseconds.
func (m *cpuMeter) perOp(n int) (goUS, pgUS float64) {
	g, p := selfCPU()-m.goStart, m.serverCPU()-m.pgStart
	return float64(g.Microseconds()) / float64(n), float64(p.Microseconds()) / float64(n)
}

// serverCPU is the CPU time of the postmaster, of its children that have
// exited (reaped into its cutime/cstime), and of those still running.
func (m *cpuMeter) serverCPU() time.Duration {
	pm := procStat(m.postmaster)
	total := pm.self + pm.children
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		pid, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(p, "/proc/"), "/stat"))
		if s := procStat(pid); s.ppid == m.postmaster {
			total += s.self
		}
	}
	return total
}

type stat struct {
	ppid           int
	self, children time.Duration
}

// procStat reads /proc/pid/stat; the zero stat if the process is gone.
func procStat(pid int) stat {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return stat{}
	}
	// The command name (field 2) may hold spaces; fields count from after it.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 15 {
		return stat{}
	}
	num := func(i int) int64 { n, _ := strconv.ParseInt(f[i], 10, 64); return n }
	tick := func(n int64) time.Duration { return time.Duration(n) * time.Second / 100 } // USER_HZ
	// f[0] is field 3 (state): ppid is field 4, utime..cstime fields 14-17.
	return stat{ppid: int(num(1)), self: tick(num(11) + num(12)), children: tick(num(13) + num(14))}
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
