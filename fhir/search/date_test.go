package search

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/fhir"
)

func TestParseDate(t *testing.T) {
	cases := []struct {
		in, lo, hi string
	}{
		{"2024", "2024-01-01T00:00:00Z", "2024-12-31T23:59:59.999999Z"},
		{"2024-02", "2024-02-01T00:00:00Z", "2024-02-29T23:59:59.999999Z"},
		{"2023-02", "2023-02-01T00:00:00Z", "2023-02-28T23:59:59.999999Z"},
		{"2024-12", "2024-12-01T00:00:00Z", "2024-12-31T23:59:59.999999Z"},
		{"2024-03-05", "2024-03-05T00:00:00Z", "2024-03-05T23:59:59.999999Z"},
		{"2024-03-05T10:30Z", "2024-03-05T10:30:00Z", "2024-03-05T10:30:59.999999Z"},
		{"2024-03-05T10:30", "2024-03-05T10:30:00Z", "2024-03-05T10:30:59.999999Z"},
		{"2024-03-05T10:30:15Z", "2024-03-05T10:30:15Z", "2024-03-05T10:30:15.999999Z"},
		{"2024-03-05T10:30:15", "2024-03-05T10:30:15Z", "2024-03-05T10:30:15.999999Z"},
		{"2024-03-05T10:30:15.2Z", "2024-03-05T10:30:15.2Z", "2024-03-05T10:30:15.299999Z"},
		{"2024-03-05T10:30:15.25Z", "2024-03-05T10:30:15.25Z", "2024-03-05T10:30:15.259999Z"},
		{"2024-03-05T10:30:15.123Z", "2024-03-05T10:30:15.123Z", "2024-03-05T10:30:15.123999Z"},
		{"2024-03-05T10:30:15.123456Z", "2024-03-05T10:30:15.123456Z", "2024-03-05T10:30:15.123456Z"},
		{"2024-03-05T10:30:15.1234567Z", "2024-03-05T10:30:15.123456Z", "2024-03-05T10:30:15.123456Z"},
		{"2024-03-05T10:30:15+01:00", "2024-03-05T09:30:15Z", "2024-03-05T09:30:15.999999Z"},
		{"2024-03-05T00:30:15+01:00", "2024-03-04T23:30:15Z", "2024-03-04T23:30:15.999999Z"},
		{"2024-03-05T10:30:15-05:30", "2024-03-05T16:00:15Z", "2024-03-05T16:00:15.999999Z"},
		{"2024-03-05T10:30:15+14:00", "2024-03-04T20:30:15Z", "2024-03-04T20:30:15.999999Z"},
		{"2024-03-05T10:30:15-00:00", "2024-03-05T10:30:15Z", "2024-03-05T10:30:15.999999Z"},
		{"2024-03-05T10:30:15.5+02:00", "2024-03-05T08:30:15.5Z", "2024-03-05T08:30:15.599999Z"},
		{"2016-12-31T23:59:60Z", "2016-12-31T23:59:59Z", "2016-12-31T23:59:59.999999Z"},
		{"0001", "0001-01-01T00:00:00Z", "0001-12-31T23:59:59.999999Z"},
		{"9999-12-31", "9999-12-31T00:00:00Z", "9999-12-31T23:59:59.999999Z"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			lo, hi, err := ParseDate(tc.in)
			require.NoError(t, err)
			assert.Equal(t, utc(tc.lo), lo)
			assert.Equal(t, utc(tc.hi), hi)
			assert.Equal(t, time.UTC, lo.Location())
		})
	}
}

func TestParseDateInvalid(t *testing.T) {
	for _, in := range []string{
		"", "24", "20245", "0000", "2024-", "2024-1", "2024-00", "2024-13", "2024-02-30", "2023-02-29",
		"2024-04-31", "2024-03-05T", "2024-03-05T10", "2024-03-05T24:00Z", "2024-03-05T10:60Z",
		"2024-03-05T10:30:61Z", "2024-03-05T10:30:15.Z", "2024-03-05T10:30:15+1:00", "2024-03-05T10:30:15+15:00",
		"2024-03-05T10:30:15+01:60", "2024-03-05T10:30:15+0100", "2024-03-05Z", "2024-03-05 10:30:15Z",
		"2024-03-05T10:30:15Zx", "２０２４", "2024/03/05", "-2024",
	} {
		t.Run(in, func(t *testing.T) {
			_, _, err := ParseDate(in)
			require.Error(t, err)
			assert.Equal(t, fhir.IssueValue, fhir.ErrorCode(err))
		})
	}
}

func TestParseDateAllocations(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		if _, _, err := ParseDate("2024-03-05T10:30:15.123+01:00"); err != nil {
			t.Fatal(err)
		}
	})
	assert.Zero(t, allocs)
}

// FuzzParseDate checks that ParseDate never panics, that a range it
// returns is in UTC and not empty, and that whatever it accepts has the
// layout of a FHIR date, dateTime or instant (or a search value without
// seconds).
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2024", "2024-02", "2024-02-29", "2024-03-05T10:30Z", "2024-03-05T10:30:15.123456789+14:00", "2016-12-31T23:59:60Z", "9999-12-31T23:59:59-14:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lo, hi, err := ParseDate(s)
		if err != nil {
			return
		}
		if lo.After(hi) {
			t.Fatalf("%q: lo %v after hi %v", s, lo, hi)
		}
		if lo.Location() != time.UTC || hi.Location() != time.UTC {
			t.Fatalf("%q: not UTC", s)
		}
		if lo.Nanosecond()%1000 != 0 || hi.Nanosecond()%1000 != 0 {
			t.Fatalf("%q: below microseconds", s)
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; !(c >= '0' && c <= '9' || c == '-' || c == ':' || c == 'T' || c == 'Z' || c == '+' || c == '.') {
				t.Fatalf("%q accepted with %q", s, c)
			}
		}
	})
}
