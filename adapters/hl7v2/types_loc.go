package hl7v2

// This file holds PL (person location) and MSG (message type), HL7 v2.5.1
// section 2.A.

// PL is a person location: a ward, room and bed (PV1-3, PV1-6 ...).
type PL struct {
	PointOfCare                     string // PL.1
	Room                            string // PL.2
	Bed                             string // PL.3
	Facility                        HD     // PL.4
	LocationStatus                  string // PL.5
	PersonLocationType              string // PL.6 (table 0305: C clinic, N nursing unit ...)
	Building                        string // PL.7
	Floor                           string // PL.8
	LocationDescription             string // PL.9
	ComprehensiveLocationIdentifier EI     // PL.10
	AssigningAuthority              HD     // PL.11
}

// ParsePL reads a PL.
func ParsePL(v Value) PL {
	v = asComposite(v)
	p := split(v)
	return PL{
		PointOfCare:                     p.at(1).String(),
		Room:                            p.at(2).String(),
		Bed:                             p.at(3).String(),
		Facility:                        ParseHD(p.at(4)),
		LocationStatus:                  p.at(5).String(),
		PersonLocationType:              p.at(6).String(),
		Building:                        p.at(7).String(),
		Floor:                           p.at(8).String(),
		LocationDescription:             p.at(9).String(),
		ComprehensiveLocationIdentifier: ParseEI(p.at(10)),
		AssigningAuthority:              ParseHD(p.at(11)),
	}
}

// IsZero reports whether p has no part.
func (p PL) IsZero() bool { return p == PL{} }

// MSG is a message type (MSH-9): ADT^A01^ADT_A01.
type MSG struct {
	Code      string // MSG.1 (table 0076: ADT, ORU, ORM, ACK ...)
	Trigger   string // MSG.2 (table 0003: A01, R01 ...)
	Structure string // MSG.3 (table 0354: ADT_A01 ...), from v2.3.1
}

// ParseMSG reads an MSG.
func ParseMSG(v Value) MSG {
	v = asComposite(v)
	p := split(v)
	return MSG{Code: p.at(1).String(), Trigger: p.at(2).String(), Structure: p.at(3).String()}
}

// String returns the type as Code^Trigger^Structure without empty trailing
// parts.
func (t MSG) String() string {
	s := t.Code
	if t.Trigger != "" || t.Structure != "" {
		s += "^" + t.Trigger
	}
	if t.Structure != "" {
		s += "^" + t.Structure
	}
	return s
}
