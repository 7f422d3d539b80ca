package mappings_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/fhirhub/fhirhub/internal/corpus"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/fhir/validate"
	"github.com/fhirhub/fhirhub/mappings"
	"github.com/fhirhub/fhirhub/service"
)

// sast is South African Standard Time, the zone of test messages whose
// times have no offset (a fixed zone: tests do not depend on tzdata).
var sast = time.FixedZone("SAST", 2*60*60)

// testOptions are the options of every golden test: a fixed message
// reference, senders in SAST, and a clock that fails the test if it is
// read, since every test message has an MSH-7.
func testOptions(tb testing.TB, ref string) mappings.Options {
	return mappings.Options{
		MessageRef: ref,
		Location:   sast,
		Now: func() time.Time {
			tb.Errorf("Options.Now called for a message with MSH-7")
			return time.Time{}
		},
	}
}

// MustParse parses an ER7 message.
func MustParse(tb testing.TB, data []byte) *hl7v2.Message {
	tb.Helper()
	m, err := hl7v2.Parse(data)
	require.NoError(tb, err)
	return m
}

// MustReadMessage parses testdata/<name>.hl7.
func MustReadMessage(tb testing.TB, name string) *hl7v2.Message {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+".hl7"))
	require.NoError(tb, err)
	return MustParse(tb, data)
}

var validator = validate.New()

// RequireValidBundle fails tb unless bundleProblems finds none.
func RequireValidBundle(tb testing.TB, bundle fhir.Object) {
	tb.Helper()
	problems := bundleProblems(bundle)
	require.Empty(tb, problems, "bundle:\n%s", pretty(bundle))
}

// bundleProblems checks that bundle is valid FHIR R4 and that every entry
// is conditional; and that every PATCH entry holds a JSON Patch that
// applies both to the resource the Bundle creates with the same criteria
// (the resource is new) and to that resource without the elements the
// patch touches (the resource exists and lacks them), giving a valid
// resource each time.
func bundleProblems(bundle fhir.Object) []string {
	var out []string
	fail := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if err := validator.Resource(bundle); err != nil {
		fe := fhir.AsError(err)
		fail("invalid bundle: %s %v", fe.Message, fe.Expression)
		for _, i := range fe.More {
			fail("  and: %s %v", i.Diagnostics, i.Expression)
		}
	}
	created := map[string]fhir.Object{} // "Type?criteria" -> resource
	for _, e := range entries(bundle) {
		req := e["request"].(fhir.Object)
		res, _ := e["resource"].(fhir.Object)
		url, _ := req["url"].(string)
		switch req["method"] {
		case "POST":
			crit, _ := req["ifNoneExist"].(string)
			if crit == "" {
				fail("POST %s without ifNoneExist", url)
			}
			created[url+"?"+crit] = res
		case "PUT":
			if !strings.HasPrefix(url, "Provenance/") && !strings.Contains(url, "?") {
				fail("PUT %s is not conditional", url)
			}
		case "PATCH":
			if res["contentType"] != "application/json-patch+json" {
				fail("PATCH %s: contentType %v", url, res["contentType"])
			}
			patch, err := base64.StdEncoding.DecodeString(res["data"].(string))
			if err != nil {
				fail("PATCH %s: %v", url, err)
				continue
			}
			base, ok := created[url]
			if !ok {
				fail("PATCH %s without the POST that ensures its resource", url)
				continue
			}
			// The stored resource may lack what the patch touches.
			without := fhir.Clone(base).(fhir.Object)
			var ops []map[string]any
			_ = json.Unmarshal(patch, &ops)
			for _, op := range ops {
				p, _ := op["path"].(string)
				if top, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/"); top != "meta" {
					delete(without, top)
				}
			}
			for _, start := range []fhir.Object{fhir.Clone(base).(fhir.Object), without} {
				start["id"] = "x"
				patched, err := service.ApplyJSONPatch(start, patch)
				if err != nil {
					fail("PATCH %s does not apply: %v", url, err)
					continue
				}
				if err := validator.Resource(patched.(fhir.Object)); err != nil {
					fe := fhir.AsError(err)
					fail("PATCH %s gives an invalid resource: %s %v", url, fe.Message, fe.Expression)
				}
			}
		default:
			fail("unexpected method %v", req["method"])
		}
	}
	return out
}

func entries(bundle fhir.Object) []fhir.Object {
	var out []fhir.Object
	for _, e := range bundle["entry"].([]any) {
		out = append(out, e.(fhir.Object))
	}
	return out
}

// pretty returns v as indented canonical JSON.
func pretty(v any) []byte {
	var buf bytes.Buffer
	if err := json.Indent(&buf, fhir.MarshalJSON(v), "", "  "); err != nil {
		return fhir.MarshalJSON(v)
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

// corpusMessage is one message of the external corpus.
type corpusMessage struct {
	name string // file, with "#n" for the n-th message of a multi-message file
	data []byte
}

// splitCorpusFile splits a corpus file into its messages
// (corpus.SplitHL7File).
func splitCorpusFile(name string, data []byte) []corpusMessage {
	var out []corpusMessage
	for _, m := range corpus.SplitHL7File(name, data) {
		out = append(out, corpusMessage{name: m.Name, data: m.Data})
	}
	return out
}
