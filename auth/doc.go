// Package auth decides who may do what on the FHIR API: it verifies OAuth2
// bearer access tokens (JWT, RFC 7519, signed RS256 or ES256 per RFC 7518
// §3.3/§3.4, keys from a JWK Set per RFC 7517 or from the embedded
// issuer), reads SMART App Launch 2.x scopes (scopes-and-launch-context:
// patient/, user/, system/ with v2 .cruds and v1 .read/.write), and
// intersects them with the permissions of the caller's role.
//
// It knows nothing of HTTP servers: fhir/rest and admin take the bearer
// token from the request, call Verifier.Verify, and ask the Principal
// whether an interaction on a resource type is allowed. Refusals are
// fhir.Errors (login: 401, forbidden: 403) whose messages carry no token
// material, so they may be logged.
package auth
