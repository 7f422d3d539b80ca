package mappings

import (
	"time"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/fhir"
)

// This file writes the Provenance of a message (FHIR R4 provenance.html;
// the v2-to-FHIR IG's MSH[Provenance] map): one per Bundle, naming the
// message by its control id as the source entity, the sender as the
// agent, and every resource the message creates or updates as a target.
// Its id is derived from the message identity, so that processing the
// message again rewrites the same Provenance instead of adding one.

// referenceData holds the types a message only ensures exist; they are
// not targets of its Provenance unless written in full.
var referenceData = map[string]bool{"Organization": true, "Practitioner": true, "Location": true}

// messageSystem returns the Identifier.system of the sender's message
// control ids.
func (b *builder) messageSystem() string {
	return "urn:fhirhub:hl7v2:message:" + queryEscape(b.hdr.SendingApplication.String()) + ":" +
		queryEscape(b.hdr.SendingFacility.String())
}

// provenance returns the Provenance of the message, nil when it wrote
// nothing. activity is the trigger event (table 0003).
func (b *builder) provenance(activity string) fhir.Object {
	var targets []any
	for _, e := range b.entries {
		if e.kind == kindPut || !referenceData[e.typ] {
			targets = append(targets, fhir.Object{"reference": e.fullURL})
		}
	}
	if len(targets) == 0 {
		return nil
	}
	msh := b.msg.Segment("MSH", 1)
	recorded := ""
	if d := b.tsOrZero(msh.Field(7)); d.Precision >= hl7v2.PrecisionDay {
		recorded = instant(d)
	}
	if recorded == "" {
		now := time.Now
		if b.opt.Now != nil {
			now = b.opt.Now
		}
		recorded = now().UTC().Format(time.RFC3339)
	}
	t := b.hdr.Type
	p := fhir.Object{
		"resourceType": "Provenance",
		"target":       targets,
		"recorded":     recorded,
		"entity": []any{fhir.Object{
			"role": "source",
			"what": fhir.Object{
				"identifier": fhir.Object{"system": b.messageSystem(), "value": b.hdr.ControlID},
				"display":    "HL7 v2 message " + safeType(t),
			},
		}},
	}
	if activity != "" {
		p["activity"] = fhir.Object{"coding": []any{fhir.Object{"system": v2Table("0003"), "code": activity}}}
	}
	if evn := b.msg.Segment("EVN", 1); evn.Exists() {
		for _, f := range []int{6, 2} {
			if d := b.tsOrZero(evn.Field(f)); !d.IsZero() {
				p["occurredDateTime"] = dateTime(d)
				break
			}
		}
	}
	who := b.organization(b.hdr.SendingFacility, "")
	if who == nil {
		name := cleanText(b.hdr.SendingApplication.String())
		if name == "" {
			name = "unknown sender"
		}
		who = fhir.Object{"display": name}
	}
	p["agent"] = []any{fhir.Object{
		"type": fhir.Object{"coding": []any{fhir.Object{
			"system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "code": "author", "display": "Author",
		}}},
		"who": who,
	}}
	b.stamp(p)
	return p
}
