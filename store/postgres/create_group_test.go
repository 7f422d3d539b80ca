package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/store"
	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

// TestConcurrentCreatesGrouped runs many single creates at once, which the
// store writes in groups (createGroup): each succeeds or fails on its own.
// Creates of new ids are all stored with their index rows; a create of an
// existing id gets ErrVersionConflict; a create that PostgreSQL refuses (a
// NUL character in an indexed string) fails alone.
func TestConcurrentCreatesGrouped(t *testing.T) {
	ctx := context.Background()
	st := pgtest.Store(t)
	_, err := st.Create(ctx, mustParse(t, `{"resourceType":"Patient","id":"exists"}`))
	require.NoError(t, err)

	const workers, each = 32, 20
	type outcome struct {
		id  string
		err error
	}
	out := make(chan outcome, workers*each)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				id, family := fmt.Sprintf("w%d-%d", w, i), fmt.Sprintf("Family%d", w)
				switch {
				case w == 3 && i == 7:
					id = "exists"
				case w == 5 && i == 11:
					family = `Bad\u0000Name` // a JSON escape of NUL
				}
				_, err := st.Create(ctx, mustParse(t, fmt.Sprintf(`{"resourceType":"Patient","id":%q,"name":[{"family":"%s"}]}`, id, family)))
				out <- outcome{id, err}
			}
		}()
	}
	wg.Wait()
	close(out)
	stored := 0
	for o := range out {
		switch o.id {
		case "exists":
			assert.ErrorIs(t, o.err, store.ErrVersionConflict)
		case "w5-11":
			assert.Error(t, o.err, "PostgreSQL refuses a NUL character")
		default:
			if assert.NoError(t, o.err, o.id) {
				stored++
			}
		}
	}
	assert.Equal(t, workers*each-2, stored)

	res, err := st.Search(ctx, parse(t, "Patient", "_total=accurate&_count=1"))
	require.NoError(t, err)
	assert.EqualValues(t, workers*each-1, res.Total, "the refused create wrote nothing")
	for _, w := range []int{0, 5, 31} {
		res, err := st.Search(ctx, parse(t, "Patient", fmt.Sprintf("family:exact=Family%d&_total=accurate", w)))
		require.NoError(t, err)
		want := each
		if w == 5 {
			want--
		}
		assert.EqualValues(t, want, res.Total, "Family%d", w)
	}
	_, err = st.Read(ctx, "Patient", "w5-11")
	assert.ErrorIs(t, err, store.ErrNotFound)
}
