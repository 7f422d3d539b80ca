package kafka

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
)

// testTimeout bounds every blocking step of a test; kfake answers in
// milliseconds, a remote cluster in well under this.
const testTimeout = 30 * time.Second

// MustBrokers returns the cluster tests run against: KAFKA_BROKERS
// (comma-separated) when set, else a fresh embedded broker closed at the
// end of the test.
func MustBrokers(tb testing.TB) []string {
	tb.Helper()
	if env := os.Getenv("KAFKA_BROKERS"); env != "" {
		return strings.Split(env, ",")
	}
	return MustEmbedded(tb, EmbeddedConfig{}).Brokers()
}

// MustEmbedded starts an embedded broker closed at the end of the test.
func MustEmbedded(tb testing.TB, cfg EmbeddedConfig) *Embedded {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	e, err := StartEmbedded(ctx, cfg)
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, e.Close()) })
	return e
}

// testConfig returns a Config for brokers; no logger (DEBUG=1 would be
// the place to add one, but tests assert behaviour, not logs).
func testConfig(brokers []string) Config {
	cfg := DefaultConfig()
	cfg.Brokers = brokers
	return cfg
}

// MustTopic creates a topic with a unique name (tests may share a cluster)
// and the given partition count.
func MustTopic(tb testing.TB, cfg Config, partitions int) string {
	tb.Helper()
	name := UniqueName("fhirhub-test-" + sanitize(tb.Name()))
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	require.NoError(tb, EnsureTopics(ctx, cfg, TopicSpec{Name: name, Partitions: partitions}))
	return name
}

// UniqueName appends a random suffix to prefix.
func UniqueName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r == '_' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			return r
		}
		return '-'
	}, s)
}

// MustProducer returns a producer closed at the end of the test.
func MustProducer(tb testing.TB, cfg Config) *Producer {
	tb.Helper()
	p, err := NewProducer(cfg)
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, p.Close()) })
	return p
}

// MustConsumer returns a consumer closed at the end of the test (closing
// twice is fine, so tests may close it earlier).
func MustConsumer(tb testing.TB, cfg Config, group, topic string) *Consumer {
	tb.Helper()
	c, err := NewConsumer(cfg, group, topic)
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, c.Close()) })
	return c
}

// MustFetchN fetches exactly n records, failing the test if they do not
// arrive within testTimeout.
func MustFetchN(tb testing.TB, c *Consumer, n int) []Record {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	out := make([]Record, 0, n)
	for len(out) < n {
		r, err := c.Fetch(ctx)
		require.NoError(tb, err, "fetched %d of %d records", len(out), n)
		out = append(out, r)
	}
	return out
}

// MustPublish publishes recs, failing the test on error.
func MustPublish(tb testing.TB, p *Producer, recs ...Record) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	require.NoError(tb, p.Publish(ctx, recs...))
}

// MustMetadata returns the cluster's metadata for topics, straight from
// kafka-go (not through this package).
func MustMetadata(tb testing.TB, brokers []string, topics ...string) *kafkago.MetadataResponse {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	tr := &kafkago.Transport{}
	defer tr.CloseIdleConnections()
	client := &kafkago.Client{Addr: kafkago.TCP(brokers...), Transport: tr}
	md, err := client.Metadata(ctx, &kafkago.MetadataRequest{Topics: topics})
	require.NoError(tb, err)
	return md
}

func key(i int) []byte { return fmt.Appendf(nil, "MRN-%05d", i) }
