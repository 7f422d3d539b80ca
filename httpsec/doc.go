// Package httpsec is the HTTP layer every fhirhub response passes
// through: CORS for the browser apps of configured origins (Fetch
// standard, "CORS protocol": preflight OPTIONS answered here, without
// authentication; no CORS headers for other origins) and security
// headers (X-Content-Type-Options, Referrer-Policy, X-Frame-Options and
// CSP frame-ancestors, Cache-Control no-store on authenticated responses,
// Strict-Transport-Security over TLS), and the client's address behind
// trusted reverse proxies (X-Forwarded-For, believed only from them).
package httpsec
