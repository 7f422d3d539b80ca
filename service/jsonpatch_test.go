package service_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/service"
)

// Cases from RFC 6902 appendix A and error cases.
func TestApplyJSONPatch(t *testing.T) {
	cases := []struct {
		name, doc, patch, want string
		fails                  bool
	}{
		{"add member", `{"foo":"bar"}`, `[{"op":"add","path":"/baz","value":"qux"}]`, `{"baz":"qux","foo":"bar"}`, false},
		{"add array element", `{"foo":["bar","baz"]}`, `[{"op":"add","path":"/foo/1","value":"qux"}]`, `{"foo":["bar","qux","baz"]}`, false},
		{"append", `{"foo":["bar"]}`, `[{"op":"add","path":"/foo/-","value":"x"}]`, `{"foo":["bar","x"]}`, false},
		{"remove member", `{"baz":"qux","foo":"bar"}`, `[{"op":"remove","path":"/baz"}]`, `{"foo":"bar"}`, false},
		{"remove element", `{"foo":["bar","qux","baz"]}`, `[{"op":"remove","path":"/foo/1"}]`, `{"foo":["bar","baz"]}`, false},
		{"replace", `{"baz":"qux","foo":"bar"}`, `[{"op":"replace","path":"/baz","value":"boo"}]`, `{"baz":"boo","foo":"bar"}`, false},
		{"move", `{"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}}`, `[{"op":"move","from":"/foo/waldo","path":"/qux/thud"}]`, `{"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}`, false},
		{"move element", `{"foo":["all","grass","cows","eat"]}`, `[{"op":"move","from":"/foo/1","path":"/foo/3"}]`, `{"foo":["all","cows","eat","grass"]}`, false},
		{"copy", `{"a":{"b":1}}`, `[{"op":"copy","from":"/a","path":"/c"}]`, `{"a":{"b":1},"c":{"b":1}}`, false},
		{"test ok", `{"baz":"qux","foo":["a",2,"c"]}`, `[{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}]`, `{"baz":"qux","foo":["a",2,"c"]}`, false},
		{"escaped pointer", `{"a/b":1,"m~n":2}`, `[{"op":"replace","path":"/a~1b","value":3},{"op":"remove","path":"/m~0n"}]`, `{"a/b":3}`, false},
		{"decimal kept", `{"v":1}`, `[{"op":"replace","path":"/v","value":1.50}]`, `{"v":1.50}`, false},
		{"test fails", `{"baz":"qux"}`, `[{"op":"test","path":"/baz","value":"bar"}]`, ``, true},
		{"missing target", `{"foo":"bar"}`, `[{"op":"remove","path":"/nope"}]`, ``, true},
		{"replace missing", `{"foo":"bar"}`, `[{"op":"replace","path":"/nope","value":1}]`, ``, true},
		{"index out of range", `{"foo":[1]}`, `[{"op":"add","path":"/foo/5","value":2}]`, ``, true},
		{"leading zero index", `{"foo":[1,2]}`, `[{"op":"remove","path":"/foo/01"}]`, ``, true},
		{"unknown op", `{}`, `[{"op":"frobnicate","path":"/a"}]`, ``, true},
		{"not an array", `{}`, `{"op":"add"}`, ``, true},
		{"move into child", `{"a":{"b":{}}}`, `[{"op":"move","from":"/a","path":"/a/b/c"}]`, ``, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := fhir.ParseJSON([]byte(tc.doc))
			require.NoError(t, err)
			out, err := service.ApplyJSONPatch(doc, []byte(tc.patch))
			if tc.fails {
				require.Error(t, err)
				assert.NotNil(t, fhir.AsError(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(fhir.MarshalJSON(out)))
		})
	}
}

func FuzzApplyJSONPatch(f *testing.F) {
	f.Add([]byte(`{"a":[1,{"b":2}]}`), []byte(`[{"op":"move","from":"/a/1","path":"/a/0"}]`))
	f.Add([]byte(`{"a":1}`), []byte(`[{"op":"copy","from":"","path":"/b"}]`))
	f.Fuzz(func(t *testing.T, doc, patch []byte) {
		d, err := fhir.ParseJSON(doc)
		if err != nil {
			return
		}
		_, _ = service.ApplyJSONPatch(d, patch) // must not panic
	})
}
