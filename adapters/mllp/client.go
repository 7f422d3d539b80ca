package mllp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
)

// Errors of the Client that callers branch on.
var (
	// ErrAckTimeout: no acknowledgment came within ClientConfig.AckTimeout.
	ErrAckTimeout = errors.New("mllp: no acknowledgment within the timeout")
	// ErrClientClosed: Send was called on, or interrupted by, Close.
	ErrClientClosed = errors.New("mllp: client closed")
)

// ClientConfig configures a Client.
type ClientConfig struct {
	// Addr is the receiver's address, host:port.
	Addr string
	// TLS, when set, makes the client speak TLS with this configuration
	// (RootCAs for a private CA, Certificates for mutual TLS). An empty
	// ServerName is taken from Addr.
	TLS *tls.Config
	// DialTimeout bounds connecting, TLS handshake included.
	DialTimeout time.Duration
	// AckTimeout bounds writing a message and receiving its
	// acknowledgment.
	AckTimeout time.Duration
	// Retries is how many times a message is sent again, on a new
	// connection, after a failed attempt (connection refused or broken,
	// acknowledgment timeout); 0 sends once.
	Retries int
	// Backoff is the wait before the first retry, doubled before each
	// next one up to MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// MaxMessageSize is the largest acknowledgment accepted, in bytes.
	MaxMessageSize int
	// Logger receives retries and reconnections, never content; nil
	// discards them.
	Logger *slog.Logger
}

// DefaultClientConfig returns the settings of a sender to addr: 10s to
// connect, 30s for each acknowledgment, 3 retries after 500ms doubling up
// to 30s, acknowledgments up to 4 MiB.
func DefaultClientConfig(addr string) ClientConfig {
	return ClientConfig{
		Addr:           addr,
		DialTimeout:    10 * time.Second,
		AckTimeout:     30 * time.Second,
		Retries:        3,
		Backoff:        500 * time.Millisecond,
		MaxBackoff:     30 * time.Second,
		MaxMessageSize: DefaultMaxMessageSize,
	}
}

func (c *ClientConfig) validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("Addr %q is not host:port", c.Addr))
	}
	if c.DialTimeout <= 0 {
		errs = append(errs, fmt.Errorf("DialTimeout %v is not positive", c.DialTimeout))
	}
	if c.AckTimeout <= 0 {
		errs = append(errs, fmt.Errorf("AckTimeout %v is not positive", c.AckTimeout))
	}
	if c.Retries < 0 {
		errs = append(errs, fmt.Errorf("Retries %d is negative", c.Retries))
	}
	if c.Backoff < 0 || c.MaxBackoff < 0 {
		errs = append(errs, errors.New("Backoff or MaxBackoff is negative"))
	}
	if c.MaxMessageSize <= 0 || c.MaxMessageSize > maxMessageSizeLimit {
		errs = append(errs, fmt.Errorf("MaxMessageSize %d is not between 1 and %d", c.MaxMessageSize, maxMessageSizeLimit))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("mllp: client config: %w", err)
	}
	if c.MaxBackoff < c.Backoff {
		c.MaxBackoff = c.Backoff
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Client sends messages over one MLLP connection and waits for the
// acknowledgment of each before the next: the original-mode exchange of
// HL7 v2.5.1 section 2.9.2. It connects on the first Send and reconnects
// when the connection breaks.
//
// Send is safe for concurrent use, but messages are sent one at a time;
// use several Clients for parallel connections.
type Client struct {
	cfg    ClientConfig
	log    *slog.Logger
	sendMu sync.Mutex  // serialises Send
	fw     frameWriter // under sendMu

	mu         sync.Mutex // guards what follows, so that Close interrupts Send
	nc         net.Conn
	fr         *Reader
	cancelDial context.CancelFunc // set while dialling
	closed     bool
}

// NewClient returns a Client for cfg once it is validated; it does not
// connect.
func NewClient(cfg ClientConfig) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Client{cfg: cfg, log: cfg.Logger.With("addr", cfg.Addr)}, nil
}

// Send sends msg (one HL7 message, segments ended by CR) and returns the
// content of the acknowledgment frame; it does not read the
// acknowledgment, which may be negative.
//
// A failed attempt closes the connection, so that a late acknowledgment
// is never taken for the next message's, and is retried on a new one
// after the backoff, up to Retries times. Sending again is safe because
// receivers de-duplicate by control id (MSH-10). A connection found
// broken when reused after a pause is replaced once without counting as a
// retry. Errors wrap ErrAckTimeout, ErrClientClosed, ErrInvalidContent,
// ErrTooLarge, ctx.Err(), or the network error of the last attempt.
func (c *Client) Send(ctx context.Context, msg []byte) ([]byte, error) {
	if err := checkContent(msg); err != nil {
		return nil, fmt.Errorf("mllp: send: %w", err)
	}
	c.sendMu.Lock()
	defer c.sendMu.Unlock()

	backoff := c.cfg.Backoff
	freeRetry := true
	for attempt := 1; ; attempt++ {
		reused, err := c.connect(ctx)
		var ack []byte
		if err == nil {
			ack, err = c.exchange(ctx, msg)
			if err == nil {
				return ack, nil
			}
			c.drop()
		}
		switch {
		case c.isClosed():
			return nil, fmt.Errorf("mllp: send: %w", ErrClientClosed)
		case ctx.Err() != nil:
			return nil, fmt.Errorf("mllp: send: %w", ctx.Err())
		case !retryable(err):
			return nil, fmt.Errorf("mllp: send: %w", err)
		case reused && freeRetry && errors.Is(err, errBroken):
			freeRetry = false
			attempt--
			c.log.Info("mllp: connection broken while idle; reconnecting", "err", err)
			continue
		case attempt > c.cfg.Retries:
			return nil, fmt.Errorf("mllp: send: attempt %d of %d: %w", attempt, c.cfg.Retries+1, err)
		}
		c.log.Warn("mllp: send failed; retrying", "attempt", attempt, "in", backoff, "err", err)
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("mllp: send: %w", ctx.Err())
		}
		backoff = min(2*backoff, c.cfg.MaxBackoff)
	}
}

// Post sends msg without waiting for an acknowledgment, for messages
// that ask for none (enhanced mode, MSH-15 NE). It connects and retries
// like Send; a write that succeeds is all it can know.
func (c *Client) Post(ctx context.Context, msg []byte) error {
	if err := checkContent(msg); err != nil {
		return fmt.Errorf("mllp: post: %w", err)
	}
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	backoff := c.cfg.Backoff
	for attempt := 1; ; attempt++ {
		_, err := c.connect(ctx)
		if err == nil {
			c.mu.Lock()
			nc := c.nc
			c.mu.Unlock()
			if nc == nil {
				return fmt.Errorf("mllp: post: %w", ErrClientClosed)
			}
			_ = nc.SetWriteDeadline(time.Now().Add(c.cfg.AckTimeout))
			if err = c.fw.write(nc, msg); err == nil {
				return nil
			}
			c.drop()
		}
		switch {
		case c.isClosed():
			return fmt.Errorf("mllp: post: %w", ErrClientClosed)
		case ctx.Err() != nil:
			return fmt.Errorf("mllp: post: %w", ctx.Err())
		case !retryable(err) || attempt > c.cfg.Retries:
			return fmt.Errorf("mllp: post: %w", err)
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("mllp: post: %w", ctx.Err())
		}
		backoff = min(2*backoff, c.cfg.MaxBackoff)
	}
}

// errBroken marks a connection that failed before any acknowledgment
// byte came: refused writes, EOF or reset while waiting.
var errBroken = errors.New("connection broken")

// retryable reports whether sending again on a new connection may
// succeed: yes after network errors and acknowledgment timeouts (the
// receiver may have restarted, a proxy dropped the connection, a
// receiver was slow); no when a new attempt would fail the same way: the
// message cannot be framed, the acknowledgment is too large, the
// server's certificate does not verify, or the server refused ours with
// a TLS alert.
func retryable(err error) bool {
	var certErr *tls.CertificateVerificationError
	var opErr *net.OpError
	// crypto/tls reports an alert from the peer as a *net.OpError with Op
	// "remote error" around its unexported alert type.
	remoteAlert := errors.As(err, &opErr) && opErr.Op == "remote error"
	return !errors.Is(err, ErrInvalidContent) && !errors.Is(err, ErrTooLarge) &&
		!errors.As(err, &certErr) && !remoteAlert
}

// connect dials unless a connection is open; it reports whether one was
// reused. The dial runs without the lock, and Close cancels it.
func (c *Client) connect(ctx context.Context) (reused bool, err error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false, ErrClientClosed
	}
	if c.nc != nil {
		c.mu.Unlock()
		return true, nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.DialTimeout)
	defer cancel()
	c.cancelDial = cancel
	c.mu.Unlock()

	var nc net.Conn
	if c.cfg.TLS != nil {
		d := tls.Dialer{Config: c.cfg.TLS}
		nc, err = d.DialContext(ctx, "tcp", c.cfg.Addr)
	} else {
		var d net.Dialer
		nc, err = d.DialContext(ctx, "tcp", c.cfg.Addr)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	c.cancelDial = nil
	if err != nil {
		return false, fmt.Errorf("connect: %w", err)
	}
	if c.closed {
		_ = nc.Close()
		return false, ErrClientClosed
	}
	c.nc, c.fr = nc, NewReader(nc, c.cfg.MaxMessageSize)
	c.log.Debug("mllp: connected", "local", nc.LocalAddr().String())
	return false, nil
}

// exchange writes msg and reads one frame back within AckTimeout; ctx
// cancellation interrupts it.
func (c *Client) exchange(ctx context.Context, msg []byte) ([]byte, error) {
	c.mu.Lock()
	nc, fr := c.nc, c.fr
	c.mu.Unlock()
	if nc == nil {
		return nil, ErrClientClosed
	}
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	_ = nc.SetDeadline(time.Now().Add(c.cfg.AckTimeout))
	if err := c.fw.write(nc, msg); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, fmt.Errorf("write: %w", ErrAckTimeout)
		}
		return nil, fmt.Errorf("write: %w: %w", errBroken, err)
	}
	ack, err := fr.Next()
	if d := fr.Discarded(); d > 0 {
		c.log.Warn("mllp: discarded bytes outside frames", "bytes", d)
	}
	switch {
	case err == nil:
		return ack, nil
	case errors.Is(err, ErrTooLarge):
		return nil, err
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, ErrAckTimeout
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, net.ErrClosed):
		var fe *FrameError
		if errors.As(err, &fe) {
			return nil, fmt.Errorf("read acknowledgment: %w", err) // part of an ACK came: not idle breakage
		}
		return nil, fmt.Errorf("read acknowledgment: %w: %w", errBroken, err)
	}
	return nil, fmt.Errorf("read acknowledgment: %w", err)
}

// drop closes the connection after a failed attempt.
func (c *Client) drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nc != nil {
		_ = c.nc.Close()
		c.nc, c.fr = nil, nil
	}
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// Close closes the connection; a Send in progress fails with
// ErrClientClosed, and later ones too.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.cancelDial != nil {
		c.cancelDial()
	}
	if c.nc == nil {
		return nil
	}
	err := c.nc.Close()
	c.nc, c.fr = nil, nil
	return err
}
