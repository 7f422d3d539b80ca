package hl7v2

// This file holds the identifier datatypes (HL7 v2.5.1 section 2.A): HD,
// EI and CX. Every ParseXX function takes a Value at any level: a field
// is read through its first repetition, and a component holding a
// composite (CX.4, an HD) is read through its subcomponents. Missing parts
// read as "", the explicit null `""` too (test Value.IsNull).

// asComposite returns the node whose parts are the datatype's components:
// the first repetition of a field, else the node itself.
func asComposite(v Value) Value {
	if v.level == levelField {
		return v.Part(1)
	}
	return v
}

// HD is a hierarchic designator: an application, facility or assigning
// authority.
type HD struct {
	NamespaceID     string // HD.1 (table 0300)
	UniversalID     string // HD.2, an OID, UUID, DNS name ...
	UniversalIDType string // HD.3 (table 0301: ISO, UUID, DNS ...)
}

// ParseHD reads an HD.
func ParseHD(v Value) HD {
	v = asComposite(v)
	p := split(v)
	return HD{NamespaceID: p.at(1).String(), UniversalID: p.at(2).String(), UniversalIDType: p.at(3).String()}
}

// IsZero reports whether h has no part.
func (h HD) IsZero() bool { return h == HD{} }

// String returns the parts joined by '^', without empty trailing parts:
// "LAB" or "LAB^1.2.3^ISO". It is meant for keys and display, not for
// writing into a message (use Message.Set for that).
func (h HD) String() string {
	switch {
	case h.UniversalIDType != "":
		return h.NamespaceID + "^" + h.UniversalID + "^" + h.UniversalIDType
	case h.UniversalID != "":
		return h.NamespaceID + "^" + h.UniversalID
	}
	return h.NamespaceID
}

// EI is an entity identifier: an order number, a specimen id, a
// conformance profile.
type EI struct {
	EntityID        string // EI.1
	NamespaceID     string // EI.2
	UniversalID     string // EI.3
	UniversalIDType string // EI.4
}

// ParseEI reads an EI.
func ParseEI(v Value) EI {
	v = asComposite(v)
	p := split(v)
	return EI{EntityID: p.at(1).String(), NamespaceID: p.at(2).String(),
		UniversalID: p.at(3).String(), UniversalIDType: p.at(4).String()}
}

// IsZero reports whether e has no part.
func (e EI) IsZero() bool { return e == EI{} }

// CX is an extended composite identifier: a medical record number, a
// national id, an account number (PID-3, PID-18, MRG-1 ...).
type CX struct {
	ID                    string // CX.1
	CheckDigit            string // CX.2
	CheckDigitScheme      string // CX.3 (table 0061)
	AssigningAuthority    HD     // CX.4
	IdentifierTypeCode    string // CX.5 (table 0203: MR, NI, SS, PI ...)
	AssigningFacility     HD     // CX.6
	EffectiveDate         string // CX.7 (DT; read with ParseDTM)
	ExpirationDate        string // CX.8 (DT)
	AssigningJurisdiction CWE    // CX.9
	AssigningAgency       CWE    // CX.10
}

// ParseCX reads a CX.
func ParseCX(v Value) CX {
	v = asComposite(v)
	p := split(v)
	return CX{
		ID:                    p.at(1).String(),
		CheckDigit:            p.at(2).String(),
		CheckDigitScheme:      p.at(3).String(),
		AssigningAuthority:    ParseHD(p.at(4)),
		IdentifierTypeCode:    p.at(5).String(),
		AssigningFacility:     ParseHD(p.at(6)),
		EffectiveDate:         p.at(7).String(),
		ExpirationDate:        p.at(8).String(),
		AssigningJurisdiction: ParseCWE(p.at(9)),
		AssigningAgency:       ParseCWE(p.at(10)),
	}
}

// ParseCXs reads every repetition of a repeating CX field such as PID-3.
func ParseCXs(field Value) []CX {
	out := make([]CX, 0, field.NumReps())
	for r := range field.Reps() {
		out = append(out, ParseCX(r))
	}
	return out
}
