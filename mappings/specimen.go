package mappings

import (
	"strings"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/fhir"
)

// This file maps SPM (v2.5 and later), else OBR-15 (specimen source, up to
// v2.6), to Specimen, following the v2-to-FHIR IG's segment map
// SPM[Specimen] and OBR[Specimen]: identifiers (SPM-2), type (SPM-4,
// OBR-15.1), body site (SPM-8, OBR-15.4), collection method (SPM-7),
// collection time (SPM-17, OBR-7) and received time (SPM-18, OBR-14). A
// specimen is keyed by its filler or placer id, else by its order and
// position.

const specimenSystem = "urn:fhirhub:hl7v2:specimen"

// specimenFromSPM maps one SPM and returns a Reference to the Specimen.
func (b *builder) specimenFromSPM(spm hl7v2.Segment, oc *orderContext) (fhir.Object, error) {
	placer, filler := parseEIP(spm.Field(2))
	var ids []any
	if id := b.identifierFromEI(placer, "PLAC", placerSystem); id != nil {
		ids = append(ids, id)
	}
	if id := b.identifierFromEI(filler, "FILL", fillerSystem); id != nil {
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		ids = append(ids, fhir.Object{"system": specimenSystem, "value": oc.key + "|SPM|" + strings.TrimSpace(spm.Field(1).String())})
	}
	s := fhir.Object{"identifier": ids, "subject": oc.patient.reference()}
	if len(ids) > 1 {
		// The filler's id is the one the laboratory files the specimen by.
		s["accessionIdentifier"] = ids[1]
	}
	if t := codeableConcept(hl7v2.ParseCWE(spm.Field(4)), v2Table("0487")); t != nil {
		s["type"] = t
	}
	if oc.sr != nil {
		s["request"] = []any{oc.sr}
	}
	coll := fhir.Object{}
	if m := codeableConcept(hl7v2.ParseCWE(spm.Field(7)), v2Table("0488")); m != nil {
		coll["method"] = m
	}
	if site := codeableConcept(hl7v2.ParseCWE(spm.Field(8)), ""); site != nil {
		coll["bodySite"] = site
	}
	f17 := spm.Field(17)
	start, err := b.ts(f17.Comp(1), loc(spm, 17))
	if err != nil {
		return nil, err
	}
	end, err := b.ts(f17.Comp(2), loc(spm, 17))
	if err != nil {
		return nil, err
	}
	switch {
	case !start.IsZero() && !end.IsZero():
		coll["collectedPeriod"] = period(start, end)
	case !start.IsZero():
		coll["collectedDateTime"] = dateTime(start)
	}
	if len(coll) > 0 {
		s["collection"] = coll
	}
	recv, err := b.ts(spm.Field(18), loc(spm, 18))
	if err != nil {
		return nil, err
	}
	if r := instant(recv); r != "" {
		s["receivedTime"] = r
	}
	if d := strings.TrimSpace(spm.Field(14).Text()); d != "" {
		s["note"] = []any{fhir.Object{"text": d}}
	}
	var toks []token
	for _, id := range ids {
		toks = append(toks, tokenOf(id.(fhir.Object)))
	}
	ref := b.put("Specimen", criteria("identifier", toks...), s)
	return fhir.Object{"reference": ref}, nil
}

// specimenFromOBR maps OBR-15 (with OBR-7 and OBR-14) and returns a
// Reference to the Specimen; nil when OBR-15 names no specimen type or
// body site.
func (b *builder) specimenFromOBR(oc *orderContext) (fhir.Object, error) {
	f := oc.obr.Field(15)
	typ := codeableConcept(hl7v2.ParseCWE(f.Comp(1)), v2Table("0070"))
	site := codeableConcept(hl7v2.ParseCWE(f.Comp(4)), v2Table("0163"))
	if typ == nil && site == nil {
		return nil, nil
	}
	id := fhir.Object{"system": specimenSystem, "value": oc.key + "|OBR-15"}
	s := fhir.Object{"identifier": []any{id}, "subject": oc.patient.reference()}
	if typ != nil {
		s["type"] = typ
	}
	if oc.sr != nil {
		s["request"] = []any{oc.sr}
	}
	coll := fhir.Object{}
	if site != nil {
		coll["bodySite"] = site
	}
	when, err := b.ts(oc.obr.Field(7), loc(oc.obr, 7))
	if err != nil {
		return nil, err
	}
	if s := dateTime(when); s != "" {
		coll["collectedDateTime"] = s
	}
	if len(coll) > 0 {
		s["collection"] = coll
	}
	recv, err := b.ts(oc.obr.Field(14), loc(oc.obr, 14))
	if err != nil {
		return nil, err
	}
	if r := instant(recv); r != "" {
		s["receivedTime"] = r
	}
	ref := b.put("Specimen", criteria("identifier", tokenOf(id)), s)
	return fhir.Object{"reference": ref}, nil
}
