package mappings

import (
	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/fhir"
)

// This file maps ADT^A40 (merge patient, patient identifier list; HL7
// v2.5.1 section 3.3.40; the v2-to-FHIR IG's ADT_A39 message map): each
// PID names a surviving patient and each MRG after it a patient merged
// into it (MRG-1, prior patient identifier list).
//
// The surviving Patient is created or merged from its PID like any ADT
// patient, and gets Patient.link type "replaces" to each merged one; each
// merged Patient (created from MRG when unknown) becomes active=false with
// a link "replaced-by" to the survivor (FHIR R4 patient.html#links).
//
// The links name the other Patient by identifier (a logical reference,
// Reference.identifier): a JSON Patch body cannot hold a reference to
// another entry that the transaction would resolve. What a pure mapping
// cannot do is left to the ingest pipeline, which has the store (see
// Merges): resolve the logical references to Patient/id, and re-point the
// merged Patient's Encounters, Observations, DiagnosticReports,
// ServiceRequests, Conditions, AllergyIntolerances and Coverages to the
// survivor, in the same transaction as this Bundle.

// Merge names the two patients of one merge of an A40 by the search
// criteria ("Patient?identifier=...") that select them.
type Merge struct {
	Survivor string
	Merged   string
}

// Merges returns the merges an ADT^A40 message asks for, for the ingest
// pipeline to re-point the merged patients' resources; nil for any other
// message. It costs a mapping of the message.
func Merges(m *hl7v2.Message, opt Options) ([]Merge, error) {
	if m == nil || m.Header().Type.Code != "ADT" {
		return nil, nil
	}
	b, trigger, err := mapADT(m, opt)
	if err != nil || trigger != "A40" {
		return nil, err
	}
	return b.merges, nil
}

func (b *builder) mapMerges(adt *hl7v2.ADT) error {
	for i := range adt.Patients {
		pg := &adt.Patients[i]
		if len(pg.Merges) == 0 {
			return fieldError("MRG", nil, "segment missing")
		}
		exclude := map[string]bool{}
		merged := make([][]any, len(pg.Merges))
		for j, mg := range pg.Merges {
			ids, err := b.identifiersFromCX(mg.MRG.Field(1), loc(mg.MRG, 1))
			if err != nil {
				return err
			}
			if len(ids) == 0 {
				return fieldError(loc(mg.MRG, 1), nil, "no prior patient identifier")
			}
			for _, id := range ids {
				t := tokenOf(id)
				exclude[t.system+"|"+t.value] = true
				merged[j] = append(merged[j], id)
			}
		}
		survivor, err := b.patient(pg.PID, pg.PD1, pg.NK1, patientMerge, exclude)
		if err != nil {
			return err
		}
		var replaces []any
		for j, mg := range pg.Merges {
			other, crit, err := b.mergedPatient(mg.MRG, merged[j], survivor)
			if err != nil {
				return err
			}
			replaces = append(replaces, fhir.Object{"other": other, "type": "replaces"})
			b.merges = append(b.merges, Merge{Survivor: "Patient?" + survivor.criteria, Merged: "Patient?" + crit})
		}
		if e, ok := b.byURL[survivor.ref]; ok {
			e.resource["link"] = replaces
		}
		b.patch(survivor.ref, []any{opAdd("/link", replaces)})
	}
	return nil
}

// mergedPatient ensures the merged patient of an MRG and patches it
// inactive with its replaced-by link; it returns a logical reference to it
// and its criteria.
func (b *builder) mergedPatient(mrg hl7v2.Segment, ids []any, survivor *patientRef) (fhir.Object, string, error) {
	var tokens []token
	for _, id := range ids {
		if !nonMatchingTypes[identifierTypeCode(id.(fhir.Object))] {
			tokens = append(tokens, tokenOf(id.(fhir.Object)))
		}
	}
	if len(tokens) == 0 {
		tokens = append(tokens, tokenOf(ids[0].(fhir.Object)))
	}
	crit := criteria("identifier", tokens...)
	names, err := b.humanNames(mrg.Field(7), loc(mrg, 7))
	if err != nil {
		return nil, "", err
	}
	link := []any{fhir.Object{"other": logicalPatient(survivor.tokens[0], survivor.display), "type": "replaced-by"}}
	res := fhir.Object{"identifier": ids, "active": false, "link": link}
	display := ""
	if len(names) > 0 {
		res["name"] = names
		display = nameText(names[0].(fhir.Object))
	}
	ref := b.ensure("Patient", crit, res)
	b.patch(ref, []any{opAdd("/active", false), opAdd("/link", link), opAdd("/meta/source", b.source)})
	return logicalPatient(tokens[0], display), crit, nil
}

// logicalPatient returns a logical reference to the Patient with
// identifier t (R4 references.html#logical).
func logicalPatient(t token, display string) fhir.Object {
	id := fhir.Object{"value": t.value}
	if t.system != "" {
		id["system"] = t.system
	}
	r := fhir.Object{"type": "Patient", "identifier": id}
	if display != "" {
		r["display"] = display
	}
	return r
}
