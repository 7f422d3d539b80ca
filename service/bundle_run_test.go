package service_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/url"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/fhir/search"
	"github.com/fhirhub/fhirhub/fhir/validate"
	"github.com/fhirhub/fhirhub/service"
	"github.com/fhirhub/fhirhub/store"
	"github.com/fhirhub/fhirhub/store/postgres"
	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

// calls counts the calls a service makes on its store's transactions.
// absent, when set, is called when a Read finds nothing.
type calls struct {
	mu     sync.Mutex
	n      map[string]int
	absent func(typ, id string)
}

func (c *calls) add(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[name]++
}

// take returns the counts so far and starts again.
func (c *calls) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = map[string]int{}
	return n
}

// countingStore is the real store with its transactions' calls counted.
type countingStore struct {
	store.Store
	calls *calls
}

func (s countingStore) Transaction(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	return s.Store.Transaction(ctx, func(ctx context.Context, tx store.Tx) error {
		return fn(ctx, countingTx{tx, s.calls})
	})
}

type countingTx struct {
	store.Tx
	calls *calls
}

func (t countingTx) Search(ctx context.Context, q *store.SearchQuery) (*store.SearchResult, error) {
	t.calls.add("Search")
	return t.Tx.Search(ctx, q)
}

func (t countingTx) Read(ctx context.Context, typ, id string) (*store.Resource, error) {
	t.calls.add("Read")
	r, err := t.Tx.Read(ctx, typ, id)
	if errors.Is(err, store.ErrNotFound) && t.calls.absent != nil {
		t.calls.absent(typ, id)
	}
	return r, err
}

func (t countingTx) Create(ctx context.Context, obj fhir.Object, method string) (*store.Resource, error) {
	t.calls.add("Create")
	return t.Tx.Create(ctx, obj, method)
}

func (t countingTx) Put(ctx context.Context, obj fhir.Object, ifVersion int64, method string) (*store.Resource, bool, error) {
	t.calls.add("Put")
	return t.Tx.Put(ctx, obj, ifVersion, method)
}

// ResolveIdentifiers passes on the store's resolution of identifiers
// (store/postgres), which the service uses when the transaction has it.
func (t countingTx) ResolveIdentifiers(ctx context.Context, types, systems, values []string, limit int) ([][]*store.Resource, error) {
	t.calls.add("Resolve")
	return t.Tx.(interface {
		ResolveIdentifiers(ctx context.Context, types, systems, values []string, limit int) ([][]*store.Resource, error)
	}).ResolveIdentifiers(ctx, types, systems, values, limit)
}

func (t countingTx) Lock(ctx context.Context, names ...string) error {
	t.calls.add("Lock")
	return t.Tx.Lock(ctx, names...)
}

func newCountingService(t *testing.T) (*service.Service, *calls) {
	svc, c, _ := newCountingServiceStore(t)
	return svc, c
}

func newCountingServiceStore(t *testing.T) (*service.Service, *calls, *postgres.Store) {
	t.Helper()
	reg := search.NewRegistry()
	st := pgtest.StoreWith(t, postgres.Config{Extractor: reg})
	c := &calls{n: map[string]int{}}
	svc, err := service.New(service.Config{Store: countingStore{st, c}, Validator: validate.New(), Registry: reg, BaseURL: "http://localhost/fhir"})
	require.NoError(t, err)
	return svc, c, st
}

func patchEntry(url, patch string) fhir.Object {
	return fhir.Object{"resource": fhir.Object{"resourceType": "Binary", "contentType": "application/json-patch+json",
		"data": base64.StdEncoding.EncodeToString([]byte(patch))},
		"request": fhir.Object{"method": "PATCH", "url": url}}
}

// messageBundle is what a mapped HL7 v2 message looks like: an ensured
// practitioner, an ensured patient with a PATCH restating what the
// message says about it, a conditional PUT of a result about them, and a
// PUT by id (the message's Provenance).
func messageBundle(gender, value string) fhir.Object {
	return fhir.Object{"resourceType": "Bundle", "type": "transaction", "entry": []any{
		fhir.Object{"fullUrl": "urn:uuid:8a5b1d0e-0000-4000-8000-000000000001",
			"resource": fhir.Object{"resourceType": "Practitioner", "identifier": []any{fhir.Object{"system": "urn:staff", "value": "DR-1"}}},
			"request":  fhir.Object{"method": "POST", "url": "Practitioner", "ifNoneExist": "identifier=urn:staff|DR-1"}},
		fhir.Object{"fullUrl": "urn:uuid:8a5b1d0e-0000-4000-8000-000000000002",
			"resource": fhir.Object{"resourceType": "Patient", "identifier": []any{fhir.Object{"system": "urn:mrn", "value": "M-1"}}, "gender": gender},
			"request":  fhir.Object{"method": "POST", "url": "Patient", "ifNoneExist": "identifier=urn:mrn|M-1"}},
		patchEntry("Patient?identifier=urn:mrn|M-1", `[{"op":"add","path":"/gender","value":"`+gender+`"}]`),
		fhir.Object{"fullUrl": "urn:uuid:8a5b1d0e-0000-4000-8000-000000000003",
			"resource": fhir.Object{"resourceType": "Observation", "status": "final", "identifier": []any{fhir.Object{"system": "urn:obx", "value": "O-1"}},
				"code":        fhir.Object{"text": "glucose"},
				"subject":     fhir.Object{"reference": "urn:uuid:8a5b1d0e-0000-4000-8000-000000000002"},
				"performer":   []any{fhir.Object{"reference": "urn:uuid:8a5b1d0e-0000-4000-8000-000000000001"}},
				"valueString": value},
			"request": fhir.Object{"method": "PUT", "url": "Observation?identifier=urn:obx|O-1"}},
		fhir.Object{"resource": fhir.Object{"resourceType": "Organization", "id": "sender-1", "name": "Lab"},
			"request": fhir.Object{"method": "PUT", "url": "Organization/sender-1"}},
	}}
}

// A transaction resolves its conditional criteria before its writes, by
// identifier with one statement (and again under their locks when they
// matched nothing), then writes
// from what it found: new resources are created without searching again,
// a PATCH of a resource the transaction created or found is applied
// without reading it back, and an entry that changes nothing writes
// nothing.
func TestTransactionResolvesCriteriaOnce(t *testing.T) {
	ctx := context.Background()
	svc, c := newCountingService(t)
	version := func(typ, q string) int64 {
		params, err := url.ParseQuery(q)
		require.NoError(t, err)
		res, _, _, err := svc.Search(ctx, typ, params)
		require.NoError(t, err)
		require.Len(t, res.Matches, 1, "%s?%s", typ, q)
		return res.Matches[0].Version
	}

	_, err := svc.Bundle(ctx, messageBundle("female", "5.1"), service.BundleOptions{})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"Resolve": 2, "Lock": 1, "Read": 1, "Create": 4}, c.take(),
		"new data: the three criteria resolved together, and again under one lock; the PUT by id read first; four creates")
	assert.EqualValues(t, 1, version("Patient", "identifier=urn:mrn|M-1"), "the PATCH restating the new patient made no version")

	_, err = svc.Bundle(ctx, messageBundle("female", "5.1"), service.BundleOptions{})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"Resolve": 1, "Read": 1}, c.take(), "the same message again: one resolution and one read, nothing written")
	assert.EqualValues(t, 1, version("Patient", "identifier=urn:mrn|M-1"))
	assert.EqualValues(t, 1, version("Observation", "identifier=urn:obx|O-1"))

	_, err = svc.Bundle(ctx, messageBundle("male", "5.3"), service.BundleOptions{})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"Resolve": 1, "Read": 1, "Put": 2}, c.take(), "changed data: the patient and the result are written, nothing read again")
	assert.EqualValues(t, 2, version("Patient", "identifier=urn:mrn|M-1&gender=male"))
	assert.EqualValues(t, 2, version("Observation", "identifier=urn:obx|O-1&value-string=5.3"))
}

// A PATCH of a resource created by the same transaction starts from the
// created resource and makes its next version.
func TestTransactionPatchesWhatItCreated(t *testing.T) {
	ctx := context.Background()
	svc, c := newCountingService(t)
	bundle := fhir.Object{"resourceType": "Bundle", "type": "transaction", "entry": []any{
		ensurePatient("M-2"),
		patchEntry("Patient?identifier=urn:mrn|M-2", `[{"op":"add","path":"/gender","value":"other"}]`),
	}}
	resp, err := svc.Bundle(ctx, bundle, service.BundleOptions{})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"Resolve": 2, "Lock": 1, "Create": 1, "Put": 1}, c.take())
	entries := resp["entry"].([]any)
	assert.Equal(t, "201 Created", entries[0].(fhir.Object)["response"].(fhir.Object)["status"])
	assert.Equal(t, "200 OK", entries[1].(fhir.Object)["response"].(fhir.Object)["status"])
	obj := onlyMatch(t, svc, "Patient", "urn:mrn|M-2", 2)
	assert.Equal(t, "other", obj["gender"])
}

// ensurePatient is a transaction entry that creates the Patient with the
// MRN unless it exists.
func ensurePatient(mrn string) fhir.Object {
	return fhir.Object{"resource": fhir.Object{"resourceType": "Patient", "identifier": []any{fhir.Object{"system": "urn:mrn", "value": mrn}}},
		"request": fhir.Object{"method": "POST", "url": "Patient", "ifNoneExist": "identifier=urn:mrn|" + mrn}}
}

// onlyMatch returns the one resource of typ with the identifier, which
// must be at version.
func onlyMatch(t *testing.T, svc *service.Service, typ, identifier string, version int64) fhir.Object {
	t.Helper()
	res, _, _, err := svc.Search(context.Background(), typ, url.Values{"identifier": {identifier}})
	require.NoError(t, err)
	require.Len(t, res.Matches, 1)
	assert.EqualValues(t, version, res.Matches[0].Version)
	obj, err := fhir.ParseObject(res.Matches[0].Content)
	require.NoError(t, err)
	return obj
}

// Two PATCHes of a resource the transaction created (an HL7 v2 message's
// Bundle restates its Patient in two) both start from what the one before
// wrote, without searching: the created resource is known as it is after
// each write, identifiers included, so criteria matching a value the
// first PATCH added find it, and criteria matching a value it removed do
// not.
func TestTransactionPatchesWhatItCreatedTwice(t *testing.T) {
	ctx := context.Background()
	svc, c := newCountingService(t)
	bundle := fhir.Object{"resourceType": "Bundle", "type": "transaction", "entry": []any{
		ensurePatient("M-4"),
		patchEntry("Patient?identifier=urn:mrn|M-4", `[{"op":"add","path":"/identifier/-","value":{"system":"urn:national","value":"N-4"}},`+
			`{"op":"add","path":"/gender","value":"other"}]`),
		patchEntry("Patient?identifier=urn:national|N-4", `[{"op":"add","path":"/birthDate","value":"1990-01-02"},`+
			`{"op":"remove","path":"/identifier/0"}]`),
		patchEntry("Patient?identifier=urn:mrn|M-4", `[{"op":"add","path":"/active","value":true}]`),
	}}
	_, err := svc.Bundle(ctx, bundle, service.BundleOptions{})
	require.Error(t, err, "the last PATCH's criteria match nothing once the identifier is removed")
	c.take()

	bundle["entry"] = bundle["entry"].([]any)[:3]
	resp, err := svc.Bundle(ctx, bundle, service.BundleOptions{})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"Resolve": 2, "Lock": 1, "Create": 1, "Put": 2}, c.take(), "no search: each PATCH finds the created Patient in memory")
	entries := resp["entry"].([]any)
	assert.Equal(t, "200 OK", entries[2].(fhir.Object)["response"].(fhir.Object)["status"])
	obj := onlyMatch(t, svc, "Patient", "urn:national|N-4", 3)
	assert.Equal(t, "other", obj["gender"])
	assert.Equal(t, "1990-01-02", obj["birthDate"])
	assert.Equal(t, []any{fhir.Object{"system": "urn:national", "value": "N-4"}}, obj["identifier"])
}

// Two ensures whose criteria differ but match the same new resource (a
// patient known by two identifiers, and by one of them) create it once:
// the second searches again instead of trusting the resolution made before
// the first created it.
func TestTransactionEnsuresMatchingWhatAnEarlierEntryCreatedCreateOnce(t *testing.T) {
	ctx := context.Background()
	svc, _ := newCountingService(t)
	patient := fhir.Object{"resourceType": "Patient", "identifier": []any{
		fhir.Object{"system": "urn:mrn", "value": "M-3"}, fhir.Object{"system": "urn:national", "value": "N-3"}}}
	bundle := fhir.Object{"resourceType": "Bundle", "type": "transaction", "entry": []any{
		fhir.Object{"resource": patient,
			"request": fhir.Object{"method": "POST", "url": "Patient", "ifNoneExist": "identifier=urn:mrn|M-3,urn:national|N-3"}},
		fhir.Object{"resource": fhir.Object{"resourceType": "Patient", "identifier": []any{fhir.Object{"system": "urn:national", "value": "n-3"}}},
			"request": fhir.Object{"method": "POST", "url": "Patient", "ifNoneExist": "identifier=urn:national|n-3"}},
		fhir.Object{"resource": fhir.Object{"resourceType": "Patient", "identifier": []any{fhir.Object{"system": "urn:national", "value": "N-3"}}},
			"request": fhir.Object{"method": "POST", "url": "Patient", "ifNoneExist": "identifier=urn:national|N-3"}},
	}}
	_, err := svc.Bundle(ctx, bundle, service.BundleOptions{})
	require.NoError(t, err)
	res, _, _, err := svc.Search(ctx, "Patient", url.Values{"identifier": {"urn:national|N-3"}, "_total": {"accurate"}})
	require.NoError(t, err)
	assert.EqualValues(t, 1, res.Total, "the patient is created once")
	res, _, _, err = svc.Search(ctx, "Patient", url.Values{"_total": {"accurate"}})
	require.NoError(t, err)
	assert.EqualValues(t, 2, res.Total, "the ensure whose value differs in case matches nothing and creates")
}

// Criteria resolved together match what each matches alone: a value
// matches resources of the criteria's type only, alternatives match any
// of their values, a value differing in case matches nothing, and
// criteria matching several resources fail the transaction.
func TestTransactionCriteriaResolvedTogetherMatchAsAlone(t *testing.T) {
	ctx := context.Background()
	svc, c := newCountingService(t)
	ident := func(values ...string) []any {
		var out []any
		for _, v := range values {
			out = append(out, fhir.Object{"system": "urn:id", "value": v})
		}
		return out
	}
	for _, r := range []fhir.Object{
		{"resourceType": "Practitioner", "identifier": ident("1")},
		{"resourceType": "Patient", "identifier": ident("2")},
		{"resourceType": "Patient", "identifier": ident("3", "4")},
		{"resourceType": "Patient", "identifier": ident("x")},
	} {
		_, err := svc.Create(ctx, r["resourceType"].(string), r, "")
		require.NoError(t, err)
	}
	ensure := func(typ, criteria string, values ...string) fhir.Object {
		return fhir.Object{"resource": fhir.Object{"resourceType": typ, "identifier": ident(values...)},
			"request": fhir.Object{"method": "POST", "url": typ, "ifNoneExist": criteria}}
	}
	c.take()
	resp, err := svc.Bundle(ctx, fhir.Object{"resourceType": "Bundle", "type": "transaction", "entry": []any{
		ensure("Patient", "identifier=urn:id|1", "1"),
		ensure("Practitioner", "identifier=urn:id|1", "1"),
		ensure("Patient", "identifier=urn:id|3,urn:id|4", "3", "4"),
		ensure("Patient", "identifier=urn:id|X", "X"),
		fhir.Object{"resource": fhir.Object{"resourceType": "Patient", "identifier": ident("2"), "gender": "female"},
			"request": fhir.Object{"method": "PUT", "url": "Patient?identifier=urn:id|2"}},
	}}, service.BundleOptions{})
	require.NoError(t, err)
	var statuses []string
	for _, e := range resp["entry"].([]any) {
		statuses = append(statuses, e.(fhir.Object)["response"].(fhir.Object)["status"].(string))
	}
	assert.Equal(t, []string{"201 Created", "200 OK", "200 OK", "201 Created", "200 OK"}, statuses)
	assert.Equal(t, map[string]int{"Resolve": 2, "Lock": 1, "Create": 2, "Put": 1}, c.take(),
		"one resolution, and one under the locks of the two that matched nothing")

	_, err = svc.Bundle(ctx, fhir.Object{"resourceType": "Bundle", "type": "transaction", "entry": []any{
		ensure("Practitioner", "identifier=urn:id|1", "1"),
		ensure("Patient", "identifier=urn:id|2,urn:id|3", "2"),
	}}, service.BundleOptions{})
	assert.Equal(t, 412, service.Status(err), "two patients match: %v", err)
}

// A PUT by id of a resource absent when the transaction read it, which a
// concurrent transaction creates before this one writes it, updates what
// that one created: the transaction runs again.
func TestTransactionPutOfAResourceCreatedMeanwhileUpdatesIt(t *testing.T) {
	ctx := context.Background()
	svc, c, st := newCountingServiceStore(t)
	c.absent = func(typ, id string) {
		c.absent = nil
		_, err := st.Create(ctx, fhir.Object{"resourceType": typ, "id": id, "name": "Concurrent"})
		require.NoError(t, err)
	}
	resp, err := svc.Bundle(ctx, fhir.Object{"resourceType": "Bundle", "type": "transaction", "entry": []any{
		fhir.Object{"resource": fhir.Object{"resourceType": "Organization", "id": "org-9", "name": "Ours"},
			"request": fhir.Object{"method": "PUT", "url": "Organization/org-9"}},
	}}, service.BundleOptions{})
	require.NoError(t, err)
	assert.Equal(t, "200 OK", resp["entry"].([]any)[0].(fhir.Object)["response"].(fhir.Object)["status"])
	r, err := st.Read(ctx, "Organization", "org-9")
	require.NoError(t, err)
	assert.EqualValues(t, 2, r.Version, "the concurrent create, then this update")
	obj, err := fhir.ParseObject(r.Content)
	require.NoError(t, err)
	assert.Equal(t, "Ours", obj["name"])
}
