package postgres

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/fhirhub/fhirhub/store"
)

// Paging and sorting (R4 search.html#sort, #count, and http.html#paging).
//
// Matches are ordered by the _sort keys, then by rid (creation order); with
// no _sort, by rid alone. A page is the first Count rows after (or, for a
// previous page, before) the cursor's position, where the position is the
// sort tuple of the row at the page boundary. A row's sort value is read
// from its index rows: the smallest value for an ascending key and the
// largest for a descending one (dates: lowest lo / highest hi; strings:
// normalised value; tokens: code; references: Type/id or URL); a resource
// without the parameter sorts last in either direction.
//
// Because a cursor holds values, not offsets, rows inserted, updated or
// deleted between two page requests never make an unchanged row appear
// twice or not at all. A cursor is base64url JSON of the boundary values,
// not a secret: a string sort key (a normalised name, say) is readable in
// it, as the search values are in the rest of the URL.

// sortCol is one ORDER BY key of the page query.
type sortCol struct {
	expr string // SQL on the resource row r
	cast string // SQL type of the value: text, timestamptz or float8
	desc bool
}

// sortCols returns the ORDER BY keys of q's _sort.
func (b *sqlBuilder) sortCols(q *store.SearchQuery, sc scope) ([]sortCol, error) {
	cols := make([]sortCol, 0, len(q.Sort))
	for _, k := range q.Sort {
		col := sortCol{desc: k.Descending}
		agg := "min"
		if k.Descending {
			agg = "max"
		}
		switch k.Param {
		case "_id":
			col.expr, col.cast = `r.id COLLATE "C"`, "text"
		case "_lastUpdated":
			col.expr, col.cast = "r.last_updated", "timestamptz"
		default:
			if len(sc.types) == 0 {
				return nil, invalid("_sort by %s needs a resource type", k.Param)
			}
			value, table, cast, ok := sortValue(k.Type, k.Descending)
			if !ok {
				return nil, notSupported("_sort by %s parameter %s is not supported", k.Type, k.Param)
			}
			x := b.alias("o")
			col.cast = cast
			col.expr = "(SELECT " + agg + "(" + strings.ReplaceAll(value, "x.", x+".") + ") FROM " + table + " " + x +
				" WHERE " + x + ".rid = r.rid AND " + b.paramCond(x, k.Param, sc) + ")"
		}
		cols = append(cols, col)
	}
	return cols, nil
}

// sortValue returns the value column (on alias "x"), the table and the SQL
// type of a sort key on a parameter of type typ.
func sortValue(typ string, desc bool) (value, table, cast string, ok bool) {
	switch typ {
	case "string":
		return `x.norm COLLATE "C"`, "idx_string", "text", true
	case "token":
		return `x.code COLLATE "C"`, "idx_token", "text", true
	case "uri":
		return `x.value COLLATE "C"`, "idx_uri", "text", true
	case "reference":
		return `(CASE WHEN x.url <> '' THEN x.url ELSE x.target_type || '/' || x.target_id END) COLLATE "C"`, "idx_reference", "text", true
	case "date":
		if desc {
			return "x.hi", "idx_date", "timestamptz", true
		}
		return "x.lo", "idx_date", "timestamptz", true
	case "number":
		return "x.value", "idx_number", "float8", true
	case "quantity":
		return "x.value", "idx_quantity", "float8", true
	}
	return "", "", "", false
}

// searchCursor is the decoded form of a page cursor.
type searchCursor struct {
	// Before is set for a previous-page cursor: the rows before the
	// position; otherwise the rows after it.
	Before bool `json:"b,omitempty"`
	// Keys are the boundary row's sort values, RID its rid.
	Keys []cursorKey `json:"k,omitempty"`
	RID  int64       `json:"r"`
	// Sort identifies the sort the cursor was made for.
	Sort uint32 `json:"s"`
}

// cursorKey is one sort value; all fields nil stands for NULL. A number
// is kept as text, which (unlike a JSON number) holds infinities.
type cursorKey struct {
	S *string    `json:"s,omitempty"`
	T *time.Time `json:"t,omitempty"`
	N *string    `json:"n,omitempty"`
}

func newCursorKey(v any) cursorKey {
	switch x := v.(type) {
	case string:
		return cursorKey{S: &x}
	case time.Time:
		return cursorKey{T: &x}
	case float64:
		n := strconv.FormatFloat(x, 'g', -1, 64)
		return cursorKey{N: &n}
	}
	return cursorKey{}
}

// value returns the key's value, or ok false for a malformed number.
func (k cursorKey) value() (v any, ok bool) {
	switch {
	case k.S != nil:
		return *k.S, true
	case k.T != nil:
		return *k.T, true
	case k.N != nil:
		f, err := strconv.ParseFloat(*k.N, 64)
		return f, err == nil
	}
	return nil, true
}

func (c *searchCursor) encode() string {
	data, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(data)
}

// sortSignature identifies a query's type and sort keys, so that a cursor
// is not used with another sort.
func sortSignature(q *store.SearchQuery) uint32 {
	h := fnv.New32a()
	h.Write([]byte(q.Type + "\x00" + strings.Join(q.Types, ",")))
	for _, k := range q.Sort {
		h.Write([]byte("\x00" + k.Param + "\x00" + k.Type + "\x00" + strconv.FormatBool(k.Descending)))
	}
	return h.Sum32()
}

func decodeCursor(s string, q *store.SearchQuery) (*searchCursor, error) {
	data, err := base64.RawURLEncoding.DecodeString(s)
	c := &searchCursor{}
	if err == nil {
		err = json.Unmarshal(data, c)
	}
	if err != nil || c.Sort != sortSignature(q) || len(c.Keys) != len(q.Sort) {
		return nil, invalid("invalid paging cursor (or one made for another sort)")
	}
	for _, k := range c.Keys {
		if _, ok := k.value(); !ok {
			return nil, invalid("invalid paging cursor")
		}
	}
	return c, nil
}

// fits reports whether every key of c has the type of its sort column.
func (c *searchCursor) fits(cols []sortCol) bool {
	for i, k := range c.Keys {
		switch {
		case k.S != nil && cols[i].cast != "text",
			k.T != nil && cols[i].cast != "timestamptz",
			k.N != nil && cols[i].cast != "float8":
			return false
		}
	}
	return true
}

// keyset returns the condition selecting the rows after (or before) the
// cursor position in the order of cols (on the subquery alias m), nulls
// sorting last in both directions, rid ascending as the last key.
func (b *sqlBuilder) keyset(cols []sortCol, c *searchCursor) string {
	var alts, eqs []string
	for i, col := range cols {
		k := "m.k" + strconv.Itoa(i)
		v, _ := c.Keys[i].value()
		var beyond, equal string
		if v == nil {
			equal = k + " IS NULL"
			if c.Before {
				beyond = k + " IS NOT NULL"
			}
		} else {
			p := b.arg(v) + "::" + col.cast
			equal = k + " = " + p
			op := ">"
			if col.desc != c.Before {
				op = "<"
			}
			beyond = k + " " + op + " " + p
			if !c.Before {
				beyond += " OR " + k + " IS NULL"
			}
		}
		if beyond != "" {
			alts = append(alts, strings.Join(append(append([]string(nil), eqs...), "("+beyond+")"), " AND "))
		}
		eqs = append(eqs, equal)
	}
	op := " > "
	if c.Before {
		op = " < "
	}
	alts = append(alts, strings.Join(append(eqs, "m.rid"+op+b.arg(c.RID)), " AND "))
	return orJoin(alts)
}

// orderBy returns the ORDER BY list on alias a, reversed for a previous page.
func orderBy(cols []sortCol, a string, reverse bool) string {
	parts := make([]string, 0, len(cols)+1)
	for i, col := range cols {
		dir := col.desc != reverse
		s := a + ".k" + strconv.Itoa(i)
		if dir {
			s += " DESC"
		}
		if reverse {
			s += " NULLS FIRST"
		} else {
			s += " NULLS LAST"
		}
		parts = append(parts, s)
	}
	if reverse {
		parts = append(parts, a+".rid DESC")
	} else {
		parts = append(parts, a+".rid")
	}
	return strings.Join(parts, ", ")
}

// pageRow is a match with its sort values.
type pageRow struct {
	rid  int64
	res  *store.Resource
	keys []any
}

// searchPage selects one page of matches into res, with its cursors.
// It returns the matches' rids, in the order of res.Matches.
func (r reader) searchPage(ctx context.Context, b *sqlBuilder, m matchSet, q *store.SearchQuery, res *store.SearchResult) ([]int64, error) {
	sc := b.scopeOf(drivingAlias, q.Types)
	if q.Type != "" {
		sc.types = []string{q.Type}
	}
	cols, err := b.sortCols(q, sc)
	if err != nil {
		return nil, err
	}
	var cur *searchCursor
	if q.Cursor != "" {
		if cur, err = decodeCursor(q.Cursor, q); err != nil {
			return nil, err
		}
		if !cur.fits(cols) {
			return nil, invalid("invalid paging cursor")
		}
	}
	count := q.Count
	if count <= 0 {
		count = r.s.cfg.DefaultCount
	}
	count = min(count, r.s.cfg.MaxCount)
	rows, err := r.pageRows(ctx, b, m, cols, cur, count+1)
	if err != nil {
		return nil, err
	}
	more := len(rows) > count
	if more {
		rows = rows[:count]
	}
	before := cur != nil && cur.Before
	if before {
		for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
			rows[i], rows[j] = rows[j], rows[i]
		}
	}
	rids := make([]int64, 0, len(rows))
	for _, row := range rows {
		res.Matches = append(res.Matches, row.res)
		rids = append(rids, row.rid)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	sig := sortSignature(q)
	boundary := func(row pageRow, before bool) string {
		c := &searchCursor{Before: before, RID: row.rid, Sort: sig}
		for _, k := range row.keys {
			c.Keys = append(c.Keys, newCursorKey(k))
		}
		return c.encode()
	}
	if more && !before || before {
		res.Next = boundary(rows[len(rows)-1], false)
	}
	if more && before || cur != nil && !before {
		res.Prev = boundary(rows[0], true)
	}
	return rids, nil
}

// pageRows runs the page query: the matches' rids and sort values in
// order, limited, then their rows.
func (r reader) pageRows(ctx context.Context, b *sqlBuilder, m matchSet, cols []sortCol, cur *searchCursor, limit int) ([]pageRow, error) {
	inner := make([]string, 0, len(cols)+1)
	outer := make([]string, 0, len(cols))
	inner = append(inner, "r.rid")
	for i, col := range cols {
		inner = append(inner, col.expr+" AS k"+strconv.Itoa(i))
		outer = append(outer, "p.k"+strconv.Itoa(i))
	}
	reverse := cur != nil && cur.Before
	sql := "WITH p AS (SELECT m.* FROM (" + m.selectCols(strings.Join(inner, ", ")) + ") m"
	if cur != nil {
		sql += " WHERE " + b.keyset(cols, cur)
	}
	sql += " ORDER BY " + orderBy(cols, "m", reverse) + " LIMIT " + b.arg(limit) + ")\n" +
		"SELECT " + resourceRowCols("r")
	if len(outer) > 0 {
		sql += ", " + strings.Join(outer, ", ")
	}
	sql += " FROM p JOIN resource r ON r.rid = p.rid ORDER BY " + orderBy(cols, "p", reverse)
	rows, err := r.q.Query(ctx, sql, withMode(b.args)...)
	if err != nil {
		return nil, searchErr(ctx, "page", err)
	}
	defer rows.Close()
	var out []pageRow
	for rows.Next() {
		keys := make([]any, len(cols))
		dest := make([]any, len(cols))
		for i := range keys {
			dest[i] = &keys[i]
		}
		rid, res, err := scanRow(rows, dest...)
		if err != nil {
			return nil, searchErr(ctx, "page", err)
		}
		out = append(out, pageRow{rid: rid, res: res, keys: keys})
	}
	if err := rows.Err(); err != nil {
		return nil, searchErr(ctx, "page", err)
	}
	return out, nil
}
