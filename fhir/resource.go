package fhir

import (
	"regexp"
	"time"
)

// ResourceType returns obj's resourceType, or "" when it has none.
func ResourceType(obj Object) string {
	s, _ := obj["resourceType"].(string)
	return s
}

// ResourceID returns obj's id, or "".
func ResourceID(obj Object) string {
	s, _ := obj["id"].(string)
	return s
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9\-\.]{1,64}$`)

// ValidID reports whether id is a valid FHIR id (R4 datatypes.html#id).
func ValidID(id string) bool { return idPattern.MatchString(id) }

// InstantFormat is the layout fhirhub writes instants in: UTC with
// millisecond precision, as FHIR instant requires at least seconds.
const InstantFormat = "2006-01-02T15:04:05.000Z07:00"

// FormatInstant returns t as a FHIR instant in UTC.
func FormatInstant(t time.Time) string { return t.UTC().Format(InstantFormat) }

// SetMeta sets meta.versionId and meta.lastUpdated on obj, keeping the rest
// of meta (profiles, tags, security labels, source).
func SetMeta(obj Object, versionID string, lastUpdated time.Time) {
	meta, _ := obj["meta"].(Object)
	if meta == nil {
		meta = Object{}
	}
	meta["versionId"] = versionID
	meta["lastUpdated"] = FormatInstant(lastUpdated)
	delete(meta, "_versionId")
	delete(meta, "_lastUpdated")
	obj["meta"] = meta
}

// Clone returns a deep copy of v.
func Clone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = Clone(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = Clone(e)
		}
		return a
	default:
		return v
	}
}
