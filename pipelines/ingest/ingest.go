// Package ingest is the ingest pipeline (design page, flow 4): it consumes
// hl7v2.inbound, maps each message to a FHIR transaction Bundle
// (mappings), commits it through the FHIR service, records the outcome in
// the message store, and only then commits the Kafka offset. Messages of
// one patient share a partition (the topic key) and are processed in
// order; partitions are processed in parallel. Transient failures are
// retried with backoff; permanent ones (the message cannot be parsed,
// mapped or validated) mark the message `error` and copy it to hl7v2.dlq
// with the reason in headers, and the partition moves on.
//
// Messages other systems produce to the topic directly (no message-id
// header) are stored in the message store on first sight, with the same
// duplicate rules as MLLP. Processing is idempotent: the Bundle's
// conditional creates and updates leave resources unchanged (no new
// version) when a message is processed again.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/adapters/kafka"
	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/mappings"
	"github.com/fhirhub/fhirhub/pipelines/intake"
	"github.com/fhirhub/fhirhub/service"
	"github.com/fhirhub/fhirhub/store"
)

// Messages is the part of the message store the pipeline uses.
type Messages interface {
	Message(ctx context.Context, id int64) (*store.HL7Message, error)
	FinishMessage(ctx context.Context, id int64, o store.MessageOutcome) error
	MarkPublished(ctx context.Context, ids []int64) error
}

// Receiver stores a message seen for the first time (intake.Intake).
type Receiver interface {
	Receive(ctx context.Context, raw []byte, src intake.Source) ([]byte, *store.HL7Message)
}

// Bundler commits a transaction Bundle and searches, to complete merges
// and check message order (service.Service).
type Bundler interface {
	Bundle(ctx context.Context, bundle fhir.Object, opts service.BundleOptions) (fhir.Object, error)
	Searcher
}

// Publisher publishes records (kafka.Producer), here to the DLQ.
type Publisher interface {
	Publish(ctx context.Context, recs ...kafka.Record) error
}

// Config configures the pipeline.
type Config struct {
	Messages Messages // required
	Receiver Receiver // required: stores messages produced to the topic by others
	Service  Bundler  // required
	DLQ      Publisher
	// Kafka is the cluster; Group the consumer group shared by every
	// fhirhub process; Topic and DLQTopic default to the system topics.
	Kafka           kafka.Config
	Group           string
	Topic, DLQTopic string
	// Workers is how many partitions are processed at once.
	Workers int
	// Backoff is the first wait after a transient failure, doubled up
	// to MaxBackoff; after MaxAttempts attempts the failure counts as
	// permanent, so that one partition cannot be stuck for ever.
	Backoff, MaxBackoff time.Duration
	MaxAttempts         int
	// MaxRepoint bounds the resources an ADT^A40 re-points from a merged
	// Patient to the survivor in its one transaction (see merge.go); a
	// merge needing more fails permanently, naming the limit.
	MaxRepoint int
	// Tenants maps each message's sending facility to the tenant it is
	// written to; nil writes every message to the default tenant.
	Tenants Tenants
	// Map maps a message (nil: mappings.Map).
	Map    func(*hl7v2.Message, mappings.Options) (fhir.Object, error)
	Logger *slog.Logger
	Now    func() time.Time
}

// DefaultConfig returns the defaults; the required fields must be set.
func DefaultConfig() Config {
	return Config{Group: "fhirhub-ingest", Topic: kafka.TopicHL7Inbound, DLQTopic: kafka.TopicHL7DLQ, Workers: 4,
		Backoff: 100 * time.Millisecond, MaxBackoff: 10 * time.Second, MaxAttempts: 30, MaxRepoint: 5000}
}

// Pipeline is the ingest pipeline.
type Pipeline struct {
	cfg     Config
	log     *slog.Logger
	sources sourceCache // messages that wrote resources, for ordering
}

// New checks cfg and returns the pipeline.
func New(cfg Config) (*Pipeline, error) {
	if cfg.Messages == nil || cfg.Receiver == nil || cfg.Service == nil || cfg.DLQ == nil {
		return nil, errors.New("ingest: config: Messages, Receiver, Service and DLQ are required")
	}
	def := DefaultConfig()
	if cfg.Group == "" {
		cfg.Group = def.Group
	}
	if cfg.Topic == "" {
		cfg.Topic = def.Topic
	}
	if cfg.DLQTopic == "" {
		cfg.DLQTopic = def.DLQTopic
	}
	if cfg.Workers <= 0 {
		cfg.Workers = def.Workers
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = def.Backoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = def.MaxBackoff
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = def.MaxAttempts
	}
	if cfg.MaxRepoint <= 0 {
		cfg.MaxRepoint = def.MaxRepoint
	}
	if cfg.Map == nil {
		cfg.Map = mappings.Map
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Pipeline{cfg: cfg, log: log.With("component", "ingest")}, nil
}

// Run consumes until ctx is cancelled; the message being processed is
// finished first. It returns nil after a cancel.
func (p *Pipeline) Run(ctx context.Context) error {
	c, err := kafka.NewConsumer(p.cfg.Kafka, p.cfg.Group, p.cfg.Topic)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	defer c.Close()
	// Each partition goes to one worker, so its records stay in order and
	// each commit covers only finished records.
	work := make([]chan kafka.Record, p.cfg.Workers)
	var wg sync.WaitGroup
	for i := range work {
		work[i] = make(chan kafka.Record, 64)
		wg.Add(1)
		go func(in <-chan kafka.Record) {
			defer wg.Done()
			for rec := range in {
				if !p.process(ctx, rec) {
					continue // cancelled: not committed, redelivered later
				}
				if err := c.Commit(context.WithoutCancel(ctx), rec); err != nil {
					p.log.Warn("offset not committed; the record will be processed again", "partition", rec.Partition, "offset", rec.Offset, "err", err)
				}
			}
		}(work[i])
	}
	defer func() {
		for _, w := range work {
			close(w)
		}
		wg.Wait()
	}()
	for {
		rec, err := c.Fetch(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, kafka.ErrClosed) {
				return nil
			}
			p.log.Warn("fetch failed", "err", err)
			if !sleep(ctx, p.cfg.Backoff) {
				return nil
			}
			continue
		}
		select {
		case work[rec.Partition%len(work)] <- rec:
		case <-ctx.Done():
			return nil
		}
	}
}

// process handles one record; it returns false when ctx was cancelled
// before the record was finished.
func (p *Pipeline) process(ctx context.Context, rec kafka.Record) bool {
	wait := p.cfg.Backoff
	var firstFailure time.Time
	for attempt := 1; ; attempt++ {
		err := p.handle(ctx, rec)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if firstFailure.IsZero() {
			firstFailure = p.cfg.Now()
		}
		var perm *permanentError
		if !errors.As(err, &perm) && attempt < p.cfg.MaxAttempts {
			p.log.Warn("transient failure; retrying", "partition", rec.Partition, "offset", rec.Offset, "attempt", attempt, "in", wait, "err", err)
			if !sleep(ctx, wait) {
				return false
			}
			wait = min(2*wait, p.cfg.MaxBackoff)
			continue
		}
		p.fail(ctx, rec, perm, err, attempt, firstFailure)
		return true
	}
}

// permanentError is a failure that another attempt would repeat.
type permanentError struct {
	id  int64 // the stored message, 0 when unknown
	err error
}

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// withMessage names message id in a permanent error that has none.
func withMessage(err error, id int64) error {
	var perm *permanentError
	if errors.As(err, &perm) && perm.id == 0 {
		perm.id = id
	}
	return err
}

// handle processes rec once.
func (p *Pipeline) handle(ctx context.Context, rec kafka.Record) error {
	msg, err := p.stored(ctx, rec)
	if err != nil || msg == nil {
		return err
	}
	return p.Apply(ctx, msg)
}

// Apply maps a stored message, commits its Bundle and records the outcome
// (processed, with the resources written, and a note when newer messages
// superseded some of its updates: see order.go) in the message store. An
// ADT^A40's Bundle is completed first (merge.go). It makes
// one attempt: an error for which IsPermanent is true would repeat on
// another attempt, and the message is left for the caller to fail (Fail);
// others are transient. The --ack=after-commit MLLP mode calls it before
// answering; the pipeline calls it for each record.
func (p *Pipeline) Apply(ctx context.Context, msg *store.HL7Message) error {
	if p.cfg.Tenants != nil {
		tenant, ok := p.cfg.Tenants.Of(msg.SendingFacility)
		if !ok {
			return &permanentError{msg.ID, errors.New("tenant: the sending facility (MSH-4) is mapped to no tenant")}
		}
		ctx = store.WithScope(ctx, store.Scope{Tenant: tenant})
	}
	parsed, err := hl7v2.Parse(msg.Raw)
	if err != nil {
		return &permanentError{msg.ID, fmt.Errorf("parse: %w", err)}
	}
	opt := mappings.Options{MessageRef: "hl7v2-message/" + strconv.FormatInt(msg.ID, 10)}
	bundle, err := p.cfg.Map(parsed, opt)
	if err != nil {
		return &permanentError{msg.ID, fmt.Errorf("map: %w", err)}
	}
	var note string
	var opts service.BundleOptions
	var reviewErr error
	if h := parsed.Header(); h.Type.Code == "ADT" && h.Type.Trigger == "A40" {
		if note, err = p.supersede(ctx, msg, parsed, bundle); err != nil {
			return withMessage(err, msg.ID)
		}
		if err := p.completeMerge(ctx, parsed, bundle, opt); err != nil {
			return withMessage(err, msg.ID)
		}
	} else if at := eventTime(parsed, nil); !at.IsZero() {
		opts.Review = func(ctx context.Context, updates []*service.Update) error {
			note, reviewErr = p.review(ctx, msg, at, updates)
			return reviewErr
		}
	}
	// The outcome is recorded in the FHIR transaction when the store can
	// (one commit fewer, and no moment where the effect is committed but
	// the message still waits), else after it.
	finished := false
	opts.Finish = func(ctx context.Context, tx store.Tx, written []string) error {
		f, ok := tx.(messageFinisher)
		if !ok {
			return nil
		}
		if err := f.FinishMessage(ctx, msg.ID, p.processed(note, written)); err != nil {
			return fmt.Errorf("record outcome: %w", err)
		}
		finished = true
		return nil
	}
	resp, err := p.cfg.Service.Bundle(ctx, bundle, opts)
	if reviewErr != nil {
		return withMessage(reviewErr, msg.ID)
	}
	if err != nil {
		if IsRetryable(err) {
			return fmt.Errorf("transaction: %w", err)
		}
		return &permanentError{msg.ID, fmt.Errorf("transaction: %w", err)}
	}
	if !finished {
		if err := p.cfg.Messages.FinishMessage(ctx, msg.ID, p.processed(note, locations(resp))); err != nil {
			return fmt.Errorf("record outcome: %w", err)
		}
	}
	p.log.Debug("message processed", "id", msg.ID, "control_id", msg.ControlID)
	return nil
}

// messageFinisher is a store transaction that can record a message's
// outcome (*postgres.Store's can).
type messageFinisher interface {
	FinishMessage(ctx context.Context, id int64, o store.MessageOutcome) error
}

// processed is the outcome of a message whose Bundle wrote written.
func (p *Pipeline) processed(note string, written []string) store.MessageOutcome {
	return store.MessageOutcome{Status: store.MessageProcessed, Error: note, Resources: written, At: p.cfg.Now().UTC()}
}

// IsPermanent reports whether err, from Apply, would repeat on another
// attempt: the message cannot be parsed, mapped or validated.
func IsPermanent(err error) bool {
	var perm *permanentError
	return errors.As(err, &perm)
}

// replayed reports whether rec was published by Replay, which re-drives
// messages whatever their status.
func replayed(rec kafka.Record) bool {
	_, ok := rec.HeaderValue(intake.HeaderReplay)
	return ok
}

// stored returns the stored message rec carries, storing it first when
// it was produced by another system; nil (and no error) when it is not to
// be processed (a duplicate, conflict or rejected message).
func (p *Pipeline) stored(ctx context.Context, rec kafka.Record) (*store.HL7Message, error) {
	if v, ok := rec.HeaderValue(intake.HeaderMessageID); ok {
		if id, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			m, err := p.cfg.Messages.Message(ctx, id)
			if err == nil && string(m.Raw) == string(rec.Value) {
				if !m.Status.Claims() {
					return nil, nil
				}
				if m.Status != store.MessageReceived && !replayed(rec) {
					// Finished already: answered after its commit over
					// MLLP (--ack=after-commit), or a record redelivered
					// after its effect but before its offset commit.
					return nil, nil
				}
				return m, nil
			}
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
			// Not ours (another database, or another body): store it.
		}
	}
	peer := fmt.Sprintf("%s/%d/%d", rec.Topic, rec.Partition, rec.Offset)
	_, m := p.cfg.Receiver.Receive(ctx, rec.Value, intake.Source{Channel: "kafka", Peer: peer})
	if m.ID == 0 {
		return nil, errors.New("message not stored")
	}
	// It is on the topic already: the intake's repair loop must not
	// publish it again.
	if err := p.cfg.Messages.MarkPublished(ctx, []int64{m.ID}); err != nil {
		return nil, err
	}
	if m.Status != store.MessageReceived {
		p.log.Info("message from the topic not processed", "id", m.ID, "status", string(m.Status))
		return nil, nil
	}
	return m, nil
}

// fail records a permanent failure: status error with the reason, and a
// copy on the DLQ.
func (p *Pipeline) fail(ctx context.Context, rec kafka.Record, perm *permanentError, err error, attempts int, first time.Time) {
	reason := Reason(err)
	var id int64
	if perm != nil {
		id = perm.id
	}
	p.log.Warn("message failed; sent to the DLQ", "id", id, "partition", rec.Partition, "offset", rec.Offset, "err", err)
	if id != 0 {
		if ferr := p.cfg.Messages.FinishMessage(ctx, id, store.MessageOutcome{Status: store.MessageError, Error: reason, At: p.cfg.Now().UTC()}); ferr != nil {
			p.log.Warn("failure not recorded", "id", id, "err", ferr)
		}
	}
	dlq := kafka.Record{Topic: p.cfg.DLQTopic, Key: rec.Key, Value: rec.Value, Headers: append(append([]kafka.Header(nil), rec.Headers...),
		kafka.Header{Key: "fhirhub-error", Value: []byte(reason)},
		kafka.Header{Key: "fhirhub-attempts", Value: []byte(strconv.Itoa(attempts))},
		kafka.Header{Key: "fhirhub-first-failed-at", Value: []byte(first.UTC().Format(time.RFC3339Nano))},
	)}
	if rec.Topic != "" {
		dlq.Headers = append(dlq.Headers, kafka.Header{Key: "fhirhub-source", Value: []byte(fmt.Sprintf("%s/%d/%d", rec.Topic, rec.Partition, rec.Offset))})
	}
	if perr := p.cfg.DLQ.Publish(context.WithoutCancel(ctx), dlq); perr != nil {
		p.log.Error("message not copied to the DLQ; it stays as error in the message store", "id", id, "err", perr)
	}
}

// Reason is the text kept for a failure: for a *fhir.Error its message
// and FHIR paths (shown to operators), else the error text.
func Reason(err error) string {
	if fe := fhir.AsError(err); fe != nil {
		s := fe.Message
		if s == "" {
			s = fe.Error()
		}
		if len(fe.Expression) > 0 {
			s += " (at " + strings.Join(fe.Expression, ", ") + ")"
		}
		return s
	}
	return err.Error()
}

// IsRetryable reports whether a failed transaction may succeed when
// tried again: the database or a dependency was unavailable (5xx), a
// concurrent write conflicted (409, or 412 on a version conflict: a
// resource the pipeline read to complete a merge changed before the
// commit, and is read again), or a limit was hit (429). Anything else the
// request itself causes: 400, 404, 422, and the other 412, which a mapped
// Bundle gets only when its criteria select several resources (two
// Patients sharing an identifier), which only an operator can untangle.
func IsRetryable(err error) bool {
	if errors.Is(err, store.ErrVersionConflict) {
		return true
	}
	switch st := service.Status(err); {
	case st >= 500, st == http.StatusConflict, st == http.StatusTooManyRequests:
		return true
	}
	return false
}

// locations returns the Type/id/_history/n of each entry of a
// transaction-response Bundle.
func locations(resp fhir.Object) []string {
	entries, _ := resp["entry"].([]any)
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		entry, _ := e.(fhir.Object)
		r, _ := entry["response"].(fhir.Object)
		if loc, _ := r["location"].(string); loc != "" {
			if i := strings.LastIndex(loc, "/fhir/"); i >= 0 {
				loc = loc[i+len("/fhir/"):]
			}
			out = append(out, loc)
		}
	}
	return out
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
