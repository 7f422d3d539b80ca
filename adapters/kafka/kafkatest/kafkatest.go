// Package kafkatest gives tests a real Kafka-protocol broker: the cluster
// named by KAFKA_BROKERS, else an embedded broker (kfake) per test, and
// topics with unique names so that tests may share a cluster.
package kafkatest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fhirhub/fhirhub/adapters/kafka"
)

// Timeout bounds each blocking step of a test.
const Timeout = 30 * time.Second

// Brokers returns KAFKA_BROKERS when set, else the address of a fresh
// embedded broker, with fhirhub's topics, closed at the end of the test.
func Brokers(tb testing.TB) []string {
	tb.Helper()
	if env := os.Getenv("KAFKA_BROKERS"); env != "" {
		return strings.Split(env, ",")
	}
	return Embedded(tb, kafka.DefaultEmbeddedConfig()).Brokers()
}

// Embedded starts an embedded broker closed at the end of the test.
func Embedded(tb testing.TB, cfg kafka.EmbeddedConfig) *kafka.Embedded {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	e, err := kafka.StartEmbedded(ctx, cfg)
	if err != nil {
		tb.Fatalf("kafkatest: start embedded broker: %v", err)
	}
	tb.Cleanup(func() { _ = e.Close() })
	return e
}

// Config returns the client configuration for brokers.
func Config(brokers []string) kafka.Config {
	cfg := kafka.DefaultConfig()
	cfg.Brokers = brokers
	return cfg
}

// Topic creates a topic with a unique name and the given partitions.
func Topic(tb testing.TB, cfg kafka.Config, prefix string, partitions int) string {
	tb.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := prefix + "-" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	if err := kafka.EnsureTopics(ctx, cfg, kafka.TopicSpec{Name: name, Partitions: partitions}); err != nil {
		tb.Fatalf("kafkatest: create topic: %v", err)
	}
	return name
}

// Consume reads n records of topic through a new consumer group, failing
// the test when they do not come within Timeout.
func Consume(tb testing.TB, cfg kafka.Config, topic string, n int) []kafka.Record {
	tb.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	c, err := kafka.NewConsumer(cfg, "kafkatest-"+hex.EncodeToString(b[:]), topic)
	if err != nil {
		tb.Fatalf("kafkatest: consumer: %v", err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	out := make([]kafka.Record, 0, n)
	for len(out) < n {
		r, err := c.Fetch(ctx)
		if err != nil {
			tb.Fatalf("kafkatest: %d of %d records read from %s: %v", len(out), n, topic, err)
		}
		out = append(out, r)
	}
	return out
}
