package rest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMetadataDescribesWhatIsServed(t *testing.T) {
	s := newServer(t)
	res := s.do("GET", "/metadata", nil)
	require.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "CapabilityStatement", res.str("resourceType"))
	assert.Equal(t, "4.0.1", res.str("fhirVersion"))
	resources := asSlice(get(res.body, "rest", "0", "resource"))
	assert.Len(t, resources, 146, "every R4 resource type")
	var patient map[string]any
	for _, r := range resources {
		if get(r, "type") == "Patient" {
			patient = r.(map[string]any)
		}
	}
	require.NotNil(t, patient)
	params := map[string]string{}
	for _, p := range asSlice(patient["searchParam"]) {
		params[get(p, "name").(string)] = get(p, "type").(string)
	}
	assert.Equal(t, "token", params["identifier"])
	assert.Equal(t, "string", params["name"])
	assert.Equal(t, "date", params["birthdate"])
	var interactions []string
	for _, i := range asSlice(patient["interaction"]) {
		interactions = append(interactions, get(i, "code").(string))
	}
	assert.ElementsMatch(t, []string{"read", "vread", "update", "patch", "delete", "history-instance", "history-type", "create", "search-type"}, interactions)
}

func TestValidateOperation(t *testing.T) {
	s := newServer(t)
	ok := s.do("POST", "/Patient/$validate", patient("Valid"))
	require.Equal(t, http.StatusOK, ok.status, "%s", ok.raw)
	assert.Equal(t, "information", get(ok.body, "issue", "0", "severity"))

	bad := patient("Invalid")
	bad["birthDate"] = "1990-13-01"
	bad["unknownElement"] = true
	res := s.do("POST", "/Patient/$validate", bad)
	require.Equal(t, http.StatusOK, res.status)
	exprs := issueExpressions(res.body)
	assert.Contains(t, exprs, "Patient.birthDate")
	assert.Contains(t, exprs, "Patient.unknownElement")

	// Instance level, with the resource in a Parameters resource.
	params := map[string]any{"resourceType": "Parameters", "parameter": []any{
		map[string]any{"name": "resource", "resource": bad}}}
	res = s.do("POST", "/Patient/some-id/$validate", params)
	require.Equal(t, http.StatusOK, res.status)
	assert.Contains(t, issueExpressions(res.body), "Patient.birthDate")

	wrong := s.do("POST", "/Observation/$validate", patient("Wrong"))
	assert.Contains(t, issueExpressions(wrong.body), "resourceType")
}

func TestBatchEntryWithoutRequestFailsAlone(t *testing.T) {
	s := newServer(t)
	b := txBundle("batch", entry("POST", "Patient", "", patient("Fine")))
	b["entry"] = append(asSlice(b["entry"]), map[string]any{"resource": patient("NoRequest")})
	res := s.do("POST", "", b)
	require.Equal(t, http.StatusOK, res.status, "%s", res.raw)
	assert.Equal(t, "201 Created", get(res.body, "entry", "0", "response", "status"))
	assert.Equal(t, "400 Bad Request", get(res.body, "entry", "1", "response", "status"))
	assert.Contains(t, issueExpressions(get(res.body, "entry", "1", "response", "outcome").(map[string]any)), "Bundle.entry[1].request")

	tx := txBundle("transaction", entry("POST", "Patient", "", patient("Fine")))
	tx["entry"] = append(asSlice(tx["entry"]), map[string]any{"resource": patient("NoRequest")})
	assert.Equal(t, http.StatusBadRequest, s.do("POST", "", tx).status, "a transaction fails as a whole")
}
