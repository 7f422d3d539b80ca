package audit_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/audit"
	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/fhir/search"
	"github.com/fhirhub/fhirhub/fhir/validate"
	"github.com/fhirhub/fhirhub/service"
	"github.com/fhirhub/fhirhub/store/postgres"
	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

func newService(t *testing.T) (*service.Service, *postgres.Store) {
	t.Helper()
	reg := search.NewRegistry()
	st := pgtest.StoreWith(t, postgres.Config{Extractor: reg, BaseURL: "http://x/fhir"})
	svc, err := service.New(service.Config{Store: st, Validator: validate.New(), Registry: reg, BaseURL: "http://x/fhir"})
	require.NoError(t, err)
	return svc, st
}

func newWriter(t *testing.T, st audit.Store, batch int, every time.Duration) *audit.Writer {
	t.Helper()
	cfg := audit.DefaultConfig()
	cfg.Store, cfg.NewID, cfg.BatchSize, cfg.FlushInterval = st, service.NewUUID, batch, every
	cfg.Observer = audit.Observer{Name: "fhirhub", URL: "http://x/fhir", Site: "test"}
	w, err := audit.New(cfg)
	require.NoError(t, err)
	return w
}

// searchAudit returns the AuditEvents matching query.
func searchAudit(t *testing.T, svc *service.Service, query string) []fhir.Object {
	t.Helper()
	q, err := url.ParseQuery(query + "&_count=1000")
	require.NoError(t, err)
	res, _, warnings, err := svc.Search(context.Background(), "AuditEvent", q)
	require.NoError(t, err)
	require.Empty(t, warnings)
	var out []fhir.Object
	for _, r := range res.Matches {
		obj, err := fhir.ParseObject(r.Content)
		require.NoError(t, err)
		out = append(out, obj)
	}
	return out
}

func TestWriterStoresEveryEventOnClose(t *testing.T) {
	svc, st := newService(t)
	// A long interval and a large batch: nothing is written before Close.
	w := newWriter(t, st, 10000, time.Hour)
	const n = 257
	for i := 0; i < n; i++ {
		w.Record(context.Background(), audit.Event{Interaction: "read", Status: 200, Subject: "alice", Role: "doctor",
			Address: "127.0.0.1", What: fmt.Sprintf("Patient/p%d/_history/1", i), RequestID: fmt.Sprintf("r%d", i)})
	}
	require.NoError(t, w.Close(context.Background()))
	assert.EqualValues(t, n, w.Written())
	assert.Len(t, searchAudit(t, svc, "agent="+url.QueryEscape(audit.AgentReference("alice"))), n)
}

func TestWriterWritesInTheBackground(t *testing.T) {
	svc, st := newService(t)
	w := newWriter(t, st, 3, 10*time.Millisecond)
	defer w.Close(context.Background())
	for i := 0; i < 7; i++ {
		w.Record(context.Background(), audit.Event{Interaction: "create", Status: 201, Subject: "bob", What: "Observation/o1/_history/1"})
	}
	require.Eventually(t, func() bool { return w.Written() == 7 }, 5*time.Second, 10*time.Millisecond)
	assert.Len(t, searchAudit(t, svc, "entity=Observation/o1"), 7)
}

func TestEventResource(t *testing.T) {
	svc, st := newService(t)
	w := newWriter(t, st, 100, time.Hour)
	at := time.Date(2026, 11, 2, 8, 30, 0, 0, time.UTC)
	events := []audit.Event{
		{Time: at, Interaction: "vread", Status: 200, Subject: "alice@example.org", Role: "doctor", Address: "10.0.0.7",
			What: "Patient/p1/_history/3", RequestID: "req-1"},
		{Time: at, Interaction: "search-type", Status: 200, Subject: "lis", Role: "integration", Address: "10.0.0.8",
			ResourceType: "Observation", Query: "subject=Patient/p1&code=718-7", Patient: "p1", RequestID: "req-2"},
		{Time: at, Interaction: "delete", Status: 403, IssueCode: "forbidden", Subject: "carol", Role: "viewer",
			What: "Observation/o9", RequestID: "req-3"},
		{Time: at, Interaction: "read", Status: 401, IssueCode: "login", Address: "10.0.0.9", What: "Patient/p2", RequestID: "req-4"},
		{Time: at, Interaction: "read", OperatorAction: "hl7v2-message-read", Status: 500, Subject: "op", Role: "admin",
			Identifier: [2]string{audit.SystemHL7Message, "42"}, Description: "HL7 v2 message", RequestID: "req-5"},
	}
	for _, ev := range events {
		w.Record(context.Background(), ev)
	}
	require.NoError(t, w.Close(context.Background()))

	v := validate.New()
	all := searchAudit(t, svc, "_sort=_id")
	require.Len(t, all, len(events))
	for _, obj := range all {
		assert.NoError(t, v.Resource(obj), "%s", fhir.MarshalJSON(obj))
	}

	cases := []struct {
		name, query string
		want        []string // request ids
	}{
		{"by agent", "agent=" + url.QueryEscape(audit.AgentReference("alice@example.org")), []string{"req-1"}},
		{"by agent id", "altid=lis", []string{"req-2"}},
		{"by entity", "entity=Patient/p1", []string{"req-1", "req-2"}},
		{"by patient", "patient=p1", []string{"req-1", "req-2"}},
		{"by date", "date=2026-11-02", []string{"req-1", "req-2", "req-3", "req-4", "req-5"}},
		{"by other date", "date=2026-11-03", nil},
		{"by action", "action=D", []string{"req-3"}},
		{"by outcome", "outcome=4", []string{"req-3", "req-4"}},
		{"by subtype", "subtype=vread", []string{"req-1"}},
		{"by address", "address=10.0.0.8", []string{"req-2"}},
		{"by role", "agent-role=" + url.QueryEscape(audit.SystemRole+"|integration"), []string{"req-2"}},
		{"by type", "type=rest", []string{"req-1", "req-2", "req-3", "req-4", "req-5"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, obj := range searchAudit(t, svc, c.query) {
				got = append(got, requestID(obj))
			}
			assert.ElementsMatch(t, c.want, got)
		})
	}

	byReq := map[string]fhir.Object{}
	for _, obj := range all {
		byReq[requestID(obj)] = obj
	}
	search := byReq["req-2"]
	assert.Equal(t, "E", search["action"])
	entity := search["entity"].([]any)[0].(fhir.Object)
	q, err := base64.StdEncoding.DecodeString(entity["query"].(string))
	require.NoError(t, err)
	assert.Equal(t, "subject=Patient/p1&code=718-7", string(q))
	assert.NotContains(t, entity, "description", "the query stays out of the description")

	refused := byReq["req-3"]
	assert.Equal(t, "4", refused["outcome"])
	assert.Equal(t, "403 forbidden", refused["outcomeDesc"])
	assert.Equal(t, "D", refused["action"])
	assert.Equal(t, "8", byReq["req-5"]["outcome"])
	assert.Equal(t, "anonymous", byReq["req-4"]["agent"].([]any)[0].(fhir.Object)["name"])
}

func requestID(obj fhir.Object) string {
	for _, e := range obj["entity"].([]any) {
		for _, d := range asSlice(e.(fhir.Object)["detail"]) {
			dm := d.(fhir.Object)
			if dm["type"] == "request-id" {
				return dm["valueString"].(string)
			}
		}
	}
	return ""
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func TestCloseGivesUpAtItsDeadline(t *testing.T) {
	_, st := newService(t)
	w := newWriter(t, st, 10, time.Hour)
	st.Close() // the database is gone: nothing can be written
	w.Record(context.Background(), audit.Event{Interaction: "read", Status: 200, What: "Patient/p1"})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := w.Close(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "1 event(s) not written")
}
