// Package corpus locates the public test material that CI keeps beside
// the checkout in ../shared/testdata-external (Synthea FHIR bundles, HL7 v2
// messages). A missing corpus fails the test: a sweep that silently skips
// proves nothing.
package corpus

import (
	"compress/bzip2"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Dir returns ../shared/testdata-external/sub beside the repository root
// (the directory holding go.mod above the working directory).
func Dir(tb testing.TB, sub string) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("corpus: go.mod not found above the working directory")
		}
		dir = parent
	}
	path := filepath.Join(dir, "..", "shared", "testdata-external", sub)
	if _, err := os.Stat(path); err != nil {
		tb.Fatalf("corpus: %s is missing: ../shared/testdata-external must be beside the checkout", path)
	}
	return path
}

// SyntheaFiles returns the 122 Synthea transaction bundles (bzip2), the
// organisation and practitioner batches ("0-...") first, as the patient
// bundles refer to them by conditional references.
func SyntheaFiles(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(Dir(tb, "fhir-synthea-blaze"), "*.json.bz2"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("corpus: no Synthea bundles (%v)", err)
	}
	sort.SliceStable(files, func(i, j int) bool {
		fi, fj := strings.HasPrefix(filepath.Base(files[i]), "0-"), strings.HasPrefix(filepath.Base(files[j]), "0-")
		if fi != fj {
			return fi
		}
		return files[i] < files[j]
	})
	return files
}

// ReadBZ2 returns the decompressed content of a bzip2 file.
func ReadBZ2(tb testing.TB, path string) []byte {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(bzip2.NewReader(f))
	if err != nil {
		tb.Fatalf("corpus: %s: %v", path, err)
	}
	return b
}
