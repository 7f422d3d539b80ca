package validate

import (
	"github.com/fhirhub/fhirhub/fhir"
)

// binding checks a Coding, CodeableConcept or Quantity against the value
// set of a required binding (terminologies.html#required): a Coding's
// system and code must be in it, a CodeableConcept needs at least one such
// coding, and a Quantity's system and code are checked like a Coding's.
// Codes on code elements are checked in value.
func (w *walker) binding(obj map[string]any, td *typeDef, vs *valueSet) {
	switch td.name {
	case "Coding", "Quantity", "SimpleQuantity", "MoneyQuantity":
		code, _ := obj["code"].(string)
		if code == "" {
			return // nothing coded: a Coding with display or extensions only
		}
		system, _ := obj["system"].(string)
		if !vs.hasCoding(system, code) {
			w.report(fhir.IssueCodeInvalid, "code "+quote(code)+" of system "+quote(system)+" is not in the required value set "+vs.url)
		}
	case "CodeableConcept":
		codings, _ := obj["coding"].([]any)
		for _, c := range codings {
			if c, ok := c.(map[string]any); ok {
				code, _ := c["code"].(string)
				system, _ := c["system"].(string)
				if code != "" && vs.hasCoding(system, code) {
					return
				}
			}
		}
		w.report(fhir.IssueCodeInvalid, "no coding is in the required value set "+vs.url)
	}
}
