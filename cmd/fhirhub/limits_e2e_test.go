package main

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServeLimitsAndBrowserHeaders runs `fhirhub serve` over HTTPS with a
// CORS origin and a small rate limit: preflights are answered without a
// token, every answer has the security headers (HSTS too, over TLS), and
// a client beyond its burst gets 429 with Retry-After.
func TestServeLimitsAndBrowserHeaders(t *testing.T) {
	pki := newPKI(t)
	pki.issue("fhirhub", x509.ExtKeyUsageServerAuth)
	certFile, keyFile := pki.path("fhirhub.pem"), pki.path("fhirhub-key.pem")
	const origin = "https://app.example.org"
	h := newHub(t, "-http-tls-cert", certFile, "-http-tls-key", keyFile, "-cors-origins", origin+",http://localhost:3000",
		"-rate-limit", "0.2", "-rate-burst", "3")
	base := "https://" + h.servers[0].http
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pki.pool}}}
	do := func(method, path string, headers ...string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, base+path, nil)
		require.NoError(t, err)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		res, err := client.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res
	}

	res := do("OPTIONS", "/fhir/Patient", "Origin", origin, "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "authorization, content-type, if-none-exist")
	assert.Equal(t, http.StatusNoContent, res.StatusCode, "preflight needs no token")
	assert.Equal(t, origin, res.Header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, res.Header.Get("Access-Control-Allow-Headers"), "If-None-Exist")
	res = do("OPTIONS", "/fhir/Patient", "Origin", "https://other.example", "Access-Control-Request-Method", "POST")
	assert.Empty(t, res.Header.Get("Access-Control-Allow-Origin"))

	for i := 0; i < 3; i++ {
		res = do("GET", "/fhir/Patient", "Authorization", "Bearer "+h.admin, "Origin", origin)
		require.Equal(t, http.StatusOK, res.StatusCode, "request %d of the burst", i)
	}
	assert.Equal(t, origin, res.Header.Get("Access-Control-Allow-Origin"))
	assert.Contains(t, res.Header.Get("Access-Control-Expose-Headers"), "ETag")
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	assert.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
	assert.Equal(t, "DENY", res.Header.Get("X-Frame-Options"))
	assert.True(t, strings.HasPrefix(res.Header.Get("Strict-Transport-Security"), "max-age="))

	res = do("GET", "/fhir/Patient", "Authorization", "Bearer "+h.admin)
	assert.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	assert.Equal(t, "5", res.Header.Get("Retry-After"))

	res = do("GET", "/healthz")
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
}

// TestServeTrustedProxies runs `fhirhub serve -trusted-proxies` with the
// test's own address as the proxy: anonymous clients forwarded for
// different addresses have their own rate-limit buckets.
func TestServeTrustedProxies(t *testing.T) {
	h := newHub(t, "-trusted-proxies", "10.0.0.0/8, 127.0.0.1", "-rate-limit", "0.001", "-rate-burst", "1")
	base := "http://" + h.servers[0].http
	get := func(xff string) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, base+"/fhir/metadata", nil)
		require.NoError(t, err)
		req.Header.Set("X-Forwarded-For", xff)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res.StatusCode
	}
	require.Equal(t, http.StatusOK, get("203.0.113.1"))
	assert.Equal(t, http.StatusTooManyRequests, get("203.0.113.1, 10.0.0.7"), "the same client through a second trusted proxy")
	assert.Equal(t, http.StatusOK, get("203.0.113.2"), "another client has its own bucket")
}
