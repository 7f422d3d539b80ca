package search

import (
	"strings"
)

// parseReference splits a Reference.reference string (R4
// references.html#literal) into the parts a reference index row holds:
//
//	"Patient/123", "Patient/123/_history/2" -> Type "Patient", ID "123" (version dropped)
//	"http://x/fhir/Patient/123"             -> URL as given (less any /_history/n), Type "Patient"
//	"urn:uuid:...", "urn:oid:..."           -> URL
//	"Patient?identifier=..." (conditional)  -> URL, Type "Patient"
//	"#p1" (contained), ""                   -> ok false: nothing to index
//
// typ is Reference.type; it supplies Type when the string does not.
func parseReference(m *model, ref, typ string) (r Reference, ok bool) {
	switch {
	case ref == "" || ref[0] == '#':
		return r, false
	case strings.HasPrefix(ref, "urn:"):
		r.URL = ref
	case isAbsolute(ref):
		r.URL = stripHistory(ref)
		if i := strings.LastIndexByte(r.URL, '/'); i > 0 {
			t := r.URL[strings.LastIndexByte(r.URL[:i], '/')+1 : i]
			if m.resource(t) != nil {
				r.Type = t
			}
		}
	default:
		if path, _, conditional := strings.Cut(ref, "?"); conditional {
			r.URL = ref
			if m.resource(path) != nil {
				r.Type = path
			}
			break
		}
		t, id, _ := strings.Cut(stripHistory(ref), "/")
		if m.resource(t) != nil && validID(id) {
			r.Type, r.ID = t, id
		} else {
			r.URL = ref
		}
	}
	if r.Type == "" && m.resource(typ) != nil {
		r.Type = typ
	}
	return r, true
}

// isAbsolute reports whether ref is an absolute URL ("://" before any
// query).
func isAbsolute(ref string) bool {
	if i := strings.IndexByte(ref, '?'); i >= 0 {
		ref = ref[:i]
	}
	return strings.Contains(ref, "://")
}

// stripHistory removes a trailing "/_history/<version>".
func stripHistory(ref string) string {
	if i := strings.LastIndex(ref, "/_history/"); i > 0 && strings.IndexByte(ref[i+len("/_history/"):], '/') < 0 {
		return ref[:i]
	}
	return ref
}

// splitCanonical splits "url|version" (R4 references.html#canonical).
func splitCanonical(s string) (url, version string) {
	url, version, _ = strings.Cut(s, "|")
	return url, version
}

// validID reports whether id is a FHIR id (R4 datatypes.html#id), as
// fhir.ValidID does, without a regular expression.
func validID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.':
		default:
			return false
		}
	}
	return true
}
