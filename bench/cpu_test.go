package bench

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// clockTick is the unit of the CPU times in /proc/<pid>/stat (USER_HZ,
// 100 on Linux).
const clockTick = 10 * time.Millisecond

// cpuMeter measures the CPU time (user and system) of this process and of
// the PostgreSQL server a pool is connected to (the postmaster and its
// children, read from /proc), so that a benchmark can report CPU per
// operation: a figure the machine's other load changes far less than
// throughput. The server's figure is absent (negative) when /proc cannot
// be read or the server runs on another machine.
type cpuMeter struct {
	postmaster int
	self, pg   time.Duration
	pool       *pgxpool.Pool
	walStart   string // pg_current_wal_insert_lsn() at start, "" when unknown
}

// startCPU reads the CPU times now.
func startCPU(ctx context.Context, pool *pgxpool.Pool) *cpuMeter {
	m := &cpuMeter{postmaster: -1}
	var backend int
	if err := pool.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&backend); err == nil {
		if _, ppid, ok := procCPU(backend); ok {
			m.postmaster = ppid
		}
	}
	if err := pool.QueryRow(ctx, `SELECT pg_current_wal_insert_lsn()::text`).Scan(&m.walStart); err != nil {
		m.walStart = ""
	}
	m.pool = pool
	m.self, m.pg = selfCPU(), serverCPU(m.postmaster)
	return m
}

// walPerOp returns the bytes of WAL written per operation since
// startCPU (negative when unknown): what the server wrote for each
// operation's rows and index entries, a figure that other load on the
// machine does not change at all.
func (m *cpuMeter) walPerOp(ctx context.Context, n int) float64 {
	if m.walStart == "" || n == 0 {
		return -1
	}
	var bytes float64
	if err := m.pool.QueryRow(ctx, `SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1::pg_lsn)::float8`, m.walStart).Scan(&bytes); err != nil {
		return -1
	}
	return bytes / float64(n)
}

// stop returns the CPU time used since startCPU by this process and by
// the server (negative when unknown).
func (m *cpuMeter) stop() (self, pg time.Duration) {
	self = selfCPU() - m.self
	pg = -1
	if now := serverCPU(m.postmaster); now >= 0 && m.pg >= 0 {
		pg = now - m.pg
	}
	return self, pg
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// perOp returns the CPU time per operation since startCPU, in
// microseconds, of this process and of the server (negative when unknown).
func (m *cpuMeter) perOp(n int) (selfUS, pgUS float64) {
	self, pg := m.stop()
	return float64(self.Microseconds()) / float64(n), float64(pg.Microseconds()) / float64(n)
}

// serverCPU sums the CPU time of the postmaster, of its children that
// have exited (reaped into its cutime and cstime) and of those running;
// -1 when unknown.
func serverCPU(postmaster int) time.Duration {
	if postmaster <= 0 {
		return -1
	}
	total, _, ok := procCPU(postmaster)
	if !ok {
		return -1
	}
	total += reapedCPU(postmaster)
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return -1
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if cpu, ppid, ok := procCPU(pid); ok && ppid == postmaster {
			total += cpu
		}
	}
	return total
}

// reapedCPU reads the user and system time of the exited children that
// process pid has waited for.
func reapedCPU(pid int) time.Duration {
	f := procFields(pid)
	if len(f) < 15 {
		return 0
	}
	cut, _ := strconv.ParseInt(f[13], 10, 64)
	cst, _ := strconv.ParseInt(f[14], 10, 64)
	return time.Duration(cut+cst) * clockTick
}

// procFields returns the fields of /proc/pid/stat after the command name
// (state first), nil when it cannot be read.
func procFields(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

// procCPU reads the user and system time and the parent of process pid.
func procCPU(pid int) (cpu time.Duration, ppid int, ok bool) {
	f := procFields(pid)
	// After the name: state, ppid, ... utime is field 14 and stime 15 of
	// the whole line, 12 and 13 here.
	if len(f) < 13 {
		return 0, 0, false
	}
	ppid, err1 := strconv.Atoi(f[1])
	ut, err2 := strconv.ParseInt(f[11], 10, 64)
	st, err3 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, false
	}
	return time.Duration(ut+st) * clockTick, ppid, true
}
