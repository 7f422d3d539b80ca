package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/store"
	"github.com/fhirhub/fhirhub/store/postgres"
	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

// Sizes of the EXPLAIN data set.
const (
	explainPatients      = 2000
	explainObservations  = 2000 // stored through the store ...
	explainObsCopies     = 10   // ... then copied in SQL to 20,000
	explainOrganizations = 20
)

// explainFamilies are the family names of the EXPLAIN data set.
var explainFamilies = func() []string {
	roots := []string{"Adams", "Baker", "Clark", "Dube", "Évora", "Mbeki", "Nkosi", "Okafor", "Zulu", "Müller", "Smith", "Kabila", "Lumumba", "Tshisekedi", "Mobutu"}
	var out []string
	for _, r := range roots {
		for i := range 20 {
			out = append(out, fmt.Sprintf("%s%c%c", r, 'a'+i%26, 'a'+(i*7)%26))
		}
	}
	return out
}()

// explainCodes are the LOINC codes of the EXPLAIN observations.
var explainCodes = func() []string {
	out := []string{"8480-6", "8462-4", "29463-7", "8867-4", "8310-5", "9279-1", "2708-6", "39156-5"}
	for i := range 42 {
		out = append(out, fmt.Sprintf("%d-%d", 10000+i*37, i%10))
	}
	return out
}()

// seedExplain stores patients, organizations and observations through the
// store, multiplies the observations in SQL (copying their index rows,
// which do not depend on the id), and vacuums and analyzes the tables, so
// that the planner sees them as in a settled database: with statistics,
// and with the visibility map that autovacuum keeps, by which index-only
// scans need no table visits and are priced so. Without it every index
// scan looks as dear as its table visits and a 20,000-row table is
// cheaper to read whole, which at a million rows it is not.
func seedExplain(t testing.TB) *postgres.Store {
	t.Helper()
	ctx := context.Background()
	st := pgtest.Store(t)
	rng := rand.New(rand.NewPCG(7, 11))
	var objs []fhir.Object
	for i := range explainOrganizations {
		objs = append(objs, mustParse(t, fmt.Sprintf(`{"resourceType":"Organization","id":"org%d","name":"Clinic %d"}`, i, i)))
	}
	for i := range explainPatients {
		objs = append(objs, mustParse(t, fmt.Sprintf(`{"resourceType":"Patient","id":"p%d","gender":%q,"birthDate":"%d-%02d-%02d",
			"name":[{"family":%q,"given":["G%d"]}],"identifier":[{"system":"http://hosp/mrn","value":"MRN%05d"}],
			"managingOrganization":{"reference":"Organization/org%d"}}`,
			i, []string{"male", "female"}[i%2], 1930+rng.IntN(90), 1+rng.IntN(12), 1+rng.IntN(28),
			explainFamilies[rng.IntN(len(explainFamilies))], i, i, rng.IntN(explainOrganizations))))
	}
	for i := range explainObservations {
		objs = append(objs, mustParse(t, fmt.Sprintf(`{"resourceType":"Observation","id":"o%d","status":"final",
			"code":{"coding":[{"system":"http://loinc.org","code":%q}]},"subject":{"reference":"Patient/p%d"},
			"effectiveDateTime":"20%02d-%02d-%02dT%02d:00:00Z",
			"valueQuantity":{"value":%d,"system":"http://unitsofmeasure.org","code":"mm[Hg]"}}`,
			i, explainCodes[rng.IntN(len(explainCodes))], rng.IntN(explainPatients),
			15+rng.IntN(10), 1+rng.IntN(12), 1+rng.IntN(28), rng.IntN(24), 40+rng.IntN(160))))
	}
	t0 := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for w := range 2 { // two writers: the store's insert path is round-trip bound
		wg.Add(1)
		go func() {
			defer wg.Done()
			for start := w * 250; start < len(objs); start += 500 {
				batch := objs[start:min(start+250, len(objs))]
				errs <- st.Transaction(ctx, func(ctx context.Context, tx store.Tx) error {
					for _, o := range batch {
						if _, err := tx.Create(ctx, o, "POST"); err != nil {
							return err
						}
					}
					return nil
				})
			}
		}()
	}
	go func() { wg.Wait(); close(errs) }()
	for err := range errs {
		require.NoError(t, err)
	}
	t1 := time.Now()
	multiplyObservations(t, st)
	t2 := time.Now()
	settle(t, st)
	t.Logf("seeded %d resources through the store in %v, copies in %v, vacuum and analyze in %v", len(objs), t1.Sub(t0), t2.Sub(t1), time.Since(t2))
	return st
}

// settle vacuums and then analyzes the database, as autovacuum leaves a
// settled one. VACUUM marks a page all-visible only when it can set the
// committed hint bit of every row on it, and it may not while the WAL of
// an asynchronous commit in the row's transaction-status group (32
// transaction ids share one LSN) is not yet flushed. The test server
// commits asynchronously, and ANALYZE commits a transaction per table:
// in one VACUUM ANALYZE, the analyses of the first tables made the rows
// of the later ones, written just before, look not yet durable, and most
// pages stayed not all-visible. So both run in a session that commits
// synchronously, flushing every earlier commit, and VACUUM first.
func settle(t testing.TB, st *postgres.Store) {
	t.Helper()
	ctx := context.Background()
	conn, err := st.Pool().Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	for _, s := range []string{"SET synchronous_commit = on", "VACUUM", "ANALYZE", "RESET synchronous_commit"} {
		_, err := conn.Exec(ctx, s)
		require.NoError(t, err, s)
	}
}

// multiplyObservations adds explainObsCopies-1 copies of every
// Observation, with ids "<id>-<k>", and copies of their index rows. It
// commits synchronously: the test server commits asynchronously, and
// VACUUM cannot mark a page all-visible while the commit of a row on it
// is not yet flushed; a synchronous commit flushes every earlier one too.
func multiplyObservations(t testing.TB, st *postgres.Store) {
	t.Helper()
	ctx := context.Background()
	stmts := []string{
		`SET synchronous_commit = on`,
		`CREATE TEMP TABLE copies AS
		   SELECT r.rid AS old, nextval(pg_get_serial_sequence('resource', 'rid')) AS new, k
		   FROM resource r, generate_series(1, ` + fmt.Sprint(explainObsCopies-1) + `) k WHERE r.type = 'Observation'`,
		`INSERT INTO resource (rid, type, id, version, last_updated, deleted, content) OVERRIDING SYSTEM VALUE
		   SELECT c.new, r.type, r.id || '-' || c.k, r.version, r.last_updated, r.deleted, r.content
		   FROM copies c JOIN resource r ON r.rid = c.old`,
	}
	for _, table := range []string{"idx_string", "idx_token", "idx_date", "idx_number", "idx_quantity", "idx_reference", "idx_uri", "idx_composite"} {
		stmts = append(stmts, fmt.Sprintf(`DO $$ DECLARE cols text; BEGIN
			SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) INTO cols
			FROM information_schema.columns WHERE table_name = '%[1]s' AND column_name <> 'rid';
			EXECUTE format('INSERT INTO %[1]s (rid, %%s) SELECT c.new, %%s FROM copies c JOIN %[1]s x ON x.rid = c.old', cols, cols);
			END $$`, table))
	}
	stmts = append(stmts, "DROP TABLE copies", "RESET synchronous_commit")
	conn, err := st.Pool().Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	for _, s := range stmts {
		_, err := conn.Exec(ctx, s)
		require.NoError(t, err, s)
	}
}

// TestSearchExplain seeds 20,000 observations and 2,000 patients and
// checks that no statement of representative searches scans the resource
// table sequentially (DESIGN.md: every search is answered from indexes).
func TestSearchExplain(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 22,000 resources")
	}
	st := seedExplain(t)
	ctx := context.Background()
	var n int
	require.NoError(t, st.Pool().QueryRow(ctx, "SELECT count(*) FROM resource WHERE type = 'Observation'").Scan(&n))
	require.Equal(t, explainObservations*explainObsCopies, n)

	searches := []struct{ typ, query string }{
		{"Observation", "code=http://loinc.org|8480-6"},
		{"Observation", "code=8867-4&_total=accurate"},
		{"Patient", "name=mbeki"},
		{"Patient", "family:exact=Okaforcv"},
		{"Patient", "name:contains=bek"},
		{"Patient", "identifier=http://hosp/mrn|MRN00042"},
		{"Patient", "birthdate=1950"},
		{"Observation", "date=ge2020-01-01&date=lt2020-02-01"},
		{"Observation", "date=2019-03-05"},
		{"Observation", "subject=Patient/p42"},
		{"Observation", "patient=p42&_sort=-date"},
		{"Observation", "subject:Patient.name=zulu"},
		{"Observation", "patient.organization.name=clinic 7"},
		{"Observation", "subject=Patient/p42&_include=Observation:subject"},
		{"Patient", "_id=p42&_revinclude=Observation:subject"},
		{"Patient", "_has:Observation:patient:code=39156-5&gender=female"},
		{"Observation", "code-value-quantity=http://loinc.org|8480-6$gt190"},
		{"Observation", "value-quantity=gt199|http://unitsofmeasure.org|mm[Hg]"},
		{"Patient", "name=smith&_sort=birthdate&_count=5"},
		{"Observation", "_lastUpdated=ge2000-01-01&_id=o5,o6-3"},
		{"Observation", "code=2708-6&_sort=_lastUpdated&_count=5"},
	}
	for _, s := range searches {
		t.Run(s.typ+"?"+s.query, func(t *testing.T) {
			stmts, res, err := st.SearchStatements(ctx, parse(t, s.typ, s.query))
			require.NoError(t, err)
			require.NotEmpty(t, stmts)
			for _, stmt := range stmts {
				root, plan := explain(t, st, stmt)
				scans := root.scans(nil)
				t.Logf("%d matches; cost %.0f; %s", len(res.Matches), root.TotalCost, strings.Join(scans, ", "))
				for _, sc := range scans {
					assert.NotEqual(t, "Seq Scan on resource", sc, "statement:\n%s\nplan:\n%s", stmt.SQL, plan)
				}
			}
		})
	}

	// A transaction's identifier look-up (ResolveIdentifiers) is an index
	// lookup per value, never a read of idx_token: in the generic plan
	// that a connection keeps for it, here and on an empty store (where a
	// sequential scan would be cheapest, and then kept as the tables grow).
	t.Run("resolve identifiers", func(t *testing.T) { checkResolvePlan(t, st) })
	t.Run("resolve identifiers planned on an empty store", func(t *testing.T) { checkResolvePlan(t, pgtest.Store(t)) })

	// A token code held by many resources (a sixth of a million
	// Observations in the benchmark) is answered by walking its covering
	// index in rid order up to the page's end, and the bounded count up to
	// its bound: an index-only scan, no read of the resource table but for
	// the page's rows, and no node that reads every match first (a sort, a
	// hash, a bitmap).
	for _, s := range []struct{ query, index string }{
		{"code=http://loinc.org|8480-6", "idx_token_code"},
		{"code=8867-4", "idx_token_code"},
	} {
		t.Run("walk/Observation?"+s.query, func(t *testing.T) {
			stmts, res, err := st.SearchStatements(ctx, parse(t, "Observation", s.query))
			require.NoError(t, err)
			require.Len(t, res.Matches, 20)
			require.Len(t, stmts, 2, "the page and the count")
			for i, stmt := range stmts {
				root, plan := explain(t, st, stmt)
				scans := root.scans(nil)
				if i == 0 {
					assert.Equal(t, []string{"Index Only Scan using " + s.index, "Index Scan using resource_pkey"}, scans, "plan:\n%s", plan)
				} else {
					assert.Equal(t, []string{"Index Only Scan using " + s.index}, scans, "plan:\n%s", plan)
				}
				for _, n := range root.nodeTypes(nil) {
					assert.NotContains(t, []string{"Sort", "Incremental Sort", "Hash", "HashAggregate", "Bitmap Heap Scan"}, n, "plan:\n%s", plan)
				}
			}
		})
	}
}

// checkResolvePlan checks the generic plan of ResolveIdentifiers'
// statement, made with the settings it runs with.
func checkResolvePlan(t *testing.T, st *postgres.Store) {
	ctx := context.Background()
	stmts, err := st.ResolveStatements(ctx, []string{"Patient", "Patient"}, []string{"http://hosp/mrn", "http://hosp/mrn"},
		[]string{"MRN00042", "MRN-none"})
	require.NoError(t, err)
	require.Len(t, stmts, 3, "settings, the look-up, settings back")
	root, plan := explainGeneric(t, st, stmts[0], stmts[1])
	for _, sc := range root.scans(nil) {
		assert.NotContains(t, []string{"Seq Scan on idx_token", "Seq Scan on resource"}, sc, "plan:\n%s", plan)
	}
	assert.Contains(t, root.scans(nil), "Index Only Scan using idx_token_code", "plan:\n%s", plan)
}

// explainGeneric returns the generic plan of stmt (as a prepared
// statement keeps it) after running setup in the same transaction.
func explainGeneric(t *testing.T, st *postgres.Store, setup, stmt postgres.Statement) (planNode, []byte) {
	t.Helper()
	ctx := context.Background()
	tx, err := st.Pool().Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	_, err = tx.Exec(ctx, setup.SQL, setup.Args...)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, "SET LOCAL plan_cache_mode = force_generic_plan")
	require.NoError(t, err)
	_, err = tx.Exec(ctx, "PREPARE resolve_plan AS "+stmt.SQL)
	require.NoError(t, err)
	// EXECUTE takes no bound parameters: the values go in as literals.
	params := make([]string, len(stmt.Args))
	for i, a := range stmt.Args {
		params[i] = sqlLiteral(t, a)
	}
	var plan []byte
	require.NoError(t, tx.QueryRow(ctx, "EXPLAIN (FORMAT JSON) EXECUTE resolve_plan("+strings.Join(params, ", ")+")").Scan(&plan))
	return parsePlan(t, plan), plan
}

// sqlLiteral writes v (an int, or a slice of int64 or string) as SQL.
func sqlLiteral(t *testing.T, v any) string {
	quote := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	switch x := v.(type) {
	case int:
		return fmt.Sprint(x)
	case []int64:
		parts := make([]string, len(x))
		for i, n := range x {
			parts[i] = fmt.Sprint(n)
		}
		return "ARRAY[" + strings.Join(parts, ",") + "]::bigint[]"
	case []string:
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = quote(s)
		}
		return "ARRAY[" + strings.Join(parts, ",") + "]::text[]"
	}
	t.Fatalf("sqlLiteral: %T", v)
	return ""
}

// explain returns the plan of stmt, parsed and as EXPLAIN's JSON.
func explain(t *testing.T, st *postgres.Store, stmt postgres.Statement) (planNode, []byte) {
	t.Helper()
	var plan []byte
	require.NoError(t, st.Pool().QueryRow(context.Background(), "EXPLAIN (FORMAT JSON) "+stmt.SQL, stmt.Args...).Scan(&plan))
	return parsePlan(t, plan), plan
}

// parsePlan returns the root of EXPLAIN (FORMAT JSON) output.
func parsePlan(t *testing.T, plan []byte) planNode {
	t.Helper()
	var root []struct {
		Plan planNode `json:"Plan"`
	}
	require.NoError(t, json.Unmarshal(plan, &root))
	return root[0].Plan
}

// nodeTypes lists the node types of the plan.
func (p planNode) nodeTypes(out []string) []string {
	out = append(out, p.NodeType)
	for _, c := range p.Plans {
		out = c.nodeTypes(out)
	}
	return out
}

// planNode is a node of EXPLAIN (FORMAT JSON).
type planNode struct {
	NodeType  string     `json:"Node Type"`
	Relation  string     `json:"Relation Name"`
	Index     string     `json:"Index Name"`
	TotalCost float64    `json:"Total Cost"`
	Plans     []planNode `json:"Plans"`
}

// scans lists the scan nodes of the plan, as "Seq Scan on resource" or
// "Index Scan using idx on table".
func (p planNode) scans(out []string) []string {
	switch {
	case p.Index != "":
		out = append(out, p.NodeType+" using "+p.Index)
	case p.Relation != "":
		out = append(out, p.NodeType+" on "+p.Relation)
	}
	for _, c := range p.Plans {
		out = c.scans(out)
	}
	return out
}
