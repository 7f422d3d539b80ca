// Package ratelimit limits the request rate of each client with token
// buckets (one per key: a token subject, or a client address): a client
// may send Burst requests at once and Rate per second on average; the
// request beyond is refused with how long to wait, which HTTP answers as
// 429 Too Many Requests with Retry-After (RFC 6585 §4, RFC 9110 §10.2.3)
// and a FHIR OperationOutcome with issue code throttled.
//
// A Limiter keeps its buckets in memory, per process: with several
// fhirhub servers behind a load balancer each enforces its own share.
package ratelimit
