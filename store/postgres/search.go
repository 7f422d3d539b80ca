package postgres

// Search (FHIR R4 search.html) is answered from the index tables only: each
// clause of a store.SearchQuery becomes a condition on the search's row
// source "r" of the form r.rid IN (SELECT rid FROM idx_x WHERE ...), or an
// EXISTS / NOT EXISTS correlated on rid, so that PostgreSQL uses the btree
// indexes on (param, value), the h_* hashes and the GiST range index of
// idx_date; no condition reads resource content. The row source is the
// index table of one clause when it can be (see matches), the resource
// table otherwise. All user values are bound parameters; table names,
// aliases and casts come from this package only.
// The files are split by
// subject: search_clause.go (dispatch, _id, _lastUpdated, :missing),
// search_token.go, search_string.go (string, uri), search_date.go,
// search_number.go (number, quantity), search_reference.go (reference,
// chains, _has), search_composite.go, search_page.go (sort, cursors),
// search_include.go.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/store"
)

// Search implements store.Reader.
//
// Matches come in creation order (rid ascending) unless q.Sort is set, in
// which case they are ordered by the sort keys and then rid. Pages are
// keyset pages: the cursors hold the last (or first) row's sort tuple, so
// paging survives concurrent writes without duplicates or gaps among rows
// that did not change. Total is counted exactly unless q.Total says
// estimate (the planner's row estimate) or none (-1); the default is
// accurate because clients paging through results rely on it and the
// count runs on the same indexes as the page.
//
// Cost: one page query; a count query unless the first page holds every
// match or _total is none (an EXPLAIN for estimate); one query per
// include and round (search_include.go). Outside a transaction these run
// as separate statements, so under concurrent writes the total may differ
// from what paging through all pages returns.
//
// Errors are *fhir.Error with code invalid (bad cursor, a clause the store
// cannot evaluate) or not-supported, or internal errors.
func (r reader) Search(ctx context.Context, q *store.SearchQuery) (*store.SearchResult, error) {
	b := &sqlBuilder{now: r.s.now(), scope: store.ScopeFrom(ctx), reg: r.s.cfg.Extractor}
	m, err := b.matches(q)
	if err != nil {
		return nil, err
	}
	baseArgs := append([]any(nil), b.args...)
	res := &store.SearchResult{Total: -1}
	var rids []int64
	if !q.CountOnly {
		if rids, err = r.searchPage(ctx, b, m, q, res); err != nil {
			return nil, err
		}
	}
	if err := r.searchTotal(ctx, m, baseArgs, q, res); err != nil {
		return nil, err
	}
	if len(res.Matches) > 0 && (len(q.Include) > 0 || len(q.RevInclude) > 0) {
		if err := r.searchIncludes(ctx, q, rids, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// sqlBuilder collects bound arguments while conditions are generated.
type sqlBuilder struct {
	args []any
	now  time.Time
	// reg tells where each parameter's rows are (search.Storage).
	reg paramStorage
	// scope is the caller's tenant and facility: index keys hash the
	// tenant (hashType), resource rows are selected by it (inScope).
	scope store.Scope
	n     int // alias counter
	// wantDriver asks indexAlias for a driving table; driver is its
	// index table once a clause has taken it (matches).
	wantDriver bool
	driver     string
}

// arg binds v and returns its placeholder.
func (b *sqlBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

// alias returns a fresh table alias starting with prefix.
func (b *sqlBuilder) alias(prefix string) string {
	b.n++
	return prefix + strconv.Itoa(b.n)
}

// eqAny returns "col = $n" for one value and "col = ANY($n)" for several.
func (b *sqlBuilder) eqAny(col string, hashes []int64) string {
	if len(hashes) == 1 {
		return col + " = " + b.arg(hashes[0])
	}
	return col + " = ANY(" + b.arg(hashes) + "::bigint[])"
}

// eqAnyText is eqAny for text values.
func (b *sqlBuilder) eqAnyText(col string, vals []string) string {
	if len(vals) == 1 {
		return col + " = " + b.arg(vals[0])
	}
	return col + " = ANY(" + b.arg(vals) + "::text[])"
}

// withMode returns args for a search statement, which pgx then sends as
// an unnamed prepared statement. PostgreSQL plans each execution with the
// actual values (a custom plan): a cached statement would switch to a
// generic plan after five executions, and a search's best plan depends on
// its values (how common a code is, how wide a date window), which a
// generic plan cannot see. Parsing each time costs far less than the wrong
// plan (measured: a composite search 150 ms generic, 1 ms custom).
func withMode(args []any) []any {
	return append([]any{pgx.QueryExecModeExec}, args...)
}

// scope is the resource row a condition is about: its table alias, the
// resource types it may have and its tenant (index hashes are per tenant
// and type).
type scope struct {
	alias  string
	types  []string
	tenant string
}

func (s scope) col(name string) string { return s.alias + "." + name }

// scopeOf returns the scope of alias over types in the caller's tenant.
func (b *sqlBuilder) scopeOf(alias string, types []string) scope {
	return scope{alias: alias, types: types, tenant: b.scope.Tenant}
}

// hashType is hashType of typ in the caller's tenant.
func (b *sqlBuilder) hashType(typ string) string { return hashType(b.scope.Tenant, typ) }

// inScope returns the conditions that keep resource rows of alias t in
// the caller's tenant and, when it has one, facility (store.Scope).
func (b *sqlBuilder) inScope(t string) []string {
	conds := []string{t + ".tenant = " + b.arg(b.scope.Tenant)}
	if b.scope.Facility != "" {
		conds = append(conds, "("+t+".facility = '' OR "+t+".facility = "+b.arg(b.scope.Facility)+")")
	}
	return conds
}

// matchSet is the SQL of a search's matches: rows r with a column rid,
// FROM from WHERE where; when distinct is set a resource may have several
// rows, and is to be taken once.
type matchSet struct {
	from, where string
	distinct    bool
}

// selectRID returns the query of the matches' rids, each once.
func (m matchSet) selectRID() string {
	return m.selectCols("r.rid")
}

// selectCols returns the query of cols (on r) of the matches, one row per
// match: cols must start with r.rid and otherwise depend on it only.
func (m matchSet) selectCols(cols string) string {
	sel := "SELECT "
	if m.distinct {
		sel += "DISTINCT "
	}
	return sel + cols + " FROM " + m.from + " WHERE " + m.where
}

// matches returns the SQL of q's matches. In general r is the resource
// row: current (not deleted), of the searched type(s), and meeting every
// clause.
//
// When some clause is answered from one index table (a token, string,
// uri, date, number, quantity, reference, chain or composite clause;
// not :missing, :not, :text or _has) and no clause or sort key reads the
// resource row beyond its rid (_id, _lastUpdated, _has), r is instead the
// first such clause's index table, with that clause's condition on it and
// the others' on r.rid as usual, and a resource matches once however many
// of its index rows do (distinct). The resource table is then read only
// for the page's rows. This selects the same resources because
//
//   - index rows exist only for current resources: the write path
//     (store.go, index.go) replaces a version's index rows in the
//     statement that writes the version and deletes them with it;
//   - index rows are keyed by resource type: param and the h_* hashes
//     hash the type and parameter first, then the value, and where a
//     hash stands for text (token system and code) the text is compared
//     too; FNV-1a (hash.go) takes two different states through the same
//     bytes to two different states, so rows of another type or
//     parameter with the same text never hash alike unless their
//     (type, parameter) keys do, which every index table already
//     assumes they do not. (Quantity units and composite values are
//     compared by hash alone, as within a type before.)
//
// It lets PostgreSQL walk one clause's index in rid order and stop at the
// end of the page (or of the bounded count) whatever the distribution of
// the matches: with the resource table as the row source it walks the
// resource_type_rid index from the type's first row, in step, and a code
// that only the newest tenth of a million Observations carry took 100 ms
// for every page that way.
func (b *sqlBuilder) matches(q *store.SearchQuery) (matchSet, error) {
	sc := b.scopeOf(drivingAlias, nil)
	switch {
	case q.Type != "":
		sc.types = []string{q.Type}
	case len(q.Types) > 0:
		sc.types = q.Types
	}
	// A facility is a column of the resource row, which an index table
	// as the row source does not have.
	b.wantDriver = !readsResource(q) && b.scope.Facility == ""
	var conds []string
	where, ranges := splitDateRanges(q.Where)
	for _, r := range ranges {
		c, err := b.dateRangeClause(r, sc)
		if err != nil {
			return matchSet{}, err
		}
		conds = append(conds, c)
	}
	for i := range where {
		c, err := b.clause(&where[i], sc)
		if err != nil {
			return matchSet{}, err
		}
		conds = append(conds, c)
	}
	b.wantDriver = false
	if b.driver != "" {
		return matchSet{from: b.driver + " " + drivingAlias, where: strings.Join(conds, " AND "), distinct: true}, nil
	}
	head := append([]string{"NOT r.deleted"}, b.inScope(drivingAlias)...)
	switch {
	case q.Type != "":
		head = append(head, "r.type = "+b.arg(q.Type))
	case len(q.Types) > 0:
		head = append(head, b.eqAnyText("r.type", q.Types))
	}
	return matchSet{from: "resource " + drivingAlias, where: strings.Join(append(head, conds...), " AND ")}, nil
}

// readsResource reports whether a clause or sort key of q reads a column
// of the resource row other than rid: _id and _lastUpdated (id,
// last_updated), _has (type and id). A new clause that does must be
// added here.
func readsResource(q *store.SearchQuery) bool {
	for _, c := range q.Where {
		if c.Has != nil || c.Param == "_id" || c.Param == "_lastUpdated" {
			return true
		}
	}
	for _, k := range q.Sort {
		if k.Param == "_id" || k.Param == "_lastUpdated" {
			return true
		}
	}
	return false
}

// defaultTotalLimit bounds the count made when the client did not ask for
// _total: searches with more matches than this get no total unless
// _total=accurate (or estimate) asks for one, so that a broad search costs
// a page, not a count of the whole table.
const defaultTotalLimit = 1000

// searchTotal fills res.Total per q.Total. When the first page holds
// every match no count query runs. Without _total, matches are counted up
// to defaultTotalLimit and the total is left out above it.
func (r reader) searchTotal(ctx context.Context, m matchSet, args []any, q *store.SearchQuery, res *store.SearchResult) error {
	switch q.Total {
	case store.TotalNone:
		if !q.CountOnly {
			return nil
		}
	case store.TotalEstimate:
		return r.estimateTotal(ctx, m, args, res)
	}
	if !q.CountOnly && q.Cursor == "" && res.Next == "" {
		res.Total = int64(len(res.Matches))
		return nil
	}
	if q.Total == "" && !q.CountOnly {
		var n int64
		err := r.q.QueryRow(ctx, "SELECT count(*) FROM ("+m.selectRID()+" LIMIT "+strconv.Itoa(defaultTotalLimit+1)+") m",
			withMode(args)...).Scan(&n)
		if err != nil {
			return searchErr(ctx, "count", err)
		}
		if n <= defaultTotalLimit {
			res.Total = n
		}
		return nil
	}
	err := r.q.QueryRow(ctx, "SELECT count(*) FROM ("+m.selectRID()+") m", withMode(args)...).Scan(&res.Total)
	if err != nil {
		return searchErr(ctx, "count", err)
	}
	return nil
}

// estimateTotal sets res.Total to the planner's estimate of the matches
// (EXPLAIN's "Plan Rows" of the top node): cheap, and as good as the
// table statistics.
func (r reader) estimateTotal(ctx context.Context, m matchSet, args []any, res *store.SearchResult) error {
	var plan []byte
	err := r.q.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+m.selectRID(), withMode(args)...).Scan(&plan)
	if err != nil {
		return searchErr(ctx, "estimate", err)
	}
	var out []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		} `json:"Plan"`
	}
	if err := json.Unmarshal(plan, &out); err != nil || len(out) == 0 {
		return fmt.Errorf("postgres: search: estimate: unexpected plan: %w", err)
	}
	res.Total, res.Estimated = int64(out[0].Plan.Rows), true
	return nil
}

// searchErr wraps a query error; a cancelled context is returned as is.
func searchErr(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("postgres: search: %s: %w", what, ctx.Err())
	}
	var fe *fhir.Error
	if errors.As(err, &fe) {
		return err
	}
	return fmt.Errorf("postgres: search: %s: %w", what, err)
}

// resourceRowCols are the columns scanRow reads, on alias t.
func resourceRowCols(t string) string {
	return t + ".rid, " + t + ".type, " + t + ".id, " + t + ".version, " + t + ".last_updated, " + t + ".content"
}

// scanRow reads resourceRowCols followed by extra destinations.
func scanRow(rows pgx.Rows, extra ...any) (int64, *store.Resource, error) {
	var rid int64
	var content string
	res := &store.Resource{}
	dest := append([]any{&rid, &res.Type, &res.ID, &res.Version, &res.LastUpdated, &content}, extra...)
	if err := rows.Scan(dest...); err != nil {
		return 0, nil, err
	}
	res.Content = []byte(content)
	return rid, res, nil
}

func invalid(format string, args ...any) error {
	return fhir.Errorf(fhir.IssueInvalid, format, args...)
}

func notSupported(format string, args ...any) error {
	return fhir.Errorf(fhir.IssueNotSupported, format, args...)
}
