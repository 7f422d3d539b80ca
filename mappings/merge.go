package mappings

import "github.com/fhirhub/fhirhub/fhir"

// This file expresses HL7 v2 update semantics (HL7 v2.5.1 section 2.5.3:
// a field not sent leaves the receiver's value as it is, the null "" tells
// it to delete its value) as JSON Patch (RFC 6902) for the PATCH entries
// of a Bundle (FHIR R4 http.html#patch): "add" sets an element whether it
// exists or not, and a cleared element is first added (with null) and then
// removed, because "remove" of an absent member fails the whole patch and
// the mapping cannot know what the stored resource holds.

// change is what a message says about one top-level element of a
// resource: a value to set, or clear to delete it. The zero change says
// nothing.
type change struct {
	path  string // JSON Pointer: "/name"
	value any
	clear bool
}

// changes is an ordered list of changes to one resource.
type changes []change

// set records value at path unless it is nil or empty.
func (c *changes) set(path string, value any) {
	if isEmpty(value) {
		return
	}
	*c = append(*c, change{path: path, value: value})
}

// setOrClear records value at path, or a deletion when null is true (the
// field was sent as ""); nothing when the value is empty and not null.
func (c *changes) setOrClear(path string, value any, null bool) {
	if null {
		*c = append(*c, change{path: path, clear: true})
		return
	}
	c.set(path, value)
}

// apply writes the values into res, the content of a new resource.
func (c changes) apply(res fhir.Object) {
	for _, ch := range c {
		if !ch.clear {
			res[ch.path[1:]] = ch.value
		}
	}
}

// ops returns the JSON Patch operations of the changes.
func (c changes) ops() []any {
	var out []any
	for _, ch := range c {
		if ch.clear {
			out = append(out, opAdd(ch.path, nil), fhir.Object{"op": "remove", "path": ch.path})
			continue
		}
		out = append(out, opAdd(ch.path, ch.value))
	}
	return out
}

// opAdd returns a JSON Patch "add" operation.
func opAdd(path string, value any) fhir.Object {
	return fhir.Object{"op": "add", "path": path, "value": value}
}

// isEmpty reports whether v holds nothing worth writing.
func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case fhir.Object:
		return len(x) == 0
	}
	return false
}
