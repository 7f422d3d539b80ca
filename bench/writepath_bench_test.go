package bench

import (
	"os"
	"testing"
	"time"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/fhir/googlefhir"
	"github.com/fhirhub/fhirhub/fhir/search"
	"github.com/fhirhub/fhirhub/fhir/validate"
)

// BenchmarkWritePathCPU measures, on one core, what the server does to a
// typical 2 KB Observation before it reaches the database: parse, validate,
// extract index values, set meta and encode the canonical JSON. Beside it,
// google/fhir's unmarshal and validation of the same bytes (the reference,
// which alone exceeds the budget). Target: under 150 us.
func BenchmarkWritePathCPU(b *testing.B) {
	data, err := os.ReadFile("../fhir/search/testdata/observation.json")
	if err != nil {
		b.Fatal(err)
	}
	v := validate.New()
	reg := search.Default()
	now := time.Now()
	run := func() {
		obj, err := fhir.ParseObject(data)
		if err != nil {
			b.Fatal(err)
		}
		if err := v.Resource(obj); err != nil {
			b.Fatal(err)
		}
		if _, err := reg.Extract(obj); err != nil {
			b.Fatal(err)
		}
		fhir.SetMeta(obj, "1", now)
		_ = fhir.MarshalJSON(obj)
	}
	run()
	if err := googlefhir.Validate(data); err != nil {
		b.Fatal(err)
	}
	var ours, google time.Duration
	b.Run("fhirhub", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			run()
		}
		ours = b.Elapsed() / time.Duration(b.N)
	})
	b.Run("google-fhir", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			_ = googlefhir.Validate(data)
		}
		google = b.Elapsed() / time.Duration(b.N)
	})
	report("write path CPU for a %d-byte Observation: %s per resource (target < 150us); google/fhir unmarshal+validate alone: %s (%.1fx)",
		len(data), ours, google, float64(google)/float64(ours))
}
