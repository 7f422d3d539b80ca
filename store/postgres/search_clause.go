package postgres

import (
	"strings"

	"github.com/fhirhub/fhirhub/fhir/search"
	"github.com/fhirhub/fhirhub/store"
)

// indexTable names the index table of each search parameter type.
var indexTable = map[string]string{
	"string":    "idx_string",
	"token":     "idx_token",
	"date":      "idx_date",
	"number":    "idx_number",
	"quantity":  "idx_quantity",
	"reference": "idx_reference",
	"uri":       "idx_uri",
	"composite": "idx_composite",
}

// clause returns the SQL condition of c on the resource row of sc
// (R4 search.html: parameters are ANDed, values of one parameter ORed).
func (b *sqlBuilder) clause(c *store.Clause, sc scope) (string, error) {
	switch {
	case c.Has != nil:
		return b.hasClause(c.Has, sc)
	case c.Param == "_id":
		return b.idClause(c, sc)
	case c.Param == "_lastUpdated":
		return b.lastUpdatedClause(c, sc)
	case c.Chain != nil:
		return b.chainClause(c, sc)
	case len(c.Values) == 0:
		return "", invalid("search parameter %s has no value", c.Param)
	case c.Modifier == "missing":
		return b.missingClause(c, sc)
	}
	if len(sc.types) == 0 {
		return "", invalid("search parameter %s needs a resource type (_type) in a search across types", c.Param)
	}
	switch c.Type {
	case "token":
		return b.tokenClause(c, sc)
	case "string":
		return b.stringClause(c, sc)
	case "uri":
		return b.uriClause(c, sc)
	case "date":
		return b.dateClause(c, sc)
	case "number":
		return b.numberClause(c, sc)
	case "quantity":
		return b.quantityClause(c, sc)
	case "reference":
		return b.referenceClause(c, sc)
	case "composite":
		return b.compositeClause(c, sc)
	}
	return "", notSupported("search parameter %s of type %s is not supported", c.Param, c.Type)
}

// paramCond returns "x.param = <hash of code on each type of sc>": of
// the parameters whose rows answer a search on code (search.Storage),
// and, for a reference parameter derived as a restriction to a target
// type, only their rows that point at that type.
func (b *sqlBuilder) paramCond(x, code string, sc scope) string {
	byTarget := map[string][]int64{}
	var targets []string
	for _, t := range sc.types {
		st := b.storage(t, code)
		if _, ok := byTarget[st.Target]; !ok {
			targets = append(targets, st.Target)
		}
		for _, p := range st.Params {
			byTarget[st.Target] = append(byTarget[st.Target], paramKey(hashType(sc.tenant, t), p))
		}
	}
	if len(targets) == 1 && targets[0] == "" {
		return b.eqAny(x+".param", byTarget[""])
	}
	alts := make([]string, 0, len(targets))
	for _, target := range targets {
		cond := b.eqAny(x+".param", byTarget[target])
		if target != "" {
			cond += " AND " + x + ".target_type = " + b.arg(target)
		}
		alts = append(alts, cond)
	}
	return orJoin(alts)
}

// keys returns the index keys f makes of each type of sc (as hashType,
// in the caller's tenant) and each parameter whose rows answer a search
// on code (search.Storage): for the key columns that hash the parameter
// with a value (h_code, h_sys, h_first).
func (b *sqlBuilder) keys(sc scope, code string, f func(typ, param string) int64) []int64 {
	out := make([]int64, 0, len(sc.types))
	for _, t := range sc.types {
		for _, p := range b.storage(t, code).Params {
			out = append(out, f(hashType(sc.tenant, t), p))
		}
	}
	return out
}

// storage returns where the rows of parameter code of resource type typ
// are.
func (b *sqlBuilder) storage(typ, code string) search.Storage { return b.reg.Storage(typ, code) }

// inIndex returns "rid IN (SELECT x.rid FROM table x WHERE conds AND
// (alternatives ORed))"; when x is the driving alias (indexAlias), the
// table is the search's row source r itself and the condition is the
// subquery's WHERE alone.
func (b *sqlBuilder) inIndex(sc scope, table, x string, conds []string, alternatives []string) string {
	all := append([]string(nil), conds...)
	if len(alternatives) > 0 {
		all = append(all, orJoin(alternatives))
	}
	where := strings.Join(all, " AND ")
	if x == drivingAlias {
		b.driver = table
		return where
	}
	return sc.col("rid") + " IN (SELECT " + x + ".rid FROM " + table + " " + x + " WHERE " + where + ")"
}

// drivingAlias is the alias of the search's row source (search.go, matches).
const drivingAlias = "r"

// indexAlias returns the alias for the index table of a clause on sc that
// ends in inIndex: drivingAlias for the first such clause on the top-level
// scope when the builder is looking for a driving table, a fresh alias
// otherwise.
func (b *sqlBuilder) indexAlias(prefix string, sc scope) string {
	if b.wantDriver && b.driver == "" && sc.alias == drivingAlias {
		b.wantDriver = false
		return drivingAlias
	}
	return b.alias(prefix)
}

// orJoin returns the disjunction of conds, parenthesised.
func orJoin(conds []string) string {
	if len(conds) == 1 {
		return "(" + conds[0] + ")"
	}
	return "((" + strings.Join(conds, ") OR (") + "))"
}

// missingClause is :missing (search.html#missing): true matches resources
// without any index row of the parameter, false those with one. It is an
// EXISTS on (rid, param), which every index table can answer through its
// rid index.
func (b *sqlBuilder) missingClause(c *store.Clause, sc scope) (string, error) {
	table, ok := indexTable[c.Type]
	if !ok {
		return "", notSupported("search parameter %s of type %s does not support :missing", c.Param, c.Type)
	}
	if len(sc.types) == 0 {
		return "", invalid("search parameter %s needs a resource type (_type) in a search across types", c.Param)
	}
	var alts []string
	for _, v := range c.Values {
		x := b.alias("m")
		exists := "EXISTS (SELECT 1 FROM " + table + " " + x + " WHERE " + x + ".rid = " + sc.col("rid") +
			" AND " + b.paramCond(x, c.Param, sc) + ")"
		if v.Missing {
			exists = "NOT " + exists
		}
		alts = append(alts, exists)
	}
	return orJoin(alts), nil
}

// idClause is _id (search.html#id) on the resource's id column.
func (b *sqlBuilder) idClause(c *store.Clause, sc scope) (string, error) {
	if c.Modifier != "" {
		return "", notSupported("modifier :%s is not supported on _id", c.Modifier)
	}
	ids := make([]string, 0, len(c.Values))
	for _, v := range c.Values {
		id := v.Code
		if id == "" {
			id = v.Raw
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return "", invalid("_id has no value")
	}
	return b.eqAnyText(sc.col("id"), ids), nil
}

// lastUpdatedClause is _lastUpdated (search.html#lastUpdated): date
// semantics on the resource's last_updated instant.
func (b *sqlBuilder) lastUpdatedClause(c *store.Clause, sc scope) (string, error) {
	if c.Modifier != "" {
		return "", notSupported("modifier :%s is not supported on _lastUpdated", c.Modifier)
	}
	if len(c.Values) == 0 {
		return "", invalid("_lastUpdated has no value")
	}
	col := sc.col("last_updated")
	var alts []string
	for i := range c.Values {
		cond, err := b.dateValue(col, col, &c.Values[i])
		if err != nil {
			return "", err
		}
		alts = append(alts, cond)
	}
	return orJoin(alts), nil
}
