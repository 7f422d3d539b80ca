package mllp

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"time"
)

// conn is one connection of a Server.
type conn struct {
	s    *Server
	nc   net.Conn // *tls.Conn with TLS
	info ConnInfo
	log  *slog.Logger

	fw frameWriter // replies, written one at a time

	mu   sync.Mutex
	busy bool // between the start block of a frame and the end of its reply
}

func newConn(s *Server, nc net.Conn) *conn {
	id := s.nextID.Add(1)
	c := &conn{s: s, info: ConnInfo{ID: id, RemoteAddr: nc.RemoteAddr(), LocalAddr: nc.LocalAddr()}}
	if s.cfg.TLS != nil {
		nc = tls.Server(nc, s.cfg.TLS)
	}
	c.nc = nc
	c.log = s.log.With("conn", id, "remote", c.info.RemoteAddr.String())
	return c
}

// setBusy marks the connection as handling a frame: Shutdown lets it
// finish.
func (c *conn) setBusy() {
	c.mu.Lock()
	c.busy = true
	c.mu.Unlock()
}

// setIdle marks the connection as waiting for a frame and reports whether
// the server is shutting down (the connection must then close).
func (c *conn) setIdle() (shuttingDown bool) {
	c.mu.Lock()
	c.busy = false
	c.mu.Unlock()
	// Shutdown sets inShutdown before it looks for idle connections: a
	// connection that was idle then is closed by it, one that becomes
	// idle later sees the flag here.
	return c.s.inShutdown.Load()
}

// closeIfIdle closes the connection unless it is handling a frame.
func (c *conn) closeIfIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.busy {
		_ = c.nc.Close()
	}
}

// serveConn reads frames from c and answers them until the connection
// ends.
func (s *Server) serveConn(c *conn) {
	defer s.removeConn(c)
	c.log.Info("mllp: connection opened")
	started := time.Now()
	messages := 0
	reason := "closed by peer"
	defer func() {
		c.log.Info("mllp: connection closed", "reason", reason, "messages", messages, "duration", time.Since(started).Round(time.Millisecond))
	}()

	if tc, ok := c.nc.(*tls.Conn); ok {
		if err := s.handshake(tc, c); err != nil {
			reason = "tls handshake failed"
			return
		}
	}

	fr := NewReader(bufio.NewReaderSize(c.nc, 32<<10), s.cfg.MaxMessageSize)
	fr.OnStart = func() {
		c.setBusy()
		_ = c.nc.SetReadDeadline(deadline(s.cfg.ReadTimeout))
	}
	for {
		if c.setIdle() {
			reason = "server shutdown"
			return
		}
		_ = c.nc.SetReadDeadline(deadline(s.cfg.IdleTimeout))
		data, err := fr.Next()
		if d := fr.Discarded(); d > 0 {
			s.stats.discarded.Add(uint64(d))
			c.log.Warn("mllp: discarded bytes outside frames", "bytes", d)
		}
		if err != nil {
			reason = s.readFailed(c, err)
			return
		}
		messages++
		s.stats.messages.Add(1)
		m := &Message{Data: data, Conn: c.info, ReceivedAt: s.cfg.Now()}
		reply, ok := s.call(c, m)
		if !ok {
			reason = "handler panic"
			return
		}
		if reply != nil {
			if err := s.reply(c, reply); err != nil {
				reason = err.Error()
				return
			}
		}
	}
}

// handshake runs the TLS handshake of c within the read timeout and
// records the peer's certificates.
func (s *Server) handshake(tc *tls.Conn, c *conn) error {
	ctx := s.baseCtx
	if s.cfg.ReadTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.cfg.ReadTimeout)
		defer cancel()
	}
	if err := tc.HandshakeContext(ctx); err != nil {
		s.stats.tlsFailures.Add(1)
		c.log.Warn("mllp: tls handshake failed", "err", err)
		return err
	}
	c.info.PeerCertificates = tc.ConnectionState().PeerCertificates
	return nil
}

// readFailed handles a read error of fr.Next and returns why the
// connection closes. A frame that could not be read whole still goes to
// the handler, whose reply (a NAK) is written before closing.
func (s *Server) readFailed(c *conn, err error) string {
	if s.inShutdown.Load() && errors.Is(err, net.ErrClosed) {
		return "server shutdown"
	}
	var fe *FrameError
	if !errors.As(err, &fe) {
		switch {
		case errors.Is(err, io.EOF):
			return "closed by peer"
		case errors.Is(err, os.ErrDeadlineExceeded):
			s.stats.timeouts.Add(1)
			c.log.Info("mllp: idle timeout", "timeout", s.cfg.IdleTimeout)
			return "idle timeout"
		default:
			return "read error: " + err.Error()
		}
	}
	reason := "frame too large"
	if errors.Is(err, ErrTooLarge) {
		s.stats.tooLarge.Add(1)
		c.log.Warn("mllp: frame too large; closing connection", "limit", fe.Limit)
	} else {
		s.stats.unterminated.Add(1)
		reason = "unterminated frame"
		if errors.Is(err, os.ErrDeadlineExceeded) {
			s.stats.timeouts.Add(1)
			reason = "read timeout"
		}
		c.log.Warn("mllp: unterminated frame; closing connection", "bytes", len(fe.Data), "cause", fe.Cause)
	}
	m := &Message{Data: fe.Data, Err: err, Conn: c.info, ReceivedAt: s.cfg.Now()}
	if reply, ok := s.call(c, m); ok && reply != nil {
		if s.reply(c, reply) == nil {
			lingerClose(c.nc)
		}
	}
	return reason
}

// call calls the handler, recovering a panic: it logs the panic's type
// (its value may hold message data, unless it is a runtime error) and
// stack, and reports false.
func (s *Server) call(c *conn, m *Message) (reply []byte, ok bool) {
	defer func() {
		if p := recover(); p != nil {
			s.stats.panics.Add(1)
			what := fmt.Sprintf("%T", p)
			if re, isRuntime := p.(runtime.Error); isRuntime {
				what = re.Error()
			}
			c.log.Error("mllp: handler panic; closing connection", "panic", what, "stack", string(debug.Stack()))
			reply, ok = nil, false
		}
	}()
	return s.h.ServeMLLP(s.baseCtx, m), true
}

// reply writes one reply frame within the write timeout.
func (s *Server) reply(c *conn, reply []byte) error {
	_ = c.nc.SetWriteDeadline(deadline(s.cfg.WriteTimeout))
	if err := c.fw.write(c.nc, reply); err != nil {
		switch {
		case errors.Is(err, ErrInvalidContent):
			c.log.Error("mllp: handler reply not sent", "err", err)
			return errors.New("invalid reply")
		case errors.Is(err, os.ErrDeadlineExceeded):
			s.stats.timeouts.Add(1)
			c.log.Warn("mllp: write timeout", "timeout", s.cfg.WriteTimeout)
			return errors.New("write timeout")
		}
		return fmt.Errorf("write error: %w", err)
	}
	s.stats.replies.Add(1)
	return nil
}

// lingerClose half-closes nc and reads what the peer still sends for a
// moment before the caller closes it, so that the reply just written is
// not destroyed by a reset (closing a socket with unread input sends RST,
// and the peer may drop the reply before reading it).
func lingerClose(nc net.Conn) {
	if cw, ok := nc.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	_ = nc.SetReadDeadline(time.Now().Add(time.Second))
	_, _ = io.CopyN(io.Discard, nc, 64<<20)
}

// deadline returns the deadline d from now, or none for d == 0.
func deadline(d time.Duration) time.Time {
	if d <= 0 {
		return time.Time{}
	}
	return time.Now().Add(d)
}
