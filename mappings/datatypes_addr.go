package mappings

import (
	"strings"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/fhir"
)

// This file maps the address and telecommunication datatypes XAD and XTN
// (HL7 v2.5.1 sections 2.A.85 and 2.A.89) to Address and ContactPoint,
// following the v2-to-FHIR IG's XAD[Address] and XTN[ContactPoint] maps.

// addressUse maps table 0190 (address type) to address-use and
// address-type.
var addressUse = map[string][2]string{
	"H":  {"home", ""},
	"B":  {"work", ""},
	"O":  {"work", ""},
	"C":  {"temp", ""},
	"BA": {"old", ""},
	"M":  {"", "postal"},
	"SH": {"", "postal"},
	"P":  {"", "physical"},
}

// address maps an XAD; nil when it has no part.
func (b *builder) address(x hl7v2.XAD, at string) (fhir.Object, error) {
	a := fhir.Object{}
	var lines []any
	for _, s := range []string{x.Street.StreetOrMailingAddress, x.OtherDesignation} {
		if s = strings.TrimSpace(s); s != "" {
			lines = append(lines, s)
		}
	}
	if len(lines) > 0 {
		a["line"] = lines
	}
	for k, v := range map[string]string{"city": x.City, "state": x.State, "postalCode": x.PostalCode, "country": x.Country, "district": x.CountyParishCode} {
		if v = strings.TrimSpace(v); v != "" {
			a[k] = v
		}
	}
	if len(a) == 0 {
		return nil, nil
	}
	if u, ok := addressUse[strings.ToUpper(x.AddressType)]; ok {
		if u[0] != "" {
			a["use"] = u[0]
		}
		if u[1] != "" {
			a["type"] = u[1]
		}
	}
	if err := b.setPeriod(a, x.EffectiveDate, x.ExpirationDate, at); err != nil {
		return nil, err
	}
	return a, nil
}

// addresses maps every repetition of an XAD field.
func (b *builder) addresses(field hl7v2.Value, at string) ([]any, error) {
	var out []any
	for _, x := range hl7v2.ParseXADs(field) {
		a, err := b.address(x, at)
		if err != nil {
			return nil, err
		}
		if a != nil {
			out = append(out, a)
		}
	}
	return out, nil
}

// telecomUse maps table 0201 (telecommunication use) to contact-point-use.
var telecomUse = map[string]string{
	"PRN": "home", "ORN": "home", "WPN": "work", "VHN": "temp", "PRS": "mobile",
}

// telecomSystem maps table 0202 (equipment type) to contact-point-system.
var telecomSystem = map[string]string{
	"PH": "phone", "CP": "phone", "SAT": "phone", "FX": "fax", "BP": "pager",
	"INTERNET": "email", "X.400": "email", "MD": "other", "TDD": "other", "TTY": "other",
}

// contactPoint maps an XTN; nil when it has no number or address.
// defaultUse applies when XTN.2 gives none (PID-13 is home, PID-14 work).
func contactPoint(x hl7v2.XTN, defaultUse string) fhir.Object {
	equip := strings.ToUpper(strings.TrimSpace(x.EquipmentType))
	sys := telecomSystem[equip]
	var value string
	switch {
	case sys == "email" || (equip == "" && x.Email != "" && strings.EqualFold(x.UseCode, "NET")):
		sys, value = "email", strings.TrimSpace(x.Email)
	case x.Unformatted != "":
		value = strings.TrimSpace(x.Unformatted)
	case x.LocalNumber != "":
		var parts []string
		if c := strings.TrimSpace(x.CountryCode); c != "" {
			parts = append(parts, "+"+strings.TrimPrefix(c, "+"))
		}
		for _, s := range []string{x.AreaCode, x.LocalNumber} {
			if s = strings.TrimSpace(s); s != "" {
				parts = append(parts, s)
			}
		}
		value = strings.Join(parts, " ")
		if e := strings.TrimSpace(x.Extension); e != "" {
			value += " ext. " + e
		}
	default:
		value = strings.TrimSpace(x.Number)
	}
	if value == "" && x.Email != "" {
		sys, value = "email", strings.TrimSpace(x.Email)
	}
	if value == "" {
		return nil
	}
	if sys == "" {
		sys = "phone"
	}
	cp := fhir.Object{"system": sys, "value": value}
	use := telecomUse[strings.ToUpper(x.UseCode)]
	if equip == "CP" && use == "" || equip == "CP" && use == "home" {
		use = "mobile"
	}
	if use == "" && sys != "email" {
		use = defaultUse
	}
	if use != "" {
		cp["use"] = use
	}
	return cp
}

// contactPoints maps every repetition of an XTN field.
func contactPoints(field hl7v2.Value, defaultUse string) []any {
	var out []any
	for _, x := range hl7v2.ParseXTNs(field) {
		if cp := contactPoint(x, defaultUse); cp != nil {
			out = append(out, cp)
		}
	}
	return out
}
