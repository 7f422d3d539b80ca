package validate

import (
	"strings"

	"github.com/fhirhub/fhirhub/fhir"
)

// referenceTarget checks Reference.reference against the target profiles
// of ed (references.html#literal). Only a relative reference Type/id or
// Type/id/_history/vid to a known resource type is checked: local
// references (#id), absolute URLs and URNs (urn:uuid:, urn:oid:) may point
// anywhere, and other relative URLs are not references to FHIR resources
// this server can type.
func (w *walker) referenceTarget(obj map[string]any, ed *elemDef) {
	ref, _ := obj["reference"].(string)
	typ, ok := w.v.relativeReferenceType(ref)
	if !ok || ed.targets[typ] {
		return
	}
	w.push("reference")
	w.report(fhir.IssueInvalid, "refers to a "+typ+"; "+ed.name+" may refer to "+ed.allowed)
	w.pop()
}

// relativeReferenceType returns Type of a relative reference Type/id or
// Type/id/_history/vid whose Type is a resource type and id a valid id.
func (v *Validator) relativeReferenceType(ref string) (string, bool) {
	if ref == "" || ref[0] == '#' || strings.IndexByte(ref, ':') >= 0 {
		return "", false
	}
	typ, rest, ok := strings.Cut(ref, "/")
	if !ok || !v.IsResourceType(typ) {
		return "", false
	}
	id, rest, hasVersion := strings.Cut(rest, "/")
	if id == "" || checkID(id) != "" {
		return "", false
	}
	if hasVersion {
		vid, ok := strings.CutPrefix(rest, "_history/")
		if !ok || vid == "" || checkID(vid) != "" {
			return "", false
		}
	}
	return typ, true
}
