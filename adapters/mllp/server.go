package mllp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Server is an MLLP listener. It reads frames from any number of
// connections, many per connection, calls its Handler for each and writes
// the reply back on the same connection.
//
// Its lifecycle is NewServer, Open (binds and starts serving), then
// Shutdown (drains) or Close (does not).
type Server struct {
	cfg   Config
	h     Handler
	log   *slog.Logger
	stats counters

	nextID     atomic.Uint64
	inShutdown atomic.Bool

	mu       sync.Mutex
	state    serverState
	ln       net.Listener
	conns    map[*conn]struct{}
	connWG   sync.WaitGroup
	baseCtx  context.Context // handler contexts; cancelled on forced close
	cancel   context.CancelFunc
	closing  chan struct{} // closed when shutdown begins
	accepted chan struct{} // closed when the accept loop has returned
}

type serverState uint8

const (
	stateNew serverState = iota
	stateOpen
	stateClosed
)

// NewServer returns a Server that calls h, once cfg is validated.
func NewServer(cfg Config, h Handler) (*Server, error) {
	if h == nil {
		return nil, errors.New("mllp: config: handler is nil")
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, h: h, log: cfg.Logger, conns: map[*conn]struct{}{}}, nil
}

// Open binds the listening socket, so that an address in use fails here,
// and starts serving in a goroutine. ctx bounds the bind only; its values
// (not its cancellation) reach handler contexts. A Server opens once.
func (s *Server) Open(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateNew {
		return errors.New("mllp: open: server already opened")
	}
	lc := net.ListenConfig{KeepAlive: s.cfg.KeepAlive}
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("mllp: open: %w", err)
	}
	s.ln = ln
	s.baseCtx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	s.closing = make(chan struct{})
	s.accepted = make(chan struct{})
	s.state = stateOpen
	s.log.Info("mllp: listening", "addr", ln.Addr().String(), "tls", s.cfg.TLS != nil)
	go s.acceptLoop(ln)
	return nil
}

// Addr returns the address the server listens on (with the port chosen
// for ":0"), or nil before Open.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Stats returns a snapshot of the server's counters.
func (s *Server) Stats() Stats { return s.stats.snapshot() }

// Shutdown stops accepting connections, closes idle connections at once,
// lets each busy connection finish the frame it is reading or handling and
// write its reply, then closes it. It returns nil when every connection
// has ended, or, when ctx ends first, cancels the handlers' context,
// closes the remaining connections and returns an error wrapping
// ctx.Err() without waiting for those handlers to return.
func (s *Server) Shutdown(ctx context.Context) error {
	if !s.beginShutdown() {
		return nil
	}
	done := make(chan struct{})
	go func() {
		<-s.accepted
		s.connWG.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.cancel()
		s.log.Info("mllp: shut down")
		return nil
	case <-ctx.Done():
		n := s.forceClose()
		s.log.Warn("mllp: shutdown deadline passed; connections closed", "connections", n)
		return fmt.Errorf("mllp: shutdown: %w", ctx.Err())
	}
}

// Close closes the listener and every connection at once and cancels the
// handlers' context, without waiting for handlers to return. Replies of
// handlers still running are lost; their senders will resend.
func (s *Server) Close() error {
	if s.beginShutdown() {
		s.forceClose()
	}
	return nil
}

// beginShutdown closes the listener and idle connections; it reports
// whether the server had been opened.
func (s *Server) beginShutdown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.state {
	case stateNew:
		s.state = stateClosed
		return false
	case stateOpen:
		s.state = stateClosed
		s.inShutdown.Store(true)
		close(s.closing)
		_ = s.ln.Close()
	}
	if s.ln == nil { // closed before it was opened
		return false
	}
	for c := range s.conns {
		c.closeIfIdle()
	}
	return true
}

// forceClose cancels handlers and closes every connection; it returns how
// many were open.
func (s *Server) forceClose() int {
	s.cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		_ = c.nc.Close()
	}
	return len(s.conns)
}

// acceptLoop accepts connections until the listener is closed.
func (s *Server) acceptLoop(ln net.Listener) {
	defer close(s.accepted)
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait and retry, as
			// net/http does, rather than stop serving.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			s.log.Warn("mllp: accept failed; retrying", "err", err, "in", delay)
			select {
			case <-time.After(delay):
			case <-s.closing:
				return
			}
			continue
		}
		delay = 0
		s.startConn(nc)
	}
}

// startConn registers nc and serves it in a goroutine, unless the server
// is shutting down or full.
func (s *Server) startConn(nc net.Conn) {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		_ = nc.Close()
		return
	}
	if s.cfg.MaxConnections > 0 && len(s.conns) >= s.cfg.MaxConnections {
		s.mu.Unlock()
		s.stats.refused.Add(1)
		s.log.Warn("mllp: connection refused: limit reached", "remote", nc.RemoteAddr().String(), "limit", s.cfg.MaxConnections)
		_ = nc.Close()
		return
	}
	c := newConn(s, nc)
	s.conns[c] = struct{}{}
	s.connWG.Add(1)
	s.mu.Unlock()
	s.stats.accepted.Add(1)
	s.stats.active.Add(1)
	go s.serveConn(c)
}

// removeConn closes c and forgets it.
func (s *Server) removeConn(c *conn) {
	_ = c.nc.Close()
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.stats.active.Add(-1)
	s.connWG.Done()
}
