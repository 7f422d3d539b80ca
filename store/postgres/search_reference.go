package postgres

import (
	"strings"

	"github.com/fhirhub/fhirhub/store"
)

// referenceClause is a reference search (R4 search.html#reference):
// "Type/id" (or a :Type modifier with an id) matches (param, target_type,
// target_id); a bare id matches any of the parameter's target types; an
// absolute URL that is not on this server, or a canonical, matches the
// url column. All three are prefixes of an idx_reference index.
func (b *sqlBuilder) referenceClause(c *store.Clause, sc scope) (string, error) {
	if c.Modifier == "identifier" || c.Modifier == "above" || c.Modifier == "below" {
		return "", notSupported("modifier :%s is not supported on reference parameter %s", c.Modifier, c.Param)
	}
	x := b.indexAlias("f", sc)
	alts := make([]string, 0, len(c.Values))
	for _, v := range c.Values {
		switch {
		case v.URL != "":
			alts = append(alts, x+".url <> '' AND "+x+".url = "+b.arg(v.URL))
		case v.RefID == "":
			return "", invalid("reference parameter %s needs Type/id, id or a URL", c.Param)
		case v.RefType != "":
			alts = append(alts, x+".target_type = "+b.arg(v.RefType)+" AND "+x+".target_id = "+b.arg(v.RefID))
		case len(c.Targets) > 0:
			alts = append(alts, b.eqAnyText(x+".target_type", c.Targets)+" AND "+x+".target_id = "+b.arg(v.RefID))
		default:
			alts = append(alts, x+".target_id = "+b.arg(v.RefID))
		}
	}
	return b.inIndex(sc, "idx_reference", x, []string{b.paramCond(x, c.Param, sc)}, alts), nil
}

// chainClause is a chained search (R4 search.html#chaining):
// subject:Patient.name=x matches resources whose subject references a
// current Patient that matches name=x. The referenced resources are found
// first (their own clause, from the index tables), then the references to
// them through idx_reference (param, target_type, target_id).
func (b *sqlBuilder) chainClause(c *store.Clause, sc scope) (string, error) {
	types := c.Targets
	if c.Chain.TargetType != "" {
		types = []string{c.Chain.TargetType}
	}
	if len(types) == 0 {
		return "", invalid("chained parameter %s needs a target type", c.Param)
	}
	t := b.alias("t")
	inner, err := b.clause(&c.Chain.Clause, b.scopeOf(t, types))
	if err != nil {
		return "", err
	}
	x := b.indexAlias("f", sc)
	targets := "(" + x + ".target_type, " + x + ".target_id) IN (SELECT " + t + ".type, " + t + ".id FROM resource " + t +
		" WHERE " + strings.Join(append(b.inScope(t), b.eqAnyText(t+".type", types)), " AND ") + " AND NOT " + t + ".deleted AND " + inner + ")"
	return b.inIndex(sc, "idx_reference", x, []string{b.paramCond(x, c.Param, sc), b.eqAnyText(x+".target_type", types), targets}, nil), nil
}

// hasClause is a reverse chain (R4 search.html#has):
// _has:Observation:patient:code=1234 matches resources referenced by the
// patient parameter of a current Observation with code 1234.
func (b *sqlBuilder) hasClause(h *store.Has, sc scope) (string, error) {
	if len(sc.types) == 0 {
		return "", invalid("_has needs a resource type")
	}
	if h.Type == "" || h.RefParam == "" {
		return "", invalid("_has needs a resource type and a reference parameter")
	}
	src := b.alias("h")
	inner, err := b.clause(&h.Clause, b.scopeOf(src, []string{h.Type}))
	if err != nil {
		return "", err
	}
	x := b.alias("f")
	conds := []string{
		b.paramCond(x, h.RefParam, b.scopeOf(x, []string{h.Type})),
		b.eqAnyText(x+".target_type", sc.types),
		x + ".rid IN (SELECT " + src + ".rid FROM resource " + src + " WHERE " + strings.Join(b.inScope(src), " AND ") +
			" AND " + src + ".type = " + b.arg(h.Type) + " AND NOT " + src + ".deleted AND " + inner + ")",
	}
	return "(" + sc.col("type") + ", " + sc.col("id") + ") IN (SELECT " + x + ".target_type, " + x + ".target_id FROM idx_reference " +
		x + " WHERE " + strings.Join(conds, " AND ") + ")", nil
}
