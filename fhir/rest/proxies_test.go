package rest_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/audit"
	"github.com/fhirhub/fhirhub/httpsec"
)

// behindProxies puts s behind the trusted proxies cidrs, as fhirhub serve
// does with -trusted-proxies.
func behindProxies(t *testing.T, s *authServer, cidrs ...string) {
	t.Helper()
	p, err := httpsec.ParseTrustedProxies(cidrs)
	require.NoError(t, err)
	s.srv.Config.Handler = p.Handler(s.srv.Config.Handler)
}

// TestClientAddressBehindProxies checks the address that audit records
// and the per-address rate limit use: from X-Forwarded-For only when the
// peer (here 127.0.0.1) is a trusted proxy.
func TestClientAddressBehindProxies(t *testing.T) {
	clock := &testClock{t: time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)}
	cases := []struct {
		name    string
		trusted []string
		// wantAddr is the agent address audited for a request forwarded
		// for 203.0.113.9.
		wantAddr string
		// ownBuckets: clients with different forwarded addresses have
		// buckets of their own.
		ownBuckets bool
	}{
		{"without trusted proxies, headers are ignored", nil, "127.0.0.1", false},
		{"an untrusted peer cannot spoof", []string{"10.0.0.0/8"}, "127.0.0.1", false},
		{"through a trusted proxy", []string{"127.0.0.1/32", "10.0.0.0/8"}, "203.0.113.9", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var w *audit.Writer
			s := newAuthServer(t, withRateLimit(0.001, 2, clock.now), withAudit(&w))
			behindProxies(t, s, c.trusted...)
			tok := s.token("viewer", "user/*.rs", "")
			res := s.do("GET", "/Patient", nil, "Authorization", "Bearer "+tok, "X-Request-Id", "audited",
				"X-Forwarded-For", "198.51.100.1, 203.0.113.9, 10.0.0.7")
			require.Equal(t, http.StatusOK, res.status, "%s", res.raw)

			// Anonymous requests are limited by address: a burst of 2 each.
			anon := func(xff string) int {
				return s.do("GET", "/metadata", nil, "X-Forwarded-For", xff).status
			}
			for i := range 2 {
				require.Equal(t, http.StatusOK, anon("203.0.113.1"), "request %d of the burst", i)
			}
			assert.Equal(t, http.StatusTooManyRequests, anon("203.0.113.1"))
			if c.ownBuckets {
				assert.Equal(t, http.StatusOK, anon("203.0.113.2"), "another client behind the proxy has its own bucket")
			} else {
				assert.Equal(t, http.StatusTooManyRequests, anon("203.0.113.2"), "a forged header does not buy a new bucket")
			}

			require.NoError(t, w.Close(context.Background()))
			ev := auditEvents(t, s)["audited"]
			require.NotNil(t, ev)
			assert.Equal(t, c.wantAddr, get(ev, "agent", "0", "network", "address"))
		})
	}
}
