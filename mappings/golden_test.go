package mappings_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/mappings"
)

var update = flag.Bool("update", false, "rewrite the golden files testdata/*.bundle.json")

// TestGolden maps every testdata/<name>.hl7 and compares the Bundle with
// testdata/<name>.bundle.json (indented canonical JSON; regenerate with
// go test ./mappings -update and review the diff). Each Bundle must be
// valid FHIR R4 with applicable patches, and mapping the message again
// from a fresh parse must give the same bytes.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.hl7"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 20)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".hl7")
		t.Run(name, func(t *testing.T) {
			opt := testOptions(t, "hl7v2-message/"+name)
			bundle, err := mappings.Map(MustReadMessage(t, name), opt)
			require.NoError(t, err)
			RequireValidBundle(t, bundle)

			again, err := mappings.Map(MustReadMessage(t, name), opt)
			require.NoError(t, err)
			require.Equal(t, string(fhir.MarshalJSON(bundle)), string(fhir.MarshalJSON(again)), "mapping is not deterministic")

			got := pretty(bundle)
			golden := filepath.Join("testdata", name+".bundle.json")
			if *update {
				require.NoError(t, os.WriteFile(golden, got, 0o644))
				return
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "no golden file: run go test ./mappings -update and review it")
			assert.Equal(t, string(want), string(got), "%s differs: run go test ./mappings -update and review the diff", golden)
		})
	}
}

// TestGoldenFilesHaveMessages keeps testdata free of golden files whose
// message was removed.
func TestGoldenFilesHaveMessages(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.bundle.json"))
	require.NoError(t, err)
	for _, f := range files {
		_, err := os.Stat(strings.TrimSuffix(f, ".bundle.json") + ".hl7")
		assert.NoError(t, err, "%s has no message", f)
	}
}
