package validate

import (
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	apb "github.com/google/fhir/go/proto/google/fhir/proto/annotations_go_proto"
	rpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
)

// tableDifferences are the places where the tables deliberately differ
// from google/fhir's R4 protos, each with the reason.
var tableDifferences = map[string]string{
	"Extension.valueMeta": "R4 lists Meta among the types of Extension.value[x] (extensibility.html); " +
		"google/fhir's Extension proto leaves it out",
}

// notCompared are google/fhir data type messages left out, with the reason.
var notCompared = map[string]string{
	"Reference":           "google/fhir holds one typed field per target type instead of reference",
	"Element":             "abstract: its elements are part of every type",
	"BackboneElement":     "abstract: its elements are part of every backbone element",
	"CodingWithFixedCode": "google/fhir's own message for profiled codings, no R4 type",
}

// TestTablesMatchGoogleFHIR holds the generated tables to google/fhir's
// protos, which are generated from the official R4 definitions: for every
// resource, data type and backbone element, the same JSON properties,
// arrays, required elements, reference targets and codes of required
// bindings on code elements. It is what keeps the generator's corrections
// of the medplum package (internal/gen/r4fixes.go) honest.
func TestTablesMatchGoogleFHIR(t *testing.T) {
	v := New()
	checked := map[string]bool{}
	var walk func(path string, md protoreflect.MessageDescriptor)
	walk = func(path string, md protoreflect.MessageDescriptor) {
		if checked[path] {
			return
		}
		checked[path] = true
		td := v.t.types[path]
		if !assert.NotNil(t, td, "%s: google/fhir has it, the tables do not", path) {
			return
		}
		seen := map[string]bool{}
		fs := md.Fields()
		for i := 0; i < fs.Len(); i++ {
			f := fs.Get(i)
			if f.Message() == nil {
				continue // the value of a primitive
			}
			if isChoiceMessage(f.Message()) {
				cf := f.Message().Fields()
				for j := 0; j < cf.Len(); j++ {
					c := cf.Get(j)
					name := f.JSONName() + strings.ToUpper(c.JSONName()[:1]) + c.JSONName()[1:]
					seen[name] = true
					compareField(t, td, name, f, c)
				}
				continue
			}
			seen[f.JSONName()] = true
			compareField(t, td, f.JSONName(), f, f)
			sub := f.Message()
			if _, nested := sub.Parent().(protoreflect.MessageDescriptor); nested && td.elems[f.JSONName()] != nil {
				if bt := td.elems[f.JSONName()].typ; bt != nil && bt.kind == kindBackbone {
					walk(bt.name, sub)
				}
			}
		}
		for _, name := range td.order {
			if !seen[name] && tableDifferences[path+"."+name] == "" {
				t.Errorf("%s.%s: in the tables, not in google/fhir", path, name)
			}
		}
	}

	od := (&rpb.ContainedResource{}).ProtoReflect().Descriptor().Oneofs().ByName("oneof_resource")
	var resources []string
	for i := 0; i < od.Fields().Len(); i++ {
		md := od.Fields().Get(i).Message()
		resources = append(resources, string(md.Name()))
		walk(string(md.Name()), md)
	}
	sort.Strings(resources)
	assert.Equal(t, resources, v.ResourceTypes())

	datatypes := 0
	protoregistry.GlobalFiles.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		if fd.Package() != "google.fhir.r4.core" || !strings.HasSuffix(fd.Path(), "/datatypes.proto") {
			return true
		}
		ms := fd.Messages()
		for i := 0; i < ms.Len(); i++ {
			md := ms.Get(i)
			url := proto.GetExtension(md.Options(), apb.E_FhirStructureDefinitionUrl).(string)
			name := url[strings.LastIndexByte(url, '/')+1:]
			if url == "" || notCompared[name] != "" {
				continue
			}
			datatypes++
			walk(name, md)
		}
		return true
	})
	require.Greater(t, datatypes, 50, "the R4 data types of google/fhir were not found")
	t.Logf("%d resource types, %d data types, %d types with backbone elements compared", len(resources), datatypes, len(checked))
}

func compareField(t *testing.T, td *typeDef, name string, f, member protoreflect.FieldDescriptor) {
	t.Helper()
	where := td.name + "." + name
	if tableDifferences[where] != "" {
		return
	}
	ed := td.elems[name]
	if ed == nil {
		t.Errorf("%s: in google/fhir, not in the tables", where)
		return
	}
	if f.IsList() != ed.many {
		t.Errorf("%s: google/fhir repeated %v, tables many %v", where, f.IsList(), ed.many)
	}
	required := proto.GetExtension(f.Options(), apb.E_ValidationRequirement).(apb.Requirement) == apb.Requirement_REQUIRED_BY_FHIR
	if ed.choice < 0 && required != (ed.min > 0) {
		t.Errorf("%s: google/fhir required %v, tables min %d", where, required, ed.min)
	}
	if ed.choice >= 0 && required != (td.requiredChoices&(1<<ed.choice) != 0) {
		t.Errorf("%s: google/fhir required %v, tables choice min differs", where, required)
	}
	if ed.typ != nil && ed.typ.name == "Reference" {
		refs := proto.GetExtension(member.Options(), apb.E_ValidReferenceType).([]string)
		if len(refs) == 1 && refs[0] == "Resource" {
			refs = nil
		}
		var ours []string
		for r := range ed.targets {
			ours = append(ours, r)
		}
		refs = dedupe(refs) // R4 lists Device twice in Media.device
		sort.Strings(ours)
		assert.Equal(t, refs, ours, "%s: reference targets", where)
	}
	if ed.typ != nil && ed.typ.name == "code" {
		codes := enumCodes(member.Message())
		switch {
		case codes == nil && ed.binding != nil:
			t.Errorf("%s: the tables bind %s, google/fhir has no enum", where, ed.binding.url)
		case codes != nil && ed.binding == nil:
			t.Errorf("%s: google/fhir has an enum, the tables no binding", where)
		case codes != nil:
			var ours []string
			for c := range ed.binding.codes {
				ours = append(ours, c)
			}
			sort.Strings(ours)
			assert.Equal(t, codes, ours, "%s: codes of %s", where, ed.binding.url)
		}
	}
}

func dedupe(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

func isChoiceMessage(md protoreflect.MessageDescriptor) bool {
	return md != nil && proto.HasExtension(md.Options(), apb.E_IsChoiceType)
}

// enumCodes returns the FHIR codes of a code message with an enum value,
// or nil for a plain code.
func enumCodes(md protoreflect.MessageDescriptor) []string {
	v := md.Fields().ByName("value")
	if v == nil || v.Enum() == nil {
		return nil
	}
	var out []string
	vals := v.Enum().Values()
	for i := 0; i < vals.Len(); i++ {
		ev := vals.Get(i)
		if ev.Number() == 0 {
			continue // INVALID_UNINITIALIZED
		}
		c := proto.GetExtension(ev.Options(), apb.E_FhirOriginalCode).(string)
		if c == "" {
			c = strings.ToLower(strings.ReplaceAll(string(ev.Name()), "_", "-"))
		}
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}
