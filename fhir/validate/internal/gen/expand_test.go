package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// terminology is a small bundle of code systems and value sets exercising
// every form of compose the generator expands or refuses.
const terminology = `{"resourceType":"Bundle","entry":[
 {"resource":{"resourceType":"CodeSystem","url":"http://x/cs","content":"complete","concept":[
   {"code":"a","concept":[{"code":"a1","concept":[{"code":"a11"}]},{"code":"a2"}]},{"code":"b"}]}},
 {"resource":{"resourceType":"CodeSystem","url":"http://x/frag","content":"fragment","concept":[{"code":"f"}]}},
 {"resource":{"resourceType":"ValueSet","url":"http://x/all","compose":{"include":[{"system":"http://x/cs"}]}}},
 {"resource":{"resourceType":"ValueSet","url":"http://x/listed","compose":{"include":[{"system":"http://y/other","concept":[{"code":"p"},{"code":"q"}]}]}}},
 {"resource":{"resourceType":"ValueSet","url":"http://x/isa","compose":{"include":[{"system":"http://x/cs","filter":[{"property":"concept","op":"is-a","value":"a1"}]}]}}},
 {"resource":{"resourceType":"ValueSet","url":"http://x/desc","compose":{"include":[{"system":"http://x/cs","filter":[{"property":"concept","op":"descendent-of","value":"a"}]}]}}},
 {"resource":{"resourceType":"ValueSet","url":"http://x/union","compose":{"include":[{"valueSet":["http://x/listed|4.0.1"]},{"system":"http://x/cs","concept":[{"code":"b"}]}]}}},
 {"resource":{"resourceType":"ValueSet","url":"http://x/intersect","compose":{"include":[{"system":"http://x/cs","valueSet":["http://x/desc"]}]}}},
 {"resource":{"resourceType":"ValueSet","url":"http://x/exclude","compose":{"include":[{"system":"http://x/cs"}],"exclude":[{"system":"http://x/cs","concept":[{"code":"a"},{"code":"b"}]}]}}},
 {"resource":{"resourceType":"ValueSet","url":"http://x/external","compose":{"include":[{"system":"urn:ietf:bcp:13"}]}}},
 {"resource":{"resourceType":"ValueSet","url":"http://x/fragment","compose":{"include":[{"system":"http://x/frag"}]}}},
 {"resource":{"resourceType":"ValueSet","url":"http://x/regex","compose":{"include":[{"system":"http://x/cs","filter":[{"property":"code","op":"regex","value":"a.*"}]}]}}},
 {"resource":{"resourceType":"ValueSet","url":"http://x/loop","compose":{"include":[{"valueSet":["http://x/loop"]}]}}}
]}`

func TestExpand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "terminology.json")
	require.NoError(t, os.WriteFile(path, []byte(terminology), 0o644))
	g := newGenerator()
	require.NoError(t, g.readTerminology(path))

	codes := func(url string) []string {
		x := g.expand(url, nil)
		require.Empty(t, x.err, url)
		var out []string
		for system, cs := range x.codes {
			for c := range cs {
				out = append(out, system+"|"+c)
			}
		}
		sort.Strings(out)
		return out
	}
	cs := func(codes ...string) []string {
		for i, c := range codes {
			codes[i] = "http://x/cs|" + c
		}
		return codes
	}
	assert.Equal(t, cs("a", "a1", "a11", "a2", "b"), codes("http://x/all"))
	assert.Equal(t, []string{"http://y/other|p", "http://y/other|q"}, codes("http://x/listed"))
	assert.Equal(t, cs("a1", "a11"), codes("http://x/isa"))
	assert.Equal(t, cs("a1", "a11", "a2"), codes("http://x/desc"))
	assert.Equal(t, append(cs("b"), "http://y/other|p", "http://y/other|q"), codes("http://x/union"))
	assert.Equal(t, cs("a1", "a11", "a2"), codes("http://x/intersect"))
	assert.Equal(t, cs("a1", "a11", "a2"), codes("http://x/exclude"))

	for url, why := range map[string]string{
		"http://x/external": "code system urn:ietf:bcp:13 not in the definitions",
		"http://x/fragment": `code system http://x/frag has content "fragment"`,
		"http://x/regex":    "filter code regex on http://x/cs",
		"http://x/loop":     "included http://x/loop: value set includes itself",
		"http://x/missing":  "value set not in the definitions",
	} {
		assert.Equal(t, why, g.expand(url, nil).err, url)
	}
}

// TestTypesOf checks the flattening of a snapshot: backbone elements as
// types named by path, choices, content references, Resource.id as id,
// prohibited elements left out.
func TestTypesOf(t *testing.T) {
	var sd structureDefinition
	require.NoError(t, json.Unmarshal([]byte(`{"resourceType":"StructureDefinition","id":"Thing","kind":"resource","snapshot":{"element":[
	 {"path":"Thing","min":0,"max":"*"},
	 {"path":"Thing.id","min":0,"max":"1","type":[{"code":"http://hl7.org/fhirpath/System.String","extension":[{"url":"http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type","valueUrl":"string"}]}]},
	 {"path":"Thing.value[x]","min":1,"max":"1","type":[{"code":"string"},{"code":"Reference","targetProfile":["http://hl7.org/fhir/StructureDefinition/Thing"]}]},
	 {"path":"Thing.part","min":0,"max":"*","type":[{"code":"BackboneElement"}]},
	 {"path":"Thing.part.status","min":1,"max":"1","type":[{"code":"code"}],"binding":{"strength":"required","valueSet":"http://x/none|4.0.1"}},
	 {"path":"Thing.part.gone","min":0,"max":"0","type":[{"code":"string"}]},
	 {"path":"Thing.part.part","min":0,"max":"*","contentReference":"#Thing.part"}
	]}}`), &sd))
	g := newGenerator()
	types, err := g.typesOf(&sd, map[string]bool{"Thing": true}, map[string]bool{})
	require.NoError(t, err)
	require.Len(t, types, 2)
	assert.Equal(t, genType{Name: "Thing", Kind: "resource", Elements: []genElement{
		{Name: "id", Types: []string{"id"}, Max: 1},
		{Name: "value", Choice: true, Types: []string{"string", "Reference"}, Min: 1, Max: 1, Targets: []string{"Thing"}},
		{Name: "part", Types: []string{"Thing.part"}, Max: -1},
	}}, types[0])
	assert.Equal(t, genType{Name: "Thing.part", Kind: "backbone", Elements: []genElement{
		{Name: "status", Types: []string{"code"}, Min: 1, Max: 1},
		{Name: "part", Types: []string{"Thing.part"}, Max: -1},
	}}, types[1])
	assert.Equal(t, []string{"Thing.part.status (http://x/none): value set not in the definitions"}, g.skipped)
}
