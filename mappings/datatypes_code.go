package mappings

import (
	"strings"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/fhir"
)

// This file maps the coded datatypes CWE, CE and CNE (HL7 v2.5.1 section
// 2.A.13) to CodeableConcept and Coding, as the v2-to-FHIR IG's
// CWE[CodeableConcept] map does: the identifier triplet, the alternate and
// the second alternate become codings, the original text (CWE.9) the
// text. Coding systems are named by HL7 table 0396; codingSystemURI turns
// them into FHIR URIs.

// v2Table returns the FHIR code system of HL7 v2 table n ("0001").
func v2Table(n string) string { return "http://terminology.hl7.org/CodeSystem/v2-" + n }

// localCodeSystemPrefix names code systems this package does not know
// ("LOCAL", "99ZZZ"): they are kept, scoped to fhirhub, so that they stay
// searchable and can be translated later.
const localCodeSystemPrefix = "urn:fhirhub:hl7v2:codesystem:"

// codingSystems maps table 0396 names (upper case) to FHIR URIs
// (terminology.hl7.org's external code system list).
var codingSystems = map[string]string{
	"LN":        "http://loinc.org",
	"LOINC":     "http://loinc.org",
	"SCT":       "http://snomed.info/sct",
	"SNOMED":    "http://snomed.info/sct",
	"SNOMEDCT":  "http://snomed.info/sct",
	"I10":       "http://hl7.org/fhir/sid/icd-10",
	"ICD10":     "http://hl7.org/fhir/sid/icd-10",
	"ICD-10":    "http://hl7.org/fhir/sid/icd-10",
	"I10C":      "http://hl7.org/fhir/sid/icd-10-cm",
	"ICD10CM":   "http://hl7.org/fhir/sid/icd-10-cm",
	"I10P":      "http://www.cms.gov/Medicare/Coding/ICD10",
	"ICD10PCS":  "http://www.cms.gov/Medicare/Coding/ICD10",
	"I9":        "http://hl7.org/fhir/sid/icd-9-cm",
	"I9C":       "http://hl7.org/fhir/sid/icd-9-cm",
	"ICD9":      "http://hl7.org/fhir/sid/icd-9-cm",
	"C4":        "http://www.ama-assn.org/go/cpt",
	"CPT":       "http://www.ama-assn.org/go/cpt",
	"CPT4":      "http://www.ama-assn.org/go/cpt",
	"RXNORM":    "http://www.nlm.nih.gov/research/umls/rxnorm",
	"RXN":       "http://www.nlm.nih.gov/research/umls/rxnorm",
	"NDC":       "http://hl7.org/fhir/sid/ndc",
	"CVX":       "http://hl7.org/fhir/sid/cvx",
	"MVX":       "http://hl7.org/fhir/sid/mvx",
	"UCUM":      "http://unitsofmeasure.org",
	"ISO+":      "http://unitsofmeasure.org",
	"DCM":       "http://dicom.nema.org/resources/ontology/DCM",
	"RADLEX":    "http://radlex.org",
	"ISO3166":   "urn:iso:std:iso:3166",
	"ISO3166-1": "urn:iso:std:iso:3166",
	"ISO6391":   "urn:ietf:bcp:47",
	"ISO639":    "urn:ietf:bcp:47",
	"ISO639-1":  "urn:ietf:bcp:47",
	"HGNC":      "http://www.genenames.org",
	"NUCC":      "http://nucc.org/provider-taxonomy",
}

// codingSystemURI returns the FHIR system of a table 0396 name, or of an
// HL7 table ("HL70001", "HL7-0001"), or "" for "". A name it does not know
// is kept under localCodeSystemPrefix.
func codingSystemURI(name string) string {
	name = strings.TrimSpace(name)
	if name == "" {
		return ""
	}
	u := strings.ToUpper(name)
	if s, ok := codingSystems[u]; ok {
		return s
	}
	if t, ok := strings.CutPrefix(u, "HL7"); ok {
		t = strings.TrimPrefix(t, "-")
		if len(t) == 4 && allDigits(t) {
			return v2Table(t)
		}
	}
	if strings.HasPrefix(u, "HTTP://") || strings.HasPrefix(u, "HTTPS://") || strings.HasPrefix(u, "URN:") {
		return name
	}
	if isOID(name) {
		return "urn:oid:" + name
	}
	return localCodeSystemPrefix + queryEscape(name)
}

// coding returns one Coding, nil when there is no code.
func coding(code, display, system, version, defaultSystem string) fhir.Object {
	code = codeText(code)
	if code == "" {
		return nil
	}
	c := fhir.Object{"code": code}
	sys := codingSystemURI(system)
	if sys == "" {
		sys = defaultSystem
	}
	if sys != "" {
		c["system"] = sys
	}
	if display != "" {
		c["display"] = display
	}
	if version != "" && sys != "" {
		c["version"] = version
	}
	return c
}

// codeText returns s as a FHIR code: trimmed, with no run of white space
// (R4 datatypes.html#code) and none of the characters cleanText drops, so
// that a code made only of those is no code rather than an element the
// Bundle's cleaning would empty.
func codeText(s string) string { return strings.Join(strings.Fields(cleanText(s)), " ") }

// codeableConcept maps a CWE to a CodeableConcept; nil when it holds
// nothing. defaultSystem is the system of a code sent without one (for a
// field bound to an HL7 table, that table: v2Table("0001")).
func codeableConcept(c hl7v2.CWE, defaultSystem string) fhir.Object {
	var codings []any
	if cd := coding(c.Identifier, c.Text, c.CodingSystem, c.CodingSystemVersion, defaultSystem); cd != nil {
		if cd["system"] == nil && c.CodingSystemOID != "" && isOID(c.CodingSystemOID) {
			cd["system"] = "urn:oid:" + c.CodingSystemOID
		}
		codings = append(codings, cd)
	}
	if cd := coding(c.AlternateIdentifier, c.AlternateText, c.AlternateCodingSystem, c.AlternateCodingSystemVersion, ""); cd != nil {
		codings = append(codings, cd)
	}
	if cd := coding(c.SecondAlternateIdentifier, c.SecondAlternateText, c.SecondAlternateCodingSystem, c.SecondAlternateCodingSystemVer, ""); cd != nil {
		codings = append(codings, cd)
	}
	out := fhir.Object{}
	if len(codings) > 0 {
		out["coding"] = codings
	}
	switch {
	case c.OriginalText != "":
		out["text"] = c.OriginalText
	case len(codings) == 0 && c.Text != "":
		out["text"] = c.Text
	case len(codings) == 0 && c.AlternateText != "":
		out["text"] = c.AlternateText
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// tableConcept returns a CodeableConcept of one code from HL7 table n,
// nil for "".
func tableConcept(code, table string) fhir.Object {
	if c := coding(code, "", "", "", v2Table(table)); c != nil {
		return fhir.Object{"coding": []any{c}}
	}
	return nil
}

// codeKey returns the identifying text of a coded value for a key: its
// code, else its text.
func codeKey(c hl7v2.CWE) string {
	if c.Identifier != "" {
		return c.Identifier
	}
	if c.AlternateIdentifier != "" {
		return c.AlternateIdentifier
	}
	return c.Text
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isOID reports whether s looks like an ISO object identifier (FHIR oid:
// digits and dots, starting with 0, 1 or 2).
func isOID(s string) bool {
	if len(s) < 3 || s[0] < '0' || s[0] > '2' || s[1] != '.' {
		return false
	}
	for _, part := range strings.Split(s, ".") {
		if !allDigits(part) || (len(part) > 1 && part[0] == '0') {
			return false
		}
	}
	return true
}
