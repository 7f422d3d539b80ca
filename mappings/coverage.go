package mappings

import (
	"strconv"
	"strings"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/fhir"
)

// This file maps IN1 to Coverage and the insurer's Organization, following
// the v2-to-FHIR IG's segment map IN1[Coverage]: plan (IN1-2), payor
// (IN1-3/IN1-4), group (IN1-8/9), period (IN1-12/13), plan type (IN1-15),
// relationship (IN1-17), order (IN1-22), policy number (IN1-36) and
// insured's id (IN1-49). A Coverage is keyed by its policy number under
// the insurer, else the insured's id, else its patient, insurer and plan.

const coverageSystem = "urn:fhirhub:hl7v2:in1"

// coverage maps one IN1; an IN1 naming no insurer is skipped (payor is
// required).
func (b *builder) coverage(in1 hl7v2.Segment, p *patientRef) error {
	insurerID, err := b.identifierFromCX(hl7v2.ParseCX(in1.Field(3)), loc(in1, 3))
	if err != nil {
		return err
	}
	insurerName := parseXON(in1.Field(4)).Name
	var payor fhir.Object
	switch {
	case insurerID != nil:
		org := fhir.Object{
			"identifier": []any{insurerID},
			"active":     true,
			"type": []any{fhir.Object{"coding": []any{fhir.Object{
				"system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": "ins", "display": "Insurance Company",
			}}}},
		}
		if insurerName != "" {
			org["name"] = insurerName
		}
		payor = reference(b.ensure("Organization", criteria("identifier", tokenOf(insurerID)), org), insurerName)
	case insurerName != "":
		payor = fhir.Object{"display": insurerName}
	default:
		return nil
	}
	insurerKey := insurerName
	policyAuth := b.defaultAuthority()
	if insurerID != nil {
		insurerKey, _ = insurerID["value"].(string)
		policyAuth = hl7v2.HD{NamespaceID: insurerKey}
	}
	plan := hl7v2.ParseCWE(in1.Field(2))

	var ids []any
	if policy := strings.TrimSpace(in1.Field(36).String()); policy != "" {
		ids = append(ids, fhir.Object{"system": b.system(policyAuth), "value": policy})
	}
	insured, err := b.identifierFromCX(hl7v2.ParseCX(in1.Field(49)), loc(in1, 49))
	if err != nil {
		return err
	}
	if insured != nil {
		ids = append(ids, insured)
	}
	if len(ids) == 0 {
		ids = append(ids, fhir.Object{"system": coverageSystem, "value": p.key + "|" + insurerKey + "|" + codeKey(plan)})
	}
	c := fhir.Object{
		"identifier":  ids,
		"status":      "active",
		"beneficiary": p.reference(),
		"payor":       []any{payor},
	}
	if t := codeableConcept(hl7v2.ParseCWE(in1.Field(15)), v2Table("0086")); t != nil {
		c["type"] = t
	}
	switch {
	case insured != nil:
		c["subscriberId"] = insured["value"]
	case in1.Field(36).String() != "":
		c["subscriberId"] = strings.TrimSpace(in1.Field(36).String())
	}
	rel := strings.ToUpper(hl7v2.ParseCWE(in1.Field(17)).Identifier)
	if r, ok := subscriberRelationship[rel]; ok {
		c["relationship"] = fhir.Object{"coding": []any{fhir.Object{
			"system": "http://terminology.hl7.org/CodeSystem/subscriber-relationship", "code": r,
		}}}
		if r == "self" {
			c["subscriber"] = p.reference()
		}
	}
	start, err := b.ts(in1.Field(12), loc(in1, 12))
	if err != nil {
		return err
	}
	end, err := b.ts(in1.Field(13), loc(in1, 13))
	if err != nil {
		return err
	}
	if per := period(start, end); per != nil {
		c["period"] = per
	}
	var classes []any
	if code := codeKey(plan); code != "" {
		cl := fhir.Object{"type": coverageClass("plan", "Plan"), "value": code}
		if plan.Text != "" && plan.Identifier != "" {
			cl["name"] = plan.Text
		}
		classes = append(classes, cl)
	}
	if g := strings.TrimSpace(in1.Field(8).String()); g != "" {
		cl := fhir.Object{"type": coverageClass("group", "Group"), "value": g}
		if n := parseXON(in1.Field(9)).Name; n != "" {
			cl["name"] = n
		}
		classes = append(classes, cl)
	}
	if len(classes) > 0 {
		c["class"] = classes
	}
	if o := strings.TrimSpace(in1.Field(22).String()); allDigits(o) && len(o) < 6 && strings.TrimLeft(o, "0") != "" {
		n, _ := strconv.Atoi(o)
		c["order"] = jsonInt(strconv.Itoa(n))
	}
	b.put("Coverage", criteria("identifier", tokenOf(ids[0].(fhir.Object))), c)
	return nil
}

func coverageClass(code, display string) fhir.Object {
	return fhir.Object{"coding": []any{fhir.Object{
		"system": "http://terminology.hl7.org/CodeSystem/coverage-class", "code": code, "display": display,
	}}}
}
