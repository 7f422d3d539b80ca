package search

import (
	"fmt"
	"sort"
	"strings"
)

// The type model: the elements of every R4 resource, backbone element and
// datatype, and the type of each element. Expressions are compiled against
// it, so that a path's datatype is known before any resource is seen
// (choice elements such as Observation.value[x] are resolved per JSON key).

type typeKind uint8

const (
	kindPrimitive typeKind = iota
	kindComplex
	kindResource
	kindBackbone
	kindAny  // statically unknown; the runtime value decides
	kindStub // a resolve() result: a resource type without content
)

type typeDef struct {
	name     string
	kind     typeKind
	abstract bool
	base     *typeDef
	elems    map[string]*elemDef
	// system is the FHIRPath System type a primitive maps to (String,
	// Boolean, Integer, Decimal, Date, DateTime, Time), "" otherwise.
	system string
}

// elemDef is an element of a type; a choice element (value[x]) has one
// alternative per allowed type, each with its own JSON key (valueQuantity).
type elemDef struct {
	name   string
	choice bool
	alts   []alt
}

type alt struct {
	key string
	t   *typeDef
}

// isA reports whether t is u or derives from it.
func (t *typeDef) isA(u *typeDef) bool {
	for x := t; x != nil; x = x.base {
		if x == u {
			return true
		}
	}
	return false
}

func (t *typeDef) String() string { return t.name }

type model struct {
	types     map[string]*typeDef
	resources []string // concrete resource types, sorted

	tString, tBoolean, tInteger, tDecimal, tDate, tDateTime, tTime *typeDef
	tResource, tDomainResource, tExtension, tReference             *typeDef
	tAny, tStub                                                    *typeDef
}

var systemOf = map[string]string{
	"string": "String", "code": "String", "id": "String", "markdown": "String",
	"uri": "String", "url": "String", "canonical": "String", "oid": "String",
	"uuid": "String", "base64Binary": "String", "xhtml": "String",
	"boolean": "Boolean",
	"integer": "Integer", "positiveInt": "Integer", "unsignedInt": "Integer",
	"decimal":  "Decimal",
	"date":     "Date",
	"dateTime": "DateTime", "instant": "DateTime",
	"time": "Time",
}

func newModel(types []dataType) (*model, error) {
	m := &model{types: make(map[string]*typeDef, len(types))}
	for _, dt := range types {
		t := &typeDef{name: dt.Name, abstract: dt.Abstract}
		switch dt.Kind {
		case "p":
			t.kind = kindPrimitive
			t.system = systemOf[dt.Name]
		case "c":
			t.kind = kindComplex
		case "r":
			t.kind = kindResource
		case "b":
			t.kind = kindBackbone
		default:
			return nil, fmt.Errorf("search: r4 data: type %s has kind %q", dt.Name, dt.Kind)
		}
		m.types[dt.Name] = t
	}
	for _, dt := range types {
		t := m.types[dt.Name]
		if dt.Base != "" {
			if t.base = m.types[dt.Base]; t.base == nil {
				return nil, fmt.Errorf("search: r4 data: base %s of %s unknown", dt.Base, dt.Name)
			}
		}
		t.elems = make(map[string]*elemDef, len(dt.Elements))
		for _, row := range dt.Elements {
			if len(row) < 2 {
				return nil, fmt.Errorf("search: r4 data: element of %s without type", dt.Name)
			}
			name := row[0]
			e := &elemDef{name: strings.TrimSuffix(name, "[x]")}
			e.choice = e.name != name
			for _, tn := range row[1:] {
				et := m.types[tn]
				if et == nil {
					return nil, fmt.Errorf("search: r4 data: %s.%s: type %s unknown", dt.Name, name, tn)
				}
				key := e.name
				if e.choice {
					key += strings.ToUpper(tn[:1]) + tn[1:]
				}
				e.alts = append(e.alts, alt{key: key, t: et})
			}
			t.elems[e.name] = e
		}
		if t.kind == kindResource && !t.abstract {
			m.resources = append(m.resources, t.name)
		}
	}
	sort.Strings(m.resources)
	get := func(name string) *typeDef {
		if m.types[name] == nil {
			panic("search: r4 data lacks type " + name)
		}
		return m.types[name]
	}
	m.tString, m.tBoolean, m.tInteger, m.tDecimal = get("string"), get("boolean"), get("integer"), get("decimal")
	m.tDate, m.tDateTime, m.tTime = get("date"), get("dateTime"), get("time")
	m.tResource, m.tDomainResource = get("Resource"), get("DomainResource")
	m.tExtension, m.tReference = get("Extension"), get("Reference")
	m.tAny = &typeDef{name: "(any)", kind: kindAny}
	m.tStub = &typeDef{name: "(resolved)", kind: kindStub}
	return m, nil
}

// resource returns the concrete resource type named name, or nil.
func (m *model) resource(name string) *typeDef {
	t := m.types[name]
	if t == nil || t.kind != kindResource || t.abstract {
		return nil
	}
	return t
}

// typeMatcher is a compiled FHIRPath type specifier (ofType, is, as).
type typeMatcher struct {
	name   string
	fhir   *typeDef // a FHIR type: matches it and its specialisations
	system string   // a System type: matches the primitives that map to it
}

func (tm typeMatcher) match(t *typeDef) bool {
	if tm.fhir != nil {
		return t.isA(tm.fhir)
	}
	return t.system != "" && t.system == tm.system
}

var systemTypeNames = map[string]bool{
	"String": true, "Boolean": true, "Integer": true, "Decimal": true,
	"Date": true, "DateTime": true, "Time": true,
}

// typeSpec resolves a type name as FHIRPath does: "FHIR.x" and "System.X"
// explicitly, an unqualified name in the FHIR model first, then as a
// System type.
func (m *model) typeSpec(name string) (typeMatcher, error) {
	ns, n, qualified := strings.Cut(name, ".")
	if !qualified {
		n, ns = ns, ""
	}
	if ns == "" || ns == "FHIR" {
		if t := m.types[n]; t != nil && t.kind != kindBackbone {
			return typeMatcher{name: n, fhir: t}, nil
		}
	}
	if ns == "" || ns == "System" {
		if systemTypeNames[n] {
			return typeMatcher{name: n, system: n}, nil
		}
		if n == "Quantity" {
			return typeMatcher{name: n, fhir: m.types["Quantity"]}, nil
		}
	}
	return typeMatcher{}, fmt.Errorf("unknown type %s", name)
}
