package ratelimit_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/ratelimit"
)

// clock is a settable time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time                     { return c.t }
func (c *clock) add(d time.Duration)                { c.t = c.t.Add(d) }
func newClock() *clock                              { return &clock{t: time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)} }
func allowed(l *ratelimit.Limiter, key string) bool { ok, _ := l.Allow(key); return ok }

func TestLimiterTokenBucket(t *testing.T) {
	c := newClock()
	l, err := ratelimit.New(ratelimit.Config{Rate: 2, Burst: 3, Now: c.now})
	require.NoError(t, err)

	for i := 0; i < 3; i++ {
		assert.True(t, allowed(l, "a"), "burst request %d", i)
	}
	ok, wait := l.Allow("a")
	assert.False(t, ok, "beyond the burst")
	assert.Equal(t, 500*time.Millisecond, wait, "one token comes back in 1/Rate")
	assert.Equal(t, "1", ratelimit.RetryAfter(wait), "Retry-After rounds up to whole seconds")
	assert.True(t, allowed(l, "b"), "another client has its own bucket")

	c.add(250 * time.Millisecond)
	ok, wait = l.Allow("a")
	assert.False(t, ok)
	assert.Equal(t, 250*time.Millisecond, wait)
	c.add(250 * time.Millisecond)
	assert.True(t, allowed(l, "a"), "refilled at Rate")
	assert.False(t, allowed(l, "a"))

	c.add(time.Hour)
	n := 0
	for allowed(l, "a") {
		n++
	}
	assert.Equal(t, 3, n, "an idle client gets Burst back, no more")
}

func TestLimiterForgetsIdleClients(t *testing.T) {
	c := newClock()
	l, err := ratelimit.New(ratelimit.Config{Rate: 1, Burst: 1, MaxClients: 10, Now: c.now})
	require.NoError(t, err)
	assert.True(t, allowed(l, "busy"))
	for i := 0; i < 9; i++ {
		assert.True(t, allowed(l, fmt.Sprint("idle", i)))
	}
	c.add(500 * time.Millisecond)
	// The map is full; no bucket has refilled: all are forgotten, so the
	// limiter's memory stays bounded.
	assert.True(t, allowed(l, "new"))
	c.add(2 * time.Second)
	assert.True(t, allowed(l, "busy"))
	assert.False(t, allowed(l, "busy"), "its new bucket limits as before")
}

func TestNewRefusesBadConfig(t *testing.T) {
	for name, cfg := range map[string]ratelimit.Config{
		"no rate":  {Rate: 0, Burst: 1},
		"no burst": {Rate: 1, Burst: 0},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ratelimit.New(cfg)
			assert.Error(t, err)
		})
	}
}
