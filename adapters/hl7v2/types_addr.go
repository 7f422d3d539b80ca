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
	st := v.Part(1)
	return XAD{
		Street:                     SAD{StreetOrMailingAddress: st.Part(1).String(), StreetName: st.Part(2).String(), DwellingNumber: st.Part(3).String()},
		OtherDesignation:           v.Part(2).String(),
		City:                       v.Part(3).String(),
		State:                      v.Part(4).String(),
		PostalCode:                 v.Part(5).String(),
		Country:                    v.Part(6).String(),
		AddressType:                v.Part(7).String(),
		OtherGeographicDesignation: v.Part(8).String(),
		CountyParishCode:           v.Part(9).String(),
		CensusTract:                v.Part(10).String(),
		AddressRepresentationCode:  v.Part(11).String(),
		AddressValidityRange:       v.Part(12).Raw(),
		EffectiveDate:              v.Part(13).String(),
		ExpirationDate:             v.Part(14).String(),
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
	return XTN{
		Number:          v.Part(1).String(),
		UseCode:         v.Part(2).String(),
		EquipmentType:   v.Part(3).String(),
		Email:           v.Part(4).String(),
		CountryCode:     v.Part(5).String(),
		AreaCode:        v.Part(6).String(),
		LocalNumber:     v.Part(7).String(),
		Extension:       v.Part(8).String(),
		AnyText:         v.Part(9).String(),
		ExtensionPrefix: v.Part(10).String(),
		SpeedDialCode:   v.Part(11).String(),
		Unformatted:     v.Part(12).String(),
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
