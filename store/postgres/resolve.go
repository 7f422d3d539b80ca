package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/fhirhub/fhirhub/store"
)

// ResolveIdentifiers returns, for each i, up to limit current resources of
// types[i] whose identifier search parameter has the value
// systems[i]|values[i], in creation order: what the search
// types[i]?identifier=systems[i]|values[i] returns (search_token.go), for
// every i with one statement. It is how a transaction resolves the
// business keys of its conditional entries (an HL7 v2 message's Bundle has
// a dozen or more) without a statement, a parse and a plan for each.
//
// Its plan does not depend on the values, so it is a prepared statement
// whose generic plan each connection keeps, planned with sequential
// scans off (set for the statement alone, in the same round trip): a
// plan made while idx_token was small would otherwise read the whole
// table for every value once it had grown (measured: 2.75 ms a call at
// 80,000 rows), and planning each call instead costs about 0.14 ms.
//
// Each value is one index lookup (idx_token_code, in rid order) run
// for each row of the arrays, so the plan does not depend on how many
// values there are or on the statistics of the hashes, as an OR of them
// in one search would.
func (r reader) ResolveIdentifiers(ctx context.Context, types, systems, values []string, limit int) ([][]*store.Resource, error) {
	if len(types) != len(systems) || len(types) != len(values) {
		return nil, fmt.Errorf("postgres: resolve identifiers: %d types, %d systems, %d values", len(types), len(systems), len(values))
	}
	out := make([][]*store.Resource, len(types))
	if len(types) == 0 {
		return out, nil
	}
	sc := store.ScopeFrom(ctx)
	hashes := make([]int64, len(types))
	for i := range types {
		hashes[i] = tokenCodeKey(hashType(sc.Tenant, types[i]), "identifier", values[i])
	}
	// The hash names the caller's tenant, the type and the parameter, as
	// in a search (see matches in search.go and tokenValue); the resource
	// row is read by its key, and kept when the caller's facility sees it.
	b := &sqlBuilder{scope: sc, reg: r.s.cfg.Extractor, args: []any{hashes, systems, values, limit}}
	visible := ""
	if sc.Facility != "" {
		// Before the limit, as a search filters before it pages.
		visible = ` AND EXISTS (SELECT 1 FROM resource f WHERE f.rid = t.rid AND ` + strings.Join(b.inScope("f"), " AND ") + `)`
	}
	batch := &pgx.Batch{}
	batch.Queue(seqscanOff)
	batch.Queue(`SELECT `+resourceRowCols("r")+`, k.i
		FROM unnest($1::bigint[], $2::text[], $3::text[]) WITH ORDINALITY AS k (h, system, code, i)
		CROSS JOIN LATERAL (SELECT DISTINCT t.rid FROM idx_token t
			WHERE t.h_code = k.h AND t.system = k.system AND t.code = k.code`+visible+` ORDER BY t.rid LIMIT $4) m
		JOIN resource r ON r.rid = m.rid
		ORDER BY k.i, r.rid`, b.args...)
	batch.Queue(seqscanBack)
	br := r.q.SendBatch(ctx, batch)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, searchErr(ctx, "resolve identifiers", err)
	}
	if err := readResolved(br, out); err != nil {
		return nil, searchErr(ctx, "resolve identifiers", err)
	}
	if _, err := br.Exec(); err != nil {
		return nil, searchErr(ctx, "resolve identifiers", err)
	}
	if err := br.Close(); err != nil {
		return nil, searchErr(ctx, "resolve identifiers", err)
	}
	return out, nil
}

// seqscanOff turns sequential scans off until seqscanBack, for the rest
// of the transaction (or of the batch's implicit one), keeping the
// setting it replaces.
const (
	seqscanOff  = `SELECT set_config('fhirhub.enable_seqscan', current_setting('enable_seqscan'), true), set_config('enable_seqscan', 'off', true)`
	seqscanBack = `SELECT set_config('enable_seqscan', current_setting('fhirhub.enable_seqscan'), true)`
)

// readResolved reads the rows of the resolve statement into out.
func readResolved(br pgx.BatchResults, out [][]*store.Resource) error {
	rows, err := br.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var i int64
		_, res, err := scanRow(rows, &i)
		if err != nil {
			return err
		}
		out[i-1] = append(out[i-1], res)
	}
	return rows.Err()
}
