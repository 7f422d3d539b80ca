package hl7v2

// This file holds the person name datatypes (HL7 v2.5.1 section 2.A): FN,
// XPN and XCN.

// FN is a family name with its prefixes (XPN.1, XCN.2). Messages before
// v2.3 have only the surname.
type FN struct {
	Surname                  string // FN.1
	OwnSurnamePrefix         string // FN.2
	OwnSurname               string // FN.3
	SurnamePrefixFromPartner string // FN.4
	SurnameFromPartner       string // FN.5
}

// ParseFN reads an FN.
func ParseFN(v Value) FN {
	v = asComposite(v)
	p := split(v)
	return FN{Surname: p.at(1).String(), OwnSurnamePrefix: p.at(2).String(), OwnSurname: p.at(3).String(),
		SurnamePrefixFromPartner: p.at(4).String(), SurnameFromPartner: p.at(5).String()}
}

// XPN is an extended person name (PID-5, NK1-2 ...).
type XPN struct {
	Family                 FN     // XPN.1
	Given                  string // XPN.2
	Middle                 string // XPN.3 second and further given names or initials
	Suffix                 string // XPN.4 (JR, III)
	Prefix                 string // XPN.5 (DR)
	Degree                 string // XPN.6 (deprecated)
	NameTypeCode           string // XPN.7 (table 0200: L legal, D display, M maiden ...)
	NameRepresentationCode string // XPN.8 (table 4000: A alphabetic, I ideographic, P phonetic)
	NameContext            CWE    // XPN.9
	NameValidityRange      string // XPN.10 (DR, deprecated)
	NameAssemblyOrder      string // XPN.11 (table 0444)
	EffectiveDate          string // XPN.12 (TS)
	ExpirationDate         string // XPN.13 (TS)
	ProfessionalSuffix     string // XPN.14
}

// ParseXPN reads an XPN.
func ParseXPN(v Value) XPN {
	v = asComposite(v)
	p := split(v)
	return XPN{
		Family:                 ParseFN(p.at(1)),
		Given:                  p.at(2).String(),
		Middle:                 p.at(3).String(),
		Suffix:                 p.at(4).String(),
		Prefix:                 p.at(5).String(),
		Degree:                 p.at(6).String(),
		NameTypeCode:           p.at(7).String(),
		NameRepresentationCode: p.at(8).String(),
		NameContext:            ParseCWE(p.at(9)),
		NameValidityRange:      p.at(10).Raw(),
		NameAssemblyOrder:      p.at(11).String(),
		EffectiveDate:          p.at(12).String(),
		ExpirationDate:         p.at(13).String(),
		ProfessionalSuffix:     p.at(14).String(),
	}
}

// ParseXPNs reads every repetition of a repeating XPN field.
func ParseXPNs(field Value) []XPN {
	out := make([]XPN, 0, field.NumReps())
	for r := range field.Reps() {
		out = append(out, ParseXPN(r))
	}
	return out
}

// XCN is an extended composite ID number and name for persons: a
// practitioner (PV1-7, OBR-16, ORC-12 ...).
type XCN struct {
	ID                     string // XCN.1
	Family                 FN     // XCN.2
	Given                  string // XCN.3
	Middle                 string // XCN.4
	Suffix                 string // XCN.5
	Prefix                 string // XCN.6
	Degree                 string // XCN.7 (deprecated)
	SourceTable            string // XCN.8
	AssigningAuthority     HD     // XCN.9
	NameTypeCode           string // XCN.10 (table 0200)
	CheckDigit             string // XCN.11
	CheckDigitScheme       string // XCN.12
	IdentifierTypeCode     string // XCN.13 (table 0203)
	AssigningFacility      HD     // XCN.14
	NameRepresentationCode string // XCN.15
	NameContext            CWE    // XCN.16
	NameValidityRange      string // XCN.17 (DR, deprecated)
	NameAssemblyOrder      string // XCN.18
	EffectiveDate          string // XCN.19
	ExpirationDate         string // XCN.20
	ProfessionalSuffix     string // XCN.21
	AssigningJurisdiction  CWE    // XCN.22
	AssigningAgency        CWE    // XCN.23
}

// ParseXCN reads an XCN.
func ParseXCN(v Value) XCN {
	v = asComposite(v)
	p := split(v)
	return XCN{
		ID:                     p.at(1).String(),
		Family:                 ParseFN(p.at(2)),
		Given:                  p.at(3).String(),
		Middle:                 p.at(4).String(),
		Suffix:                 p.at(5).String(),
		Prefix:                 p.at(6).String(),
		Degree:                 p.at(7).String(),
		SourceTable:            p.at(8).String(),
		AssigningAuthority:     ParseHD(p.at(9)),
		NameTypeCode:           p.at(10).String(),
		CheckDigit:             p.at(11).String(),
		CheckDigitScheme:       p.at(12).String(),
		IdentifierTypeCode:     p.at(13).String(),
		AssigningFacility:      ParseHD(p.at(14)),
		NameRepresentationCode: p.at(15).String(),
		NameContext:            ParseCWE(p.at(16)),
		NameValidityRange:      p.at(17).Raw(),
		NameAssemblyOrder:      p.at(18).String(),
		EffectiveDate:          p.at(19).String(),
		ExpirationDate:         p.at(20).String(),
		ProfessionalSuffix:     p.at(21).String(),
		AssigningJurisdiction:  ParseCWE(p.at(22)),
		AssigningAgency:        ParseCWE(p.at(23)),
	}
}

// ParseXCNs reads every repetition of a repeating XCN field.
func ParseXCNs(field Value) []XCN {
	out := make([]XCN, 0, field.NumReps())
	for r := range field.Reps() {
		out = append(out, ParseXCN(r))
	}
	return out
}
