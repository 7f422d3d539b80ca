package ratelimit_test

import (
	"fmt"
	"time"

	"github.com/fhirhub/fhirhub/ratelimit"
)

// ExampleLimiter shows a client using its burst, being told to wait, and
// getting a request back after 1/Rate.
func ExampleLimiter() {
	now := time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)
	l, _ := ratelimit.New(ratelimit.Config{Rate: 2, Burst: 2, Now: func() time.Time { return now }})
	key := ratelimit.KeyForSubject("lis")
	for i := 0; i < 3; i++ {
		ok, wait := l.Allow(key)
		fmt.Println(ok, wait, ratelimit.RetryAfter(wait))
	}
	now = now.Add(500 * time.Millisecond)
	ok, _ := l.Allow(key)
	fmt.Println(ok)
	// Output:
	// true 0s 1
	// true 0s 1
	// false 500ms 1
	// true
}
