package mappings

import (
	"strings"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/fhir"
)

// This file maps the organization datatype XON (HL7 v2.5.1 section
// 2.A.87) to an Organization reference, as the v2-to-FHIR IG's
// XON[Organization] map does. adapters/hl7v2 has no XON parser; xon is the
// small local one.

// xon is the part of an XON this package uses.
type xon struct {
	Name      string   // XON.1
	ID        string   // XON.10, else the deprecated XON.3
	Authority hl7v2.HD // XON.6
}

// parseXON reads an XON (a field repetition or a component).
func parseXON(v hl7v2.Value) xon {
	x := xon{Name: strings.TrimSpace(cleanText(v.Comp(1).String())), ID: strings.TrimSpace(cleanText(v.Comp(10).String()))}
	if x.ID == "" {
		x.ID = strings.TrimSpace(cleanText(v.Comp(3).String()))
	}
	x.Authority = hl7v2.ParseHD(v.Comp(6))
	return x
}

// organizationXON ensures the Organization of an XON with an id (keyed by
// that id under its authority, else the sender's) and returns a Reference
// to it; an XON with a name only gives a Reference with that display; nil
// for an empty XON.
func (b *builder) organizationXON(v hl7v2.Value) fhir.Object {
	x := parseXON(v)
	if x.ID == "" {
		if x.Name == "" {
			return nil
		}
		return fhir.Object{"display": x.Name}
	}
	auth := x.Authority
	if auth.IsZero() {
		auth = b.defaultAuthority()
	}
	id := fhir.Object{"value": x.ID}
	if s := b.system(auth); s != "" {
		id["system"] = s
	}
	org := fhir.Object{"identifier": []any{id}, "active": true}
	if x.Name != "" {
		org["name"] = x.Name
	}
	ref := b.ensure("Organization", criteria("identifier", tokenOf(id)), org)
	return reference(ref, x.Name)
}
