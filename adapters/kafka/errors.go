package kafka

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"

	kafkago "github.com/segmentio/kafka-go"
)

// ErrClosed is returned by the methods of a [Producer] or [Consumer] that
// has been closed: a consumer loop ends when Fetch returns it.
var ErrClosed = errors.New("kafka: closed")

// IsRetryable reports whether err is a transient failure, so that the same
// call may succeed if repeated later. Errors from Publish are returned only
// after Config.MaxAttempts attempts, so a caller that sees a retryable
// error should back off (or leave the record to be re-driven) rather than
// spin.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}

	// The caller gave up (cancelled or ran out of time): repeating the call
	// would override that decision, so it is theirs to make.
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	// Our side is closed: no later call on this producer or consumer can
	// succeed.
	if errors.Is(err, ErrClosed) || errors.Is(err, io.ErrClosedPipe) {
		return false
	}
	// The record batch exceeds the size limit: the same bytes will be
	// refused again.
	var tooLarge kafkago.MessageTooLargeError
	if errors.As(err, &tooLarge) {
		return false
	}

	// Several partitions failed (a joined error, or kafka-go's per-record
	// WriteErrors): a repeat can only succeed as a whole if every cause is
	// transient.
	var werrs kafkago.WriteErrors
	if errors.As(err, &werrs) {
		return allRetryable(werrs)
	}
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		return allRetryable(joined.Unwrap())
	}

	// A Kafka error code: the protocol itself marks the codes that mean
	// "the cluster is changing" as retriable: leader elections
	// (LEADER_NOT_AVAILABLE, NOT_LEADER_OR_FOLLOWER), a coordinator
	// loading or moving, NOT_ENOUGH_REPLICAS while a follower catches up,
	// REQUEST_TIMED_OUT, and UNKNOWN_TOPIC_OR_PARTITION while a new topic
	// propagates. Authorisation, invalid-record and size codes are not.
	var kerr kafkago.Error
	if errors.As(err, &kerr) {
		return kerr.Temporary()
	}

	// A broker that is restarting, or a connection that dropped mid
	// request: a new connection (or a restarted broker) may succeed.
	if errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) {
		return true
	}
	// A network timeout: the broker or the path to it was slow, which is
	// usually load, not a permanent condition.
	var nerr net.Error
	if errors.As(err, &nerr) && nerr.Timeout() {
		return true
	}
	// A DNS failure the resolver itself calls temporary (not "no such
	// host", which is a configuration error).
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.IsTemporary || dnsErr.IsTimeout
	}
	// Anything else (bad config, TLS handshake failure, authorisation) will
	// fail the same way again.
	return false
}

func allRetryable(errs []error) bool {
	seen := false
	for _, e := range errs {
		if e == nil {
			continue
		}
		if !IsRetryable(e) {
			return false
		}
		seen = true
	}
	return seen
}
