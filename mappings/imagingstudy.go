package mappings

import (
	"strings"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/fhir"
)

// This file maps the DICOM Study Instance UID of an imaging order or
// report to ImagingStudy (FHIR R4 imagingstudy.html; the v2-to-FHIR IG's
// IPC[ImagingStudy] map): IPC-3 in OMI^O23, the IHE ZDS-1 Z-segment in
// ORM^O01, an OBX coded DCM 113014 ("Study Instance UID") in ORU^R01. The
// study is keyed by its UID; the order only registers it (status
// registered), a report says it is available, and the PACS may add the
// series later.

const dicomUIDSystem = "urn:dicom:uid"

// imagingStudy ensures the ImagingStudy with Study Instance UID uid and
// returns a Reference to it; nil when uid is not a UID. status is the
// status it is created with; when patch is true it is also patched to an
// existing study.
func (b *builder) imagingStudy(uid string, oc *orderContext, status string, patch bool) fhir.Object {
	uid = strings.TrimSpace(uid)
	if !isOID(uid) || len(uid) > 64 {
		return nil
	}
	id := fhir.Object{"system": dicomUIDSystem, "value": "urn:oid:" + uid}
	ids := []any{id}
	if acc := b.identifierFromEI(oc.ids.accession, "ACSN", accessionSystem); acc != nil {
		ids = append(ids, acc)
	}
	st := fhir.Object{"identifier": ids, "status": status, "subject": oc.patient.reference()}
	if oc.visit != nil {
		st["encounter"] = oc.visit.ref
	}
	if oc.sr != nil {
		st["basedOn"] = []any{oc.sr}
	}
	var modality []any
	for _, s := range oc.order.IPC {
		m := hl7v2.ParseCWE(s.Field(5))
		if c := coding(m.Identifier, m.Text, m.CodingSystem, "", "http://dicom.nema.org/resources/ontology/DCM"); c != nil {
			modality = append(modality, c)
			break
		}
	}
	if len(modality) > 0 {
		st["modality"] = modality
	}
	if c := codeableConcept(hl7v2.ParseCWE(oc.obr.Field(4)), ""); c != nil {
		st["procedureCode"] = []any{c}
		if t, ok := c["text"].(string); ok {
			st["description"] = t
		} else if d := hl7v2.ParseCWE(oc.obr.Field(4)).Text; d != "" {
			st["description"] = d
		}
	}
	ref := b.ensure("ImagingStudy", criteria("identifier", tokenOf(id)), st)
	if patch {
		b.patch(ref, []any{opAdd("/status", status), opAdd("/meta/source", b.source)})
	}
	return fhir.Object{"reference": ref}
}

// isStudyUIDObservation reports whether an OBX carries the Study Instance
// UID (DICOM code 113014, or its name) rather than a finding.
func isStudyUIDObservation(code hl7v2.CWE) bool {
	return code.Identifier == "113014" || strings.EqualFold(strings.TrimSpace(code.Text), "Study Instance UID")
}

// isDICOMReferenceObservation reports whether an OBX holds a DICOM
// reference (a study, series or SOP instance UID) rather than a finding.
func isDICOMReferenceObservation(code hl7v2.CWE) bool {
	if isStudyUIDObservation(code) {
		return true
	}
	t := strings.ToLower(code.Text)
	return strings.HasSuffix(t, "instance uid") || code.Identifier == "112002" || code.Identifier == "121126"
}
