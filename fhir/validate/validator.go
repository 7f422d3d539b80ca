package validate

import (
	"sync"

	"github.com/fhirhub/fhirhub/fhir"
)

// MaxIssues bounds the issues one call reports; validation stops there.
const MaxIssues = 100

// Validator checks resources against the FHIR R4 definitions. It holds
// only read-only tables and is safe for concurrent use. Make one with New;
// the zero Validator has no tables.
type Validator struct {
	t *tables
}

var (
	loadOnce   sync.Once
	loaded     *tables
	loadFailed error
)

// New returns a Validator. The first call in a process unpacks the embedded
// tables (some 30 ms, 2.5 MB of heap); later calls are free and share them. It
// panics if the embedded tables are corrupt, which the tests rule out.
func New() *Validator {
	loadOnce.Do(func() { loaded, loadFailed = loadTables(r4defs) })
	if loadFailed != nil {
		panic(loadFailed)
	}
	return &Validator{t: loaded}
}

// IsResourceType reports whether name is a concrete FHIR R4 resource type.
func (v *Validator) IsResourceType(name string) bool {
	td := v.t.types[name]
	return td != nil && td.kind == kindResource
}

// ResourceTypes returns the FHIR R4 resource types, sorted (a new slice).
func (v *Validator) ResourceTypes() []string {
	return append([]string(nil), v.t.resources...)
}

// ElementOrder returns the JSON property names of typeName's elements in
// the order of the definition, choice elements expanded in the order of
// their types (valueQuantity, valueCodeableConcept, ...), without
// resourceType and the _element properties of primitive extensions.
// typeName is a resource or data type, or a BackboneElement's path
// (Observation.component). It returns nil for an unknown name; callers
// must not modify the slice, which is shared.
func (v *Validator) ElementOrder(typeName string) []string {
	if td := v.t.types[typeName]; td != nil {
		return td.order
	}
	return nil
}

// IsSummary reports whether the JSON property name of type typeName is
// a summary element (ElementDefinition.isSummary), kept by _summary=true.
// resourceType and id are always kept.
func (v *Validator) IsSummary(typeName, name string) bool {
	if name == "resourceType" || name == "id" {
		return true
	}
	if td := v.t.types[typeName]; td != nil {
		return td.summary[name]
	}
	return false
}

// Resource validates obj, a resource as parsed by fhir.ParseObject (numbers
// as json.Number; float64 is accepted too). It returns nil, or a *fhir.Error
// describing the first issue, ordered by path, with every further issue (up
// to MaxIssues in all) in More. Codes: "structure" (missing or unknown
// resourceType, unknown element, wrong JSON kind, array vs single value,
// empty object or array, null, several members of a choice), "required"
// (an element below its minimum cardinality), "value" (a primitive of the
// wrong format, an empty string), "code-invalid" (a code outside a required
// binding) and "invalid" (a reference to a type the element does not
// allow). Expression holds the FHIRPath of the issue, such as
// Patient.name[0].given[1] or Bundle.entry[2].resource.birthDate.
//
// It costs a few microseconds for a typical resource and allocates only
// when it finds issues.
func (v *Validator) Resource(obj fhir.Object) error {
	w := walkers.Get().(*walker)
	defer func() {
		*w = walker{path: w.path[:0]} // keep the path stack, drop the rest
		walkers.Put(w)
	}()
	w.v = v
	rt, ok := obj["resourceType"]
	if !ok {
		w.reportAt("resourceType", fhir.IssueStructure, "the resource has no resourceType")
		return w.result()
	}
	name, ok := rt.(string)
	if !ok || !v.IsResourceType(name) {
		w.reportAt("resourceType", fhir.IssueStructure, "resourceType "+quote(rt)+" is not a FHIR R4 resource type")
		return w.result()
	}
	w.root = name
	w.object(obj, v.t.types[name], true)
	return w.result()
}

// walkers reuse path stacks, so that validating a valid resource does not
// allocate.
var walkers = sync.Pool{New: func() any { return &walker{path: make([]seg, 0, 32)} }}
