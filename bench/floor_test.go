package bench

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
)

// floorTables are the tables a FHIR write puts rows in: the resource,
// its history, its outbox row and its search index rows.
const floorTables = `SELECT tablename FROM pg_tables WHERE schemaname = 'public'
	AND (tablename IN ('resource', 'resource_history', 'outbox') OR tablename LIKE 'idx\_%')
	ORDER BY tablename`

// rowsFloor returns how long PostgreSQL takes to write again, in bulk, the
// rows that the FHIR writes measured so far left in the store's tables:
// every row of resource, resource_history, outbox and the index tables is
// inserted into an empty copy of its table with the same indexes, by one
// backend in one transaction, with INSERT ... SELECT (no client, no
// parsing, no statement per resource). It is the least any implementation
// of this schema could spend on those writes on one core, so that
// operations per second at this time are an upper bound for one core, and
// about twice that for two cores with nothing else running. The copies are
// dropped afterwards.
func rowsFloor(tb testing.TB, ctx context.Context, pool *pgxpool.Pool) time.Duration {
	tb.Helper()
	conn, err := pool.Acquire(ctx)
	require.NoError(tb, err)
	defer conn.Release()
	rows, err := conn.Query(ctx, floorTables)
	require.NoError(tb, err)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(tb, err)
	require.NotEmpty(tb, tables)

	_, err = conn.Exec(ctx, `DROP SCHEMA IF EXISTS floor CASCADE; CREATE SCHEMA floor`)
	require.NoError(tb, err)
	defer func() { _, _ = conn.Exec(context.WithoutCancel(ctx), `DROP SCHEMA IF EXISTS floor CASCADE`) }()
	for _, t := range tables {
		id := pgx.Identifier{t}.Sanitize()
		_, err := conn.Exec(ctx, `CREATE TABLE floor.`+id+` (LIKE public.`+id+` INCLUDING ALL)`)
		require.NoError(tb, err)
	}
	_, err = conn.Exec(ctx, `CHECKPOINT`)
	require.NoError(tb, err)

	start := time.Now()
	tx, err := conn.Begin(ctx)
	require.NoError(tb, err)
	for _, t := range tables {
		id := pgx.Identifier{t}.Sanitize()
		// In the order the rows were written (as PostgreSQL stored them).
		_, err := tx.Exec(ctx, `INSERT INTO floor.`+id+` OVERRIDING SYSTEM VALUE SELECT * FROM public.`+id+` ORDER BY ctid`)
		require.NoError(tb, err, t)
	}
	require.NoError(tb, tx.Commit(ctx))
	return time.Since(start)
}
