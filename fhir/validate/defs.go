package validate

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
)

// The generated tables, as written by internal/gen.

type genData struct {
	FHIRVersion string        `json:"fhirVersion"`
	Types       []genType     `json:"types"`
	ValueSets   []genValueSet `json:"valueSets"`
}

type genType struct {
	Name     string       `json:"name"`
	Kind     string       `json:"kind"`
	JSON     string       `json:"json"`
	Regex    string       `json:"regex"`
	Elements []genElement `json:"elements"`
}

type genElement struct {
	Name    string   `json:"name"`
	Choice  bool     `json:"choice"`
	Types   []string `json:"types"`
	Min     int      `json:"min"`
	Max     int      `json:"max"`
	Targets []string `json:"targets"`
	Binding string   `json:"binding"`
	Summary bool     `json:"summary"`
}

type genValueSet struct {
	URL     string `json:"url"`
	Systems []struct {
		System string   `json:"system"`
		Codes  []string `json:"codes"`
	} `json:"systems"`
}

type kind uint8

const (
	kindPrimitive kind = iota + 1
	kindComplex
	kindResource
	kindBackbone
)

// jsonKind is the JSON type a primitive is written as (json.html#primitive).
type jsonKind uint8

const (
	jsonString jsonKind = iota + 1
	jsonNumber
	jsonBool
)

// typeDef is a data type, a resource type, or a BackboneElement named by
// its path (Observation.referenceRange).
type typeDef struct {
	name  string
	kind  kind
	elems map[string]*elemDef // by JSON property name, choices expanded
	order []string
	// summary holds the JSON names of the elements in _summary=true.
	summary map[string]bool
	// required are the elements with min >= 1 that are not choices.
	required []*elemDef
	// choices names the choice elements by group (value[x] -> "value"),
	// and requiredChoices has bit g set when group g has min >= 1.
	choices         []string
	requiredChoices uint64

	// For primitives.
	json  jsonKind
	check func(string) string // "" when valid, else what is wrong
	regex *regexp.Regexp      // the regex of the specification, for tests
}

// elemDef is one JSON property of a type.
type elemDef struct {
	name string // JSON property name: valueQuantity
	ext  string // its primitive extension property: _valueQuantity
	typ  *typeDef
	// resource is set when the element holds any resource (type Resource),
	// whose type its resourceType names.
	resource bool
	many     bool
	min      int
	choice   int // group index, or -1
	// targets are the resource types a Reference may point to; nil means any.
	targets map[string]bool
	allowed string // the targets, for messages: "Patient, Group, Device or Location"
	binding *valueSet
}

// valueSet is the expansion of a value set of a required binding.
type valueSet struct {
	url      string
	codes    map[string]bool            // any system
	bySystem map[string]map[string]bool // system -> code
}

func (vs *valueSet) hasCode(code string) bool { return vs.codes[code] }

func (vs *valueSet) hasCoding(system, code string) bool {
	if system == "" {
		return vs.codes[code]
	}
	return vs.bySystem[system][code]
}

// tables is everything New loads.
type tables struct {
	types     map[string]*typeDef
	resources []string
}

func loadTables(gz []byte) (*tables, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("validate: tables: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("validate: tables: %w", err)
	}
	var data genData
	if err := json.Unmarshal(raw, &data); err != nil {
		return nil, fmt.Errorf("validate: tables: %w", err)
	}
	return buildTables(&data)
}

func buildTables(data *genData) (*tables, error) {
	valueSets := make(map[string]*valueSet, len(data.ValueSets))
	for _, g := range data.ValueSets {
		vs := &valueSet{url: g.URL, codes: map[string]bool{}, bySystem: map[string]map[string]bool{}}
		for _, s := range g.Systems {
			m := make(map[string]bool, len(s.Codes))
			for _, c := range s.Codes {
				m[c] = true
				vs.codes[c] = true
			}
			vs.bySystem[s.System] = m
		}
		valueSets[g.URL] = vs
	}

	t := &tables{types: make(map[string]*typeDef, len(data.Types))}
	for _, g := range data.Types {
		td := &typeDef{name: g.Name}
		switch g.Kind {
		case "primitive":
			td.kind = kindPrimitive
			if err := setPrimitive(td, g); err != nil {
				return nil, err
			}
		case "complex":
			td.kind = kindComplex
		case "resource":
			td.kind = kindResource
			t.resources = append(t.resources, g.Name)
		case "backbone":
			td.kind = kindBackbone
		default:
			return nil, fmt.Errorf("validate: tables: %s: kind %q", g.Name, g.Kind)
		}
		t.types[g.Name] = td
	}
	sort.Strings(t.resources)

	for _, g := range data.Types {
		td := t.types[g.Name]
		td.elems = make(map[string]*elemDef, len(g.Elements)+4)
		for _, ge := range g.Elements {
			group := -1
			if ge.Choice {
				group = len(td.choices)
				if group >= 64 {
					return nil, fmt.Errorf("validate: tables: %s: too many choice elements", g.Name)
				}
				td.choices = append(td.choices, ge.Name)
				if ge.Min > 0 {
					td.requiredChoices |= 1 << group
				}
			}
			for _, code := range ge.Types {
				ed := &elemDef{name: ge.Name, many: ge.Max != 1, min: ge.Min, choice: group}
				if ge.Choice {
					ed.name = ge.Name + upperFirst(code)
					if code == "SimpleQuantity" || code == "MoneyQuantity" {
						ed.name = ge.Name + "Quantity"
					}
				}
				ed.ext = "_" + ed.name
				if code == "Resource" {
					ed.resource = true
				} else if ed.typ = t.types[code]; ed.typ == nil {
					return nil, fmt.Errorf("validate: tables: %s.%s: unknown type %s", g.Name, ge.Name, code)
				}
				if code == "Reference" && len(ge.Targets) > 0 {
					ed.targets = make(map[string]bool, len(ge.Targets))
					for _, r := range ge.Targets {
						ed.targets[r] = true
					}
					ed.allowed = strings.Join(ge.Targets, ", ")
					if n := len(ge.Targets); n > 1 {
						ed.allowed = strings.Join(ge.Targets[:n-1], ", ") + " or " + ge.Targets[n-1]
					}
				}
				if ge.Binding != "" {
					if ed.binding = valueSets[ge.Binding]; ed.binding == nil {
						return nil, fmt.Errorf("validate: tables: %s.%s: unknown value set %s", g.Name, ge.Name, ge.Binding)
					}
				}
				if _, dup := td.elems[ed.name]; dup {
					return nil, fmt.Errorf("validate: tables: %s.%s: duplicate", g.Name, ed.name)
				}
				td.elems[ed.name] = ed
				td.order = append(td.order, ed.name)
				if ge.Summary {
					if td.summary == nil {
						td.summary = map[string]bool{}
					}
					td.summary[ed.name] = true
				}
				if ge.Min > 0 && !ge.Choice {
					td.required = append(td.required, ed)
				}
			}
		}
	}
	return t, nil
}

func setPrimitive(td *typeDef, g genType) error {
	switch g.JSON {
	case "string":
		td.json = jsonString
	case "number":
		td.json = jsonNumber
	case "boolean":
		td.json = jsonBool
	default:
		return fmt.Errorf("validate: tables: %s: JSON kind %q", g.Name, g.JSON)
	}
	if g.Regex != "" {
		re, err := regexp.Compile(`^(?:` + g.Regex + `)$`)
		if err != nil {
			return fmt.Errorf("validate: tables: %s: %w", g.Name, err)
		}
		td.regex = re
	}
	td.check = primitiveChecks[g.Name]
	if td.check == nil {
		// A primitive without a hand-written check uses the regex of the
		// specification.
		re := td.regex
		if re == nil {
			return fmt.Errorf("validate: tables: %s: no check and no regex", g.Name)
		}
		name := g.Name
		td.check = func(s string) string {
			if re.MatchString(s) {
				return ""
			}
			return "not a valid " + name
		}
	}
	return nil
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
