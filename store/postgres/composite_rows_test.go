package postgres_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/store"
	"github.com/fhirhub/fhirhub/store/postgres"
	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

// TestCompositeWithoutSystem: a composite whose first component is a code
// without a system is one row (the row for "any system" is the same key),
// and is found by a search that names no system and not by one that
// names a system.
func TestCompositeWithoutSystem(t *testing.T) {
	ctx := context.Background()
	st := pgtest.StoreWith(t, postgres.Config{})
	f := &fixture{st: st}
	obs := mustParse(t, `{"resourceType":"Observation","id":"local","status":"final",
		"code":{"coding":[{"code":"GLU"}]},
		"valueQuantity":{"value":7.2,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}}`)
	require.NoError(t, st.Transaction(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.Create(ctx, obs, "PUT")
		return err
	}))

	var rows, keys int
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT count(*), count(DISTINCT (param, h_first)) FROM idx_composite
		WHERE rid = (SELECT rid FROM resource WHERE type = 'Observation' AND id = 'local')`).Scan(&rows, &keys))
	assert.Equal(t, keys, rows, "no composite row is written twice")
	assert.Equal(t, 1, rows, "code-value-quantity's; combo-code-value-quantity is answered from it (search.Storage)")

	for _, c := range []struct {
		query string
		want  []string
	}{
		{"code-value-quantity=GLU$gt7", []string{"local"}},
		{"combo-code-value-quantity=GLU$7.2", []string{"local"}},
		{"code-value-quantity=GLU$lt7", nil},
		{"code-value-quantity=http://loinc.org|GLU$gt7", nil},
	} {
		assert.Equal(t, c.want, sorted(ids("Observation", f.run(t, "Observation", c.query).Matches)), c.query)
	}
}
