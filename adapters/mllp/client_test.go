package mllp

import (
	"bytes"
	"context"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// MustClient returns a client of s with fast retries; it is closed when
// the test ends.
func MustClient(tb testing.TB, addr string, change func(*ClientConfig)) *Client {
	tb.Helper()
	cfg := DefaultClientConfig(addr)
	cfg.Backoff = time.Millisecond
	cfg.Logger, _ = testLogger(tb)
	if change != nil {
		change(&cfg)
	}
	c, err := NewClient(cfg)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

func TestClientSend(t *testing.T) {
	cfg, _ := testConfig(t)
	s := MustServe(t, cfg, ackFor(nil))
	c := MustClient(t, s.Addr().String(), nil)
	for _, id := range []string{"C-1", "C-2", "C-3"} {
		ack, err := c.Send(context.Background(), testMessage(id))
		require.NoError(t, err)
		code, ref := MustAck(t, ack)
		assert.Equal(t, "AA", code)
		assert.Equal(t, id, ref)
	}
	assert.EqualValues(t, 1, s.Stats().Accepted, "one connection for all messages")
}

func TestClientRetriesAfterServerClosesConnection(t *testing.T) {
	cfg, _ := testConfig(t)
	var calls atomic.Int32
	h := ackFor(nil)
	s := MustServe(t, cfg, HandlerFunc(func(ctx context.Context, m *Message) []byte {
		if calls.Add(1) == 1 {
			panic("storage unavailable") // closes the connection without ACK
		}
		return h(ctx, m)
	}))
	c := MustClient(t, s.Addr().String(), func(c *ClientConfig) { c.Retries = 1 })
	ack, err := c.Send(context.Background(), testMessage("RESENT"))
	require.NoError(t, err)
	_, ref := MustAck(t, ack)
	assert.Equal(t, "RESENT", ref)
	assert.EqualValues(t, 2, calls.Load(), "sent twice")
	assert.EqualValues(t, 2, s.Stats().Accepted, "on a new connection")
}

func TestClientReplacesIdleClosedConnection(t *testing.T) {
	cfg, _ := testConfig(t)
	cfg.IdleTimeout = 20 * time.Millisecond
	s := MustServe(t, cfg, ackFor(nil))
	c := MustClient(t, s.Addr().String(), func(c *ClientConfig) { c.Retries = 0 })
	_, err := c.Send(context.Background(), testMessage("FIRST"))
	require.NoError(t, err)
	waitUntil(t, "the server closes the idle connection", func() bool { return s.Stats().Active == 0 })
	ack, err := c.Send(context.Background(), testMessage("SECOND"))
	require.NoError(t, err, "a connection broken while idle is replaced without counting as a retry")
	_, ref := MustAck(t, ack)
	assert.Equal(t, "SECOND", ref)
}

func TestClientAckTimeout(t *testing.T) {
	cfg, _ := testConfig(t)
	var calls atomic.Int32
	s := MustServe(t, cfg, HandlerFunc(func(ctx context.Context, m *Message) []byte {
		calls.Add(1)
		return nil // never acknowledges
	}))
	c := MustClient(t, s.Addr().String(), func(c *ClientConfig) {
		c.AckTimeout = 50 * time.Millisecond
		c.Retries = 1
	})
	_, err := c.Send(context.Background(), testMessage("UNANSWERED"))
	require.ErrorIs(t, err, ErrAckTimeout)
	assert.Contains(t, err.Error(), "attempt 2 of 2")
	assert.EqualValues(t, 2, calls.Load())
}

func TestClientReconnectsToRestartedServer(t *testing.T) {
	cfg, _ := testConfig(t)
	s1 := MustServe(t, cfg, ackFor(nil))
	addr := s1.Addr().String()
	c := MustClient(t, addr, func(c *ClientConfig) { c.Retries = 5; c.Backoff = 10 * time.Millisecond })
	_, err := c.Send(context.Background(), testMessage("BEFORE"))
	require.NoError(t, err)

	require.NoError(t, s1.Shutdown(context.Background()))
	cfg.Addr = addr
	s2 := MustServe(t, cfg, ackFor(nil))
	ack, err := c.Send(context.Background(), testMessage("AFTER"))
	require.NoError(t, err)
	_, ref := MustAck(t, ack)
	assert.Equal(t, "AFTER", ref)
	assert.EqualValues(t, 1, s2.Stats().Messages)
}

func TestClientConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	c := MustClient(t, addr, func(c *ClientConfig) { c.Retries = 2 })
	_, err = c.Send(context.Background(), testMessage("NOWHERE"))
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	assert.Contains(t, err.Error(), "attempt 3 of 3")
}

func TestClientContextCancel(t *testing.T) {
	cfg, _ := testConfig(t)
	entered := make(chan struct{}, 1)
	s := MustServe(t, cfg, HandlerFunc(func(ctx context.Context, m *Message) []byte {
		entered <- struct{}{}
		return nil
	}))
	c := MustClient(t, s.Addr().String(), nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-entered
		cancel()
	}()
	_, err := c.Send(ctx, testMessage("CANCELLED"))
	require.ErrorIs(t, err, context.Canceled)
}

func TestClientClose(t *testing.T) {
	cfg, _ := testConfig(t)
	entered := make(chan struct{}, 1)
	s := MustServe(t, cfg, HandlerFunc(func(ctx context.Context, m *Message) []byte {
		entered <- struct{}{}
		return nil
	}))
	c := MustClient(t, s.Addr().String(), nil)
	go func() {
		<-entered
		_ = c.Close()
	}()
	_, err := c.Send(context.Background(), testMessage("INTERRUPTED"))
	require.ErrorIs(t, err, ErrClientClosed, "Close interrupts a Send")
	_, err = c.Send(context.Background(), testMessage("LATER"))
	require.ErrorIs(t, err, ErrClientClosed)
}

func TestClientRefusesFramingBytes(t *testing.T) {
	c := MustClient(t, "127.0.0.1:1", nil)
	_, err := c.Send(context.Background(), bytes.Join([][]byte{testMessage("X"), {endBlock}}, nil))
	require.ErrorIs(t, err, ErrInvalidContent)
}

func TestClientAckTooLarge(t *testing.T) {
	cfg, _ := testConfig(t)
	s := MustServe(t, cfg, HandlerFunc(func(ctx context.Context, m *Message) []byte {
		return bytes.Repeat([]byte("A"), 2048)
	}))
	c := MustClient(t, s.Addr().String(), func(c *ClientConfig) { c.MaxMessageSize = 1024; c.Retries = 3 })
	_, err := c.Send(context.Background(), testMessage("X"))
	require.ErrorIs(t, err, ErrTooLarge)
	assert.EqualValues(t, 1, s.Stats().Messages, "not retried")
}

func TestNewClientValidates(t *testing.T) {
	tests := []struct {
		name   string
		change func(*ClientConfig)
		want   string
	}{
		{"no port", func(c *ClientConfig) { c.Addr = "localhost" }, "not host:port"},
		{"no ack timeout", func(c *ClientConfig) { c.AckTimeout = 0 }, "AckTimeout 0s is not positive"},
		{"no dial timeout", func(c *ClientConfig) { c.DialTimeout = 0 }, "DialTimeout"},
		{"negative retries", func(c *ClientConfig) { c.Retries = -1 }, "Retries -1"},
		{"negative backoff", func(c *ClientConfig) { c.Backoff = -1 }, "Backoff"},
		{"zero size", func(c *ClientConfig) { c.MaxMessageSize = 0 }, "MaxMessageSize 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultClientConfig("127.0.0.1:2575")
			tt.change(&cfg)
			_, err := NewClient(cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
