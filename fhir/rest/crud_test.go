package rest_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCreateReadVersioning(t *testing.T) {
	s := newServer(t)
	created := s.do("POST", "/Patient", patient("Nkosi"))
	require.Equal(t, http.StatusCreated, created.status, "%s", created.raw)
	id := created.str("id")
	require.NotEmpty(t, id)
	assert.Equal(t, "1", created.str("meta", "versionId"))
	assert.NotEmpty(t, created.str("meta", "lastUpdated"))
	assert.Equal(t, `W/"1"`, created.header.Get("ETag"))
	assert.Equal(t, s.base+"/Patient/"+id+"/_history/1", created.header.Get("Location"))
	assert.NotEmpty(t, created.header.Get("Last-Modified"))

	read := s.do("GET", "/Patient/"+id, nil)
	require.Equal(t, http.StatusOK, read.status)
	assert.Equal(t, created.raw, read.raw, "a read returns exactly what the create returned")
	assert.Equal(t, "application/fhir+json; charset=utf-8", read.header.Get("Content-Type"))

	// Conditional read.
	nm := s.do("GET", "/Patient/"+id, nil, "If-None-Match", `W/"1"`)
	assert.Equal(t, http.StatusNotModified, nm.status)
	assert.Empty(t, nm.raw)
	assert.Equal(t, http.StatusOK, s.do("GET", "/Patient/"+id, nil, "If-None-Match", `W/"2"`).status)
	ims := s.do("GET", "/Patient/"+id, nil, "If-Modified-Since", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
	assert.Equal(t, http.StatusNotModified, ims.status)
	ims = s.do("GET", "/Patient/"+id, nil, "If-Modified-Since", time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat))
	assert.Equal(t, http.StatusOK, ims.status)

	// Update makes version 2; vread still has version 1.
	p := patient("Nkosi")
	p["id"] = id
	p["gender"] = "male"
	upd := s.do("PUT", "/Patient/"+id, p)
	require.Equal(t, http.StatusOK, upd.status, "%s", upd.raw)
	assert.Equal(t, "2", upd.str("meta", "versionId"))
	assert.Equal(t, `W/"2"`, upd.header.Get("ETag"))
	v1 := s.do("GET", "/Patient/"+id+"/_history/1", nil)
	require.Equal(t, http.StatusOK, v1.status)
	assert.Equal(t, "female", v1.str("gender"))
	assert.Equal(t, "male", s.do("GET", "/Patient/"+id, nil).str("gender"))
	missing := s.do("GET", "/Patient/"+id+"/_history/9", nil)
	assert.Equal(t, http.StatusNotFound, missing.status)
	assert.Equal(t, "not-found", missing.str("issue", "0", "code"))

	// The same content again makes no new version.
	same := s.do("PUT", "/Patient/"+id, p)
	require.Equal(t, http.StatusOK, same.status)
	assert.Equal(t, "2", same.str("meta", "versionId"))

	// Delete: 410 on read, history keeps it, vread of the old version works.
	del := s.do("DELETE", "/Patient/"+id, nil)
	assert.Equal(t, http.StatusNoContent, del.status)
	gone := s.do("GET", "/Patient/"+id, nil)
	assert.Equal(t, http.StatusGone, gone.status)
	assert.Equal(t, "OperationOutcome", gone.str("resourceType"))
	assert.Equal(t, "deleted", gone.str("issue", "0", "code"))
	assert.Equal(t, http.StatusOK, s.do("GET", "/Patient/"+id+"/_history/2", nil).status)
	assert.Equal(t, http.StatusGone, s.do("GET", "/Patient/"+id+"/_history/3", nil).status)
	assert.Equal(t, http.StatusNoContent, s.do("DELETE", "/Patient/"+id, nil).status, "deleting again is fine")
	assert.Equal(t, http.StatusNotFound, s.do("DELETE", "/Patient/never-existed", nil).status)

	// Update after delete re-creates it as version 4.
	again := s.do("PUT", "/Patient/"+id, p)
	require.Equal(t, http.StatusCreated, again.status, "%s", again.raw)
	assert.Equal(t, "4", again.str("meta", "versionId"))

	hist := s.do("GET", "/Patient/"+id+"/_history", nil)
	require.Equal(t, http.StatusOK, hist.status)
	assert.Equal(t, "history", hist.str("type"))
	assert.EqualValues(t, 4, total(hist))
	var methods []string
	for _, e := range asSlice(hist.body["entry"]) {
		methods = append(methods, get(e, "request", "method").(string))
	}
	assert.Equal(t, []string{"PUT", "DELETE", "PUT", "POST"}, methods, "newest first")
}

func TestUpdateAsCreateAndIDRules(t *testing.T) {
	s := newServer(t)
	p := patient("Mokoena")
	p["id"] = "client-chosen-1"
	res := s.do("PUT", "/Patient/client-chosen-1", p)
	require.Equal(t, http.StatusCreated, res.status, "%s", res.raw)
	assert.Equal(t, "client-chosen-1", res.str("id"))
	assert.Equal(t, "1", res.str("meta", "versionId"))

	mismatch := s.do("PUT", "/Patient/other-id", p)
	assert.Equal(t, http.StatusBadRequest, mismatch.status)
	assert.Contains(t, issueExpressions(mismatch.body), "Patient.id")

	noID := patient("Mokoena")
	assert.Equal(t, http.StatusBadRequest, s.do("PUT", "/Patient/x1", noID).status)

	// Create ignores a client id.
	p2 := patient("Mokoena")
	p2["id"] = "ignored"
	c := s.do("POST", "/Patient", p2)
	require.Equal(t, http.StatusCreated, c.status)
	assert.NotEqual(t, "ignored", c.str("id"))

	wrongType := s.do("POST", "/Observation", patient("X"))
	assert.Equal(t, http.StatusBadRequest, wrongType.status)
	assert.Contains(t, issueExpressions(wrongType.body), "resourceType")
}

func TestIfMatch(t *testing.T) {
	s := newServer(t)
	c := s.do("POST", "/Patient", patient("Zulu"))
	id := c.str("id")
	p := patient("Zulu")
	p["id"] = id
	p["gender"] = "other"
	assert.Equal(t, http.StatusPreconditionFailed, s.do("PUT", "/Patient/"+id, p, "If-Match", `W/"7"`).status)
	ok := s.do("PUT", "/Patient/"+id, p, "If-Match", `W/"1"`)
	assert.Equal(t, http.StatusOK, ok.status, "%s", ok.raw)
	assert.Equal(t, http.StatusPreconditionFailed, s.do("DELETE", "/Patient/"+id, nil, "If-Match", `W/"1"`).status)
	assert.Equal(t, http.StatusBadRequest, s.do("PUT", "/Patient/"+id, p, "If-Match", `garbage`).status)
}

func TestConcurrentIfMatchUpdatesHaveOneWinnerPerVersion(t *testing.T) {
	s := newServer(t)
	id := s.do("POST", "/Patient", patient("Concurrent")).str("id")
	const n = 50
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners = map[string]int{}
		codes   = map[int]int{}
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			p := patient(fmt.Sprintf("Concurrent%d", i))
			p["id"] = id
			res := s.do("PUT", "/Patient/"+id, p, "If-Match", `W/"1"`)
			mu.Lock()
			defer mu.Unlock()
			codes[res.status]++
			if res.status == http.StatusOK {
				winners[res.str("meta", "versionId")]++
			}
		}(i)
	}
	wg.Wait()
	assert.Equal(t, map[int]int{http.StatusOK: 1, http.StatusPreconditionFailed: n - 1}, codes)
	assert.Equal(t, map[string]int{"2": 1}, winners)

	// Without If-Match every update wins, each with its own version: no
	// version is lost.
	codes = map[int]int{}
	versions := map[string]bool{}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			p := patient(fmt.Sprintf("Racer%d", i))
			p["id"] = id
			res := s.do("PUT", "/Patient/"+id, p)
			mu.Lock()
			defer mu.Unlock()
			codes[res.status]++
			versions[res.str("meta", "versionId")] = true
		}(i)
	}
	wg.Wait()
	assert.Equal(t, map[int]int{http.StatusOK: n}, codes)
	assert.Len(t, versions, n)
	hist := s.do("GET", "/Patient/"+id+"/_history?_count=1", nil)
	assert.EqualValues(t, n+2, total(hist))
}

func TestConditionalCreateIsRaceFree(t *testing.T) {
	s := newServer(t)
	const n = 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	ids := map[string]bool{}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := s.do("POST", "/Patient", patient("Race", "urn:oid:1.2.36.146.595.217.0.1", "MRN-777"),
				"If-None-Exist", "identifier=urn:oid:1.2.36.146.595.217.0.1|MRN-777")
			mu.Lock()
			defer mu.Unlock()
			codes[res.status]++
			ids[res.str("id")] = true
		}()
	}
	wg.Wait()
	assert.Equal(t, map[int]int{http.StatusCreated: 1, http.StatusOK: n - 1}, codes)
	assert.Len(t, ids, 1, "every request names the same single resource")
	bundle := s.do("GET", "/Patient?identifier=urn:oid:1.2.36.146.595.217.0.1|MRN-777", nil)
	assert.EqualValues(t, 1, total(bundle))
}

func TestConcurrentConditionalUpdatesCreateOnce(t *testing.T) {
	s := newServer(t)
	const n = 30
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			p := patient(fmt.Sprintf("Upsert%d", i), "urn:mrn", "U-1")
			res := s.do("PUT", "/Patient?identifier=urn:mrn|U-1", p)
			assert.Contains(t, []int{http.StatusOK, http.StatusCreated}, res.status, "%s", res.raw)
		}(i)
	}
	wg.Wait()
	bundle := s.do("GET", "/Patient?identifier=urn:mrn|U-1", nil)
	assert.EqualValues(t, 1, total(bundle))
}

func TestConditionalUpdateAndDeleteRules(t *testing.T) {
	s := newServer(t)
	// No match: created.
	res := s.do("PUT", "/Patient?identifier=urn:mrn|C-1", patient("Cond", "urn:mrn", "C-1"))
	require.Equal(t, http.StatusCreated, res.status, "%s", res.raw)
	id := res.str("id")
	// One match: updated.
	p := patient("Cond2", "urn:mrn", "C-1")
	res = s.do("PUT", "/Patient?identifier=urn:mrn|C-1", p)
	require.Equal(t, http.StatusOK, res.status, "%s", res.raw)
	assert.Equal(t, id, res.str("id"))
	assert.Equal(t, "2", res.str("meta", "versionId"))
	// Body id naming another resource: 400.
	p["id"] = "someone-else"
	assert.Equal(t, http.StatusBadRequest, s.do("PUT", "/Patient?identifier=urn:mrn|C-1", p).status)
	// Several matches: 412.
	require.Equal(t, http.StatusCreated, s.do("POST", "/Patient", patient("Twin", "urn:mrn", "T-1")).status)
	require.Equal(t, http.StatusCreated, s.do("POST", "/Patient", patient("Twin", "urn:mrn", "T-1")).status)
	assert.Equal(t, http.StatusPreconditionFailed, s.do("PUT", "/Patient?identifier=urn:mrn|T-1", patient("Twin", "urn:mrn", "T-1")).status)
	assert.Equal(t, http.StatusPreconditionFailed, s.do("DELETE", "/Patient?identifier=urn:mrn|T-1", nil).status)
	assert.Equal(t, http.StatusPreconditionFailed, s.do("POST", "/Patient", patient("Twin"), "If-None-Exist", "identifier=urn:mrn|T-1").status)
	// Conditional delete: one match deleted, none is fine.
	assert.Equal(t, http.StatusNoContent, s.do("DELETE", "/Patient?identifier=urn:mrn|C-1", nil).status)
	assert.Equal(t, http.StatusGone, s.do("GET", "/Patient/"+id, nil).status)
	assert.Equal(t, http.StatusNoContent, s.do("DELETE", "/Patient?identifier=urn:mrn|nobody", nil).status)
	// Unknown parameters in criteria are refused, never ignored.
	assert.Equal(t, http.StatusBadRequest, s.do("DELETE", "/Patient?no-such-param=1", nil).status)
}

func TestPatch(t *testing.T) {
	s := newServer(t)
	id := s.do("POST", "/Patient", patient("Patchy")).str("id")
	patch := `[{"op":"replace","path":"/gender","value":"male"},{"op":"add","path":"/name/0/given/-","value":"Beth"},{"op":"test","path":"/birthDate","value":"1980-05-17"}]`
	res := s.doRaw("PATCH", "/Patient/"+id, patch, "application/json-patch+json")
	require.Equal(t, http.StatusOK, res.status, "%s", res.raw)
	assert.Equal(t, "male", res.str("gender"))
	assert.Equal(t, "Beth", get(res.body, "name", "0", "given", "1"))
	assert.Equal(t, "2", res.str("meta", "versionId"))

	// The result is validated.
	bad := s.doRaw("PATCH", "/Patient/"+id, `[{"op":"replace","path":"/gender","value":"robot"}]`, "application/json-patch+json")
	assert.Equal(t, http.StatusBadRequest, bad.status)
	assert.Contains(t, issueExpressions(bad.body), "Patient.gender")
	// A failing test operation changes nothing.
	failed := s.doRaw("PATCH", "/Patient/"+id, `[{"op":"test","path":"/gender","value":"female"}]`, "application/json-patch+json")
	assert.Equal(t, http.StatusUnprocessableEntity, failed.status)
	assert.Equal(t, http.StatusUnsupportedMediaType, s.doRaw("PATCH", "/Patient/"+id, patch, "application/fhir+json").status)
	assert.Equal(t, http.StatusPreconditionFailed, s.doRaw("PATCH", "/Patient/"+id, patch, "application/json-patch+json", "If-Match", `W/"1"`).status)
	assert.Equal(t, "2", s.do("GET", "/Patient/"+id, nil).str("meta", "versionId"))
}

func (s *testServer) doRaw(method, path, body, contentType string, headers ...string) *response {
	s.t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	require.NoError(s.t, err)
	req.Header.Set("Content-Type", contentType)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return s.send(req)
}

func TestPrefer(t *testing.T) {
	s := newServer(t)
	min := s.do("POST", "/Patient", patient("Pref"), "Prefer", "return=minimal")
	assert.Equal(t, http.StatusCreated, min.status)
	assert.Empty(t, min.raw)
	assert.NotEmpty(t, min.header.Get("Location"))
	oo := s.do("POST", "/Patient", patient("Pref"), "Prefer", "return=OperationOutcome")
	assert.Equal(t, http.StatusCreated, oo.status)
	assert.Equal(t, "OperationOutcome", oo.str("resourceType"))
	rep := s.do("POST", "/Patient", patient("Pref"), "Prefer", "return=representation")
	assert.Equal(t, "Patient", rep.str("resourceType"))
}

func TestHTTPErrors(t *testing.T) {
	s := newServerLimit(t, 1<<20)
	cases := []struct {
		name   string
		method string
		path   string
		body   string
		ct     string
		want   int
	}{
		{"bad JSON", "POST", "/Patient", `{"resourceType":"Patient",`, "application/fhir+json", 400},
		{"duplicate key", "POST", "/Patient", `{"resourceType":"Patient","gender":"male","gender":"female"}`, "application/fhir+json", 400},
		{"not an object", "POST", "/Patient", `[1,2]`, "application/fhir+json", 400},
		{"XML body", "POST", "/Patient", `<Patient/>`, "application/fhir+xml", 415},
		{"no content type", "POST", "/Patient", `{}`, "", 415},
		{"unknown type", "POST", "/Patientx", `{"resourceType":"Patientx"}`, "application/fhir+json", 404},
		{"unknown type read", "GET", "/Nope/1", ``, "", 404},
		{"missing resource", "GET", "/Patient/does-not-exist", ``, "", 404},
		{"method not allowed", "PUT", "/metadata", `{}`, "application/fhir+json", 405},
		{"too large", "POST", "/Patient", `{"resourceType":"Patient","id":"` + strings.Repeat("a", 2<<20) + `"}`, "application/fhir+json", 413},
		{"XML only accepted", "GET", "/Patient", ``, "", 406},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, s.base+tc.path, strings.NewReader(tc.body))
			require.NoError(t, err)
			if tc.ct != "" {
				req.Header.Set("Content-Type", tc.ct)
			}
			if tc.name == "XML only accepted" {
				req.Header.Set("Accept", "application/fhir+xml")
			}
			res := s.send(req)
			assert.Equal(t, tc.want, res.status, "%s", res.raw)
			assert.Equal(t, "OperationOutcome", res.str("resourceType"), "%s", res.raw)
			assert.NotEmpty(t, res.header.Get("X-Request-Id"))
			assert.Contains(t, string(res.raw), "request id")
		})
	}
}
