package mappings_test

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/internal/corpus"
	"github.com/fhirhub/fhirhub/mappings"
)

// corpusSkip lists the messages of ../shared/testdata-external/hl7v2 of a
// supported type that are expected not to map, each with the reason. The
// sweep fails for a listed message that maps, so the list stays true.
var corpusSkip = map[string]string{
	"dcm4che/ORU_R01-PDF.hl7": "the published file cuts the Base64 PDF in OBX-5 short (4025 characters): " +
		"an undecodable document is an error, not a report without its document",
	"fhir-converter/ADT01-28.hl7": "an A01 whose PV1 has no visit number (PV1-19), alternate visit id (PV1-50) " +
		"or admit time (PV1-44): the visit could not be found again, so it is an error",
	"fhir-converter/ORM-O01-04.hl7": "a diet order (ORC with ODS, no OBR): not mapped, ErrUnsupported",
	"fhir-converter/ORM-O01-05.hl7": "a requisition (ORC with RQD/RQ1, no OBR): not mapped, ErrUnsupported",
	"fhir-converter/ORM-O01-06.hl7": "a pharmacy order (ORC with RXO, no OBR): not mapped, ErrUnsupported",
}

// corpusFilesSkip lists files that hold no message.
var corpusFilesSkip = map[string]string{
	"hapi-hl7v2/uuencoded_escaped.txt": "not a message: the escaped text of one field",
	"SOURCES.md":                       "the corpus's description",
}

// TestCorpusSweep maps every message of a supported type in the external
// corpus: each maps without error to a valid Bundle, or is on corpusSkip.
func TestCorpusSweep(t *testing.T) {
	dir := corpus.Dir(t, "hl7v2")
	var msgs []corpusMessage
	for _, sub := range []string{"fhir-converter", "hapi-hl7v2", "dcm4che"} {
		files, err := os.ReadDir(filepath.Join(dir, sub))
		require.NoError(t, err)
		for _, f := range files {
			name := sub + "/" + f.Name()
			if _, skip := corpusFilesSkip[name]; skip {
				continue
			}
			data, err := os.ReadFile(filepath.Join(dir, sub, f.Name()))
			require.NoError(t, err)
			msgs = append(msgs, splitCorpusFile(name, data)...)
		}
	}
	sort.Slice(msgs, func(i, j int) bool { return msgs[i].name < msgs[j].name })
	require.Greater(t, len(msgs), 150)

	mapped, unsupported, skipped := 0, 0, 0
	byType := map[string]int{}
	for _, c := range msgs {
		m, err := hl7v2.Parse(c.data)
		require.NoError(t, err, c.name)
		h := m.Header()
		if !mappings.Supported(h.Type.Code, h.Type.Trigger) {
			_, err := mappings.Map(m, mappings.Options{MessageRef: "corpus/" + c.name})
			assert.True(t, errors.Is(err, mappings.ErrUnsupported), "%s (%s): %v", c.name, h.Type, err)
			unsupported++
			continue
		}
		bundle, err := mappings.Map(m, mappings.Options{MessageRef: "corpus/" + c.name})
		if reason, skip := corpusSkip[c.name]; skip {
			assert.Error(t, err, "%s is on the skip list (%s) but maps", c.name, reason)
			skipped++
			continue
		}
		if !assert.NoError(t, err, c.name) {
			continue
		}
		assert.Empty(t, bundleProblems(bundle), c.name)
		mapped++
		byType[h.Type.Code+"^"+h.Type.Trigger]++
	}
	t.Logf("corpus: %d messages mapped %v, %d skipped, %d of types not mapped", mapped, byType, skipped, unsupported)
	assert.GreaterOrEqual(t, mapped, 54)
}
