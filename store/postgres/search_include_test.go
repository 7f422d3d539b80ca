package postgres_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSearchInclude checks _include and _revinclude (R4
// search.html#include) with :iterate, target types and the wildcard:
// included resources come once, never repeat a match, and deleted ones
// are left out.
func TestSearchInclude(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name, typ, query string
		matches          []string
		included         []string
	}{
		{"include subject", "Observation", "code=http://loinc.org|29463-7&_include=Observation:subject",
			[]string{"o3"}, []string{"Patient/p1"}},
		{"include two params", "Observation", "_id=o1&_include=Observation:subject&_include=Observation:encounter",
			[]string{"o1"}, []string{"Patient/p1", "Encounter/e1"}},
		{"include once for several matches", "Observation", "subject=Patient/p1&_include=Observation:subject",
			[]string{"o1", "o3"}, []string{"Patient/p1"}},
		{"include target type", "Observation", "_id=o1&_include=Observation:subject:Patient",
			[]string{"o1"}, []string{"Patient/p1"}},
		{"include other target type", "Observation", "_id=o1&_include=Observation:subject:Group",
			[]string{"o1"}, nil},
		{"include wildcard", "Observation", "_id=o1&_include=*",
			[]string{"o1"}, []string{"Patient/p1", "Encounter/e1"}},
		{"include type wildcard", "Observation", "_id=o1&_include=Observation:*",
			[]string{"o1"}, []string{"Patient/p1", "Encounter/e1"}},
		{"include iterate", "Observation", "_id=o1&_include=Observation:patient&_include:iterate=Patient:organization",
			[]string{"o1"}, []string{"Patient/p1", "Organization/org1"}},
		{"include iterate two levels", "Observation", "_id=o7&_include=Observation:patient&_include:iterate=Patient:organization&_include:iterate=Organization:partof",
			[]string{"o7"}, []string{"Patient/p2", "Organization/org2", "Organization/org1"}},
		{"no iterate without modifier", "Observation", "_id=o1&_include=Observation:patient&_include=Patient:organization",
			[]string{"o1"}, []string{"Patient/p1"}},
		{"include never repeats a match", "Organization", "_id=org1,org2&_include=Organization:partof",
			[]string{"org1", "org2"}, nil},
		{"include from several matches", "Observation", "_id=o1,o6&_include=Observation:subject",
			[]string{"o1", "o6"}, []string{"Patient/p1", "Patient/p5"}},
		{"include deleted target", "Encounter", "_id=e3&_include=Encounter:subject",
			[]string{"e3"}, nil},
		{"revinclude", "Patient", "_id=p1&_revinclude=Observation:subject",
			[]string{"p1"}, []string{"Observation/o1", "Observation/o3"}},
		{"revinclude by type", "Patient", "_id=p1,p2&_revinclude=Encounter:subject",
			[]string{"p1", "p2"}, []string{"Encounter/e1"}},
		{"revinclude leaves deleted out", "Organization", "_id=org1&_revinclude=Patient:organization",
			[]string{"org1"}, []string{"Patient/p1", "Patient/p3"}},
		{"revinclude wildcard", "Patient", "_id=p4&_revinclude=Observation:*",
			[]string{"p4"}, []string{"Observation/o5"}},
		{"revinclude iterate", "Organization", "_id=org1&_revinclude=Patient:organization&_revinclude:iterate=Observation:patient",
			[]string{"org1"}, []string{"Patient/p1", "Patient/p3", "Observation/o1", "Observation/o3", "Observation/o4"}},
		{"include and revinclude", "Patient", "_id=p3&_include=Patient:general-practitioner&_revinclude=Encounter:patient",
			[]string{"p3"}, []string{"Practitioner/pr1", "Encounter/e2"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := f.run(t, tc.typ, tc.query)
			assert.Equal(t, sorted(tc.matches), sorted(ids(tc.typ, res.Matches)))
			assert.Equal(t, sorted(tc.included), sorted(ids("", res.Included)))
			assert.Empty(t, res.Warnings)
		})
	}
}

// TestSearchIncludeBound checks that includes past MaxIncludes are left
// out with a warning.
func TestSearchIncludeBound(t *testing.T) {
	f := newFixture(t)
	q := parse(t, "Organization", "_id=org1&_revinclude=Patient:organization&_revinclude:iterate=Observation:patient")
	q.MaxIncludes = 3
	res, err := f.st.Search(context.Background(), q)
	require.NoError(t, err)
	assert.Len(t, res.Included, 3)
	require.Len(t, res.Warnings, 1)
	assert.Contains(t, res.Warnings[0], "more than 3")
}
