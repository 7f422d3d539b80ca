package search

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/fhir"
)

// TestR4ParamsCompile compiles every R4 SearchParameter for every resource
// type it applies to: all that have an expression must compile, and none
// may be statically empty (select nothing whatever the resource).
func TestR4ParamsCompile(t *testing.T) {
	snap, err := buildR4()
	require.NoError(t, err)
	assert.Len(t, snap.byURL, 1378)
	for _, f := range snap.failures {
		t.Errorf("%s (%s on %s): %q: %v", f.URL, f.Code, f.ResourceType, f.Expression, f.Err)
	}
	for _, f := range snap.emptyExprs {
		t.Errorf("statically empty: %s (%s on %s): %q", f.URL, f.Code, f.ResourceType, f.Expression)
	}
	counts := map[Type]int{}
	bound := 0
	for _, p := range snap.byURL {
		counts[p.Type]++
	}
	for rt, ti := range snap.types {
		bound += len(ti.bound)
		for _, bp := range ti.bound {
			assert.Same(t, ti.byCode[bp.p.Code], bp.p, "%s.%s bound twice", rt, bp.p.Code)
		}
	}
	t.Logf("%d parameters by type %v; %d resource types; %d (parameter, resource type) programs", len(snap.byURL), counts, len(snap.types), bound)
	assert.Len(t, snap.types, 146)
}

func TestLookupAndParams(t *testing.T) {
	reg := Default()
	cases := []struct {
		rt, code string
		typ      Type
		expr     string
	}{
		{"Patient", "name", TypeString, "Patient.name"},
		{"Patient", "_id", TypeToken, "Resource.id"},
		{"Observation", "_lastUpdated", TypeDate, "Resource.meta.lastUpdated"},
		{"Bundle", "_tag", TypeToken, "Resource.meta.tag"},
		{"Observation", "code-value-quantity", TypeComposite, "Observation"},
		{"Location", "near", TypeSpecial, "Location.position"},
		{"Patient", "_text", TypeString, ""},
	}
	for _, tc := range cases {
		t.Run(tc.rt+"."+tc.code, func(t *testing.T) {
			p := reg.Lookup(tc.rt, tc.code)
			require.NotNil(t, p)
			assert.Equal(t, tc.typ, p.Type)
			assert.Equal(t, tc.code, p.Code)
			assert.Equal(t, tc.expr, p.Expression)
		})
	}
	assert.Nil(t, reg.Lookup("Patient", "nonesuch"))
	assert.Nil(t, reg.Lookup("Nonesuch", "name"))
	assert.Nil(t, reg.Lookup("Bundle", "_text"), "Bundle is not a DomainResource")

	cvq := reg.Lookup("Observation", "code-value-quantity")
	require.Len(t, cvq.Components, 2)
	assert.Equal(t, Component{Definition: "http://hl7.org/fhir/SearchParameter/clinical-code", Expression: "code"}, cvq.Components[0])
	assert.Contains(t, reg.Lookup("Observation", "subject").Targets, "Patient")
	assert.Contains(t, reg.Lookup("Observation", "value-quantity").Comparators, "ge")

	params := reg.Params("Patient")
	require.NotEmpty(t, params)
	codes := make([]string, len(params))
	for i, p := range params {
		codes[i] = p.Code
	}
	assert.True(t, sort.StringsAreSorted(codes))
	assert.Contains(t, codes, "_lastUpdated")
	assert.Contains(t, codes, "birthdate")
	params[0] = nil
	assert.NotNil(t, reg.Params("Patient")[0], "Params returns a copy")
	assert.Nil(t, reg.Params("Nonesuch"))
}

func customParam(url, code, expr string, base ...string) fhir.Object {
	b := make([]any, len(base))
	for i, s := range base {
		b[i] = s
	}
	return fhir.Object{"resourceType": "SearchParameter", "url": url, "code": code, "base": b, "type": "token", "expression": expr, "status": "active"}
}

func TestAdd(t *testing.T) {
	reg := NewRegistry()
	patient := MustParse(t, testPatient)

	err := reg.Add(customParam("http://example.org/sp/maiden", "maiden-name",
		"Patient.extension('http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName').value", "Patient"))
	require.NoError(t, err)
	require.NotNil(t, reg.Lookup("Patient", "maiden-name"))
	assert.Nil(t, Default().Lookup("Patient", "maiden-name"), "Default is not changed")
	assert.Nil(t, NewRegistry().Lookup("Patient", "maiden-name"), "registries are independent")

	v, err := reg.Extract(patient)
	require.NoError(t, err)
	assert.Contains(t, v.Tokens, Token{Param: "maiden-name", Code: "Smith"})

	// Same URL: replaced.
	require.NoError(t, reg.Add(customParam("http://example.org/sp/maiden", "maiden", "Patient.gender", "Patient")))
	assert.Nil(t, reg.Lookup("Patient", "maiden-name"))
	v, err = reg.Extract(patient)
	require.NoError(t, err)
	assert.Contains(t, v.Tokens, Token{Param: "maiden", Code: "female"})
	assert.NotContains(t, v.Tokens, Token{Param: "maiden-name", Code: "Smith"})

	// Same code as an R4 parameter: overrides it for that type.
	require.NoError(t, reg.Add(customParam("http://example.org/sp/gender", "gender", "Patient.name.family", "Patient")))
	assert.Equal(t, "http://example.org/sp/gender", reg.Lookup("Patient", "gender").URL)
	v, err = reg.Extract(patient)
	require.NoError(t, err)
	assert.Contains(t, v.Tokens, Token{Param: "gender", Code: "Müller"})
	assert.NotContains(t, v.Tokens, Token{Param: "gender", Code: "female"})
	assert.Equal(t, "http://hl7.org/fhir/SearchParameter/individual-gender", reg.Lookup("Practitioner", "gender").URL)

	// On Resource: every type.
	require.NoError(t, reg.Add(customParam("http://example.org/sp/lang", "lang", "Resource.language", "Resource")))
	assert.NotNil(t, reg.Lookup("Bundle", "lang"))
	v, err = reg.Extract(MustParse(t, `{"resourceType":"Basic","language":"de","code":{"text":"x"}}`))
	require.NoError(t, err)
	assert.Contains(t, v.Tokens, Token{Param: "lang", Code: "de"})

	// A composite of custom and R4 parameters.
	comp := customParam("http://example.org/sp/name-use", "name-use-family", "Patient.name", "Patient")
	comp["type"] = "composite"
	comp["component"] = []any{
		map[string]any{"definition": "http://example.org/sp/use", "expression": "use"},
		map[string]any{"definition": "http://hl7.org/fhir/SearchParameter/individual-family", "expression": "family"},
	}
	require.NoError(t, reg.Add(customParam("http://example.org/sp/use", "name-use", "Patient.name.use", "Patient")))
	require.NoError(t, reg.Add(comp))
	v, err = reg.Extract(patient)
	require.NoError(t, err)
	assert.Contains(t, v.Composites, Composite{Param: "name-use-family", Parts: []any{
		Token{Param: "name-use", Code: "official"}, String{Param: "family", Value: "Müller"},
	}})
}

func TestAddErrors(t *testing.T) {
	reg := NewRegistry()
	badComp := customParam("http://x/c", "c", "Patient.name", "Patient")
	badComp["type"] = "composite"
	badComp["component"] = []any{map[string]any{"definition": "http://x/none", "expression": "family"}}
	cases := []struct {
		name string
		sp   fhir.Object
		path string
	}{
		{"not a SearchParameter", fhir.Object{"resourceType": "Patient"}, "resourceType"},
		{"no url", customParam("", "x", "Patient.gender", "Patient"), "SearchParameter.url"},
		{"no code", customParam("http://x/1", "", "Patient.gender", "Patient"), "SearchParameter.code"},
		{"no base", customParam("http://x/1", "x", "Patient.gender"), "SearchParameter.base"},
		{"unknown base", customParam("http://x/1", "x", "Patient.gender", "Patientt"), "SearchParameter.base"},
		{"no expression", customParam("http://x/1", "x", "", "Patient"), "SearchParameter.expression"},
		{"syntax error", customParam("http://x/1", "x", "Patient.name.where(", "Patient"), "SearchParameter.expression"},
		{"unknown element", customParam("http://x/1", "x", "Patient.nmae", "Patient"), "SearchParameter.expression"},
		{"unknown element on one base", customParam("http://x/1", "x", "Patient.gender | Practitioner.gendr", "Patient", "Practitioner"), "SearchParameter.expression"},
		{"unknown component", badComp, "SearchParameter.expression"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := reg.Add(tc.sp)
			require.Error(t, err)
			fe := fhir.AsError(err)
			require.NotNil(t, fe, "a *fhir.Error")
			assert.Equal(t, fhir.IssueInvalid, fe.Code)
			assert.Equal(t, []string{tc.path}, fe.Expression)
		})
	}
	bad := customParam("http://x/t", "x", "Patient.gender", "Patient")
	bad["type"] = "text"
	require.Error(t, reg.Add(bad))
	assert.Nil(t, reg.Lookup("Patient", "x"), "a failed Add changes nothing")
	assert.Nil(t, reg.Lookup("Practitioner", "x"))
}

// TestConcurrentAddExtract runs Extract, Lookup and Add at the same time
// (meaningful with -race).
func TestConcurrentAddExtract(t *testing.T) {
	reg := NewRegistry()
	obs := MustReadObject(t, "observation.json")
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if _, err := reg.Extract(obs); err != nil {
					t.Error(err)
					return
				}
				reg.Lookup("Observation", "code")
			}
		}()
	}
	for i := 0; i < 20; i++ {
		require.NoError(t, reg.Add(customParam(fmt.Sprintf("http://x/%d", i), fmt.Sprintf("x%d", i), "Observation.status", "Observation")))
	}
	wg.Wait()
	v, err := reg.Extract(obs)
	require.NoError(t, err)
	assert.Contains(t, v.Tokens, Token{Param: "x19", Code: "final"})
}

func TestApplicableBranches(t *testing.T) {
	m := Default().snap.Load().m
	cases := []struct{ expr, rt, want string }{
		{"Patient.birthDate | Person.birthDate | RelatedPerson.birthDate", "Person", "Person.birthDate"},
		{"Patient.birthDate | Person.birthDate | RelatedPerson.birthDate", "RelatedPerson", "RelatedPerson.birthDate"},
		{"(Observation.value.ofType(Quantity)) | (Observation.value.ofType(SampledData))", "Observation", "(Observation.value.ofType(Quantity)) | (Observation.value.ofType(SampledData))"},
		{"Observation.code", "Observation", "Observation.code"},
		{"Resource.id", "Patient", "Resource.id"},
	}
	for _, tc := range cases {
		a, err := parseFHIRPath(tc.expr)
		require.NoError(t, err)
		root := tset{m.resource(tc.rt)}
		assert.Equal(t, tc.want, strings.Join(applicableBranches(m, tc.expr, a, root), " | "), tc.expr)
	}
}
