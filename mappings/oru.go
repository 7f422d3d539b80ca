package mappings

import (
	"strings"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/fhir"
)

// This file maps ORU^R01 (HL7 v2.5.1 chapter 7; the v2-to-FHIR IG's
// message map ORU_R01) for laboratory and imaging results.

// MapORU maps an ORU^R01. For each patient result it ensures the Patient
// (created from PID when unknown; an order or result sender does not
// master demographics, so an existing Patient is not changed) and the
// Encounter of PV1 when identified; for each order (ORC/OBR) it writes
// the ServiceRequest (created when unknown; its status patched when ORC
// gives one), the Specimens (SPM, else OBR-15), an Observation per OBX and
// the DiagnosticReport; and the Provenance.
//
// An order is an imaging order when OBR-24 is an imaging section (RAD,
// CT, US ...) or it reports a Study Instance UID. Its text OBX (ST, TX,
// FT) become the report's text (presentedForm, and conclusion for the
// impression) rather than Observations, its coded and numeric OBX are
// findings (Observations), and the study becomes an ImagingStudy. ED
// values (a PDF report) become presentedForm attachments in both kinds.
func MapORU(m *hl7v2.Message, opt Options) (fhir.Object, error) {
	if m == nil {
		return nil, fieldError("MSH", nil, "no message")
	}
	if t := m.Header().Type; t.Code != "ORU" || t.Trigger != "R01" {
		return nil, unsupported(safeType(t))
	}
	b, err := newBuilder(m, opt)
	if err != nil {
		return nil, err
	}
	oru, _ := hl7v2.ParseORU(m)
	if len(oru.Results) == 0 {
		return nil, fieldError("OBR", nil, "segment missing")
	}
	for i := range oru.Results {
		r := &oru.Results[i]
		if r.Patient == nil {
			return nil, fieldError("PID", nil, "segment missing")
		}
		p, err := b.patient(r.Patient.PID, r.Patient.PD1, nil, patientEnsure, nil)
		if err != nil {
			return nil, err
		}
		visit, err := b.encounter(r.Patient.Visit, p, visitEvent{}, visitEnsure)
		if err != nil {
			return nil, err
		}
		if len(r.Orders) == 0 {
			// ORU_R01 requires an ORDER_OBSERVATION in each PATIENT_RESULT.
			return nil, fieldError("OBR", nil, "segment missing")
		}
		for j := range r.Orders {
			if err := b.mapResultOrder(&r.Orders[j], p, visit); err != nil {
				return nil, err
			}
		}
	}
	return b.bundle("R01"), nil
}

// mapResultOrder maps one ORDER_OBSERVATION group.
func (b *builder) mapResultOrder(o *hl7v2.Order, p *patientRef, visit *visitRef) error {
	obr := o.OBR()
	if !obr.Exists() {
		return fieldError("OBR", nil, "segment missing")
	}
	if codeableConcept(hl7v2.ParseCWE(obr.Field(4)), "") == nil {
		return fieldError(loc(obr, 4), nil, "no universal service identifier")
	}
	oc := &orderContext{order: o, orc: o.ORC, obr: obr, patient: p, visit: visit, imaging: isImagingResult(o)}
	oc.ids = readOrderIDs(o.ORC, obr, o.IPC, oc.imaging)
	oc.key = b.orderKey(oc)
	sr, err := b.serviceRequest(oc, srEnsure)
	if err != nil {
		return err
	}
	oc.sr = sr

	parts := &reportParts{}
	spmRefs := make([]fhir.Object, len(o.Specimens))
	for i, sp := range o.Specimens {
		ref, err := b.specimenFromSPM(sp.SPM, oc)
		if err != nil {
			return err
		}
		spmRefs[i] = ref
		parts.specimens = append(parts.specimens, ref)
	}
	if len(o.Specimens) == 0 {
		ref, err := b.specimenFromOBR(oc)
		if err != nil {
			return err
		}
		if ref != nil {
			parts.specimens = append(parts.specimens, ref)
		}
	}

	issued, err := b.ts(obr.Field(22), loc(obr, 22))
	if err != nil {
		return err
	}
	effective, err := b.ts(obr.Field(7), loc(obr, 7))
	if err != nil {
		return err
	}
	category := "laboratory"
	if oc.imaging {
		category = "imaging"
	}
	g := &obsGroup{
		key:       oc.key,
		subject:   p.reference(),
		basedOn:   []any{sr},
		effective: effective,
		issued:    instant(issued),
		category: []any{fhir.Object{"coding": []any{fhir.Object{
			"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": category,
		}}}},
	}
	if visit != nil {
		g.encounter = visit.ref
	}
	if len(parts.specimens) == 1 {
		g.specimen = parts.specimens[0].(fhir.Object)
	}
	for _, ob := range o.Observations {
		if err := b.resultObservation(oc, ob.OBX, ob.NTE, g, parts); err != nil {
			return err
		}
	}
	for i, sp := range o.Specimens {
		gs := *g
		gs.specimen = spmRefs[i]
		for _, obx := range sp.OBX {
			if err := b.resultObservation(oc, obx, nil, &gs, parts); err != nil {
				return err
			}
		}
		g.seen = gs.seen
	}
	return b.diagnosticReport(oc, parts)
}

// resultObservation maps one OBX of a result into an Observation or a
// part of the report.
func (b *builder) resultObservation(oc *orderContext, obx hl7v2.Segment, nte []hl7v2.Segment, g *obsGroup, parts *reportParts) error {
	code := hl7v2.ParseCWE(obx.Field(3))
	vt := strings.ToUpper(strings.TrimSpace(obx.Field(2).String()))
	if vt == "ED" {
		a, err := attachment(obx)
		if err != nil {
			return err
		}
		if a != nil {
			parts.forms = append(parts.forms, a)
		}
		return nil
	}
	if oc.imaging {
		switch {
		case isStudyUIDObservation(code):
			if parts.study == nil {
				parts.study = b.imagingStudy(obx.Field(5).String(), oc, "available", true)
			}
			return nil
		case isDICOMReferenceObservation(code):
			return nil
		case vt == "ST" || vt == "TX" || vt == "FT" || vt == "":
			if t := strings.TrimSpace(obx.Field(5).Text()); t != "" {
				parts.text = append(parts.text, t)
				if isImpression(obx, code) {
					parts.conclusion = append(parts.conclusion, t)
				}
			}
			return nil
		}
	}
	ref, err := b.observation(obx, nte, g)
	if err != nil {
		return err
	}
	if ref != nil {
		parts.results = append(parts.results, ref)
	}
	return nil
}

// isImagingResult reports whether an order of an ORU is an imaging
// report: OBR-24 is an imaging section, or an OBX gives a Study Instance
// UID.
func isImagingResult(o *hl7v2.Order) bool {
	if radiologySections[strings.ToUpper(strings.TrimSpace(o.OBR().Field(24).String()))] || len(o.IPC) > 0 {
		return true
	}
	for _, ob := range o.Observations {
		if isStudyUIDObservation(hl7v2.ParseCWE(ob.OBX.Field(3))) {
			return true
		}
	}
	return false
}

// orderKey returns the key of an order for the identifiers derived from
// it (Observation, Specimen): the filler order number, else the placer's,
// else the accession number, else the patient, service and time.
func (b *builder) orderKey(oc *orderContext) string {
	for _, e := range []hl7v2.EI{oc.ids.filler, oc.ids.placer, oc.ids.accession} {
		if strings.TrimSpace(e.EntityID) != "" {
			return eiKey(e)
		}
	}
	when := b.tsOrZero(oc.obr.Field(7))
	return oc.patient.key + "|" + codeKey(hl7v2.ParseCWE(oc.obr.Field(4))) + "|" + dateTime(when)
}
