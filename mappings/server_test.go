package mappings_test

import (
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/fhir/search"
	"github.com/fhirhub/fhirhub/mappings"
	"github.com/fhirhub/fhirhub/service"
	"github.com/fhirhub/fhirhub/store/postgres"
	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

// These tests run the Bundles through the real transaction processing of
// the FHIR service on a real PostgreSQL store: what the ingest pipeline
// will do. They prove the merge strategy (ensure and patch), the
// conditional keys and idempotency, not just the shape of the Bundles.

func TestMain(m *testing.M) { pgtest.Main(m) }

// server is the FHIR service on a fresh database.
type server struct {
	t   *testing.T
	svc *service.Service
}

func newServer(t *testing.T) *server {
	t.Helper()
	reg := search.NewRegistry()
	st := pgtest.StoreWith(t, postgres.Config{Extractor: reg})
	svc, err := service.New(service.Config{Store: st, Validator: validator, Registry: reg})
	require.NoError(t, err)
	return &server{t: t, svc: svc}
}

// apply maps testdata/<name>.hl7 and runs the Bundle as a transaction.
func (s *server) apply(name string) {
	s.t.Helper()
	bundle, err := mappings.Map(MustReadMessage(s.t, name), testOptions(s.t, "hl7v2-message/"+name))
	require.NoError(s.t, err, name)
	_, err = s.svc.Bundle(context.Background(), bundle, service.BundleOptions{})
	require.NoError(s.t, err, "%s: the server refused the Bundle", name)
}

// find returns the resources of typ matching query.
func (s *server) find(typ, query string) []fhir.Object {
	s.t.Helper()
	q, err := url.ParseQuery(query)
	require.NoError(s.t, err)
	res, _, warnings, err := s.svc.Search(context.Background(), typ, q)
	require.NoError(s.t, err)
	require.Empty(s.t, warnings, "%s?%s", typ, query)
	var out []fhir.Object
	for _, r := range res.Matches {
		obj, err := fhir.ParseObject(r.Content)
		require.NoError(s.t, err)
		out = append(out, obj)
	}
	return out
}

// one returns the one resource of typ matching query.
func (s *server) one(typ, query string) fhir.Object {
	s.t.Helper()
	found := s.find(typ, query)
	require.Len(s.t, found, 1, "%s?%s", typ, query)
	return found[0]
}

// versions returns Type/id -> meta.versionId of every resource of the
// types a mapping writes.
func (s *server) versions() map[string]string {
	s.t.Helper()
	out := map[string]string{}
	for _, typ := range []string{"Patient", "Encounter", "Location", "Practitioner", "Organization", "Observation",
		"DiagnosticReport", "ServiceRequest", "Specimen", "Condition", "AllergyIntolerance", "Coverage", "ImagingStudy", "Provenance"} {
		for _, r := range s.find(typ, "_count=1000") {
			out[typ+"/"+fhir.ResourceID(r)] = r["meta"].(fhir.Object)["versionId"].(string)
		}
	}
	return out
}

func str(v any, path ...any) string {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(fhir.Object)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return ""
			}
			v = a[k]
		}
	}
	s, _ := v.(string)
	return s
}

const zoe = "identifier=urn:fhirhub:hl7v2:id:MAIN-HOSP|MRN-100234"

// TestServerAdmitThenUpdateMerges: an A08 replaces what it sends, clears
// what it sends as "" and keeps what it does not send.
func TestServerAdmitThenUpdateMerges(t *testing.T) {
	s := newServer(t)
	s.apply("adt_a01_basic")
	p := s.one("Patient", zoe)
	require.Len(t, p["identifier"], 3)
	require.NotNil(t, p["telecom"])
	require.NotNil(t, p["maritalStatus"])
	enc := s.one("Encounter", "identifier=urn:fhirhub:hl7v2:id:MAIN-HOSP|V-2025-000981")
	assert.Equal(t, "in-progress", enc["status"])
	assert.Equal(t, "Encounter/"+fhir.ResourceID(enc), str(s.one("Condition", "code=I20.0"), "encounter", "reference"))
	assert.Equal(t, "Patient/"+fhir.ResourceID(p), str(enc, "subject", "reference"))
	bed := s.one("Location", "identifier=urn:fhirhub:hl7v2:location|MAIN-HOSP\\|W3\\|312\\|B")
	assert.Equal(t, "O", str(bed, "operationalStatus", "code"))
	assert.Equal(t, "Location/"+fhir.ResourceID(bed), str(enc, "location", 0, "location", "reference"))

	s.apply("adt_a08_update_nulls")
	p2 := s.one("Patient", zoe)
	assert.Equal(t, fhir.ResourceID(p), fhir.ResourceID(p2), "the A08 updated the same Patient")
	assert.Nil(t, p2["telecom"], `PID-13 "" clears the telecoms`)
	assert.Nil(t, p2["maritalStatus"], `PID-16 "" clears the marital status`)
	assert.Equal(t, "Centurion", str(p2, "address", 0, "city"), "PID-11 replaces the addresses")
	assert.Equal(t, "Dr", str(p2, "name", 0, "prefix", 0), "PID-5 replaces the names")
	assert.Equal(t, "1980-01-01", p2["birthDate"], "PID-7, not sent, is kept")
	assert.Equal(t, "female", p2["gender"], "PID-8, not sent, is kept")
	assert.Len(t, p2["extension"], 2, "the extensions of the admission are kept")
	assert.Len(t, p2["generalPractitioner"], 2, "PD1, not sent, is kept")
	assert.Equal(t, "hl7v2-message/adt_a08_update_nulls", str(p2, "meta", "source"))
	enc2 := s.one("Encounter", "identifier=urn:fhirhub:hl7v2:id:MAIN-HOSP|V-2025-000981")
	assert.Equal(t, "CAR", str(enc2, "serviceType", "coding", 0, "code"), "PV1-10 merged")
	assert.Equal(t, "in-progress", enc2["status"], "an A08 does not change the status")
	assert.NotNil(t, enc2["participant"], "an A08 keeps the participants")
	assert.NotNil(t, enc2["period"], "PV1-44, not sent, is kept")

	before := s.versions()
	s.apply("adt_a08_update_nulls")
	assert.Equal(t, before, s.versions(), "processing the A08 again changes nothing")
}

// TestServerTransferMovesPatientAndBeds: an A02 moves the patient and
// the bed statuses follow.
func TestServerTransferMovesPatientAndBeds(t *testing.T) {
	s := newServer(t)
	s.apply("adt_a01_basic")
	s.apply("adt_a02_transfer")
	enc := s.one("Encounter", "identifier=urn:fhirhub:hl7v2:id:MAIN-HOSP|V-2025-000981")
	old := s.one("Location", "identifier=urn:fhirhub:hl7v2:location|MAIN-HOSP\\|W3\\|312\\|B")
	cur := s.one("Location", "identifier=urn:fhirhub:hl7v2:location|MAIN-HOSP\\|W4\\|401\\|A")
	assert.Equal(t, "U", str(old, "operationalStatus", "code"))
	assert.Equal(t, "O", str(cur, "operationalStatus", "code"))
	assert.Equal(t, "Location/"+fhir.ResourceID(old), str(enc, "location", 0, "location", "reference"))
	assert.Equal(t, "completed", str(enc, "location", 0, "status"))
	assert.Equal(t, "Location/"+fhir.ResourceID(cur), str(enc, "location", 1, "location", "reference"))
	assert.Equal(t, "active", str(enc, "location", 1, "status"))
	assert.Len(t, s.find("Patient", ""), 1)
	assert.Len(t, s.find("Encounter", ""), 1)

	s.apply("adt_a12_cancel_transfer")
	assert.Equal(t, "O", str(s.one("Location", "identifier=urn:fhirhub:hl7v2:location|MAIN-HOSP\\|W3\\|312\\|B"), "operationalStatus", "code"))
	assert.Equal(t, "U", str(s.one("Location", "identifier=urn:fhirhub:hl7v2:location|MAIN-HOSP\\|W4\\|401\\|A"), "operationalStatus", "code"))
}

// TestServerCorrectedResultUpdatesSameResources: a corrected result is a
// new version of the same Observation and DiagnosticReport; critical
// results can be found by their tag.
func TestServerCorrectedResultUpdatesSameResources(t *testing.T) {
	s := newServer(t)
	s.apply("oru_r01_lab")
	obs := s.find("Observation", "")
	require.Len(t, obs, 12)
	const potassium = "identifier=urn:fhirhub:hl7v2:obx|LAB-88123^PATH-LAB\\|2823-3\\|"
	k := s.one("Observation", potassium)
	assert.Equal(t, "final", k["status"])
	critical := s.find("Observation", "_tag="+mappings.CriticalResultTag+"|critical")
	assert.Len(t, critical, 2, "HH potassium and LL albumin")
	dr := s.one("DiagnosticReport", "identifier=urn:fhirhub:hl7v2:id:PATH-LAB|LAB-88123")
	assert.Len(t, dr["result"], 11)
	sr := s.one("ServiceRequest", "identifier=urn:fhirhub:hl7v2:id:EHR|ORD-5521")
	assert.Equal(t, "ServiceRequest/"+fhir.ResourceID(sr), str(dr, "basedOn", 0, "reference"))
	p := s.one("Patient", zoe)
	assert.Nil(t, p["telecom"], "a result creates the Patient from PID")

	before := s.versions()
	s.apply("oru_r01_lab")
	assert.Equal(t, before, s.versions(), "processing the ORU again changes nothing")

	s.apply("oru_r01_lab_corrected")
	assert.Len(t, s.find("Observation", ""), 12, "the corrected results update the same Observations")
	k2 := s.one("Observation", potassium)
	assert.Equal(t, fhir.ResourceID(k), fhir.ResourceID(k2))
	assert.Equal(t, "corrected", k2["status"])
	assert.Equal(t, "2", str(k2, "meta", "versionId"))
	assert.Equal(t, "5.4", string(k2["valueQuantity"].(fhir.Object)["value"].(interface{ String() string }).String()))
	assert.Nil(t, k2["extension"], "no longer critical")
	dr2 := s.one("DiagnosticReport", "identifier=urn:fhirhub:hl7v2:id:PATH-LAB|LAB-88123")
	assert.Equal(t, fhir.ResourceID(dr), fhir.ResourceID(dr2))
	assert.Equal(t, "corrected", dr2["status"])
	assert.Len(t, s.find("Observation", "_tag="+mappings.CriticalResultTag+"|critical"), 1)

	s.apply("adt_a01_basic")
	assert.Len(t, s.find("Patient", ""), 1, "the admission completes the Patient the result created")
	assert.NotNil(t, s.one("Patient", zoe)["telecom"])
}

// TestServerImagingOrderHoldReport: an imaging order, its hold and its
// report are one ServiceRequest, linked to one ImagingStudy.
func TestServerImagingOrderHoldReport(t *testing.T) {
	s := newServer(t)
	s.apply("omi_o23_imaging_order")
	sr := s.one("ServiceRequest", "identifier=urn:fhirhub:hl7v2:id:EHR|ORD-6610")
	assert.Equal(t, "active", sr["status"])
	assert.Equal(t, "stat", sr["priority"])
	study := s.one("ImagingStudy", "identifier=urn:dicom:uid|urn:oid:1.2.826.0.1.3680043.8.498.12345")
	assert.Equal(t, "registered", study["status"])

	s.apply("omi_o23_imaging_hold")
	held := s.one("ServiceRequest", "identifier=urn:fhirhub:hl7v2:id:EHR|ORD-6610")
	assert.Equal(t, fhir.ResourceID(sr), fhir.ResourceID(held))
	assert.Equal(t, "on-hold", held["status"])
	assert.Equal(t, "stat", held["priority"], "a status change keeps the order")

	s.apply("oru_r01_radiology_pdf")
	done := s.one("ServiceRequest", "identifier=urn:fhirhub:hl7v2:id:EHR|ORD-6610")
	assert.Equal(t, fhir.ResourceID(sr), fhir.ResourceID(done), "the report finds the order by its placer number")
	assert.Equal(t, "completed", done["status"])
	dr := s.one("DiagnosticReport", "identifier=urn:fhirhub:hl7v2:id:RAD-DEPT|ACC-2025-7731")
	assert.Equal(t, "ServiceRequest/"+fhir.ResourceID(sr), str(dr, "basedOn", 0, "reference"))
	assert.Equal(t, "ImagingStudy/"+fhir.ResourceID(study), str(dr, "imagingStudy", 0, "reference"))
	assert.Equal(t, "available", s.one("ImagingStudy", "_id="+fhir.ResourceID(study))["status"])
	assert.Equal(t, "application/pdf", str(dr, "presentedForm", 1, "contentType"))
	assert.Contains(t, dr["conclusion"], "pleural effusion")
	assert.Len(t, s.find("ServiceRequest", ""), 1)

	s.apply("orm_o01_radiology_zds")
	s.apply("orm_o01_radiology_cancel")
	ct := s.one("ServiceRequest", "identifier=urn:fhirhub:hl7v2:id:EHR|ORD-7001")
	assert.Equal(t, "revoked", ct["status"])
	assert.Equal(t, "cancelled", s.one("ImagingStudy", "identifier=urn:dicom:uid|urn:oid:1.2.826.0.1.3680043.8.498.67890")["status"])
}

// TestServerMerge: A40 marks the merged patient inactive with links both
// ways (logical references, which the pipeline resolves; see Merges).
func TestServerMerge(t *testing.T) {
	s := newServer(t)
	s.apply("adt_a01_basic")
	s.apply("adt_a40_merge")
	survivor := s.one("Patient", zoe)
	assert.Equal(t, "replaces", str(survivor, "link", 0, "type"))
	assert.Equal(t, "MRN-188002", str(survivor, "link", 0, "other", "identifier", "value"))
	merged := s.one("Patient", "identifier=urn:fhirhub:hl7v2:id:MAIN-HOSP|MRN-188002")
	assert.Equal(t, false, merged["active"])
	assert.Equal(t, "replaced-by", str(merged, "link", 0, "type"))
	assert.Equal(t, "MRN-100234", str(merged, "link", 0, "other", "identifier", "value"))
	assert.Len(t, s.find("Patient", ""), 4)

	merges, err := mappings.Merges(MustReadMessage(t, "adt_a40_merge"), testOptions(t, "x"))
	require.NoError(t, err)
	require.Len(t, merges, 2)
	for _, m := range merges {
		typ, q, _ := strings.Cut(m.Survivor, "?")
		require.Equal(t, "Patient", typ)
		s.one(typ, q)
		typ, q, _ = strings.Cut(m.Merged, "?")
		s.one(typ, q)
	}
}

// TestServerEveryMessageIsIdempotent: every test message is accepted by
// the server, and processing it a second time makes no new version.
func TestServerEveryMessageIsIdempotent(t *testing.T) {
	s := newServer(t)
	files, err := filepath.Glob(filepath.Join("testdata", "*.hl7"))
	require.NoError(t, err)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".hl7")
		s.apply(name)
		before := s.versions()
		s.apply(name)
		assert.Equal(t, before, s.versions(), "%s again made new versions", name)
	}
}
