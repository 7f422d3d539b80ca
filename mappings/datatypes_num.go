package mappings

import (
	"encoding/json"
	"strings"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
)

// This file maps the numeric datatypes NM and SN (HL7 v2.5.1 sections
// 2.A.47 and 2.A.72) to FHIR decimals and integers. Numbers are kept as
// their decimal text (json.Number), so that 7.50 stays 7.50.

// decimal returns the FHIR decimal of an NM text, ok false when it is not
// a number.
func decimal(s string) (json.Number, bool) {
	n, err := hl7v2.ParseNM(s)
	if err != nil || n.IsZero() {
		return "", false
	}
	return json.Number(n.Text), true
}

// jsonInt returns a string of digits as a JSON integer.
func jsonInt(digits string) json.Number {
	digits = strings.TrimLeft(digits, "0")
	if digits == "" {
		digits = "0"
	}
	return json.Number(digits)
}
