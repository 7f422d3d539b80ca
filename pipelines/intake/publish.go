package intake

import (
	"context"
	"strconv"
	"time"

	"github.com/fhirhub/fhirhub/adapters/kafka"
	"github.com/fhirhub/fhirhub/store"
)

// Record headers of the inbound topic.
const (
	HeaderMessageID  = "fhirhub-message-id"
	HeaderType       = "hl7-message-type"
	HeaderControlID  = "hl7-control-id"
	HeaderReceivedAt = "fhirhub-received-at"
	// HeaderReplay marks a record Replay published: the ingest pipeline
	// processes it again even when the message is processed or failed
	// already (other records of finished messages it skips).
	HeaderReplay = "fhirhub-replay"
)

// RecordFor returns the inbound-topic record of m: the raw message keyed
// by patient identifier (assigning authority and id), else by sending
// facility, so that one patient's messages stay in order on one partition.
func RecordFor(topic string, m *store.HL7Message) kafka.Record {
	key := m.SendingFacility
	if m.PatientID != "" {
		key = m.PatientIDSystem + "|" + m.PatientID
	}
	typ := m.Type
	if m.Trigger != "" {
		typ += "^" + m.Trigger
	}
	return kafka.Record{
		Topic: topic,
		Key:   []byte(key),
		Value: m.Raw,
		Time:  m.ReceivedAt,
		Headers: []kafka.Header{
			{Key: HeaderMessageID, Value: []byte(strconv.FormatInt(m.ID, 10))},
			{Key: HeaderType, Value: []byte(typ)},
			{Key: HeaderControlID, Value: []byte(m.ControlID)},
			{Key: HeaderReceivedAt, Value: []byte(m.ReceivedAt.UTC().Format(time.RFC3339Nano))},
		},
	}
}

// enqueuePublish hands an accepted message to the publisher; when its
// queue is full the repair loop publishes the message later.
func (in *Intake) enqueuePublish(m *store.HL7Message) {
	if in.cfg.Publisher == nil {
		return
	}
	defer func() { _ = recover() }() // closed: left to the repair loop
	select {
	case in.publish <- m:
	default:
	}
}

// publishLoop publishes queued messages in batches and marks them
// published, until the queue is closed and empty or ctx is cancelled. A
// batch is what is queued, topped up for PublishWait at most: fewer,
// larger batches cost the producer, the broker and the published marks
// less per message, and no acknowledgment waits for them.
func (in *Intake) publishLoop(ctx context.Context) {
	batch := make([]*store.HL7Message, 0, in.cfg.PublishBatch)
	wait := time.NewTimer(time.Hour)
	wait.Stop()
	for {
		var m *store.HL7Message
		var ok bool
		select {
		case m, ok = <-in.publish:
			if !ok {
				return
			}
		case <-ctx.Done():
			return
		}
		batch = append(batch[:0], m)
		closed := false
		if in.cfg.PublishWait > 0 {
			wait.Reset(in.cfg.PublishWait)
		}
	gather:
		for len(batch) < in.cfg.PublishBatch {
			select {
			case m, ok := <-in.publish:
				if !ok {
					closed = true
					break gather
				}
				batch = append(batch, m)
				continue
			default:
			}
			if in.cfg.PublishWait <= 0 {
				break
			}
			select {
			case m, ok := <-in.publish:
				if !ok {
					closed = true
					break gather
				}
				batch = append(batch, m)
			case <-wait.C:
				break gather
			case <-ctx.Done():
				break gather
			}
		}
		wait.Stop()
		in.publishBatch(ctx, batch)
		if closed {
			return
		}
	}
}

// publishBatch publishes ms and marks them published; on failure they stay
// unpublished for the repair loop.
func (in *Intake) publishBatch(ctx context.Context, ms []*store.HL7Message) bool {
	recs := make([]kafka.Record, len(ms))
	ids := make([]int64, len(ms))
	for i, m := range ms {
		recs[i] = RecordFor(in.cfg.Topic, m)
		ids[i] = m.ID
	}
	if err := in.cfg.Publisher.Publish(ctx, recs...); err != nil {
		in.log.Warn("hl7 messages not published; the repair loop retries", "count", len(ms), "first_id", ids[0], "err", err)
		return false
	}
	if err := in.cfg.Store.MarkPublished(ctx, ids); err != nil {
		// Published but not marked: the repair loop publishes them again,
		// and consumers de-duplicate by message id.
		in.log.Warn("hl7 messages published but not marked", "count", len(ms), "first_id", ids[0], "err", err)
		return false
	}
	return true
}

// repairLoop publishes messages stored but not published: at start those
// received before this process started (a crash between commit and
// publish), then every RepairInterval those older than RepairAge (a
// failed publish).
func (in *Intake) repairLoop(ctx context.Context, startedAt time.Time) {
	before := startedAt
	t := time.NewTicker(in.cfg.RepairInterval)
	defer t.Stop()
	for {
		in.repair(ctx, before)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			before = in.cfg.Now().Add(-in.cfg.RepairAge)
		}
	}
}

// repair publishes unpublished messages received before the given time.
func (in *Intake) repair(ctx context.Context, before time.Time) {
	const limit = 500
	total := 0
	for ctx.Err() == nil {
		ms, err := in.cfg.Store.Unpublished(ctx, before, limit)
		if err != nil {
			in.log.Warn("hl7 repair: listing unpublished messages", "err", err)
			return
		}
		if len(ms) == 0 {
			break
		}
		for i := 0; i < len(ms); i += in.cfg.PublishBatch {
			if !in.publishBatch(ctx, ms[i:min(i+in.cfg.PublishBatch, len(ms))]) {
				return
			}
		}
		total += len(ms)
		if len(ms) < limit {
			break
		}
	}
	if total > 0 {
		in.log.Info("hl7 repair: published messages stored earlier", "count", total)
	}
}
