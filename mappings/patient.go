package mappings

import (
	"regexp"
	"strings"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/fhir"
)

// This file maps PID (with PD1 and NK1) to Patient, following the
// v2-to-FHIR IG's segment maps PID[Patient], PD1[Patient] and
// NK1[Patient] (next of kin as Patient.contact).

// patientMode says how a message's PID changes the Patient.
type patientMode uint8

const (
	// patientEnsure creates the Patient from the PID when none matches
	// and leaves an existing one alone: order and result messages, whose
	// senders do not master demographics.
	patientEnsure patientMode = iota
	// patientMerge also merges the PID into the Patient (ADT): fields sent
	// replace the stored elements, fields sent as "" clear them, fields not
	// sent leave them.
	patientMerge
)

// patientRef is the Patient of a message as other resources see it.
type patientRef struct {
	ref      string      // fullUrl of the ensure entry
	criteria string      // identifier=... (OR of the matching identifiers)
	key      string      // "system|value" of the first matching identifier, for derived keys
	tokens   []token     // the matching identifiers
	display  string      // the first name, for Reference.display
	refObj   fhir.Object // Reference to the Patient
}

// reference returns a new Reference to the Patient.
func (p *patientRef) reference() fhir.Object { return fhir.Clone(p.refObj).(fhir.Object) }

// nonMatchingTypes holds the identifier types (table 0203) that do not
// identify one person and so never select the Patient: account, visit,
// member, subscriber, employer and guarantor numbers (a medical-aid member
// number is shared by a family).
var nonMatchingTypes = map[string]bool{
	"AN": true, "AND": true, "VN": true, "MB": true, "SN": true, "EN": true,
	"BA": true, "BC": true, "GI": true, "GN": true, "PRN": true, "RRI": true,
}

// patient maps the PID (and PD1, NK1) of a message. exclude holds
// identifiers ("system|value") that must not select the Patient (the
// merged patient's, in A40).
func (b *builder) patient(pid, pd1 hl7v2.Segment, nk1 []hl7v2.Segment, mode patientMode, exclude map[string]bool) (*patientRef, error) {
	if !pid.Exists() {
		return nil, fieldError("PID", nil, "segment missing")
	}
	ids, tokens, err := b.patientIdentifiers(pid, exclude)
	if err != nil {
		return nil, err
	}
	var ch changes
	ch.set("/identifier", ids)
	if err := b.patientDemographics(pid, &ch); err != nil {
		return nil, err
	}
	if len(nk1) > 0 {
		contacts, err := b.contacts(nk1)
		if err != nil {
			return nil, err
		}
		ch.set("/contact", contacts)
	}
	res := fhir.Object{}
	ch.apply(res)
	if ext := b.patientExtensions(pid); len(ext) > 0 {
		res["extension"] = ext
	}
	if gp := b.generalPractitioners(pd1); len(gp) > 0 {
		res["generalPractitioner"] = gp
	}
	p := &patientRef{criteria: criteria("identifier", tokens...), tokens: tokens}
	p.key = tokens[0].system + "|" + tokens[0].value
	if names, ok := res["name"].([]any); ok && len(names) > 0 {
		p.display = nameText(names[0].(fhir.Object))
	}
	p.ref = b.ensure("Patient", p.criteria, res)
	p.refObj = reference(p.ref, p.display)
	if mode == patientMerge {
		b.patch(p.ref, append(ch.ops(), opAdd("/meta/source", b.source)))
	}
	return p, nil
}

// patientIdentifiers returns the Patient's identifiers (PID-3, PID-2,
// PID-4) and the tokens that select it: the PID-3 identifiers of a type
// that identifies one person (all of PID-3 when none does), else PID-2.
func (b *builder) patientIdentifiers(pid hl7v2.Segment, exclude map[string]bool) ([]any, []token, error) {
	var ids []any
	var tokens, fallback []token
	for _, f := range []int{3, 2, 4} {
		list, err := b.identifiersFromCX(pid.Field(f), loc(pid, f))
		if err != nil {
			return nil, nil, err
		}
		for _, id := range list {
			ids = append(ids, id)
			t := tokenOf(id)
			if exclude[t.system+"|"+t.value] || (f != 3 && len(tokens)+len(fallback) > 0) {
				continue
			}
			fallback = append(fallback, t)
			if !nonMatchingTypes[identifierTypeCode(id)] {
				tokens = append(tokens, t)
			}
		}
	}
	if len(tokens) == 0 {
		tokens = fallback
	}
	if len(tokens) == 0 {
		return nil, nil, fieldError(loc(pid, 3), nil, "no patient identifier")
	}
	return ids, tokens, nil
}

func identifierTypeCode(id fhir.Object) string {
	t, _ := id["type"].(fhir.Object)
	cs, _ := t["coding"].([]any)
	if len(cs) == 0 {
		return ""
	}
	c, _ := cs[0].(fhir.Object)["code"].(string)
	return strings.ToUpper(c)
}

// patientDemographics records the PID fields that map to top-level
// Patient elements.
func (b *builder) patientDemographics(pid hl7v2.Segment, ch *changes) error {
	names, err := b.humanNames(pid.Field(5), loc(pid, 5))
	if err != nil {
		return err
	}
	ch.setOrClear("/name", names, pid.Field(5).IsNull())

	if f := pid.Field(7); f.IsNull() {
		ch.setOrClear("/birthDate", nil, true)
		ch.setOrClear("/_birthDate", nil, true)
	} else if d, err := b.ts(f, loc(pid, 7)); err != nil {
		return err
	} else if !d.IsZero() {
		ch.set("/birthDate", date(d))
		if d.Precision > hl7v2.PrecisionDay {
			ch.set("/_birthDate", fhir.Object{"extension": []any{fhir.Object{
				"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime", "valueDateTime": dateTime(d),
			}}})
		} else {
			ch.setOrClear("/_birthDate", nil, true)
		}
	}

	g := strings.ToUpper(strings.TrimSpace(pid.Field(8).String()))
	ch.setOrClear("/gender", gender[g], pid.Field(8).IsNull())

	addrs, err := b.addresses(pid.Field(11), loc(pid, 11))
	if err != nil {
		return err
	}
	ch.setOrClear("/address", addrs, pid.Field(11).IsNull())

	home, work := pid.Field(13), pid.Field(14)
	telecom := append(contactPoints(home, "home"), contactPoints(work, "work")...)
	if len(telecom) > 0 {
		ch.set("/telecom", telecom)
	} else if home.IsNull() || work.IsNull() {
		ch.setOrClear("/telecom", nil, true)
	}

	if f := pid.Field(15); f.IsNull() {
		ch.setOrClear("/communication", nil, true)
	} else if lang := language(hl7v2.ParseCWE(f)); lang != nil {
		ch.set("/communication", []any{fhir.Object{"language": lang, "preferred": true}})
	}

	ch.setOrClear("/maritalStatus", maritalConcept(hl7v2.ParseCWE(pid.Field(16))), pid.Field(16).IsNull())

	// PID-24/25 multiple birth; a choice element: setting one member
	// clears the other.
	switch ind, order := strings.ToUpper(pid.Field(24).String()), strings.TrimSpace(pid.Field(25).String()); {
	case ind == "Y" && allDigits(order) && order != "0":
		ch.set("/multipleBirthInteger", jsonInt(order))
		ch.setOrClear("/multipleBirthBoolean", nil, true)
	case ind == "Y" || ind == "N":
		ch.set("/multipleBirthBoolean", ind == "Y")
		ch.setOrClear("/multipleBirthInteger", nil, true)
	case pid.Field(24).IsNull():
		ch.setOrClear("/multipleBirthBoolean", nil, true)
		ch.setOrClear("/multipleBirthInteger", nil, true)
	}

	// PID-29 death date and time, PID-30 death indicator.
	death, err := b.ts(pid.Field(29), loc(pid, 29))
	if err != nil {
		return err
	}
	switch ind := strings.ToUpper(pid.Field(30).String()); {
	case !death.IsZero():
		ch.set("/deceasedDateTime", dateTime(death))
		ch.setOrClear("/deceasedBoolean", nil, true)
	case ind == "Y" || ind == "N":
		ch.set("/deceasedBoolean", ind == "Y")
		ch.setOrClear("/deceasedDateTime", nil, true)
	case pid.Field(29).IsNull() || pid.Field(30).IsNull():
		ch.setOrClear("/deceasedDateTime", nil, true)
		ch.setOrClear("/deceasedBoolean", nil, true)
	}
	return nil
}

// patientExtensions returns the extensions of a new Patient: mother's
// maiden name (PID-6) and religion (PID-17). They are not patched into an
// existing Patient, whose extension list may hold extensions of others.
func (b *builder) patientExtensions(pid hl7v2.Segment) []any {
	var ext []any
	if mm := hl7v2.ParseXPN(pid.Field(6)); strings.TrimSpace(mm.Family.Surname) != "" {
		ext = append(ext, fhir.Object{
			"url":         "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName",
			"valueString": strings.TrimSpace(mm.Family.Surname),
		})
	}
	if r := codeableConcept(hl7v2.ParseCWE(pid.Field(17)), v2Table("0006")); r != nil {
		ext = append(ext, fhir.Object{
			"url":                  "http://hl7.org/fhir/StructureDefinition/patient-religion",
			"valueCodeableConcept": r,
		})
	}
	return ext
}

// generalPractitioners maps PD1-4 (primary care doctor) and PD1-3 (primary
// facility) to Patient.generalPractitioner references.
func (b *builder) generalPractitioners(pd1 hl7v2.Segment) []any {
	if !pd1.Exists() {
		return nil
	}
	var out []any
	for _, r := range b.practitioners(pd1.Field(4)) {
		out = append(out, r)
	}
	for rep := range pd1.Field(3).Reps() {
		if r := b.organizationXON(rep); r != nil {
			out = append(out, r)
		}
	}
	return out
}

// contacts maps NK1 segments to Patient.contact.
func (b *builder) contacts(nk1 []hl7v2.Segment) ([]any, error) {
	var out []any
	for _, s := range nk1 {
		c := fhir.Object{}
		var rel []any
		if r := codeableConcept(hl7v2.ParseCWE(s.Field(7)), v2Table("0131")); r != nil {
			rel = append(rel, r)
		}
		if r := codeableConcept(hl7v2.ParseCWE(s.Field(3)), v2Table("0063")); r != nil {
			rel = append(rel, r)
		}
		if len(rel) > 0 {
			c["relationship"] = rel
		}
		names, err := b.humanNames(s.Field(2), loc(s, 2))
		if err != nil {
			return nil, err
		}
		if len(names) > 0 {
			c["name"] = names[0]
		}
		if t := append(contactPoints(s.Field(5), "home"), contactPoints(s.Field(6), "work")...); len(t) > 0 {
			c["telecom"] = t
		}
		addrs, err := b.addresses(s.Field(4), loc(s, 4))
		if err != nil {
			return nil, err
		}
		if len(addrs) > 0 {
			c["address"] = addrs[0]
		}
		if g, ok := gender[strings.ToUpper(s.Field(15).String())]; ok {
			c["gender"] = g
		}
		start, err := b.ts(s.Field(8), loc(s, 8))
		if err != nil {
			return nil, err
		}
		end, err := b.ts(s.Field(9), loc(s, 9))
		if err != nil {
			return nil, err
		}
		if p := period(start, end); p != nil {
			c["period"] = p
		}
		if len(c) > 0 {
			out = append(out, c)
		}
	}
	return out, nil
}

var bcp47 = regexp.MustCompile(`^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$`)

// language maps a language CWE (PID-15, table 0296) to a CodeableConcept
// in BCP 47 (urn:ietf:bcp:47) when its code is an ISO 639 code.
func language(c hl7v2.CWE) fhir.Object {
	cc := codeableConcept(c, "")
	if cc == nil {
		return nil
	}
	if cs, ok := cc["coding"].([]any); ok {
		first := cs[0].(fhir.Object)
		sys, _ := first["system"].(string)
		code, _ := first["code"].(string)
		if (sys == "" || sys == "urn:ietf:bcp:47" || strings.HasPrefix(sys, localCodeSystemPrefix) || sys == v2Table("0296")) && bcp47.MatchString(code) {
			first["system"] = "urn:ietf:bcp:47"
			first["code"] = strings.ToLower(code)
		}
	}
	return cc
}

// maritalConcept maps PID-16 to v3-MaritalStatus (table 0002 otherwise).
func maritalConcept(c hl7v2.CWE) fhir.Object {
	sys := codingSystemURI(c.CodingSystem)
	if v3, ok := maritalStatus[strings.ToUpper(c.Identifier)]; ok && (sys == "" || sys == v2Table("0002")) {
		system := "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus"
		if v3[0] == "UNK" {
			system = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"
		}
		out := fhir.Object{"coding": []any{fhir.Object{"system": system, "code": v3[0], "display": v3[1]}}}
		if c.Text != "" {
			out["text"] = c.Text
		}
		return out
	}
	return codeableConcept(c, v2Table("0002"))
}
