package ratelimit

import (
	"errors"
	"math"
	"sync"
	"time"
)

// Config configures a Limiter.
type Config struct {
	// Rate is the requests per second a client may sustain.
	Rate float64
	// Burst is how many requests a client may send at once (at least 1).
	Burst int
	// MaxClients bounds the buckets kept; beyond it, buckets that have
	// refilled (idle clients) are forgotten.
	MaxClients int
	Now        func() time.Time
}

// DefaultConfig returns 100 requests per second with bursts of 200.
func DefaultConfig() Config {
	return Config{Rate: 100, Burst: 200, MaxClients: 100000, Now: time.Now}
}

// Limiter is a set of token buckets by client key. It is safe for
// concurrent use.
type Limiter struct {
	cfg     Config
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// New returns a Limiter for cfg.
func New(cfg Config) (*Limiter, error) {
	if cfg.Rate <= 0 || math.IsInf(cfg.Rate, 0) || math.IsNaN(cfg.Rate) {
		return nil, errors.New("ratelimit: Rate must be a positive number of requests per second")
	}
	if cfg.Burst < 1 {
		return nil, errors.New("ratelimit: Burst must be at least 1")
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = DefaultConfig().MaxClients
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Limiter{cfg: cfg, buckets: map[string]*bucket{}}, nil
}

// Allow takes a token from key's bucket. When there is none it returns
// false and how long until there is one.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
	now := l.cfg.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.cfg.MaxClients {
			l.forgetIdle(now)
		}
		b = &bucket{tokens: float64(l.cfg.Burst), last: now}
		l.buckets[key] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(float64(l.cfg.Burst), b.tokens+elapsed*l.cfg.Rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.cfg.Rate * float64(time.Second))
	return false, wait
}

// forgetIdle drops the buckets that have refilled to Burst: forgetting
// them changes nothing for their clients. If none has, it drops them all
// rather than grow without bound.
func (l *Limiter) forgetIdle(now time.Time) {
	full := float64(l.cfg.Burst)
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.cfg.Rate >= full {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= l.cfg.MaxClients {
		clear(l.buckets)
	}
}
