package main

import (
	"fmt"
	"strings"
)

// typesOf returns the type sd defines and one type per BackboneElement (or
// Element with children) inside it, named by its path.
func (g *generator) typesOf(sd *structureDefinition, resources, usedValueSets map[string]bool) ([]genType, error) {
	elems := sd.Snapshot.Element
	if len(elems) == 0 {
		return nil, fmt.Errorf("no snapshot")
	}
	root := elems[0].Path
	name := sd.ID
	kind := map[string]string{"primitive-type": "primitive", "complex-type": "complex", "resource": "resource"}[sd.Kind]
	byPath := map[string]*genType{}
	order := []string{root}
	byPath[root] = &genType{Name: name, Kind: kind}
	// Paths of elements that have children are nested types.
	hasChildren := map[string]bool{}
	for _, e := range elems[1:] {
		if i := strings.LastIndexByte(e.Path, '.'); i > 0 {
			hasChildren[e.Path[:i]] = true
		}
	}
	for _, e := range elems[1:] {
		i := strings.LastIndexByte(e.Path, '.')
		parentPath, elemName := e.Path[:i], e.Path[i+1:]
		parent := byPath[parentPath]
		if parent == nil {
			return nil, fmt.Errorf("%s: parent %s not seen before", e.Path, parentPath)
		}
		if kind == "primitive" && parentPath == root && elemName == "value" {
			for _, t := range e.Type {
				for _, x := range t.Extension {
					if x.URL == extRegex {
						parent.Regex = x.ValueString
					}
				}
			}
			continue
		}
		ge := genElement{Name: elemName, Min: e.Min, Max: -1, Summary: e.IsSummary}
		if e.Max != "*" {
			if _, err := fmt.Sscan(e.Max, &ge.Max); err != nil {
				return nil, fmt.Errorf("%s: max %q", e.Path, e.Max)
			}
		}
		if ge.Max == 0 {
			continue // prohibited by a constraint (SimpleQuantity.comparator)
		}
		switch {
		case e.ContentReference != "":
			ge.Types = []string{typeName(sd, strings.TrimPrefix(e.ContentReference, "#"))}
		case hasChildren[e.Path]:
			ge.Types = []string{typeName(sd, e.Path)}
			byPath[e.Path] = &genType{Name: typeName(sd, e.Path), Kind: "backbone"}
			order = append(order, e.Path)
		default:
			for _, t := range e.Type {
				code := t.Code
				if strings.HasPrefix(code, systemType) {
					code = ""
					for _, x := range t.Extension {
						if x.URL == extFHIRType {
							code = x.ValueURL
						}
					}
					if code == "" && t.Code == systemType+"String" {
						code = "string" // xhtml.id
					}
					if code == "" {
						return nil, fmt.Errorf("%s: system type %s without fhir-type", e.Path, t.Code)
					}
					// Resource.id is typed System.String in the snapshots of
					// R4 4.0.1 but is an id (resource.html#id).
					if kind == "resource" && parentPath == root && elemName == "id" {
						code = "id"
					}
				}
				if code == "Quantity" {
					for _, p := range t.Profile {
						switch p {
						case sdPrefix + "SimpleQuantity":
							code = "SimpleQuantity"
						case sdPrefix + "MoneyQuantity":
							code = "MoneyQuantity"
						}
					}
				}
				ge.Types = append(ge.Types, code)
				if code == "Reference" {
					targets, err := targetsOf(t.TargetProfile, resources)
					if err != nil {
						return nil, fmt.Errorf("%s: %w", e.Path, err)
					}
					ge.Targets = targets
				}
			}
		}
		if len(ge.Types) == 0 {
			return nil, fmt.Errorf("%s: no type", e.Path)
		}
		if strings.HasSuffix(elemName, "[x]") {
			ge.Name = strings.TrimSuffix(elemName, "[x]")
			ge.Choice = true
		}
		if b := e.Binding; b != nil && b.Strength == "required" && bindable(ge.Types) {
			url, _, _ := strings.Cut(b.ValueSet, "|")
			if exp := g.expand(url, nil); exp.err != "" {
				g.skipped = append(g.skipped, fmt.Sprintf("%s (%s): %s", e.Path, url, exp.err))
			} else {
				ge.Binding = url
				usedValueSets[url] = true
			}
		}
		parent.Elements = append(parent.Elements, ge)
	}
	out := make([]genType, 0, len(order))
	for _, p := range order {
		out = append(out, *byPath[p])
	}
	if kind == "primitive" {
		out[0].JSON = primitiveJSON(name)
	}
	return out, nil
}

// typeName names the nested type at path: the path itself, whose first
// segment is the type defining it (Observation.referenceRange).
func typeName(sd *structureDefinition, path string) string {
	if i := strings.IndexByte(path, '.'); i > 0 {
		return sd.ID + path[i:]
	}
	return sd.ID
}

// targetsOf returns the resource types a Reference may point to, or nil
// when any resource will do.
func targetsOf(profiles []string, resources map[string]bool) ([]string, error) {
	var out []string
	for _, p := range profiles {
		if !strings.HasPrefix(p, sdPrefix) {
			// Targets outside FHIR (the medplum package adds its own
			// resource types to AuditEvent) are not R4.
			continue
		}
		name := strings.TrimPrefix(p, sdPrefix)
		if name == "Resource" || name == "DomainResource" {
			return nil, nil
		}
		if !resources[name] {
			return nil, fmt.Errorf("target profile %s is not a resource type", p)
		}
		out = append(out, name)
	}
	return out, nil
}

// bindable reports whether a required binding on an element of these types
// constrains codes that validate can check.
func bindable(types []string) bool {
	for _, t := range types {
		switch t {
		case "code", "Coding", "CodeableConcept", "Quantity", "SimpleQuantity":
			return true
		}
	}
	return false
}

func primitiveJSON(name string) string {
	switch name {
	case "boolean":
		return "boolean"
	case "integer", "decimal", "positiveInt", "unsignedInt":
		return "number"
	}
	return "string"
}
