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

// Producer publishes records synchronously with required acks = all. Keys
// are partitioned with murmur2 (the Java client's and franz-go's default
// partitioner, so other producers place a key where we do): one key, one
// partition, in publish order. A Producer is safe for concurrent use.
type Producer struct {
	w         *kafkago.Writer
	transport *kafkago.Transport
	log       *slog.Logger
	attempts  int
	backoff   func(attempt int) time.Duration
	now       func() time.Time
	closed    atomic.Bool
}

// NewProducer returns a producer for the cluster in cfg. It does not
// connect until the first Publish.
func NewProducer(cfg Config) (*Producer, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("kafka: new producer: %w", err)
	}
	log := cfg.logger().With("component", "kafka.producer")
	infoLog, errLog := kafkaGoLoggers(log, "writer")
	tr := cfg.transport()
	w := &kafkago.Writer{
		Addr:         kafkago.TCP(cfg.Brokers...),
		Transport:    tr,
		Balancer:     kafkago.Murmur2Balancer{},
		RequiredAcks: kafkago.RequireAll,
		// Retries of a failed produce happen inside the writer's
		// per-partition queue, before the next batch of that partition
		// is sent, so they keep per-key order.
		MaxAttempts:     cfg.MaxAttempts,
		WriteBackoffMin: 50 * time.Millisecond,
		WriteBackoffMax: time.Second,
		// The writer holds a partition's batch open until it is full or
		// BatchTimeout passes, and a synchronous WriteMessages waits for
		// that. A timeout this short flushes each call's records as soon
		// as they have all been added (they are added under one lock, so
		// a call's records for one partition still travel together);
		// concurrent calls may share a batch.
		BatchTimeout: time.Microsecond,
		// The writer allocates each partition batch at its full size
		// (about 150 bytes a record) whatever it will hold: 1,000 made
		// every call allocate and clear 150 KB per partition it touched.
		// 128 keeps a batch a small allocation; a call with more records
		// for one partition sends them as several batches, in order.
		BatchSize:    128,
		ReadTimeout:  requestTimeout,
		WriteTimeout: requestTimeout,
		Logger:       infoLog,
		ErrorLogger:  errLog,
	}
	return &Producer{
		w:         w,
		transport: tr,
		log:       log,
		attempts:  cfg.MaxAttempts,
		backoff:   backoff,
		now:       time.Now,
	}, nil
}

// Publish writes recs and returns only after the brokers acknowledged
// every one of them (acks = all), or with an error. Records with the same
// key are appended to one partition in the order given.
//
// Transient failures are retried up to Config.MaxAttempts times; the error
// returned after that (wrapped "kafka: publish: ") satisfies [IsRetryable]
// when a later call may succeed. After an error, or when ctx ends first,
// some records may nevertheless have been written: delivery is at least
// once, and consumers must tolerate duplicates. Publish after Close returns
// [ErrClosed].
func (p *Producer) Publish(ctx context.Context, recs ...Record) error {
	if p.closed.Load() {
		return fmt.Errorf("kafka: publish: %w", ErrClosed)
	}
	if len(recs) == 0 {
		return nil
	}
	now := p.now()
	msgs := make([]kafkago.Message, len(recs))
	for i, r := range recs {
		if err := validateTopicName(r.Topic); err != nil {
			return fmt.Errorf("kafka: publish: record %d: %w", i, err)
		}
		msgs[i] = toMessage(r, now)
	}

	for attempt := 1; ; attempt++ {
		err := p.w.WriteMessages(ctx, msgs...)
		if err == nil {
			return nil
		}
		if errors.Is(err, io.ErrClosedPipe) {
			return fmt.Errorf("kafka: publish: %w", ErrClosed)
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("kafka: publish: %w", ctxErr)
		}
		var werrs kafkago.WriteErrors
		if errors.As(err, &werrs) {
			// Produce failures: the writer has already retried each
			// failed batch MaxAttempts times in order. Retrying here
			// would re-send the batches that did succeed.
			return fmt.Errorf("kafka: publish: %w", summarize(werrs))
		}
		// Failures before any record was handed to a partition queue
		// (metadata lookup: broker unreachable, topic not yet known):
		// nothing was written, so the whole call can be repeated.
		if !IsRetryable(err) || attempt >= p.attempts {
			return fmt.Errorf("kafka: publish: %w", err)
		}
		delay := p.backoff(attempt)
		p.log.Warn("kafka publish retry", "attempt", attempt, "records", len(msgs), "delay", delay, "err", err)
		if err := sleep(ctx, delay); err != nil {
			return fmt.Errorf("kafka: publish: %w", err)
		}
	}
}

// Close waits for in-flight batches (including their retries) and closes
// the producer's connections. Publish calls made after Close return
// ErrClosed.
func (p *Producer) Close() error {
	if p.closed.Swap(true) {
		return nil
	}
	err := p.w.Close()
	p.transport.CloseIdleConnections()
	if err != nil {
		return fmt.Errorf("kafka: close producer: %w", err)
	}
	return nil
}

// summarize turns kafka-go's per-record errors into one error: the count
// of failed records and the distinct causes, joined so that errors.Is/As
// and IsRetryable see each of them.
func summarize(werrs kafkago.WriteErrors) error {
	var causes []error
	seen := make(map[string]bool)
	for _, e := range werrs {
		if e == nil || seen[e.Error()] {
			continue
		}
		seen[e.Error()] = true
		causes = append(causes, e)
	}
	return fmt.Errorf("%d of %d records not acknowledged: %w", werrs.Count(), len(werrs), errors.Join(causes...))
}

// backoff returns the pause before retry attempt+1: 100 ms doubling to at
// most 2 s.
func backoff(attempt int) time.Duration {
	d := 100 * time.Millisecond << min(attempt-1, 5)
	return min(d, 2*time.Second)
}

// sleep pauses for d or until ctx ends, whichever is first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
