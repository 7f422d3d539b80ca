package hl7v2

import (
	"bytes"
	extcorpus "github.com/fhirhub/fhirhub/internal/corpus"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// externalDir returns ../shared/testdata-external/<sub> beside the
// repository root; the corpora are part of the test environment, so a
// missing directory fails the test.
func externalDir(tb testing.TB, sub string) string {
	tb.Helper()
	dir, err := os.Getwd()
	require.NoError(tb, err)
	for {
		cand := filepath.Join(dir, "..", "shared", "testdata-external", sub)
		if _, err := os.Stat(cand); err == nil {
			return cand
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatalf("../shared/testdata-external/%s not found beside the repository", sub)
		}
		dir = parent
	}
}

// corpusSkip lists the files of the corpora that are not messages, each
// with the reason.
var corpusSkip = map[string]string{
	"hapi-hl7v2/uuencoded_escaped.txt": "not a message: the escaped text of one field (a uuencoded file); " +
		"TestEscapeUUEncoded decodes and re-escapes it",
}

type corpusMessage struct {
	name string // file, with "#n" for the n-th message of a multi-message file
	data []byte
}

// lineRE splits text into lines at any line ending.
var lineRE = regexp.MustCompile(`\r\n|\r|\n`)

// splitCorpusFile splits a corpus file into its messages
// (extcorpus.SplitHL7File).
func splitCorpusFile(name string, data []byte) []corpusMessage {
	var out []corpusMessage
	for _, m := range extcorpus.SplitHL7File(name, data) {
		out = append(out, corpusMessage{name: m.Name, data: m.Data})
	}
	return out
}

// corpus returns every message of testdata/ (batch files split) and of
// the external corpus, sorted by name, and the skipped files.
func corpus(tb testing.TB) (msgs []corpusMessage, skipped []string) {
	tb.Helper()
	ext := externalDir(tb, "hl7v2")
	for _, dir := range []string{"fhir-converter", "hapi-hl7v2", "dcm4che"} {
		files, err := os.ReadDir(filepath.Join(ext, dir))
		require.NoError(tb, err)
		for _, f := range files {
			name := dir + "/" + f.Name()
			if _, skip := corpusSkip[name]; skip {
				skipped = append(skipped, name)
				continue
			}
			data, err := os.ReadFile(filepath.Join(ext, dir, f.Name()))
			require.NoError(tb, err)
			msgs = append(msgs, splitCorpusFile(name, data)...)
		}
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*.hl7"))
	require.NoError(tb, err)
	require.NotEmpty(tb, files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(tb, err)
		name := "testdata/" + filepath.Base(f)
		if strings.HasPrefix(string(data[skipPreamble(data):]), "FHS") || strings.HasPrefix(string(data[skipPreamble(data):]), "BHS") {
			file, err := SplitBatch(data)
			require.NoError(tb, err, name)
			for _, b := range file.Batches {
				for _, m := range b.Messages {
					msgs = append(msgs, corpusMessage{name: name + "#" + itoa0(len(msgs)), data: m})
				}
			}
			continue
		}
		msgs = append(msgs, corpusMessage{name: name, data: data})
	}
	sort.Slice(msgs, func(i, j int) bool { return msgs[i].name < msgs[j].name })
	return msgs, skipped
}

// normalizeTerminators is the segment-terminator normalisation of the
// round-trip property: no byte order mark, CR after every segment
// (including the last), no blank lines.
func normalizeTerminators(data []byte) []byte {
	data = bytes.TrimPrefix(data, bom)
	var out []byte
	for _, l := range lineRE.Split(string(data), -1) {
		if l == "" {
			continue
		}
		out = append(append(out, l...), '\r')
	}
	return out
}

// TestCorpusRoundTrip: for every message of testdata/ and of the external
// corpus, encode(parse(m)) equals m after segment-terminator
// normalisation.
func TestCorpusRoundTrip(t *testing.T) {
	msgs, skipped := corpus(t)
	require.Greater(t, len(msgs), 150)
	for _, c := range msgs {
		m, err := Parse(c.data)
		if !assert.NoError(t, err, c.name) {
			continue
		}
		assert.Equal(t, string(normalizeTerminators(c.data)), string(m.Encode()), c.name)
	}
	t.Logf("round trip: %d messages, %d files skipped", len(msgs), len(skipped))
}

// corpusValueSkip lists the values of the corpora that do not read as
// their datatype, each with the reason; everything else must.
var corpusValueSkip = map[string]string{
	"hapi-hl7v2/messages.txt#1 MSH-7": "1994050216163360 has 16 digits: not a DTM",
	"dcm4che/ORU_R01-PDF.hl7 OBX-5":   "the published file cuts the Base64 PDF short (4025 characters)",
}

// TestCorpusAccessors reads the fields mapping relies on from every
// message of the corpora with their datatypes: MSH-7 and PID-7 as TS, PID-3
// as CX with an identifier, PID-5 as XPN with a family name, OBX-5 by its
// value type (NM, SN, CE/CWE, TS/DTM, ED) and every node with String and
// Text.
func TestCorpusAccessors(t *testing.T) {
	msgs, _ := corpus(t)
	read := 0
	for _, c := range msgs {
		m, err := Parse(c.data)
		require.NoError(t, err, c.name)
		check := func(what string, err error) {
			if _, skip := corpusValueSkip[c.name+" "+what]; skip {
				assert.Error(t, err, "%s %s is in the skip list but reads", c.name, what)
				return
			}
			assert.NoError(t, err, "%s %s", c.name, what)
			read++
		}
		_, err = ParseTS(m.SegmentAt(0).Field(7), nil)
		check("MSH-7", err)
		if pid := m.Segment("PID", 1); pid.Exists() {
			ids := ParseCXs(pid.Field(3))
			assert.True(t, len(ids) > 0 && ids[0].ID != "", "%s PID-3", c.name)
			assert.NotEmpty(t, ParseXPN(pid.Field(5)).Family.Surname, "%s PID-5", c.name)
			_, err = ParseTS(pid.Field(7), nil)
			check("PID-7", err)
		}
		for obx := range m.SegmentsNamed("OBX") {
			v := obx.Field(5)
			switch obx.Field(2).String() {
			case "NM":
				for r := range v.Reps() {
					_, err = ParseNM(r.String())
					check("OBX-5", err)
				}
			case "SN":
				_, err = ParseSN(v)
				check("OBX-5", err)
			case "CE", "CWE", "CNE":
				cw := ParseCWE(v)
				assert.True(t, cw.Identifier != "" || cw.Text != "", "%s OBX-5", c.name)
			case "TS", "DTM", "DT":
				_, err = ParseTS(v, nil)
				check("OBX-5", err)
			case "ED":
				_, err = ParseED(v).Bytes()
				check("OBX-5", err)
			}
		}
		walk(m)
	}
	t.Logf("%d typed values read from %d messages", read, len(msgs))
}
