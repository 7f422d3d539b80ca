package search

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/fhir"
)

func TestExtractObservation(t *testing.T) {
	v, err := Default().Extract(MustReadObject(t, "observation.json"))
	require.NoError(t, err)

	assert.Contains(t, v.Tokens, Token{Param: "code", System: "http://loinc.org", Code: "85354-9", Display: "Blood pressure panel with all children optional"})
	assert.Contains(t, v.Tokens, Token{Param: "code", Display: "Blood pressure"})
	assert.Contains(t, v.Tokens, Token{Param: "_id", Code: "bp-2024-0001"})
	assert.Contains(t, v.Tokens, Token{Param: "_tag", System: "http://example.org/tags", Code: "ward-3", Display: "Ward 3"})
	assert.Contains(t, v.Tokens, Token{Param: "identifier", System: "urn:oid:1.2.3.4.5.6", Code: "OBS-778812", Display: "Filler number",
		OfTypeSystem: "http://terminology.hl7.org/CodeSystem/v2-0203", OfTypeCode: "FILL"})
	assert.Contains(t, v.Tokens, Token{Param: "component-code", System: "http://loinc.org", Code: "8462-4", Display: "Diastolic blood pressure"})
	assert.Contains(t, v.Tokens, Token{Param: "status", Code: "final"})

	assert.Contains(t, v.Dates, Date{Param: "date", Lo: utc("2024-03-05T09:30:00Z"), Hi: utc("2024-03-05T09:30:00.999999Z")})
	assert.Contains(t, v.Dates, Date{Param: "_lastUpdated", Lo: utc("2024-03-05T10:31:02.125Z"), Hi: utc("2024-03-05T10:31:02.125999Z")})

	assert.Contains(t, v.References, Reference{Param: "subject", Type: "Patient", ID: "pat-1042"})
	assert.Contains(t, v.References, Reference{Param: "patient", Type: "Patient", ID: "pat-1042"}, "subject.where(resolve() is Patient)")
	assert.Contains(t, v.References, Reference{Param: "derived-from", Type: "Observation", ID: "raw-55"})
	assert.Contains(t, v.References, Reference{Param: "performer", Type: "Organization", URL: "https://other.example.org/fhir/Organization/org-9"})
	assert.Contains(t, v.References, Reference{Param: "has-member", URL: "urn:uuid:1d9a5f2e-7bd8-4c4f-9f0c-5fa4f1c0b6a1"})

	assert.Contains(t, v.URIs, URI{Param: "_profile", Value: "http://hl7.org/fhir/StructureDefinition/vitalsigns"})
	assert.Contains(t, v.URIs, URI{Param: "_source", Value: "http://devices.example.org/monitor-17"})

	// Composites pair a component's code with that component's value only.
	var pairs []string
	for _, c := range v.Composites {
		if c.Param != "component-code-value-quantity" {
			continue
		}
		require.Len(t, c.Parts, 2)
		code := c.Parts[0].(Token)
		qty := c.Parts[1].(Quantity)
		assert.Equal(t, "component-code", code.Param)
		assert.Equal(t, "component-value-quantity", qty.Param)
		pairs = append(pairs, fmt.Sprintf("%s=%g", code.Code, qty.Value))
	}
	assert.ElementsMatch(t, []string{"8480-6=142", "8462-4=91.5"}, pairs)
	for _, c := range v.Composites {
		assert.NotEqual(t, "code-value-quantity", c.Param, "the Observation itself has no value")
	}
}

func TestExtractNoDuplicates(t *testing.T) {
	v, err := Default().Extract(MustParse(t, `{"resourceType":"Patient",
		"name":[{"family":"Lee","given":["Ann"]},{"family":"Lee","given":["Ann","Bo"]}],
		"generalPractitioner":[{"reference":"Practitioner/1"},{"reference":"Practitioner/1/_history/2"}]}`))
	require.NoError(t, err)
	var family, name []string
	for _, s := range v.Strings {
		switch s.Param {
		case "family":
			family = append(family, s.Value)
		case "name":
			name = append(name, s.Value)
		}
	}
	assert.Equal(t, []string{"Lee"}, family)
	assert.Equal(t, []string{"Lee", "Ann", "Bo"}, name)
	var gp []Reference
	for _, r := range v.References {
		if r.Param == "general-practitioner" {
			gp = append(gp, r)
		}
	}
	assert.Equal(t, []Reference{{Param: "general-practitioner", Type: "Practitioner", ID: "1"}}, gp)
}

func TestExtractErrors(t *testing.T) {
	reg := Default()
	_, err := reg.Extract(MustParse(t, `{"resourceType":"Nonesuch"}`))
	assert.Equal(t, fhir.IssueNotSupported, fhir.ErrorCode(err))
	_, err = reg.Extract(fhir.Object{})
	assert.Equal(t, fhir.IssueNotSupported, fhir.ErrorCode(err))

	_, err = reg.Extract(MustParse(t, `{"resourceType":"Patient","birthDate":"17.05.1980"}`))
	require.Error(t, err)
	fe := fhir.AsError(err)
	require.NotNil(t, fe)
	assert.Equal(t, fhir.IssueValue, fe.Code)
	assert.Equal(t, []string{"Patient.birthDate"}, fe.Expression)
	assert.NotContains(t, err.Error(), "17.05.1980", "the logged form quotes no data")
}

func TestExtractBoolean(t *testing.T) {
	cases := []struct{ patient, want string }{
		{`{"resourceType":"Patient","deceasedBoolean":true}`, "true"},
		{`{"resourceType":"Patient","deceasedDateTime":"2020-01-01"}`, "true"},
		{`{"resourceType":"Patient","deceasedBoolean":false}`, "false"},
		{`{"resourceType":"Patient"}`, "false"},
	}
	for _, tc := range cases {
		v, err := Default().Extract(MustParse(t, tc.patient))
		require.NoError(t, err)
		assert.Contains(t, v.Tokens, Token{Param: "deceased", Code: tc.want}, tc.patient)
	}
}

func ExampleRegistry_Extract() {
	patient, err := fhir.ParseObject([]byte(`{
		"resourceType": "Patient", "id": "p1",
		"name": [{"family": "Müller", "given": ["Anna"]}],
		"birthDate": "1980-05",
		"generalPractitioner": [{"reference": "Practitioner/d1"}]
	}`))
	if err != nil {
		panic(err)
	}
	v, err := Default().Extract(patient)
	if err != nil {
		panic(err)
	}
	for _, s := range v.Strings {
		if s.Param == "name" {
			fmt.Printf("name %q, normalised %q\n", s.Value, Normalize(s.Value))
		}
	}
	for _, d := range v.Dates {
		fmt.Println(d.Param, d.Lo.Format("2006-01-02"), d.Hi.Format("2006-01-02T15:04:05.999999"))
	}
	for _, r := range v.References {
		fmt.Println(r.Param, r.Type, r.ID)
	}
	// Output:
	// name "Müller", normalised "muller"
	// name "Anna", normalised "anna"
	// birthdate 1980-05-01 1980-05-31T23:59:59.999999
	// general-practitioner Practitioner d1
}

func ExampleParseDate() {
	lo, hi, err := ParseDate("2024-03-05T10:30+01:00")
	if err != nil {
		panic(err)
	}
	fmt.Println(lo.Format("2006-01-02T15:04:05.999999Z07:00"), hi.Format("2006-01-02T15:04:05.999999Z07:00"))
	// Output: 2024-03-05T09:30:00Z 2024-03-05T09:30:59.999999Z
}
