package validate

import (
	"encoding/json"
	"sort"

	"github.com/fhirhub/fhirhub/fhir"
)

// A mutation breaks one valid resource in one way that both this package
// and google/fhir must reject, and says where this package must report it.
type mutation struct {
	name string
	code fhir.IssueType
	// apply changes obj in place and returns the path of the expected issue,
	// or false when obj has nothing to break this way. seed chooses among
	// the places and ways to break it, so that the sweep covers many.
	apply func(v *Validator, obj map[string]any, seed int) (path string, ok bool)
}

var mutations = []mutation{
	{"drop-required", fhir.IssueRequired, func(v *Validator, obj map[string]any, seed int) (string, bool) {
		// Not the only property of its object, which would leave an empty
		// object, a different issue.
		s, ok := pickSite(v, obj, seed, func(s site) bool {
			return s.ed.min > 0 && s.ed.choice < 0 && s.index <= 0 && len(s.parent) > 1
		})
		if !ok {
			return "", false
		}
		delete(s.parent, s.ed.name)
		delete(s.parent, s.ed.ext)
		return s.elemPath, true
	}},
	{"unknown-element", fhir.IssueStructure, func(v *Validator, obj map[string]any, seed int) (string, bool) {
		// Into the resource or any object in it.
		s, ok := pickSite(v, obj, seed, func(s site) bool {
			_, isObject := s.value().(map[string]any)
			return isObject && !s.ed.resource
		})
		if !ok || seed%2 == 0 {
			obj["fhirhubUnknown"] = "x"
			return fhir.ResourceType(obj) + ".fhirhubUnknown", true
		}
		s.value().(map[string]any)["fhirhubUnknown"] = "x"
		return s.path + ".fhirhubUnknown", true
	}},
	{"invalid-date", fhir.IssueValue, func(v *Validator, obj map[string]any, seed int) (string, bool) {
		s, ok := pickSite(v, obj, seed, func(s site) bool {
			switch s.ed.typ.name {
			case "date", "dateTime", "instant":
				_, isString := s.value().(string)
				return isString
			}
			return false
		})
		if !ok {
			return "", false
		}
		bad := map[string][]string{
			"date":     {"2021-02-30", "2021-13", "21-01-01", "2021-01-01T10:00:00Z"},
			"dateTime": {"2021-02-29", "2021-01-01T10:00", "2021-01-01T10:00:00", "2021-01-01T25:00:00Z"},
			"instant":  {"2021-02-30T10:00:00Z", "2021-01-01T10:00:00", "2021-01-01", "2021-01-01T10:00Z"},
		}[s.ed.typ.name]
		s.set(bad[seed%len(bad)])
		return s.path, true
	}},
	{"code-outside-binding", fhir.IssueCodeInvalid, func(v *Validator, obj map[string]any, seed int) (string, bool) {
		s, ok := pickSite(v, obj, seed, func(s site) bool {
			_, isString := s.value().(string)
			return s.ed.binding != nil && s.ed.typ.name == "code" && isString
		})
		if !ok {
			return "", false
		}
		s.set("fhirhub-not-a-code")
		return s.path, true
	}},
	{"reference-target", fhir.IssueInvalid, func(v *Validator, obj map[string]any, seed int) (string, bool) {
		s, ok := pickSite(v, obj, seed, func(s site) bool {
			_, isObject := s.value().(map[string]any)
			return s.ed.targets != nil && isObject
		})
		if !ok {
			return "", false
		}
		var wrong []string
		for _, rt := range v.ResourceTypes() {
			if !s.ed.targets[rt] {
				wrong = append(wrong, rt)
			}
		}
		ref := wrong[seed%len(wrong)] + "/fhirhub-1"
		if seed%3 == 0 {
			ref += "/_history/2"
		}
		s.value().(map[string]any)["reference"] = ref
		return s.path + ".reference", true
	}},
	{"json-kind", fhir.IssueStructure, func(v *Validator, obj map[string]any, seed int) (string, bool) {
		switch seed % 3 {
		case 0: // a number for a string
			s, ok := pickSite(v, obj, seed, func(s site) bool {
				_, isString := s.value().(string)
				return s.ed.typ.kind == kindPrimitive && s.ed.typ.json == jsonString && isString
			})
			if !ok {
				return "", false
			}
			s.set(json.Number("42"))
			return s.path, true
		case 1: // an array for a single object
			s, ok := pickSite(v, obj, seed, func(s site) bool {
				_, isObject := s.value().(map[string]any)
				return isObject && !s.ed.many && !s.ed.resource
			})
			if !ok {
				return "", false
			}
			s.set([]any{s.value()})
			return s.path, true
		default: // a single object for an array
			s, ok := pickSite(v, obj, seed, func(s site) bool {
				_, isObject := s.value().(map[string]any)
				return isObject && s.ed.many && s.index == 0 && !s.ed.resource
			})
			if !ok {
				return "", false
			}
			s.parent[s.ed.name] = s.value()
			return s.elemPath, true
		}
	}},
}

// site is one value inside a resource.
type site struct {
	parent   map[string]any
	ed       *elemDef
	index    int    // position in the array, or -1
	path     string // FHIRPath of the value
	elemPath string // FHIRPath of the element (without the index)
}

func (s site) value() any {
	if s.index < 0 {
		return s.parent[s.ed.name]
	}
	return s.parent[s.ed.name].([]any)[s.index]
}

func (s site) set(val any) {
	if s.index < 0 {
		s.parent[s.ed.name] = val
		return
	}
	s.parent[s.ed.name].([]any)[s.index] = val
}

// pickSite returns one of the values of a valid resource for which pred
// holds, the seed-th (modulo their number) depth first in the order of the
// property names.
func pickSite(v *Validator, obj map[string]any, seed int, pred func(site) bool) (site, bool) {
	rt := fhir.ResourceType(obj)
	var sites []site
	findIn(v, obj, v.t.types[rt], rt, func(s site) bool {
		if pred(s) {
			sites = append(sites, s)
		}
		return false
	})
	if len(sites) == 0 {
		return site{}, false
	}
	return sites[seed%len(sites)], true
}

func findIn(v *Validator, obj map[string]any, td *typeDef, path string, pred func(site) bool) (site, bool) {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ed := td.elems[k]
		if ed == nil {
			continue // resourceType, _element
		}
		elemPath := path + "." + k
		visit := func(val any, index int, p string) (site, bool) {
			s := site{parent: obj, ed: ed, index: index, path: p, elemPath: elemPath}
			if !ed.resource && pred(s) {
				return s, true
			}
			child, ok := val.(map[string]any)
			if !ok {
				return site{}, false
			}
			if ed.resource {
				return findIn(v, child, v.t.types[fhir.ResourceType(child)], p, pred)
			}
			if ed.typ.kind != kindPrimitive {
				return findIn(v, child, ed.typ, p, pred)
			}
			return site{}, false
		}
		if arr, ok := obj[k].([]any); ok {
			for i, item := range arr {
				if s, ok := visit(item, i, elemPath+"["+itoa(i)+"]"); ok {
					return s, true
				}
			}
			continue
		}
		if s, ok := visit(obj[k], -1, elemPath); ok {
			return s, true
		}
	}
	return site{}, false
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
