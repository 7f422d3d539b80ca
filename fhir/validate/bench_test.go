package validate_test

import (
	"os"
	"testing"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/fhir/googlefhir"
	"github.com/fhirhub/fhirhub/fhir/validate"
)

// The benchmarks pair this package with google/fhir on the same bytes, so
// that one run gives both figures: a 2 KB blood pressure Observation and a
// 3.5 KB Patient, both from Synthea.

func BenchmarkValidateObservation(b *testing.B)   { benchValidate(b, "testdata/observation.json") }
func BenchmarkGoogleFHIRObservation(b *testing.B) { benchGoogle(b, "testdata/observation.json") }
func BenchmarkValidatePatient(b *testing.B)       { benchValidate(b, "testdata/patient.json") }
func BenchmarkGoogleFHIRPatient(b *testing.B)     { benchGoogle(b, "testdata/patient.json") }

// BenchmarkResourceObservation is the validator alone, without parsing.
func BenchmarkResourceObservation(b *testing.B) {
	data := mustRead(b, "testdata/observation.json")
	v := validate.New()
	obj, err := fhir.ParseObject(data)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := v.Resource(obj); err != nil {
			b.Fatal(err)
		}
	}
}

// benchValidate parses with fhir.ParseObject and validates, the work of
// the write path.
func benchValidate(b *testing.B, path string) {
	data := mustRead(b, path)
	v := validate.New()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		obj, err := fhir.ParseObject(data)
		if err != nil {
			b.Fatal(err)
		}
		if err := v.Resource(obj); err != nil {
			b.Fatal(err)
		}
	}
}

// benchGoogle unmarshals and validates with google/fhir.
func benchGoogle(b *testing.B, path string) {
	data := mustRead(b, path)
	if err := googlefhir.Validate(data); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := googlefhir.Validate(data); err != nil {
			b.Fatal(err)
		}
	}
}

func mustRead(tb testing.TB, path string) []byte {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}
