package postgres_test

import (
	"context"
	"net/url"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/fhir/search"
	"github.com/fhirhub/fhirhub/service"
	"github.com/fhirhub/fhirhub/store"
	"github.com/fhirhub/fhirhub/store/postgres"
	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

// testBase is the server base the search tests parse references against.
const testBase = "http://fhirhub.test/fhir"

// clockStart is the fixed start of the test clock; every store write
// advances it by a minute, so _lastUpdated values are known.
var clockStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// newClock returns a clock that moves one minute per call.
func newClock() func() time.Time {
	var n atomic.Int64
	return func() time.Time { return clockStart.Add(time.Duration(n.Add(1)) * time.Minute) }
}

// searchFixture is the seeded data set of the search tests: patients with
// accented names, identifiers, telecom and birth dates of several
// precisions; observations with LOINC codes, UCUM quantities, dates,
// periods and components; encounters, organizations, a practitioner and
// risk assessments. Patient p6 and the observation o8 pointing at it are
// deleted, and must never match; encounter e3 points at p6.
var searchFixture = []string{
	`{"resourceType":"Organization","id":"org1","name":"Acme Health","identifier":[{"system":"http://org","value":"ACME"}]}`,
	`{"resourceType":"Organization","id":"org2","name":"Béta Clinic","partOf":{"reference":"Organization/org1"}}`,
	`{"resourceType":"Practitioner","id":"pr1","name":[{"family":"Who","given":["Doctor"]}]}`,
	`{"resourceType":"Patient","id":"p1","meta":{"profile":["http://example.org/StructureDefinition/worker"]},
	  "active":true,"gender":"male","birthDate":"1980-05-17",
	  "name":[{"family":"Müller","given":["Hans"]}],
	  "identifier":[{"system":"http://hosp/mrn","value":"MRN001",
	    "type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]}}],
	  "telecom":[{"system":"phone","value":"555-0101","use":"home"}],
	  "address":[{"city":"Kinshasa"}],
	  "managingOrganization":{"reference":"Organization/org1"}}`,
	`{"resourceType":"Patient","id":"p2","meta":{"profile":["http://example.org/StructureDefinition/worker-extended"],
	    "tag":[{"system":"http://example.org/tags","code":"vip"}]},
	  "gender":"female","birthDate":"1980-05",
	  "name":[{"family":"Muller","given":["Anna"]}],
	  "identifier":[{"system":"http://hosp/mrn","value":"MRN002"}],
	  "telecom":[{"system":"email","value":"anna@example.org","use":"work"}],
	  "managingOrganization":{"reference":"Organization/org2"}}`,
	`{"resourceType":"Patient","id":"p3","gender":"female","birthDate":"1975",
	  "name":[{"family":"Smith","given":["Élodie"]}],
	  "managingOrganization":{"reference":"Organization/org1"},
	  "generalPractitioner":[{"reference":"Practitioner/pr1"}]}`,
	`{"resourceType":"Patient","id":"p4","gender":"male","birthDate":"1990-12-31",
	  "name":[{"family":"Smithson","given":["John"]}],
	  "identifier":[{"system":"http://national/id","value":"NAT-4"}]}`,
	`{"resourceType":"Patient","id":"p5","gender":"unknown","birthDate":"2001-02-03",
	  "name":[{"family":"100% Real_Name"}],
	  "identifier":[{"value":"LOCAL5"}]}`,
	`{"resourceType":"Patient","id":"p6","gender":"female","birthDate":"1980-05-17","name":[{"family":"Ghost"}],
	  "managingOrganization":{"reference":"Organization/org1"}}`,
	`{"resourceType":"Encounter","id":"e1","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},
	  "subject":{"reference":"Patient/p1"},"period":{"start":"2024-03-05T09:00:00Z","end":"2024-03-05T11:00:00Z"},
	  "serviceProvider":{"reference":"Organization/org1"}}`,
	`{"resourceType":"Encounter","id":"e2","status":"in-progress","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"IMP"},
	  "subject":{"reference":"Patient/p3"},"period":{"start":"2024-03-01"},
	  "serviceProvider":{"reference":"Organization/org2"}}`,
	`{"resourceType":"Encounter","id":"e3","status":"cancelled","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"EMER"},
	  "subject":{"reference":"Patient/p6"}}`,
	`{"resourceType":"Observation","id":"o1","status":"final",
	  "code":{"coding":[{"system":"http://loinc.org","code":"8480-6","display":"Systolic blood pressure"}]},
	  "subject":{"reference":"Patient/p1"},"encounter":{"reference":"Encounter/e1"},
	  "effectiveDateTime":"2024-03-05T10:30:00Z",
	  "valueQuantity":{"value":120,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}`,
	`{"resourceType":"Observation","id":"o2","status":"final",
	  "code":{"coding":[{"system":"http://loinc.org","code":"8480-6","display":"Systolic blood pressure"}]},
	  "subject":{"reference":"Patient/p2"},
	  "effectivePeriod":{"start":"2024-03-01","end":"2024-03-10"},
	  "valueQuantity":{"value":95,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}`,
	`{"resourceType":"Observation","id":"o3","status":"preliminary",
	  "code":{"coding":[{"system":"http://loinc.org","code":"29463-7","display":"Body weight"}]},
	  "subject":{"reference":"Patient/p1"},"effectiveDateTime":"2023-12-31",
	  "valueQuantity":{"value":72.5,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}}`,
	`{"resourceType":"Observation","id":"o4","status":"amended",
	  "code":{"coding":[{"system":"http://other","code":"8480-6","display":"Pressure systolic"}]},
	  "subject":{"reference":"Patient/p3"},"effectiveDateTime":"2024",
	  "valueQuantity":{"value":140,"unit":"mmHg"}}`,
	`{"resourceType":"Observation","id":"o5","status":"cancelled",
	  "code":{"coding":[{"system":"http://loinc.org","code":"8867-4","display":"Heart rate"}],"text":"Pulse at rest"},
	  "subject":{"reference":"Patient/p4"},"performer":[{"reference":"http://other.org/fhir/Practitioner/x9"}],
	  "effectiveDateTime":"2022-06-15T08:00:00+02:00",
	  "valueQuantity":{"value":60,"unit":"/min","system":"http://unitsofmeasure.org","code":"/min"}}`,
	`{"resourceType":"Observation","id":"o6","status":"final",
	  "code":{"coding":[{"system":"http://loinc.org","code":"8480-6","display":"Systolic blood pressure"}]},
	  "subject":{"reference":"Patient/p5"},
	  "dataAbsentReason":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/data-absent-reason","code":"unknown"}]}}`,
	`{"resourceType":"Observation","id":"o7","status":"final",
	  "code":{"coding":[{"system":"http://loinc.org","code":"85354-9","display":"Blood pressure panel"}]},
	  "subject":{"reference":"Patient/p2"},"effectiveDateTime":"2024-03-07",
	  "component":[
	    {"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":130,"system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
	    {"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},"valueQuantity":{"value":85,"system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]}`,
	`{"resourceType":"Observation","id":"o8","status":"final",
	  "code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},
	  "subject":{"reference":"Patient/p6"},"effectiveDateTime":"2024-03-05"}`,
	`{"resourceType":"RiskAssessment","id":"ra1","status":"final","subject":{"reference":"Patient/p1"},"prediction":[{"probabilityDecimal":0.8}]}`,
	`{"resourceType":"RiskAssessment","id":"ra2","status":"final","subject":{"reference":"Patient/p2"},"prediction":[{"probabilityDecimal":0.25}]}`,
	`{"resourceType":"RiskAssessment","id":"ra3","status":"final","subject":{"reference":"Patient/p3"},"prediction":[{"probabilityDecimal":0.80}]}`,
	`{"resourceType":"RiskAssessment","id":"ra4","status":"final","subject":{"reference":"Patient/p4"}}`,
}

// fixture is a store seeded with searchFixture and the times the
// resources were stored.
type fixture struct {
	st      *postgres.Store
	updated map[string]time.Time // "Type/id" -> lastUpdated
}

// newFixture seeds a fresh store with searchFixture, then deletes p6 and o8.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st := pgtest.StoreWith(t, postgres.Config{Now: newClock()})
	f := &fixture{st: st, updated: seed(t, st, searchFixture)}
	require.NoError(t, st.Transaction(ctx, func(ctx context.Context, tx store.Tx) error {
		for _, ref := range [][2]string{{"Patient", "p6"}, {"Observation", "o8"}} {
			if _, err := tx.Delete(ctx, ref[0], ref[1], 0); err != nil {
				return err
			}
		}
		return nil
	}))
	return f
}

// seed creates each of docs in a transaction of its own and returns when
// each was stored, by "Type/id".
func seed(t *testing.T, st *postgres.Store, docs []string) map[string]time.Time {
	t.Helper()
	updated := map[string]time.Time{}
	for _, js := range docs {
		obj := mustParse(t, js)
		require.NoError(t, st.Transaction(context.Background(), func(ctx context.Context, tx store.Tx) error {
			res, err := tx.Create(ctx, obj, "POST")
			if err == nil {
				updated[res.Reference()] = res.LastUpdated
			}
			return err
		}))
	}
	return updated
}

func mustParse(tb testing.TB, js string) fhir.Object {
	tb.Helper()
	obj, err := fhir.ParseObject([]byte(js))
	require.NoError(tb, err)
	return obj
}

// parse parses a query string for typ, failing on warnings and errors.
func parse(tb testing.TB, typ, query string) *store.SearchQuery {
	tb.Helper()
	params, err := url.ParseQuery(query)
	require.NoError(tb, err)
	q, warnings, err := service.ParseSearch(search.Default(), typ, params, service.WithBaseURL(testBase))
	require.NoError(tb, err, "%s?%s", typ, query)
	require.Empty(tb, warnings, "%s?%s", typ, query)
	return q
}

// run parses and runs a search.
func (f *fixture) run(tb testing.TB, typ, query string) *store.SearchResult {
	tb.Helper()
	res, err := f.st.Search(context.Background(), parse(tb, typ, query))
	require.NoError(tb, err, "%s?%s", typ, query)
	return res
}

// ids returns the ids of rs in order ("Type/id" when types differ from typ).
func ids(typ string, rs []*store.Resource) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		if r.Type == typ {
			out = append(out, r.ID)
		} else {
			out = append(out, r.Reference())
		}
	}
	return out
}

// sorted returns a sorted copy of s (nil for empty, for comparisons).
func sorted(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
