package bench

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// stmtMeter counts the SQL statements the server ran in the benchmark's
// database, from pg_stat_statements, so that a benchmark can report
// statements per operation. The private servers the benchmarks start do
// not load that module; with FHIRHUB_TEST_DATABASE_URL naming a server
// that does (shared_preload_libraries = 'pg_stat_statements'), the count
// is reported.
type stmtMeter struct {
	pool  *pgxpool.Pool
	start int64
	ok    bool
}

// startStatements reads the statement count now.
func startStatements(ctx context.Context, pool *pgxpool.Pool) *stmtMeter {
	m := &stmtMeter{pool: pool}
	_, _ = pool.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_stat_statements`)
	m.start, m.ok = m.count(ctx)
	return m
}

func (m *stmtMeter) count(ctx context.Context) (int64, bool) {
	var n int64
	err := m.pool.QueryRow(ctx, `SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n)
	return n, err == nil
}

// perOp returns the statements per operation since startStatements,
// less the benchmark's own (others, and the meter's), as text: "n/a" when
// pg_stat_statements is not loaded.
func (m *stmtMeter) perOp(ctx context.Context, n int, others int) string {
	now, ok := m.count(ctx)
	if !m.ok || !ok {
		return "n/a (needs pg_stat_statements)"
	}
	return fmt.Sprintf("%.1f", float64(now-m.start-int64(others)-1)/float64(n))
}
