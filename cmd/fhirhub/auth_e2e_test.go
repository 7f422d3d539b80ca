package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/auth"
)

// call sends a request to a server, with token as bearer when not empty.
func call(t *testing.T, method, url, token string, body []byte) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, resp.Header, out
}

// TestServeIsSecureByDefault runs `fhirhub serve` with no auth flags: the
// embedded issuer. Unauthenticated reads and writes are refused, tokens
// minted by `fhirhub token` with the same key are accepted as their role
// and scopes allow, and /metadata, the SMART configuration, the JWKS and
// health stay public.
func TestServeIsSecureByDefault(t *testing.T) {
	clients := filepath.Join(t.TempDir(), "clients.json")
	require.NoError(t, os.WriteFile(clients, []byte(`[{"id":"lis","secretSha256":"`+auth.HashSecret("s3cret")+
		`","role":"integration","scope":"system/*.cru"}]`), 0o600))
	h := newHub(t, "-auth-clients-file", clients)
	base := "http://" + h.servers[0].http
	fhirBase := base + "/fhir"
	patient := []byte(`{"resourceType":"Patient","name":[{"family":"Dlamini"}]}`)

	for _, c := range []struct {
		method, path string
		body         []byte
	}{
		{"GET", "/fhir/Patient", nil},
		{"GET", "/fhir/Patient/1", nil},
		{"POST", "/fhir/Patient", patient},
		{"POST", "/fhir", []byte(`{"resourceType":"Bundle","type":"transaction","entry":[]}`)},
		{"GET", "/admin/hl7v2/messages", nil},
	} {
		status, header, body := call(t, c.method, base+c.path, "", c.body)
		assert.Equal(t, http.StatusUnauthorized, status, "%s %s", c.method, c.path)
		assert.Contains(t, header.Get("WWW-Authenticate"), "Bearer", "%s %s", c.method, c.path)
		assert.Equal(t, "OperationOutcome", body["resourceType"], "%s %s", c.method, c.path)
	}

	for _, path := range []string{"/fhir/metadata", "/fhir/.well-known/smart-configuration", "/auth/jwks.json", "/healthz"} {
		status, _, _ := call(t, "GET", base+path, "", nil)
		assert.Equal(t, http.StatusOK, status, path)
	}

	clerk := strings.TrimSpace(runMain(t, "token", "-auth-key-file", h.keyFile, "-role", "clerk",
		"-tenant", "demo", "-facility", "f1", "-scope", "user/*.cruds", "-ttl", "10m"))
	status, _, created := call(t, "POST", fhirBase+"/Patient", clerk, patient)
	require.Equal(t, http.StatusCreated, status, "%v", created)
	id, _ := created["id"].(string)
	status, _, _ = call(t, "GET", fhirBase+"/Patient/"+id, clerk, nil)
	assert.Equal(t, http.StatusOK, status)

	reader := strings.TrimSpace(runMain(t, "token", "-auth-key-file", h.keyFile, "-role", "doctor", "-tenant", "demo", "-scope", "user/*.read"))
	status, _, _ = call(t, "GET", fhirBase+"/Patient/"+id, reader, nil)
	assert.Equal(t, http.StatusOK, status)
	for _, tenant := range []string{"other", ""} {
		outsider := strings.TrimSpace(runMain(t, "token", "-auth-key-file", h.keyFile, "-role", "doctor", "-tenant", tenant, "-scope", "user/*.read"))
		status, _, _ = call(t, "GET", fhirBase+"/Patient/"+id, outsider, nil)
		assert.Equal(t, http.StatusNotFound, status, "tenant %q does not see demo's Patient", tenant)
	}
	status, _, body := call(t, "POST", fhirBase+"/Patient", reader, patient)
	assert.Equal(t, http.StatusForbidden, status, "read scopes do not write")
	assert.Equal(t, "forbidden", issue(body))
	status, _, _ = call(t, "GET", base+"/admin/hl7v2/messages", reader, nil)
	assert.Equal(t, http.StatusForbidden, status, "the operator API is for admin and integration")
	status, _, _ = call(t, "GET", base+"/admin/hl7v2/messages", h.admin, nil)
	assert.Equal(t, http.StatusOK, status)
	var err error

	// fhirhub replay sends its token; without one the server refuses it.
	t.Setenv("FHIRHUB_TOKEN", "")
	_, err = runMainErr("replay", "-server", base, "-status", "error")
	assert.Error(t, err, "replay without a token")
	runMain(t, "replay", "-server", base, "-token", h.admin, "-status", "error")

	// A backend service gets a token with client credentials.
	req, err := http.NewRequest(http.MethodPost, base+"/auth/token", strings.NewReader("grant_type=client_credentials&scope=system%2F*.cru"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("lis", "s3cret")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var granted struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&granted))
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	status, _, _ = call(t, "POST", fhirBase+"/Patient", granted.AccessToken, patient)
	assert.Equal(t, http.StatusCreated, status, "system/*.cru as integration")
	status, _, _ = call(t, "DELETE", fhirBase+"/Patient/"+id, granted.AccessToken, nil)
	assert.Equal(t, http.StatusForbidden, status, "no d in its scopes nor its role")
	_, _, smart := call(t, "GET", fhirBase+"/.well-known/smart-configuration", "", nil)
	assert.Equal(t, base+"/auth/token", strings.Replace(smart["token_endpoint"].(string), "localhost", "127.0.0.1", 1))

	// A token from another key (another ./var) is refused.
	foreign := strings.TrimSpace(runMain(t, "token", "-auth-key-file", t.TempDir()+"/other.pem", "-role", "admin"))
	status, _, body = call(t, "GET", fhirBase+"/Patient/"+id, foreign, nil)
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Equal(t, "login", issue(body))
}

func issue(oo map[string]any) string {
	issues, _ := oo["issue"].([]any)
	if len(issues) == 0 {
		return ""
	}
	first, _ := issues[0].(map[string]any)
	code, _ := first["code"].(string)
	return code
}
