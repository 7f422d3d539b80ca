package rest_test

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/audit"
	"github.com/fhirhub/fhirhub/auth"
	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/store"
)

// tenantToken mints a token of role for tenant (and facility, may be "").
func (s *authServer) tenantToken(role, scope, tenant, facility string) string {
	s.t.Helper()
	tok, err := s.iss.Mint(auth.TokenRequest{Role: role, Scope: scope, Tenant: tenant, Facility: facility})
	require.NoError(s.t, err)
	return tok
}

// refs returns the Type/id of every entry of a Bundle response, sorted.
func refs(r *response) []string {
	var out []string
	for _, e := range asSlice(r.body["entry"]) {
		res, _ := get(e, "resource").(map[string]any)
		if res == nil {
			continue
		}
		t, _ := res["resourceType"].(string)
		id, _ := res["id"].(string)
		if t == "OperationOutcome" {
			continue
		}
		out = append(out, t+"/"+id)
	}
	sort.Strings(out)
	return out
}

// TestTenantIsolation: two tenants' tokens against one server. Each
// tenant sees its own resources only, through every interaction: read,
// vread, history at every level, search (count, _include, _revinclude,
// chains, _has), transactions with conditional references and
// conditional create/update/delete, PATCH, $validate. Another tenant's id
// is not found (404), never forbidden, and the same id or business
// identifier in two tenants names two resources.
func TestTenantIsolation(t *testing.T) {
	s := newAuthServer(t)
	const scope = "user/*.cruds"
	a := s.tenantToken("admin", scope, "acme", "")
	b := s.tenantToken("admin", scope, "bravo", "")
	const sys = "urn:oid:1.2.3.4"

	// Tenant acme: a Patient with a business identifier, one with the id
	// both tenants use, and an Observation on each.
	res := s.as(a, "POST", "/Patient", patient("Shared", sys, "MRN-1", sys, "ONLY-ACME"))
	require.Equal(t, http.StatusCreated, res.status, "%s", res.raw)
	pa := res.str("id")
	same := patient("AcmeSame")
	same["id"] = "same"
	require.Equal(t, http.StatusCreated, s.as(a, "PUT", "/Patient/same", same).status)
	obsA := obsFor(pa)
	obsA["code"] = map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "2345-7"}}}
	res = s.as(a, "POST", "/Observation", obsA)
	require.Equal(t, http.StatusCreated, res.status, "%s", res.raw)
	oa := res.str("id")
	obsSame := obsFor("same")
	obsSame["code"] = map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "2345-7"}}}
	require.Equal(t, http.StatusCreated, s.as(a, "POST", "/Observation", obsSame).status)

	// The default tenant (a token without one) has the identifier too.
	deployment := s.tenantToken("admin", scope, "", "")
	res = s.as(deployment, "POST", "/Patient", patient("Default", sys, "MRN-1"))
	require.Equal(t, http.StatusCreated, res.status)
	pd := res.str("id")

	// Tenant bravo: the same id, the same business identifier, and an
	// Observation whose subject names acme's Patient id.
	same["name"] = []any{map[string]any{"family": "BravoSame"}}
	require.Equal(t, http.StatusCreated, s.as(b, "PUT", "/Patient/same", same).status, "the same id is free in another tenant")
	res = s.as(b, "POST", "/Patient", patient("Bravo", sys, "MRN-1"))
	require.Equal(t, http.StatusCreated, res.status)
	pb := res.str("id")
	res = s.as(b, "POST", "/Observation", obsFor(pa))
	require.Equal(t, http.StatusCreated, res.status)
	ob := res.str("id")

	t.Run("instance interactions on another tenant's ids are not found", func(t *testing.T) {
		patch := `[{"op":"replace","path":"/gender","value":"male"}]`
		for _, c := range []struct {
			name, method, path string
			body               any
			headers            []string
		}{
			{"read", "GET", "/Patient/" + pa, nil, nil},
			{"vread", "GET", "/Patient/" + pa + "/_history/1", nil, nil},
			{"history", "GET", "/Patient/" + pa + "/_history", nil, nil},
			{"read an Observation", "GET", "/Observation/" + oa, nil, nil},
			{"patch", "PATCH", "/Patient/" + pa, patch, []string{"Content-Type", "application/json-patch+json"}},
			{"delete", "DELETE", "/Observation/" + oa, nil, nil},
		} {
			h := append([]string{"Authorization", "Bearer " + b}, c.headers...)
			res := s.do(c.method, c.path, c.body, h...)
			assert.Equal(t, http.StatusNotFound, res.status, "%s: %s", c.name, res.raw)
			assert.Equal(t, "not-found", issueCode(res), c.name)
		}
		// $validate of an instance answers the same for another tenant's
		// id as for an id that exists nowhere.
		body := patient("Check")
		theirs, none := s.as(b, "POST", "/Patient/"+pa+"/$validate", body), s.as(b, "POST", "/Patient/no-such-id/$validate", body)
		assert.Equal(t, none.status, theirs.status)
		assert.Equal(t, none.str("issue", "0", "code"), theirs.str("issue", "0", "code"))
		res := s.as(a, "GET", "/Patient/"+pa, nil)
		require.Equal(t, http.StatusOK, res.status)
		assert.Equal(t, "female", res.str("gender"), "acme's Patient is untouched")
		assert.Equal(t, http.StatusOK, s.as(a, "GET", "/Observation/"+oa, nil).status)
		assert.Equal(t, "AcmeSame", s.as(a, "GET", "/Patient/same", nil).str("name", "0", "family"))
		assert.Equal(t, "BravoSame", s.as(b, "GET", "/Patient/same", nil).str("name", "0", "family"))
	})

	t.Run("searches", func(t *testing.T) {
		q := func(tok, path string) []string {
			t.Helper()
			res := s.as(tok, "GET", path, nil)
			require.Equal(t, http.StatusOK, res.status, "%s: %s", path, res.raw)
			return refs(res)
		}
		assert.Equal(t, []string{"Patient/" + pb}, q(b, "/Patient?identifier="+url.QueryEscape(sys+"|MRN-1")))
		assert.Equal(t, []string{"Patient/" + pa}, q(a, "/Patient?identifier="+url.QueryEscape(sys+"|MRN-1")))
		assert.Empty(t, q(b, "/Patient?identifier="+url.QueryEscape(sys+"|ONLY-ACME")))
		assert.Equal(t, []string{"Patient/" + pb, "Patient/same"}, q(b, "/Patient"))
		assert.Equal(t, []string{"Patient/same"}, q(b, "/Patient?_id=same"))
		assert.Empty(t, q(b, "/Patient?_id="+pa))
		assert.Empty(t, q(b, "/Patient?name=Shared"))
		assert.Empty(t, q(b, "/Observation?code=2345-7"))

		res := s.as(b, "GET", "/Observation?_summary=count", nil)
		require.Equal(t, http.StatusOK, res.status)
		assert.EqualValues(t, 1, total(res))
		res = s.as(b, "GET", "/Patient?identifier="+url.QueryEscape(sys+"|ONLY-ACME")+"&_total=accurate", nil)
		assert.EqualValues(t, 0, total(res))

		// bravo's Observation names acme's Patient id: following it finds
		// nothing, in an include or a chain.
		assert.Equal(t, []string{"Observation/" + ob}, q(b, "/Observation?_include=Observation:subject"))
		assert.Equal(t, []string{"Observation/" + ob}, q(b, "/Observation?subject="+pa), "the reference itself is bravo's")
		assert.Empty(t, q(b, "/Observation?subject:Patient.name=Shared"))
		assert.Equal(t, []string{"Observation/" + oa, "Patient/" + pa}, q(a, "/Observation?subject:Patient.name=Shared&_include=Observation:subject"))
		// acme's Observations on Patient/same do not reach bravo's Patient/same.
		assert.Equal(t, []string{"Patient/same"}, q(b, "/Patient?_id=same&_revinclude=Observation:subject"))
		assert.Empty(t, q(b, "/Patient?_has:Observation:subject:code=2345-7"))
		assert.Equal(t, []string{"Patient/" + pa, "Patient/same"}, q(a, "/Patient?_has:Observation:subject:code=2345-7"))
		// Across types.
		assert.Empty(t, q(b, "/?_type=Patient,Observation&_id="+oa))
		res = s.do("POST", "/Patient/_search", "name=Shared", "Authorization", "Bearer "+b,
			"Content-Type", "application/x-www-form-urlencoded")
		assert.Equal(t, http.StatusOK, res.status)
		assert.Empty(t, refs(res))
	})

	t.Run("history", func(t *testing.T) {
		for _, path := range []string{"/Patient/_history", "/_history"} {
			res := s.as(b, "GET", path, nil)
			require.Equal(t, http.StatusOK, res.status)
			for _, e := range asSlice(res.body["entry"]) {
				id, _ := get(e, "resource", "id").(string)
				assert.NotContains(t, []string{pa, oa}, id, "%s shows an acme resource", path)
				if id == "same" {
					assert.Equal(t, "BravoSame", get(e, "resource", "name", "0", "family"))
				}
			}
		}
		res := s.as(b, "GET", "/Patient/_history", nil)
		assert.EqualValues(t, 2, total(res), "bravo wrote two Patient versions")
	})

	t.Run("transactions resolve criteria and references in the caller's tenant", func(t *testing.T) {
		tx := map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
			map[string]any{"fullUrl": "urn:uuid:6b0fd4a4-7a7e-4c39-8f5f-7d1c0ad3b1a1",
				"resource": patient("Updated", sys, "MRN-1"),
				"request":  map[string]any{"method": "PUT", "url": "Patient?identifier=" + url.QueryEscape(sys+"|MRN-1")}},
			map[string]any{"resource": patient("New", sys, "ONLY-ACME"),
				"request": map[string]any{"method": "POST", "url": "Patient", "ifNoneExist": "identifier=" + url.QueryEscape(sys+"|ONLY-ACME")}},
			map[string]any{"resource": obsFor("x"), "request": map[string]any{"method": "POST", "url": "Observation"}},
			map[string]any{"request": map[string]any{"method": "DELETE", "url": "Observation?code=2345-7"}},
		}}
		obs := asSlice(tx["entry"])[2].(map[string]any)["resource"].(map[string]any)
		obs["subject"] = map[string]any{"reference": "Patient?identifier=" + sys + "|MRN-1"}
		res := s.as(b, "POST", "", tx)
		require.Equal(t, http.StatusOK, res.status, "%s", res.raw)
		assert.Equal(t, "200 OK", res.str("entry", "0", "response", "status"), "updates bravo's MRN-1")
		assert.Equal(t, "201 Created", res.str("entry", "1", "response", "status"), "ONLY-ACME is new in bravo")
		res = s.as(b, "GET", "/Patient/"+pb, nil)
		assert.Equal(t, "Updated", res.str("name", "0", "family"))
		res = s.as(b, "GET", "/Observation?subject="+pb, nil)
		assert.Len(t, refs(res), 1, "the conditional reference resolved to bravo's Patient")
		// acme is untouched: its Patient keeps its name, its Observations
		// with code 2345-7 survive bravo's conditional delete.
		assert.Equal(t, "Shared", s.as(a, "GET", "/Patient/"+pa, nil).str("name", "0", "family"))
		assert.Equal(t, "Default", s.as(deployment, "GET", "/Patient/"+pd, nil).str("name", "0", "family"))
		res = s.as(a, "GET", "/Observation?code=2345-7", nil)
		assert.Len(t, refs(res), 2)
		res = s.as(a, "GET", "/Patient?identifier="+url.QueryEscape(sys+"|ONLY-ACME"), nil)
		assert.Equal(t, []string{"Patient/" + pa}, refs(res))
	})

	t.Run("conditional interactions outside a Bundle", func(t *testing.T) {
		res := s.do("PUT", "/Patient?identifier="+url.QueryEscape(sys+"|ONLY-ACME"), patient("Cond", sys, "ONLY-ACME"),
			"Authorization", "Bearer "+b)
		assert.Equal(t, http.StatusOK, res.status, "%s", res.raw)
		res = s.do("POST", "/Patient", patient("Again", sys, "MRN-1"), "Authorization", "Bearer "+b,
			"If-None-Exist", "identifier="+url.QueryEscape(sys+"|MRN-1"))
		assert.Equal(t, http.StatusOK, res.status, "If-None-Exist matches bravo's own")
		assert.Equal(t, pb, res.str("id"))
		res = s.do("DELETE", "/Patient?name=Shared", nil, "Authorization", "Bearer "+b)
		assert.Contains(t, []int{http.StatusOK, http.StatusNoContent, http.StatusNotFound}, res.status)
		assert.Equal(t, http.StatusOK, s.as(a, "GET", "/Patient/"+pa, nil).status)
	})
}

// TestTenantSearchParameter: custom search parameters serve every tenant,
// so only the deployment (no tenant) may register one.
func TestTenantSearchParameter(t *testing.T) {
	s := newAuthServer(t)
	sp := map[string]any{"resourceType": "SearchParameter", "url": "http://example.org/sp/x", "name": "x", "status": "active",
		"description": "x", "code": "x", "base": []any{"Patient"}, "type": "token", "expression": "Patient.gender"}
	res := s.as(s.tenantToken("admin", "user/*.cruds", "acme", ""), "POST", "/SearchParameter", sp)
	assert.Equal(t, http.StatusForbidden, res.status, "%s", res.raw)
	res = s.as(s.tenantToken("admin", "user/*.cruds", "", ""), "POST", "/SearchParameter", sp)
	assert.Equal(t, http.StatusCreated, res.status, "%s", res.raw)
}

// TestFacilityScoping: a token confined to a facility writes resources
// tagged with it, sees those and the tenant's untagged (shared) ones,
// and does not see another facility's; a tenant-wide token sees all.
func TestFacilityScoping(t *testing.T) {
	s := newAuthServer(t)
	const scope = "user/*.cruds"
	wide := s.tenantToken("admin", scope, "acme", "")
	f1 := s.tenantToken("doctor", scope, "acme", "f1")
	f2 := s.tenantToken("doctor", scope, "acme", "f2")

	res := s.as(wide, "POST", "/Patient", patient("Shared"))
	require.Equal(t, http.StatusCreated, res.status)
	pid := res.str("id")
	res = s.as(f1, "POST", "/Observation", obsFor(pid))
	require.Equal(t, http.StatusCreated, res.status, "%s", res.raw)
	o1 := res.str("id")
	res = s.as(f1, "GET", "/Observation/"+o1, nil)
	require.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, store.FacilitySystem, res.str("meta", "tag", "0", "system"))
	assert.Equal(t, "f1", res.str("meta", "tag", "0", "code"))

	assert.Equal(t, http.StatusOK, s.as(f2, "GET", "/Patient/"+pid, nil).status, "untagged resources are shared")
	assert.Equal(t, http.StatusNotFound, s.as(f2, "GET", "/Observation/"+o1, nil).status)
	assert.Equal(t, http.StatusNotFound, s.as(f2, "GET", "/Observation/"+o1+"/_history/1", nil).status)
	assert.Empty(t, refs(s.as(f2, "GET", "/Observation?subject="+pid, nil)))
	assert.Equal(t, []string{"Patient/" + pid}, refs(s.as(f2, "GET", "/Patient?_revinclude=Observation:subject", nil)))
	assert.Equal(t, []string{"Observation/" + o1}, refs(s.as(f1, "GET", "/Observation?subject="+pid, nil)))
	assert.Equal(t, []string{"Observation/" + o1}, refs(s.as(wide, "GET", "/Observation?subject="+pid, nil)))
	for _, e := range asSlice(s.as(f2, "GET", "/_history", nil).body["entry"]) {
		assert.NotEqual(t, o1, get(e, "resource", "id"), "f2's history shows f1's Observation")
	}

	tagged := obsFor(pid)
	tagged["meta"] = map[string]any{"tag": []any{map[string]any{"system": store.FacilitySystem, "code": "f1"}}}
	res = s.as(f2, "POST", "/Observation", tagged)
	assert.Equal(t, http.StatusForbidden, res.status, "f2 may not write into f1: %s", res.raw)
	upd := obsFor(pid)
	upd["id"] = o1
	assert.Equal(t, http.StatusForbidden, s.as(f2, "PUT", "/Observation/"+o1, upd).status)
	assert.Equal(t, http.StatusNotFound, s.as(f2, "DELETE", "/Observation/"+o1, nil).status)
	// An update by f1 of a shared resource keeps it shared.
	pat := patient("Shared")
	pat["id"] = pid
	pat["gender"] = "other"
	res = s.as(s.tenantToken("clerk", scope, "acme", "f1"), "PUT", "/Patient/"+pid, pat)
	require.Equal(t, http.StatusOK, res.status, "%s", res.raw)
	assert.Empty(t, res.str("meta", "tag", "0", "code"))
	assert.Equal(t, "other", s.as(f2, "GET", "/Patient/"+pid, nil).str("gender"))
	// An update by f1 that leaves out the tag keeps the resource in f1.
	res = s.as(f1, "PUT", "/Observation/"+o1, upd)
	require.Equal(t, http.StatusOK, res.status, "%s", res.raw)
	assert.Equal(t, http.StatusNotFound, s.as(f2, "GET", "/Observation/"+o1, nil).status)
}

// TestAuditEventsStayInTheCallersTenant: a request's AuditEvent is
// stored in the caller's tenant, where that tenant's auditors find it,
// and in no other.
func TestAuditEventsStayInTheCallersTenant(t *testing.T) {
	var w *audit.Writer
	s := newAuthServer(t, withAudit(&w))
	tok := s.tenantToken("admin", "user/*.cruds", "acme", "")
	res := s.do("GET", "/Patient", nil, "Authorization", "Bearer "+tok, "X-Request-Id", "acme-search")
	require.Equal(t, http.StatusOK, res.status)
	require.NoError(t, w.Close(context.Background()))
	requestIDs := func(tenant string) []string {
		page, err := s.store.History(store.WithScope(context.Background(), store.Scope{Tenant: tenant}),
			store.HistoryQuery{Type: "AuditEvent", Count: 100})
		require.NoError(t, err)
		var out []string
		for _, v := range page.Versions {
			obj, err := fhir.ParseObject(v.Content)
			require.NoError(t, err)
			out = append(out, detail(obj, "request-id"))
		}
		return out
	}
	assert.Equal(t, []string{"acme-search"}, requestIDs("acme"))
	assert.NotContains(t, requestIDs(""), "acme-search")
	assert.NotContains(t, requestIDs("bravo"), "acme-search")
}
