package rest_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/audit"
	"github.com/fhirhub/fhirhub/fhir"
)

// bundleEntry is a Bundle entry with its request.
func bundleEntry(method, url string, resource map[string]any, extra ...string) map[string]any {
	req := map[string]any{"method": method, "url": url}
	for i := 0; i+1 < len(extra); i += 2 {
		req[extra[i]] = extra[i+1]
	}
	e := map[string]any{"request": req}
	if resource != nil {
		e["resource"] = resource
		e["fullUrl"] = "urn:uuid:" + strings.ToLower(method) + "-" + url
	}
	return e
}

func entityQuery(t *testing.T, ev fhir.Object) string {
	t.Helper()
	q, _ := get(ev, "entity", "0", "query").(string)
	if q == "" {
		return ""
	}
	b, err := base64.StdEncoding.DecodeString(q)
	require.NoError(t, err)
	return string(b)
}

func TestAuditBundleEntries(t *testing.T) {
	var w *audit.Writer
	s := newAuthServer(t, withAudit(&w))
	admin := s.token("admin", "user/*.cruds", "")
	res := s.as(admin, "POST", "/Patient", patient("Dlamini", "urn:mrn", "777"))
	require.Equal(t, http.StatusCreated, res.status, "%s", res.raw)
	pid := res.str("id")
	post := func(id string, bundle map[string]any) *response {
		t.Helper()
		return s.do("POST", "", bundle, "X-Request-Id", id, "Authorization", "Bearer "+admin)
	}

	ok := post("tx-ok", map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
		bundleEntry("POST", "Patient", patient("Nkosi")),
		bundleEntry("POST", "Observation", obsFor(pid)),
		bundleEntry("GET", "Patient/"+pid, nil),
		bundleEntry("GET", "Observation?subject=Patient/"+pid, nil),
		bundleEntry("POST", "Patient", patient("Dlamini"), "ifNoneExist", "identifier=urn:mrn|777"),
	}})
	require.Equal(t, http.StatusOK, ok.status, "%s", ok.raw)
	created := ok.str("entry", "0", "response", "location")
	observed := ok.str("entry", "1", "response", "location")
	require.NotEmpty(t, created)
	require.NotEmpty(t, observed)

	failed := post("tx-failed", map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
		bundleEntry("POST", "Patient", patient("Mokoena")),
		bundleEntry("GET", "Patient/nope", nil),
	}})
	require.Equal(t, http.StatusNotFound, failed.status, "%s", failed.raw)

	batch := post("batch", map[string]any{"resourceType": "Bundle", "type": "batch", "entry": []any{
		bundleEntry("DELETE", "Observation/"+strings.Split(observed, "/")[1], nil),
		bundleEntry("GET", "Patient/nope", nil),
	}})
	require.Equal(t, http.StatusOK, batch.status, "%s", batch.raw)

	require.NoError(t, w.Close(context.Background()))
	events := auditEvents(t, s)

	cases := []struct {
		key, subtype, action, outcome, what, query string
	}{
		{"tx-ok", "transaction", "E", "0", "", ""},
		{"tx-ok Bundle.entry[0]", "create", "C", "0", created, ""},
		{"tx-ok Bundle.entry[1]", "create", "C", "0", observed, ""},
		{"tx-ok Bundle.entry[2]", "read", "R", "0", "Patient/" + pid + "/_history/1", ""},
		{"tx-ok Bundle.entry[3]", "search-type", "E", "0", "", "subject=Patient/" + pid},
		{"tx-ok Bundle.entry[4]", "create", "C", "0", "Patient/" + pid + "/_history/1", "identifier=urn:mrn|777"},
		{"tx-failed", "transaction", "E", "4", "", ""},
		{"batch", "batch", "E", "0", "", ""},
		{"batch Bundle.entry[0]", "delete", "D", "0", strings.Replace(observed, "/_history/1", "/_history/2", 1), ""},
		{"batch Bundle.entry[1]", "read", "R", "4", "Patient/nope", ""},
	}
	for _, c := range cases {
		t.Run(c.key, func(t *testing.T) {
			ev := events[c.key]
			require.NotNil(t, ev, "no AuditEvent %q", c.key)
			assert.Equal(t, c.subtype, get(ev, "subtype", "0", "code"))
			assert.Equal(t, c.action, ev["action"])
			assert.Equal(t, c.outcome, ev["outcome"])
			what, _ := get(ev, "entity", "0", "what", "reference").(string)
			assert.Equal(t, c.what, what)
			assert.Equal(t, c.query, entityQuery(t, ev))
			assert.Equal(t, "admin", get(ev, "agent", "0", "role", "0", "coding", "0", "code"))
			assert.Equal(t, "127.0.0.1", get(ev, "agent", "0", "network", "address"))
		})
	}
	t.Run("the search entry names its type", func(t *testing.T) {
		assert.Equal(t, "Observation", get(events["tx-ok Bundle.entry[3]"], "entity", "0", "what", "type"))
	})
	t.Run("a batch entry's failure says why", func(t *testing.T) {
		assert.Contains(t, events["batch Bundle.entry[1]"]["outcomeDesc"], "404")
	})
	t.Run("a failed transaction records no entry", func(t *testing.T) {
		for key := range events {
			assert.False(t, strings.HasPrefix(key, "tx-failed "), "entry event %q of a failed transaction", key)
		}
		assert.Contains(t, events["tx-failed"]["outcomeDesc"], "404")
	})
	assert.Len(t, events, len(cases)+1, "the cases and the first create")
}
