package main

import (
	"fmt"
	"strings"

	"github.com/fhirhub/fhirhub/httpsec"
	"github.com/fhirhub/fhirhub/ratelimit"
)

// rateLimiter returns the per-client limiter of -rate-limit and
// -rate-burst, nil when -rate-limit is 0.
func rateLimiter(cfg *config) (*ratelimit.Limiter, error) {
	if cfg.RateLimit == 0 {
		return nil, nil
	}
	rc := ratelimit.DefaultConfig()
	rc.Rate, rc.Burst = cfg.RateLimit, cfg.RateBurst
	return ratelimit.New(rc)
}

// httpPolicy returns the CORS and security-header policy of
// -cors-origins.
func httpPolicy(cfg *config) (*httpsec.Policy, error) {
	hc := httpsec.DefaultConfig()
	if cfg.CORSOrigins != "" {
		hc.AllowedOrigins = strings.Split(cfg.CORSOrigins, ",")
	}
	return httpsec.New(hc)
}

// trustedProxies returns the reverse proxies of -trusted-proxies, whose
// X-Forwarded-For gives the client address (none by default).
func trustedProxies(cfg *config) (*httpsec.TrustedProxies, error) {
	p, err := httpsec.ParseTrustedProxies(strings.Split(cfg.TrustedProxies, ","))
	if err != nil {
		return nil, fmt.Errorf("-trusted-proxies: %w", err)
	}
	return p, nil
}
