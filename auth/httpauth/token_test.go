package httpauth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/auth"
	"github.com/fhirhub/fhirhub/auth/httpauth"
)

func TestClientCredentials(t *testing.T) {
	dir := t.TempDir()
	iss, err := auth.OpenIssuer(auth.IssuerConfig{KeyFile: filepath.Join(dir, "issuer.pem"), Audience: "fhirhub"})
	require.NoError(t, err)
	clientsFile := filepath.Join(dir, "clients.json")
	require.NoError(t, os.WriteFile(clientsFile, []byte(`[{"id":"lis","secretSha256":"`+auth.HashSecret("s3cret")+
		`","role":"integration","scope":"system/Observation.cru system/DiagnosticReport.cru","tenant":"demo"}]`), 0o600))
	clients, err := auth.LoadClients(clientsFile)
	require.NoError(t, err)
	h, err := httpauth.TokenHandler(httpauth.Config{Issuer: iss, Clients: clients, TTL: 10 * time.Minute})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	vc := auth.DefaultVerifierConfig()
	vc.Keys, vc.Issuer, vc.Audience = iss, iss.Name(), "fhirhub"
	v, err := auth.NewVerifier(vc)
	require.NoError(t, err)

	post := func(form url.Values, user, pass string) (int, map[string]any, http.Header) {
		req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(form.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var body map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		return resp.StatusCode, body, resp.Header
	}
	cc := url.Values{"grant_type": {"client_credentials"}}

	status, body, _ := post(cc, "lis", "s3cret")
	require.Equal(t, http.StatusOK, status, "%v", body)
	assert.Equal(t, "Bearer", body["token_type"])
	assert.EqualValues(t, 600, body["expires_in"])
	p, err := v.Verify(context.Background(), body["access_token"].(string))
	require.NoError(t, err)
	assert.Equal(t, "lis", p.Subject)
	assert.Equal(t, "integration", p.Role)
	assert.Equal(t, "demo", p.Tenant)
	assert.Len(t, p.Scopes, 2)

	narrow := url.Values{"grant_type": {"client_credentials"}, "scope": {"system/Observation.cru"},
		"client_id": {"lis"}, "client_secret": {"s3cret"}}
	status, body, _ = post(narrow, "", "")
	require.Equal(t, http.StatusOK, status, "client_secret_post")
	assert.Equal(t, "system/Observation.cru", body["scope"])

	for _, c := range []struct {
		name       string
		form       url.Values
		user, pass string
		status     int
		code       string
	}{
		{"wrong secret", cc, "lis", "guess", 401, "invalid_client"},
		{"unknown client", cc, "ris", "s3cret", 401, "invalid_client"},
		{"no credentials", cc, "", "", 401, "invalid_client"},
		{"scope beyond the client's", url.Values{"grant_type": {"client_credentials"}, "scope": {"system/*.cruds"}}, "lis", "s3cret", 400, "invalid_scope"},
		{"password grant", url.Values{"grant_type": {"password"}}, "lis", "s3cret", 400, "unsupported_grant_type"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, body, header := post(c.form, c.user, c.pass)
			assert.Equal(t, c.status, status)
			assert.Equal(t, c.code, body["error"])
			assert.Nil(t, body["access_token"])
			if status == 401 {
				assert.Contains(t, header.Get("WWW-Authenticate"), "Basic")
			}
		})
	}
}

func TestLoadClientsRefusesBadEntries(t *testing.T) {
	dir := t.TempDir()
	for name, doc := range map[string]string{
		"no id":        `[{"secretSha256":"` + auth.HashSecret("x") + `","role":"integration"}]`,
		"plain secret": `[{"id":"a","secretSha256":"x","role":"integration"}]`,
		"unknown role": `[{"id":"a","secretSha256":"` + auth.HashSecret("x") + `","role":"root"}]`,
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".json")
		require.NoError(t, os.WriteFile(path, []byte(doc), 0o600))
		_, err := auth.LoadClients(path)
		assert.Error(t, err, name)
	}
}
