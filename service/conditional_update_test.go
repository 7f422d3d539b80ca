package service_test

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/store"
)

// TestConcurrentConditionalUpdatesCreateOnce runs conditional updates
// with one criteria, none matching at first, at the same time: exactly one
// creates the resource (version 1, recorded as made by PUT, 201), and the
// others update it or find nothing to change.
func TestConcurrentConditionalUpdatesCreateOnce(t *testing.T) {
	ctx := context.Background()
	svc := newService(t)
	const n = 20
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			obj, err := fhir.ParseObject([]byte(fmt.Sprintf(`{"resourceType":"Patient",
				"identifier":[{"system":"urn:mrn","value":"M-1"}],"gender":%q}`, []string{"male", "female"}[i%2])))
			require.NoError(t, err)
			res, err := svc.ConditionalUpdate(ctx, "Patient", "identifier=urn:mrn|M-1", obj, 0)
			if assert.NoError(t, err) {
				statuses <- res.Status
			}
		}()
	}
	wg.Wait()
	close(statuses)
	created := 0
	for s := range statuses {
		if s == 201 {
			created++
		}
	}
	assert.Equal(t, 1, created, "one conditional update creates")

	res, _, _, err := svc.Search(ctx, "Patient", url.Values{"identifier": {"urn:mrn|M-1"}, "_total": {"accurate"}})
	require.NoError(t, err)
	require.EqualValues(t, 1, res.Total, "one resource")
	page, err := svc.History(ctx, store.HistoryQuery{Type: "Patient", ID: res.Matches[0].ID, Count: 100})
	require.NoError(t, err)
	first := page.Versions[len(page.Versions)-1]
	assert.EqualValues(t, 1, first.Version)
	assert.Equal(t, "PUT", first.Method, "version 1 was made by the conditional update")
}
