package ingest_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/adapters/kafka"
	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/fhir/search"
	"github.com/fhirhub/fhirhub/pipelines/ingest"
	"github.com/fhirhub/fhirhub/pipelines/intake"
	"github.com/fhirhub/fhirhub/store"
)

// msg builds an ER7 message from segments.
func msg(segs ...string) []byte { return []byte(strings.Join(segs, "\r") + "\r") }

// fields builds a segment from its fields (fields[0] is the name).
func fields(n int, set map[int]string, name string) string {
	f := make([]string, n+1)
	f[0] = name
	for i, v := range set {
		f[i] = v
	}
	return strings.Join(f, "|")
}

// adt returns an ADT message of trigger for the patient mrn with visit
// number visit (none when ""), its event at evn (EVN-2).
func adt(trigger, control, mrn, family, evn, visit string, extra ...string) []byte {
	segs := []string{
		"MSH|^~\\&|ADT|HOSP|FHIRHUB|HOSP|" + evn + "||ADT^" + trigger + "^ADT_A01|" + control + "|P|2.5.1",
		"EVN|" + trigger + "|" + evn,
		"PID|1||" + mrn + "^^^HOSP^MR||" + family + "^Thandi||19840229|F",
	}
	if visit != "" {
		segs = append(segs, fields(19, map[int]string{1: "1", 2: "I", 3: "WARD1^101^A", 19: visit + "^^^HOSP^VN"}, "PV1"))
	}
	return msg(append(segs, extra...)...)
}

// oru returns a lab result for patient mrn: order order, one sodium
// result valued value with result status status (F final, P preliminary,
// C corrected), sent at sent (MSH-7).
func oru(control, mrn, family, sent, order, value, status string) []byte {
	return msg(
		"MSH|^~\\&|LIS|LAB|FHIRHUB|HOSP|"+sent+"||ORU^R01^ORU_R01|"+control+"|P|2.5.1",
		"PID|1||"+mrn+"^^^HOSP^MR||"+family+"^Thandi||19840229|F",
		"ORC|RE|"+order+"^EHR|F"+order+"^LAB||CM",
		fields(25, map[int]string{1: "1", 2: order + "^EHR", 3: "F" + order + "^LAB", 4: "2951-2^Sodium^LN", 7: sent, 22: sent, 25: status}, "OBR"),
		"OBX|1|NM|2951-2^Sodium^LN||"+value+"|mmol/L^^UCUM|135-145|N|||"+status,
	)
}

func a40(control, survivor, merged, evn string) []byte {
	return msg(
		"MSH|^~\\&|MPI|HOSP|FHIRHUB|HOSP|"+evn+"||ADT^A40^ADT_A39|"+control+"|P|2.5.1",
		"EVN|A40|"+evn,
		"PID|1||"+survivor+"^^^HOSP^MR||Survivor^Thandi||19840229|F",
		"MRG|"+merged+"^^^HOSP^MR||||||Merged^Thandi",
	)
}

// ingestOK stores raw through the intake and waits until it is processed.
func (e *env) ingestOK(t *testing.T, raw []byte) *store.HL7Message {
	t.Helper()
	_, m := e.intake.Receive(context.Background(), raw, intake.Source{Channel: "mllp"})
	require.NotZero(t, m.ID)
	m = e.waitFinished(t, m.ID, 1)
	require.Equal(t, store.MessageProcessed, m.Status, m.Error)
	return m
}

// replay re-drives the message with control id and waits until it is
// processed again.
func (e *env) replay(t *testing.T, m *store.HL7Message) *store.HL7Message {
	t.Helper()
	n, err := intake.Replay(context.Background(), e.store, e.producer, kafka.TopicHL7Inbound, store.MessageQuery{ControlID: m.ControlID})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	m = e.waitFinished(t, m.ID, m.Attempts+1)
	require.Equal(t, store.MessageProcessed, m.Status, m.Error)
	return m
}

func (e *env) patient(t *testing.T, mrn string) (*store.Resource, fhir.Object) {
	t.Helper()
	ps := e.search(t, "Patient", "identifier="+mrn)
	require.Len(t, ps, 1, mrn)
	obj, err := fhir.ParseObject(ps[0].Content)
	require.NoError(t, err)
	return ps[0], obj
}

// compartment returns Type -> resources referring to Patient/id among
// the types a merge re-points.
func (e *env) compartment(t *testing.T, id string) map[string][]*store.Resource {
	t.Helper()
	out := map[string][]*store.Resource{}
	for _, typ := range []string{"Encounter", "Observation", "DiagnosticReport", "ServiceRequest", "Condition", "AllergyIntolerance", "Coverage"} {
		if rs := e.search(t, typ, "patient=Patient/"+id); len(rs) > 0 {
			out[typ] = rs
		}
	}
	return out
}

// versions returns Type/id -> version of the resources.
func versions(rs ...*store.Resource) map[string]int64 {
	out := map[string]int64{}
	for _, r := range rs {
		out[r.Reference()] = r.Version
	}
	return out
}

func linkTo(t *testing.T, p fhir.Object, typ string) fhir.Object {
	t.Helper()
	links, _ := p["link"].([]any)
	for _, l := range links {
		if link := l.(fhir.Object); link["type"] == typ {
			return link["other"].(fhir.Object)
		}
	}
	t.Fatalf("no link of type %s in %v", typ, p["link"])
	return nil
}

func TestA40RepointsTheMergedPatientsResourcesToTheSurvivor(t *testing.T) {
	e := start(t)
	// The merged patient's A01 also sends an allergy, a diagnosis and a
	// medical-aid cover.
	clinical := []string{
		"AL1|1|DA^Drug allergy^HL70127|7980^Penicillin^RXNORM|SV^Severe^HL70128|Anaphylaxis",
		"DG1|1||I20.0^Unstable angina^I10||20261102|A",
		fields(49, map[int]string{1: "1", 2: "PLAN-1^Classic", 3: "PAYER-1^^^^NIIP", 4: "Payer", 36: "POL-%s", 49: "%s^^^HOSP^MR"}, "IN1"),
	}
	tests := []struct {
		name                       string
		survivorKnown, mergedKnown bool
		mergedData                 bool // the merged patient has visits, results, allergies ...
	}{
		{name: "both known", survivorKnown: true, mergedKnown: true, mergedData: true},
		{name: "survivor created by the A40", mergedKnown: true, mergedData: true},
		{name: "merged patient unknown", survivorKnown: true},
		{name: "both unknown"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := string(rune('A' + i))
			surv, merged := "S-"+n, "M-"+n
			if tc.survivorKnown {
				e.ingestOK(t, adt("A01", "S1"+n, surv, "Survivor", "20261101080000", "VS"+n))
			}
			if tc.mergedKnown {
				var extra []string
				if tc.mergedData {
					for _, s := range clinical {
						extra = append(extra, strings.ReplaceAll(s, "%s", merged))
					}
				}
				e.ingestOK(t, adt("A01", "M1"+n, merged, "Merged", "20261101090000", "VM"+n, extra...))
				if tc.mergedData {
					e.ingestOK(t, oru("M2"+n, merged, "Merged", "20261101100000", "O"+n, "139", "F"))
				}
			}
			var before, survivorBefore map[string][]*store.Resource
			var mergedID string
			if tc.survivorKnown {
				r, _ := e.patient(t, surv)
				survivorBefore = e.compartment(t, r.ID)
			}
			if tc.mergedKnown {
				r, _ := e.patient(t, merged)
				mergedID = r.ID
				before = e.compartment(t, mergedID)
			}
			if tc.mergedData {
				for _, typ := range []string{"Encounter", "Observation", "DiagnosticReport", "ServiceRequest", "Condition", "AllergyIntolerance", "Coverage"} {
					require.NotEmpty(t, before[typ], "the merged patient has a %s before the merge", typ)
				}
			}

			m := e.ingestOK(t, a40("MG"+n, surv, merged, "20261102080000"))

			sr, sp := e.patient(t, surv)
			mr, mp := e.patient(t, merged)
			assert.NotEqual(t, sr.ID, mr.ID)
			assert.Equal(t, false, mp["active"], "the merged patient is inactive")
			assert.NotEqual(t, false, sp["active"])
			assert.Equal(t, "Patient/"+mr.ID, linkTo(t, sp, "replaces")["reference"])
			assert.Equal(t, "Patient/"+sr.ID, linkTo(t, mp, "replaced-by")["reference"])
			assert.NotEmpty(t, linkTo(t, sp, "replaces")["identifier"], "the identifier stays beside the reference")
			if tc.mergedKnown {
				assert.Equal(t, mergedID, mr.ID)
			}

			assert.Empty(t, e.compartment(t, mr.ID), "nothing refers to the merged patient")
			after := e.compartment(t, sr.ID)
			for typ, rs := range before {
				require.Len(t, after[typ], len(rs)+len(survivorBefore[typ]), typ)
				old := versions(rs...)
				for _, r := range after[typ] {
					if v, ok := old[r.Reference()]; ok {
						assert.Equal(t, v+1, r.Version, "%s re-pointed in one new version", r.Reference())
						obj, err := fhir.ParseObject(r.Content)
						require.NoError(t, err)
						assert.Equal(t, "hl7v2-message/"+strconv.FormatInt(m.ID, 10), obj["meta"].(fhir.Object)["source"])
						assert.NotContains(t, string(r.Content), "Patient/"+mr.ID)
					}
				}
			}

			// Replaying the A40 writes no new version of anything.
			all := []*store.Resource{sr, mr}
			for _, rs := range after {
				all = append(all, rs...)
			}
			want := versions(all...)
			e.replay(t, m)
			sr2, _ := e.patient(t, surv)
			mr2, _ := e.patient(t, merged)
			again := []*store.Resource{sr2, mr2}
			for _, rs := range e.compartment(t, sr.ID) {
				again = append(again, rs...)
			}
			assert.Equal(t, want, versions(again...))
		})
	}
}

func TestRepointTypesAreSearchableByPatient(t *testing.T) {
	reg := search.NewRegistry()
	for _, typ := range ingest.RepointTypes {
		sp := reg.Lookup(typ, "patient")
		if assert.NotNil(t, sp, typ) {
			assert.Equal(t, search.TypeReference, sp.Type, typ)
		}
	}
}
