package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/fhirhub/fhirhub/store"
)

// Store is where a Writer keeps AuditEvents (store.Store is one).
type Store interface {
	// Transaction runs fn in one database transaction.
	Transaction(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error
}

// Config configures a Writer.
type Config struct {
	Store    Store
	Observer Observer
	// BatchSize is the most events written in one transaction.
	BatchSize int
	// FlushInterval is the longest an event waits for its batch.
	FlushInterval time.Duration
	// MaxPending bounds the events waiting to be written; Record blocks
	// (until its context ends) beyond it, so a database outage slows
	// requests down instead of losing their record.
	MaxPending int
	// NewID returns AuditEvent ids; required.
	NewID  func() string
	Now    func() time.Time
	Logger *slog.Logger
}

// DefaultConfig returns batches of up to 500 events written at least
// every 200 ms, and up to 100,000 pending events.
func DefaultConfig() Config {
	return Config{BatchSize: 500, FlushInterval: 200 * time.Millisecond, MaxPending: 100000, Now: time.Now}
}

// Writer writes Events to the store in batches, in the background.
type Writer struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	pending []Event
	closed  bool
	space   *sync.Cond // signalled when pending shrinks
	wake    chan struct{}
	stop    context.CancelFunc
	done    chan struct{}
	ctx     context.Context
	written int64
	dropped int64
}

// New returns a Writer that writes to cfg.Store until Close.
func New(cfg Config) (*Writer, error) {
	def := DefaultConfig()
	if cfg.Store == nil || cfg.NewID == nil {
		return nil, errors.New("audit: config needs Store and NewID")
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = def.BatchSize
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = def.FlushInterval
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = def.MaxPending
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, stop := context.WithCancel(context.Background())
	w := &Writer{cfg: cfg, log: log, wake: make(chan struct{}, 1), done: make(chan struct{}), ctx: ctx, stop: stop}
	w.space = sync.NewCond(&w.mu)
	go w.run()
	return w, nil
}

// Record queues ev; it returns at once unless MaxPending events wait, and
// then when there is room or ctx ends (the event is then dropped and
// counted in the log). After Close, events are dropped.
func (w *Writer) Record(ctx context.Context, ev Event) {
	if ev.Time.IsZero() {
		ev.Time = w.cfg.Now()
	}
	w.mu.Lock()
	if len(w.pending) >= w.cfg.MaxPending && !w.closed {
		stopWait := context.AfterFunc(ctx, func() {
			w.mu.Lock()
			w.space.Broadcast()
			w.mu.Unlock()
		})
		for len(w.pending) >= w.cfg.MaxPending && !w.closed && ctx.Err() == nil {
			w.space.Wait()
		}
		stopWait()
	}
	if w.closed || len(w.pending) >= w.cfg.MaxPending {
		w.dropped++
		w.mu.Unlock()
		w.log.Error("audit: event dropped", "interaction", ev.Interaction, "request_id", ev.RequestID)
		return
	}
	w.pending = append(w.pending, ev)
	n := len(w.pending)
	w.mu.Unlock()
	if n >= w.cfg.BatchSize {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// Close writes every pending event and stops the Writer. When ctx ends
// first, it stops trying and returns an error with the count lost.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		<-w.done
		return nil
	}
	w.closed = true
	w.space.Broadcast()
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	select {
	case <-w.done:
	case <-ctx.Done():
		w.stop()
		<-w.done
	}
	w.stop()
	w.mu.Lock()
	lost := len(w.pending)
	w.mu.Unlock()
	if lost > 0 {
		return fmt.Errorf("audit: close: %d event(s) not written: %w", lost, ctx.Err())
	}
	return nil
}

// Written returns how many events have been stored.
func (w *Writer) Written() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.written
}

// run writes batches until Close, then what is left.
func (w *Writer) run() {
	defer close(w.done)
	tick := time.NewTicker(w.cfg.FlushInterval)
	defer tick.Stop()
	backoff := time.Duration(0)
	for {
		select {
		case <-w.wake:
		case <-tick.C:
		case <-w.ctx.Done():
			return
		}
		if backoff > 0 {
			select {
			case <-time.After(backoff):
			case <-w.ctx.Done():
				return
			}
		}
		for {
			w.mu.Lock()
			n := min(len(w.pending), w.cfg.BatchSize)
			closed := w.closed
			batch := w.pending[:n:n]
			w.mu.Unlock()
			if n == 0 {
				if closed {
					return
				}
				break
			}
			if err := w.write(w.ctx, batch); err != nil {
				if w.ctx.Err() != nil {
					return
				}
				backoff = min(max(2*backoff, 100*time.Millisecond), 5*time.Second)
				w.log.Warn("audit: writing a batch failed; retrying", "events", n, "retry_in", backoff, "err", err)
				if closed {
					select {
					case <-time.After(backoff):
						continue
					case <-w.ctx.Done():
						return
					}
				}
				break
			}
			backoff = 0
			w.mu.Lock()
			w.pending = w.pending[n:]
			if len(w.pending) == 0 {
				w.pending = nil // let the array go
			}
			w.written += int64(n)
			w.space.Broadcast()
			w.mu.Unlock()
		}
	}
}

// write stores batch in one transaction.
func (w *Writer) write(ctx context.Context, batch []Event) error {
	now := w.cfg.Now()
	return w.cfg.Store.Transaction(ctx, func(ctx context.Context, tx store.Tx) error {
		for i := range batch {
			ctx := store.WithScope(ctx, batch[i].Scope)
			if _, err := tx.Create(ctx, batch[i].Resource(w.cfg.NewID(), w.cfg.Observer, now), "POST"); err != nil {
				return fmt.Errorf("audit: write: %w", err)
			}
		}
		return nil
	})
}
