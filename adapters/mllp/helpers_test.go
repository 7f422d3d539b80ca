package mllp

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
)

// phiMarker is a patient name in every test message: it must never
// appear in a log.
const phiMarker = "Zuma^Thandiwe"

// testMessage returns an ADT^A01 with control id id.
func testMessage(id string) []byte {
	return []byte("MSH|^~\\&|SENDER|CLINIC|FHIRHUB|HOSP|20250314154510||ADT^A01^ADT_A01|" + id + "|P|2.5.1\r" +
		"EVN|A01|20250314154510\r" +
		"PID|1||MRN-" + id + "^^^HOSP^MR||" + phiMarker + "||19800101|F\r")
}

// ackFor is the handler of most tests: AA for a message whose MSH reads,
// AR for one that does not and for frames not read whole.
func ackFor(code func(h *hl7v2.Header) hl7v2.AckCode) HandlerFunc {
	return func(ctx context.Context, m *Message) []byte {
		h, err := hl7v2.ParseHeader(m.Data)
		if err != nil {
			h = nil
		}
		c := hl7v2.AckAccept
		switch {
		case h == nil || m.Err != nil:
			c = hl7v2.AckReject
		case code != nil:
			c = code(h)
		}
		ack, err := hl7v2.BuildAck(h, hl7v2.AckOptions{Code: c})
		if err != nil {
			panic(err)
		}
		return ack
	}
}

// MustAck reads MSA-1 and MSA-2 of an acknowledgment.
func MustAck(tb testing.TB, ack []byte) (code, controlID string) {
	tb.Helper()
	m, err := hl7v2.Parse(ack)
	require.NoError(tb, err)
	msa := m.Segment("MSA", 1)
	require.True(tb, msa.Exists(), "no MSA in %q", ack)
	return msa.Field(1).String(), msa.Field(2).String()
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testLogger returns a debug logger into a buffer, whose content is
// checked for patient data when the test ends.
func testLogger(tb testing.TB) (*slog.Logger, *syncBuffer) {
	tb.Helper()
	var buf syncBuffer
	tb.Cleanup(func() {
		if strings.Contains(buf.String(), phiMarker) || strings.Contains(buf.String(), "MSH|") {
			tb.Errorf("message content in logs:\n%s", buf.String())
		}
	})
	return slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

// testConfig is DefaultConfig on 127.0.0.1:0 with a checked logger.
func testConfig(tb testing.TB) (Config, *syncBuffer) {
	tb.Helper()
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	var logs *syncBuffer
	cfg.Logger, logs = testLogger(tb)
	return cfg, logs
}

// MustServe opens a server for h; it is closed when the test ends.
func MustServe(tb testing.TB, cfg Config, h Handler) *Server {
	tb.Helper()
	s, err := NewServer(cfg, h)
	require.NoError(tb, err)
	require.NoError(tb, s.Open(context.Background()))
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// MustDial connects to s; the connection is closed when the test ends.
func MustDial(tb testing.TB, s *Server) net.Conn {
	tb.Helper()
	nc, err := net.DialTimeout("tcp", s.Addr().String(), 5*time.Second)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = nc.Close() })
	return nc
}

// MustWrite writes raw bytes.
func MustWrite(tb testing.TB, nc net.Conn, data []byte) {
	tb.Helper()
	require.NoError(tb, nc.SetWriteDeadline(time.Now().Add(10*time.Second)))
	_, err := nc.Write(data)
	require.NoError(tb, err)
}

// frame returns content framed.
func frame(content []byte) []byte {
	var b bytes.Buffer
	_ = WriteFrame(&b, content)
	return b.Bytes()
}

// MustReadFrame reads one frame within 10s.
func MustReadFrame(tb testing.TB, nc net.Conn, r *Reader) []byte {
	tb.Helper()
	require.NoError(tb, nc.SetReadDeadline(time.Now().Add(10*time.Second)))
	data, err := r.Next()
	require.NoError(tb, err)
	return data
}

// waitUntil polls cond until it holds, failing after 10s.
func waitUntil(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting until %s", what)
		}
		<-tick.C
	}
}

// requireClosed checks that the peer closes nc (EOF or reset) within 10s,
// with nothing more to read.
func requireClosed(tb testing.TB, nc net.Conn) {
	tb.Helper()
	require.NoError(tb, nc.SetReadDeadline(time.Now().Add(10*time.Second)))
	var b [1]byte
	n, err := nc.Read(b[:])
	require.Error(tb, err, "connection still open")
	require.Zero(tb, n)
	var ne net.Error
	if errorsAs(err, &ne) {
		require.False(tb, ne.Timeout(), "connection still open after 10s")
	}
}
