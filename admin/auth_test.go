package admin_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/admin"
	"github.com/fhirhub/fhirhub/auth"
	"github.com/fhirhub/fhirhub/ratelimit"
	"github.com/fhirhub/fhirhub/store"
	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

// TestOperatorAPINeedsAnOperatorRole: the message store and replay answer
// only tokens of the admin or integration role, of the deployment (no
// tenant).
func TestOperatorAPINeedsAnOperatorRole(t *testing.T) {
	iss, v, mint := newIssuer(t)
	tenantAdmin, err := iss.Mint(auth.TokenRequest{Role: "admin", Scope: "user/*.cruds", Tenant: "acme"})
	require.NoError(t, err)
	replayed := 0
	api, err := admin.New(admin.Config{Messages: pgtest.Store(t), Auth: v,
		Replay: func(ctx context.Context, q store.MessageQuery) (int, error) { replayed++; return 0, nil }})
	require.NoError(t, err)
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)

	cases := []struct {
		name, method, path, token string
		status                    int
	}{
		{"no token", "GET", "/admin/hl7v2/messages", "", http.StatusUnauthorized},
		{"garbage token", "GET", "/admin/hl7v2/messages", "not.a.token", http.StatusUnauthorized},
		{"doctor", "GET", "/admin/hl7v2/messages", mint("doctor"), http.StatusForbidden},
		{"hospital admin", "POST", "/admin/hl7v2/messages/$replay?status=error", mint("hospital-admin"), http.StatusForbidden},
		{"a tenant's admin: messages span every tenant", "GET", "/admin/hl7v2/messages", tenantAdmin, http.StatusForbidden},
		{"admin lists", "GET", "/admin/hl7v2/messages", mint("admin"), http.StatusOK},
		{"integration replays", "POST", "/admin/hl7v2/messages/$replay?status=error", mint("integration"), http.StatusOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(c.method, srv.URL+c.path, nil)
			require.NoError(t, err)
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, c.status, resp.StatusCode)
			if c.status == http.StatusUnauthorized {
				assert.Contains(t, resp.Header.Get("WWW-Authenticate"), "Bearer")
			}
		})
	}
	assert.Equal(t, 1, replayed, "only the integration call replayed")
}

// TestOperatorAPIIsRateLimited: a caller beyond its burst gets 429 with
// Retry-After; another caller does not.
func TestOperatorAPIIsRateLimited(t *testing.T) {
	iss, v, _ := newIssuer(t)
	l, err := ratelimit.New(ratelimit.Config{Rate: 0.01, Burst: 2})
	require.NoError(t, err)
	api, err := admin.New(admin.Config{Messages: pgtest.Store(t), Auth: v, RateLimit: l})
	require.NoError(t, err)
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	get := func(sub string) *http.Response {
		tok, err := iss.Mint(auth.TokenRequest{Subject: sub, Role: "admin", Scope: "user/*.cruds"})
		require.NoError(t, err)
		req, err := http.NewRequest("GET", srv.URL+"/admin/hl7v2/messages", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	assert.Equal(t, http.StatusOK, get("op-1").StatusCode)
	assert.Equal(t, http.StatusOK, get("op-1").StatusCode)
	resp := get("op-1")
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	assert.Equal(t, "100", resp.Header.Get("Retry-After"))
	assert.Equal(t, http.StatusOK, get("op-2").StatusCode)
}

// newIssuer returns an embedded issuer for the test, a verifier of its
// tokens, and a minter of user/*.cruds tokens for a role.
func newIssuer(t *testing.T) (*auth.Issuer, *auth.Verifier, func(role string) string) {
	t.Helper()
	iss, err := auth.OpenIssuer(auth.IssuerConfig{KeyFile: filepath.Join(t.TempDir(), "issuer.pem"), Audience: "fhirhub"})
	require.NoError(t, err)
	vc := auth.DefaultVerifierConfig()
	vc.Keys, vc.Issuer, vc.Audience = iss, iss.Name(), "fhirhub"
	v, err := auth.NewVerifier(vc)
	require.NoError(t, err)
	return iss, v, func(role string) string {
		tok, err := iss.Mint(auth.TokenRequest{Role: role, Scope: "user/*.cruds"})
		require.NoError(t, err)
		return tok
	}
}
