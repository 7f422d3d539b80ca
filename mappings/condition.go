package mappings

import (
	"strconv"
	"strings"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/fhir"
)

// This file maps DG1 to Condition and Encounter.diagnosis, following the
// v2-to-FHIR IG's segment map DG1[Condition]: code (DG1-3), onset (DG1-5),
// diagnosis type (DG1-6) as verification status and diagnosis role,
// priority (DG1-15), clinician (DG1-16). A diagnosis is keyed by its
// identifier (DG1-20) when sent, else by its visit (or patient) and code.

const diagnosisSystem = "urn:fhirhub:hl7v2:dg1"

// diagnosis maps one DG1 and returns the Encounter.diagnosis entry that
// points at the Condition; nil when it names no diagnosis. scope is the
// visit key ("system|value") or the patient's.
func (b *builder) diagnosis(dg1 hl7v2.Segment, p *patientRef, enc fhir.Object, scope string) (fhir.Object, error) {
	dx := hl7v2.ParseCWE(dg1.Field(3))
	code := codeableConcept(dx, "")
	if code == nil {
		if t := strings.TrimSpace(dg1.Field(4).Text()); t != "" { // DG1-4, description (deprecated)
			code = fhir.Object{"text": t}
			dx.Text = t
		} else {
			return nil, nil
		}
	}
	id := b.identifierFromEI(hl7v2.ParseEI(dg1.Field(20)), "", "")
	if id == nil {
		id = fhir.Object{"system": diagnosisSystem, "value": scope + "|" + codingSystemURI(dx.CodingSystem) + "|" + codeKey(dx)}
	}
	c := fhir.Object{
		"identifier": []any{id},
		"clinicalStatus": fhir.Object{"coding": []any{fhir.Object{
			"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active", "display": "Active",
		}}},
		"category": []any{fhir.Object{"coding": []any{fhir.Object{
			"system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": "encounter-diagnosis", "display": "Encounter Diagnosis",
		}}}},
		"code":    code,
		"subject": p.reference(),
	}
	if enc != nil {
		c["encounter"] = enc
	}
	dtype := strings.ToUpper(hl7v2.ParseCWE(dg1.Field(6)).Identifier)
	if v, ok := diagnosisVerification[dtype]; ok {
		c["verificationStatus"] = fhir.Object{"coding": []any{fhir.Object{
			"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": v,
		}}}
	}
	onset, err := b.ts(dg1.Field(5), loc(dg1, 5))
	if err != nil {
		return nil, err
	}
	if s := dateTime(onset); s != "" {
		c["onsetDateTime"] = s
	}
	if xs := b.practitioners(dg1.Field(16)); len(xs) > 0 {
		c["asserter"] = xs[0]
	}
	ref := b.put("Condition", criteria("identifier", tokenOf(id)), c)
	d := fhir.Object{"condition": fhir.Object{"reference": ref}}
	if r, ok := diagnosisRole[dtype]; ok {
		d["use"] = fhir.Object{"coding": []any{fhir.Object{
			"system": "http://terminology.hl7.org/CodeSystem/diagnosis-role", "code": r[0], "display": r[1],
		}}}
	} else if dtype != "" {
		d["use"] = tableConcept(dtype, "0052")
	}
	if rank := strings.TrimSpace(dg1.Field(15).String()); allDigits(rank) && len(rank) < 6 && strings.TrimLeft(rank, "0") != "" {
		n, _ := strconv.Atoi(rank)
		d["rank"] = jsonInt(strconv.Itoa(n))
	}
	return d, nil
}
