package postgres_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// BenchmarkSearch runs representative searches on the EXPLAIN data set
// (2,000 patients, 20,000 observations). The baseline, measured in the
// same run, is a read by id: one indexed row, one round trip.
func BenchmarkSearch(b *testing.B) {
	st := seedExplain(b)
	ctx := context.Background()
	b.Run("baseline/read", func(b *testing.B) {
		for b.Loop() {
			_, err := st.Read(ctx, "Patient", "p42")
			require.NoError(b, err)
		}
	})
	for _, s := range []struct{ name, typ, query string }{
		{"token", "Observation", "code=http://loinc.org|8480-6&_total=none"},
		{"token+total", "Observation", "code=http://loinc.org|8480-6"},
		{"string", "Patient", "name=mbeki&_total=none"},
		{"date-range", "Observation", "date=ge2020-01-01&date=lt2020-02-01&_total=none"},
		{"reference", "Observation", "subject=Patient/p42"},
		{"chain", "Observation", "subject:Patient.name=zulu&_total=none"},
		{"chain-2-levels", "Observation", "patient.organization.name=clinic 7&_total=none"},
		{"has", "Patient", "_has:Observation:patient:code=39156-5&_total=none"},
		{"include", "Observation", "subject=Patient/p42&_include=Observation:subject"},
		{"revinclude", "Patient", "_id=p42&_revinclude=Observation:subject"},
		{"sorted", "Patient", "name=smith&_sort=-birthdate&_total=none"},
		{"composite", "Observation", "code-value-quantity=http://loinc.org|8480-6$gt190&_total=none"},
	} {
		q := parse(b, s.typ, s.query)
		b.Run(s.name, func(b *testing.B) {
			for b.Loop() {
				_, err := st.Search(ctx, q)
				require.NoError(b, err)
			}
		})
	}
}
