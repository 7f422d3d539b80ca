package postgres

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fhirhub/fhirhub/store"
)

// maxPendingInserts bounds how many version-1 inserts a transaction
// gathers before it writes them: enough to take a patient's Bundle in a
// few statements, few enough to keep one statement's parameters small.
const maxPendingInserts = 250

// insertBatch gathers version-1 inserts (resource, history, outbox and
// index rows) and writes any number of them with one statement, whose
// parts each insert the rows of every gathered resource into one table.
// Per resource, the statement's parse, plan, executor start and round
// trip then cost a fraction of what they cost one resource at a time:
// for the resources of a transaction Bundle, most of PostgreSQL's work
// per resource apart from the rows themselves.
//
// Rows are tied to their resource by its ordinal k (1, 2, ...) in the
// batch; the statement maps k to the rid the resource insert returns.
type insertBatch struct {
	typs, ids, methods, contents, compartments []string
	tenants, facilities                        []string
	ats                                        []time.Time
	seen                                       map[string]bool // tenant/Type/id of the gathered inserts
	parts                                      []*batchPart
	byHead                                     map[string]*batchPart
}

// batchPart is one index table's rows: the insert's head ("INSERT INTO
// idx_token (rid, ...) "), the array casts of its columns, the arrays,
// and each row's k.
type batchPart struct {
	head  string
	casts []string
	cols  []reflect.Value
	k     []int64
}

// Len returns the number of gathered inserts.
func (b *insertBatch) Len() int { return len(b.typs) }

// add gathers version 1 of v; false when its tenant's typ/id is gathered
// already.
func (b *insertBatch) add(v *version1) bool {
	if b.seen == nil {
		b.seen = map[string]bool{}
		b.byHead = map[string]*batchPart{}
	}
	typ, id := v.res.Type, v.res.ID
	ref := v.scope.Tenant + "/" + typ + "/" + id
	if b.seen[ref] {
		return false
	}
	b.seen[ref] = true
	b.typs, b.ids, b.methods, b.contents = append(b.typs, typ), append(b.ids, id), append(b.methods, v.res.Method), append(b.contents, string(v.res.Content))
	b.tenants, b.facilities = append(b.tenants, v.scope.Tenant), append(b.facilities, v.facility)
	b.ats, b.compartments = append(b.ats, v.res.LastUpdated), append(b.compartments, patientCompartment(typ, id, &v.values))
	queueInsertIndex(batchQueuer{b, int64(len(b.typs))}, hashType(v.scope.Tenant, typ), 0, &v.values, v.derived)
	return true
}

// batchQueuer takes the statements queueInsertIndex writes for one
// resource (rid $1, then one array per column) and appends their arrays
// to the batch's parts.
type batchQueuer struct {
	b *insertBatch
	k int64
}

func (q batchQueuer) Queue(query string, args ...any) *pgx.QueuedQuery {
	p := q.b.byHead[query]
	if p == nil {
		head, casts := splitIndexInsert(query)
		p = &batchPart{head: head, casts: casts, cols: make([]reflect.Value, len(casts))}
		for i := range casts {
			p.cols[i] = reflect.MakeSlice(reflect.TypeOf(args[1+i]), 0, 64)
		}
		q.b.byHead[query] = p
		q.b.parts = append(q.b.parts, p)
	}
	n := 0
	for i := range p.cols {
		a := reflect.ValueOf(args[1+i])
		p.cols[i] = reflect.AppendSlice(p.cols[i], a)
		n = a.Len()
	}
	for range n {
		p.k = append(p.k, q.k)
	}
	return nil
}

var indexInserts sync.Map // query -> indexInsert

type indexInsert struct {
	head  string
	casts []string
}

// splitIndexInsert splits an index insert of queueInsertIndex ("INSERT
// INTO t (rid, ...) SELECT $1, * FROM unnest($2::bigint[], ...)") into its
// head and its array casts ("::bigint[]", ...).
func splitIndexInsert(query string) (string, []string) {
	if v, ok := indexInserts.Load(query); ok {
		ii := v.(indexInsert)
		return ii.head, ii.casts
	}
	head, list, ok := strings.Cut(query, indexInsertHead)
	if !ok {
		panic("postgres: not an index insert: " + query)
	}
	list = strings.TrimSuffix(strings.TrimSpace(list), ")")
	var casts []string
	for _, a := range strings.Split(list, ",") {
		a = strings.TrimSpace(a)
		casts = append(casts, a[strings.Index(a, "::"):])
	}
	indexInserts.Store(query, indexInsert{head, casts})
	return head, casts
}

// batchStatements caches the statement of each shape of batch: the index
// tables it writes, in order (their heads, joined). There are few shapes.
var batchStatements sync.Map

// statement is the batch's statement: the resources as arrays $1-$8, then
// each part's arrays and its k array.
func (b *insertBatch) statement() string {
	var sql strings.Builder
	sql.WriteString(`WITH u AS (SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
			WITH ORDINALITY AS u (type, id, at, content, method, compartment, tenant, facility, k)),
		r AS (INSERT INTO resource (tenant, type, id, version, last_updated, content, facility)
			SELECT tenant, type, id, 1, at, content, facility FROM u ORDER BY k
			ON CONFLICT (tenant, type, id) DO NOTHING RETURNING rid, tenant, type, id),
		rk AS (SELECT r.rid, u.k FROM r JOIN u USING (tenant, type, id)),
		h AS (INSERT INTO resource_history (rid, version, tenant, type, id, last_updated, method, content, facility)
			SELECT rk.rid, 1, u.tenant, u.type, u.id, u.at, u.method, u.content, u.facility FROM rk JOIN u USING (k) ORDER BY k),
		o AS (INSERT INTO outbox (rid, type, id, version, operation, compartment, at)
			SELECT rk.rid, u.type, u.id, 1, 'create', u.compartment, u.at FROM rk JOIN u USING (k) ORDER BY k)`)
	n := 8
	for i, p := range b.parts {
		var arrays, cols strings.Builder
		for j, c := range p.casts {
			n++
			fmt.Fprintf(&arrays, "$%d%s, ", n, c)
			fmt.Fprintf(&cols, ", x.c%d", j)
		}
		n++
		fmt.Fprintf(&sql, `,
		i%d AS (%sSELECT rk.rid%s FROM unnest(%s$%d::bigint[]) AS x (%s, k) JOIN rk USING (k))`,
			i, p.head, cols.String(), arrays.String(), n, strings.TrimPrefix(strings.ReplaceAll(cols.String(), "x.", ""), ", "))
	}
	sql.WriteString(`
		SELECT k FROM rk`)
	return sql.String()
}

// exec writes the gathered inserts with one statement and empties the
// batch. A typ/id that exists already is not written (nor its rows) and
// is reported with ErrVersionConflict.
func (b *insertBatch) exec(ctx context.Context, q querier) error {
	existing, err := b.write(ctx, q)
	if err != nil {
		return err
	}
	if len(existing) > 0 {
		i := existing[0]
		return fmt.Errorf("create %s/%s: %w", b.typs[i], b.ids[i], store.ErrVersionConflict)
	}
	*b = insertBatch{}
	return nil
}

// write writes the gathered inserts with one statement and returns the
// positions (0, 1, ...) of those not written because their typ/id exists.
func (b *insertBatch) write(ctx context.Context, q querier) (existing []int, err error) {
	if b.Len() == 0 {
		return nil, nil
	}
	args := []any{b.typs, b.ids, b.ats, b.contents, b.methods, b.compartments, b.tenants, b.facilities}
	var shape strings.Builder
	for _, p := range b.parts {
		shape.WriteString(p.head)
		for j := range p.casts {
			args = append(args, p.cols[j].Interface())
		}
		args = append(args, p.k)
	}
	sql, ok := batchStatements.Load(shape.String())
	if !ok {
		sql = b.statement()
		batchStatements.Store(shape.String(), sql)
	}
	rows, err := q.Query(ctx, sql.(string), args...)
	if err != nil {
		return nil, err
	}
	written, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	if len(written) < b.Len() {
		done := make(map[int64]bool, len(written))
		for _, k := range written {
			done[k] = true
		}
		for i := range b.typs {
			if !done[int64(i+1)] {
				existing = append(existing, i)
			}
		}
	}
	return existing, nil
}
