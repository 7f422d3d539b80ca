package search

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/fhir"
)

// MustParse parses a JSON resource written in a test.
func MustParse(tb testing.TB, s string) fhir.Object {
	tb.Helper()
	obj, err := fhir.ParseObject([]byte(s))
	require.NoError(tb, err)
	return obj
}

// selectJSON compiles expr for obj's type, evaluates it and renders the
// selection as a JSON array.
func selectJSON(tb testing.TB, obj fhir.Object, expr string) (string, error) {
	tb.Helper()
	m := Default().snap.Load().m
	root := m.resource(fhir.ResourceType(obj))
	require.NotNil(tb, root)
	c, err := compileExpr(m, expr, root)
	if err != nil {
		return "", err
	}
	ctx := newCtx(m, node{obj, root})
	defer ctx.release()
	return render(c.fn(ctx, ctx.root, nil)), nil
}

const testPatient = `{
  "resourceType": "Patient", "id": "p1",
  "meta": {"lastUpdated": "2024-01-02T03:04:05Z", "tag": [{"system": "s", "code": "t"}]},
  "extension": [
    {"url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race", "extension": [{"url": "text", "valueString": "White"}]},
    {"url": "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName", "valueString": "Smith"}
  ],
  "name": [{"use": "official", "family": "Müller", "given": ["Anna", "Marie"]}, {"text": "Anni"}],
  "telecom": [{"system": "phone", "value": "555-1234", "use": "home"}, {"system": "email", "value": "a@example.org"}],
  "gender": "female",
  "birthDate": "1980-05-17",
  "_birthDate": {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime", "valueDateTime": "1980-05-17T06:30:00+02:00"}]},
  "deceasedDateTime": "2020-01-01",
  "generalPractitioner": [{"reference": "Practitioner/d1"}, {"reference": "Organization/o1"}, {"reference": "urn:uuid:0b9c"}],
  "managingOrganization": {"reference": "http://other.org/fhir/Organization/o2/_history/3"},
  "contained": [{"resourceType": "Practitioner", "id": "c1", "name": [{"family": "Inner"}]}],
  "link": [{"other": {"reference": "RelatedPerson/r1", "type": "RelatedPerson"}, "type": "seealso"}]
}`

const testObservation = `{
  "resourceType": "Observation", "id": "o1", "status": "final",
  "code": {"coding": [{"system": "http://loinc.org", "code": "8302-2"}], "text": "Body Height"},
  "subject": {"reference": "Patient/p1"},
  "effectivePeriod": {"start": "2024-01-01", "end": "2024-01-02"},
  "valueQuantity": {"value": 167.7, "unit": "cm", "system": "http://unitsofmeasure.org", "code": "cm"},
  "component": [
    {"code": {"coding": [{"code": "a"}]}, "valueString": "x"},
    {"code": {"coding": [{"code": "b"}]}, "valueQuantity": {"value": 1}}
  ]
}`

func TestFHIRPathForms(t *testing.T) {
	patient := MustParse(t, testPatient)
	obs := MustParse(t, testObservation)
	bundle := MustParse(t, `{"resourceType": "Bundle", "type": "document", "entry": [
		{"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Composition", "id": "c1", "status": "final", "subject": {"reference": "Patient/p1"}}},
		{"resource": {"resourceType": "Patient", "id": "p2"}}]}`)
	obsDT := MustParse(t, `{"resourceType":"Observation","status":"final","code":{"text":"x"},"effectiveDateTime":"2024-05-06T07:08:09Z"}`)
	library := MustParse(t, `{"resourceType":"Library","status":"active","type":{"text":"x"},"relatedArtifact":[
		{"type":"depends-on","resource":"http://x/Library/a"},{"type":"composed-of","resource":"http://x/Library/b|2"}]}`)
	cases := []struct {
		name string
		obj  fhir.Object
		expr string
		want string
	}{
		{"choice as dateTime", obsDT, "Observation.effective as dateTime", `["2024-05-06T07:08:09Z"]`},
		{"choice ofType dateTime | Period", obsDT, "Observation.effective.ofType(dateTime) | Observation.effective.ofType(Period)", `["2024-05-06T07:08:09Z"]`},
		{"where type", library, "Library.relatedArtifact.where(type='composed-of').resource", `["http://x/Library/b|2"]`},
		{"path", patient, "Patient.name.family", `["Müller"]`},
		{"path without type", patient, "name.given", `["Anna","Marie"]`},
		{"repeating primitive", patient, "Patient.name.given", `["Anna","Marie"]`},
		{"other type's path selects nothing", patient, "Observation.code", `[]`},
		{"Resource path", patient, "Resource.meta.lastUpdated", `["2024-01-02T03:04:05Z"]`},
		{"DomainResource path", patient, "DomainResource.contained.id", `["c1"]`},
		{"union", patient, "Patient.gender | Patient.birthDate", `["female","1980-05-17"]`},
		{"union removes duplicates", patient, "Patient.gender | Patient.gender", `["female"]`},
		{"multi-type union", patient, "Observation.code | Patient.gender", `["female"]`},
		{"choice element", obs, "Observation.value", `[{"code":"cm","system":"http://unitsofmeasure.org","unit":"cm","value":167.7}]`},
		{"as operator", obs, "(Observation.value as Quantity).unit", `["cm"]`},
		{"as function", obs, "Observation.value.as(Quantity).value", `[167.7]`},
		{"ofType", obs, "Observation.value.ofType(Quantity).code", `["cm"]`},
		{"ofType other choice", obs, "Observation.value.ofType(string)", `[]`},
		{"ofType on period", obs, "Observation.effective.ofType(Period).start", `["2024-01-01"]`},
		{"as dateTime on period", obs, "Observation.effective as dateTime", `[]`},
		{"System type", patient, "Patient.deceased.ofType(DateTime)", `["2020-01-01"]`},
		{"nested choice", obs, "Observation.component.value.ofType(string)", `["x"]`},
		{"is function", obs, "Observation.value.is(Quantity)", `[true]`},
		{"is operator on specialisation", obs, "Observation.value is Quantity", `[true]`},
		{"where equality", patient, "Patient.telecom.where(system='email').value", `["a@example.org"]`},
		{"where no match", patient, "Patient.telecom.where(system='fax')", `[]`},
		{"where resolve is", patient, "Patient.generalPractitioner.where(resolve() is Practitioner)", `[{"reference":"Practitioner/d1"}]`},
		{"resolve is on absolute URL", patient, "Patient.managingOrganization.where(resolve() is Organization).reference", `["http://other.org/fhir/Organization/o2/_history/3"]`},
		{"resolve uses Reference.type", patient, "Patient.link.other.where(resolve() is RelatedPerson).reference", `["RelatedPerson/r1"]`},
		{"resolve urn:uuid unknown", patient, "Patient.generalPractitioner.where(resolve() is Patient)", `[]`},
		{"resolve or", patient, "Patient.generalPractitioner.where(resolve() is Practitioner or resolve() is Organization).reference", `["Practitioner/d1","Organization/o1"]`},
		{"extension function", patient, "Patient.extension('http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName').value", `["Smith"]`},
		{"extension where", patient, "Patient.extension.where(url = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race').extension.where(url='text').value.ofType(string)", `["White"]`},
		{"primitive extension not seen", patient, "Patient.birthDate.extension", `[]`},
		{"exists", patient, "Patient.deceased.exists()", `[true]`},
		{"exists with criteria", patient, "Patient.name.exists(given contains 'Marie')", `[true]`},
		{"equality of collections of different size", patient, "Patient.name.exists(given = 'Marie')", `[false]`},
		{"deceased expression", patient, "Patient.deceased.exists() and Patient.deceased != false", `[true]`},
		{"empty", patient, "Patient.photo.empty()", `[true]`},
		{"not", patient, "Patient.photo.exists().not()", `[true]`},
		{"first", patient, "Patient.name.first().given", `["Anna","Marie"]`},
		{"last", patient, "Patient.name.given.last()", `["Marie"]`},
		{"indexer", patient, "Patient.name[1].text", `["Anni"]`},
		{"indexer out of range", patient, "Patient.name[5]", `[]`},
		{"count", patient, "Patient.telecom.count()", `[2]`},
		{"bundle first entry", bundle, "Bundle.entry[0].resource", `[{"resourceType":"Composition","id":"c1","status":"final","subject":{"reference":"Patient/p1"}}]`},
		{"resource element navigation", bundle, "Bundle.entry.resource.ofType(Composition).subject.reference", `["Patient/p1"]`},
		{"resource type filter", bundle, "Bundle.entry.resource.where($this is Patient).id", `["p2"]`},
		{"contained navigation", patient, "Patient.contained.name.family", `["Inner"]`},
		{"%resource", obs, "Observation.component.select(%resource.status)", `["final","final"]`},
		{"select", obs, "Observation.component.select(code.coding.code)", `["a","b"]`},
		{"and empty", patient, "Patient.photo.exists() and Patient.active", `[false]`},
		{"or empty", patient, "Patient.active or Patient.deceased.exists()", `[true]`},
		{"implies", patient, "Patient.active.exists() implies false", `[true]`},
		{"string functions", patient, "Patient.name.family.where($this.startsWith('Mü') and lower() = 'müller')", `["Müller"]`},
		{"matches", patient, "Patient.telecom.value.where(matches('[0-9-]+'))", `["555-1234"]`},
		{"equivalence", patient, "Patient.name.where(family ~ 'MULLER').given.first()", `["Anna"]`},
		{"comparison of dates", patient, "Patient.birthDate > @1979", `[true]`},
		{"in", patient, "Patient.gender in ('male' | 'female')", `[true]`},
		{"iif", patient, "iif(Patient.active.exists(), 'a', 'b')", `["b"]`},
		{"concatenation", patient, "Patient.name.family & '!'", `["Müller!"]`},
		{"delimited identifier", patient, "Patient.`name`.family", `["Müller"]`},
		{"comment", patient, "Patient.gender // the gender", `["female"]`},
		{"skip and take", patient, "Patient.name.given.skip(1) | Patient.name.given.take(1)", `["Marie","Anna"]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := selectJSON(t, tc.obj, tc.expr)
			require.NoError(t, err, tc.expr)
			assert.Equal(t, tc.want, got, tc.expr)
		})
	}
}

func TestFHIRPathCompileErrors(t *testing.T) {
	patient := MustParse(t, testPatient)
	cases := []struct {
		name, expr, want string
	}{
		{"unknown element", "Patient.nmae", `no element "nmae" on Patient`},
		{"unknown element deep", "Patient.name.famly", `no element "famly" on HumanName`},
		{"unknown type", "Patient.deceased.ofType(Datetime)", "unknown type Datetime"},
		{"unsupported function", "Patient.name.descendants()", "function descendants() is not supported"},
		{"navigation after resolve", "Patient.generalPractitioner.resolve().name", "only is/ofType can follow it"},
		{"resolve result", "Patient.generalPractitioner.resolve()", "resolve() can only be type-tested"},
		{"syntax", "Patient.name.where(", "unexpected end of expression"},
		{"unterminated string", "Patient.name.where(use = 'x)", "unterminated string"},
		{"bad argument count", "Patient.name.where()", "where() takes 1 argument"},
		{"quantity literal", "Patient.birthDate + 1 year", "quantity literals are not supported"},
		{"unknown variable", "%vs-x", "unsupported variable"},
		{"extension needs literal", "Patient.extension(Patient.gender)", "needs a string literal"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := selectJSON(t, patient, tc.expr)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// FuzzFHIRPath checks that parsing and compiling any expression for a
// Patient, and evaluating what compiles, never panics.
func FuzzFHIRPath(f *testing.F) {
	for _, s := range []string{
		"Patient.name.family", "(Observation.value as Quantity) | Observation.component.value.ofType(Quantity)",
		"Patient.telecom.where(system='email')", "Bundle.entry[0].resource", "Patient.deceased.exists() and Patient.deceased != false",
		"Patient.extension('http://x').value", "%resource.id", "iif(true, 'a' & 'b', {})", "1 + 2 * 3 div 4 mod 5", "-1.5",
		"@2020-01-01T10:00:00Z < @2021", "'a\\u00e9' ~ 'A'",
	} {
		f.Add(s)
	}
	m := Default().snap.Load().m
	patient := MustParse(f, testPatient)
	root := m.resource("Patient")
	f.Fuzz(func(t *testing.T, expr string) {
		c, err := compileExpr(m, expr, root)
		if err != nil {
			return
		}
		ctx := newCtx(m, node{patient, root})
		defer ctx.release()
		c.fn(ctx, ctx.root, nil)
	})
}
