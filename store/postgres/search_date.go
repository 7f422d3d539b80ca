package postgres

import (
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
	x := b.alias("d")
	alts := make([]string, 0, len(c.Values))
	for i := range c.Values {
		cond, err := b.dateValue(x+".lo", x+".hi", &c.Values[i])
		if err != nil {
			return "", err
		}
		alts = append(alts, cond)
	}
	return inIndex(sc, "idx_date", x, []string{b.paramCond(x, c.Param, sc)}, alts), nil
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
		w := b.now.Sub(sLo) // saturates at ~292 years for far dates
		if w < 0 {
			w = -w
		}
		w /= 10
		return lo + " <= " + b.arg(sHi.Add(w)) + " AND " + hi + " >= " + b.arg(sLo.Add(-w)), nil
	}
	return "", invalid("invalid date prefix %q", v.Prefix)
}
