package rest_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/auth"
	"github.com/fhirhub/fhirhub/fhir/rest"
	"github.com/fhirhub/fhirhub/fhir/search"
	"github.com/fhirhub/fhirhub/fhir/validate"
	"github.com/fhirhub/fhirhub/service"
	"github.com/fhirhub/fhirhub/store/postgres"
	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

// authServer is the API behind the embedded issuer's tokens.
type authServer struct {
	*testServer
	iss     *auth.Issuer
	keyFile string
	srv     *httptest.Server
}

// serverOption changes the API's configuration before it starts.
type serverOption func(t *testing.T, cfg *rest.Config, st *postgres.Store)

func newAuthServer(t *testing.T, opts ...serverOption) *authServer {
	t.Helper()
	srv := httptest.NewServer(nil)
	t.Cleanup(srv.Close)
	base := srv.URL + "/fhir"
	reg := search.NewRegistry()
	st := pgtest.StoreWith(t, postgres.Config{Extractor: reg, BaseURL: base})
	v := validate.New()
	svc, err := service.New(service.Config{Store: st, Validator: v, Registry: reg, BaseURL: base})
	require.NoError(t, err)
	keyFile := filepath.Join(t.TempDir(), "issuer.pem")
	iss, err := auth.OpenIssuer(auth.IssuerConfig{KeyFile: keyFile, Audience: "fhirhub"})
	require.NoError(t, err)
	vc := auth.DefaultVerifierConfig()
	vc.Keys, vc.Issuer, vc.Audience = iss, iss.Name(), "fhirhub"
	verifier, err := auth.NewVerifier(vc)
	require.NoError(t, err)
	cfg := rest.Config{Service: svc, BaseURL: base, ResourceTypes: v.ResourceTypes(), Auth: verifier,
		SMART: rest.SMART{Issuer: iss.Name(), JWKSURI: srv.URL + "/auth/jwks.json"}}
	for _, o := range opts {
		o(t, &cfg, st)
	}
	api, err := rest.New(cfg)
	require.NoError(t, err)
	srv.Config.Handler = api.Handler()
	return &authServer{testServer: &testServer{t: t, base: base, store: st, http: srv.Client()}, iss: iss, keyFile: keyFile, srv: srv}
}

// token mints a token; patient may be "".
func (s *authServer) token(role, scope, patient string) string {
	s.t.Helper()
	tok, err := s.iss.Mint(auth.TokenRequest{Role: role, Scope: scope, Patient: patient, Tenant: "demo"})
	require.NoError(s.t, err)
	return tok
}

func (s *authServer) as(tok, method, path string, body any) *response {
	s.t.Helper()
	return s.do(method, path, body, "Authorization", "Bearer "+tok)
}

func obsFor(patientID string) map[string]any {
	return map[string]any{"resourceType": "Observation", "status": "final", "code": map[string]any{"text": "glucose"},
		"subject": map[string]any{"reference": "Patient/" + patientID}}
}

func issueCode(r *response) string { return r.str("issue", "0", "code") }

func TestAuthRefusesRequestsWithoutAValidToken(t *testing.T) {
	s := newAuthServer(t)
	other, err := auth.OpenIssuer(auth.IssuerConfig{KeyFile: filepath.Join(t.TempDir(), "x.pem"), Audience: "fhirhub"})
	require.NoError(t, err)
	foreign, err := other.Mint(auth.TokenRequest{Role: "admin", Scope: "user/*.cruds"})
	require.NoError(t, err)

	cases := []struct {
		name, method, path, auth, challenge string
	}{
		{"read without a token", "GET", "/Patient/1", "", `Bearer realm="fhirhub"`},
		{"search without a token", "GET", "/Patient?name=x", "", `Bearer realm="fhirhub"`},
		{"create without a token", "POST", "/Patient", "", `Bearer realm="fhirhub"`},
		{"transaction without a token", "POST", "", "", `Bearer realm="fhirhub"`},
		{"basic credentials", "GET", "/Patient/1", "Basic YWRtaW46YWRtaW4=", `Bearer realm="fhirhub"`},
		{"garbage", "GET", "/Patient/1", "Bearer abc.def.ghi", `Bearer realm="fhirhub", error="invalid_token"`},
		{"token of another issuer's key", "GET", "/Patient/1", "Bearer " + foreign, `Bearer realm="fhirhub", error="invalid_token"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body any
			if c.method == "POST" {
				body = patient("Nobody")
			}
			var res *response
			if c.auth != "" {
				res = s.do(c.method, c.path, body, "Authorization", c.auth)
			} else {
				res = s.do(c.method, c.path, body)
			}
			assert.Equal(t, http.StatusUnauthorized, res.status)
			assert.Equal(t, c.challenge, res.header.Get("WWW-Authenticate"))
			assert.Equal(t, "OperationOutcome", res.str("resourceType"))
			assert.Equal(t, "login", issueCode(res))
		})
	}
	// An expired token of the server's own key.
	stale, err := auth.OpenIssuer(auth.IssuerConfig{KeyFile: s.keyFile, Audience: "fhirhub",
		Now: func() time.Time { return time.Now().Add(-2 * time.Hour) }})
	require.NoError(t, err)
	tok, err := stale.Mint(auth.TokenRequest{Role: "admin", Scope: "user/*.cruds"})
	require.NoError(t, err)
	res := s.as(tok, "GET", "/Patient/1", nil)
	assert.Equal(t, http.StatusUnauthorized, res.status)
	assert.Contains(t, res.str("issue", "0", "diagnostics"), "expired")
	assert.NotContains(t, string(res.raw), tok[len(tok)-20:], "no token material in the answer")
}

func TestAuthPublicEndpoints(t *testing.T) {
	s := newAuthServer(t)
	res := s.do("GET", "/metadata", nil)
	require.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "SMART-on-FHIR", res.str("rest", "0", "security", "service", "0", "coding", "0", "code"))
	assert.Equal(t, false, get(res.body, "rest", "0", "security", "cors"), "no CORS origins configured")
	assert.NotContains(t, res.str("rest", "0", "security", "description"), "AuditEvent", "no audit configured")

	res = s.do("GET", "/.well-known/smart-configuration", nil)
	require.Equal(t, http.StatusOK, res.status)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(res.raw, &doc))
	assert.Equal(t, s.iss.Name(), doc["issuer"])
	assert.Contains(t, doc["scopes_supported"], "patient/*.cruds", "patient/ scopes may write")
	assert.Contains(t, doc["capabilities"], "permission-v2")
	assert.NotEmpty(t, doc["jwks_uri"])
}

// TestAuthRolesAndScopes runs the decisions that matter through HTTP:
// the role or the scope alone refusing, operations, Bundles entry by
// entry, system search, chains, _has and included resources.
func TestAuthRolesAndScopes(t *testing.T) {
	s := newAuthServer(t)
	admin := s.token("admin", "user/*.cruds", "")
	res := s.as(admin, "POST", "/Patient", patient("Dlamini"))
	require.Equal(t, http.StatusCreated, res.status, "%s", res.raw)
	p1 := res.str("id")
	res = s.as(admin, "POST", "/Observation", obsFor(p1))
	require.Equal(t, http.StatusCreated, res.status, "%s", res.raw)
	obs := res.str("id")

	doctorRead := s.token("doctor", "user/*.read", "")
	doctor := s.token("doctor", "user/*.cruds", "")
	clerk := s.token("clerk", "user/*.cruds", "")
	finance := s.token("finance", "user/*.cruds", "")
	viewer := s.token("viewer", "user/*.cruds", "")
	obsOnly := s.token("doctor", "user/Observation.rs", "")

	cases := []struct {
		name, tok, method, path string
		body                    any
		status                  int
	}{
		{"doctor reads an Observation", doctorRead, "GET", "/Observation/" + obs, nil, 200},
		{"doctor with read scopes may not create", doctorRead, "POST", "/Observation", obsFor(p1), 403},
		{"doctor creates an Observation", doctor, "POST", "/Observation", obsFor(p1), 201},
		{"doctor's role may not update Patients", doctor, "PUT", "/Patient/" + p1, patient("Changed"), 403},
		{"Observation scope may not read Patients", obsOnly, "GET", "/Patient/" + p1, nil, 403},
		{"Observation scope searches Observations", obsOnly, "GET", "/Observation?subject=Patient/" + p1, nil, 200},
		{"clerk may not search Observations", clerk, "GET", "/Observation", nil, 403},
		{"clerk registers a Patient", clerk, "POST", "/Patient", patient("Nkosi"), 201},
		{"viewer may not delete", viewer, "DELETE", "/Observation/" + obs, nil, 403},
		{"viewer reads history", viewer, "GET", "/Observation/" + obs + "/_history", nil, 200},
		{"finance may not $validate an Observation", finance, "POST", "/Observation/$validate", obsFor(p1), 403},
		{"doctor may $validate", doctor, "POST", "/Observation/$validate", obsFor(p1), 200},
		{"doctor may not $reindex", doctor, "POST", "/$reindex", nil, 403},
		{"a tenant's admin may not $reindex every tenant", admin, "POST", "/Observation/$reindex", nil, 403},
		{"the deployment's admin may $reindex", s.tenantToken("admin", "user/*.cruds", "", ""), "POST", "/Observation/$reindex", nil, 200},
		{"doctor may not search every type", doctor, "GET", "/?_lastUpdated=gt2000", nil, 403},
		{"doctor searches the types it may", doctor, "GET", "/?_type=Observation,Patient", nil, 200},
		{"doctor may not read system history", doctor, "GET", "/_history", nil, 403},
		{"admin reads system history", admin, "GET", "/_history", nil, 200},
		{"a chain into a type the role may search", doctor, "GET", "/Observation?subject:Patient.name=Dlamini", nil, 200},
		{"_has into a type the role may not search", clerk, "GET", "/Patient?_has:Observation:subject:status=final", nil, 403},
		{"a chain into a type the role may not search", finance, "GET", "/Encounter?subject:Patient.name=x&reason-reference:Condition.code=x", nil, 403},
		{"conditional create needs search", s.token("doctor", "user/Observation.c", ""), "POST", "/Observation", obsFor(p1), 201},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := s.as(c.tok, c.method, c.path, c.body)
			assert.Equal(t, c.status, res.status, "%s", res.raw)
			if c.status == 403 {
				assert.Equal(t, "forbidden", issueCode(res))
				assert.Equal(t, `Bearer realm="fhirhub", error="insufficient_scope"`, res.header.Get("WWW-Authenticate"))
			}
		})
	}

	t.Run("conditional create with If-None-Exist needs search too", func(t *testing.T) {
		res := s.do("POST", "/Observation", obsFor(p1), "Authorization", "Bearer "+s.token("doctor", "user/Observation.c", ""),
			"If-None-Exist", "subject=Patient/"+p1)
		assert.Equal(t, http.StatusForbidden, res.status)
	})

	t.Run("included resources the caller may not read are left out", func(t *testing.T) {
		res := s.as(clerk, "GET", "/Patient?_id="+p1+"&_revinclude=Observation:subject", nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.raw)
		for _, e := range asSlice(res.body["entry"]) {
			assert.Equal(t, "Patient", get(e, "resource", "resourceType"))
		}
		res = s.as(doctor, "GET", "/Patient?_id="+p1+"&_revinclude=Observation:subject", nil)
		require.Equal(t, http.StatusOK, res.status)
		assert.Greater(t, len(asSlice(res.body["entry"])), 1, "the doctor sees the Observations")
	})

	t.Run("transaction entries are checked one by one", func(t *testing.T) {
		before := total(s.as(admin, "GET", "/Observation?_total=accurate", nil))
		tx := map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
			map[string]any{"resource": obsFor(p1), "request": map[string]any{"method": "POST", "url": "Observation"}},
			map[string]any{"resource": map[string]any{"resourceType": "Invoice", "status": "draft"},
				"request": map[string]any{"method": "POST", "url": "Invoice"}},
		}}
		res := s.as(doctor, "POST", "", tx)
		assert.Equal(t, http.StatusForbidden, res.status, "%s", res.raw)
		assert.Contains(t, issueExpressions(res.body), "Bundle.entry[1].request")
		assert.Equal(t, before, total(s.as(admin, "GET", "/Observation?_total=accurate", nil)), "nothing written")
		res = s.as(admin, "POST", "", tx)
		assert.Equal(t, http.StatusOK, res.status, "%s", res.raw)
	})
}

// TestAuthPatientScopes: patient/ scopes see only the token's patient's
// compartment.
func TestAuthPatientScopes(t *testing.T) {
	s := newAuthServer(t)
	admin := s.token("admin", "user/*.cruds", "")
	var ids []string
	var obs []string
	for _, name := range []string{"Mine", "Other"} {
		res := s.as(admin, "POST", "/Patient", patient(name))
		require.Equal(t, http.StatusCreated, res.status)
		ids = append(ids, res.str("id"))
		res = s.as(admin, "POST", "/Observation", obsFor(res.str("id")))
		require.Equal(t, http.StatusCreated, res.status)
		obs = append(obs, res.str("id"))
	}
	me := s.token("doctor", "patient/*.read", ids[0])

	assert.Equal(t, http.StatusOK, s.as(me, "GET", "/Patient/"+ids[0], nil).status)
	assert.Equal(t, http.StatusNotFound, s.as(me, "GET", "/Patient/"+ids[1], nil).status, "another patient does not exist")
	assert.Equal(t, http.StatusOK, s.as(me, "GET", "/Observation/"+obs[0], nil).status)
	assert.Equal(t, http.StatusNotFound, s.as(me, "GET", "/Observation/"+obs[1], nil).status)
	assert.Equal(t, http.StatusOK, s.as(me, "GET", "/Observation/"+obs[0]+"/_history/1", nil).status)
	assert.Equal(t, http.StatusNotFound, s.as(me, "GET", "/Observation/"+obs[1]+"/_history/1", nil).status)

	for path, want := range map[string]string{
		"/Observation":                              "Observation/" + obs[0],
		"/Observation?subject=Patient/" + ids[1]:    "",
		"/Patient":                                  "Patient/" + ids[0],
		"/Patient?_revinclude=Observation:subject":  "Patient/" + ids[0] + " Observation/" + obs[0],
		"/Observation?_include=Observation:subject": "Observation/" + obs[0] + " Patient/" + ids[0],
	} {
		res := s.as(me, "GET", path, nil)
		require.Equal(t, http.StatusOK, res.status, "%s: %s", path, res.raw)
		got := ""
		for _, e := range asSlice(res.body["entry"]) {
			if get(e, "search", "mode") == "outcome" {
				continue
			}
			if got != "" {
				got += " "
			}
			got += get(e, "resource", "resourceType").(string) + "/" + get(e, "resource", "id").(string)
		}
		assert.Equal(t, want, got, path)
	}
	for _, c := range []struct{ method, path string }{
		{"GET", "/Practitioner"},             // cannot be confined
		{"GET", "/?_type=Observation"},       // across types
		{"GET", "/Observation/_history"},     // type history
		{"POST", "/Observation"},             // writes
		{"DELETE", "/Observation/" + obs[0]}, // writes
		{"GET", "/Observation/" + obs[0] + "/_history"},
	} {
		var body any
		if c.method == "POST" {
			body = obsFor(ids[0])
		}
		res := s.as(me, c.method, c.path, body)
		assert.Equal(t, http.StatusForbidden, res.status, "%s %s: %s", c.method, c.path, res.raw)
	}
	me2 := s.token("doctor", "patient/*.cruds", ids[0])
	assert.Equal(t, http.StatusCreated, s.as(me2, "POST", "/Observation", obsFor(ids[0])).status, "writes in the compartment (TestAuthPatientScopedWrites)")
	noPatient := s.token("doctor", "patient/*.read", "")
	assert.Equal(t, http.StatusForbidden, s.as(noPatient, "GET", "/Patient/"+ids[0], nil).status, "no patient context, no access")
}
