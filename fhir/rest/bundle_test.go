package rest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func txBundle(kind string, entries ...map[string]any) map[string]any {
	es := make([]any, len(entries))
	for i, e := range entries {
		es[i] = e
	}
	return map[string]any{"resourceType": "Bundle", "type": kind, "entry": es}
}

func entry(method, url, fullURL string, resource map[string]any, req ...string) map[string]any {
	r := map[string]any{"method": method, "url": url}
	for i := 0; i+1 < len(req); i += 2 {
		r[req[i]] = req[i+1]
	}
	e := map[string]any{"request": r}
	if fullURL != "" {
		e["fullUrl"] = fullURL
	}
	if resource != nil {
		e["resource"] = resource
	}
	return e
}

func observation(subject string) map[string]any {
	return map[string]any{
		"resourceType":  "Observation",
		"status":        "final",
		"code":          map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "8867-4"}}},
		"subject":       map[string]any{"reference": subject},
		"valueQuantity": map[string]any{"value": 72, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"},
	}
}

func TestTransactionResolvesReferencesAtomically(t *testing.T) {
	s := newServer(t)
	existing := s.do("POST", "/Patient", patient("Existing", "urn:mrn", "E-1"))
	require.Equal(t, http.StatusCreated, existing.status)

	enc := map[string]any{
		"resourceType": "Encounter", "status": "in-progress",
		"class":   map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
		"subject": map[string]any{"reference": "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"},
	}
	obs := observation("urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a")
	obs["encounter"] = map[string]any{"reference": "urn:uuid:0b6ad5b0-0000-4000-8000-000000000001"}
	obs2 := observation("Patient?identifier=urn:mrn|E-1")
	b := txBundle("transaction",
		entry("POST", "Observation", "", obs),
		entry("POST", "Encounter", "urn:uuid:0b6ad5b0-0000-4000-8000-000000000001", enc),
		entry("POST", "Patient", "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a", patient("New", "urn:mrn", "N-1"), "ifNoneExist", "identifier=urn:mrn|N-1"),
		entry("POST", "Observation", "", obs2),
	)
	res := s.do("POST", "", b)
	require.Equal(t, http.StatusOK, res.status, "%s", res.raw)
	assert.Equal(t, "transaction-response", res.str("type"))
	entries := asSlice(res.body["entry"])
	require.Len(t, entries, 4)
	var locs []string
	for _, e := range entries {
		assert.Equal(t, "201 Created", get(e, "response", "status"))
		assert.Equal(t, `W/"1"`, get(e, "response", "etag"))
		locs = append(locs, get(e, "response", "location").(string))
	}
	patientRef := strings.TrimSuffix(locs[2], "/_history/1")
	encRef := strings.TrimSuffix(locs[1], "/_history/1")
	assert.True(t, strings.HasPrefix(patientRef, "Patient/"))

	o := s.do("GET", "/"+strings.TrimSuffix(locs[0], "/_history/1"), nil)
	assert.Equal(t, patientRef, o.str("subject", "reference"))
	assert.Equal(t, encRef, o.str("encounter", "reference"))
	o2 := s.do("GET", "/"+strings.TrimSuffix(locs[3], "/_history/1"), nil)
	assert.Equal(t, "Patient/"+existing.str("id"), o2.str("subject", "reference"))

	// Sending it again: the conditional create matches (200), the rest is new.
	res = s.do("POST", "", b)
	require.Equal(t, http.StatusOK, res.status, "%s", res.raw)
	assert.Equal(t, "200 OK", get(res.body, "entry", "2", "response", "status"))
	assert.Equal(t, patientRef+"/_history/1", get(res.body, "entry", "2", "response", "location"))

	// One bad entry fails everything: nothing from this Bundle is stored.
	before := s.do("GET", "/Observation?_summary=count", nil)
	bad := observation("Patient/whatever")
	delete(bad, "status")
	failing := txBundle("transaction",
		entry("POST", "Observation", "", observation("Patient/"+existing.str("id"))),
		entry("POST", "Observation", "", bad),
	)
	fr := s.do("POST", "", failing)
	assert.Equal(t, http.StatusBadRequest, fr.status, "%s", fr.raw)
	assert.Contains(t, strings.Join(issueExpressions(fr.body), " "), "Bundle.entry[1]")
	after := s.do("GET", "/Observation?_summary=count", nil)
	require.GreaterOrEqual(t, total(before), int64(0))
	assert.Equal(t, total(before), total(after))

	// A conditional reference that matches nothing fails the transaction.
	nf := s.do("POST", "", txBundle("transaction", entry("POST", "Observation", "", observation("Patient?identifier=urn:mrn|nobody"))))
	assert.Equal(t, http.StatusPreconditionFailed, nf.status, "%s", nf.raw)
}

func TestTransactionOrderAndMethods(t *testing.T) {
	s := newServer(t)
	keep := s.do("POST", "/Patient", patient("Keep", "urn:mrn", "K-1"))
	gone := s.do("POST", "/Patient", patient("Gone", "urn:mrn", "G-1"))
	p := patient("Put", "urn:mrn", "P-1")
	p["id"] = "put-1"
	b := txBundle("transaction",
		entry("GET", "Patient?identifier=urn:mrn|G-1", "", nil),
		entry("PUT", "Patient/put-1", "", p),
		entry("DELETE", "Patient?identifier=urn:mrn|G-1", "", nil),
		entry("PUT", "Patient?identifier=urn:mrn|K-1", "", patient("Kept", "urn:mrn", "K-1")),
		entry("GET", "Patient/"+keep.str("id"), "", nil),
	)
	res := s.do("POST", "", b)
	require.Equal(t, http.StatusOK, res.status, "%s", res.raw)
	// GETs run after the writes: the search no longer finds the deleted one,
	// and the read sees the updated version.
	assert.EqualValues(t, 0, num(get(res.body, "entry", "0", "resource", "total")))
	assert.Equal(t, "201 Created", get(res.body, "entry", "1", "response", "status"))
	assert.Equal(t, "204 No Content", get(res.body, "entry", "2", "response", "status"))
	assert.Equal(t, "200 OK", get(res.body, "entry", "3", "response", "status"))
	assert.Equal(t, "Kept", get(res.body, "entry", "4", "resource", "name", "0", "family"))
	assert.Equal(t, http.StatusGone, s.do("GET", "/Patient/"+gone.str("id"), nil).status)

	// Two entries writing the same resource are refused.
	dup := s.do("POST", "", txBundle("transaction",
		entry("PUT", "Patient/put-1", "", p), entry("DELETE", "Patient/put-1", "", nil)))
	assert.Equal(t, http.StatusConflict, dup.status, "%s", dup.raw)
}

func TestBatchEntriesFailIndependently(t *testing.T) {
	s := newServer(t)
	bad := patient("Bad")
	bad["birthDate"] = "not-a-date"
	res := s.do("POST", "", txBundle("batch",
		entry("POST", "Patient", "", patient("Good")),
		entry("POST", "Patient", "", bad),
		entry("GET", "Patient/missing", "", nil),
		entry("PUT", "Patient", "", patient("NoID")),
	))
	require.Equal(t, http.StatusOK, res.status, "%s", res.raw)
	assert.Equal(t, "batch-response", res.str("type"))
	assert.Equal(t, "201 Created", get(res.body, "entry", "0", "response", "status"))
	assert.Equal(t, "400 Bad Request", get(res.body, "entry", "1", "response", "status"))
	assert.Equal(t, "OperationOutcome", get(res.body, "entry", "1", "response", "outcome", "resourceType"))
	assert.Equal(t, "404 Not Found", get(res.body, "entry", "2", "response", "status"))
	assert.Equal(t, "400 Bad Request", get(res.body, "entry", "3", "response", "status"))
	loc := get(res.body, "entry", "0", "response", "location").(string)
	assert.Equal(t, http.StatusOK, s.do("GET", "/"+strings.TrimSuffix(loc, "/_history/1"), nil).status)
}

func TestHistoryPagingAndSince(t *testing.T) {
	s := newServer(t)
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, s.do("POST", "/Patient", patient("Hist")).str("id"))
	}
	mid := s.do("GET", "/Patient/"+ids[2], nil).str("meta", "lastUpdated")
	seen := map[string]bool{}
	next := "/Patient/_history?_count=2"
	pages := 0
	for next != "" {
		res := s.do("GET", next, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.raw)
		pages++
		for _, e := range asSlice(res.body["entry"]) {
			id := get(e, "resource", "id").(string)
			assert.False(t, seen[id], "no duplicates across pages")
			seen[id] = true
		}
		next = ""
		for _, l := range asSlice(res.body["link"]) {
			if get(l, "relation") == "next" {
				next = strings.TrimPrefix(get(l, "url").(string), s.base)
				// A write between pages must not shift what the next page holds.
				s.do("POST", "/Patient", patient("Between"))
			}
		}
	}
	assert.Equal(t, 3, pages)
	for _, id := range ids {
		assert.True(t, seen[id])
	}
	since := s.do("GET", "/Patient/_history?_since="+mid, nil)
	var got []string
	for _, e := range asSlice(since.body["entry"]) {
		got = append(got, get(e, "resource", "id").(string))
	}
	assert.Contains(t, got, ids[2])
	assert.Contains(t, got, ids[4])
	assert.NotContains(t, got, ids[0])
	sys := s.do("GET", "/_history?_count=3", nil)
	assert.Len(t, asSlice(sys.body["entry"]), 3)
}
