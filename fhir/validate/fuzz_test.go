package validate_test

import (
	"reflect"
	"testing"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/fhir/validate"
)

// FuzzValidate parses and validates arbitrary bytes: it must never panic,
// every error must be a *fhir.Error with at most MaxIssues issues that each
// carry a path, and validating twice must give the same error. Crashers
// found are kept in testdata/fuzz/FuzzValidate.
func FuzzValidate(f *testing.F) {
	for _, path := range []string{"testdata/observation.json", "testdata/patient.json"} {
		f.Add(mustRead(f, path))
	}
	for _, s := range []string{
		`{"resourceType":"Patient","name":[{"given":["a",null],"_given":[null,{"id":"x"}]}]}`,
		`{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1e3}}}]}`,
		`{"resourceType":"Parameters","parameter":[{"name":"p","resource":{"resourceType":"Patient","contained":[{"resourceType":"Patient"}]}}]}`,
		`{"resourceType":"Questionnaire","status":"draft","item":[{"linkId":"1","type":"group","item":[{"linkId":"2","type":"string"}]}]}`,
		`{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueString":"a","_valueBoolean":{}}`,
		`{"resourceType":"Patient","birthDate":"2020-02-30","_birthDate":[null]}`,
	} {
		f.Add([]byte(s))
	}
	v := validate.New()
	f.Fuzz(func(t *testing.T, data []byte) {
		obj, err := fhir.ParseObject(data)
		if err != nil {
			return
		}
		err = v.Resource(obj)
		if err == nil {
			return
		}
		fe, ok := err.(*fhir.Error)
		if !ok {
			t.Fatalf("error of type %T: %v", err, err)
		}
		issues := fe.Issues()
		if len(issues) > validate.MaxIssues {
			t.Fatalf("%d issues", len(issues))
		}
		for _, is := range issues {
			if len(is.Expression) != 1 || is.Expression[0] == "" || is.Diagnostics == "" || is.Code == "" {
				t.Fatalf("issue without path, message or code: %+v", is)
			}
		}
		if again := v.Resource(obj); !reflect.DeepEqual(err, again) {
			t.Fatalf("validating twice differs:\n%v\n%v", fe.Issues(), fhir.AsError(again).Issues())
		}
	})
}
