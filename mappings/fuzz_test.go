package mappings_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/mappings"
)

// FuzzMap: no input makes Map panic, and every Bundle Map returns is
// valid FHIR R4 with applicable patches. The seeds are the test messages.
func FuzzMap(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.hl7"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("MSH|^~\\&|A|B|||2025||ADT^A40|1|P|2.5\rPID|1||X\rMRG|\r"))
	f.Add([]byte("MSH|^~\\&|A|B|||2025||ORU^R01|1|P|2.5\rPID|1||X\rOBR|1||F|C\rOBX|1|SN|C||<>^^:\r"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := hl7v2.Parse(data)
		if err != nil {
			return
		}
		bundle, err := mappings.Map(m, mappings.Options{MessageRef: "fuzz"})
		if err == nil {
			if problems := bundleProblems(bundle); len(problems) > 0 {
				t.Fatalf("invalid Bundle: %v", problems)
			}
		}
		_, _ = mappings.Merges(m, mappings.Options{})
	})
}
