package mappings

import (
	"strings"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/fhir"
)

// This file maps ADT messages (HL7 v2.5.1 chapter 3), following the
// v2-to-FHIR IG's message maps ADT_A01, ADT_A02, ADT_A03, ADT_A05 (A05,
// A08, A28, A31), ADT_A06 (A06, A07), ADT_A09 (A11, A12, A13) and ADT_A39
// (A40, see adt_merge.go).

// adtKind says what an ADT trigger is about.
type adtKind uint8

const (
	adtVisit  adtKind = iota // a visit event: the visit must be identified
	adtUpdate                // A08: patient and, when sent, visit information
	adtPerson                // A28, A31: person information, no visit
	adtMerge                 // A40: patient merge
)

type adtEvent struct {
	kind  adtKind
	mode  visitMode
	visit visitEvent
}

// adtTriggers are the ADT trigger events Map supports, with what each says
// about the visit: Encounter.status, the status of the assigned location
// and the bed status (table 0116) of the assigned and prior beds.
var adtTriggers = map[string]adtEvent{
	"A01": {adtVisit, visitSnapshot, visitEvent{status: "in-progress", bedStatus: bedOccupied}},
	"A02": {adtVisit, visitSnapshot, visitEvent{status: "in-progress", bedStatus: bedOccupied, priorBed: bedUnoccupied, transfer: true}},
	"A03": {adtVisit, visitSnapshot, visitEvent{status: "finished", locationStatus: "completed", bedStatus: bedUnoccupied}},
	"A04": {adtVisit, visitSnapshot, visitEvent{status: "in-progress"}},
	"A05": {adtVisit, visitSnapshot, visitEvent{status: "planned", locationStatus: "planned"}},
	"A06": {adtVisit, visitSnapshot, visitEvent{status: "in-progress", bedStatus: bedOccupied, priorBed: bedUnoccupied, transfer: true}},
	"A07": {adtVisit, visitSnapshot, visitEvent{status: "in-progress", priorBed: bedUnoccupied, transfer: true}},
	"A08": {adtUpdate, visitMerge, visitEvent{}},
	"A11": {adtVisit, visitSnapshot, visitEvent{status: "cancelled", locationStatus: "completed", bedStatus: bedUnoccupied}},
	"A12": {adtVisit, visitSnapshot, visitEvent{status: "in-progress", bedStatus: bedOccupied, priorBed: bedUnoccupied, transfer: true}},
	"A13": {adtVisit, visitSnapshot, visitEvent{status: "in-progress", bedStatus: bedOccupied}},
	"A28": {kind: adtPerson},
	"A31": {kind: adtPerson},
	"A40": {kind: adtMerge},
}

// MapADT maps an ADT message: A01 (admit), A02 (transfer), A03
// (discharge), A04 (register), A05 (pre-admit), A06/A07 (change of patient
// class), A08 (update), A11/A12/A13 (cancel admit, transfer, discharge),
// A28/A31 (add/update person) and A40 (merge).
//
// The Bundle holds: the Patient (created from PID when no Patient has one
// of its identifiers, then PID, PD1 and NK1 merged into it: see the package
// comment); for visit events and A08, the Encounter keyed by the visit
// number with its Locations (ward, room, bed with its status),
// Practitioners and Organizations; a Condition per DG1, an
// AllergyIntolerance per AL1, a Coverage per IN1 and an Observation per
// OBX; and the Provenance. A visit event without an identifiable visit is
// an error.
func MapADT(m *hl7v2.Message, opt Options) (fhir.Object, error) {
	b, trigger, err := mapADT(m, opt)
	if err != nil {
		return nil, err
	}
	return b.bundle(trigger), nil
}

func mapADT(m *hl7v2.Message, opt Options) (*builder, string, error) {
	if m == nil {
		return nil, "", fieldError("MSH", nil, "no message")
	}
	t := m.Header().Type
	trigger := strings.ToUpper(strings.TrimSpace(t.Trigger))
	if trigger == "" {
		trigger = strings.ToUpper(strings.TrimSpace(m.Segment("EVN", 1).Field(1).String()))
	}
	ev, ok := adtTriggers[trigger]
	if t.Code != "ADT" || !ok {
		return nil, "", unsupported(safeType(hl7v2.MSG{Code: t.Code, Trigger: trigger}))
	}
	b, err := newBuilder(m, opt)
	if err != nil {
		return nil, "", err
	}
	adt, _ := hl7v2.ParseADT(m) // sequence problems are warnings; what is missing is checked below
	if len(adt.Patients) == 0 {
		return nil, "", fieldError("PID", nil, "segment missing")
	}
	if ev.kind == adtMerge {
		err = b.mapMerges(adt)
	} else {
		err = b.mapADTPatient(adt.Patient(), ev)
	}
	if err != nil {
		return nil, "", err
	}
	return b, trigger, nil
}

// visitRef is the Encounter of a message as other resources see it.
type visitRef struct {
	ref fhir.Object // Reference
	key string      // "system|value" of the visit identifier, for derived keys
}

func (b *builder) mapADTPatient(pg *hl7v2.ADTPatient, ev adtEvent) error {
	p, err := b.patient(pg.PID, pg.PD1, pg.NK1, patientMerge, nil)
	if err != nil {
		return err
	}
	var visit *visitRef
	if ev.kind == adtVisit || ev.kind == adtUpdate {
		v := pg.Visit
		if !v.PV1.Exists() && len(pg.Merges) > 0 {
			// A06/A07 (ADT_A06) put an MRG before the PV1.
			v.PV1 = pg.Merges[0].PV1
		}
		visit, err = b.encounter(v, p, ev.visit, ev.mode)
		if err != nil {
			return err
		}
		if visit == nil && ev.kind == adtVisit {
			if !v.PV1.Exists() {
				return fieldError("PV1", nil, "segment missing")
			}
			return fieldError(loc(v.PV1, 19), nil, "no visit number, alternate visit id (PV1-50) or admit time (PV1-44)")
		}
	}
	scope := p.key
	var enc fhir.Object
	if visit != nil {
		scope, enc = visit.key, visit.ref
	}
	var dx []any
	for _, s := range pg.DG1 {
		d, err := b.diagnosis(s, p, enc, scope)
		if err != nil {
			return err
		}
		if d != nil {
			dx = append(dx, d)
		}
	}
	if len(dx) > 0 && visit != nil {
		if e, ok := b.byURL[visit.ref["reference"].(string)]; ok {
			e.resource["diagnosis"] = dx
		}
	}
	g := &obsGroup{key: scope, subject: p.reference(), encounter: enc, keyByTime: visit == nil}
	for _, o := range pg.Observations {
		if _, err := b.observation(o.OBX, o.NTE, g); err != nil {
			return err
		}
	}
	for _, s := range pg.AL1 {
		if err := b.allergy(s, p); err != nil {
			return err
		}
	}
	for _, ins := range pg.Insurance {
		if err := b.coverage(ins.IN1, p); err != nil {
			return err
		}
	}
	return nil
}
