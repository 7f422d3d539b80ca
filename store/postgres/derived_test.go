package postgres_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/store/postgres"
	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

// derivedFixture has subjects of several types, for the parameters that
// search other parameters' rows (search.Storage): Observation.patient is
// Observation.subject restricted to Patients, combo-code is code and
// component-code, Patient.phonetic is Patient.name.
var derivedFixture = []string{
	`{"resourceType":"Patient","id":"p1","name":[{"family":"Dlamini","given":["Thandi"]}]}`,
	`{"resourceType":"Patient","id":"p2","name":[{"family":"Nkosi"}]}`,
	`{"resourceType":"Group","id":"g1","type":"person","actual":true}`,
	`{"resourceType":"Observation","id":"o1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},
	  "subject":{"reference":"Patient/p1"},
	  "component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":120,"system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]}`,
	`{"resourceType":"Observation","id":"o2","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},
	  "subject":{"reference":"Group/g1"},"valueQuantity":{"value":95,"system":"http://unitsofmeasure.org","code":"mm[Hg]"}}`,
	`{"resourceType":"Observation","id":"o3","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]}}`,
	`{"resourceType":"Observation","id":"o4","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"29463-7"}]},
	  "subject":{"reference":"http://other.example/fhir/Patient/9"}}`,
	`{"resourceType":"Encounter","id":"e1","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Group/g1"}}`,
}

func TestDerivedParameterSearches(t *testing.T) {
	ctx := context.Background()
	st := pgtest.Store(t)
	f := &fixture{st: st, updated: seed(t, st, derivedFixture)}
	runMatchCases(t, f, []matchCase{
		{"restriction: a Patient subject", "Observation", "patient=p1", []string{"o1"}},
		{"restriction: Type/id", "Observation", "patient=Patient/p1", []string{"o1"}},
		{"restriction: another type's subject is no patient", "Observation", "subject=Group/g1", []string{"o2"}},
		{"restriction: :missing counts Patients only", "Observation", "patient:missing=true", []string{"o2", "o3"}},
		{"restriction: :missing false", "Observation", "patient:missing=false", []string{"o1", "o4"}},
		{"restriction: an absolute URL", "Observation", "patient=http://other.example/fhir/Patient/9", []string{"o4"}},
		{"restriction: chain", "Observation", "patient.name=dlam", []string{"o1"}},
		{"restriction: across types", "", "_type=Observation,Encounter&patient=p1", []string{"Observation/o1"}},
		{"restriction: across types, none", "", "_type=Observation,Encounter&patient=p2", nil},
		{"restriction: has", "Patient", "_has:Observation:patient:code=85354-9", []string{"p1"}},
		{"restriction: has does not reach a Group", "Patient", "_has:Observation:patient:code=8480-6", nil},
		{"union: code", "Observation", "combo-code=http://loinc.org|8480-6", []string{"o1", "o2"}},
		{"union: not", "Observation", "combo-code:not=8480-6", []string{"o3", "o4"}},
		{"union: missing", "Observation", "combo-value-quantity:missing=true", []string{"o3", "o4"}},
		{"union: quantity", "Observation", "combo-value-quantity=gt100|http://unitsofmeasure.org|mm[Hg]", []string{"o1"}},
		{"union: composite on a component", "Observation", "combo-code-value-quantity=http://loinc.org|8480-6$gt100", []string{"o1"}},
		{"union: composite on the value", "Observation", "combo-code-value-quantity=http://loinc.org|8480-6$lt100", []string{"o2"}},
		{"union: composite without system", "Observation", "combo-code-value-quantity=8480-6$ge95", []string{"o1", "o2"}},
		{"alias", "Patient", "phonetic=nko", []string{"p2"}},
	})
	t.Run("across types keeps each type's rule", func(t *testing.T) {
		res := f.run(t, "", "_type=Observation,Encounter&subject=Group/g1")
		assert.ElementsMatch(t, []string{"Observation/o2", "Encounter/e1"}, ids("", res.Matches))
	})
	t.Run("include and revinclude", func(t *testing.T) {
		res := f.run(t, "Observation", "_id=o1,o2&_include=Observation:patient")
		assert.ElementsMatch(t, []string{"Patient/p1"}, ids("", res.Included))
		res = f.run(t, "Group", "_id=g1&_revinclude=Observation:patient")
		assert.Empty(t, res.Included)
		res = f.run(t, "Patient", "_id=p1&_revinclude=Observation:patient")
		assert.ElementsMatch(t, []string{"Observation/o1"}, ids("", res.Included))
	})
	t.Run("derived rows are not written", func(t *testing.T) {
		for _, c := range []struct{ table, typ, param string }{
			{"idx_reference", "Observation", "patient"},
			{"idx_token", "Observation", "combo-code"},
			{"idx_quantity", "Observation", "combo-value-quantity"},
			{"idx_string", "Patient", "phonetic"},
			{"idx_composite", "Observation", "combo-code-value-quantity"},
		} {
			var derived, source int
			require.NoError(t, st.Pool().QueryRow(ctx, `SELECT count(*) FROM `+c.table+` WHERE param = $1`, postgres.ParamKey(c.typ, c.param)).Scan(&derived))
			assert.Zero(t, derived, "%s.%s", c.typ, c.param)
			require.NoError(t, st.Pool().QueryRow(ctx, `SELECT count(*) FROM `+c.table).Scan(&source))
			assert.Positive(t, source, "%s has rows", c.table)
		}
	})
}
