package intake

import (
	"context"
	"errors"
	"fmt"

	"github.com/fhirhub/fhirhub/store"
)

// errClosed is returned for messages that arrive after Close.
var errClosed = errors.New("intake: closed")

// pending is a message waiting for its store transaction.
type pending struct {
	msg *store.HL7Message
	// orig is the message a duplicate or conflict repeats (without Raw).
	orig *store.HL7Message
	err  error
	done chan struct{}
}

// submit hands p to a writer and waits until it is committed (or failed).
func (in *Intake) submit(ctx context.Context, p *pending) (err error) {
	defer func() {
		// Sending on the queue after Close panics: the message is then
		// refused, not lost (the sender is answered AE).
		if recover() != nil {
			err = errClosed
		}
	}()
	in.mu.Lock()
	started := in.started
	in.mu.Unlock()
	if !started {
		return errors.New("intake: not started")
	}
	select {
	case in.commits <- p:
	case <-ctx.Done():
		return fmt.Errorf("intake: %w", ctx.Err())
	}
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		// The write may still commit: the message is then stored and a
		// resend is answered as a duplicate.
		return fmt.Errorf("intake: %w", ctx.Err())
	}
}

// write takes messages off the queue and writes them in batches: one
// transaction for whatever is waiting, up to BatchSize. While a batch is
// being written the next one gathers, so the batch size adapts to load.
func (in *Intake) write(ctx context.Context) {
	batch := make([]*pending, 0, in.cfg.BatchSize)
	msgs := make([]*store.HL7Message, 0, in.cfg.BatchSize)
	for {
		p, ok := <-in.commits
		if !ok {
			return
		}
		batch = append(batch[:0], p)
	gather:
		for len(batch) < in.cfg.BatchSize {
			select {
			case p, ok := <-in.commits:
				if !ok {
					break gather
				}
				batch = append(batch, p)
			default:
				break gather
			}
		}
		msgs = msgs[:0]
		for _, p := range batch {
			msgs = append(msgs, p.msg)
		}
		originals, err := in.cfg.Store.ReceiveMessages(ctx, msgs)
		for i, p := range batch {
			p.err = err
			if i < len(originals) {
				p.orig = originals[i]
			}
			close(p.done)
		}
	}
}
