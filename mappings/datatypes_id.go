package mappings

import (
	"strings"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/fhir"
)

// This file maps the identifier datatypes CX, EI and HD (HL7 v2.5.1
// sections 2.A.14, 2.A.24, 2.A.36) to Identifier, following the v2-to-FHIR
// IG's CX[Identifier], EI[Identifier] and HD[Identifier] maps: the value,
// the identifier type (table 0203) and the assigning authority as the
// system. The IG leaves the authority-to-URI translation to the
// implementer: Options.IdentifierSystem, else DefaultIdentifierSystem.

// IdentifierSystemPrefix prefixes the systems DefaultIdentifierSystem makes
// from an authority's namespace id.
const IdentifierSystemPrefix = "urn:fhirhub:hl7v2:id:"

// DefaultIdentifierSystem returns the Identifier.system for an assigning
// authority: "urn:oid:<oid>" when its namespace id (HD.1) is an OID,
// IdentifierSystemPrefix + namespace id otherwise; with no namespace id,
// the universal id (HD.2) as urn:oid:, urn:uuid: or the URI it is; ""
// for an empty authority. The namespace id comes first because senders
// send it far more consistently than the universal id, and the system must
// be the same in every message for conditional keys to match.
func DefaultIdentifierSystem(h hl7v2.HD) string {
	ns := strings.TrimSpace(cleanText(h.NamespaceID))
	uid := strings.TrimSpace(cleanText(h.UniversalID))
	switch {
	case ns != "" && isOID(ns):
		return "urn:oid:" + ns
	case ns != "":
		return IdentifierSystemPrefix + queryEscape(ns)
	case uid == "":
		return ""
	case isOID(uid):
		return "urn:oid:" + uid
	case strings.EqualFold(h.UniversalIDType, "UUID"):
		return "urn:uuid:" + strings.ToLower(uid)
	case strings.Contains(uid, ":"):
		return queryEscape(uid)
	}
	return IdentifierSystemPrefix + queryEscape(uid)
}

// system returns the Identifier.system of authority h.
func (b *builder) system(h hl7v2.HD) string {
	if b.opt.IdentifierSystem != nil {
		if s := b.opt.IdentifierSystem(h); s != "" {
			return s
		}
	}
	return DefaultIdentifierSystem(h)
}

// defaultAuthority is the authority of identifiers sent without one: the
// sending facility (MSH-4), else the sending application (MSH-3). Such
// identifiers are taken to be local to the sender.
func (b *builder) defaultAuthority() hl7v2.HD {
	if !b.hdr.SendingFacility.IsZero() {
		return b.hdr.SendingFacility
	}
	return b.hdr.SendingApplication
}

// identifierFromCX maps a CX; nil when it has no id. A CX without
// assigning authority (CX.4) takes the assigning facility (CX.6), else
// the sender's.
func (b *builder) identifierFromCX(c hl7v2.CX, at string) (fhir.Object, error) {
	id := strings.TrimSpace(cleanText(c.ID))
	if id == "" {
		return nil, nil
	}
	auth := c.AssigningAuthority
	if auth.IsZero() {
		auth = c.AssigningFacility
	}
	if auth.IsZero() {
		auth = b.defaultAuthority()
	}
	out := fhir.Object{"value": id}
	if t := identifierType(c.IdentifierTypeCode); t != nil {
		out["type"] = t
	}
	if s := b.system(auth); s != "" {
		out["system"] = s
	}
	if err := b.setPeriod(out, c.EffectiveDate, c.ExpirationDate, at); err != nil {
		return nil, err
	}
	return out, nil
}

// identifiersFromCX maps every repetition of a CX field.
func (b *builder) identifiersFromCX(field hl7v2.Value, at string) ([]fhir.Object, error) {
	var out []fhir.Object
	for _, c := range hl7v2.ParseCXs(field) {
		id, err := b.identifierFromCX(c, at)
		if err != nil {
			return nil, err
		}
		if id != nil {
			out = append(out, id)
		}
	}
	return out, nil
}

// identifierFromEI maps an EI with identifier type typ (table 0203: PLAC,
// FILL, ACSN ...); nil when it has no entity id. An EI without namespace
// takes fallbackSystem.
func (b *builder) identifierFromEI(e hl7v2.EI, typ, fallbackSystem string) fhir.Object {
	id := strings.TrimSpace(cleanText(e.EntityID))
	if id == "" {
		return nil
	}
	out := fhir.Object{"value": id}
	if t := identifierType(typ); t != nil {
		out["type"] = t
	}
	sys := b.system(hl7v2.HD{NamespaceID: e.NamespaceID, UniversalID: e.UniversalID, UniversalIDType: e.UniversalIDType})
	if sys == "" {
		sys = fallbackSystem
	}
	if sys != "" {
		out["system"] = sys
	}
	return out
}

// identifierType returns the CodeableConcept of a table 0203 code, nil
// for "".
func identifierType(code string) fhir.Object {
	code = codeText(code)
	if code == "" {
		return nil
	}
	return fhir.Object{"coding": []any{fhir.Object{"system": v2Table("0203"), "code": code}}}
}

// eiKey renders an EI for a composite key: "id^namespace", or "id".
func eiKey(e hl7v2.EI) string {
	if e.NamespaceID != "" {
		return e.EntityID + "^" + e.NamespaceID
	}
	if e.UniversalID != "" {
		return e.EntityID + "^" + e.UniversalID
	}
	return e.EntityID
}

// organization ensures the Organization a facility or application (HD)
// stands for and returns a Reference to it; nil for an empty HD. Its key
// is the identifier the HD gives (namespace id under our facility system,
// or the universal id).
func (b *builder) organization(h hl7v2.HD, name string) fhir.Object {
	if h.IsZero() {
		return nil
	}
	var ids []any
	var tok token
	if ns := strings.TrimSpace(cleanText(h.NamespaceID)); ns != "" {
		id := fhir.Object{"system": facilitySystem, "value": ns}
		ids = append(ids, id)
		tok = tokenOf(id)
	}
	if uid := strings.TrimSpace(cleanText(h.UniversalID)); uid != "" {
		id := fhir.Object{"system": "urn:ietf:rfc:3986", "value": universalURI(h)}
		ids = append(ids, id)
		if tok.value == "" {
			tok = tokenOf(id)
		}
	}
	if tok.value == "" {
		return nil // an HD of only a universal id type names nothing
	}
	if name == "" {
		name = h.NamespaceID
	}
	org := fhir.Object{"identifier": ids, "active": true}
	if name != "" {
		org["name"] = name
	}
	ref := b.ensure("Organization", criteria("identifier", tok), org)
	return reference(ref, name)
}

// facilitySystem is the Identifier.system of facilities and applications
// named by an HD namespace id.
const facilitySystem = "urn:fhirhub:hl7v2:facility"

// universalURI returns HD.2 as a URI: urn:oid:, urn:uuid: or as sent.
func universalURI(h hl7v2.HD) string {
	uid := strings.TrimSpace(cleanText(h.UniversalID))
	switch {
	case isOID(uid):
		return "urn:oid:" + uid
	case strings.EqualFold(h.UniversalIDType, "UUID"):
		return "urn:uuid:" + strings.ToLower(uid)
	case strings.Contains(uid, ":"):
		return queryEscape(uid)
	}
	return "urn:fhirhub:hl7v2:universal-id:" + queryEscape(uid)
}

// reference returns a Reference to fullUrl ref with a display.
func reference(ref, display string) fhir.Object {
	out := fhir.Object{"reference": ref}
	if display != "" {
		out["display"] = display
	}
	return out
}
