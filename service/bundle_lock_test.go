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
	"github.com/fhirhub/fhirhub/fhir/search"
	"github.com/fhirhub/fhirhub/fhir/validate"
	"github.com/fhirhub/fhirhub/service"
	"github.com/fhirhub/fhirhub/store/postgres"
	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// Transactions that conditionally create the same resources in opposite
// orders (two HL7 messages naming the same two practitioners) must wait
// for each other, not deadlock, and create each resource once.
func TestTransactionsSharingCriteriaDoNotDeadlock(t *testing.T) {
	ctx := context.Background()
	reg := search.NewRegistry()
	st := pgtest.StoreWith(t, postgres.Config{Extractor: reg})
	svc, err := service.New(service.Config{Store: st, Validator: validate.New(), Registry: reg, BaseURL: "http://localhost/fhir"})
	require.NoError(t, err)

	practitioner := func(id string) fhir.Object {
		return fhir.Object{"fullUrl": "urn:uuid:" + id, "resource": fhir.Object{"resourceType": "Practitioner",
			"identifier": []any{fhir.Object{"system": "urn:staff", "value": id}}},
			"request": fhir.Object{"method": "POST", "url": "Practitioner", "ifNoneExist": "identifier=urn:staff|" + id}}
	}
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		a, b := "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
		if i%2 == 1 {
			a, b = b, a
		}
		bundle := fhir.Object{"resourceType": "Bundle", "type": "transaction", "entry": []any{practitioner(a), practitioner(b),
			fhir.Object{"resource": fhir.Object{"resourceType": "Observation", "status": "final", "code": fhir.Object{"text": fmt.Sprint(i)},
				"performer": []any{fhir.Object{"reference": "urn:uuid:" + a}, fhir.Object{"reference": "urn:uuid:" + b}}},
				"request": fhir.Object{"method": "POST", "url": "Observation"}}}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := svc.Bundle(ctx, bundle, service.BundleOptions{})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	res, _, _, err := svc.Search(ctx, "Practitioner", url.Values{"_total": {"accurate"}})
	require.NoError(t, err)
	assert.EqualValues(t, 2, res.Total, "each practitioner created once")
}
