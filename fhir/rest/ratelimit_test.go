package rest_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/audit"
	"github.com/fhirhub/fhirhub/auth"
	"github.com/fhirhub/fhirhub/fhir/rest"
	"github.com/fhirhub/fhirhub/ratelimit"
	"github.com/fhirhub/fhirhub/store/postgres"
)

// testClock is a settable time source, safe for the server's goroutines.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func withRateLimit(rate float64, burst int, now func() time.Time) serverOption {
	return func(t *testing.T, cfg *rest.Config, st *postgres.Store) {
		l, err := ratelimit.New(ratelimit.Config{Rate: rate, Burst: burst, Now: now})
		require.NoError(t, err)
		cfg.RateLimit = l
	}
}

// TestRateLimitPerClient runs the limiter behind a real HTTP server: each
// token subject has its own bucket, requests without a valid token share
// their address's, the request beyond the burst is 429 with Retry-After
// and a throttled OperationOutcome, and is not audited.
func TestRateLimitPerClient(t *testing.T) {
	clock := &testClock{t: time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)}
	var w *audit.Writer
	s := newAuthServer(t, withRateLimit(0.5, 3, clock.now), withAudit(&w))
	mint := func(sub string) string {
		tok, err := s.iss.Mint(auth.TokenRequest{Subject: sub, Role: "viewer", Scope: "user/*.rs"})
		require.NoError(t, err)
		return tok
	}
	appA, appB := mint("app-a"), mint("app-b")

	for i := 0; i < 3; i++ {
		require.Equal(t, http.StatusOK, s.as(appA, "GET", "/Patient", nil).status, "request %d of the burst", i)
	}
	res := s.as(appA, "GET", "/Patient", nil)
	assert.Equal(t, http.StatusTooManyRequests, res.status)
	assert.Equal(t, "2", res.header.Get("Retry-After"), "one request every 2 s")
	assert.Equal(t, "OperationOutcome", res.str("resourceType"))
	assert.Equal(t, "throttled", issueCode(res))

	assert.Equal(t, http.StatusOK, s.as(appB, "GET", "/Patient", nil).status, "another client is not slowed by app-a")

	t.Run("requests without a token are limited by address", func(t *testing.T) {
		for i := 0; i < 3; i++ {
			assert.Equal(t, http.StatusUnauthorized, s.do("GET", "/Patient", nil).status)
		}
		res := s.do("GET", "/metadata", nil)
		assert.Equal(t, http.StatusTooManyRequests, res.status, "public endpoints share the address's bucket")
		assert.NotEmpty(t, res.header.Get("Retry-After"))
		assert.Equal(t, http.StatusOK, s.as(mint("app-c"), "GET", "/Patient", nil).status,
			"a valid token from the same address has its own bucket")
	})

	clock.add(2 * time.Second)
	assert.Equal(t, http.StatusOK, s.as(appA, "GET", "/Patient", nil).status, "a token came back")
	assert.Equal(t, http.StatusTooManyRequests, s.as(appA, "GET", "/Patient", nil).status)

	require.NoError(t, w.Close(context.Background()))
	events := auditEvents(t, s)
	for _, ev := range events {
		assert.NotEqual(t, "429 throttled", ev["outcomeDesc"], "throttled requests are not audited")
	}
	// app-a: 3 + 1; app-b: 1; anonymous: 3 (401); app-c: 1.
	assert.Len(t, events, 9)
}
