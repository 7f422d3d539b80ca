package search

import (
	"fmt"
	"slices"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/fhir"
)

func TestDerivedParameters(t *testing.T) {
	reg := NewRegistry()
	for _, tc := range []struct {
		typ, code string
		want      Storage
	}{
		{"Observation", "patient", Storage{Params: []string{"subject"}, Target: "Patient"}},
		{"Provenance", "patient", Storage{Params: []string{"target"}, Target: "Patient"}},
		{"Encounter", "practitioner", Storage{Params: []string{"participant"}, Target: "Practitioner"}},
		{"Patient", "phonetic", Storage{Params: []string{"name"}}},
		{"Observation", "combo-code", Storage{Params: []string{"code", "component-code"}}},
		{"Observation", "combo-value-quantity", Storage{Params: []string{"component-value-quantity", "value-quantity"}}},
		{"DeviceUseStatement", "subject", Storage{Params: []string{"patient"}}},
		// Stored: their own expression, an identifier, a composite.
		{"Observation", "subject", Storage{Params: []string{"subject"}}},
		{"AllergyIntolerance", "patient", Storage{Params: []string{"patient"}}},
		{"Patient", "name", Storage{Params: []string{"name"}}},
		{"Observation", "identifier", Storage{Params: []string{"identifier"}}},
		{"Observation", "combo-code-value-quantity", Storage{Params: []string{"code-value-quantity", "component-code-value-quantity"}}},
		{"Observation", "code-value-quantity", Storage{Params: []string{"code-value-quantity"}}},
		{"ActivityDefinition", "context-type-value", Storage{Params: []string{"context-type-value"}}}, // other components
	} {
		t.Run(tc.typ+"."+tc.code, func(t *testing.T) {
			got := reg.Storage(tc.typ, tc.code)
			sort.Strings(got.Params)
			assert.Equal(t, tc.want, got)
			_, derived := reg.Derived(tc.typ)[tc.code]
			assert.Equal(t, len(tc.want.Params) != 1 || tc.want.Params[0] != tc.code, derived)
		})
	}
	n := 0
	for _, ti := range reg.snap.Load().types {
		n += len(ti.derived)
		for code, st := range ti.derived {
			for _, from := range st.Params {
				assert.NotContains(t, ti.derived, from, "%s derives from %s, which is derived", code, from)
			}
		}
	}
	t.Logf("%d derived parameters", n)
	assert.GreaterOrEqual(t, n, 60)
}

// A parameter added later stores its rows, and so do the ones derived
// from the parameter it replaces.
func TestDerivedEndsWithAdd(t *testing.T) {
	reg := NewRegistry()
	require.Contains(t, reg.Derived("Patient"), "phonetic")
	require.NoError(t, reg.Add(fhir.Object{"resourceType": "SearchParameter", "url": "http://example.org/SearchParameter/name",
		"code": "name", "base": []any{"Patient"}, "type": "string", "expression": "Patient.name.family"}))
	assert.Equal(t, Storage{Params: []string{"phonetic"}}, reg.Storage("Patient", "phonetic"))
	assert.NotContains(t, reg.Derived("Patient"), "phonetic")
	assert.Contains(t, reg.Derived("Observation"), "patient", "other types keep theirs")
	assert.Contains(t, Default().Derived("Patient"), "phonetic", "the default registry is not changed")
}

// TestDerivedValues checks, on every resource of the Synthea corpus and on
// resources written for the purpose, that each derived parameter's values
// are exactly those of the parameters it derives from (restricted to the
// target type): searching their rows is searching its own.
func TestDerivedValues(t *testing.T) {
	reg := Default()
	checked := map[string]int{}
	check := func(t *testing.T, obj fhir.Object) {
		rt := fhir.ResourceType(obj)
		v, err := reg.Extract(obj)
		require.NoError(t, err)
		for code, st := range reg.Derived(rt) {
			own, from := valueKeys(&v, []string{code}, ""), valueKeys(&v, st.Params, st.Target)
			if len(own) > 0 {
				checked[rt+"."+code]++
			}
			require.Equal(t, own, from, "%s/%s: %s derived from %v (target %q)", rt, fhir.ResourceID(obj), code, st.Params, st.Target)
		}
	}
	for _, doc := range []string{
		`{"resourceType":"Observation","id":"o1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}],"text":"Blood pressure"},
		  "subject":{"reference":"Patient/p1"},"performer":[{"reference":"Practitioner/d1"}],
		  "valueQuantity":{"value":1.5,"system":"http://unitsofmeasure.org","code":"mmol/L"},
		  "component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":120,"system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
		    {"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},"valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"260385009"}]}}]}`,
		`{"resourceType":"Observation","id":"o2","status":"final","code":{"text":"note"},"subject":{"reference":"Group/g1"}}`,
		`{"resourceType":"Observation","id":"o3","status":"final","code":{"text":"note"},"subject":{"reference":"http://other.example/fhir/Patient/9"}}`,
		`{"resourceType":"Observation","id":"o4","status":"final","code":{"text":"note"},"subject":{"identifier":{"value":"x"}}}`,
		`{"resourceType":"Provenance","id":"v1","recorded":"2024-01-01T00:00:00Z","agent":[{"who":{"reference":"Device/d"}}],
		  "target":[{"reference":"Patient/p1"},{"reference":"Encounter/e1"},{"reference":"Patient/p2/_history/3"}]}`,
		`{"resourceType":"Patient","id":"p1","name":[{"family":"Dlamini","given":["Thandi","Nomsa"]},{"text":"T. Dlamini"}]}`,
		`{"resourceType":"Encounter","id":"e1","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/p1"},
		  "participant":[{"individual":{"reference":"Practitioner/d1"}},{"individual":{"reference":"RelatedPerson/r1"}}]}`,
		`{"resourceType":"Appointment","id":"a1","status":"booked","participant":[{"actor":{"reference":"Patient/p1"},"status":"accepted"},
		  {"actor":{"reference":"Location/l1"},"status":"accepted"},{"actor":{"reference":"Practitioner/d1"},"status":"accepted"}]}`,
	} {
		obj, err := fhir.ParseObject([]byte(doc))
		require.NoError(t, err)
		check(t, obj)
	}
	for _, file := range syntheaFiles(t) {
		all, fullURLs := readBundle(t, file)
		for _, obj := range all {
			rewriteReferences(obj, fullURLs)
			check(t, obj)
		}
	}
	for _, p := range []string{"Observation.patient", "Observation.combo-code", "Observation.combo-value-quantity", "Patient.phonetic",
		"Observation.combo-code-value-quantity", "Observation.combo-code-value-concept",
		"Provenance.patient", "Encounter.practitioner", "Appointment.location", "Encounter.patient"} {
		assert.Positive(t, checked[p], "%s has values somewhere", p)
	}
	t.Logf("derived parameters with values, and how many resources had them: %v", checked)
}

// valueKeys returns the values of params in v, without their parameter
// (references of type target only, when set), as sorted text.
func valueKeys(v *Values, params []string, target string) []string {
	var out []string
	out = appendKeys(out, "s", v.Strings, params, func(x *String) *string { return &x.Param })
	out = appendKeys(out, "t", v.Tokens, params, func(x *Token) *string { return &x.Param })
	out = appendKeys(out, "d", v.Dates, params, func(x *Date) *string { return &x.Param })
	out = appendKeys(out, "n", v.Numbers, params, func(x *Number) *string { return &x.Param })
	out = appendKeys(out, "q", v.Quantities, params, func(x *Quantity) *string { return &x.Param })
	out = appendKeys(out, "u", v.URIs, params, func(x *URI) *string { return &x.Param })
	var comps []Composite
	for _, c := range v.Composites {
		// A part names its component's parameter, which the rows do not
		// hold: only the values count.
		parts := make([]any, len(c.Parts))
		for i, part := range c.Parts {
			parts[i] = withoutParam(part)
		}
		comps = append(comps, Composite{Param: c.Param, Parts: parts})
	}
	out = appendKeys(out, "c", comps, params, func(x *Composite) *string { return &x.Param })
	refs := slices.DeleteFunc(slices.Clone(v.References), func(r Reference) bool { return target != "" && r.Type != target })
	out = appendKeys(out, "r", refs, params, func(x *Reference) *string { return &x.Param })
	sort.Strings(out)
	return slices.Compact(out)
}

// withoutParam returns a composite part without its parameter.
func withoutParam(part any) any {
	switch x := part.(type) {
	case Token:
		x.Param = ""
		return x
	case Quantity:
		x.Param = ""
		return x
	case Number:
		x.Param = ""
		return x
	case Date:
		x.Param = ""
		return x
	case String:
		x.Param = ""
		return x
	case Reference:
		x.Param = ""
		return x
	case URI:
		x.Param = ""
		return x
	}
	return part
}

// appendKeys appends the values of params in vals as text, their
// parameter left out.
func appendKeys[T any](out []string, kind string, vals []T, params []string, param func(*T) *string) []string {
	for _, x := range vals {
		if p := param(&x); slices.Contains(params, *p) {
			*p = ""
			out = append(out, fmt.Sprintf("%s %+v", kind, x))
		}
	}
	return out
}
