package validate

import (
	"encoding/json"
	"strconv"

	"github.com/fhirhub/fhirhub/fhir"
)

// walker validates one resource, keeping the path to the value at hand as
// a stack of segments that is rendered only when an issue is reported.
type walker struct {
	v      *Validator
	root   string
	path   []seg
	issues []fhir.Issue
}

// seg is one step of a FHIRPath: .name, or .name[index] when index >= 0.
type seg struct {
	name  string
	index int
}

func (w *walker) push(name string) { w.path = append(w.path, seg{name: name, index: -1}) }
func (w *walker) pop()             { w.path = w.path[:len(w.path)-1] }
func (w *walker) at(i int)         { w.path[len(w.path)-1].index = i }
func (w *walker) full() bool       { return len(w.issues) >= MaxIssues }

// object checks the properties of obj against td. In a resource the
// resourceType property has been checked by the caller.
func (w *walker) object(obj map[string]any, td *typeDef, isResource bool) {
	if len(obj) == 0 {
		w.report(fhir.IssueStructure, "an object must not be empty")
		return
	}
	// Bit g of choices is set when a member of choice group g is present,
	// of conflicts when a second one is.
	var choices, conflicts uint64
	for k, val := range obj {
		if w.full() {
			return
		}
		if isResource && k == "resourceType" {
			continue
		}
		if len(k) > 1 && k[0] == '_' {
			ed := td.elems[k[1:]]
			if ed == nil || ed.typ == nil || ed.typ.kind != kindPrimitive {
				w.unknown(k)
				continue
			}
			if ed.choice >= 0 {
				if _, hasValue := obj[ed.name]; !hasValue {
					choose(ed, &choices, &conflicts)
				}
			}
			w.primitiveExtension(obj, ed, val)
			continue
		}
		ed := td.elems[k]
		if ed == nil {
			w.unknown(k)
			continue
		}
		if ed.choice >= 0 {
			choose(ed, &choices, &conflicts)
		}
		w.element(obj, ed, val)
	}
	if conflicts != 0 {
		for g, name := range td.choices {
			if conflicts&(1<<g) != 0 {
				w.reportAt(name, fhir.IssueStructure, "more than one value for the choice element "+name+"[x]")
			}
		}
	}
	for _, ed := range td.required {
		if _, ok := obj[ed.name]; ok {
			continue
		}
		if _, ok := obj[ed.ext]; ok {
			continue // a primitive with extensions only, such as data-absent-reason
		}
		w.reportAt(ed.name, fhir.IssueRequired, "missing required element "+strconv.Quote(ed.name))
	}
	if missing := td.requiredChoices &^ choices; missing != 0 {
		for g, name := range td.choices {
			if missing&(1<<g) != 0 {
				w.reportAt(name, fhir.IssueRequired, "missing required element "+name+"[x]")
			}
		}
	}
}

// choose records that a member of ed's choice group is present.
func choose(ed *elemDef, choices, conflicts *uint64) {
	bit := uint64(1) << ed.choice
	if *choices&bit != 0 {
		*conflicts |= bit
	}
	*choices |= bit
}

func (w *walker) unknown(k string) {
	w.reportAt(k, fhir.IssueStructure, "unknown element "+strconv.Quote(k))
}

// element checks the value of one property: an array when the element
// repeats, a single value otherwise.
func (w *walker) element(obj map[string]any, ed *elemDef, val any) {
	w.push(ed.name)
	defer w.pop()
	if val == nil {
		w.report(fhir.IssueStructure, "null is not allowed here")
		return
	}
	if !ed.many {
		if _, isArray := val.([]any); isArray {
			w.report(fhir.IssueStructure, "expected a single value, found an array")
			return
		}
		w.value(ed, val)
		return
	}
	arr, ok := val.([]any)
	if !ok {
		w.report(fhir.IssueStructure, "expected an array, found "+kindOf(val))
		return
	}
	if len(arr) == 0 {
		w.report(fhir.IssueStructure, "an array must not be empty")
		return
	}
	// A null stands for a value that only has extensions, in the paired
	// _element array (json.html#primitive).
	primitive := ed.typ != nil && ed.typ.kind == kindPrimitive
	var ext []any
	if primitive {
		ext, _ = obj[ed.ext].([]any)
	}
	for i, item := range arr {
		w.at(i)
		if item == nil {
			switch {
			case !primitive:
				w.report(fhir.IssueStructure, "null is not allowed here")
			case i >= len(ext) || ext[i] == nil:
				w.report(fhir.IssueStructure, "null is allowed only where "+ed.ext+" has an entry")
			}
			continue
		}
		w.value(ed, item)
		if w.full() {
			return
		}
	}
}

// value checks one value of ed (an array item or the single value).
func (w *walker) value(ed *elemDef, val any) {
	if val == nil {
		w.report(fhir.IssueStructure, "null is not allowed here")
		return
	}
	if ed.resource {
		w.resource(val)
		return
	}
	td := ed.typ
	if td.kind == kindPrimitive {
		s, ok := w.primitive(td, val)
		if ok && ed.binding != nil && !ed.binding.hasCode(s) {
			w.report(fhir.IssueCodeInvalid, "code "+quote(s)+" is not in the required value set "+ed.binding.url)
		}
		return
	}
	obj, ok := val.(map[string]any)
	if !ok {
		w.report(fhir.IssueStructure, "expected a JSON object, found "+kindOf(val))
		return
	}
	w.object(obj, td, false)
	if ed.targets != nil {
		w.referenceTarget(obj, ed)
	}
	if ed.binding != nil {
		w.binding(obj, td, ed.binding)
	}
}

// resource checks a contained or inlined resource, of the type its
// resourceType names.
func (w *walker) resource(val any) {
	obj, ok := val.(map[string]any)
	if !ok {
		w.report(fhir.IssueStructure, "expected a resource (a JSON object), found "+kindOf(val))
		return
	}
	rt, ok := obj["resourceType"]
	if !ok {
		w.reportAt("resourceType", fhir.IssueStructure, "the resource has no resourceType")
		return
	}
	name, _ := rt.(string)
	td := w.v.t.types[name]
	if td == nil || td.kind != kindResource {
		w.reportAt("resourceType", fhir.IssueStructure, "resourceType "+quote(rt)+" is not a FHIR R4 resource type")
		return
	}
	w.object(obj, td, true)
}

// primitive checks the JSON kind and format of a primitive value and
// returns it as text.
func (w *walker) primitive(td *typeDef, val any) (string, bool) {
	var s string
	switch td.json {
	case jsonString:
		str, ok := val.(string)
		if !ok {
			w.report(fhir.IssueStructure, "expected a JSON string for "+td.name+", found "+kindOf(val))
			return "", false
		}
		if str == "" {
			w.report(fhir.IssueValue, "an empty string is not a valid "+td.name)
			return "", false
		}
		s = str
	case jsonNumber:
		switch n := val.(type) {
		case json.Number:
			s = string(n)
		case float64:
			s = strconv.FormatFloat(n, 'f', -1, 64)
		case int:
			s = strconv.Itoa(n)
		case int64:
			s = strconv.FormatInt(n, 10)
		default:
			w.report(fhir.IssueStructure, "expected a JSON number for "+td.name+", found "+kindOf(val))
			return "", false
		}
	case jsonBool:
		if _, ok := val.(bool); !ok {
			w.report(fhir.IssueStructure, "expected a JSON boolean, found "+kindOf(val))
			return "", false
		}
		return "", true
	}
	if msg := td.check(s); msg != "" {
		w.report(fhir.IssueValue, "invalid "+td.name+" "+quote(s)+": "+msg)
		return s, false
	}
	return s, true
}

// primitiveExtension checks _element: an object with id and extension, or
// for a repeating element an array of them aligned with the values, null
// where a value has no id or extension (json.html#primitive).
func (w *walker) primitiveExtension(obj map[string]any, ed *elemDef, val any) {
	w.push(ed.name)
	defer w.pop()
	if !ed.many {
		o, ok := val.(map[string]any)
		if !ok {
			w.report(fhir.IssueStructure, "expected a JSON object for "+ed.ext+", found "+kindOf(val))
			return
		}
		w.object(o, ed.typ, false)
		return
	}
	arr, ok := val.([]any)
	if !ok {
		w.report(fhir.IssueStructure, "expected an array for "+ed.ext+", found "+kindOf(val))
		return
	}
	if len(arr) == 0 {
		w.report(fhir.IssueStructure, "an array must not be empty")
		return
	}
	values, hasValues := obj[ed.name].([]any)
	if hasValues && len(values) != len(arr) {
		w.report(fhir.IssueStructure, ed.ext+" has "+strconv.Itoa(len(arr))+" entries for "+strconv.Itoa(len(values))+" values")
		return
	}
	for i, item := range arr {
		w.at(i)
		if item == nil {
			// Both null at one index is reported with the values.
			if !hasValues {
				w.report(fhir.IssueStructure, "null in "+ed.ext+" is allowed only for a value that is present")
			}
			continue
		}
		o, ok := item.(map[string]any)
		if !ok {
			w.report(fhir.IssueStructure, "expected a JSON object or null in "+ed.ext+", found "+kindOf(item))
			continue
		}
		w.object(o, ed.typ, false)
		if w.full() {
			return
		}
	}
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64, int, int64:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "an unsupported value"
}
