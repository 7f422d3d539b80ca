package googlefhir

import (
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	apb "github.com/google/fhir/go/proto/google/fhir/proto/annotations_go_proto"
	rpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
)

var (
	resourcesOnce sync.Once
	resources     map[string]protoreflect.MessageDescriptor
)

// resourceMessage returns the proto message of an R4 resource type, or nil.
func resourceMessage(name string) protoreflect.MessageDescriptor {
	resourcesOnce.Do(func() {
		resources = map[string]protoreflect.MessageDescriptor{}
		od := (&rpb.ContainedResource{}).ProtoReflect().Descriptor().Oneofs().ByName("oneof_resource")
		for i := 0; i < od.Fields().Len(); i++ {
			md := od.Fields().Get(i).Message()
			resources[string(md.Name())] = md
		}
	})
	return resources[name]
}

// normalizePath rewrites a path of the library into the FHIRPath form of
// fhir/validate. Parsing errors name JSON properties (valueQuantity,
// _given); validation errors name proto fields, where a choice element is
// a field holding one field per type (value.quantity), and a contained or
// inlined resource adds a segment with its type
// (Bundle.entry[0].resource.Patient.birthDate) or the name of its field in
// the ContainedResource proto (Bundle.entry[0].resource.patient.birthDate). The path is followed
// through the proto messages to join choices into valueQuantity and drop
// the type segments; where it cannot be followed the rest is kept as it is.
func normalizePath(path string) string {
	segs := strings.Split(path, ".")
	md := resourceMessage(segs[0])
	out := segs[:1:1]
	for i := 1; i < len(segs); i++ {
		name, index := splitIndex(segs[i])
		if name == "" {
			continue
		}
		if c := name[0]; c >= 'A' && c <= 'Z' {
			if r := resourceMessage(name); r != nil {
				md = r
				continue
			}
		}
		name = strings.TrimPrefix(name, "_")
		if md == nil {
			out = append(out, name+index)
			continue
		}
		f, member := field(md, name)
		if f != nil && md.Name() == "ContainedResource" {
			// The validation pass names the resource's field of the
			// ContainedResource oneof (resource.observation.code).
			md = f.Message()
			continue
		}
		switch {
		case f == nil:
			md = nil
		case member != nil:
			md = member.Message() // a JSON name: valueQuantity
		case isChoice(f.Message()) && i+1 < len(segs):
			mname, mindex := splitIndex(segs[i+1])
			if cf := f.Message().Fields().ByJSONName(strings.TrimPrefix(mname, "_")); cf != nil {
				name += strings.ToUpper(cf.JSONName()[:1]) + cf.JSONName()[1:]
				index = mindex
				md = cf.Message()
				i++
			} else {
				md = nil
			}
		default:
			md = f.Message()
		}
		out = append(out, name+index)
	}
	return strings.Join(out, ".")
}

// field finds the field of md named by a JSON name; for a choice member's
// JSON name (valueQuantity) it returns the choice field and the member.
func field(md protoreflect.MessageDescriptor, name string) (f, member protoreflect.FieldDescriptor) {
	if f := md.Fields().ByJSONName(name); f != nil {
		return f, nil
	}
	fs := md.Fields()
	for i := 0; i < fs.Len(); i++ {
		f := fs.Get(i)
		if !isChoice(f.Message()) || !strings.HasPrefix(name, f.JSONName()) {
			continue
		}
		rest := name[len(f.JSONName()):]
		if rest == "" {
			continue
		}
		if m := f.Message().Fields().ByJSONName(strings.ToLower(rest[:1]) + rest[1:]); m != nil {
			return f, m
		}
	}
	return nil, nil
}

func isChoice(md protoreflect.MessageDescriptor) bool {
	return md != nil && proto.HasExtension(md.Options(), apb.E_IsChoiceType)
}

func splitIndex(seg string) (name, index string) {
	if i := strings.IndexByte(seg, '['); i >= 0 {
		return seg[:i], seg[i:]
	}
	return seg, ""
}
