package search

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/fhir"
)

// convert indexes one JSON value of FHIR type typeName as a parameter of
// type typ named "p".
func convert(tb testing.TB, typ Type, typeName, value string) (Values, error) {
	tb.Helper()
	m := Default().snap.Load().m
	t := m.types[typeName]
	require.NotNil(tb, t, typeName)
	v, err := fhir.ParseJSON([]byte(value))
	require.NoError(tb, err)
	var out Values
	s := sink{m: m, v: &out, param: "p", expr: "X.p"}
	err = s.add(typ, node{v, t})
	return out, err
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestIndexString(t *testing.T) {
	cases := []struct {
		name, typ, value string
		want             []string
	}{
		{"string", "string", `"Main St"`, []string{"Main St"}},
		{"markdown", "markdown", `"*bold*"`, []string{"*bold*"}},
		{"empty string", "string", `""`, nil},
		{"HumanName", "HumanName", `{"use":"official","family":"Müller","given":["Anna","Marie"],"prefix":["Dr."],"suffix":["PhD"],"text":"Dr. Anna Müller"}`,
			[]string{"Müller", "Anna", "Marie", "Dr.", "PhD", "Dr. Anna Müller"}},
		{"Address", "Address", `{"use":"home","line":["1 Main St","Apt 2"],"city":"Springfield","district":"Hampden","state":"MA","postalCode":"01101","country":"US","text":"1 Main St"}`,
			[]string{"1 Main St", "Apt 2", "Springfield", "Hampden", "MA", "01101", "US", "1 Main St"}},
		{"other complex type", "Period", `{"start":"2020"}`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := convert(t, TypeString, tc.typ, tc.value)
			require.NoError(t, err)
			var got []string
			for _, s := range v.Strings {
				assert.Equal(t, "p", s.Param)
				got = append(got, s.Value)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestIndexToken(t *testing.T) {
	cases := []struct {
		name, typ, value string
		want             []Token
	}{
		{"Coding", "Coding", `{"system":"http://loinc.org","code":"8302-2","display":"Body height"}`,
			[]Token{{System: "http://loinc.org", Code: "8302-2", Display: "Body height"}}},
		{"CodeableConcept", "CodeableConcept", `{"coding":[{"system":"s1","code":"c1","display":"d1"},{"system":"s2","code":"c2"}],"text":"the text"}`,
			[]Token{{System: "s1", Code: "c1", Display: "d1"}, {System: "s2", Code: "c2"}, {Display: "the text"}}},
		{"CodeableConcept text only", "CodeableConcept", `{"text":"free text"}`, []Token{{Display: "free text"}}},
		{"Identifier", "Identifier", `{"system":"urn:oid:1.2","value":"123"}`, []Token{{System: "urn:oid:1.2", Code: "123"}}},
		{"Identifier with type", "Identifier", `{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}],"text":"Medical record number"},"system":"urn:oid:1.2","value":"123"}`,
			[]Token{{System: "urn:oid:1.2", Code: "123", Display: "Medical record number", OfTypeSystem: "http://terminology.hl7.org/CodeSystem/v2-0203", OfTypeCode: "MR"}}},
		{"ContactPoint", "ContactPoint", `{"system":"phone","value":"555-1234","use":"home"}`, []Token{{System: "home", Code: "555-1234"}}},
		{"code", "code", `"final"`, []Token{{Code: "final"}}},
		{"id", "id", `"abc"`, []Token{{Code: "abc"}}},
		{"uri", "uri", `"http://x"`, []Token{{Code: "http://x"}}},
		{"boolean true", "boolean", `true`, []Token{{Code: "true"}}},
		{"boolean false", "boolean", `false`, []Token{{Code: "false"}}},
		{"empty coding", "Coding", `{"version":"1"}`, nil},
		{"not a token type", "Quantity", `{"value":1}`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := convert(t, TypeToken, tc.typ, tc.value)
			require.NoError(t, err)
			for i := range tc.want {
				tc.want[i].Param = "p"
			}
			assert.Equal(t, tc.want, v.Tokens)
		})
	}
}

func TestIndexDate(t *testing.T) {
	cases := []struct {
		name, typ, value string
		want             []Date
		err              bool
	}{
		{"date", "date", `"2024-03"`, []Date{{Lo: utc("2024-03-01T00:00:00Z"), Hi: utc("2024-03-31T23:59:59.999999Z")}}, false},
		{"dateTime", "dateTime", `"2024-03-05T10:30:00+01:00"`, []Date{{Lo: utc("2024-03-05T09:30:00Z"), Hi: utc("2024-03-05T09:30:00.999999Z")}}, false},
		{"instant", "instant", `"2024-03-05T10:30:00.123Z"`, []Date{{Lo: utc("2024-03-05T10:30:00.123Z"), Hi: utc("2024-03-05T10:30:00.123999Z")}}, false},
		{"Period", "Period", `{"start":"2024-01-01","end":"2024-01-02"}`, []Date{{Lo: utc("2024-01-01T00:00:00Z"), Hi: utc("2024-01-02T23:59:59.999999Z")}}, false},
		{"Period open end", "Period", `{"start":"2024-01-01T08:00:00Z"}`, []Date{{Lo: utc("2024-01-01T08:00:00Z"), Hi: MaxTime}}, false},
		{"Period open start", "Period", `{"end":"2024"}`, []Date{{Lo: MinTime, Hi: utc("2024-12-31T23:59:59.999999Z")}}, false},
		{"empty Period", "Period", `{}`, nil, false},
		{"Timing", "Timing", `{"event":["2024-01-01","2024-02-01"],"repeat":{"boundsPeriod":{"start":"2024-01-01","end":"2024-06-30"},"frequency":1}}`,
			[]Date{
				{Lo: utc("2024-01-01T00:00:00Z"), Hi: utc("2024-01-01T23:59:59.999999Z")},
				{Lo: utc("2024-02-01T00:00:00Z"), Hi: utc("2024-02-01T23:59:59.999999Z")},
				{Lo: utc("2024-01-01T00:00:00Z"), Hi: utc("2024-06-30T23:59:59.999999Z")},
			}, false},
		{"Timing code only", "Timing", `{"code":{"text":"BID"}}`, nil, false},
		{"time is not a date", "time", `"10:00:00"`, nil, false},
		{"invalid date", "dateTime", `"2024-13-01"`, nil, true},
		{"invalid Period", "Period", `{"start":"yesterday"}`, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := convert(t, TypeDate, tc.typ, tc.value)
			if tc.err {
				require.Error(t, err)
				assert.Equal(t, fhir.IssueValue, fhir.ErrorCode(err))
				assert.Equal(t, []string{"X.p"}, fhir.AsError(err).Expression)
				return
			}
			require.NoError(t, err)
			for i := range tc.want {
				tc.want[i].Param = "p"
			}
			assert.Equal(t, tc.want, v.Dates)
		})
	}
}

func TestIndexNumber(t *testing.T) {
	cases := []struct {
		in        string
		v, lo, hi float64
	}{
		{"1.5", 1.5, 1.45, 1.55},
		{"100", 100, 99.5, 100.5},
		{"1.50", 1.5, 1.495, 1.505},
		{"0.0001", 0.0001, 0.00005, 0.00015},
		{"-2", -2, -2.5, -1.5},
		{"1.5e2", 150, 145, 155},
		{"15E-1", 1.5, 1.45, 1.55},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			v, err := convert(t, TypeNumber, "decimal", tc.in)
			require.NoError(t, err)
			require.Len(t, v.Numbers, 1)
			n := v.Numbers[0]
			assert.Equal(t, "p", n.Param)
			assert.InDelta(t, tc.v, n.Value, 1e-12)
			assert.InDelta(t, tc.lo, n.Lo, 1e-12)
			assert.InDelta(t, tc.hi, n.Hi, 1e-12)
		})
	}
}

func TestIndexQuantity(t *testing.T) {
	inf := math.Inf(1)
	cases := []struct {
		name, typ, value string
		want             []Quantity
	}{
		{"Quantity", "Quantity", `{"value":167.7,"unit":"cm","system":"http://unitsofmeasure.org","code":"cm"}`,
			[]Quantity{{System: "http://unitsofmeasure.org", Code: "cm", Unit: "cm", Value: 167.7, Lo: 167.65, Hi: 167.75}}},
		{"Age", "Age", `{"value":42,"unit":"yr","system":"http://unitsofmeasure.org","code":"a"}`,
			[]Quantity{{System: "http://unitsofmeasure.org", Code: "a", Unit: "yr", Value: 42, Lo: 41.5, Hi: 42.5}}},
		{"Duration", "Duration", `{"value":2,"code":"h","system":"http://unitsofmeasure.org"}`,
			[]Quantity{{System: "http://unitsofmeasure.org", Code: "h", Value: 2, Lo: 1.5, Hi: 2.5}}},
		{"comparator", "Quantity", `{"value":5,"comparator":"<","unit":"mg"}`,
			[]Quantity{{Unit: "mg", Value: 5, Lo: -inf, Hi: 5.5}}},
		{"Money", "Money", `{"value":12.5,"currency":"EUR"}`,
			[]Quantity{{System: "urn:iso:std:iso:4217", Code: "EUR", Value: 12.5, Lo: 12.45, Hi: 12.55}}},
		{"Range", "Range", `{"low":{"value":1,"code":"mg"},"high":{"value":3,"code":"mg"}}`,
			[]Quantity{{Code: "mg", Value: 1, Lo: 0.5, Hi: 3.5}}},
		{"Range low only", "Range", `{"low":{"value":1,"code":"mg"}}`,
			[]Quantity{{Code: "mg", Value: 1, Lo: 0.5, Hi: inf}}},
		{"Range high only", "Range", `{"high":{"value":3,"code":"mg"}}`,
			[]Quantity{{Code: "mg", Value: 3, Lo: -inf, Hi: 3.5}}},
		{"no value", "Quantity", `{"unit":"mg"}`, nil},
		{"SampledData", "SampledData", `{"origin":{"value":0},"period":1,"dimensions":1,"data":"1 2 3"}`, nil},
		{"number", "integer", `7`, []Quantity{{Value: 7, Lo: 6.5, Hi: 7.5}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := convert(t, TypeQuantity, tc.typ, tc.value)
			require.NoError(t, err)
			require.Len(t, v.Quantities, len(tc.want))
			for i, want := range tc.want {
				got := v.Quantities[i]
				assert.Equal(t, "p", got.Param)
				assert.Equal(t, [3]string{want.System, want.Code, want.Unit}, [3]string{got.System, got.Code, got.Unit})
				assert.InDelta(t, want.Value, got.Value, 1e-9)
				if math.IsInf(want.Lo, 0) {
					assert.Equal(t, want.Lo, got.Lo)
				} else {
					assert.InDelta(t, want.Lo, got.Lo, 1e-9)
				}
				if math.IsInf(want.Hi, 0) {
					assert.Equal(t, want.Hi, got.Hi)
				} else {
					assert.InDelta(t, want.Hi, got.Hi, 1e-9)
				}
			}
		})
	}
}

func TestIndexReference(t *testing.T) {
	cases := []struct {
		name, typ, value string
		want             []Reference
	}{
		{"relative", "Reference", `{"reference":"Patient/123"}`, []Reference{{Type: "Patient", ID: "123"}}},
		{"relative with version", "Reference", `{"reference":"Patient/123/_history/4"}`, []Reference{{Type: "Patient", ID: "123"}}},
		{"absolute", "Reference", `{"reference":"http://other.org/fhir/Patient/123"}`, []Reference{{Type: "Patient", URL: "http://other.org/fhir/Patient/123"}}},
		{"absolute with version", "Reference", `{"reference":"http://other.org/fhir/Patient/123/_history/4"}`, []Reference{{Type: "Patient", URL: "http://other.org/fhir/Patient/123"}}},
		{"absolute, not a resource", "Reference", `{"reference":"http://other.org/documents/7"}`, []Reference{{URL: "http://other.org/documents/7"}}},
		{"urn:uuid", "Reference", `{"reference":"urn:uuid:9b1c5c6e-2d1f-4c57-9a53-0c3b1c0f6a11"}`, []Reference{{URL: "urn:uuid:9b1c5c6e-2d1f-4c57-9a53-0c3b1c0f6a11"}}},
		{"urn:uuid with type", "Reference", `{"reference":"urn:uuid:9b1c","type":"Patient"}`, []Reference{{Type: "Patient", URL: "urn:uuid:9b1c"}}},
		{"conditional", "Reference", `{"reference":"Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|999"}`, []Reference{{Type: "Practitioner", URL: "Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|999"}}},
		{"contained", "Reference", `{"reference":"#med1"}`, nil},
		{"logical only", "Reference", `{"identifier":{"system":"s","value":"v"}}`, nil},
		{"unknown type", "Reference", `{"reference":"Foo/1"}`, []Reference{{URL: "Foo/1"}}},
		{"canonical", "canonical", `"http://example.org/Questionnaire/q1"`, []Reference{{URL: "http://example.org/Questionnaire/q1"}}},
		{"canonical with version", "canonical", `"http://example.org/Questionnaire/q1|2.0"`, []Reference{{URL: "http://example.org/Questionnaire/q1", Version: "2.0"}}},
		{"uri", "uri", `"urn:oid:1.2.3"`, []Reference{{URL: "urn:oid:1.2.3"}}},
		{"resource", "Composition", `{"resourceType":"Composition","id":"c1"}`, []Reference{{Type: "Composition", ID: "c1"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := convert(t, TypeReference, tc.typ, tc.value)
			require.NoError(t, err)
			for i := range tc.want {
				tc.want[i].Param = "p"
			}
			assert.Equal(t, tc.want, v.References)
		})
	}
}

func TestIndexURI(t *testing.T) {
	for _, typ := range []string{"uri", "url", "canonical", "oid", "uuid"} {
		v, err := convert(t, TypeURI, typ, `"urn:x:1"`)
		require.NoError(t, err)
		assert.Equal(t, []URI{{Param: "p", Value: "urn:x:1"}}, v.URIs, typ)
	}
}
