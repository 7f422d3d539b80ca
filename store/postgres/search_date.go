package postgres

import (
	"time"

	"github.com/fhirhub/fhirhub/fhir/search"
	"github.com/fhirhub/fhirhub/store"
)

// dateClause is a date search (R4 search.html#date). Both the search value
// and every indexed value are closed ranges of instants: the search value
// covers its precision ("2024-03" is the whole of March), the indexed
// value its own precision or Period. With the search range [sLo, sHi] and
// an indexed range [lo, hi] the prefixes mean:
//
//	eq  lo >= sLo AND hi <= sHi      (the search range contains the value)
//	ne  NOT eq
//	gt  hi > sHi                     (the value reaches beyond the range)
//	lt  lo < sLo
//	ge  gt OR eq
//	le  lt OR eq
//	sa  lo > sHi                     (starts after the range)
//	eb  hi < sLo                     (ends before the range)
//	ap  the value overlaps [sLo-w, sHi+w], w = 10% of the time between
//	    now and sLo (search.html: "10% of the gap between now and the date")
func (b *sqlBuilder) dateClause(c *store.Clause, sc scope) (string, error) {
	if c.Modifier != "" {
		return "", notSupported("modifier :%s is not supported on date parameter %s", c.Modifier, c.Param)
	}
	x := b.indexAlias("d", sc)
	alts := make([]string, 0, len(c.Values))
	for i := range c.Values {
		cond, err := b.dateValue(x+".lo", x+".hi", &c.Values[i])
		if err != nil {
			return "", err
		}
		if w, ok := b.dateWindow(&c.Values[i]); ok {
			cond = b.windowCond(x, w) + " AND (" + cond + ")"
		}
		alts = append(alts, cond)
	}
	return b.inIndex(sc, "idx_date", x, []string{b.paramCond(x, c.Param, sc)}, alts), nil
}

// window is a closed range of instants.
type window struct{ from, to time.Time }

// dateWindow returns a window that every indexed range matching v overlaps
// (the condition is implied, never narrower): it lets the idx_date_range
// GiST index (migration 0002) bound the scan on both ends and gives the
// planner range statistics. ne has none.
func (b *sqlBuilder) dateWindow(v *store.Value) (window, bool) {
	sLo, sHi := v.Lo, v.Hi
	switch v.Prefix {
	case "", "eq":
		return window{sLo, sHi}, true
	case "gt", "sa":
		return window{sHi, search.MaxTime}, true
	case "ge":
		return window{sLo, search.MaxTime}, true
	case "lt", "eb":
		return window{search.MinTime, sLo}, true
	case "le":
		return window{search.MinTime, sHi}, true
	case "ap":
		return b.apWindow(v), true
	}
	return window{}, false
}

// windowCond returns the overlap of idx_date row x with w, written with
// the exact expression of the idx_date_range index.
func (b *sqlBuilder) windowCond(x string, w window) string {
	return "tstzrange(least(" + x + ".lo, " + x + ".hi), greatest(" + x + ".lo, " + x + ".hi), '[]') && tstzrange(" +
		b.arg(w.from) + "::timestamptz, " + b.arg(w.to) + "::timestamptz, '[]')"
}

// dateValue is the condition of one date value on the columns lo and hi
// (the same column twice for an instant such as last_updated).
func (b *sqlBuilder) dateValue(lo, hi string, v *store.Value) (string, error) {
	if v.Lo.IsZero() || v.Hi.IsZero() || v.Hi.Before(v.Lo) {
		return "", invalid("invalid date value %q", v.Raw)
	}
	sLo, sHi := v.Lo, v.Hi
	eq := func() string { return lo + " >= " + b.arg(sLo) + " AND " + hi + " <= " + b.arg(sHi) }
	switch v.Prefix {
	case "", "eq":
		return eq(), nil
	case "ne":
		return "NOT (" + eq() + ")", nil
	case "gt":
		return hi + " > " + b.arg(sHi), nil
	case "lt":
		return lo + " < " + b.arg(sLo), nil
	case "ge":
		return hi + " > " + b.arg(sHi) + " OR (" + eq() + ")", nil
	case "le":
		return lo + " < " + b.arg(sLo) + " OR (" + eq() + ")", nil
	case "sa":
		return lo + " > " + b.arg(sHi), nil
	case "eb":
		return hi + " < " + b.arg(sLo), nil
	case "ap":
		w := b.apWindow(v)
		return lo + " <= " + b.arg(w.to) + " AND " + hi + " >= " + b.arg(w.from), nil
	}
	return "", invalid("invalid date prefix %q", v.Prefix)
}

// apWindow is the window of an ap value: the search range widened on each
// side by 10% of the time between now and its start.
func (b *sqlBuilder) apWindow(v *store.Value) window {
	w := b.now.Sub(v.Lo) // saturates at ~292 years for far dates
	if w < 0 {
		w = -w
	}
	w /= 10
	return window{v.Lo.Add(-w), v.Hi.Add(w)}
}

// splitDateRanges takes out of where the date clauses that form a range:
// several clauses on one date parameter, each with one value and no
// modifier (birthdate=ge1980&birthdate=lt1990). Each such group is
// evaluated on one index row, as a range search means "a value within
// the range" (search.html#date gives ge/le pairs as the way to search a
// range). This differs from evaluating the clauses apart only for a
// resource with several values of the parameter, none of which lies in
// the range; and it lets the (param, lo, hi) index bound the scan on both
// sides instead of intersecting two half-open scans.
func splitDateRanges(where []store.Clause) (rest []store.Clause, ranges [][]store.Clause) {
	byParam := map[string][]int{}
	for i, c := range where {
		if c.Type == "date" && c.Param != "_lastUpdated" && c.Modifier == "" && c.Chain == nil && c.Has == nil && len(c.Values) == 1 {
			byParam[c.Param] = append(byParam[c.Param], i)
		}
	}
	grouped := map[int]bool{}
	for i, c := range where {
		idx := byParam[c.Param]
		if len(idx) < 2 || idx[0] != i {
			continue
		}
		var group []store.Clause
		for _, j := range idx {
			group = append(group, where[j])
			grouped[j] = true
		}
		ranges = append(ranges, group)
	}
	for i, c := range where {
		if !grouped[i] {
			rest = append(rest, c)
		}
	}
	return rest, ranges
}

// dateRangeClause is a group of splitDateRanges: every value's condition
// on the same idx_date row.
func (b *sqlBuilder) dateRangeClause(group []store.Clause, sc scope) (string, error) {
	if len(sc.types) == 0 {
		return "", invalid("search parameter %s needs a resource type (_type) in a search across types", group[0].Param)
	}
	x := b.indexAlias("d", sc)
	conds := []string{b.paramCond(x, group[0].Param, sc)}
	win, bounded := window{search.MinTime, search.MaxTime}, false
	for i := range group {
		v := &group[i].Values[0]
		cond, err := b.dateValue(x+".lo", x+".hi", v)
		if err != nil {
			return "", err
		}
		conds = append(conds, "("+cond+")")
		if w, ok := b.dateWindow(v); ok {
			win, bounded = window{maxTime(win.from, w.from), minTime(win.to, w.to)}, true
		}
	}
	if bounded {
		conds = append(conds, b.windowCond(x, win))
	}
	return b.inIndex(sc, "idx_date", x, conds, nil), nil
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
