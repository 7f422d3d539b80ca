package mllp

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServerManyMessagesOneConnection(t *testing.T) {
	cfg, _ := testConfig(t)
	s := MustServe(t, cfg, ackFor(nil))
	nc := MustDial(t, s)
	r := NewReader(nc, 0)

	// One at a time, then 100 written at once: ACKs come in order.
	for i := range 20 {
		id := fmt.Sprintf("ONE-%d", i)
		MustWrite(t, nc, frame(testMessage(id)))
		code, ref := MustAck(t, MustReadFrame(t, nc, r))
		assert.Equal(t, "AA", code)
		assert.Equal(t, id, ref)
	}
	var pipelined bytes.Buffer
	for i := range 100 {
		pipelined.Write(frame(testMessage(fmt.Sprintf("PIPE-%d", i))))
	}
	go func() { _, _ = nc.Write(pipelined.Bytes()) }()
	for i := range 100 {
		_, ref := MustAck(t, MustReadFrame(t, nc, r))
		require.Equal(t, fmt.Sprintf("PIPE-%d", i), ref)
	}
	assert.EqualValues(t, 120, s.Stats().Messages)
}

func TestServerConcurrentConnections(t *testing.T) {
	const conns, perConn = 200, 5
	cfg, _ := testConfig(t)
	s := MustServe(t, cfg, ackFor(nil))
	var wg sync.WaitGroup
	for c := range conns {
		wg.Go(func() {
			nc, err := net.DialTimeout("tcp", s.Addr().String(), 10*time.Second)
			if !assert.NoError(t, err) {
				return
			}
			defer nc.Close()
			_ = nc.SetDeadline(time.Now().Add(30 * time.Second))
			r := NewReader(nc, 0)
			for i := range perConn {
				id := fmt.Sprintf("C%d-M%d", c, i)
				if !assert.NoError(t, WriteFrame(nc, testMessage(id))) {
					return
				}
				ack, err := r.Next()
				if !assert.NoError(t, err) {
					return
				}
				code, ref := MustAck(t, ack)
				assert.Equal(t, "AA", code)
				assert.Equal(t, id, ref, "ACK order = message order")
			}
		})
	}
	wg.Wait()
	st := s.Stats()
	assert.EqualValues(t, conns*perConn, st.Messages)
	assert.EqualValues(t, conns*perConn, st.Replies)
	assert.EqualValues(t, conns, st.Accepted)
}

func TestServerGarbageThenMessage(t *testing.T) {
	cfg, logs := testConfig(t)
	var calls atomic.Int32
	h := ackFor(nil)
	s := MustServe(t, cfg, HandlerFunc(func(ctx context.Context, m *Message) []byte {
		calls.Add(1)
		return h(ctx, m)
	}))
	nc := MustDial(t, s)
	garbage := "PID|1||" + phiMarker + "\r\n\x1c\r"
	MustWrite(t, nc, append([]byte(garbage), frame(testMessage("AFTER-GARBAGE"))...))
	code, ref := MustAck(t, MustReadFrame(t, nc, NewReader(nc, 0)))
	assert.Equal(t, "AA", code)
	assert.Equal(t, "AFTER-GARBAGE", ref)
	assert.EqualValues(t, 1, calls.Load())
	assert.EqualValues(t, len(garbage), s.Stats().DiscardedBytes)
	assert.Contains(t, logs.String(), fmt.Sprintf("discarded bytes outside frames\" conn=1 remote=%s bytes=%d", nc.LocalAddr(), len(garbage)))
}

func TestServerFrameSplitOverManyWrites(t *testing.T) {
	cfg, _ := testConfig(t)
	s := MustServe(t, cfg, ackFor(nil))
	nc := MustDial(t, s)
	nc.(*net.TCPConn).SetNoDelay(true)
	for _, b := range frame(testMessage("BYTE-BY-BYTE")) {
		MustWrite(t, nc, []byte{b})
	}
	_, ref := MustAck(t, MustReadFrame(t, nc, NewReader(nc, 0)))
	assert.Equal(t, "BYTE-BY-BYTE", ref)
}

func TestServerBadMessageKeepsConnection(t *testing.T) {
	cfg, _ := testConfig(t)
	s := MustServe(t, cfg, ackFor(nil))
	nc := MustDial(t, s)
	r := NewReader(nc, 0)
	for _, content := range []string{"not HL7 at all", ""} {
		MustWrite(t, nc, frame([]byte(content)))
		code, _ := MustAck(t, MustReadFrame(t, nc, r))
		assert.Equal(t, "AR", code)
	}
	MustWrite(t, nc, frame(testMessage("GOOD")))
	code, ref := MustAck(t, MustReadFrame(t, nc, r))
	assert.Equal(t, "AA", code)
	assert.Equal(t, "GOOD", ref)
}

func TestServerOversizeFrame(t *testing.T) {
	cfg, logs := testConfig(t)
	cfg.MaxMessageSize = 1024
	seen := make(chan *Message, 1)
	h := ackFor(nil)
	s := MustServe(t, cfg, HandlerFunc(func(ctx context.Context, m *Message) []byte {
		seen <- m
		return h(ctx, m)
	}))
	nc := MustDial(t, s)
	big := append(testMessage("TOO-BIG"), []byte("OBX|1|ED|PDF^Report||^AP^PDF^Base64^"+strings.Repeat("QUJD", 1<<20)+"\r")...)
	go func() { _, _ = nc.Write(frame(big)) }() // the server stops reading midway

	r := NewReader(nc, 0)
	code, ref := MustAck(t, MustReadFrame(t, nc, r))
	assert.Equal(t, "AR", code, "the handler's NAK is written")
	assert.Equal(t, "TOO-BIG", ref)
	m := <-seen
	require.ErrorIs(t, m.Err, ErrTooLarge)
	assert.Len(t, m.Data, 1024)
	assert.True(t, bytes.HasPrefix(big, m.Data))
	requireClosed(t, nc)
	assert.EqualValues(t, 1, s.Stats().TooLarge)
	assert.Contains(t, logs.String(), "frame too large")
}

func TestServerUnterminatedFrame(t *testing.T) {
	tests := []struct {
		name  string
		end   func(nc net.Conn) // how the sender stops
		cause error
	}{
		{"EOF", func(nc net.Conn) { _ = nc.(*net.TCPConn).CloseWrite() }, io.EOF},
		{"read timeout", func(net.Conn) {}, os.ErrDeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _ := testConfig(t)
			cfg.ReadTimeout = 100 * time.Millisecond
			seen := make(chan *Message, 1)
			h := ackFor(nil)
			s := MustServe(t, cfg, HandlerFunc(func(ctx context.Context, m *Message) []byte {
				seen <- m
				return h(ctx, m)
			}))
			nc := MustDial(t, s)
			partial := testMessage("CUT")[:100]
			MustWrite(t, nc, append([]byte{startBlock}, partial...))
			tt.end(nc)
			code, ref := MustAck(t, MustReadFrame(t, nc, NewReader(nc, 0)))
			assert.Equal(t, "AR", code)
			assert.Equal(t, "CUT", ref)
			m := <-seen
			require.ErrorIs(t, m.Err, ErrUnterminated)
			assert.ErrorIs(t, m.Err, tt.cause)
			assert.Equal(t, partial, m.Data)
			requireClosed(t, nc)
			assert.EqualValues(t, 1, s.Stats().Unterminated)
		})
	}
}

func TestServerIdleTimeout(t *testing.T) {
	cfg, logs := testConfig(t)
	cfg.IdleTimeout = 50 * time.Millisecond
	s := MustServe(t, cfg, ackFor(nil))
	nc := MustDial(t, s)
	MustWrite(t, nc, frame(testMessage("BEFORE-IDLE")))
	r := NewReader(nc, 0)
	MustReadFrame(t, nc, r)
	requireClosed(t, nc)
	assert.EqualValues(t, 1, s.Stats().Timeouts)
	waitUntil(t, "the close is logged", func() bool { return strings.Contains(logs.String(), "reason=\"idle timeout\"") })
}

func TestServerHandlerPanic(t *testing.T) {
	cfg, logs := testConfig(t)
	h := ackFor(nil)
	s := MustServe(t, cfg, HandlerFunc(func(ctx context.Context, m *Message) []byte {
		if bytes.Contains(m.Data, []byte("|BOOM|")) {
			panic("cannot store " + string(m.Data)) // the value must not be logged
		}
		return h(ctx, m)
	}))
	boom := MustDial(t, s)
	MustWrite(t, boom, frame(testMessage("BOOM")))
	requireClosed(t, boom)

	nc := MustDial(t, s)
	MustWrite(t, nc, frame(testMessage("AFTER-PANIC")))
	_, ref := MustAck(t, MustReadFrame(t, nc, NewReader(nc, 0)))
	assert.Equal(t, "AFTER-PANIC", ref)
	assert.EqualValues(t, 1, s.Stats().Panics)
	assert.Contains(t, logs.String(), "handler panic")
}

func TestServerMaxConnections(t *testing.T) {
	cfg, _ := testConfig(t)
	cfg.MaxConnections = 2
	s := MustServe(t, cfg, ackFor(nil))
	var open []net.Conn
	for i := range 2 {
		nc := MustDial(t, s)
		MustWrite(t, nc, frame(testMessage(fmt.Sprint(i))))
		MustReadFrame(t, nc, NewReader(nc, 0))
		open = append(open, nc)
	}
	third := MustDial(t, s)
	requireClosed(t, third)
	assert.EqualValues(t, 1, s.Stats().Refused)

	require.NoError(t, open[0].Close())
	waitUntil(t, "a connection slot frees", func() bool { return s.Stats().Active < 2 })
	nc := MustDial(t, s)
	MustWrite(t, nc, frame(testMessage("LATER")))
	_, ref := MustAck(t, MustReadFrame(t, nc, NewReader(nc, 0)))
	assert.Equal(t, "LATER", ref)
}

func TestServerMessageInfo(t *testing.T) {
	cfg, _ := testConfig(t)
	at := time.Date(2025, 3, 14, 15, 45, 10, 0, time.UTC)
	cfg.Now = func() time.Time { return at }
	seen := make(chan *Message, 2)
	s := MustServe(t, cfg, HandlerFunc(func(ctx context.Context, m *Message) []byte {
		seen <- m
		return nil // no reply
	}))
	nc := MustDial(t, s)
	MustWrite(t, nc, append(frame([]byte("one")), frame([]byte("two"))...))
	for _, want := range []string{"one", "two"} {
		m := <-seen
		assert.Equal(t, want, string(m.Data))
		assert.NoError(t, m.Err)
		assert.Equal(t, at, m.ReceivedAt)
		assert.EqualValues(t, 1, m.Conn.ID)
		assert.Equal(t, nc.LocalAddr().String(), m.Conn.RemoteAddr.String())
		assert.Equal(t, s.Addr().String(), m.Conn.LocalAddr.String())
		assert.Nil(t, m.Conn.PeerCertificates)
	}
	assert.Zero(t, s.Stats().Replies)
}

func TestServerOpenAddressInUse(t *testing.T) {
	cfg, _ := testConfig(t)
	s := MustServe(t, cfg, ackFor(nil))
	cfg.Addr = s.Addr().String()
	s2, err := NewServer(cfg, ackFor(nil))
	require.NoError(t, err)
	err = s2.Open(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "address already in use")
	assert.ErrorContains(t, s.Open(context.Background()), "already opened")
}

func TestNewServerValidates(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no address", func(c *Config) { c.Addr = "" }, "Addr is empty"},
		{"zero size", func(c *Config) { c.MaxMessageSize = 0 }, "MaxMessageSize 0"},
		{"huge size", func(c *Config) { c.MaxMessageSize = 1 << 30 }, "MaxMessageSize 1073741824"},
		{"negative timeout", func(c *Config) { c.IdleTimeout = -time.Second }, "IdleTimeout -1s is negative"},
		{"negative limit", func(c *Config) { c.MaxConnections = -1 }, "MaxConnections -1"},
		{"TLS without certificate", func(c *Config) { c.TLS = &tlsConfigWithoutCert }, "TLS has no certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.change(&cfg)
			_, err := NewServer(cfg, ackFor(nil))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	_, err := NewServer(DefaultConfig(), nil)
	assert.ErrorContains(t, err, "handler is nil")
	_, err = NewServer(DefaultConfig(), ackFor(nil))
	assert.NoError(t, err)
}

func TestServerShutdownDrains(t *testing.T) {
	cfg, _ := testConfig(t)
	entered, release := make(chan struct{}), make(chan struct{})
	h := ackFor(nil)
	s := MustServe(t, cfg, HandlerFunc(func(ctx context.Context, m *Message) []byte {
		if bytes.Contains(m.Data, []byte("|SLOW|")) {
			close(entered)
			<-release
		}
		return h(ctx, m)
	}))
	idle := MustDial(t, s)
	MustWrite(t, idle, frame(testMessage("IDLE")))
	MustReadFrame(t, idle, NewReader(idle, 0))

	busy := MustDial(t, s)
	MustWrite(t, busy, frame(testMessage("SLOW")))
	<-entered

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- s.Shutdown(ctx)
	}()
	requireClosed(t, idle) // closed at once
	waitUntil(t, "new connections are refused", func() bool {
		nc, err := net.DialTimeout("tcp", s.Addr().String(), time.Second)
		if err == nil {
			nc.Close()
		}
		return err != nil
	})
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v before the busy connection finished", err)
	default:
	}

	close(release)
	code, ref := MustAck(t, MustReadFrame(t, busy, NewReader(busy, 0)))
	assert.Equal(t, "AA", code, "the in-flight message is acknowledged")
	assert.Equal(t, "SLOW", ref)
	require.NoError(t, <-done)
	requireClosed(t, busy)
	assert.Zero(t, s.Stats().Active)
}

func TestServerShutdownDeadline(t *testing.T) {
	cfg, _ := testConfig(t)
	entered, cancelled := make(chan struct{}), make(chan error, 1)
	s := MustServe(t, cfg, HandlerFunc(func(ctx context.Context, m *Message) []byte {
		close(entered)
		<-ctx.Done()
		cancelled <- ctx.Err()
		return []byte("too late")
	}))
	nc := MustDial(t, s)
	MustWrite(t, nc, frame(testMessage("STUCK")))
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := s.Shutdown(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, <-cancelled, context.Canceled, "the handler's context is cancelled")
	requireClosed(t, nc)
}

func TestServerCloseBeforeOpen(t *testing.T) {
	s, err := NewServer(DefaultConfig(), ackFor(nil))
	require.NoError(t, err)
	assert.NoError(t, s.Shutdown(context.Background()))
	assert.NoError(t, s.Close())
	assert.Nil(t, s.Addr())
	assert.Error(t, s.Open(context.Background()), "a closed server does not open")
}
