package mllp

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Config configures a Server.
type Config struct {
	// Addr is the TCP address to listen on, host:port (2575 is the IANA
	// port of HL7 over MLLP; tests use 127.0.0.1:0).
	Addr string
	// MaxMessageSize is the largest frame content accepted, in bytes.
	MaxMessageSize int
	// ReadTimeout bounds the reading of one frame from its start block
	// to its end block, and the TLS handshake; 0 means no bound.
	ReadTimeout time.Duration
	// IdleTimeout closes a connection that has sent no frame for this
	// long after the previous one (or after connecting); 0 means never.
	IdleTimeout time.Duration
	// WriteTimeout bounds the writing of one reply; 0 means no bound.
	WriteTimeout time.Duration
	// KeepAlive is the TCP keep-alive period, which finds dead peers of
	// idle connections: 0 uses Go's default (15s), negative disables it.
	KeepAlive time.Duration
	// TLS, when set, makes the listener speak TLS with this
	// configuration, which must hold a certificate. Set ClientAuth to
	// tls.RequireAndVerifyClientCert and ClientCAs for mutual TLS.
	TLS *tls.Config
	// MaxConnections limits the connections open at once; a connection
	// beyond it is closed as soon as it is accepted (and logged). 0 means
	// no limit.
	MaxConnections int
	// Logger receives connection events, never message content; nil
	// discards them.
	Logger *slog.Logger
	// Now gives Message.ReceivedAt; nil means time.Now. Timeouts use the
	// system clock.
	Now func() time.Time
}

// DefaultConfig returns the configuration of a plain listener on :2575:
// 4 MiB messages, 60s to read a frame, 30s to write a reply, no idle
// timeout (senders of HL7 hold their connections open for days; TCP
// keep-alive finds the dead ones), no connection limit.
func DefaultConfig() Config {
	return Config{
		Addr:           ":2575",
		MaxMessageSize: DefaultMaxMessageSize,
		ReadTimeout:    60 * time.Second,
		WriteTimeout:   30 * time.Second,
	}
}

// validate checks c and fills its defaults.
func (c *Config) validate() error {
	var errs []error
	if c.Addr == "" {
		errs = append(errs, errors.New("Addr is empty"))
	}
	if c.MaxMessageSize <= 0 || c.MaxMessageSize > maxMessageSizeLimit {
		errs = append(errs, fmt.Errorf("MaxMessageSize %d is not between 1 and %d", c.MaxMessageSize, maxMessageSizeLimit))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"ReadTimeout", c.ReadTimeout}, {"IdleTimeout", c.IdleTimeout}, {"WriteTimeout", c.WriteTimeout}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s %v is negative", d.name, d.v))
		}
	}
	if c.MaxConnections < 0 {
		errs = append(errs, fmt.Errorf("MaxConnections %d is negative", c.MaxConnections))
	}
	if c.TLS != nil && len(c.TLS.Certificates) == 0 && c.TLS.GetCertificate == nil && c.TLS.GetConfigForClient == nil {
		errs = append(errs, errors.New("TLS has no certificate"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("mllp: config: %w", err)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}
