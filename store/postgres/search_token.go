package postgres

import (
	"github.com/fhirhub/fhirhub/store"
)

// tokenClause is a token search (R4 search.html#token): "code",
// "system|code", "|code" (no system) and "system|", matched through the
// h_code and h_sys hashes that index.go writes, with the text columns
// compared as well so that a hash collision cannot produce a match: a
// code with its system is found through the code's hash and the system
// beside it in the index (idx_token_code includes system and code), as
// few codes recur in other systems of one parameter. :not is NOT EXISTS of a matching row (so resources without the
// parameter match too, as the spec says); :text and :of-type are below.
func (b *sqlBuilder) tokenClause(c *store.Clause, sc scope) (string, error) {
	switch c.Modifier {
	case "", "not":
	case "text":
		return b.tokenTextClause(c, sc), nil
	case "of-type":
		return b.ofTypeClause(c, sc)
	default:
		return "", notSupported("modifier :%s is not supported on token parameter %s", c.Modifier, c.Param)
	}
	var x string
	if c.Modifier == "not" {
		x = b.alias("k")
	} else {
		x = b.indexAlias("k", sc)
	}
	alts := make([]string, 0, len(c.Values))
	for i := range c.Values {
		alts = append(alts, b.tokenValue(x, c.Param, sc, &c.Values[i]))
	}
	if c.Modifier == "not" {
		return "NOT EXISTS (SELECT 1 FROM idx_token " + x + " WHERE " + x + ".rid = " + sc.col("rid") +
			" AND " + orJoin(alts) + ")", nil
	}
	return b.inIndex(sc, "idx_token", x, nil, alts), nil
}

// tokenValue is the condition on idx_token row x for one token value.
func (b *sqlBuilder) tokenValue(x, param string, sc scope, v *store.Value) string {
	switch {
	case v.HasSystem && v.Code == "": // system|
		return b.eqAny(x+".h_sys", b.keys(sc, param, func(t, p string) int64 { return tokenSysKey(t, p, v.System) })) +
			" AND " + x + ".system = " + b.arg(v.System)
	case v.HasSystem: // system|code or |code
		return b.tokenCode(x, param, sc, v.Code) + " AND " + x + ".system = " + b.arg(v.System)
	default:
		return b.tokenCode(x, param, sc, v.Code)
	}
}

// tokenCode is the condition on idx_token row x for code, in any system.
func (b *sqlBuilder) tokenCode(x, param string, sc scope, code string) string {
	return b.eqAny(x+".h_code", b.keys(sc, param, func(t, p string) int64 { return tokenCodeKey(t, p, code) })) +
		" AND " + x + ".code = " + b.arg(code)
}

// tokenTextClause is :text (search.html#modifiers): the normalised text of
// the coding display, CodeableConcept.text or identifier type text starts
// with the normalised value, or one of its words does. idx_token has no
// index on the display, so this is a correlated EXISTS through the rid
// index: cheap once other clauses have narrowed the candidates.
func (b *sqlBuilder) tokenTextClause(c *store.Clause, sc scope) string {
	x := b.alias("k")
	alts := make([]string, 0, 2*len(c.Values))
	for _, v := range c.Values {
		n := normalize(v.Raw)
		alts = append(alts, b.prefixCond(x+".display", n), x+".display LIKE "+b.arg("% "+escapeLike(n)+"%"))
	}
	return "EXISTS (SELECT 1 FROM idx_token " + x + " WHERE " + x + ".rid = " + sc.col("rid") +
		" AND " + b.paramCond(x, c.Param, sc) + " AND " + orJoin(alts) + ")"
}

// ofTypeClause is :of-type on identifiers (search.html#token):
// "type-system|type-code|value"; index.go writes a row under the
// parameter "<code>:of-type" whose system is the type's system and whose
// code joins the type code and the value. Each value's Parts are the type
// (System, Code) and the identifier value (Code).
func (b *sqlBuilder) ofTypeClause(c *store.Clause, sc scope) (string, error) {
	x := b.indexAlias("k", sc)
	param := c.Param + ":of-type"
	alts := make([]string, 0, len(c.Values))
	for _, v := range c.Values {
		if len(v.Parts) != 2 {
			return "", invalid("%s:of-type needs type-system|type-code|value", c.Param)
		}
		sys, code := v.Parts[0].System, ofTypeCode(v.Parts[0].Code, v.Parts[1].Code)
		alts = append(alts, b.tokenCode(x, param, sc, code)+" AND "+x+".system = "+b.arg(sys))
	}
	return b.inIndex(sc, "idx_token", x, nil, alts), nil
}
