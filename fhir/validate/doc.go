// Package validate checks FHIR R4 resources in their JSON form against the
// definitions of the specification: the JSON representation rules of
// json.html, the data types and primitive formats of datatypes.html, and
// the element definitions (cardinality, types, choice elements, reference
// targets, required bindings, content references) of elementdefinition.html,
// as given by the StructureDefinition snapshots of every resource and data
// type of R4 4.0.1.
//
// What is checked: resourceType (present, a known resource type, also in
// contained resources, Bundle.entry.resource and Parameters.parameter.resource);
// unknown properties; the JSON kind of every value; arrays where the maximum
// cardinality is above one and single values elsewhere; minimum cardinality;
// empty objects, arrays and strings and nulls (nulls are allowed only in a
// primitive array paired with its _element array); primitive formats
// (date, dateTime, instant, time, decimal, integer ranges, id, code, uri,
// oid, uuid, base64Binary, string characters ...); at most one (or exactly
// one, when required) member of a choice element; primitive extensions
// (_element objects and arrays aligned with their values); relative
// references Type/id whose type the element's target profiles do not
// allow; codes outside a required binding whose value set can be expanded
// from the definitions (on code, Coding and CodeableConcept elements).
//
// What is not checked: FHIRPath invariants (constraints such as ele-1,
// dom-2 or ref-1), profiles and slicing, bindings other than required ones,
// required bindings whose value set needs an external code system (MIME
// types, languages, UCUM, currencies; listed in defs_gen.go), the
// contents of xhtml narrative, and whether references resolve.
//
// The tables are generated from the official definitions by internal/gen
// (go generate) and embedded; New loads them once per process.
package validate

//go:generate go run ./internal/gen -defs ${FHIR_DEFINITIONS} -out .
