package mappings

import (
	"encoding/json"
	"regexp"
	"strings"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/fhir"
)

// This file maps OBX-5 by its value type (OBX-2) to Observation.value[x],
// and OBX-6/OBX-7 to units and reference ranges, following the
// v2-to-FHIR IG's OBX[Observation] map: NM and CQ to valueQuantity (with
// UCUM when the unit is UCUM), SN to valueQuantity with a comparator,
// valueRange or valueRatio, ST/TX/FT to valueString with escapes and
// formatting rendered, CE/CWE/CNE to valueCodeableConcept, DT/DTM/TS to
// valueDateTime, TM to valueTime. A numeric value that is not a number
// ("<5" in an NM, a common sender habit) is read as a comparison when it
// is one, else kept as valueString rather than rejecting the result.

const ucum = "http://unitsofmeasure.org"

// ucumCodes holds common units that senders write without naming UCUM
// (OBX-6 with no coding system) and that are valid UCUM codes as written.
var ucumCodes = map[string]bool{
	"%": true, "kg": true, "g": true, "mg": true, "ug": true, "ng": true, "cm": true, "m": true,
	"mm": true, "L": true, "mL": true, "dL": true, "fL": true, "pg": true, "s": true, "min": true,
	"h": true, "d": true, "wk": true, "mo": true, "a": true, "Cel": true, "[degF]": true,
	"mmol/L": true, "umol/L": true, "nmol/L": true, "pmol/L": true, "mol/L": true,
	"mg/dL": true, "g/dL": true, "g/L": true, "mg/L": true, "ug/L": true, "ng/mL": true,
	"ng/L": true, "pg/mL": true, "U/L": true, "[IU]/L": true, "mU/L": true, "meq/L": true,
	"mm[Hg]": true, "/min": true, "mL/min": true, "kg/m2": true, "10*3/uL": true, "10*6/uL": true,
	"10*9/L": true, "10*12/L": true, "/uL": true, "mosm/kg": true, "[in_i]": true, "[lb_av]": true,
	"mm/h": true, "1": true,
}

// units returns the unit parts of a Quantity from OBX-6.
func units(u hl7v2.CWE) fhir.Object {
	q := fhir.Object{}
	code := strings.TrimSpace(u.Identifier)
	switch {
	case u.Text != "":
		q["unit"] = u.Text
	case code != "":
		q["unit"] = code
	}
	if code == "" {
		return q
	}
	sys := codingSystemURI(u.CodingSystem)
	switch {
	case sys == ucum || sys == "" && ucumCodes[code]:
		q["system"], q["code"] = ucum, code
	case sys != "":
		q["system"], q["code"] = sys, code
	}
	return q
}

// quantity returns a Quantity of num with the units of u.
func quantity(num json.Number, u hl7v2.CWE) fhir.Object {
	q := units(u)
	q["value"] = num
	return q
}

var comparisonRE = regexp.MustCompile(`^\s*(<=|>=|<|>)\s*([+-]?(\d+\.?\d*|\.\d+))\s*$`)

// observationValue sets obs's value[x] from the OBX; it does nothing for a
// value type that is not an Observation value (ED, RP: the report's
// presentedForm) or an empty value.
func (b *builder) observationValue(obx hl7v2.Segment, obs fhir.Object) {
	f := obx.Field(5)
	if f.IsEmpty() {
		return
	}
	u := hl7v2.ParseCWE(obx.Field(6))
	first := f.Rep(1)
	switch vt := strings.ToUpper(strings.TrimSpace(obx.Field(2).String())); vt {
	case "NM":
		if n, ok := decimal(first.String()); ok {
			obs["valueQuantity"] = quantity(n, u)
		} else {
			numericText(first.Text(), u, obs)
		}
	case "SN":
		structuredNumeric(first, u, obs)
	case "CQ":
		cq, err := hl7v2.ParseCQ(first)
		if n, ok := decimal(cq.Quantity.Text); err == nil && ok {
			if cq.Units.IsZero() {
				cq.Units = u
			}
			obs["valueQuantity"] = quantity(n, cq.Units)
		} else {
			obs["valueString"] = first.Text()
		}
	case "CE", "CWE", "CNE", "CF":
		if c := codeableConcept(hl7v2.ParseCWE(first), ""); c != nil {
			obs["valueCodeableConcept"] = c
		}
	case "ID", "IS":
		if c := coding(first.String(), "", "", "", ""); c != nil {
			obs["valueCodeableConcept"] = fhir.Object{"coding": []any{c}}
		}
	case "DT", "DTM", "TS":
		if d, err := b.dtmText(first.String(), ""); err == nil && !d.IsZero() {
			obs["valueDateTime"] = dateTime(d)
		} else {
			obs["valueString"] = first.Text()
		}
	case "TM":
		if t := timeValue(first.String()); t != "" {
			obs["valueTime"] = t
		} else {
			obs["valueString"] = first.Text()
		}
	case "ED", "RP":
	case "ST", "TX", "FT", "":
		if s := f.Text(); strings.TrimSpace(s) != "" {
			obs["valueString"] = s
		}
	default:
		if s := componentsText(first); s != "" {
			obs["valueString"] = s
		}
	}
}

// numericText reads an NM that is not a number: a comparison ("<5")
// becomes a Quantity with a comparator, anything else valueString.
func numericText(s string, u hl7v2.CWE, obs fhir.Object) {
	if m := comparisonRE.FindStringSubmatch(s); m != nil {
		if n, ok := decimal(m[2]); ok {
			q := quantity(n, u)
			q["comparator"] = m[1]
			obs["valueQuantity"] = q
			return
		}
	}
	if strings.TrimSpace(s) != "" {
		obs["valueString"] = s
	}
}

// structuredNumeric maps an SN: a comparison to a Quantity with
// comparator, a range (separator "-") to valueRange, a ratio (":" or "/")
// to valueRatio, anything else (a categorical "2+") to valueString.
func structuredNumeric(v hl7v2.Value, u hl7v2.CWE, obs fhir.Object) {
	sn, err := hl7v2.ParseSN(v)
	if err != nil {
		numericText(componentsText(v), u, obs)
		return
	}
	n1, ok1 := decimal(sn.Num1.Text)
	n2, ok2 := decimal(sn.Num2.Text)
	cmp := strings.TrimSpace(sn.Comparator)
	sep := strings.TrimSpace(sn.Separator)
	switch {
	case ok1 && ok2 && sep == "-" && (cmp == "" || cmp == "="):
		obs["valueRange"] = fhir.Object{"low": quantity(n1, u), "high": quantity(n2, u)}
	case ok1 && ok2 && (sep == ":" || sep == "/") && (cmp == "" || cmp == "="):
		obs["valueRatio"] = fhir.Object{"numerator": fhir.Object{"value": n1}, "denominator": fhir.Object{"value": n2}}
	case ok1 && sep == "" && !ok2 && (cmp == "" || cmp == "=" || cmp == "<" || cmp == ">" || cmp == "<=" || cmp == ">="):
		q := quantity(n1, u)
		if cmp != "" && cmp != "=" {
			q["comparator"] = cmp
		}
		obs["valueQuantity"] = q
	default:
		if s := strings.TrimSpace(cmp + sn.Num1.Text + sep + sn.Num2.Text); s != "" {
			obs["valueString"] = s
		}
	}
}

// componentsText renders a composite value as its non-empty components
// joined by spaces.
func componentsText(v hl7v2.Value) string {
	var parts []string
	for c := range v.Parts() {
		if s := strings.TrimSpace(c.Text()); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " ")
}

// timeValue maps a TM (HHMM[SS[.S...]]) to a FHIR time, "" when it is not
// one.
func timeValue(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "+-"); i >= 0 {
		s = s[:i] // FHIR time has no offset
	}
	digits, frac, _ := strings.Cut(s, ".")
	if !allDigits(digits) || (len(digits) != 2 && len(digits) != 4 && len(digits) != 6) || frac != "" && !allDigits(frac) {
		return ""
	}
	for len(digits) < 6 {
		digits += "00"
	}
	if digits[0:2] > "23" || digits[2:4] > "59" || digits[4:6] > "59" {
		return ""
	}
	out := digits[0:2] + ":" + digits[2:4] + ":" + digits[4:6]
	if frac != "" {
		out += "." + frac
	}
	return out
}

var rangeRE = regexp.MustCompile(`^\s*([+-]?(?:\d+\.?\d*|\.\d+))\s*(?:-|–|to)\s*([+-]?(?:\d+\.?\d*|\.\d+))\s*$`)

// referenceRange maps OBX-7 to Observation.referenceRange: "low-high",
// "<x", "<=x" (high), ">x", ">=x" (low); the text as sent in any case.
func referenceRange(text string, u hl7v2.CWE) fhir.Object {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil
	}
	r := fhir.Object{"text": text}
	if m := rangeRE.FindStringSubmatch(text); m != nil {
		lo, ok1 := decimal(m[1])
		hi, ok2 := decimal(m[2])
		if ok1 && ok2 {
			r["low"], r["high"] = quantity(lo, u), quantity(hi, u)
		}
		return r
	}
	if m := comparisonRE.FindStringSubmatch(text); m != nil {
		if n, ok := decimal(m[2]); ok {
			if m[1][0] == '<' {
				r["high"] = quantity(n, u)
			} else {
				r["low"] = quantity(n, u)
			}
		}
	}
	return r
}
