package googlefhir_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/fhir/googlefhir"
)

func TestValidateAccepts(t *testing.T) {
	for name, data := range map[string]string{
		"Observation": `{"resourceType":"Observation","status":"final","code":{"text":"BP"},"valueQuantity":{"value":1.5}}`,
		"contained":   `{"resourceType":"Observation","status":"final","code":{"text":"x"},"contained":[{"resourceType":"Patient","id":"p"}],"subject":{"reference":"#p"}}`,
		"Bundle":      `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			assert.NoError(t, googlefhir.Validate([]byte(data)))
		})
	}
}

func TestValidateRejects(t *testing.T) {
	cases := []struct {
		name string
		json string
		code fhir.IssueType
		path string
	}{
		{"invalid JSON", `{"resourceType":`, fhir.IssueStructure, ""},
		{"no resourceType", `{"id":"x"}`, fhir.IssueStructure, "resourceType"},
		{"unknown resourceType", `{"resourceType":"Patent"}`, fhir.IssueStructure, "resourceType"},
		{"unknown element", `{"resourceType":"Patient","foo":1}`, fhir.IssueStructure, "Patient.foo"},
		{"bad date", `{"resourceType":"Patient","birthDate":"2021-02-30"}`, fhir.IssueInvalid, "Patient.birthDate"},
		{"missing required", `{"resourceType":"Observation","status":"final"}`, fhir.IssueInvalid, "Observation.code"},
		{"code outside binding", `{"resourceType":"Patient","gender":"m"}`, fhir.IssueInvalid, "Patient.gender"},
		{"two choice members", `{"resourceType":"Patient","deceasedBoolean":true,"deceasedDateTime":"2020"}`, fhir.IssueInvalid, "Patient.deceased"},
		{"reference target", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Medication/1"}}`, fhir.IssueInvalid, "Observation.subject.reference"},
		{"reference target in a choice", `{"resourceType":"MedicationRequest","status":"active","intent":"order","subject":{"reference":"Patient/1"},"medicationReference":{"reference":"Substance/1"}}`, fhir.IssueInvalid, "MedicationRequest.medicationReference.reference"},
		{"unknown element in a contained resource", `{"resourceType":"Patient","contained":[{"resourceType":"Patient","foo":1}]}`, fhir.IssueStructure, "Patient.contained[0].foo"},
		{"bad date in a bundle entry", `{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","birthDate":"x"}}]}`, fhir.IssueInvalid, "Bundle.entry[0].resource.birthDate"},
		{"missing required in a bundle entry", `{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Observation","status":"final"}}]}`, fhir.IssueInvalid, "Bundle.entry[0].resource.code"},
		{"primitive extension length", `{"resourceType":"Patient","name":[{"given":["a","b"],"_given":[null]}]}`, fhir.IssueInvalid, "Patient.name[0].given"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := googlefhir.Validate([]byte(tc.json))
			fe := fhir.AsError(err)
			require.NotNil(t, fe, "want a *fhir.Error, got %v", err)
			assert.Equal(t, tc.code, fe.Code, fe.Message)
			if tc.path == "" {
				assert.Empty(t, fe.Expression)
			} else {
				assert.Equal(t, []string{tc.path}, fe.Expression, fe.Message)
			}
			assert.NotEmpty(t, fe.Message)
		})
	}
}

func TestValidateReportsEveryIssue(t *testing.T) {
	fe := fhir.AsError(googlefhir.Validate([]byte(`{"resourceType":"Patient","foo":1,"bar":2,"gender":"m"}`)))
	require.NotNil(t, fe)
	var paths []string
	for _, is := range fe.Issues() {
		paths = append(paths, is.Expression...)
	}
	assert.ElementsMatch(t, []string{"Patient.foo", "Patient.bar", "Patient.gender"}, paths)
}

// TestValidateKeepsValuesOutOfError checks that Error(), which is what
// gets logged, leaves out the submitted values the message may quote.
func TestValidateKeepsValuesOutOfError(t *testing.T) {
	fe := fhir.AsError(googlefhir.Validate([]byte(`{"resourceType":"Patient","birthDate":"Smith-1970"}`)))
	require.NotNil(t, fe)
	assert.NotContains(t, fe.Error(), "Smith")
	assert.True(t, strings.HasPrefix(fe.Error(), "fhir: invalid at Patient.birthDate"), fe.Error())
}
