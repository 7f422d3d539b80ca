package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/fhirhub/fhirhub/fhir"
)

// reindexBatch is how many resources one reindex transaction rewrites.
const reindexBatch = 500

// Reindex recomputes the index rows of every current resource of type typ
// ("" for all types), of every tenant, with the store's Extractor, in batches of 500 per
// transaction, so that search parameters added since the resources were
// written take effect. It returns the number of resources reindexed.
// Writes that happen meanwhile index themselves and are not disturbed.
func (s *Store) Reindex(ctx context.Context, typ string) (int, error) {
	var after int64
	total := 0
	for {
		n, last, err := s.reindexBatch(ctx, typ, after)
		if err != nil {
			return total, err
		}
		total += n
		if n < reindexBatch {
			return total, nil
		}
		after = last
	}
}

func (s *Store) reindexBatch(ctx context.Context, typ string, after int64) (int, int64, error) {
	n := 0
	var last int64
	err := pgx.BeginFunc(ctx, s.pool, func(ptx pgx.Tx) error {
		sql := `SELECT rid, tenant, type, content FROM resource WHERE rid > $1 AND NOT deleted`
		args := []any{after}
		if typ != "" {
			sql += ` AND type = $2`
			args = append(args, typ)
		}
		sql += ` ORDER BY rid LIMIT ` + fmt.Sprint(reindexBatch) + ` FOR UPDATE`
		rows, err := ptx.Query(ctx, sql, args...)
		if err != nil {
			return err
		}
		type row struct {
			rid     int64
			tenant  string
			typ     string
			content string
		}
		var batch []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.rid, &r.tenant, &r.typ, &r.content); err != nil {
				return err
			}
			batch = append(batch, r)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		b := &pgx.Batch{}
		for _, r := range batch {
			obj, err := fhir.ParseObject([]byte(r.content))
			if err != nil {
				return fmt.Errorf("stored %s rid %d: %w", r.typ, r.rid, err)
			}
			values, err := s.cfg.Extractor.Extract(obj)
			if err != nil {
				return fmt.Errorf("index %s rid %d: %w", r.typ, r.rid, err)
			}
			s.localReferences(&values)
			queueDeleteIndex(b, r.rid)
			queueInsertIndex(b, hashType(r.tenant, r.typ), r.rid, &values, s.cfg.Extractor.Derived(r.typ))
			last = r.rid
		}
		n = len(batch)
		return runBatch(ctx, ptx, b)
	})
	if err != nil {
		return 0, 0, fmt.Errorf("postgres: reindex: %w", err)
	}
	return n, last, nil
}
