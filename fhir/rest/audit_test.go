package rest_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/audit"
	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/fhir/rest"
	"github.com/fhirhub/fhirhub/service"
	"github.com/fhirhub/fhirhub/store"
	"github.com/fhirhub/fhirhub/store/postgres"
)

// withAudit gives the API an audit Writer on its store; *w is set to it.
func withAudit(w **audit.Writer) serverOption {
	return func(t *testing.T, cfg *rest.Config, st *postgres.Store) {
		acfg := audit.DefaultConfig()
		acfg.Store, acfg.NewID, acfg.FlushInterval = st, service.NewUUID, 10*time.Millisecond
		acfg.Observer = audit.Observer{URL: cfg.BaseURL}
		writer, err := audit.New(acfg)
		require.NoError(t, err)
		t.Cleanup(func() { _ = writer.Close(context.Background()) })
		cfg.Audit = writer
		*w = writer
	}
}

// auditEvents returns the stored AuditEvents by request id (the events
// of Bundle entries by request id, a space and "Bundle.entry[n]"), read
// from the store (not through the API, which would audit the reading).
func auditEvents(t *testing.T, s *authServer) map[string]fhir.Object {
	t.Helper()
	// The events of the test tokens' tenant, and those of unauthenticated
	// requests, which have no tenant but the default one.
	var versions []*store.Resource
	for _, tenant := range []string{"demo", ""} {
		page, err := s.store.History(store.WithScope(context.Background(), store.Scope{Tenant: tenant}),
			store.HistoryQuery{Type: "AuditEvent", Count: 1000})
		require.NoError(t, err)
		versions = append(versions, page.Versions...)
	}
	out := map[string]fhir.Object{}
	for _, m := range versions {
		obj, err := fhir.ParseObject(m.Content)
		require.NoError(t, err)
		key := detail(obj, "request-id")
		if entry := detail(obj, "bundle-entry"); entry != "" {
			key += " " + entry
		}
		out[key] = obj
	}
	return out
}

func detail(obj fhir.Object, typ string) string {
	for _, d := range asSlice(get(obj, "entity", "0", "detail")) {
		if dm := d.(fhir.Object); dm["type"] == typ {
			return dm["valueString"].(string)
		}
	}
	return ""
}

func TestAuditRecordsEveryInteraction(t *testing.T) {
	var w *audit.Writer
	s := newAuthServer(t, withAudit(&w))
	admin := s.token("admin", "user/*.cruds", "")
	viewer := s.token("viewer", "user/*.rs", "")
	req := func(id, tok, method, path string, body any, headers ...string) *response {
		t.Helper()
		h := append([]string{"X-Request-Id", id}, headers...)
		if tok != "" {
			h = append(h, "Authorization", "Bearer "+tok)
		}
		return s.do(method, path, body, h...)
	}
	res := req("create", admin, "POST", "/Patient", patient("Dlamini", "urn:mrn", "12345"))
	require.Equal(t, http.StatusCreated, res.status, "%s", res.raw)
	pid := res.str("id")
	require.Equal(t, 200, req("read", viewer, "GET", "/Patient/"+pid, nil).status)
	require.Equal(t, 200, req("vread", viewer, "GET", "/Patient/"+pid+"/_history/1", nil).status)
	require.Equal(t, 200, req("update", admin, "PUT", "/Patient/"+pid, map[string]any{"resourceType": "Patient", "id": pid, "gender": "male"}).status)
	require.Equal(t, 200, req("search", viewer, "GET", "/Patient?identifier=urn:mrn|12345", nil).status)
	require.Equal(t, 200, req("history", viewer, "GET", "/Patient/"+pid+"/_history", nil).status)
	require.Equal(t, 200, req("validate", viewer, "POST", "/Patient/$validate", patient("X")).status)
	require.Equal(t, 200, req("transaction", admin, "POST", "", map[string]any{"resourceType": "Bundle", "type": "transaction",
		"entry": []any{map[string]any{"resource": patient("Nkosi"), "request": map[string]any{"method": "POST", "url": "Patient"}}}}).status)
	require.Equal(t, 403, req("refused", viewer, "DELETE", "/Patient/"+pid, nil).status)
	require.Equal(t, 401, req("anonymous", "", "GET", "/Patient/"+pid, nil).status)
	require.Equal(t, 404, req("missing", viewer, "GET", "/Patient/nope", nil).status)
	require.Equal(t, 204, req("delete", admin, "DELETE", "/Patient/"+pid, nil).status)
	require.Equal(t, 410, req("gone", viewer, "GET", "/Patient/"+pid, nil).status)
	// Not audited: the public endpoints.
	require.Equal(t, 200, req("metadata", "", "GET", "/metadata", nil).status)
	require.Equal(t, 200, req("discovery", "", "GET", "/.well-known/smart-configuration", nil).status)

	require.NoError(t, w.Close(context.Background()))
	events := auditEvents(t, s)
	mrnQuery := "identifier=urn:mrn|12345"
	cases := []struct {
		request, subtype, action, outcome, what, query, subject, role string
	}{
		{"create", "create", "C", "0", "Patient/" + pid + "/_history/1", "", "", "admin"},
		{"read", "read", "R", "0", "Patient/" + pid + "/_history/1", "", "", "viewer"},
		{"vread", "vread", "R", "0", "Patient/" + pid + "/_history/1", "", "", "viewer"},
		{"update", "update", "U", "0", "Patient/" + pid + "/_history/2", "", "", "admin"},
		{"search", "search-type", "E", "0", "", mrnQuery, "", "viewer"},
		{"history", "history-instance", "R", "0", "Patient/" + pid, "", "", "viewer"},
		{"validate", "operation", "E", "0", "", "", "", "viewer"},
		{"transaction", "transaction", "E", "0", "", "", "", "admin"},
		{"transaction Bundle.entry[0]", "create", "C", "0", "", "", "", "admin"},
		{"refused", "delete", "D", "4", "Patient/" + pid, "", "", "viewer"},
		{"anonymous", "read", "R", "4", "Patient/" + pid, "", "-", ""},
		{"missing", "read", "R", "4", "Patient/nope", "", "", "viewer"},
		{"delete", "delete", "D", "0", "Patient/" + pid + "/_history/3", "", "", "admin"},
		{"gone", "read", "R", "4", "Patient/" + pid + "/_history/3", "", "", "viewer"},
	}
	assert.Len(t, events, len(cases), "one AuditEvent per audited request, none for /metadata and discovery")
	for _, c := range cases {
		t.Run(c.request, func(t *testing.T) {
			ev := events[c.request]
			require.NotNil(t, ev, "no AuditEvent for request %s", c.request)
			assert.Equal(t, "rest", get(ev, "type", "code"))
			assert.Equal(t, audit.SystemInteraction, get(ev, "subtype", "0", "system"))
			assert.Equal(t, c.subtype, get(ev, "subtype", "0", "code"))
			assert.Equal(t, c.action, ev["action"])
			assert.Equal(t, c.outcome, ev["outcome"])
			assert.Equal(t, "127.0.0.1", get(ev, "agent", "0", "network", "address"))
			assert.Equal(t, s.base, get(ev, "source", "observer", "identifier", "value"))
			if c.what != "" {
				assert.Equal(t, c.what, get(ev, "entity", "0", "what", "reference"))
			}
			if c.query != "" {
				q, err := base64.StdEncoding.DecodeString(get(ev, "entity", "0", "query").(string))
				require.NoError(t, err)
				got, err := url.QueryUnescape(string(q))
				require.NoError(t, err)
				assert.Equal(t, c.query, got)
				assert.Nil(t, get(ev, "entity", "0", "description"), "the query is not repeated in clear")
			}
			if c.subject == "-" {
				assert.Nil(t, get(ev, "agent", "0", "who"))
			} else {
				assert.Contains(t, get(ev, "agent", "0", "who", "reference"), audit.AgentPrefix)
			}
			if c.role != "" {
				assert.Equal(t, c.role, get(ev, "agent", "0", "role", "0", "coding", "0", "code"))
			}
			if c.request == "transaction" {
				assert.Equal(t, "transaction Bundle of 1 entries", get(ev, "entity", "0", "description"))
			}
		})
	}
}

func TestAuditEventsAreForAdminsOnly(t *testing.T) {
	var w *audit.Writer
	s := newAuthServer(t, withAudit(&w))
	admin := s.token("admin", "user/*.cruds", "")
	viewer := s.token("viewer", "user/*.rs", "")
	doctor := s.token("doctor", "user/*.cruds", "")
	res := s.as(admin, "POST", "/Patient", patient("Dlamini"))
	require.Equal(t, http.StatusCreated, res.status)
	pid := res.str("id")
	require.Equal(t, 200, s.as(doctor, "GET", "/Patient/"+pid, nil).status)
	require.Eventually(t, func() bool { return w.Written() >= 2 }, 5*time.Second, 10*time.Millisecond)

	cases := []struct {
		name, tok, method, path string
		status                  int
	}{
		{"viewer may not search AuditEvents", viewer, "GET", "/AuditEvent", 403},
		{"doctor may not read an AuditEvent", doctor, "GET", "/AuditEvent/x", 403},
		{"viewer may not ask for them across types", viewer, "GET", "/?_type=AuditEvent", 403},
		{"viewer may not chain into them", viewer, "GET", "/Patient?_has:AuditEvent:entity:action=R", 403},
		{"admin may not delete one", admin, "DELETE", "/AuditEvent/x", 403},
		{"admin may not update one", admin, "PUT", "/AuditEvent/x", 403},
		{"admin searches them", admin, "GET", "/AuditEvent?entity=Patient/" + pid, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body any
			if c.method == "PUT" {
				body = map[string]any{"resourceType": "AuditEvent", "id": "x"}
			}
			res := s.as(c.tok, c.method, c.path, body)
			assert.Equal(t, c.status, res.status, "%s", res.raw)
		})
	}
	t.Run("admin finds a read of the patient by entity and agent", func(t *testing.T) {
		// The test issuer's tokens have their role as subject.
		res := s.as(admin, "GET", "/AuditEvent?entity=Patient/"+pid+"&agent="+url.QueryEscape(audit.AgentReference("doctor"))+"&date=ge2020-01-01", nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.raw)
		assert.EqualValues(t, 1, total(res))
		assert.Equal(t, "read", res.str("entry", "0", "resource", "subtype", "0", "code"))
	})
	t.Run("system history leaves them out for others", func(t *testing.T) {
		res := s.as(viewer, "GET", "/_history?_count=1000", nil)
		require.Equal(t, http.StatusOK, res.status)
		for _, e := range asSlice(res.body["entry"]) {
			assert.NotEqual(t, "AuditEvent", get(e, "resource", "resourceType"))
		}
		res = s.as(admin, "GET", "/_history?_count=1000", nil)
		require.Equal(t, http.StatusOK, res.status)
		var audits int
		for _, e := range asSlice(res.body["entry"]) {
			if get(e, "resource", "resourceType") == "AuditEvent" {
				audits++
			}
		}
		assert.Positive(t, audits)
	})
	t.Run("system search leaves them out for others", func(t *testing.T) {
		res := s.as(viewer, "GET", "/?_lastUpdated=gt2000-01-01&_count=1000", nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.raw)
		for _, e := range asSlice(res.body["entry"]) {
			assert.NotEqual(t, "AuditEvent", get(e, "resource", "resourceType"))
		}
	})
}

// The CapabilityStatement says what is recorded and that browser apps of
// configured origins may call the API.
func TestMetadataDescribesAuditAndCORS(t *testing.T) {
	var w *audit.Writer
	s := newAuthServer(t, withAudit(&w), func(t *testing.T, cfg *rest.Config, st *postgres.Store) { cfg.CORS = true })
	res := s.do("GET", "/metadata", nil)
	require.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, true, get(res.body, "rest", "0", "security", "cors"))
	assert.Contains(t, res.str("rest", "0", "security", "description"), "AuditEvent")
}
