// Package kafka wraps github.com/segmentio/kafka-go for fhirhub's Kafka
// topics, and embeds github.com/twmb/franz-go/pkg/kfake as an in-process
// Kafka-protocol broker for the single-machine default and for tests.
//
// It provides:
//
//   - [Producer]: synchronous, keyed publishing with required acks = all
//     and murmur2 key partitioning (the Java client's and franz-go's
//     default), so one key (a patient identifier) always lands in one
//     partition and its records stay in order.
//   - [Consumer]: a consumer-group reader that hands out one record at a
//     time and commits offsets only when the caller says so, after the
//     record's effect is durable (at-least-once delivery).
//   - [EnsureTopics]: idempotent topic creation.
//   - [Embedded]: a Kafka-protocol broker on a loopback port that
//     external clients (kafka-go, franz-go, kcat) can use.
//
// The topics of the system and their keys are listed in DESIGN.md
// ("Kafka"); their names are the Topic* constants.
//
// Keys are patient identifiers and values are clinical messages: this
// package never logs either. Log lines carry topic, partition, offset,
// group, counts and errors only.
package kafka
