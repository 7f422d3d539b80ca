package postgres

import (
	"math"

	"github.com/fhirhub/fhirhub/store"
)

// numberClause is a number search (R4 search.html#number) on idx_number.
func (b *sqlBuilder) numberClause(c *store.Clause, sc scope) (string, error) {
	if c.Modifier != "" {
		return "", notSupported("modifier :%s is not supported on number parameter %s", c.Modifier, c.Param)
	}
	x := b.indexAlias("n", sc)
	alts := make([]string, 0, len(c.Values))
	for i := range c.Values {
		cond, err := b.numValue(x+".value", x+".lo", x+".hi", &c.Values[i])
		if err != nil {
			return "", err
		}
		alts = append(alts, cond)
	}
	return b.inIndex(sc, "idx_number", x, []string{b.paramCond(x, c.Param, sc)}, alts), nil
}

// quantityClause is a quantity search (R4 search.html#quantity) on
// idx_quantity: "5.4||mg" selects rows through h_code (which matches the
// unit code, or the unit text when there is no code),
// "5.4|http://unitsofmeasure.org|mg" through h_code too, comparing
// h_sys_code (included in that index) for the system, and "5.4" through
// the parameter. Units
// are compared as given: there is no UCUM conversion.
func (b *sqlBuilder) quantityClause(c *store.Clause, sc scope) (string, error) {
	if c.Modifier != "" {
		return "", notSupported("modifier :%s is not supported on quantity parameter %s", c.Modifier, c.Param)
	}
	x := b.indexAlias("q", sc)
	alts := make([]string, 0, len(c.Values))
	for i := range c.Values {
		v := &c.Values[i]
		var unit string
		switch {
		case v.UnitSystem != "" && v.UnitCode != "":
			unit = b.eqAny(x+".h_code", b.keys(sc, c.Param, func(t, p string) int64 { return tokenCodeKey(t, p, v.UnitCode) })) + " AND " +
				b.eqAny(x+".h_sys_code", b.keys(sc, c.Param, func(t, p string) int64 { return tokenSysCodeKey(t, p, v.UnitSystem, v.UnitCode) }))
		case v.UnitCode != "":
			unit = b.eqAny(x+".h_code", b.keys(sc, c.Param, func(t, p string) int64 { return tokenCodeKey(t, p, v.UnitCode) }))
		default:
			unit = b.paramCond(x, c.Param, sc)
		}
		cond, err := b.numValue(x+".value", x+".lo", x+".hi", v)
		if err != nil {
			return "", err
		}
		alts = append(alts, unit+" AND ("+cond+")")
	}
	return b.inIndex(sc, "idx_quantity", x, nil, alts), nil
}

// numValue is the condition of one number or quantity value on the
// columns value, lo and hi, where [lo, hi] is the indexed value's
// precision range and [NumLo, NumHi] the search value's:
//
//	eq  lo >= NumLo AND hi <= NumHi  (the search range contains the value's)
//	ne  NOT eq
//	gt, lt, ge, le  value > n, value < n, ...: search.html#number says the
//	    implicit precision is ignored with these prefixes
//	sa  lo > n (the value's range starts after n)
//	eb  hi < n
//	ap  value within n ± 10% of |n| (search.html's recommended 10%)
//
// Redundant bounds on lo are added where they hold, so that the
// (param|h_code, lo, hi) indexes can bound their scan.
func (b *sqlBuilder) numValue(value, lo, hi string, v *store.Value) (string, error) {
	n := v.Number
	if math.IsNaN(n) || math.IsInf(n, 0) {
		return "", invalid("invalid number %q", v.Raw)
	}
	eq := func() string {
		sLo, sHi := v.NumLo, v.NumHi
		if sLo == 0 && sHi == 0 && n != 0 || sHi < sLo {
			sLo, sHi = n, n
		}
		// Tolerate the last bits of two computations of the same bound.
		eps := 1e-9 * (math.Abs(n) + (sHi - sLo))
		return lo + " >= " + b.arg(sLo-eps) + " AND " + hi + " <= " + b.arg(sHi+eps)
	}
	switch v.Prefix {
	case "", "eq":
		return eq(), nil
	case "ne":
		return "NOT (" + eq() + ")", nil
	case "gt":
		return value + " > " + b.arg(n), nil
	case "ge":
		return value + " >= " + b.arg(n), nil
	case "lt":
		p := b.arg(n)
		return lo + " < " + p + " AND " + value + " < " + p, nil
	case "le":
		p := b.arg(n)
		return lo + " <= " + p + " AND " + value + " <= " + p, nil
	case "sa":
		return lo + " > " + b.arg(n), nil
	case "eb":
		return hi + " < " + b.arg(n), nil
	case "ap":
		d := math.Abs(n) / 10
		up := b.arg(n + d)
		return lo + " <= " + up + " AND " + value + " <= " + up + " AND " + value + " >= " + b.arg(n-d), nil
	}
	return "", invalid("invalid prefix %q", v.Prefix)
}
