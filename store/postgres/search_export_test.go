package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/fhirhub/fhirhub/store"
)

// Statement is one SQL statement a search ran, with its arguments.
type Statement struct {
	SQL  string
	Args []any
}

// SearchStatements runs q like Search and returns every statement it ran,
// so that tests can EXPLAIN them.
func (s *Store) SearchStatements(ctx context.Context, q *store.SearchQuery) ([]Statement, *store.SearchResult, error) {
	rec := &recorder{querier: s.pool}
	res, err := reader{q: rec, s: s}.Search(ctx, q)
	return rec.stmts, res, err
}

// ResolveStatements runs ResolveIdentifiers and returns the statements
// it ran.
func (s *Store) ResolveStatements(ctx context.Context, types, systems, values []string) ([]Statement, error) {
	rec := &recorder{querier: s.pool}
	_, err := reader{q: rec, s: s}.ResolveIdentifiers(ctx, types, systems, values, 2)
	return rec.stmts, err
}

type recorder struct {
	querier
	stmts []Statement
}

func (r *recorder) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	r.stmts = append(r.stmts, Statement{sql, args})
	return r.querier.Query(ctx, sql, args...)
}

func (r *recorder) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	r.stmts = append(r.stmts, Statement{sql, args})
	return r.querier.QueryRow(ctx, sql, args...)
}

func (r *recorder) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	r.stmts = append(r.stmts, Statement{sql, args})
	return r.querier.Exec(ctx, sql, args...)
}

func (r *recorder) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	for _, q := range b.QueuedQueries {
		r.stmts = append(r.stmts, Statement{q.SQL, q.Arguments})
	}
	return r.querier.SendBatch(ctx, b)
}

// ParamKey is the hash of parameter code of resource type typ in the
// index tables' param column (default tenant).
func ParamKey(typ, code string) int64 { return paramKey(typ, code) }
