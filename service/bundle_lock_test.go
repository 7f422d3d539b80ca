package service_test

import (
	"context"
	"encoding/base64"
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
	svc := newService(t)
	practitioner := func(id string) fhir.Object {
		return fhir.Object{"fullUrl": "urn:uuid:" + id, "resource": fhir.Object{"resourceType": "Practitioner",
			"identifier": []any{fhir.Object{"system": "urn:staff", "value": id}}},
			"request": fhir.Object{"method": "POST", "url": "Practitioner", "ifNoneExist": "identifier=urn:staff|" + id}}
	}
	runConcurrently(t, 20, func(i int) fhir.Object {
		a, b := "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"
		if i%2 == 1 {
			a, b = b, a
		}
		return fhir.Object{"resourceType": "Bundle", "type": "transaction", "entry": []any{practitioner(a), practitioner(b),
			fhir.Object{"resource": fhir.Object{"resourceType": "Observation", "status": "final", "code": fhir.Object{"text": fmt.Sprint(i)},
				"performer": []any{fhir.Object{"reference": "urn:uuid:" + a}, fhir.Object{"reference": "urn:uuid:" + b}}},
				"request": fhir.Object{"method": "POST", "url": "Observation"}}}}
	}, svc)
	res, _, _, err := svc.Search(context.Background(), "Practitioner", url.Values{"_total": {"accurate"}})
	require.NoError(t, err)
	assert.EqualValues(t, 2, res.Total, "each practitioner created once")
}

// Criteria that differ but can match the same resource (a patient known by
// its own number and a shared national id, in concurrent messages) must
// not both create: the patient is created once and the other transactions
// find it.
func TestTransactionsWithOverlappingCriteriaCreateOnce(t *testing.T) {
	svc := newService(t)
	runConcurrently(t, 16, func(i int) fhir.Object {
		own := fmt.Sprintf("MRN-%d", i)
		return fhir.Object{"resourceType": "Bundle", "type": "transaction", "entry": []any{
			fhir.Object{"resource": fhir.Object{"resourceType": "Patient",
				"identifier": []any{fhir.Object{"system": "urn:mrn", "value": own}, fhir.Object{"system": "urn:national", "value": "N-1"}}},
				"request": fhir.Object{"method": "POST", "url": "Patient", "ifNoneExist": "identifier=urn:mrn|" + own + ",urn:national|N-1"}},
		}}
	}, svc)
	res, _, _, err := svc.Search(context.Background(), "Patient", url.Values{"identifier": {"urn:national|N-1"}, "_total": {"accurate"}})
	require.NoError(t, err)
	assert.EqualValues(t, 1, res.Total, "the patient is created once")
}

// A PATCH of a resource that concurrent transactions share (the name of a
// practitioner many messages name) is applied in turn, without a version
// conflict.
func TestTransactionsPatchingOneResourceTakeTurns(t *testing.T) {
	svc := newService(t)
	const n = 16
	runConcurrently(t, n, func(i int) fhir.Object {
		patch := fmt.Sprintf(`[{"op":"add","path":"/name","value":[{"family":"Name%d"}]}]`, i)
		return fhir.Object{"resourceType": "Bundle", "type": "transaction", "entry": []any{
			fhir.Object{"resource": fhir.Object{"resourceType": "Practitioner", "identifier": []any{fhir.Object{"system": "urn:staff", "value": "P-1"}}},
				"request": fhir.Object{"method": "POST", "url": "Practitioner", "ifNoneExist": "identifier=urn:staff|P-1"}},
			fhir.Object{"resource": fhir.Object{"resourceType": "Binary", "contentType": "application/json-patch+json",
				"data": base64.StdEncoding.EncodeToString([]byte(patch))},
				"request": fhir.Object{"method": "PATCH", "url": "Practitioner?identifier=urn:staff|P-1"}},
		}}
	}, svc)
	res, _, _, err := svc.Search(context.Background(), "Practitioner", url.Values{"_total": {"accurate"}})
	require.NoError(t, err)
	require.EqualValues(t, 1, res.Total, "the practitioner is created once")
	assert.EqualValues(t, 1+n, res.Matches[0].Version, "each patch made a version")
}

func newService(t *testing.T) *service.Service {
	t.Helper()
	reg := search.NewRegistry()
	st := pgtest.StoreWith(t, postgres.Config{Extractor: reg})
	svc, err := service.New(service.Config{Store: st, Validator: validate.New(), Registry: reg, BaseURL: "http://localhost/fhir"})
	require.NoError(t, err)
	return svc
}

// runConcurrently commits n transaction Bundles at once and requires
// that all succeed.
func runConcurrently(t *testing.T, n int, bundle func(i int) fhir.Object, svc *service.Service) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		b := bundle(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := svc.Bundle(context.Background(), b, service.BundleOptions{})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
}
