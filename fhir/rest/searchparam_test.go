package rest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const exposureURL = "http://fhirhub.dev/fhir/StructureDefinition/exposure-group"

func worker(group string) map[string]any {
	p := patient("Miner")
	p["extension"] = []any{map[string]any{
		"url": exposureURL,
		"valueCodeableConcept": map[string]any{"coding": []any{map[string]any{
			"system": "http://fhirhub.dev/fhir/CodeSystem/exposure-group", "code": group}}},
	}}
	return p
}

// A SearchParameter registered at run time indexes new resources at once
// and older ones after $reindex, with no schema change.
func TestCustomSearchParameterAndReindex(t *testing.T) {
	s := newServer(t)
	before := s.do("POST", "/Patient", worker("underground"))
	require.Equal(t, http.StatusCreated, before.status, "%s", before.raw)

	strict := s.do("GET", "/Patient?exposure-group=underground", nil, "Prefer", "handling=strict")
	assert.Equal(t, http.StatusBadRequest, strict.status, "unknown parameter before registration")

	sp := map[string]any{
		"resourceType": "SearchParameter",
		"url":          "http://fhirhub.dev/fhir/SearchParameter/patient-exposure-group",
		"name":         "ExposureGroup",
		"status":       "active",
		"description":  "Exposure group of a worker",
		"code":         "exposure-group",
		"base":         []any{"Patient"},
		"type":         "token",
		"expression":   "Patient.extension('" + exposureURL + "').value",
	}
	res := s.do("POST", "/SearchParameter", sp)
	require.Equal(t, http.StatusCreated, res.status, "%s", res.raw)

	after := s.do("POST", "/Patient", worker("underground"))
	require.Equal(t, http.StatusCreated, after.status)
	found := s.do("GET", "/Patient?exposure-group=underground", nil, "Prefer", "handling=strict")
	require.Equal(t, http.StatusOK, found.status, "%s", found.raw)
	assert.Equal(t, []string{after.str("id")}, ids(found), "only the resource written after registration is indexed")

	ri := s.do("POST", "/Patient/$reindex", nil)
	require.Equal(t, http.StatusOK, ri.status, "%s", ri.raw)
	found = s.do("GET", "/Patient?exposure-group=http://fhirhub.dev/fhir/CodeSystem/exposure-group|underground", nil)
	assert.ElementsMatch(t, []string{before.str("id"), after.str("id")}, ids(found))

	bad := sp
	bad["url"] = "http://fhirhub.dev/fhir/SearchParameter/broken"
	bad["expression"] = "Patient.extension(("
	assert.Equal(t, http.StatusBadRequest, s.do("POST", "/SearchParameter", bad).status)
}

// ids returns the ids of a searchset's match entries.
func ids(r *response) []string {
	var out []string
	for _, e := range asSlice(r.body["entry"]) {
		if get(e, "search", "mode") == "match" {
			out = append(out, get(e, "resource", "id").(string))
		}
	}
	return out
}
