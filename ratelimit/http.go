package ratelimit

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/httpsec"
)

// KeyForSubject and KeyForAddress are the bucket keys of an authenticated
// client (its token subject) and of any other (its IP address): the two
// never share a bucket.
func KeyForSubject(sub string) string { return "sub:" + sub }

// KeyForAddress returns the bucket key of r's client address
// (httpsec.ClientAddress: the peer's, or the client's behind trusted
// proxies).
func KeyForAddress(r *http.Request) string {
	return "ip:" + httpsec.ClientAddress(r)
}

// RetryAfter returns the Retry-After value for a wait: whole seconds,
// rounded up, at least 1.
func RetryAfter(wait time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(wait.Seconds()))))
}

// Throttled returns the error of a refused request, a fhir.Error with code
// throttled (429), after setting Retry-After on w.
func Throttled(w http.ResponseWriter, wait time.Duration) error {
	ra := RetryAfter(wait)
	w.Header().Set("Retry-After", ra)
	return fhir.Errorf(fhir.IssueThrottled, "too many requests from this client; retry after %s s", ra)
}

// Middleware limits next by client address (for endpoints used before a
// token exists, such as the token endpoint): a refused request is
// answered 429 with Retry-After and an OperationOutcome.
func (l *Limiter) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, wait := l.Allow(KeyForAddress(r))
		if ok {
			next.ServeHTTP(w, r)
			return
		}
		ra := RetryAfter(wait)
		w.Header().Set("Retry-After", ra)
		body := fhir.MarshalJSON(fhir.Object{"resourceType": "OperationOutcome", "issue": []any{fhir.Object{
			"severity": "error", "code": string(fhir.IssueThrottled),
			"diagnostics": "too many requests from this client; retry after " + ra + " s"}}})
		w.Header().Set("Content-Type", "application/fhir+json; charset=utf-8")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write(body)
	})
}
