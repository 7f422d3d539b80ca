package mappings

import (
	"strings"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/fhir"
)

// This file maps PV1 and PV2 to Encounter, following the v2-to-FHIR IG's
// segment maps PV1[Encounter] and PV2[Encounter]. The Encounter is keyed
// by the visit number (PV1-19), else the alternate visit id (PV1-50),
// else the patient and the admit time (PV1-44); a visit with none of them
// is not mapped, as it could not be found again.

// visitMode says how a message's PV1 changes the Encounter.
type visitMode uint8

const (
	// visitEnsure creates the Encounter when none matches, and leaves an
	// existing one alone (results and orders).
	visitEnsure visitMode = iota
	// visitMerge also merges the visit's own elements (class, type,
	// service type, period, reason, hospitalization) into the Encounter
	// (A08). References (location, participants) and status are set only
	// when it is created.
	visitMerge
	// visitSnapshot writes the whole Encounter from the message with a
	// conditional update (visit events: A01-A07, A11-A13).
	visitSnapshot
)

// visitEvent is what a trigger event says about the visit.
type visitEvent struct {
	status         string // Encounter.status; "" infers it from PV1
	locationStatus string // status of PV1-3 in Encounter.location
	bedStatus      string // table 0116 for the bed of PV1-3, "" to leave it
	priorBed       string // table 0116 for the bed of PV1-6, "" to leave it
	transfer       bool   // PV1-6 is where the patient was moved from now
}

// visitSystem is the Identifier.system of visits keyed by patient and
// admit time, for visits without a number.
const visitSystem = "urn:fhirhub:hl7v2:visit"

// encounter maps a visit and returns its Encounter, nil when the message
// has no usable visit.
func (b *builder) encounter(v hl7v2.Visit, p *patientRef, ev visitEvent, mode visitMode) (*visitRef, error) {
	pv1 := v.PV1
	if !pv1.Exists() {
		return nil, nil
	}
	ids, key, err := b.visitIdentifiers(pv1, p)
	if err != nil || key.value == "" {
		return nil, err
	}
	admit, err := b.ts(pv1.Field(44), loc(pv1, 44))
	if err != nil {
		return nil, err
	}
	discharge, err := b.ts(pv1.Field(45), loc(pv1, 45))
	if err != nil {
		return nil, err
	}
	class := encounterClassCoding(hl7v2.ParseCWE(pv1.Field(2)).Identifier)

	var ch changes
	ch.set("/class", class)
	if t := codeableConcept(hl7v2.ParseCWE(pv1.Field(4)), v2Table("0007")); t != nil {
		ch.set("/type", []any{t})
	} else if pv1.Field(4).IsNull() {
		ch.setOrClear("/type", nil, true)
	}
	ch.setOrClear("/serviceType", codeableConcept(hl7v2.ParseCWE(pv1.Field(10)), v2Table("0069")), pv1.Field(10).IsNull())
	if per := period(admit, discharge); per != nil {
		ch.set("/period", per)
	} else if pv1.Field(44).IsNull() || pv1.Field(45).IsNull() {
		ch.setOrClear("/period", nil, true)
	}
	if v.PV2.Exists() {
		if r := codeableConcept(hl7v2.ParseCWE(v.PV2.Field(3)), ""); r != nil {
			ch.set("/reasonCode", []any{r})
		} else if v.PV2.Field(3).IsNull() {
			ch.setOrClear("/reasonCode", nil, true)
		}
	}
	hosp, err := b.hospitalization(pv1)
	if err != nil {
		return nil, err
	}
	ch.set("/hospitalization", hosp)

	status := ev.status
	if status == "" {
		status = inferEncounterStatus(pv1, admit, discharge)
	}
	enc := fhir.Object{"identifier": ids, "status": status, "subject": p.reference()}
	ch.apply(enc)
	if locs := b.encounterLocations(pv1, ev, admit, discharge); len(locs) > 0 {
		enc["location"] = locs
	}
	var parts []any
	for _, f := range []int{7, 8, 9, 17} {
		pt := participationType[f]
		for _, r := range b.practitioners(pv1.Field(f)) {
			parts = append(parts, fhir.Object{
				"type": []any{fhir.Object{"coding": []any{fhir.Object{
					"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": pt[0], "display": pt[1],
				}}}},
				"individual": r,
			})
		}
	}
	if len(parts) > 0 {
		enc["participant"] = parts
	}
	if sp := b.serviceProvider(pv1); sp != nil {
		enc["serviceProvider"] = sp
	}

	crit := criteria("identifier", key)
	var ref string
	switch mode {
	case visitSnapshot:
		ref = b.put("Encounter", crit, enc)
	case visitMerge:
		ref = b.ensure("Encounter", crit, enc)
		b.patch(ref, append(ch.ops(), opAdd("/meta/source", b.source)))
	default:
		ref = b.ensure("Encounter", crit, enc)
	}
	return &visitRef{ref: fhir.Object{"reference": ref}, key: key.system + "|" + key.value}, nil
}

// visitIdentifiers returns the Encounter's identifiers and the one that
// keys it (zero when there is none).
func (b *builder) visitIdentifiers(pv1 hl7v2.Segment, p *patientRef) ([]any, token, error) {
	var ids []any
	for _, f := range []int{19, 50} {
		list, err := b.identifiersFromCX(pv1.Field(f), loc(pv1, f))
		if err != nil {
			return nil, token{}, err
		}
		for _, id := range list {
			if id["type"] == nil {
				id["type"] = identifierType("VN")
			}
			ids = append(ids, id)
		}
	}
	if len(ids) > 0 {
		return ids, tokenOf(ids[0].(fhir.Object)), nil
	}
	admit, err := b.ts(pv1.Field(44), loc(pv1, 44))
	if err != nil || admit.IsZero() {
		return nil, token{}, err
	}
	id := fhir.Object{"system": visitSystem, "value": p.key + "|" + dateTime(admit)}
	return []any{id}, tokenOf(id), nil
}

// encounterClassCoding maps PV1-2 (table 0004) to Encounter.class.
func encounterClassCoding(code string) fhir.Object {
	code = strings.ToUpper(codeText(code))
	if c, ok := encounterClass[code]; ok {
		return fhir.Object{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": c[0], "display": c[1]}
	}
	if code != "" {
		return fhir.Object{"system": v2Table("0004"), "code": code}
	}
	return fhir.Object{"system": "http://terminology.hl7.org/CodeSystem/v3-NullFlavor", "code": "UNK", "display": "unknown"}
}

// inferEncounterStatus decides the status of a visit from PV1 alone, for
// messages whose trigger does not say it: discharged, pre-admitted,
// admitted, or unknown.
func inferEncounterStatus(pv1 hl7v2.Segment, admit, discharge hl7v2.DTM) string {
	switch {
	case !discharge.IsZero():
		return "finished"
	case strings.EqualFold(hl7v2.ParseCWE(pv1.Field(2)).Identifier, "P"):
		return "planned"
	case !admit.IsZero():
		return "in-progress"
	}
	return "unknown"
}

// encounterLocations maps PV1-3 (assigned location) and PV1-6 (prior
// location) to Encounter.location, setting the beds' status as the event
// says.
func (b *builder) encounterLocations(pv1 hl7v2.Segment, ev visitEvent, admit, discharge hl7v2.DTM) []any {
	var out []any
	evTime := b.eventTime()
	if prior := b.location(hl7v2.ParsePL(pv1.Field(6)), ev.priorBed); prior != nil {
		l := fhir.Object{"location": prior, "status": "completed"}
		if ev.transfer && !evTime.IsZero() {
			l["period"] = fhir.Object{"end": dateTime(evTime)}
		}
		out = append(out, l)
	}
	if cur := b.location(hl7v2.ParsePL(pv1.Field(3)), ev.bedStatus); cur != nil {
		status := ev.locationStatus
		if status == "" {
			status = "active"
			if strings.EqualFold(hl7v2.ParseCWE(pv1.Field(2)).Identifier, "P") {
				status = "planned"
			}
		}
		l := fhir.Object{"location": cur, "status": status}
		start := admit
		if ev.transfer {
			start = evTime
		}
		end := hl7v2.DTM{}
		if status == "completed" {
			end = discharge
		}
		if per := period(start, end); per != nil {
			l["period"] = per
		}
		out = append(out, l)
	}
	return out
}

// eventTime returns when the event occurred: EVN-6, else EVN-2; the zero
// DTM when the message says neither (or says it badly: it only dates a
// location change).
func (b *builder) eventTime() hl7v2.DTM {
	evn := b.msg.Segment("EVN", 1)
	for _, f := range []int{6, 2} {
		if d := b.tsOrZero(evn.Field(f)); !d.IsZero() {
			return d
		}
	}
	return hl7v2.DTM{}
}

// serviceProvider maps PV1-39 (servicing facility), else the facility of
// PV1-3, to the Organization providing the visit.
func (b *builder) serviceProvider(pv1 hl7v2.Segment) fhir.Object {
	if f := strings.TrimSpace(pv1.Field(39).String()); f != "" {
		return b.organization(hl7v2.HD{NamespaceID: f}, "")
	}
	return b.organization(hl7v2.ParsePL(pv1.Field(3)).Facility, "")
}

// hospitalization maps the admission details of PV1.
func (b *builder) hospitalization(pv1 hl7v2.Segment) (fhir.Object, error) {
	h := fhir.Object{}
	pre, err := b.identifierFromCX(hl7v2.ParseCX(pv1.Field(5)), loc(pv1, 5))
	if err != nil {
		return nil, err
	}
	if pre != nil {
		h["preAdmissionIdentifier"] = pre
	}
	if c := codeableConcept(hl7v2.ParseCWE(pv1.Field(14)), v2Table("0023")); c != nil {
		h["admitSource"] = c
	}
	if c := codeableConcept(hl7v2.ParseCWE(pv1.Field(13)), v2Table("0092")); c != nil {
		h["reAdmission"] = c
	}
	var courtesy []any
	for r := range pv1.Field(16).Reps() {
		if c := codeableConcept(hl7v2.ParseCWE(r), v2Table("0099")); c != nil {
			courtesy = append(courtesy, c)
		}
	}
	if len(courtesy) > 0 {
		h["specialCourtesy"] = courtesy
	}
	var diet []any
	for r := range pv1.Field(38).Reps() {
		if c := codeableConcept(hl7v2.ParseCWE(r), v2Table("0114")); c != nil {
			diet = append(diet, c)
		}
	}
	if len(diet) > 0 {
		h["dietPreference"] = diet
	}
	if c := codeableConcept(hl7v2.ParseCWE(pv1.Field(36)), v2Table("0112")); c != nil {
		h["dischargeDisposition"] = c
	}
	if len(h) == 0 {
		return nil, nil
	}
	return h, nil
}
