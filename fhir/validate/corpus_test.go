package validate

import (
	"compress/bzip2"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// syntheaDir is the Synthea corpus of shared/testdata-external, which CI
// keeps beside the checkout: 122 transaction bundles, 92,114 resources.
var syntheaDir = filepath.Join("..", "..", "..", "shared", "testdata-external", "fhir-synthea-blaze")

// syntheaFiles returns the corpus files, failing the test when the corpus
// is missing: a sweep that silently skips proves nothing.
func syntheaFiles(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(syntheaDir, "*.json.bz2"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		tb.Fatalf("no Synthea bundles in %s: shared/testdata-external must be beside the checkout", syntheaDir)
	}
	sort.Strings(files)
	return files
}

// readEntries returns the raw JSON of every Bundle.entry.resource of a
// bzip2'd bundle.
func readEntries(path string) ([]json.RawMessage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var b struct {
		Entry []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.NewDecoder(bzip2.NewReader(f)).Decode(&b); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	out := make([]json.RawMessage, 0, len(b.Entry))
	for _, e := range b.Entry {
		out = append(out, e.Resource)
	}
	return out, nil
}
