package postgres_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/store"
	"github.com/fhirhub/fhirhub/store/postgres"
	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

// TestSearchSort checks _sort orders (R4 search.html#sort): string, date
// (descending on the latest instant), token, reference, quantity, _id and
// _lastUpdated, several keys, and resources without the value last.
func TestSearchSort(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name, typ, query string
		want             []string
	}{
		{"default is creation order", "Patient", "", []string{"p1", "p2", "p3", "p4", "p5"}},
		{"string", "Patient", "_sort=family", []string{"p5", "p1", "p2", "p3", "p4"}},
		{"string descending", "Patient", "_sort=-family", []string{"p4", "p3", "p1", "p2", "p5"}},
		{"date descending", "Patient", "_sort=-birthdate", []string{"p5", "p4", "p2", "p1", "p3"}},
		{"date ascending", "Patient", "_sort=birthdate", []string{"p3", "p2", "p1", "p4", "p5"}},
		{"token then date", "Patient", "_sort=gender,-birthdate", []string{"p2", "p3", "p4", "p1", "p5"}},
		{"reference, missing last", "Patient", "_sort=organization", []string{"p1", "p3", "p2", "p4", "p5"}},
		{"missing last descending", "Patient", "_sort=-organization", []string{"p2", "p1", "p3", "p4", "p5"}},
		{"_id descending", "Patient", "_sort=-_id", []string{"p5", "p4", "p3", "p2", "p1"}},
		{"_lastUpdated descending", "Patient", "_sort=-_lastUpdated", []string{"p5", "p4", "p3", "p2", "p1"}},
		{"quantity", "Observation", "_sort=value-quantity", []string{"o5", "o3", "o2", "o1", "o4", "o6", "o7"}},
		{"number", "RiskAssessment", "_sort=-probability,_id", []string{"ra1", "ra3", "ra2", "ra4"}},
		{"sort with filter", "Observation", "code=8480-6&_sort=-date", []string{"o4", "o2", "o1", "o6"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := f.run(t, tc.typ, tc.query)
			assert.Equal(t, tc.want, ids(tc.typ, res.Matches))
		})
	}
}

// TestSearchPagesBackAndForth pages forwards with Next and back with Prev
// through sorted and unsorted results.
func TestSearchPagesBackAndForth(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, sort := range []string{"", "_sort=family", "_sort=-birthdate,gender"} {
		t.Run(sort, func(t *testing.T) {
			all := ids("Patient", f.run(t, "Patient", sort).Matches)
			require.Len(t, all, 5)
			q := parse(t, "Patient", sort+"&_count=2")
			var pages [][]string
			var res *store.SearchResult
			for {
				var err error
				res, err = f.st.Search(ctx, q)
				require.NoError(t, err)
				pages = append(pages, ids("Patient", res.Matches))
				assert.Equal(t, int64(5), res.Total)
				if res.Next == "" {
					break
				}
				require.Less(t, len(pages), 10, "paging does not end")
				q.Cursor = res.Next
			}
			assert.Equal(t, [][]string{all[0:2], all[2:4], all[4:5]}, pages)
			// Back from the last page.
			q.Cursor = res.Prev
			res, err := f.st.Search(ctx, q)
			require.NoError(t, err)
			assert.Equal(t, all[2:4], ids("Patient", res.Matches))
			q.Cursor = res.Prev
			res, err = f.st.Search(ctx, q)
			require.NoError(t, err)
			assert.Equal(t, all[0:2], ids("Patient", res.Matches))
			assert.Empty(t, res.Prev, "no page before the first")
			require.NotEmpty(t, res.Next)
			q.Cursor = res.Next
			res, err = f.st.Search(ctx, q)
			require.NoError(t, err)
			assert.Equal(t, all[2:4], ids("Patient", res.Matches))
		})
	}
}

// TestSearchPagingConcurrentWrites pages through 60 patients, sorted and
// unsorted, while other patients are created, updated and deleted between
// pages: every patient that existed before and was not touched must be
// returned exactly once, and no patient twice unless it was updated.
func TestSearchPagingConcurrentWrites(t *testing.T) {
	ctx := context.Background()
	for _, query := range []string{"_count=7", "_count=7&_sort=family,-birthdate", "_count=7&_sort=-_lastUpdated", "_count=5&_sort=-gender,name"} {
		t.Run(query, func(t *testing.T) {
			st := pgtest.StoreWith(t, postgres.Config{Now: newClock()})
			rng := rand.New(rand.NewPCG(1, 2))
			families := []string{"Adams", "Baker", "Clark", "Dube", "Évora", "Mbeki", "Nkosi", "Okafor", "Zulu"}
			newPatient := func(id string) fhir.Object {
				return mustParse(t, fmt.Sprintf(`{"resourceType":"Patient","id":%q,"gender":%q,"birthDate":"19%02d-0%d-1%d","name":[{"family":%q}]}`,
					id, []string{"male", "female"}[rng.IntN(2)], rng.IntN(100), 1+rng.IntN(9), rng.IntN(10), families[rng.IntN(len(families))]))
			}
			for i := range 60 {
				createAll(t, st, newPatient(fmt.Sprintf("old%02d", i)))
			}
			touched := map[string]bool{}
			seen := map[string]int{}
			q := parse(t, "Patient", query)
			for page := 0; ; page++ {
				require.Less(t, page, 40, "paging does not end")
				res, err := st.Search(ctx, q)
				require.NoError(t, err)
				for _, r := range res.Matches {
					seen[r.ID]++
				}
				if res.Next == "" {
					break
				}
				q.Cursor = res.Next
				// Writes between pages: two creates, one update, one delete.
				createAll(t, st, newPatient(fmt.Sprintf("new%02da", page)), newPatient(fmt.Sprintf("new%02db", page)))
				upd, del := fmt.Sprintf("old%02d", rng.IntN(60)), fmt.Sprintf("old%02d", rng.IntN(60))
				touched[upd], touched[del] = true, true
				require.NoError(t, st.Transaction(ctx, func(ctx context.Context, tx store.Tx) error {
					if _, _, err := tx.Put(ctx, newPatient(upd), 0, "PUT"); err != nil {
						return err
					}
					_, err := tx.Delete(ctx, "Patient", del, 0)
					if err != nil && !isGone(err) {
						return err
					}
					return nil
				}))
			}
			// Untouched patients exactly once; a new one at most once; an
			// updated one may move past the position and show up again.
			for i := range 60 {
				id := fmt.Sprintf("old%02d", i)
				if !touched[id] {
					assert.Equal(t, 1, seen[id], "patient %s", id)
				}
			}
			for id, n := range seen {
				if !touched[id] {
					assert.Equal(t, 1, n, "patient %s returned %d times", id, n)
				}
			}
		})
	}
}

func isGone(err error) bool {
	return err != nil && (errors.Is(err, store.ErrDeleted) || errors.Is(err, store.ErrNotFound))
}

func createAll(tb testing.TB, st *postgres.Store, objs ...fhir.Object) {
	tb.Helper()
	require.NoError(tb, st.Transaction(context.Background(), func(ctx context.Context, tx store.Tx) error {
		for _, o := range objs {
			if _, err := tx.Create(ctx, o, "POST"); err != nil {
				return err
			}
		}
		return nil
	}))
}

// TestSearchTotal checks _total (search.html#total) and _count=0.
func TestSearchTotal(t *testing.T) {
	f := newFixture(t)
	res := f.run(t, "Patient", "name=smith&_count=1")
	assert.Equal(t, int64(2), res.Total)
	assert.False(t, res.Estimated)
	assert.Len(t, res.Matches, 1)

	res = f.run(t, "Patient", "name=smith&_count=1&_total=accurate")
	assert.Equal(t, int64(2), res.Total)

	res = f.run(t, "Patient", "name=smith&_total=none")
	assert.Equal(t, int64(-1), res.Total)
	assert.Len(t, res.Matches, 2)

	res = f.run(t, "Patient", "_total=estimate&_count=1")
	assert.True(t, res.Estimated)
	assert.GreaterOrEqual(t, res.Total, int64(1))

	res = f.run(t, "Patient", "gender=female&_count=0")
	assert.Empty(t, res.Matches)
	assert.Equal(t, int64(2), res.Total)

	res = f.run(t, "Patient", "_summary=count")
	assert.Empty(t, res.Matches)
	assert.Equal(t, int64(5), res.Total)
}

// TestSearchCursorErrors checks that a cursor is refused when it is not
// one, or was made for another sort.
func TestSearchCursorErrors(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	q := parse(t, "Patient", "_count=1&_sort=family")
	res, err := f.st.Search(ctx, q)
	require.NoError(t, err)
	require.NotEmpty(t, res.Next)
	// The same cursor with a date where the sort key is a string.
	data, err := base64.RawURLEncoding.DecodeString(res.Next)
	require.NoError(t, err)
	var c map[string]any
	require.NoError(t, json.Unmarshal(data, &c))
	c["k"] = []any{map[string]any{"t": "2020-01-01T00:00:00Z"}}
	data, err = json.Marshal(c)
	require.NoError(t, err)
	retyped := base64.RawURLEncoding.EncodeToString(data)
	for name, tc := range map[string]struct {
		query, cursor string
	}{
		"garbage":      {"_count=1&_sort=family", "not-a-cursor"},
		"wrong type":   {"_count=1&_sort=family", retyped},
		"another sort": {"_count=1&_sort=-family", res.Next},
		"no sort":      {"_count=1", res.Next},
	} {
		t.Run(name, func(t *testing.T) {
			q := parse(t, "Patient", tc.query)
			q.Cursor = tc.cursor
			_, err := f.st.Search(ctx, q)
			assert.Equal(t, fhir.IssueInvalid, fhir.ErrorCode(err))
		})
	}
}

// TestSearchCountBounds checks that _count is bounded by MaxCount.
func TestSearchCountBounds(t *testing.T) {
	st := pgtest.StoreWith(t, postgres.Config{MaxCount: 3, DefaultCount: 2})
	for i := range 5 {
		createAll(t, st, mustParse(t, fmt.Sprintf(`{"resourceType":"Patient","id":"x%d"}`, i)))
	}
	ctx := context.Background()
	res, err := st.Search(ctx, parse(t, "Patient", "_count=100"))
	require.NoError(t, err)
	assert.Len(t, res.Matches, 3)
	res, err = st.Search(ctx, parse(t, "Patient", ""))
	require.NoError(t, err)
	assert.Len(t, res.Matches, 2)
	assert.Equal(t, int64(5), res.Total)
}
