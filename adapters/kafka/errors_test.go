package kafka

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/assert"
)

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestIsRetryable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain error", errors.New("boom"), false},
		{"cancelled", fmt.Errorf("kafka: publish: %w", context.Canceled), false},
		{"deadline", fmt.Errorf("kafka: publish: %w", context.DeadlineExceeded), false},
		{"closed", fmt.Errorf("kafka: fetch: %w", ErrClosed), false},
		{"closed pipe", io.ErrClosedPipe, false},
		{"leader not available", fmt.Errorf("x: %w", kafkago.LeaderNotAvailable), true},
		{"not leader", kafkago.NotLeaderForPartition, true},
		{"not enough replicas", kafkago.NotEnoughReplicas, true},
		{"coordinator loading", kafkago.GroupLoadInProgress, true},
		{"unknown topic", kafkago.UnknownTopicOrPartition, true},
		{"request timed out", kafkago.RequestTimedOut, true},
		{"authorisation", kafkago.TopicAuthorizationFailed, false},
		{"record too large (broker)", kafkago.MessageSizeTooLarge, false},
		{"invalid record", kafkago.InvalidRecord, false},
		{"too large (client)", kafkago.MessageTooLargeError{}, false},
		{"connection refused", fmt.Errorf("kafka: publish: %w", refused), true},
		{"connection reset", syscall.ECONNRESET, true},
		{"broken pipe", syscall.EPIPE, true},
		{"unexpected EOF", io.ErrUnexpectedEOF, true},
		{"timeout", timeoutErr{}, true},
		{"dns temporary", &net.DNSError{Err: "server misbehaving", IsTemporary: true}, true},
		{"dns no such host", &net.DNSError{Err: "no such host", IsNotFound: true}, false},
		{"joined all retryable", errors.Join(kafkago.LeaderNotAvailable, refused), true},
		{"joined one permanent", errors.Join(kafkago.LeaderNotAvailable, kafkago.TopicAuthorizationFailed), false},
		{"write errors all retryable", kafkago.WriteErrors{nil, kafkago.NotLeaderForPartition, nil}, true},
		{"write errors one permanent", kafkago.WriteErrors{kafkago.NotLeaderForPartition, kafkago.InvalidRecord}, false},
		{"write errors none", kafkago.WriteErrors{nil, nil}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, IsRetryable(tc.err), "%v", tc.err)
		})
	}
}
