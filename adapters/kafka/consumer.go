package kafka

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// Consumer reads one topic as a member of a consumer group. It commits
// nothing by itself: the caller fetches a record, applies its effect
// durably, then commits it, so a crash in between redelivers the record
// (at-least-once). A Consumer's methods may be called from different
// goroutines, but records are handed out in partition order only to a
// single fetching goroutine.
type Consumer struct {
	r      *kafkago.Reader
	log    *slog.Logger
	closed atomic.Bool
}

// consumerMaxWait bounds how long one fetch request waits at the broker
// for new records. kafka-go's Reader.Close waits for the fetch in flight,
// so its 10 s default makes Close take ~9 s.
const consumerMaxWait = 250 * time.Millisecond

// NewConsumer returns a consumer of topic in group. A group with no
// committed offset for a partition starts at the partition's first record,
// so nothing published before the group first joined is skipped. It does
// not connect until the first Fetch.
func NewConsumer(cfg Config, group, topic string) (*Consumer, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("kafka: new consumer: %w", err)
	}
	if group == "" {
		return nil, errors.New("kafka: new consumer: empty group")
	}
	if err := validateTopicName(topic); err != nil {
		return nil, fmt.Errorf("kafka: new consumer: %w", err)
	}
	log := cfg.logger().With("component", "kafka.consumer", "group", group, "topic", topic)
	infoLog, errLog := kafkaGoLoggers(log, "reader")
	r := kafkago.NewReader(kafkago.ReaderConfig{
		Brokers:     cfg.Brokers,
		GroupID:     group,
		Topic:       topic,
		Dialer:      cfg.dialer(),
		MaxWait:     consumerMaxWait,
		StartOffset: kafkago.FirstOffset,
		// CommitInterval 0: CommitMessages is synchronous and returns
		// after the coordinator stored the offsets.
		CommitInterval: 0,
		MaxAttempts:    cfg.MaxAttempts,
		Logger:         infoLog,
		ErrorLogger:    errLog,
	})
	return &Consumer{r: r, log: log}, nil
}

// Fetch blocks until the next record of the partitions assigned to this
// member is available, ctx ends, or the consumer is closed ([ErrClosed]).
// It does not commit. Partition and Offset of the returned record are set.
func (c *Consumer) Fetch(ctx context.Context) (Record, error) {
	if c.closed.Load() {
		return Record{}, fmt.Errorf("kafka: fetch: %w", ErrClosed)
	}
	m, err := c.r.FetchMessage(ctx)
	if err != nil {
		if errors.Is(err, io.EOF) && c.closed.Load() {
			err = ErrClosed
		}
		return Record{}, fmt.Errorf("kafka: fetch: %w", err)
	}
	return fromMessage(m), nil
}

// Commit stores, for each partition of recs, the offset after the highest
// record given, and returns once the group coordinator has it. Committing
// a record therefore commits every earlier record of its partition: commit
// only records whose effect, and that of all records before them in the
// partition, is durable.
func (c *Consumer) Commit(ctx context.Context, recs ...Record) error {
	if c.closed.Load() {
		return fmt.Errorf("kafka: commit: %w", ErrClosed)
	}
	if len(recs) == 0 {
		return nil
	}
	msgs := make([]kafkago.Message, len(recs))
	for i, r := range recs {
		msgs[i] = kafkago.Message{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset}
	}
	if err := c.r.CommitMessages(ctx, msgs...); err != nil {
		if errors.Is(err, io.ErrClosedPipe) {
			err = ErrClosed
		}
		return fmt.Errorf("kafka: commit: %w", err)
	}
	return nil
}

// Close leaves the group (so its partitions move to other members at once)
// and closes the connections. Records fetched but not committed are
// delivered again to whichever member gets their partition. Close waits
// for the fetch in flight, at most ~250 ms.
func (c *Consumer) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	if err := c.r.Close(); err != nil {
		return fmt.Errorf("kafka: close consumer: %w", err)
	}
	return nil
}
