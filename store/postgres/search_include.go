package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/fhirhub/fhirhub/store"
)

// maxIncludeRounds bounds how often :iterate includes are applied to the
// resources the previous round included (R4 search.html#revinclude lets
// servers bound the iteration).
const maxIncludeRounds = 3

// defaultMaxIncludes bounds the included resources of one page when the
// query does not say (SearchQuery.MaxIncludes).
const defaultMaxIncludes = 1000

// searchIncludes adds the resources that _include and _revinclude name
// (R4 search.html#include) to res.Included: round 1 applies every include
// to the page's matches; each following round, up to maxIncludeRounds,
// applies the :iterate ones to what the previous round added. A resource
// is returned once, and never when it is already a match. Past the bound
// the rest is left out and a warning says so.
func (r reader) searchIncludes(ctx context.Context, q *store.SearchQuery, rids []int64, res *store.SearchResult) error {
	limit := q.MaxIncludes
	if limit <= 0 {
		limit = defaultMaxIncludes
	}
	seen := make(map[int64]bool)
	var seenRIDs []int64
	sources := make([]source, 0, len(res.Matches))
	for i, m := range res.Matches {
		rid := rids[i]
		seen[rid] = true
		seenRIDs = append(seenRIDs, rid)
		sources = append(sources, source{rid: rid, typ: m.Type, id: m.ID})
	}
	for round := 1; round <= 1+maxIncludeRounds && len(sources) > 0; round++ {
		var added []source
		for _, inc := range includesOf(q, round > 1) {
			rows, err := r.includeRows(ctx, inc, sources, seenRIDs, limit-len(res.Included)+1)
			if err != nil {
				return err
			}
			for _, row := range rows {
				if seen[row.rid] {
					continue
				}
				if len(res.Included) >= limit {
					res.Warnings = append(res.Warnings, fmt.Sprintf(
						"_include/_revinclude: more than %d resources to include; the rest were left out", limit))
					return nil
				}
				seen[row.rid] = true
				seenRIDs = append(seenRIDs, row.rid)
				res.Included = append(res.Included, row.res)
				added = append(added, source{rid: row.rid, typ: row.res.Type, id: row.res.ID})
			}
		}
		sources = added
	}
	return nil
}

// source is a resource whose references an include follows.
type source struct {
	rid     int64
	typ, id string
}

// taggedInclude is an include with its direction.
type taggedInclude struct {
	store.Include
	rev bool
}

// includesOf returns the includes of a round: all of them in the first,
// the :iterate ones after.
func includesOf(q *store.SearchQuery, iterating bool) []taggedInclude {
	var out []taggedInclude
	for _, inc := range q.Include {
		if !iterating || inc.Iterate {
			out = append(out, taggedInclude{inc, false})
		}
	}
	for _, inc := range q.RevInclude {
		if !iterating || inc.Iterate {
			out = append(out, taggedInclude{inc, true})
		}
	}
	return out
}

// includeRows returns up to limit current resources that inc reaches from
// sources and that are not in seen, in rid order.
func (r reader) includeRows(ctx context.Context, inc taggedInclude, sources []source, seen []int64, limit int) ([]pageRow, error) {
	b := &sqlBuilder{scope: store.ScopeFrom(ctx), reg: r.s.cfg.Extractor}
	var conds []string
	if inc.rev {
		conds = b.revIncludeConds(inc.Include, sources)
	} else {
		conds = b.includeConds(inc.Include, sources)
	}
	if conds == nil {
		return nil, nil
	}
	conds = append(conds, "NOT t.deleted", "t.rid <> ALL("+b.arg(seen)+"::bigint[])")
	conds = append(conds, b.inScope("t")...)
	sql := "SELECT " + resourceRowCols("t") + " FROM resource t WHERE " + strings.Join(conds, " AND ") +
		" ORDER BY t.rid LIMIT " + b.arg(limit)
	rows, err := r.q.Query(ctx, sql, withMode(b.args)...)
	if err != nil {
		return nil, searchErr(ctx, "include", err)
	}
	defer rows.Close()
	var out []pageRow
	for rows.Next() {
		rid, res, err := scanRow(rows)
		if err != nil {
			return nil, searchErr(ctx, "include", err)
		}
		out = append(out, pageRow{rid: rid, res: res})
	}
	if err := rows.Err(); err != nil {
		return nil, searchErr(ctx, "include", err)
	}
	return out, nil
}

// includeConds selects, on alias t, the resources referenced by the
// sources of type inc.SourceType through inc.Param ("*": every reference
// parameter), of type inc.TargetType when set; nil when no source fits.
func (b *sqlBuilder) includeConds(inc store.Include, sources []source) []string {
	var rids []int64
	for _, s := range sources {
		if inc.SourceType == "" || inc.SourceType == "*" || s.typ == inc.SourceType {
			rids = append(rids, s.rid)
		}
	}
	if len(rids) == 0 {
		return nil
	}
	x := "x"
	refs := []string{x + ".rid = ANY(" + b.arg(rids) + "::bigint[])"}
	if inc.Param != "*" && inc.Param != "" {
		refs = append(refs, b.paramCond(x, inc.Param, b.scopeOf(x, []string{inc.SourceType})))
	}
	if inc.TargetType != "" {
		refs = append(refs, x+".target_type = "+b.arg(inc.TargetType))
	}
	refs = append(refs, x+".target_id <> ''")
	return []string{"(t.type, t.id) IN (SELECT x.target_type, x.target_id FROM idx_reference x WHERE " + strings.Join(refs, " AND ") + ")"}
}

// revIncludeConds selects, on alias t, the resources of inc.SourceType
// whose parameter inc.Param references one of the sources (of type
// inc.TargetType when set); nil when no source fits.
func (b *sqlBuilder) revIncludeConds(inc store.Include, sources []source) []string {
	if inc.SourceType == "" || inc.Param == "" || inc.Param == "*" {
		return nil
	}
	byType := map[string][]string{}
	var types []string
	for _, s := range sources {
		if inc.TargetType != "" && s.typ != inc.TargetType {
			continue
		}
		if _, ok := byType[s.typ]; !ok {
			types = append(types, s.typ)
		}
		byType[s.typ] = append(byType[s.typ], s.id)
	}
	if len(types) == 0 {
		return nil
	}
	param := b.paramCond("x", inc.Param, b.scopeOf("x", []string{inc.SourceType}))
	alts := make([]string, 0, len(types))
	for _, typ := range types {
		alts = append(alts, param+" AND x.target_type = "+b.arg(typ)+" AND x.target_id = ANY("+b.arg(byType[typ])+"::text[])")
	}
	return []string{"t.type = " + b.arg(inc.SourceType),
		"t.rid IN (SELECT x.rid FROM idx_reference x WHERE " + orJoin(alts) + ")"}
}
