package intake

import (
	"context"
	"errors"
	"fmt"

	"github.com/fhirhub/fhirhub/adapters/kafka"
	"github.com/fhirhub/fhirhub/store"
)

// Lister lists stored messages (store.MessageStore).
type Lister interface {
	Messages(ctx context.Context, q store.MessageQuery) (*store.MessagePage, error)
}

// MaxReplay bounds the messages one Replay re-drives.
const MaxReplay = 100000

// Replay publishes the stored messages q selects to the inbound topic
// again, in the order they were received, so that the ingest pipeline
// processes them again: after a mapping
// fix, all error messages of a type. Only messages that claim their key
// (received, processed, error) are replayed; duplicates, conflicts and
// rejected ones never are. Processing is idempotent, so replaying a
// processed message changes nothing. It returns how many it published.
func Replay(ctx context.Context, l Lister, p Publisher, topic string, q store.MessageQuery) (int, error) {
	if p == nil {
		return 0, errors.New("intake: replay: no publisher")
	}
	if q.Status != "" && !q.Status.Claims() {
		return 0, fmt.Errorf("intake: replay: %s messages are never processed", q.Status)
	}
	q.WithRaw, q.Count, q.Cursor = true, 500, ""
	var selected []*store.HL7Message
	for {
		page, err := l.Messages(ctx, q)
		if err != nil {
			return 0, fmt.Errorf("intake: replay: %w", err)
		}
		for _, m := range page.Messages {
			if m.Status.Claims() {
				selected = append(selected, m)
			}
		}
		if len(selected) > MaxReplay {
			return 0, fmt.Errorf("intake: replay: more than %d messages selected; narrow the filter", MaxReplay)
		}
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	// Oldest first, so that one patient's messages keep their order.
	for i, j := 0, len(selected)-1; i < j; i, j = i+1, j-1 {
		selected[i], selected[j] = selected[j], selected[i]
	}
	for i := 0; i < len(selected); i += 500 {
		batch := selected[i:min(i+500, len(selected))]
		recs := make([]kafka.Record, len(batch))
		for j, m := range batch {
			recs[j] = RecordFor(topic, m)
			recs[j].Headers = append(recs[j].Headers, kafka.Header{Key: HeaderReplay, Value: []byte("1")})
		}
		if err := p.Publish(ctx, recs...); err != nil {
			return i, fmt.Errorf("intake: replay: %w", err)
		}
	}
	return len(selected), nil
}
