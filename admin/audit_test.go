package admin_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/admin"
	"github.com/fhirhub/fhirhub/audit"
	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/service"
	"github.com/fhirhub/fhirhub/store"
	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

// TestOperatorActionsAreAudited: every list, message read and replay,
// allowed or refused, leaves an AuditEvent naming the operator action.
func TestOperatorActionsAreAudited(t *testing.T) {
	ctx := context.Background()
	st := pgtest.Store(t)
	m := &store.HL7Message{ReceivedAt: time.Now(),
		Raw: []byte("MSH|^~\\&|LAB|HOSP|||20261102||ORU^R01|C1|P|2.5.1\rPID|||MRN1^^^HOSP\r"), SendingApp: "LAB",
		SendingFacility: "HOSP", ControlID: "C1", Type: "ORU", Trigger: "R01", Status: store.MessageError, AckCode: "AA"}
	_, err := st.ReceiveMessages(ctx, []*store.HL7Message{m})
	require.NoError(t, err)
	require.NotZero(t, m.ID)
	msgID := strconv.FormatInt(m.ID, 10)

	_, v, mint := newIssuer(t)
	acfg := audit.DefaultConfig()
	acfg.Store, acfg.NewID = st, service.NewUUID
	w, err := audit.New(acfg)
	require.NoError(t, err)
	api, err := admin.New(admin.Config{Messages: st, Auth: v, Audit: w,
		Replay: func(ctx context.Context, q store.MessageQuery) (int, error) { return 1, nil }})
	require.NoError(t, err)
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)

	cases := []struct {
		name, method, path, token string
		status                    int
		subtype, operator, action string
		outcome, what, query      string
	}{
		{"list", "GET", "/admin/hl7v2/messages?patient=MRN1", mint("admin"), 200, "search-type", "hl7v2-message-list", "E", "0", "", "patient=MRN1"},
		{"read", "GET", "/admin/hl7v2/messages/" + msgID, mint("integration"), 200, "read", "hl7v2-message-read", "R", "0", msgID, ""},
		{"raw", "GET", "/admin/hl7v2/messages/" + msgID + "/raw", mint("admin"), 200, "read", "hl7v2-message-read", "R", "0", msgID, ""},
		{"replay", "POST", "/admin/hl7v2/messages/$replay?status=error", mint("admin"), 200, "operation", "hl7v2-replay", "E", "0", "", "status=error"},
		{"refused", "GET", "/admin/hl7v2/messages/" + msgID, mint("doctor"), 403, "read", "hl7v2-message-read", "R", "4", msgID, ""},
		{"anonymous", "GET", "/admin/hl7v2/messages", "", 401, "search-type", "hl7v2-message-list", "E", "4", "", ""},
	}
	for _, c := range cases {
		req, err := http.NewRequest(c.method, srv.URL+c.path, nil)
		require.NoError(t, err)
		req.Header.Set("X-Request-Id", c.name)
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, c.status, resp.StatusCode, c.name)
	}
	require.NoError(t, w.Close(ctx))

	page, err := st.History(ctx, store.HistoryQuery{Type: "AuditEvent", Count: 100})
	require.NoError(t, err)
	events := map[string]fhir.Object{}
	for _, r := range page.Versions {
		obj, err := fhir.ParseObject(r.Content)
		require.NoError(t, err)
		e := obj["entity"].([]any)[0].(fhir.Object)
		events[e["detail"].([]any)[0].(fhir.Object)["valueString"].(string)] = obj
	}
	require.Len(t, events, len(cases))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := events[c.name]
			require.NotNil(t, ev)
			subtype := ev["subtype"].([]any)
			assert.Equal(t, c.subtype, subtype[0].(fhir.Object)["code"])
			assert.Equal(t, c.operator, subtype[1].(fhir.Object)["code"])
			assert.Equal(t, c.action, ev["action"])
			assert.Equal(t, c.outcome, ev["outcome"])
			e := ev["entity"].([]any)[0].(fhir.Object)
			if c.what != "" {
				assert.Equal(t, c.what, e["what"].(fhir.Object)["identifier"].(fhir.Object)["value"])
			}
			if c.query != "" {
				q, err := base64.StdEncoding.DecodeString(e["query"].(string))
				require.NoError(t, err)
				assert.Equal(t, c.query, string(q))
			}
			if c.name == "replay" {
				assert.Equal(t, "HL7 v2 messages replayed: 1", e["description"])
			}
		})
	}
}
