package service_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/fhir/search"
	"github.com/fhirhub/fhirhub/service"
	"github.com/fhirhub/fhirhub/store"
)

const parseBase = "https://fhir.example.org/r4"

// mustParseSearch parses a query string and fails on errors.
func mustParseSearch(t *testing.T, typ, query string) (*store.SearchQuery, []fhir.Issue) {
	t.Helper()
	params, err := url.ParseQuery(query)
	require.NoError(t, err)
	q, warnings, err := service.ParseSearch(search.Default(), typ, params, service.WithBaseURL(parseBase))
	require.NoError(t, err, "%s?%s", typ, query)
	return q, warnings
}

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func endOfDay(y int, m time.Month, d int) time.Time {
	return day(y, m, d).Add(24*time.Hour - time.Microsecond)
}

// TestParseSearchClauses checks how parameters become clauses
// (R4 search.html: types, modifiers, prefixes, escapes, OR and AND).
func TestParseSearchClauses(t *testing.T) {
	cases := []struct {
		name, typ, query string
		want             []store.Clause
	}{
		{"string", "Patient", "name=smith",
			[]store.Clause{{Param: "name", Type: "string", Values: []store.Value{{Raw: "smith"}}}}},
		{"comma is or, repetition is and", "Patient", "name=a,b&name=c",
			[]store.Clause{
				{Param: "name", Type: "string", Values: []store.Value{{Raw: "a"}, {Raw: "b"}}},
				{Param: "name", Type: "string", Values: []store.Value{{Raw: "c"}}},
			}},
		{"escapes", "Patient", `name=a\,b,c\\&family:exact=x\$y\|z`,
			[]store.Clause{
				{Param: "family", Type: "string", Modifier: "exact", Values: []store.Value{{Raw: "x$y|z"}}},
				{Param: "name", Type: "string", Values: []store.Value{{Raw: "a,b"}, {Raw: `c\`}}},
			}},
		{"empty alternatives dropped", "Patient", "name=a,,b",
			[]store.Clause{{Param: "name", Type: "string", Values: []store.Value{{Raw: "a"}, {Raw: "b"}}}}},
		{"empty value ignored", "Patient", "name=", nil},
		{"token forms", "Observation", `code=c1,http://loinc.org|c2,|c3,http://loinc.org|,s\|x|c\,4`,
			[]store.Clause{{Param: "code", Type: "token", Values: []store.Value{
				{Raw: "c1", Code: "c1"},
				{Raw: "http://loinc.org|c2", System: "http://loinc.org", Code: "c2", HasSystem: true},
				{Raw: "|c3", Code: "c3", HasSystem: true},
				{Raw: "http://loinc.org|", System: "http://loinc.org", HasSystem: true},
				{Raw: "s|x|c,4", System: "s|x", Code: "c,4", HasSystem: true},
			}}}},
		{"token not", "Patient", "gender:not=male",
			[]store.Clause{{Param: "gender", Type: "token", Modifier: "not", Values: []store.Value{{Raw: "male", Code: "male"}}}}},
		{"token text", "Observation", "code:text=blood|x",
			[]store.Clause{{Param: "code", Type: "token", Modifier: "text", Values: []store.Value{{Raw: "blood|x"}}}}},
		{"of-type", "Patient", "identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|446053",
			[]store.Clause{{Param: "identifier", Type: "token", Modifier: "of-type", Values: []store.Value{{
				Raw: "http://terminology.hl7.org/CodeSystem/v2-0203|MR|446053",
				Parts: []store.Value{
					{System: "http://terminology.hl7.org/CodeSystem/v2-0203", Code: "MR", HasSystem: true},
					{Code: "446053"},
				}}}}}},
		{"missing", "Patient", "birthdate:missing=true",
			[]store.Clause{{Param: "birthdate", Type: "date", Modifier: "missing", Values: []store.Value{{Raw: "true", Missing: true}}}}},
		{"date prefix", "Patient", "birthdate=ge2020-01",
			[]store.Clause{{Param: "birthdate", Type: "date", Values: []store.Value{{
				Raw: "2020-01", Prefix: "ge", Lo: day(2020, 1, 1), Hi: endOfDay(2020, 1, 31)}}}}},
		{"date without prefix", "Patient", "birthdate=2020-01-02",
			[]store.Clause{{Param: "birthdate", Type: "date", Values: []store.Value{{
				Raw: "2020-01-02", Lo: day(2020, 1, 2), Hi: endOfDay(2020, 1, 2)}}}}},
		{"_lastUpdated", "Patient", "_lastUpdated=lt2024",
			[]store.Clause{{Param: "_lastUpdated", Type: "date", Values: []store.Value{{
				Raw: "2024", Prefix: "lt", Lo: day(2024, 1, 1), Hi: endOfDay(2024, 12, 31)}}}}},
		{"_id", "Patient", "_id=a,b",
			[]store.Clause{{Param: "_id", Type: "token", Values: []store.Value{{Raw: "a", Code: "a"}, {Raw: "b", Code: "b"}}}}},
		{"number", "RiskAssessment", "probability=gt0.5",
			[]store.Clause{{Param: "probability", Type: "number", Values: []store.Value{{
				Raw: "0.5", Prefix: "gt", Number: 0.5, NumLo: 0.45, NumHi: 0.55}}}}},
		{"number integer", "RiskAssessment", "probability=100",
			[]store.Clause{{Param: "probability", Type: "number", Values: []store.Value{{
				Raw: "100", Number: 100, NumLo: 99.5, NumHi: 100.5}}}}},
		{"quantity", "Observation", "value-quantity=le5.4|http://unitsofmeasure.org|mg,5||mg,7",
			[]store.Clause{{Param: "value-quantity", Type: "quantity", Values: []store.Value{
				{Raw: "5.4|http://unitsofmeasure.org|mg", Prefix: "le", Number: 5.4, NumLo: 5.3500000000000005, NumHi: 5.45,
					UnitSystem: "http://unitsofmeasure.org", UnitCode: "mg", HasUnit: true},
				{Raw: "5||mg", Number: 5, NumLo: 4.5, NumHi: 5.5, UnitCode: "mg", HasUnit: true},
				{Raw: "7", Number: 7, NumLo: 6.5, NumHi: 7.5},
			}}}},
		{"uri below", "ValueSet", "url:below=http://acme.org/fhir/",
			[]store.Clause{{Param: "url", Type: "uri", Modifier: "below", Values: []store.Value{{Raw: "http://acme.org/fhir/"}}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, warnings := mustParseSearch(t, tc.typ, tc.query)
			assert.Empty(t, warnings)
			assert.Equal(t, tc.want, q.Where)
			assert.Equal(t, tc.typ, q.Type)
		})
	}
}

var observationSubjectTargets = []string{"Group", "Device", "Patient", "Location"}

// TestParseSearchReferences checks reference values (search.html#reference),
// chains and _has.
func TestParseSearchReferences(t *testing.T) {
	ref := func(vals ...store.Value) []store.Clause {
		return []store.Clause{{Param: "subject", Type: "reference", Targets: observationSubjectTargets, Values: vals}}
	}
	cases := []struct {
		name, typ, query string
		want             []store.Clause
	}{
		{"Type/id", "Observation", "subject=Patient/123", ref(store.Value{Raw: "Patient/123", RefType: "Patient", RefID: "123"})},
		{"bare id", "Observation", "subject=123", ref(store.Value{Raw: "123", RefID: "123"})},
		{"history dropped", "Observation", "subject=Patient/1/_history/2", ref(store.Value{Raw: "Patient/1/_history/2", RefType: "Patient", RefID: "1"})},
		{"local URL", "Observation", "subject=" + parseBase + "/Patient/9",
			ref(store.Value{Raw: parseBase + "/Patient/9", RefType: "Patient", RefID: "9"})},
		{"other URL", "Observation", "subject=http://other.org/fhir/Patient/9",
			ref(store.Value{Raw: "http://other.org/fhir/Patient/9", URL: "http://other.org/fhir/Patient/9"})},
		{"canonical version dropped", "Observation", "subject=http://x.org/Group/g|2.0",
			ref(store.Value{Raw: "http://x.org/Group/g|2.0", URL: "http://x.org/Group/g"})},
		{"type modifier", "Observation", "subject:Patient=7",
			[]store.Clause{{Param: "subject", Type: "reference", Modifier: "Patient", Targets: observationSubjectTargets,
				Values: []store.Value{{Raw: "7", RefType: "Patient", RefID: "7"}}}}},
		{"typed chain", "Observation", "subject:Patient.name=ann",
			[]store.Clause{{Param: "subject", Type: "reference", Targets: observationSubjectTargets, Chain: &store.Chain{
				TargetType: "Patient",
				Clause:     store.Clause{Param: "name", Type: "string", Values: []store.Value{{Raw: "ann"}}}}}}},
		{"two-level chain", "Observation", "patient.organization.name:exact=Acme",
			[]store.Clause{{Param: "patient", Type: "reference", Targets: []string{"Patient"}, Chain: &store.Chain{
				TargetType: "Patient",
				Clause: store.Clause{Param: "organization", Type: "reference", Targets: []string{"Organization"}, Chain: &store.Chain{
					TargetType: "Organization",
					Clause:     store.Clause{Param: "name", Type: "string", Modifier: "exact", Values: []store.Value{{Raw: "Acme"}}}}}}}}},
		{"chain every target has", "Observation", "subject.identifier=x",
			[]store.Clause{{Param: "subject", Type: "reference", Targets: observationSubjectTargets, Chain: &store.Chain{
				Clause: store.Clause{Param: "identifier", Type: "token", Values: []store.Value{{Raw: "x", Code: "x"}}}}}}},
		{"has", "Patient", "_has:Observation:patient:code=1234",
			[]store.Clause{{Param: "_has", Type: "special", Has: &store.Has{Type: "Observation", RefParam: "patient",
				Clause: store.Clause{Param: "code", Type: "token", Values: []store.Value{{Raw: "1234", Code: "1234"}}}}}}},
		{"nested has", "Organization", "_has:Patient:organization:_has:Observation:patient:status=final",
			[]store.Clause{{Param: "_has", Type: "special", Has: &store.Has{Type: "Patient", RefParam: "organization",
				Clause: store.Clause{Param: "_has", Type: "special", Has: &store.Has{Type: "Observation", RefParam: "patient",
					Clause: store.Clause{Param: "status", Type: "token", Values: []store.Value{{Raw: "final", Code: "final"}}}}}}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, warnings := mustParseSearch(t, tc.typ, tc.query)
			assert.Empty(t, warnings)
			assert.Equal(t, tc.want, q.Where)
		})
	}
}

// TestParseSearchComposite checks composite values (search.html#composite).
func TestParseSearchComposite(t *testing.T) {
	q, warnings := mustParseSearch(t, "Observation", `code-value-quantity=http://loinc.org|8480-6$gt100,http://x|a\$b$5`)
	assert.Empty(t, warnings)
	require.Len(t, q.Where, 1)
	c := q.Where[0]
	assert.Equal(t, "composite", c.Type)
	assert.Equal(t, []store.Clause{{Param: "code", Type: "token"}, {Param: "value-quantity", Type: "quantity"}}, c.Components)
	require.Len(t, c.Values, 2)
	assert.Equal(t, []store.Value{
		{Raw: "http://loinc.org|8480-6", System: "http://loinc.org", Code: "8480-6", HasSystem: true},
		{Raw: "100", Prefix: "gt", Number: 100, NumLo: 99.5, NumHi: 100.5},
	}, c.Values[0].Parts)
	// An escaped $ belongs to the component value.
	assert.Equal(t, store.Value{Raw: "http://x|a$b", System: "http://x", Code: "a$b", HasSystem: true}, c.Values[1].Parts[0])
	// Three parts for two components.
	_, _, err := service.ParseSearch(search.Default(), "Observation", url.Values{"code-value-quantity": {"a$1$2"}})
	assert.Equal(t, fhir.IssueInvalid, fhir.ErrorCode(err))
}

// TestParseSearchResultParams checks _sort, _count, _total, _include,
// _revinclude, the cursor and the parameters left to the REST layer.
func TestParseSearchResultParams(t *testing.T) {
	q, warnings := mustParseSearch(t, "Observation",
		"_sort=-date,status,_id,-_lastUpdated&_count=50&_total=estimate&_cursor=abc&_summary=true&_elements=id&_format=json&_pretty=true&_contained=false&_containedType=container"+
			"&_include=Observation:subject&_include=Observation:subject:Patient&_include:iterate=Patient:organization&_include=*"+
			"&_revinclude=Provenance:target&_revinclude:iterate=Observation:has-member")
	assert.Empty(t, warnings)
	assert.Equal(t, []store.SortKey{
		{Param: "date", Type: "date", Descending: true},
		{Param: "status", Type: "token"},
		{Param: "_id", Type: "token"},
		{Param: "_lastUpdated", Type: "date", Descending: true},
	}, q.Sort)
	assert.Equal(t, 50, q.Count)
	assert.False(t, q.CountOnly)
	assert.Equal(t, store.TotalEstimate, q.Total)
	assert.Equal(t, "abc", q.Cursor)
	assert.Equal(t, []store.Include{
		{SourceType: "Observation", Param: "subject"},
		{SourceType: "Observation", Param: "subject", TargetType: "Patient"},
		{SourceType: "*", Param: "*"},
		{SourceType: "Patient", Param: "organization", Iterate: true},
	}, q.Include)
	assert.Equal(t, []store.Include{
		{SourceType: "Provenance", Param: "target"},
		{SourceType: "Observation", Param: "has-member", Iterate: true},
	}, q.RevInclude)
	assert.Empty(t, q.Where)

	q, _ = mustParseSearch(t, "Patient", "_count=0")
	assert.True(t, q.CountOnly)
	q, _ = mustParseSearch(t, "Patient", "_summary=count")
	assert.True(t, q.CountOnly)

	q, _ = mustParseSearch(t, "Patient", "_revinclude=Encounter:*")
	assert.Contains(t, q.RevInclude, store.Include{SourceType: "Encounter", Param: "subject"})
	assert.Contains(t, q.RevInclude, store.Include{SourceType: "Encounter", Param: "patient"})
	for _, inc := range q.RevInclude {
		assert.Equal(t, "Encounter", inc.SourceType)
		assert.NotEqual(t, "*", inc.Param)
	}
}

// TestParseSearchWarnings checks that unknown and unsearchable parameters
// are left out with a warning naming them.
func TestParseSearchWarnings(t *testing.T) {
	cases := []struct {
		name, typ, query, expression string
	}{
		{"unknown", "Patient", "foo=bar", "foo"},
		{"unknown with modifier", "Patient", "foo:exact=bar", "foo:exact"},
		{"unknown in chain", "Observation", "subject:Patient.foo=bar", "subject:Patient.foo"},
		{"_text", "Patient", "_text=x", "_text"},
		{"_content", "Patient", "_content=x", "_content"},
		{"_filter", "Patient", "_filter=name eq x", "_filter"},
		{"special", "Location", "near=1|2|3|km", "near"},
		{"unknown sort key", "Patient", "_sort=foo", "_sort"},
		{"unknown include", "Patient", "_include=Patient:foo", "_include"},
		{"revinclude *", "Patient", "_revinclude=*", "_revinclude"},
		{"_type on a type", "Patient", "_type=Patient", "_type"},
		{"param not on every _type", "", "_type=Patient,Observation&name=x", "name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, warnings := mustParseSearch(t, tc.typ, tc.query)
			require.Len(t, warnings, 1)
			assert.Equal(t, fhir.SeverityWarning, warnings[0].Severity)
			assert.Equal(t, fhir.IssueNotSupported, warnings[0].Code)
			assert.Equal(t, []string{tc.expression}, warnings[0].Expression)
			assert.Empty(t, q.Where)
		})
	}
}

// TestParseSearchErrors checks that malformed values, unknown or
// unsupported modifiers and ambiguous chains are errors naming the
// parameter.
func TestParseSearchErrors(t *testing.T) {
	cases := []struct {
		name, typ, query string
		code             fhir.IssueType
		expression       string
	}{
		{"bad date", "Patient", "birthdate=ge2020-13", fhir.IssueInvalid, "birthdate"},
		{"bad number", "RiskAssessment", "probability=gtabc", fhir.IssueInvalid, "probability"},
		{"number NaN", "RiskAssessment", "probability=NaN", fhir.IssueInvalid, "probability"},
		{"bad quantity", "Observation", "value-quantity=5|mg", fhir.IssueInvalid, "value-quantity"},
		{"quantity system without code", "Observation", "value-quantity=5|http://unitsofmeasure.org|", fhir.IssueInvalid, "value-quantity"},
		{"token with two bars", "Observation", "code=a|b|c", fhir.IssueInvalid, "code"},
		{"missing not boolean", "Patient", "name:missing=maybe", fhir.IssueInvalid, "name:missing"},
		{"unknown modifier", "Patient", "name:fuzzy=x", fhir.IssueInvalid, "name:fuzzy"},
		{"modifier of another type", "Patient", "birthdate:exact=2020", fhir.IssueNotSupported, "birthdate:exact"},
		{"token below", "Observation", "code:below=x", fhir.IssueNotSupported, "code:below"},
		{"token in", "Observation", "code:in=http://vs", fhir.IssueNotSupported, "code:in"},
		{"reference identifier", "Observation", "subject:identifier=x|y", fhir.IssueNotSupported, "subject:identifier"},
		{"reference to wrong type", "Observation", "subject:Organization=1", fhir.IssueInvalid, "subject:Organization"},
		{"reference value of other type", "Observation", "subject:Patient=Group/1", fhir.IssueInvalid, "subject:Patient"},
		{"reference unknown type", "Observation", "subject=Foo/1", fhir.IssueInvalid, "subject"},
		{"reference bad id", "Observation", "subject=Patient/a b", fhir.IssueInvalid, "subject"},
		{"ambiguous chain", "Observation", "subject.name=x", fhir.IssueInvalid, "subject.name"},
		{"chain on non-reference", "Patient", "name.family=x", fhir.IssueInvalid, "name.family"},
		{"chain too long", "Patient", "organization.partof.partof.partof.partof.name=x", fhir.IssueInvalid, "organization.partof.partof.partof.partof.name"},
		{"has unknown type", "Patient", "_has:Foo:patient:code=1", fhir.IssueInvalid, "_has:Foo:patient:code"},
		{"has non-reference", "Patient", "_has:Observation:code:status=final", fhir.IssueInvalid, "_has:Observation:code:status"},
		{"has incomplete", "Patient", "_has:Observation:patient", fhir.IssueInvalid, "_has:Observation:patient"},
		{"has without type", "", "_has:Observation:patient:code=1", fhir.IssueInvalid, "_has:Observation:patient:code"},
		{"composite parts", "Observation", "code-value-quantity=8480-6", fhir.IssueInvalid, "code-value-quantity"},
		{"_count", "Patient", "_count=-1", fhir.IssueInvalid, "_count"},
		{"_total", "Patient", "_total=some", fhir.IssueInvalid, "_total"},
		{"_type unknown", "", "_type=Foo", fhir.IssueInvalid, "_type"},
		{"_id modifier", "Patient", "_id:missing=true", fhir.IssueNotSupported, "_id:missing"},
		{"include modifier", "Patient", "_include:deep=Patient:link", fhir.IssueInvalid, "_include:deep"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			params, err := url.ParseQuery(tc.query)
			require.NoError(t, err)
			_, _, err = service.ParseSearch(search.Default(), tc.typ, params)
			fe := fhir.AsError(err)
			require.NotNil(t, fe, "want a *fhir.Error, got %v", err)
			assert.Equal(t, tc.code, fe.Code, fe.Message)
			assert.Equal(t, []string{tc.expression}, fe.Expression, fe.Message)
			assert.NotEmpty(t, fe.Message)
		})
	}
}

// TestParseSearchAcrossTypes checks a search across all types: with
// clauses the query carries every type (or _type's), without none.
func TestParseSearchAcrossTypes(t *testing.T) {
	q, warnings := mustParseSearch(t, "", "_count=5")
	assert.Empty(t, warnings)
	assert.Empty(t, q.Types)

	q, warnings = mustParseSearch(t, "", "_id=1&_lastUpdated=gt2020")
	assert.Empty(t, warnings)
	assert.Contains(t, q.Types, "Patient")
	assert.Len(t, q.Where, 2)

	q, warnings = mustParseSearch(t, "", "_tag=http://t|x")
	assert.Empty(t, warnings)
	assert.Contains(t, q.Types, "Patient")
	assert.Contains(t, q.Types, "Observation")
	assert.Greater(t, len(q.Types), 100)

	q, warnings = mustParseSearch(t, "", "_type=Patient,Observation&_tag=http://t|x")
	assert.Empty(t, warnings)
	assert.Equal(t, []string{"Patient", "Observation"}, q.Types)

	params := url.Values{"_security": {"http://s|R"}}
	q, _, err := service.ParseSearch(search.Default(), "", params, service.WithResourceTypes([]string{"Patient", "Encounter"}))
	require.NoError(t, err)
	assert.Equal(t, []string{"Patient", "Encounter"}, q.Types)
}
