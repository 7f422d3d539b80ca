package mappings_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/internal/corpus"
	"github.com/fhirhub/fhirhub/mappings"
	"github.com/fhirhub/fhirhub/service"
)

// TestCorpusOnServer runs the Bundle of every mapped corpus message
// through the FHIR service, each on a database of its own, and again: the
// server accepts it, and the second time makes no new version.
func TestCorpusOnServer(t *testing.T) {
	dir := corpus.Dir(t, "hl7v2")
	n := 0
	for _, sub := range []string{"fhir-converter", "hapi-hl7v2", "dcm4che"} {
		files, err := os.ReadDir(filepath.Join(dir, sub))
		require.NoError(t, err)
		for _, f := range files {
			data, err := os.ReadFile(filepath.Join(dir, sub, f.Name()))
			require.NoError(t, err)
			for _, c := range splitCorpusFile(sub+"/"+f.Name(), data) {
				if _, skip := corpusSkip[c.name]; skip {
					continue
				}
				m, err := hl7v2.Parse(c.data)
				if err != nil || !mappings.Supported(m.Header().Type.Code, m.Header().Type.Trigger) {
					continue
				}
				bundle, err := mappings.Map(m, mappings.Options{MessageRef: "corpus/" + c.name})
				require.NoError(t, err, c.name)
				s := newServer(t)
				_, err = s.svc.Bundle(context.Background(), bundle, service.BundleOptions{})
				if !assert.NoError(t, err, c.name) {
					continue
				}
				before := s.versions()
				_, err = s.svc.Bundle(context.Background(), bundle, service.BundleOptions{})
				assert.NoError(t, err, c.name)
				assert.Equal(t, before, s.versions(), "%s again made new versions", c.name)
				n++
			}
		}
	}
	t.Logf("%d corpus messages applied twice", n)
}
