package mappings

import (
	"strconv"
	"strings"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/fhir"
)

// This file maps OBX (with its NTE) to Observation, following the
// v2-to-FHIR IG's segment map OBX[Observation]: code (OBX-3), value
// (OBX-2/5, see observation_value.go), units (OBX-6), reference range
// (OBX-7), interpretation (OBX-8), status (OBX-11), effective time
// (OBX-14), performer (OBX-16, OBX-23), method (OBX-17) and notes (NTE).
//
// Each Observation is keyed by an identifier under ObservationSystem whose
// value is "<order>|<code>|<sub-id>": the filler order number of its OBR
// (or the visit, for an OBX of an ADT), OBX-3 and OBX-4. A corrected
// result (OBX-11 C) has the same key and so updates the same Observation.

// ObservationSystem is the Identifier.system of Observations made from OBX.
const ObservationSystem = "urn:fhirhub:hl7v2:obx"

// CriticalResultExtension is the URL of the extension (valueBoolean true)
// that marks an Observation whose interpretation (OBX-8) is critical: HH,
// LL or AA in HL7 table 0078. The alert pipeline looks for it.
const CriticalResultExtension = "http://fhirhub.dev/fhir/StructureDefinition/critical-result"

// CriticalResultTag is the meta.tag system (code "critical") carried with
// the extension, so that critical results can be searched with
// _tag=http://fhirhub.dev/fhir/CodeSystem/result-flag|critical.
const CriticalResultTag = "http://fhirhub.dev/fhir/CodeSystem/result-flag"

// obsGroup is what the OBX segments of one order (or visit) share.
type obsGroup struct {
	key       string // order key: "<filler>"; the first part of each Observation key
	subject   fhir.Object
	encounter fhir.Object
	basedOn   []any
	specimen  fhir.Object
	category  []any
	effective hl7v2.DTM // OBR-7, for an OBX without OBX-14
	issued    string    // OBR-22
	keyByTime bool      // add the effective time to the key (OBX of a patient without visit)
	seen      map[string]*obsSeen
}

type obsSeen struct {
	obs fhir.Object
	n   int
}

// observation maps one OBX with its notes and returns a Reference to the
// Observation, nil when the OBX continues the text of the previous one
// (same code and sub-id; its text is appended there) or carries no
// Observation value (ED, RP).
func (b *builder) observation(obx hl7v2.Segment, nte []hl7v2.Segment, g *obsGroup) (fhir.Object, error) {
	code := hl7v2.ParseCWE(obx.Field(3))
	cc := codeableConcept(code, "")
	if cc == nil {
		return nil, fieldError(loc(obx, 3), nil, "no observation identifier")
	}
	obs := fhir.Object{}
	b.observationValue(obx, obs)
	vt := strings.ToUpper(strings.TrimSpace(obx.Field(2).String()))
	if vt == "ED" || vt == "RP" {
		return nil, nil
	}
	eff, err := b.ts(obx.Field(14), loc(obx, 14))
	if err != nil {
		return nil, err
	}
	if eff.IsZero() {
		eff = g.effective
	}
	k := g.key + "|" + codeKey(code) + "|" + strings.TrimSpace(obx.Field(4).String())
	if g.keyByTime {
		k += "|" + dateTime(eff)
	}
	if g.seen == nil {
		g.seen = map[string]*obsSeen{}
	}
	if prev, ok := g.seen[k]; ok {
		prev.n++
		s1, ok1 := prev.obs["valueString"].(string)
		s2, ok2 := obs["valueString"].(string)
		if ok1 && ok2 && (vt == "TX" || vt == "FT" || vt == "ST" || vt == "") {
			prev.obs["valueString"] = s1 + "\n" + s2
			return nil, nil
		}
		k += "|" + strconv.Itoa(prev.n)
	} else {
		g.seen[k] = &obsSeen{obs: obs, n: 1}
	}

	status := observationStatus[strings.ToUpper(strings.TrimSpace(obx.Field(11).String()))]
	if status == "" {
		status = "unknown"
	}
	id := fhir.Object{"system": ObservationSystem, "value": k}
	obs["identifier"] = []any{id}
	obs["status"] = status
	obs["code"] = cc
	if len(g.category) > 0 {
		obs["category"] = g.category
	}
	obs["subject"] = g.subject
	if g.encounter != nil {
		obs["encounter"] = g.encounter
	}
	if len(g.basedOn) > 0 {
		obs["basedOn"] = g.basedOn
	}
	if g.specimen != nil {
		obs["specimen"] = g.specimen
	}
	if s := dateTime(eff); s != "" {
		obs["effectiveDateTime"] = s
	}
	if g.issued != "" {
		obs["issued"] = g.issued
	}
	var perf []any
	for _, r := range b.practitioners(obx.Field(16)) {
		perf = append(perf, r)
	}
	if r := b.organizationXON(obx.Field(23)); r != nil {
		perf = append(perf, r)
	}
	if len(perf) > 0 {
		obs["performer"] = perf
	}
	units := hl7v2.ParseCWE(obx.Field(6))
	if rr := referenceRange(obx.Field(7).Text(), units); rr != nil {
		obs["referenceRange"] = []any{rr}
	}
	if interp, critical := interpretations(obx.Field(8)); len(interp) > 0 {
		obs["interpretation"] = interp
		if critical {
			markCritical(obs)
		}
	}
	if m := codeableConcept(hl7v2.ParseCWE(obx.Field(17)), ""); m != nil {
		obs["method"] = m
	}
	if notes := notes(nte); len(notes) > 0 {
		obs["note"] = notes
	}
	ref := b.put("Observation", criteria("identifier", tokenOf(id)), obs)
	return fhir.Object{"reference": ref}, nil
}

// interpretations maps OBX-8 (table 0078, repeating from v2.5) and
// reports whether one of them is critical.
func interpretations(f hl7v2.Value) ([]any, bool) {
	var out []any
	critical := false
	for r := range f.Reps() {
		c := hl7v2.ParseCWE(r)
		code := strings.ToUpper(strings.TrimSpace(c.Identifier))
		if code == "" {
			continue
		}
		if criticalInterpretation[code] {
			critical = true
		}
		sys := codingSystemURI(c.CodingSystem)
		if d, ok := interpretationV3[code]; ok && (sys == "" || sys == v2Table("0078")) {
			out = append(out, fhir.Object{"coding": []any{fhir.Object{
				"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": code, "display": d,
			}}})
			continue
		}
		if cc := codeableConcept(c, v2Table("0078")); cc != nil {
			out = append(out, cc)
		}
	}
	return out, critical
}

// markCritical marks obs as a critical result (CriticalResultExtension and
// CriticalResultTag).
func markCritical(obs fhir.Object) {
	obs["extension"] = []any{fhir.Object{"url": CriticalResultExtension, "valueBoolean": true}}
	obs["meta"] = fhir.Object{"tag": []any{fhir.Object{"system": CriticalResultTag, "code": "critical", "display": "Critical result"}}}
}

// notes maps NTE segments to Annotations (NTE-3, formatted text).
func notes(nte []hl7v2.Segment) []any {
	var out []any
	for _, n := range nte {
		if t := strings.TrimSpace(n.Field(3).Text()); t != "" {
			out = append(out, fhir.Object{"text": t})
		}
	}
	return out
}
