package postgres

import (
	"github.com/fhirhub/fhirhub/store"
)

// compositeClause is a composite search (R4 search.html#composite), e.g.
// code-value-quantity=http://loinc.org|8480-6$gt100, on idx_composite,
// whose rows (index.go) keep both components of one element together:
//
//   - the first component must be a token, "system|code" or "code" (a code
//     without system, or "|code", matches the code in any system);
//   - a token second component needs "system|code" or "|code" (the row
//     holds a hash of both);
//   - a quantity or number second component is compared with its prefix
//     on the row's precision range (the value is the range's middle; the
//     unit of a quantity is not indexed, so it is not compared);
//   - a date second component has date semantics on t_lo/t_hi;
//   - a string second component matches the normalised value exactly;
//   - a reference second component needs Type/id.
func (b *sqlBuilder) compositeClause(c *store.Clause, sc scope) (string, error) {
	if c.Modifier != "" {
		return "", notSupported("modifier :%s is not supported on composite parameter %s", c.Modifier, c.Param)
	}
	if len(c.Components) != 2 || c.Components[0].Type != "token" {
		return "", notSupported("composite parameter %s is not supported: only token$value pairs are indexed", c.Param)
	}
	x := b.indexAlias("c", sc)
	alts := make([]string, 0, len(c.Values))
	for i := range c.Values {
		v := &c.Values[i]
		if len(v.Parts) != 2 {
			return "", invalid("composite parameter %s needs two values separated by $", c.Param)
		}
		first := v.Parts[0]
		if first.Code == "" {
			return "", invalid("composite parameter %s: the first component needs a code", c.Param)
		}
		h1 := b.eqAny(x+".h_first", b.keys(sc, c.Param, func(t, p string) int64 { return compositeFirstKey(t, p, first.System, first.Code) }))
		second, err := b.compositeSecond(x, c.Param, c.Components[1].Type, &v.Parts[1])
		if err != nil {
			return "", err
		}
		alts = append(alts, h1+" AND "+second)
	}
	return b.inIndex(sc, "idx_composite", x, []string{b.paramCond(x, c.Param, sc)}, alts), nil
}

// compositeSecond is the condition on the second component of row x.
func (b *sqlBuilder) compositeSecond(x, param, typ string, v *store.Value) (string, error) {
	switch typ {
	case "token":
		if v.Code == "" || (!v.HasSystem && v.System == "") {
			return "", notSupported("composite parameter %s: the second component needs system|code", param)
		}
		return x + ".h_second = " + b.arg(key(v.System, v.Code)), nil
	case "quantity", "number":
		cond, err := b.numValue("(("+x+".lo + "+x+".hi) / 2)", x+".lo", x+".hi", v)
		if err != nil {
			return "", err
		}
		return x + ".lo IS NOT NULL AND (" + cond + ")", nil
	case "date":
		cond, err := b.dateValue(x+".t_lo", x+".t_hi", v)
		if err != nil {
			return "", err
		}
		return x + ".t_lo IS NOT NULL AND (" + cond + ")", nil
	case "string":
		return x + ".h_second = " + b.arg(key(normalize(v.Raw))), nil
	case "reference":
		if v.RefType == "" || v.RefID == "" {
			return "", notSupported("composite parameter %s: the reference component needs Type/id", param)
		}
		return x + ".h_second = " + b.arg(key(v.RefType, v.RefID)), nil
	}
	return "", notSupported("composite parameter %s: a %s component is not supported", param, typ)
}
