package httpsec_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/httpsec"
)

// app stands for the API: it refuses requests without a token, and
// counts the requests that reach it.
func app(reached *atomic.Int32) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		if r.Header.Get("Authorization") == "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("ETag", `W/"1"`)
		w.WriteHeader(http.StatusOK)
	})
}

func serve(t *testing.T, tls bool, origins ...string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	cfg := httpsec.DefaultConfig()
	cfg.AllowedOrigins = origins
	p, err := httpsec.New(cfg)
	require.NoError(t, err)
	reached := &atomic.Int32{}
	srv := httptest.NewUnstartedServer(p.Handler(app(reached)))
	if tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv, reached
}

func send(t *testing.T, srv *httptest.Server, method string, headers ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+"/fhir/Patient", nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := srv.Client().Do(req)
	require.NoError(t, err)
	res.Body.Close()
	return res
}

func TestCORS(t *testing.T) {
	const app1 = "https://app.example.org"
	srv, reached := serve(t, false, app1, "http://localhost:3000")
	preflight := []string{"Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "authorization, if-match, content-type"}

	cases := []struct {
		name, method, origin string
		headers              []string
		status               int
		allowOrigin          string
		reachesApp           bool
	}{
		{"preflight of a configured origin, no token", http.MethodOptions, app1, preflight, http.StatusNoContent, app1, false},
		{"preflight of a configured origin, another case", http.MethodOptions, "HTTP://LOCALHOST:3000", preflight, http.StatusNoContent, "HTTP://LOCALHOST:3000", false},
		{"preflight of another origin", http.MethodOptions, "https://evil.example", preflight, http.StatusForbidden, "", false},
		{"request of a configured origin", http.MethodGet, app1, []string{"Authorization", "Bearer x"}, http.StatusOK, app1, true},
		{"request of another origin", http.MethodGet, "https://evil.example", []string{"Authorization", "Bearer x"}, http.StatusOK, "", true},
		{"request without an origin", http.MethodGet, "", []string{"Authorization", "Bearer x"}, http.StatusOK, "", true},
		{"a refused request still tells the app why", http.MethodGet, app1, nil, http.StatusUnauthorized, app1, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := reached.Load()
			h := c.headers
			if c.origin != "" {
				h = append([]string{"Origin", c.origin}, h...)
			}
			res := send(t, srv, c.method, h...)
			assert.Equal(t, c.status, res.StatusCode)
			assert.Equal(t, c.allowOrigin, res.Header.Get("Access-Control-Allow-Origin"))
			assert.Equal(t, c.reachesApp, reached.Load() > before, "reaches the app")
			if c.allowOrigin == "" {
				for k := range res.Header {
					assert.NotContains(t, k, "Access-Control-", "no CORS header for %s", c.name)
				}
			}
			if c.origin != "" {
				assert.Contains(t, res.Header.Values("Vary"), "Origin")
			}
			if c.allowOrigin != "" && c.method == http.MethodOptions {
				methods := res.Header.Get("Access-Control-Allow-Methods")
				for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
					assert.Contains(t, methods, m)
				}
				allowed := res.Header.Get("Access-Control-Allow-Headers")
				for _, h := range []string{"Authorization", "Content-Type", "If-Match", "If-None-Exist", "If-None-Match", "Prefer"} {
					assert.Contains(t, allowed, h)
				}
				assert.Equal(t, "600", res.Header.Get("Access-Control-Max-Age"))
			}
			if c.allowOrigin != "" && c.method != http.MethodOptions {
				exposed := res.Header.Get("Access-Control-Expose-Headers")
				for _, h := range []string{"ETag", "Location", "Last-Modified", "Content-Location"} {
					assert.Contains(t, exposed, h)
				}
			}
		})
	}
}

func TestCORSAnyOrigin(t *testing.T) {
	srv, _ := serve(t, false, "*")
	res := send(t, srv, http.MethodOptions, "Origin", "https://anything.example", "Access-Control-Request-Method", "GET")
	assert.Equal(t, http.StatusNoContent, res.StatusCode)
	assert.Equal(t, "*", res.Header.Get("Access-Control-Allow-Origin"))
}

func TestSecurityHeaders(t *testing.T) {
	plain, _ := serve(t, false)
	tls, _ := serve(t, true)
	cases := []struct {
		name    string
		srv     *httptest.Server
		headers []string
		noStore bool
		hsts    bool
	}{
		{"authenticated", plain, []string{"Authorization", "Bearer x"}, true, false},
		{"unauthenticated", plain, nil, false, false},
		{"authenticated over TLS", tls, []string{"Authorization", "Bearer x"}, true, true},
		{"unauthenticated over TLS", tls, nil, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := send(t, c.srv, http.MethodGet, c.headers...)
			assert.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
			assert.Equal(t, "no-referrer", res.Header.Get("Referrer-Policy"))
			assert.Equal(t, "DENY", res.Header.Get("X-Frame-Options"))
			assert.Contains(t, res.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
			if c.noStore {
				assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
			} else {
				assert.Empty(t, res.Header.Get("Cache-Control"))
			}
			if c.hsts {
				assert.Contains(t, res.Header.Get("Strict-Transport-Security"), "max-age=63072000")
			} else {
				assert.Empty(t, res.Header.Get("Strict-Transport-Security"))
			}
		})
	}
}

func TestNewRefusesBadOrigins(t *testing.T) {
	for _, o := range []string{"app.example.org", "ftp://x", "https://x/path", "https://x?q=1"} {
		t.Run(o, func(t *testing.T) {
			cfg := httpsec.DefaultConfig()
			cfg.AllowedOrigins = []string{o}
			_, err := httpsec.New(cfg)
			assert.Error(t, err)
		})
	}
}
