package postgres

import (
	"strings"
	"unicode/utf8"

	"github.com/fhirhub/fhirhub/store"
)

// stringClause is a string search (R4 search.html#string): by default the
// normalised value (search.Normalize: lower case, accents removed) starts
// with the normalised search value; :exact compares the value as stored;
// :contains looks for the normalised value anywhere in it.
//
// The prefix match is written as a byte range with the text_pattern_ops
// operators (norm ~>=~ 'abc' AND norm ~<~ 'abd'), which the idx_string
// (param, norm text_pattern_ops) index answers even in a generic plan of
// a prepared statement, where LIKE with a bound pattern could not use it.
func (b *sqlBuilder) stringClause(c *store.Clause, sc scope) (string, error) {
	x := b.indexAlias("s", sc)
	alts := make([]string, 0, len(c.Values))
	for _, v := range c.Values {
		n := normalize(v.Raw)
		switch c.Modifier {
		case "":
			alts = append(alts, b.prefixCond(x+".norm", n))
		case "exact":
			alts = append(alts, x+".norm = "+b.arg(n)+" AND "+x+".exact = "+b.arg(v.Raw))
		case "contains":
			alts = append(alts, x+".norm LIKE "+b.arg("%"+escapeLike(n)+"%"))
		default:
			return "", notSupported("modifier :%s is not supported on string parameter %s", c.Modifier, c.Param)
		}
	}
	return b.inIndex(sc, "idx_string", x, []string{b.paramCond(x, c.Param, sc)}, alts), nil
}

// uriClause is a uri search (R4 search.html#uri): equality by default;
// :below matches URIs that start with the value; :above matches URIs of
// which the value is an extension: the value itself and each of its
// prefixes ending in '/' (and the same without that '/').
func (b *sqlBuilder) uriClause(c *store.Clause, sc scope) (string, error) {
	x := b.indexAlias("u", sc)
	alts := make([]string, 0, len(c.Values))
	for _, v := range c.Values {
		switch c.Modifier {
		case "", "exact":
			alts = append(alts, x+".value = "+b.arg(v.Raw))
		case "below":
			alts = append(alts, b.prefixCond(x+".value", v.Raw))
		case "above":
			alts = append(alts, b.eqAnyText(x+".value", uriAbove(v.Raw)))
		default:
			return "", notSupported("modifier :%s is not supported on uri parameter %s", c.Modifier, c.Param)
		}
	}
	return b.inIndex(sc, "idx_uri", x, []string{b.paramCond(x, c.Param, sc)}, alts), nil
}

// uriAbove returns u and its parents: every prefix ending in '/' after
// the scheme's "//", with and without the trailing '/'.
func uriAbove(u string) []string {
	out := []string{u}
	start := 0
	if i := strings.Index(u, "//"); i >= 0 {
		start = i + 2
	}
	for i := len(u) - 1; i > start; i-- {
		if u[i] == '/' {
			if i+1 < len(u) {
				out = append(out, u[:i+1])
			}
			out = append(out, u[:i])
		}
	}
	return out
}

// prefixCond returns the condition "col starts with p" as a byte range
// [p, next(p)) with the text_pattern_ops operators.
func (b *sqlBuilder) prefixCond(col, p string) string {
	if p == "" {
		return col + " IS NOT NULL"
	}
	cond := col + " ~>=~ " + b.arg(p)
	if hi, ok := prefixUpper(p); ok {
		cond += " AND " + col + " ~<~ " + b.arg(hi)
	}
	return cond
}

// prefixUpper returns the smallest valid UTF-8 string greater than every
// string starting with p: p with its last rune incremented (dropping
// runes that cannot be). UTF-8 byte order is code point order, so the
// byte-wise range [p, upper) holds exactly the strings starting with p.
func prefixUpper(p string) (string, bool) {
	for p != "" {
		r, size := utf8.DecodeLastRuneInString(p)
		p = p[:len(p)-size]
		next := r + 1
		if next >= 0xD800 && next <= 0xDFFF {
			next = 0xE000
		}
		if (r != utf8.RuneError || size > 1) && next <= utf8.MaxRune {
			return p + string(next), true
		}
	}
	return "", false
}

// escapeLike escapes LIKE's metacharacters (%, _ and the escape \).
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
