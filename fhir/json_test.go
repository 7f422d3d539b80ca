package fhir_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/fhir"
)

func TestParseJSONStrict(t *testing.T) {
	cases := []struct {
		name string
		in   string
		ok   bool
	}{
		{"object", `{"a":1,"b":[true,false,null],"c":{"d":"e"}}`, true},
		{"whitespace", " \n\t{ \"a\" : 1 }\r\n", true},
		{"duplicate key", `{"a":1,"a":2}`, false},
		{"nested duplicate key", `{"a":{"b":1,"b":1}}`, false},
		{"trailing data", `{"a":1} x`, false},
		{"trailing comma", `{"a":1,}`, false},
		{"leading zero", `{"a":01}`, false},
		{"bare dot", `{"a":1.}`, false},
		{"bad escape", `{"a":"\q"}`, false},
		{"control char", "{\"a\":\"x\x01y\"}", false},
		{"invalid utf8", "{\"a\":\"\xff\"}", false},
		{"unterminated", `{"a":"b`, false},
		{"surrogate pair", `{"a":"\ud83d\ude00"}`, true},
		{"lone surrogate", `{"a":"\ud83d"}`, false},
		{"empty", ``, false},
		{"too deep", string(make([]byte, 0)) + repeat("[", 300) + repeat("]", 300), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fhir.ParseJSON([]byte(tc.in))
			if tc.ok {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, fhir.IssueStructure, fhir.ErrorCode(err))
		})
	}
}

func repeat(s string, n int) string {
	out := ""
	for i := 0; i < n; i++ {
		out += s
	}
	return out
}

func TestParseJSONKeepsNumbersAndMatchesEncodingJSON(t *testing.T) {
	in := `{"resourceType":"Observation","valueQuantity":{"value":1.50,"unit":"mg"},"n":-0.0e+10,"big":12345678901234567890,"s":"caf\u00e9 \"q\" \\ \/ \n"}`
	v, err := fhir.ParseObject([]byte(in))
	require.NoError(t, err)
	assert.Equal(t, json.Number("1.50"), v["valueQuantity"].(map[string]any)["value"])
	assert.Equal(t, json.Number("12345678901234567890"), v["big"])
	var ref map[string]any
	dec := json.NewDecoder(stringReader(in))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&ref))
	assert.Equal(t, ref, map[string]any(v))
}

func TestMarshalJSONCanonical(t *testing.T) {
	in := `{"gender":"female","_birthDate":{"extension":[{"url":"u","valueString":"x"}]},"birthDate":"1970","meta":{"versionId":"1"},"id":"a","resourceType":"Patient","text":"<div>&</div>\u2028","v":1.50}`
	v, err := fhir.ParseObject([]byte(in))
	require.NoError(t, err)
	out := fhir.MarshalJSON(v)
	assert.Equal(t, `{"resourceType":"Patient","id":"a","meta":{"versionId":"1"},"birthDate":"1970","_birthDate":{"extension":[{"url":"u","valueString":"x"}]},"gender":"female","text":"<div>&</div>\u2028","v":1.50}`, string(out))
	again, err := fhir.ParseObject(out)
	require.NoError(t, err)
	assert.Equal(t, out, fhir.MarshalJSON(again), "encoding is stable")
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":[1,2,{"b":null}]}`, `"x"`, `[1.5e3,-0]`, `{"a":"\u00e9\ud83d\ude00"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := fhir.ParseJSON(data)
		if err != nil {
			return
		}
		// Whatever parses encodes to JSON that parses to the same value.
		out := fhir.MarshalJSON(v)
		w, err := fhir.ParseJSON(out)
		if err != nil {
			t.Fatalf("re-parse of %q: %v", out, err)
		}
		if string(fhir.MarshalJSON(w)) != string(out) {
			t.Fatalf("unstable encoding of %q", data)
		}
		// encoding/json agrees that it is valid JSON.
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
	})
}
