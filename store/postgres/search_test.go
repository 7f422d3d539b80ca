package postgres_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// matchCase is a search and the exact set of ids it must match.
type matchCase struct {
	name  string
	typ   string
	query string
	want  []string
}

func runMatchCases(t *testing.T, f *fixture, cases []matchCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := f.run(t, tc.typ, tc.query)
			assert.Equal(t, sorted(tc.want), sorted(ids(tc.typ, res.Matches)), "%s?%s", tc.typ, tc.query)
		})
	}
}

// TestSearchParams covers every parameter type with its modifiers and
// prefixes (R4 search.html#ptypes) on the fixture.
func TestSearchParams(t *testing.T) {
	f := newFixture(t)
	t.Run("string", func(t *testing.T) { runMatchCases(t, f, stringCases) })
	t.Run("token", func(t *testing.T) { runMatchCases(t, f, tokenCases) })
	t.Run("date", func(t *testing.T) { runMatchCases(t, f, dateCases(f)) })
	t.Run("number", func(t *testing.T) { runMatchCases(t, f, numberCases) })
	t.Run("quantity", func(t *testing.T) { runMatchCases(t, f, quantityCases) })
	t.Run("reference", func(t *testing.T) { runMatchCases(t, f, referenceCases) })
	t.Run("uri", func(t *testing.T) { runMatchCases(t, f, uriCases) })
	t.Run("composite", func(t *testing.T) { runMatchCases(t, f, compositeCases) })
	t.Run("missing", func(t *testing.T) { runMatchCases(t, f, missingCases) })
	t.Run("chain", func(t *testing.T) { runMatchCases(t, f, chainCases) })
	t.Run("has", func(t *testing.T) { runMatchCases(t, f, hasCases) })
	t.Run("system", func(t *testing.T) { runMatchCases(t, f, systemCases) })
}

var stringCases = []matchCase{
	{"prefix ignores case and accents", "Patient", "name=muller", []string{"p1", "p2"}},
	{"prefix with accent in value", "Patient", "name=MÜL", []string{"p1", "p2"}},
	{"prefix on given name", "Patient", "name=elo", []string{"p3"}},
	{"whole word is a prefix", "Patient", "family=smith", []string{"p3", "p4"}},
	{"no match", "Patient", "family=zzz", nil},
	{"exact", "Patient", "name:exact=Müller", []string{"p1"}},
	{"exact is case sensitive", "Patient", "name:exact=müller", nil},
	{"exact without accent", "Patient", "family:exact=Muller", []string{"p2"}},
	{"contains", "Patient", "name:contains=MIT", []string{"p3", "p4"}},
	{"contains escapes percent", "Patient", "name:contains=%25", []string{"p5"}},
	{"contains escapes underscore", "Patient", "name:contains=_", []string{"p5"}},
	{"prefix with percent", "Patient", "family=100%25", []string{"p5"}},
	{"prefix percent is literal", "Patient", "family=1%25", nil},
	{"or", "Patient", "name=smith,muller", []string{"p1", "p2", "p3", "p4"}},
	{"and", "Patient", "name=smith&name=smithson", []string{"p4"}},
	{"escaped comma is not or", "Patient", `name=smith\,muller`, nil},
	{"address", "Patient", "address=kin", []string{"p1"}},
	{"organization name", "Organization", "name=beta", []string{"org2"}},
}

var tokenCases = []matchCase{
	{"code only", "Patient", "identifier=MRN001", []string{"p1"}},
	{"system and code", "Patient", "identifier=http://hosp/mrn|MRN002", []string{"p2"}},
	{"system only", "Patient", "identifier=http://hosp/mrn|", []string{"p1", "p2"}},
	{"no system", "Patient", "identifier=|LOCAL5", []string{"p5"}},
	{"no system excludes coded", "Patient", "identifier=|MRN001", nil},
	{"code without system", "Patient", "identifier=LOCAL5", []string{"p5"}},
	{"of-type", "Patient", "identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|MRN001", []string{"p1"}},
	{"of-type wrong value", "Patient", "identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|MRN002", nil},
	{"code", "Patient", "gender=female", []string{"p2", "p3"}},
	{"or", "Patient", "gender=male,female", []string{"p1", "p2", "p3", "p4"}},
	{"not", "Patient", "gender:not=female", []string{"p1", "p4", "p5"}},
	{"not or", "Patient", "gender:not=female,male", []string{"p5"}},
	{"not includes missing", "Patient", "identifier:not=MRN001", []string{"p2", "p3", "p4", "p5"}},
	{"boolean", "Patient", "active=true", []string{"p1"}},
	{"phone", "Patient", "phone=555-0101", []string{"p1"}},
	{"email", "Patient", "email=anna@example.org", []string{"p2"}},
	{"telecom", "Patient", "telecom=anna@example.org", []string{"p2"}},
	{"any system", "Observation", "code=8480-6", []string{"o1", "o2", "o4", "o6"}},
	{"loinc", "Observation", "code=http://loinc.org|8480-6", []string{"o1", "o2", "o6"}},
	{"other system", "Observation", "code=http://other|8480-6", []string{"o4"}},
	{"text prefix", "Observation", "code:text=systolic", []string{"o1", "o2", "o4", "o6"}},
	{"text word", "Observation", "code:text=blood", []string{"o1", "o2", "o6", "o7"}},
	{"text two words", "Observation", "code:text=blood pressure", []string{"o1", "o2", "o6", "o7"}},
	{"text of a concept", "Observation", "code:text=pulse", []string{"o5"}},
	{"text of a concept, words", "Observation", "code:text=at rest", []string{"o5"}},
	{"display beside a concept's text", "Observation", "code:text=heart rate", []string{"o5"}},
	{"no match across display and text", "Observation", "code:text=rate pulse", nil},
	{"status", "Observation", "status=final", []string{"o1", "o2", "o6", "o7"}},
	{"status and code", "Observation", "status=final&code=8480-6", []string{"o1", "o2", "o6"}},
	{"_id", "Patient", "_id=p1,p3", []string{"p1", "p3"}},
	{"_id deleted", "Patient", "_id=p6", nil},
	{"_tag", "Patient", "_tag=http://example.org/tags|vip", []string{"p2"}},
	{"encounter class", "Encounter", "class=AMB", []string{"e1"}},
}

func dateCases(f *fixture) []matchCase {
	p4 := f.updated["Patient/p4"].Format("2006-01-02T15:04:05Z07:00")
	return []matchCase{
		{"year", "Patient", "birthdate=1980", []string{"p1", "p2"}},
		{"month", "Patient", "birthdate=1980-05", []string{"p1", "p2"}},
		{"day", "Patient", "birthdate=1980-05-17", []string{"p1"}},
		{"eq", "Patient", "birthdate=eq1980-05-17", []string{"p1"}},
		{"ne", "Patient", "birthdate=ne1980-05-17", []string{"p2", "p3", "p4", "p5"}},
		{"gt", "Patient", "birthdate=gt1980-05-17", []string{"p2", "p4", "p5"}},
		{"ge", "Patient", "birthdate=ge1980-05-17", []string{"p1", "p2", "p4", "p5"}},
		{"lt", "Patient", "birthdate=lt1980-05-17", []string{"p2", "p3"}},
		{"le", "Patient", "birthdate=le1980-05-17", []string{"p1", "p2", "p3"}},
		{"sa", "Patient", "birthdate=sa1980-05-17", []string{"p4", "p5"}},
		{"sa year", "Patient", "birthdate=sa1980", []string{"p4", "p5"}},
		{"eb", "Patient", "birthdate=eb1980", []string{"p3"}},
		// The clock is at 2025: 10% of ~34 years is ~3.4 years either side.
		{"ap", "Patient", "birthdate=ap1990-12-31", []string{"p4"}},
		{"range", "Patient", "birthdate=ge1976&birthdate=lt1991", []string{"p1", "p2", "p4"}},
		{"or", "Patient", "birthdate=1975,2001", []string{"p3", "p5"}},
		{"range on one value", "Observation", "date=ge2024-03-01&date=lt2024-03-06", []string{"o1", "o2", "o4"}},
		{"dateTime in month", "Observation", "date=2024-03", []string{"o1", "o2", "o7"}},
		{"year holds year", "Observation", "date=2024", []string{"o1", "o2", "o4", "o7"}},
		{"period overlaps after", "Observation", "date=gt2024-03-05", []string{"o2", "o4", "o7"}},
		{"before", "Observation", "date=lt2024-01-01", []string{"o3", "o5"}},
		{"eb day", "Observation", "date=eb2024-03-05", []string{"o3", "o5"}},
		{"offset to UTC", "Observation", "date=2022-06-15", []string{"o5"}},
		{"minute", "Observation", "date=2024-03-05T10:30Z", []string{"o1"}},
		{"open period", "Encounter", "date=ge2024-03-06", []string{"e2"}},
		{"period within day", "Encounter", "date=2024-03-05", []string{"e1"}},
		{"_lastUpdated ge", "Patient", "_lastUpdated=ge" + p4, []string{"p4", "p5"}},
		{"_lastUpdated lt", "Patient", "_lastUpdated=lt" + p4, []string{"p1", "p2", "p3"}},
		{"_lastUpdated day", "Patient", "_lastUpdated=2025-01-01", []string{"p1", "p2", "p3", "p4", "p5"}},
	}
}

var numberCases = []matchCase{
	{"precision contains", "RiskAssessment", "probability=0.8", []string{"ra1", "ra3"}},
	{"finer precision", "RiskAssessment", "probability=0.80", []string{"ra3"}},
	{"ne", "RiskAssessment", "probability=ne0.8", []string{"ra2"}},
	{"gt", "RiskAssessment", "probability=gt0.5", []string{"ra1", "ra3"}},
	{"lt", "RiskAssessment", "probability=lt0.5", []string{"ra2"}},
	{"ge exact", "RiskAssessment", "probability=ge0.25", []string{"ra1", "ra2", "ra3"}},
	{"le exact", "RiskAssessment", "probability=le0.25", []string{"ra2"}},
	{"sa", "RiskAssessment", "probability=sa0.5", []string{"ra1", "ra3"}},
	{"eb", "RiskAssessment", "probability=eb0.5", []string{"ra2"}},
	{"ap", "RiskAssessment", "probability=ap0.75", []string{"ra1", "ra3"}},
	{"exponent", "RiskAssessment", "probability=2.5e-1", []string{"ra2"}},
}

var quantityCases = []matchCase{
	{"value", "Observation", "value-quantity=120", []string{"o1"}},
	{"gt any unit", "Observation", "value-quantity=gt100", []string{"o1", "o4"}},
	{"gt ucum", "Observation", "value-quantity=gt100|http://unitsofmeasure.org|mm[Hg]", []string{"o1"}},
	{"unit text as code", "Observation", "value-quantity=gt100||mmHg", []string{"o4"}},
	{"code without system", "Observation", "value-quantity=gt50||mm[Hg]", []string{"o1", "o2"}},
	{"le", "Observation", "value-quantity=le95", []string{"o2", "o3", "o5"}},
	{"lt", "Observation", "value-quantity=lt95", []string{"o3", "o5"}},
	{"ap", "Observation", "value-quantity=ap130", []string{"o1", "o4"}},
	{"decimal with unit", "Observation", "value-quantity=72.5|http://unitsofmeasure.org|kg", []string{"o3"}},
	{"wrong unit", "Observation", "value-quantity=72.5|http://unitsofmeasure.org|g", nil},
	{"ne", "Observation", "value-quantity=ne120", []string{"o2", "o3", "o4", "o5"}},
	{"or", "Observation", "value-quantity=60,72.5", []string{"o3", "o5"}},
}

var referenceCases = []matchCase{
	{"Type/id", "Observation", "subject=Patient/p1", []string{"o1", "o3"}},
	{"bare id", "Observation", "subject=p1", []string{"o1", "o3"}},
	{"type modifier", "Observation", "subject:Patient=p2", []string{"o2", "o7"}},
	{"patient", "Observation", "patient=p1", []string{"o1", "o3"}},
	{"or", "Observation", "subject=Patient/p1,Patient/p2", []string{"o1", "o2", "o3", "o7"}},
	{"local base URL", "Observation", "subject=" + testBase + "/Patient/p1", []string{"o1", "o3"}},
	{"version dropped", "Observation", "subject=Patient/p1/_history/1", []string{"o1", "o3"}},
	{"absolute URL", "Observation", "performer=http://other.org/fhir/Practitioner/x9", []string{"o5"}},
	{"encounter", "Observation", "encounter=Encounter/e1", []string{"o1"}},
	{"deleted source", "Observation", "subject=Patient/p6", nil},
	{"general practitioner", "Patient", "general-practitioner=Practitioner/pr1", []string{"p3"}},
	{"organization", "Patient", "organization=org1", []string{"p1", "p3"}},
	{"partof", "Organization", "partof=Organization/org1", []string{"org2"}},
}

var uriCases = []matchCase{
	{"equal", "Patient", "_profile=http://example.org/StructureDefinition/worker", []string{"p1"}},
	{"below", "Patient", "_profile:below=http://example.org/StructureDefinition/", []string{"p1", "p2"}},
	{"below partial segment", "Patient", "_profile:below=http://example.org/StructureDefinition/worker", []string{"p1", "p2"}},
	{"above", "Patient", "_profile:above=http://example.org/StructureDefinition/worker/v2", []string{"p1"}},
	{"no match", "Patient", "_profile=http://example.org/StructureDefinition", nil},
}

var compositeCases = []matchCase{
	{"system code and gt", "Observation", "code-value-quantity=http://loinc.org|8480-6$gt100", []string{"o1"}},
	{"code any system", "Observation", "code-value-quantity=8480-6$gt100", []string{"o1", "o4"}},
	{"lt", "Observation", "code-value-quantity=http://loinc.org|8480-6$lt100", []string{"o2"}},
	{"eq", "Observation", "code-value-quantity=http://loinc.org|29463-7$72.5", []string{"o3"}},
	{"pair must match together", "Observation", "code-value-quantity=http://loinc.org|29463-7$120", nil},
	{"component", "Observation", "component-code-value-quantity=http://loinc.org|8462-4$85", []string{"o7"}},
	{"component ge", "Observation", "component-code-value-quantity=http://loinc.org|8480-6$ge130", []string{"o7"}},
	{"combo on component", "Observation", "combo-code-value-quantity=http://loinc.org|8462-4$lt90", []string{"o7"}},
	{"combo on value", "Observation", "combo-code-value-quantity=http://loinc.org|8480-6$gt110", []string{"o1", "o7"}},
	{"or", "Observation", "code-value-quantity=http://loinc.org|8480-6$gt100,http://loinc.org|8867-4$60", []string{"o1", "o5"}},
}

var missingCases = []matchCase{
	{"string false", "Patient", "address:missing=false", []string{"p1"}},
	{"string true", "Patient", "address:missing=true", []string{"p2", "p3", "p4", "p5"}},
	{"token true", "Patient", "identifier:missing=true", []string{"p3"}},
	{"token false", "Patient", "identifier:missing=false", []string{"p1", "p2", "p4", "p5"}},
	{"date true", "Observation", "date:missing=true", []string{"o6"}},
	{"number true", "RiskAssessment", "probability:missing=true", []string{"ra4"}},
	{"number false", "RiskAssessment", "probability:missing=false", []string{"ra1", "ra2", "ra3"}},
	{"quantity true", "Observation", "value-quantity:missing=true", []string{"o6", "o7"}},
	{"reference true", "Patient", "organization:missing=true", []string{"p4", "p5"}},
	{"reference false", "Patient", "general-practitioner:missing=false", []string{"p3"}},
	{"uri false", "Patient", "_profile:missing=false", []string{"p1", "p2"}},
	{"composite true", "Observation", "code-value-quantity:missing=true", []string{"o6", "o7"}},
}

var chainCases = []matchCase{
	{"typed chain", "Observation", "subject:Patient.name=muller", []string{"o1", "o2", "o3", "o7"}},
	{"single target", "Observation", "patient.family=smith", []string{"o4", "o5"}},
	{"chain token", "Observation", "patient.identifier=http://hosp/mrn|MRN001", []string{"o1", "o3"}},
	{"chain date", "Observation", "patient.birthdate=lt1980", []string{"o4"}},
	{"two levels", "Observation", "patient.organization.name=acme", []string{"o1", "o3", "o4"}},
	{"two levels accent", "Observation", "patient.organization.name=BETA", []string{"o2", "o7"}},
	{"chain to deleted", "Observation", "subject:Patient.name=ghost", nil},
	{"chain and", "Observation", "patient.family=smith&code=8480-6", []string{"o4"}},
	{"chain _id", "Observation", "patient._id=p4", []string{"o5"}},
	{"chain missing", "Patient", "organization.partof:missing=false", []string{"p2"}},
	{"encounter provider", "Encounter", "service-provider.name=acme", []string{"e1"}},
}

var hasCases = []matchCase{
	{"has code", "Patient", "_has:Observation:patient:code=8480-6", []string{"p1", "p2", "p3", "p5"}},
	{"has system code", "Patient", "_has:Observation:patient:code=http://loinc.org|29463-7", []string{"p1"}},
	{"has encounter", "Patient", "_has:Encounter:patient:status=in-progress", []string{"p3"}},
	{"has and", "Patient", "_has:Observation:patient:code=8480-6&gender=female", []string{"p2", "p3"}},
	{"nested has", "Organization", "_has:Patient:organization:_has:Observation:patient:code=29463-7", []string{"org1"}},
	{"has with chain", "Organization", "_has:Patient:organization:general-practitioner:Practitioner.name=who", []string{"org1"}},
	{"has deleted", "Patient", "_has:Observation:subject:_id=o8", nil},
}

var systemCases = []matchCase{
	{"_id across types", "", "_id=p1,o1", []string{"Patient/p1", "Observation/o1"}},
	{"_type", "", "_type=Patient,Observation&_id=p1,o1,e1", []string{"Patient/p1", "Observation/o1"}},
	{"_tag across types", "", "_tag=http://example.org/tags|vip", []string{"Patient/p2"}},
	{"_profile with _type", "", "_type=Patient&_profile:below=http://example.org/", []string{"Patient/p1", "Patient/p2"}},
}
