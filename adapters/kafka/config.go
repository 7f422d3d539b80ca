package kafka

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// Config is what producers, consumers and [EnsureTopics] need to reach a
// cluster. Start from [DefaultConfig] and set Brokers.
type Config struct {
	// Brokers are bootstrap "host:port" addresses; the rest of the cluster
	// is discovered through metadata. Required.
	Brokers []string
	// ClientID names this process to the brokers (their logs and quotas).
	ClientID string
	// TLS, when non-nil, is used for every broker connection.
	TLS *tls.Config
	// DialTimeout bounds establishing one broker connection (TCP + TLS).
	DialTimeout time.Duration
	// MaxAttempts bounds how often a Publish tries a record batch before
	// it gives up: produce retries happen inside kafka-go's writer (which
	// keeps per-partition order), metadata retries in Publish itself.
	MaxAttempts int
	// Logger receives operational logs (never keys or values); nil
	// discards them.
	Logger *slog.Logger
}

// DefaultConfig returns a Config with every field but Brokers set.
func DefaultConfig() Config {
	return Config{
		ClientID:    "fhirhub",
		DialTimeout: 5 * time.Second,
		MaxAttempts: 5,
	}
}

// validate checks the config and fills zero values a caller may leave
// out (ClientID, DialTimeout, MaxAttempts) with DefaultConfig's.
func (c *Config) validate() error {
	if len(c.Brokers) == 0 {
		return errors.New("config: no brokers")
	}
	for _, b := range c.Brokers {
		host, port, err := net.SplitHostPort(b)
		if err != nil {
			return fmt.Errorf("config: broker %q: %w", b, err)
		}
		if host == "" {
			return fmt.Errorf("config: broker %q: empty host", b)
		}
		if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
			return fmt.Errorf("config: broker %q: invalid port", b)
		}
	}
	if c.DialTimeout < 0 || c.MaxAttempts < 0 {
		return errors.New("config: negative DialTimeout or MaxAttempts")
	}
	d := DefaultConfig()
	if c.ClientID == "" {
		c.ClientID = d.ClientID
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = d.DialTimeout
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = d.MaxAttempts
	}
	return nil
}

func (c *Config) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// requestTimeout bounds one request/response round trip to a broker when
// the caller's ctx has no earlier deadline.
const requestTimeout = 10 * time.Second

// transport returns a new connection pool for producers and admin calls.
// The caller closes it with CloseIdleConnections.
func (c *Config) transport() *kafkago.Transport {
	return &kafkago.Transport{
		Dial:        (&net.Dialer{Timeout: c.DialTimeout}).DialContext,
		DialTimeout: c.DialTimeout,
		ClientID:    c.ClientID,
		TLS:         c.TLS,
	}
}

// dialer returns the dialer consumers use (kafka-go's Reader does not use
// a Transport).
func (c *Config) dialer() *kafkago.Dialer {
	return &kafkago.Dialer{
		ClientID:  c.ClientID,
		Timeout:   c.DialTimeout,
		DualStack: true,
		TLS:       c.TLS,
	}
}

// kafkaGoLoggers bridges kafka-go's printf loggers to slog: its chatty
// progress lines at Debug, its error lines at Warn. kafka-go's log lines
// name topics, partitions, offsets, groups and errors, never keys or
// values.
func kafkaGoLoggers(log *slog.Logger, component string) (info, errs kafkago.Logger) {
	bridge := func(level slog.Level) kafkago.Logger {
		return kafkago.LoggerFunc(func(format string, args ...any) {
			// kafka-go calls this from its own goroutines without a
			// context; Background only carries no values to the handler.
			ctx := context.Background()
			// Check first so the Sprintf is not paid for discarded lines.
			if !log.Enabled(ctx, level) {
				return
			}
			log.Log(ctx, level, "kafka-go", "component", component, "detail", fmt.Sprintf(format, args...))
		})
	}
	return bridge(slog.LevelDebug), bridge(slog.LevelWarn)
}
