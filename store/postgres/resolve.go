package postgres

import (
	"context"
	"fmt"

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
// Each value is one index lookup (idx_token_sys_code, in rid order) run
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
	hashes := make([]int64, len(types))
	for i := range types {
		hashes[i] = tokenSysCodeKey(types[i], "identifier", systems[i], values[i])
	}
	// The hash names the type and the parameter, as in a search (see
	// matches in search.go); the resource row is read by its key alone.
	rows, err := r.q.Query(ctx, `SELECT `+resourceRowCols("r")+`, k.i
		FROM unnest($1::bigint[], $2::text[], $3::text[]) WITH ORDINALITY AS k (h, system, code, i)
		CROSS JOIN LATERAL (SELECT DISTINCT t.rid FROM idx_token t
			WHERE t.h_sys_code = k.h AND t.system = k.system AND t.code = k.code ORDER BY t.rid LIMIT $4) m
		JOIN resource r ON r.rid = m.rid
		ORDER BY k.i, r.rid`, hashes, systems, values, limit)
	if err != nil {
		return nil, searchErr(ctx, "resolve identifiers", err)
	}
	defer rows.Close()
	for rows.Next() {
		var i int64
		_, res, err := scanRow(rows, &i)
		if err != nil {
			return nil, searchErr(ctx, "resolve identifiers", err)
		}
		out[i-1] = append(out[i-1], res)
	}
	if err := rows.Err(); err != nil {
		return nil, searchErr(ctx, "resolve identifiers", err)
	}
	return out, nil
}
