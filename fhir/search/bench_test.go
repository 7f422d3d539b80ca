package search

import (
	"os"
	"testing"

	"github.com/gofhir/fhirpath"
	"github.com/gofhir/fhirpath/eval"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/fhir"
)

// MustReadObject parses a JSON resource from testdata.
func MustReadObject(tb testing.TB, name string) fhir.Object {
	tb.Helper()
	data, err := os.ReadFile("testdata/" + name)
	require.NoError(tb, err)
	obj, err := fhir.ParseObject(data)
	require.NoError(tb, err)
	return obj
}

// BenchmarkExtractObservation extracts every index value of a 2.3 KB
// (compact JSON) blood-pressure Observation: all 44 indexed Observation
// parameters, including 8 composites. Compare BenchmarkFHIRPathObservation.
func BenchmarkExtractObservation(b *testing.B) {
	obj := MustReadObject(b, "observation.json")
	reg := Default()
	b.ReportAllocs()
	b.SetBytes(int64(len(fhir.MarshalJSON(obj))))
	for b.Loop() {
		if _, err := reg.Extract(obj); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFHIRPathObservation is the baseline: the FHIRPath engine
// github.com/gofhir/fhirpath evaluating the same expressions (each
// parameter's expression, and each composite component as
// "(base).select(component)") on the same Observation, selection only,
// without conversion to index values.
func BenchmarkFHIRPathObservation(b *testing.B) {
	obj := MustReadObject(b, "observation.json")
	data := fhir.MarshalJSON(obj)
	snap := Default().snap.Load()
	var exprs []*fhirpath.Expression
	for _, bp := range snap.types["Observation"].bound {
		exprs = append(exprs, fhirpath.MustCompile(bp.p.Expression))
		for _, c := range bp.p.Components {
			exprs = append(exprs, fhirpath.MustCompile("("+bp.p.Expression+").select("+c.Expression+")"))
		}
	}
	res := typeResolver{snap.m}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	b.ReportMetric(float64(len(exprs)), "exprs")
	for b.Loop() {
		for _, e := range exprs {
			ctx := eval.NewContext(data)
			ctx.SetResolver(res)
			if _, err := e.EvaluateWithContext(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkDefault measures building the R4 registry (what Default's first
// call costs).
func BenchmarkDefault(b *testing.B) {
	for b.Loop() {
		if _, err := buildR4(); err != nil {
			b.Fatal(err)
		}
	}
}
