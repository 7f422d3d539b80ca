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

// TestTransactionCreatesGathered checks what a transaction's gathered
// creates (insertBatch) must keep: every resource, its history row, its
// change event in creation order and its index rows are written, across
// several statements when there are many; a search in the transaction
// sees the creates made before it; a create of an id that exists fails
// the transaction and writes nothing of it; a second create of one id in
// one transaction fails at once.
func TestTransactionCreatesGathered(t *testing.T) {
	ctx := context.Background()
	st := pgtest.Store(t)
	const n = 601 // more than two statements' worth
	obs := func(i int) fhir.Object {
		return mustParse(t, fmt.Sprintf(`{"resourceType":"Observation","id":"o%d","status":"final",
			"code":{"coding":[{"system":"http://loinc.org","code":"c%d"}]},"subject":{"reference":"Patient/p%d"},
			"effectiveDateTime":"2020-01-%02dT10:00:00Z","valueQuantity":{"value":%d,"system":"http://unitsofmeasure.org","code":"mg"}}`,
			i, i%7, i%3, 1+i%28, i))
	}

	var seenInTx int
	require.NoError(t, st.Transaction(ctx, func(ctx context.Context, tx store.Tx) error {
		for i := range 3 {
			if _, err := tx.Create(ctx, mustParse(t, fmt.Sprintf(`{"resourceType":"Patient","id":"p%d","name":[{"family":"Fam%d"}]}`, i, i)), "POST"); err != nil {
				return err
			}
		}
		for i := range n {
			r, err := tx.Create(ctx, obs(i), "POST")
			if err != nil {
				return err
			}
			assert.EqualValues(t, 1, r.Version)
		}
		res, err := tx.Search(ctx, parse(t, "Observation", "code=http://loinc.org|c3&_total=accurate"))
		if err != nil {
			return err
		}
		seenInTx = int(res.Total)
		return nil
	}))
	wantC3 := 0
	for i := range n {
		if i%7 == 3 {
			wantC3++
		}
	}
	assert.Equal(t, wantC3, seenInTx, "a search in the transaction sees its creates")

	for _, q := range []struct {
		typ, query string
		want       int
	}{
		{"Observation", "code=http://loinc.org|c3&_total=accurate", wantC3},
		{"Observation", "subject=Patient/p1&_total=accurate", n / 3},
		{"Observation", "date=2020-01-05&_total=accurate", 22},
		{"Observation", "value-quantity=lt10|http://unitsofmeasure.org|mg&_total=accurate", 10},
		{"Observation", "code-value-quantity=http://loinc.org|c0$lt14&_total=accurate", 2},
		{"Patient", "name=fam2&_total=accurate", 1},
	} {
		res, err := st.Search(ctx, parse(t, q.typ, q.query))
		require.NoError(t, err)
		assert.EqualValues(t, q.want, res.Total, "%s?%s", q.typ, q.query)
	}
	r, err := st.VRead(ctx, "Observation", "o600", 1)
	require.NoError(t, err)
	assert.Contains(t, string(r.Content), `"versionId":"1"`)

	var events []string
	rows, err := st.Pool().Query(ctx, "SELECT type || '/' || id FROM outbox WHERE operation = 'create' ORDER BY seq")
	require.NoError(t, err)
	for rows.Next() {
		var ref string
		require.NoError(t, rows.Scan(&ref))
		events = append(events, ref)
	}
	require.NoError(t, rows.Err())
	require.Len(t, events, n+3)
	assert.Equal(t, []string{"Patient/p0", "Patient/p1", "Patient/p2", "Observation/o0"}, events[:4])
	assert.Equal(t, "Observation/o600", events[n+2], "change events in creation order")

	t.Run("existing id", func(t *testing.T) {
		err := st.Transaction(ctx, func(ctx context.Context, tx store.Tx) error {
			if _, err := tx.Create(ctx, mustParse(t, `{"resourceType":"Patient","id":"new1"}`), "POST"); err != nil {
				return err
			}
			_, err := tx.Create(ctx, obs(5), "POST") // o5 exists
			return err
		})
		require.ErrorIs(t, err, store.ErrVersionConflict)
		assert.Contains(t, err.Error(), "Observation/o5")
		_, err = st.Read(ctx, "Patient", "new1")
		assert.ErrorIs(t, err, store.ErrNotFound, "nothing of the failed transaction is written")
		r, err := st.Read(ctx, "Observation", "o5")
		require.NoError(t, err)
		assert.EqualValues(t, 1, r.Version)
	})

	t.Run("existing id, reported by a later read", func(t *testing.T) {
		err := st.Transaction(ctx, func(ctx context.Context, tx store.Tx) error {
			if _, err := tx.Create(ctx, obs(6), "POST"); err != nil { // o6 exists
				return err
			}
			_, err := tx.Read(ctx, "Observation", "o6")
			require.ErrorIs(t, err, store.ErrVersionConflict, "the read writes the gathered creates first")
			_, again := tx.Read(ctx, "Patient", "p0")
			assert.Equal(t, err, again, "every later call fails the same way")
			return err
		})
		require.ErrorIs(t, err, store.ErrVersionConflict)
	})

	t.Run("same id twice", func(t *testing.T) {
		err := st.Transaction(ctx, func(ctx context.Context, tx store.Tx) error {
			if _, err := tx.Create(ctx, mustParse(t, `{"resourceType":"Patient","id":"twice"}`), "POST"); err != nil {
				return err
			}
			_, err := tx.Create(ctx, mustParse(t, `{"resourceType":"Patient","id":"twice"}`), "POST")
			assert.ErrorIs(t, err, store.ErrVersionConflict, "reported by the second Create")
			return err
		})
		require.ErrorIs(t, err, store.ErrVersionConflict)
		_, err = st.Read(ctx, "Patient", "twice")
		assert.ErrorIs(t, err, store.ErrNotFound)
	})
}
