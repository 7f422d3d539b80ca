package httpsec

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config configures Handler.
type Config struct {
	// AllowedOrigins are the origins (scheme://host[:port]) whose browser
	// apps may call the API; "*" allows every origin. Empty: no CORS.
	AllowedOrigins []string
	// MaxAge is how long browsers may cache a preflight answer.
	MaxAge time.Duration
	// HSTSMaxAge is Strict-Transport-Security's max-age on TLS responses.
	HSTSMaxAge time.Duration
}

// DefaultConfig returns no CORS origins, preflights cached 10 minutes and
// HSTS for two years.
func DefaultConfig() Config {
	return Config{MaxAge: 10 * time.Minute, HSTSMaxAge: 2 * 365 * 24 * time.Hour}
}

// Methods and headers a browser app may use (preflight answers) and
// response headers it may read.
var (
	allowMethods  = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
	allowHeaders  = "Authorization, Content-Type, Accept, If-Match, If-None-Match, If-None-Exist, If-Modified-Since, Prefer, X-Request-Id"
	exposeHeaders = "ETag, Location, Last-Modified, Content-Location, X-Request-Id, Retry-After, WWW-Authenticate"
)

// Policy applies a Config.
type Policy struct {
	cfg     Config
	any     bool
	origins []string
	hsts    string
	maxAge  string
}

// New checks cfg: every origin must be "*" or scheme://host[:port].
func New(cfg Config) (*Policy, error) {
	p := &Policy{cfg: cfg}
	for _, o := range cfg.AllowedOrigins {
		o = strings.TrimSpace(o)
		switch {
		case o == "":
			continue
		case o == "*":
			p.any = true
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return nil, errors.New("httpsec: CORS origin " + strconv.Quote(o) + " is not scheme://host[:port]")
		}
		p.origins = append(p.origins, strings.ToLower(u.Scheme+"://"+u.Host))
	}
	if cfg.MaxAge > 0 {
		p.maxAge = strconv.Itoa(int(cfg.MaxAge.Seconds()))
	}
	if cfg.HSTSMaxAge > 0 {
		p.hsts = "max-age=" + strconv.Itoa(int(cfg.HSTSMaxAge.Seconds())) + "; includeSubDomains"
	}
	return p, nil
}

// allowed reports whether origin may use the API.
func (p *Policy) allowed(origin string) bool {
	return origin != "" && (p.any || slices.Contains(p.origins, strings.ToLower(origin)))
}

// Handler serves next with p's headers; preflight requests of allowed
// origins are answered 204 without reaching next (they carry no token),
// those of others 403 without CORS headers.
func (p *Policy) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		if r.TLS != nil && p.hsts != "" {
			h.Set("Strict-Transport-Security", p.hsts)
		}
		if r.Header.Get("Authorization") != "" {
			// Answers to authenticated requests hold patient data: no
			// shared or private cache may keep them.
			h.Set("Cache-Control", "no-store")
		}
		origin := r.Header.Get("Origin")
		if origin != "" {
			h.Add("Vary", "Origin")
		}
		if r.Method == http.MethodOptions && origin != "" && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			if !p.allowed(origin) {
				w.WriteHeader(http.StatusForbidden)
				return
			}
			p.allowOrigin(h, origin)
			h.Set("Access-Control-Allow-Methods", allowMethods)
			h.Set("Access-Control-Allow-Headers", allowHeaders)
			if p.maxAge != "" {
				h.Set("Access-Control-Max-Age", p.maxAge)
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if p.allowed(origin) {
			p.allowOrigin(h, origin)
			h.Set("Access-Control-Expose-Headers", exposeHeaders)
		}
		next.ServeHTTP(w, r)
	})
}

func (p *Policy) allowOrigin(h http.Header, origin string) {
	if p.any {
		h.Set("Access-Control-Allow-Origin", "*")
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
}
