package search

import (
	"compress/bzip2"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/internal/corpus"
)

// The Synthea corpus: 122 bzip2 transaction Bundles (92,114 resources) in
// the shared test data beside the repository.

// syntheaFiles returns the corpus files; a missing corpus fails the test.
func syntheaFiles(tb testing.TB) []string { return corpus.SyntheaFiles(tb) }

// readBundle returns the resources of a corpus Bundle and a map from each
// entry's fullUrl to "Type/id".
func readBundle(tb testing.TB, path string) (resources []fhir.Object, fullURLs map[string]string) {
	tb.Helper()
	f, err := os.Open(path)
	require.NoError(tb, err)
	defer f.Close()
	data, err := io.ReadAll(bzip2.NewReader(f))
	require.NoError(tb, err, path)
	b, err := fhir.ParseObject(data)
	require.NoError(tb, err, path)
	entries, _ := b["entry"].([]any)
	fullURLs = make(map[string]string, len(entries))
	for _, e := range entries {
		em := e.(map[string]any)
		res, ok := em["resource"].(map[string]any)
		require.True(tb, ok, "%s: entry without resource", path)
		resources = append(resources, res)
		if u, ok := em["fullUrl"].(string); ok {
			fullURLs[u] = fhir.ResourceType(res) + "/" + fhir.ResourceID(res)
		}
	}
	return resources, fullURLs
}

// rewriteReferences replaces the references to bundle entries by their
// "Type/id", as a server does when it processes the transaction.
func rewriteReferences(v any, fullURLs map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "reference" && strings.HasPrefix(s, "urn:") {
				if r, ok := fullURLs[s]; ok {
					x[k] = r
				}
				continue
			}
			rewriteReferences(e, fullURLs)
		}
	case []any:
		for _, e := range x {
			rewriteReferences(e, fullURLs)
		}
	}
}

func BenchmarkReadCorpus(b *testing.B) {
	for b.Loop() {
		n := 0
		for _, f := range syntheaFiles(b) {
			rs, _ := readBundle(b, f)
			n += len(rs)
		}
		b.ReportMetric(float64(n), "resources")
	}
}

// TestSynthea walks the whole corpus once: every resource must extract
// without error (value counts per type are logged with -v), and a sample
// of each Bundle (oracleSamplePerBundle resources of each type, with the
// Bundle's references rewritten to "Type/id") is compared with the
// FHIRPath oracle (oracle_test.go).
func TestSynthea(t *testing.T) {
	reg := Default()
	snap := reg.snap.Load()
	st := newOracleStats(snap.m)
	counts := map[string]int{}
	resources, sampled := 0, 0
	for fileIndex, file := range syntheaFiles(t) {
		all, fullURLs := readBundle(t, file)
		byType := map[string][]fhir.Object{}
		for _, obj := range all {
			v, err := reg.Extract(obj)
			require.NoError(t, err, "%s %s/%s", file, fhir.ResourceType(obj), fhir.ResourceID(obj))
			resources++
			counts["string"] += len(v.Strings)
			counts["token"] += len(v.Tokens)
			counts["date"] += len(v.Dates)
			counts["number"] += len(v.Numbers)
			counts["quantity"] += len(v.Quantities)
			counts["reference"] += len(v.References)
			counts["uri"] += len(v.URIs)
			counts["composite"] += len(v.Composites)
			rt := fhir.ResourceType(obj)
			byType[rt] = append(byType[rt], obj)
		}
		for _, rs := range byType {
			stride := max(1, len(rs)/oracleSamplePerBundle)
			for i := fileIndex % stride; i < len(rs); i += stride {
				rewriteReferences(rs[i], fullURLs)
				st.compare(t, snap, rs[i])
				sampled++
			}
		}
	}
	t.Logf("extracted %d resources: %v", resources, counts)
	t.Logf("oracle: %d resources sampled, %d evaluations (%d selecting something) compared over %d parameters", sampled, st.evaluations, st.nonEmpty, len(st.compared))
	assert.Equal(t, 92114, resources)
	assert.Greater(t, st.evaluations, 20000)
	assert.Greater(t, st.nonEmpty, 10000)
	st.report(t)
}
