package validate

import (
	"compress/bzip2"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/fhirhub/fhirhub/internal/corpus"
)

// syntheaFiles returns the corpus files (122 transaction bundles, 92,114
// resources), failing the test when the corpus is missing.
func syntheaFiles(tb testing.TB) []string { return corpus.SyntheaFiles(tb) }

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
