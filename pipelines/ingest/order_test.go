package ingest_test

import (
	"context"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/adapters/kafka"
	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/pipelines/ingest"
	"github.com/fhirhub/fhirhub/pipelines/intake"
	"github.com/fhirhub/fhirhub/service"
	"github.com/fhirhub/fhirhub/store"
)

// resource returns the one typ resource matching q, parsed.
func (e *env) resource(t *testing.T, typ, q string) (*store.Resource, fhir.Object) {
	t.Helper()
	rs := e.search(t, typ, q)
	require.Len(t, rs, 1, "%s?%s", typ, q)
	obj, err := fhir.ParseObject(rs[0].Content)
	require.NoError(t, err)
	return rs[0], obj
}

func family(p fhir.Object) string {
	names, _ := p["name"].([]any)
	if len(names) == 0 {
		return ""
	}
	f, _ := names[0].(fhir.Object)["family"].(string)
	return f
}

func TestOlderMessagesDoNotOverwriteNewerData(t *testing.T) {
	e := start(t)
	type step struct {
		raw        []byte
		superseded bool // the outcome notes superseded updates
	}
	tests := []struct {
		name  string
		steps func(n string) []step
		check func(t *testing.T, n string)
	}{
		{
			name: "a preliminary result after the final one does not overwrite it",
			steps: func(n string) []step {
				return []step{
					{raw: oru("F"+n, "P-"+n, "Lab", "20261102120000", "R"+n, "141", "F")},
					{raw: oru("P"+n, "P-"+n, "Lab", "20261102100000", "R"+n, "139", "P"), superseded: true},
				}
			},
			check: func(t *testing.T, n string) {
				obs, o := e.resource(t, "Observation", "patient.identifier=P-"+n)
				assert.Equal(t, "final", o["status"])
				assert.Equal(t, int64(1), obs.Version, "no version from the older message")
				dr, d := e.resource(t, "DiagnosticReport", "patient.identifier=P-"+n)
				assert.Equal(t, "final", d["status"])
				assert.Equal(t, int64(1), dr.Version)
			},
		},
		{
			name: "a newer correction still applies",
			steps: func(n string) []step {
				return []step{
					{raw: oru("F"+n, "P-"+n, "Lab", "20261102120000", "R"+n, "141", "F")},
					{raw: oru("C"+n, "P-"+n, "Lab", "20261102130000", "R"+n, "143", "C")},
				}
			},
			check: func(t *testing.T, n string) {
				obs, o := e.resource(t, "Observation", "patient.identifier=P-"+n)
				assert.Equal(t, "corrected", o["status"])
				assert.Equal(t, int64(2), obs.Version)
			},
		},
		{
			name: "a result for an unknown patient creates it and an earlier-dated A08 completes it",
			steps: func(n string) []step {
				return []step{
					{raw: oru("R"+n, "P-"+n, "FromLab", "20261102120000", "R"+n, "141", "F")},
					// The registration's update comes late, its event before the result.
					{raw: adt("A08", "U"+n, "P-"+n, "Registered", "20261102090000", "")},
				}
			},
			check: func(t *testing.T, n string) {
				p, obj := e.resource(t, "Patient", "identifier=P-"+n)
				assert.Equal(t, "Registered", family(obj), "the A08 completed the patient")
				assert.Equal(t, int64(2), p.Version)
				_, o := e.resource(t, "Observation", "patient.identifier=P-"+n)
				assert.Equal(t, "final", o["status"])
			},
		},
		{
			name: "an older A08 after a newer one leaves the newer demographics",
			steps: func(n string) []step {
				return []step{
					{raw: adt("A08", "N"+n, "P-"+n, "Newer", "20261102100000", "")},
					{raw: adt("A08", "O"+n, "P-"+n, "Older", "20261102080000", ""), superseded: true},
				}
			},
			check: func(t *testing.T, n string) {
				p, obj := e.resource(t, "Patient", "identifier=P-"+n)
				assert.Equal(t, "Newer", family(obj))
				assert.Equal(t, int64(1), p.Version)
			},
		},
		{
			name: "an admission arriving after the discharge does not reopen the visit",
			steps: func(n string) []step {
				return []step{
					{raw: adt("A03", "D"+n, "P-"+n, "Visit", "20261102120000", "V"+n)},
					{raw: adt("A01", "A"+n, "P-"+n, "Visit", "20261102080000", "V"+n), superseded: true},
				}
			},
			check: func(t *testing.T, n string) {
				enc, obj := e.resource(t, "Encounter", "identifier=V"+n)
				assert.Equal(t, "finished", obj["status"])
				assert.Equal(t, int64(1), enc.Version)
			},
		},
		{
			name: "a merge replayed after a newer update keeps both",
			steps: func(n string) []step {
				return []step{
					{raw: adt("A28", "S"+n, "P-"+n, "Before", "20261102080000", "")},
					{raw: adt("A28", "M"+n, "Q-"+n, "Merged", "20261102080000", "")},
					{raw: adt("A08", "N"+n, "P-"+n, "After", "20261102120000", "")},
					{raw: a40("G"+n, "P-"+n, "Q-"+n, "20261102100000"), superseded: true},
				}
			},
			check: func(t *testing.T, n string) {
				mr, _ := e.resource(t, "Patient", "identifier=Q-"+n)
				_, obj := e.resource(t, "Patient", "identifier=P-"+n)
				assert.Equal(t, "After", family(obj), "the newer name stays")
				assert.Equal(t, "Patient/"+mr.ID, linkTo(t, obj, "replaces")["reference"], "the merge link is written")
			},
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := string(rune('a' + i))
			for _, s := range tc.steps(n) {
				m := e.ingestOK(t, s.raw)
				if s.superseded {
					assert.Contains(t, m.Error, "partially superseded", m.ControlID)
				} else {
					assert.Empty(t, m.Error, m.ControlID)
				}
			}
			tc.check(t, n)
		})
	}
}

// countingSearcher is the FHIR service with the searches the pipeline
// makes itself counted.
type countingSearcher struct {
	*service.Service
	searches *atomic.Int64
}

func (c countingSearcher) Search(ctx context.Context, typ string, params url.Values) (*store.SearchResult, *store.SearchQuery, []fhir.Issue, error) {
	c.searches.Add(1)
	return c.Service.Search(ctx, typ, params)
}

// The order check looks at what the transaction's own resolution of the
// criteria found: the pipeline searches nothing before the transaction,
// and an older message is still kept from overwriting newer data.
func TestOrderCheckSearchesNothingBeforeTheTransaction(t *testing.T) {
	ctx := context.Background()
	st, svc, _ := newService(t)
	icfg := intake.DefaultConfig()
	icfg.Store = st
	in, err := intake.New(icfg)
	require.NoError(t, err)
	require.NoError(t, in.Start(ctx))
	t.Cleanup(func() { _ = in.Close(ctx) })
	var searches atomic.Int64
	cfg := ingest.DefaultConfig()
	cfg.Messages, cfg.Receiver, cfg.Service, cfg.DLQ = st, in, countingSearcher{svc, &searches}, discard{}
	p, err := ingest.New(cfg)
	require.NoError(t, err)
	apply := func(raw []byte) *store.HL7Message {
		t.Helper()
		_, m := in.Receive(ctx, raw, intake.Source{Channel: "mllp"})
		require.NotZero(t, m.ID)
		require.NoError(t, p.Apply(ctx, m))
		m, err := st.Message(ctx, m.ID)
		require.NoError(t, err)
		require.Equal(t, store.MessageProcessed, m.Status)
		return m
	}

	assert.Empty(t, apply(oru("F1", "P-1", "Lab", "20261102120000", "R1", "141", "F")).Error)
	assert.Contains(t, apply(oru("P1", "P-1", "Lab", "20261102100000", "R1", "139", "P")).Error, "partially superseded")
	assert.Zero(t, searches.Load(), "no search outside the transaction")
	params := url.Values{"patient.identifier": {"P-1"}}
	res, _, _, err := svc.Search(ctx, "Observation", params)
	require.NoError(t, err)
	require.Len(t, res.Matches, 1)
	obs, err := fhir.ParseObject(res.Matches[0].Content)
	require.NoError(t, err)
	assert.Equal(t, "final", obs["status"])
	assert.EqualValues(t, 1, res.Matches[0].Version, "no version from the older message")
}

// discard is a DLQ that drops what it is given.
type discard struct{}

func (discard) Publish(context.Context, ...kafka.Record) error { return nil }
