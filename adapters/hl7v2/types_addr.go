package hl7v2

// This file holds the contact datatypes (HL7 v2.5.1 section 2.A): XAD and
// XTN.

// SAD is a street address (XAD.1); before v2.5 only its first part.
type SAD struct {
	StreetOrMailingAddress string // SAD.1
	StreetName             string // SAD.2
	DwellingNumber         string // SAD.3
}

// XAD is an extended address (PID-11, NK1-4 ...).
type XAD struct {
	Street                     SAD    // XAD.1
	OtherDesignation           string // XAD.2
	City                       string // XAD.3
	State                      string // XAD.4
	PostalCode                 string // XAD.5
	Country                    string // XAD.6 (ISO 3166)
	AddressType                string // XAD.7 (table 0190: H home, B business, M mailing ...)
	OtherGeographicDesignation string // XAD.8
	CountyParishCode           string // XAD.9
	CensusTract                string // XAD.10
	AddressRepresentationCode  string // XAD.11
	AddressValidityRange       string // XAD.12 (DR, deprecated)
	EffectiveDate              string // XAD.13
	ExpirationDate             string // XAD.14
}

// ParseXAD reads an XAD.
func ParseXAD(v Value) XAD {
	v = asComposite(v)
	p := split(v)
	st := p.at(1)
	return XAD{
		Street:                     SAD{StreetOrMailingAddress: st.Part(1).String(), StreetName: st.Part(2).String(), DwellingNumber: st.Part(3).String()},
		OtherDesignation:           p.at(2).String(),
		City:                       p.at(3).String(),
		State:                      p.at(4).String(),
		PostalCode:                 p.at(5).String(),
		Country:                    p.at(6).String(),
		AddressType:                p.at(7).String(),
		OtherGeographicDesignation: p.at(8).String(),
		CountyParishCode:           p.at(9).String(),
		CensusTract:                p.at(10).String(),
		AddressRepresentationCode:  p.at(11).String(),
		AddressValidityRange:       p.at(12).Raw(),
		EffectiveDate:              p.at(13).String(),
		ExpirationDate:             p.at(14).String(),
	}
}

// ParseXADs reads every repetition of a repeating XAD field.
func ParseXADs(field Value) []XAD {
	out := make([]XAD, 0, field.NumReps())
	for r := range field.Reps() {
		out = append(out, ParseXAD(r))
	}
	return out
}

// XTN is an extended telecommunication number (PID-13, PID-14 ...).
type XTN struct {
	Number          string // XTN.1, free text "(555)555-0123" (deprecated from v2.5)
	UseCode         string // XTN.2 (table 0201: PRN, WPN, NET ...)
	EquipmentType   string // XTN.3 (table 0202: PH, CP, FX, Internet ...)
	Email           string // XTN.4
	CountryCode     string // XTN.5
	AreaCode        string // XTN.6
	LocalNumber     string // XTN.7
	Extension       string // XTN.8
	AnyText         string // XTN.9
	ExtensionPrefix string // XTN.10
	SpeedDialCode   string // XTN.11
	Unformatted     string // XTN.12
}

// ParseXTN reads an XTN.
func ParseXTN(v Value) XTN {
	v = asComposite(v)
	p := split(v)
	return XTN{
		Number:          p.at(1).String(),
		UseCode:         p.at(2).String(),
		EquipmentType:   p.at(3).String(),
		Email:           p.at(4).String(),
		CountryCode:     p.at(5).String(),
		AreaCode:        p.at(6).String(),
		LocalNumber:     p.at(7).String(),
		Extension:       p.at(8).String(),
		AnyText:         p.at(9).String(),
		ExtensionPrefix: p.at(10).String(),
		SpeedDialCode:   p.at(11).String(),
		Unformatted:     p.at(12).String(),
	}
}

// ParseXTNs reads every repetition of a repeating XTN field.
func ParseXTNs(field Value) []XTN {
	out := make([]XTN, 0, field.NumReps())
	for r := range field.Reps() {
		out = append(out, ParseXTN(r))
	}
	return out
}
