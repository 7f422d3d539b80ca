package postgres_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/store"
	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

// TestSearchMatchesCurrentVersions checks what a search answered from an
// index table alone relies on (matches in search.go): a resource matches
// through the index rows of its current version only, not after it is
// deleted, and again once it is recreated; index rows of another resource
// type with the same value never match; and a resource with several
// matching index rows (one code in two systems) is one match, in the page
// and in every total.
func TestSearchMatchesCurrentVersions(t *testing.T) {
	ctx := context.Background()
	st := pgtest.Store(t)
	obs := func(id, code string) fhir.Object {
		return mustParse(t, fmt.Sprintf(`{"resourceType":"Observation","id":%q,"status":"final",
			"code":{"coding":[{"system":"http://loinc.org","code":%q},{"system":"urn:local","code":%q}]},
			"identifier":[{"system":"urn:shared","value":"v1"}]}`, id, code, code))
	}
	createAll(t, st, obs("a", "1111-1"), obs("b", "1111-1"),
		mustParse(t, `{"resourceType":"Patient","id":"p","identifier":[{"system":"urn:shared","value":"v1"}]}`))
	write := func(fn func(ctx context.Context, tx store.Tx) error) {
		t.Helper()
		require.NoError(t, st.Transaction(ctx, fn))
	}
	check := func(query string, want ...string) {
		t.Helper()
		for _, total := range []string{"", "&_total=accurate", "&_count=1", "&_count=1&_total=accurate"} {
			res, err := st.Search(ctx, parse(t, "Observation", query+total))
			require.NoError(t, err)
			if total == "" || total == "&_total=accurate" {
				assert.Equal(t, sorted(want), sorted(ids("Observation", res.Matches)), "%s%s", query, total)
			}
			assert.EqualValues(t, len(want), res.Total, "%s%s", query, total)
		}
	}

	check("code=http://loinc.org|1111-1", "a", "b")
	check("code=1111-1", "a", "b")
	check("code=http://loinc.org|1111-1,urn:local|1111-1", "a", "b")
	check("identifier=urn:shared|v1", "a", "b")

	write(func(ctx context.Context, tx store.Tx) error {
		_, _, err := tx.Put(ctx, obs("a", "2222-2"), 0, "PUT")
		return err
	})
	check("code=http://loinc.org|1111-1", "b")
	check("code=http://loinc.org|2222-2", "a")

	write(func(ctx context.Context, tx store.Tx) error {
		_, err := tx.Delete(ctx, "Observation", "b", 0)
		return err
	})
	check("code=http://loinc.org|1111-1")
	check("code=1111-1")
	check("identifier=urn:shared|v1", "a")

	write(func(ctx context.Context, tx store.Tx) error {
		_, _, err := tx.Put(ctx, obs("b", "1111-1"), 0, "PUT")
		return err
	})
	check("code=http://loinc.org|1111-1", "b")
	check("code=http://loinc.org|1111-1,http://loinc.org|2222-2", "a", "b")
}
