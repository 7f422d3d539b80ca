package mappings

import (
	"strings"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/fhir"
)

// This file maps AL1 to AllergyIntolerance, following the v2-to-FHIR IG's
// segment map AL1[AllergyIntolerance]: allergen (AL1-3), category and type
// (AL1-2), criticality and reaction severity (AL1-4), reactions (AL1-5)
// and onset (AL1-6). AL1 has no identifier of its own (AL1-1 is a
// position), so an allergy is keyed by its patient and allergen under
// allergySystem; the message's allergies are written in full (conditional
// update), and an allergy no longer listed is left as it is.

const allergySystem = "urn:fhirhub:hl7v2:al1"

// allergy maps one AL1; an AL1 naming no allergen is skipped.
func (b *builder) allergy(al1 hl7v2.Segment, p *patientRef) error {
	agent := hl7v2.ParseCWE(al1.Field(3))
	code := codeableConcept(agent, "")
	if code == nil {
		return nil
	}
	id := fhir.Object{"system": allergySystem, "value": p.key + "|" + codingSystemURI(agent.CodingSystem) + "|" + codeKey(agent)}
	a := fhir.Object{
		"identifier": []any{id},
		"clinicalStatus": fhir.Object{"coding": []any{fhir.Object{
			"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active", "display": "Active",
		}}},
		"code":    code,
		"patient": p.reference(),
	}
	if c, ok := allergyCategory[strings.ToUpper(hl7v2.ParseCWE(al1.Field(2)).Identifier)]; ok {
		if c[0] != "" {
			a["category"] = []any{c[0]}
		}
		a["type"] = c[1]
	}
	sev := allergySeverity[strings.ToUpper(hl7v2.ParseCWE(al1.Field(4)).Identifier)]
	if sev[0] != "" {
		a["criticality"] = sev[0]
	}
	var manifestations []any
	for r := range al1.Field(5).Reps() {
		if t := strings.TrimSpace(r.Text()); t != "" {
			manifestations = append(manifestations, fhir.Object{"text": t})
		}
	}
	if len(manifestations) > 0 {
		reaction := fhir.Object{"manifestation": manifestations}
		if sev[1] != "" {
			reaction["severity"] = sev[1]
		}
		a["reaction"] = []any{reaction}
	}
	onset, err := b.ts(al1.Field(6), loc(al1, 6))
	if err != nil {
		return err
	}
	if s := dateTime(onset); s != "" {
		a["onsetDateTime"] = s
	}
	b.put("AllergyIntolerance", criteria("identifier", tokenOf(id)), a)
	return nil
}
