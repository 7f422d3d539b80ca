package validate

import (
	"compress/bzip2"
	"encoding/json"
	"fmt"
	"io"
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

// readBundle returns a bzip2'd bundle and the raw JSON of each of its
// Bundle.entry.resource.
func readBundle(path string) (bundle []byte, entries []json.RawMessage, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	bundle, err = io.ReadAll(bzip2.NewReader(f))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	var b struct {
		Entry []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(bundle, &b); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	for _, e := range b.Entry {
		entries = append(entries, e.Resource)
	}
	return bundle, entries, nil
}
