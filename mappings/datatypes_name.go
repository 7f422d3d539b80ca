package mappings

import (
	"strings"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/fhir"
)

// This file maps the person name datatypes XPN and XCN (HL7 v2.5.1
// sections 2.A.88 and 2.A.86) to HumanName, and an XCN to a Practitioner,
// following the v2-to-FHIR IG's XPN[HumanName] and XCN[Practitioner] maps.

// nameUse maps table 0200 (name type) to name-use, for the codes the IG
// maps one to one.
var nameUse = map[string]string{
	"L": "official", "D": "usual", "M": "maiden", "N": "nickname",
	"S": "anonymous", "TEMP": "temp", "BAD": "old", "A": "usual", "R": "official",
}

// humanName maps an XPN; nil when it has no name part.
func (b *builder) humanName(x hl7v2.XPN, at string) (fhir.Object, error) {
	n := nameParts(x.Family.Surname, x.Given, x.Middle, x.Prefix, x.Suffix, x.Degree, x.ProfessionalSuffix)
	if n == nil {
		return nil, nil
	}
	if u, ok := nameUse[strings.ToUpper(x.NameTypeCode)]; ok {
		n["use"] = u
	}
	if err := b.setPeriod(n, x.EffectiveDate, x.ExpirationDate, at); err != nil {
		return nil, err
	}
	return n, nil
}

// humanNames maps every repetition of an XPN field.
func (b *builder) humanNames(field hl7v2.Value, at string) ([]any, error) {
	var out []any
	for _, x := range hl7v2.ParseXPNs(field) {
		n, err := b.humanName(x, at)
		if err != nil {
			return nil, err
		}
		if n != nil {
			out = append(out, n)
		}
	}
	return out, nil
}

// nameParts builds a HumanName from its parts; nil when all are empty.
// suffixes holds the suffix, degree and professional suffix, in order.
func nameParts(family, given, middle, prefix string, suffixes ...string) fhir.Object {
	n := fhir.Object{}
	if family = strings.TrimSpace(family); family != "" {
		n["family"] = family
	}
	var g []any
	for _, s := range []string{given, middle} {
		if s = strings.TrimSpace(s); s != "" {
			g = append(g, s)
		}
	}
	if len(g) > 0 {
		n["given"] = g
	}
	if prefix = strings.TrimSpace(prefix); prefix != "" {
		n["prefix"] = []any{prefix}
	}
	var sfx []any
	for _, s := range suffixes {
		if s = strings.TrimSpace(s); s != "" {
			sfx = append(sfx, s)
		}
	}
	if len(sfx) > 0 {
		n["suffix"] = sfx
	}
	if len(n) == 0 {
		return nil
	}
	return n
}

// nameText renders a HumanName for Reference.display: prefix, given
// names, family.
func nameText(n fhir.Object) string {
	var parts []string
	for _, k := range []string{"prefix", "given"} {
		if a, ok := n[k].([]any); ok {
			for _, s := range a {
				parts = append(parts, s.(string))
			}
		}
	}
	if f, ok := n["family"].(string); ok {
		parts = append(parts, f)
	}
	return strings.Join(parts, " ")
}

// practitioner maps an XCN. With an id (XCN.1) it ensures the
// Practitioner keyed by that identifier (authority XCN.9, else XCN.14,
// else the sender), created with the XCN's name when unknown, and returns
// a Reference to it; with a name only it returns a Reference with that
// display and no target, as a person without id cannot be matched; nil
// for an empty XCN. A known Practitioner's name is not rewritten: senders
// format one person's name differently (with or without a title, initials
// for given names), and rewriting it made a new version for nearly every
// message and made all messages naming one clinician wait for each other
// on that resource. Practitioner master data comes from a staff registry.
func (b *builder) practitioner(x hl7v2.XCN) fhir.Object {
	name := nameParts(x.Family.Surname, x.Given, x.Middle, x.Prefix, x.Suffix, x.Degree, x.ProfessionalSuffix)
	display := ""
	if name != nil {
		display = nameText(name)
	}
	id := strings.TrimSpace(cleanText(x.ID))
	if id == "" {
		if display == "" {
			return nil
		}
		return fhir.Object{"display": display}
	}
	auth := x.AssigningAuthority
	if auth.IsZero() {
		auth = x.AssigningFacility
	}
	if auth.IsZero() {
		auth = b.defaultAuthority()
	}
	ident := fhir.Object{"value": id}
	if t := identifierType(x.IdentifierTypeCode); t != nil {
		ident["type"] = t
	}
	if s := b.system(auth); s != "" {
		ident["system"] = s
	}
	p := fhir.Object{"identifier": []any{ident}, "active": true}
	if name != nil {
		p["name"] = []any{name}
	}
	ref := b.ensure("Practitioner", criteria("identifier", tokenOf(ident)), p)
	return reference(ref, display)
}

// practitioners maps every repetition of an XCN field.
func (b *builder) practitioners(field hl7v2.Value) []fhir.Object {
	var out []fhir.Object
	for _, x := range hl7v2.ParseXCNs(field) {
		if r := b.practitioner(x); r != nil {
			out = append(out, r)
		}
	}
	return out
}
