package rest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAuthPatientScopedConditionals: under patient/ scopes, conditional
// creates, updates, patches and deletes and the conditional references of
// Bundles search only the token patient's compartment, so a resource of
// another patient is never matched, and the answer is the same whether
// or not it exists; types without a compartment are refused. user/ scopes
// search everything they may search, and no more.
func TestAuthPatientScopedConditionals(t *testing.T) {
	s := newAuthServer(t)
	admin := s.token("admin", "user/*.cruds", "")
	var pids, obs []string
	for _, name := range []string{"Mine", "Other"} {
		res := s.as(admin, "POST", "/Patient", patient(name, "urn:mrn", name))
		require.Equal(t, http.StatusCreated, res.status, "%s", res.raw)
		pids = append(pids, res.str("id"))
		o := obsFor(res.str("id"))
		o["identifier"] = []any{map[string]any{"system": "urn:obs", "value": name}}
		res = s.as(admin, "POST", "/Observation", o) // identified by the patient's name
		require.Equal(t, http.StatusCreated, res.status, "%s", res.raw)
		obs = append(obs, res.str("id"))
	}
	res := s.as(admin, "POST", "/Practitioner", map[string]any{"resourceType": "Practitioner",
		"identifier": []any{map[string]any{"system": "urn:hpcsa", "value": "MP1"}}})
	require.Equal(t, http.StatusCreated, res.status, "%s", res.raw)
	mine, other := pids[0], pids[1]
	me := s.token("doctor", "patient/*.cruds", mine)
	clinician := s.token("doctor", "user/*.cruds", "")
	obsOnly := s.token("doctor", "user/Observation.cruds", "")
	jsonPatch := []string{"Content-Type", "application/json-patch+json"}
	amend := `[{"op":"replace","path":"/status","value":"amended"}]`
	ref := func(o map[string]any, reference string) map[string]any {
		o["subject"] = map[string]any{"reference": reference}
		return o
	}
	identified := func(o map[string]any, value string) map[string]any {
		o["identifier"] = []any{map[string]any{"system": "urn:obs", "value": value}}
		return o
	}
	preliminary := func(o map[string]any) map[string]any { o["status"] = "preliminary"; return o }
	tx := func(entries ...any) map[string]any {
		return map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": entries}
	}

	cases := []struct {
		name, tok, method, path string
		body                    any
		headers                 []string
		status                  int
	}{
		// Inside the compartment, conditionals work.
		{"conditional create matching mine", me, "POST", "/Observation", obsFor(mine), []string{"If-None-Exist", "identifier=urn:obs|Mine"}, 200},
		{"conditional update of mine", me, "PUT", "/Observation?identifier=urn:obs|Mine", identified(obsFor(mine), "Mine"), nil, 200},
		{"conditional patch of mine", me, "PATCH", "/Observation?identifier=urn:obs|Mine", amend, jsonPatch, 200},
		// Another patient's resource is never matched: the answers are
		// those for criteria that match nothing.
		{"conditional create matching another's creates", me, "POST", "/Observation", obsFor(mine), []string{"If-None-Exist", "identifier=urn:obs|Other"}, 201},
		{"conditional create matching nothing creates", me, "POST", "/Observation", obsFor(mine), []string{"If-None-Exist", "identifier=urn:obs|Nobody"}, 201},
		{"conditional patch of another's", me, "PATCH", "/Observation?identifier=urn:obs|Other", amend, jsonPatch, 404},
		{"conditional patch of nothing", me, "PATCH", "/Observation?identifier=urn:obs|Nobody", amend, jsonPatch, 404},
		{"conditional delete of another's", me, "DELETE", "/Observation?identifier=urn:obs|Other", nil, nil, 204},
		{"conditional delete of nothing", me, "DELETE", "/Observation?identifier=urn:obs|Nobody", nil, nil, 204},
		{"conditional update of another's Patient", me, "PUT", "/Patient?identifier=urn:mrn|Other", patient("X"), nil, 403},
		{"conditional update of no Patient", me, "PUT", "/Patient?identifier=urn:mrn|Nobody", patient("X"), nil, 403},
		// Conditional references in Bundles.
		{"reference to my patient", me, "POST", "", tx(bundleEntry("POST", "Observation", ref(obsFor(mine), "Patient?identifier=urn:mrn|Mine"))), nil, 200},
		{"reference to another patient", me, "POST", "", tx(bundleEntry("POST", "Observation", ref(obsFor(mine), "Patient?identifier=urn:mrn|Other"))), nil, 412},
		{"reference to no patient", me, "POST", "", tx(bundleEntry("POST", "Observation", ref(obsFor(mine), "Patient?identifier=urn:mrn|Nobody"))), nil, 412},
		{"reference outside any compartment", me, "POST", "", tx(bundleEntry("POST", "Observation", map[string]any{
			"resourceType": "Observation", "status": "final", "code": map[string]any{"text": "x"},
			"subject":   map[string]any{"reference": "Patient/" + mine},
			"performer": []any{map[string]any{"reference": "Practitioner?identifier=urn:hpcsa|MP1"}}})), nil, 403},
		{"conditional update in a transaction", me, "POST", "", tx(bundleEntry("PUT", "Observation?identifier=urn:obs|Other", obsFor(mine))), nil, 200},
		// user/ scopes are not confined, but need search on the type.
		{"user/ reference to another patient", clinician, "POST", "", tx(bundleEntry("POST", "Observation", ref(obsFor(other), "Patient?identifier=urn:mrn|Other"))), nil, 200},
		{"user/ reference to a type it may not search", obsOnly, "POST", "", tx(bundleEntry("POST", "Observation", ref(obsFor(other), "Patient?identifier=urn:mrn|Other"))), nil, 403},
		{"user/ conditional update of another's", clinician, "PUT", "/Observation?identifier=urn:obs|Other", preliminary(identified(obsFor(other), "Other")), nil, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := append([]string{"Authorization", "Bearer " + c.tok}, c.headers...)
			res := s.do(c.method, c.path, c.body, h...)
			assert.Equal(t, c.status, res.status, "%s", res.raw)
		})
	}

	t.Run("another patient's Observation was never touched by the patient/ token", func(t *testing.T) {
		res := s.as(admin, "GET", "/Observation/"+obs[1], nil)
		require.Equal(t, http.StatusOK, res.status)
		// Version 1 by the admin, version 2 by the user/ conditional update.
		assert.Equal(t, "2", res.str("meta", "versionId"))
		assert.Equal(t, "preliminary", res.str("status"), "not amended by the patient/ token's patch")
		assert.Equal(t, "Patient/"+other, res.str("subject", "reference"))
	})
	t.Run("mine was patched", func(t *testing.T) {
		res := s.as(admin, "GET", "/Observation/"+obs[0], nil)
		assert.Equal(t, "amended", res.str("status"))
		assert.Equal(t, "Patient/"+mine, res.str("subject", "reference"))
	})
	t.Run("no second Patient was made", func(t *testing.T) {
		res := s.as(admin, "GET", "/Patient?_summary=count", nil)
		assert.EqualValues(t, 2, total(res))
	})
}
