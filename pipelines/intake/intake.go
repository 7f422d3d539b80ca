// Package intake receives HL7 v2 messages (flow 2 of the design page): it
// reads each message's header, decides between accepting and rejecting it
// (HL7 v2.5.1 section 2.9, message processing rules), stores it in the
// message store, and only then returns the acknowledgment (section 2.14.1,
// ACK), so that nothing answered AA or CA can be lost. Accepted messages
// are then published to the hl7v2.inbound topic; messages stored but not
// published (a crash, a broker outage) are published by the repair loop.
//
// A message with the (sending facility, control id) of one already taken
// is a duplicate, answered with the original outcome and never processed
// twice, or, with another body, a conflict answered AE (section 2.10.1).
//
// Writes from concurrent connections are grouped into one database
// transaction per batch (group commit), which is what makes thousands of
// durable acknowledgments per second possible.
package intake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/adapters/kafka"
	"github.com/fhirhub/fhirhub/store"
)

// Store is the part of the message store intake uses.
type Store interface {
	ReceiveMessages(ctx context.Context, ms []*store.HL7Message) ([]*store.HL7Message, error)
	MarkPublished(ctx context.Context, ids []int64) error
	Unpublished(ctx context.Context, before time.Time, limit int) ([]*store.HL7Message, error)
	// Message reads one message with Raw (only the after-commit mode
	// uses it).
	Message(ctx context.Context, id int64) (*store.HL7Message, error)
}

// Publisher puts records on a topic and returns once the broker has them
// all (kafka.Producer).
type Publisher interface {
	Publish(ctx context.Context, recs ...kafka.Record) error
}

// Config configures an Intake.
type Config struct {
	// Store keeps messages; required.
	Store Store
	// Publisher publishes accepted messages; nil leaves them unpublished
	// (the repair loop of a process with a publisher takes them later).
	Publisher Publisher
	// Topic is where accepted messages go (kafka.TopicHL7Inbound).
	Topic string
	// Policy says which versions, types and processing ids are accepted.
	Policy hl7v2.Policy
	// BatchSize bounds the messages written in one transaction.
	BatchSize int
	// Writers is the number of concurrent store transactions. One is the
	// default: its batches grow with the load (up to BatchSize), and each
	// commit (a WAL flush) costs the database more than a larger batch
	// does; with two, BenchmarkMLLP with 16 connections used 18% more CPU
	// per message for smaller batches.
	Writers int
	// PublishBatch bounds the records published at once.
	PublishBatch int
	// PublishWait is how long the publisher waits for a batch to fill
	// before publishing what it has (0: it publishes what is queued).
	PublishWait time.Duration
	// RepairInterval is how often unpublished messages are looked for;
	// RepairAge how old they must be (younger ones are being published).
	RepairInterval, RepairAge time.Duration
	// MaxMessageSize is the size above which a frame was cut off (for
	// the reason recorded with it).
	MaxMessageSize int
	// AfterCommit, when set, acknowledges accepted messages only after
	// processing them (see AfterCommit); nil acknowledges them once stored.
	AfterCommit *AfterCommit
	Logger      *slog.Logger
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// DefaultPolicy accepts the message types fhirhub maps to FHIR: ADT, lab
// and radiology results (ORU^R01), orders (ORM^O01, OMI^O23), in every
// version from 2.1 to 2.8.2.
func DefaultPolicy() hl7v2.Policy {
	p := hl7v2.DefaultPolicy()
	p.MessageTypes = map[string][]string{
		"ADT": nil,
		"ORU": {"R01"},
		"ORM": {"O01"},
		"OMI": {"O23"},
	}
	return p
}

// DefaultConfig returns the defaults; Store must still be set.
func DefaultConfig() Config {
	return Config{
		Policy:         DefaultPolicy(),
		BatchSize:      64,
		Writers:        1,
		PublishBatch:   256,
		PublishWait:    10 * time.Millisecond,
		RepairInterval: 10 * time.Second,
		RepairAge:      30 * time.Second,
		MaxMessageSize: 4 << 20,
	}
}

// Intake receives messages. Create it with New, Start it, and Close it
// after the listeners feeding it have stopped.
type Intake struct {
	cfg     Config
	log     *slog.Logger
	commits chan *pending
	publish chan *store.HL7Message

	mu        sync.Mutex
	started   bool
	stop      context.CancelFunc
	writers   sync.WaitGroup // store writers
	publisher sync.WaitGroup // publish loop
	repairer  sync.WaitGroup // repair loop
}

// New checks cfg and returns an Intake.
func New(cfg Config) (*Intake, error) {
	if cfg.Store == nil {
		return nil, errors.New("intake: config: no Store")
	}
	def := DefaultConfig()
	if cfg.Topic == "" {
		cfg.Topic = kafka.TopicHL7Inbound
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = def.BatchSize
	}
	if cfg.Writers <= 0 {
		cfg.Writers = def.Writers
	}
	if cfg.PublishBatch <= 0 {
		cfg.PublishBatch = def.PublishBatch
	}
	if cfg.RepairInterval <= 0 {
		cfg.RepairInterval = def.RepairInterval
	}
	if cfg.RepairAge <= 0 {
		cfg.RepairAge = def.RepairAge
	}
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = def.MaxMessageSize
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.AfterCommit != nil {
		ac := *cfg.AfterCommit
		if err := ac.check(); err != nil {
			return nil, err
		}
		cfg.AfterCommit = &ac
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Intake{
		cfg:     cfg,
		log:     log,
		commits: make(chan *pending, 4*cfg.BatchSize),
		publish: make(chan *store.HL7Message, 16*cfg.PublishBatch),
	}, nil
}

// Start starts the store writers, the publisher and the repair loop; the
// first repair pass publishes what an earlier run stored but did not
// publish. They run until Close.
func (in *Intake) Start(ctx context.Context) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.started {
		return errors.New("intake: already started")
	}
	in.started = true
	ctx, in.stop = context.WithCancel(context.WithoutCancel(ctx))
	for range in.cfg.Writers {
		in.writers.Add(1)
		go func() { defer in.writers.Done(); in.write(ctx) }()
	}
	if in.cfg.Publisher != nil {
		in.publisher.Add(1)
		go func() { defer in.publisher.Done(); in.publishLoop(ctx) }()
		startedAt := in.cfg.Now()
		in.repairer.Add(1)
		go func() { defer in.repairer.Done(); in.repairLoop(ctx, startedAt) }()
	}
	return nil
}

// Close stops the loops after the store writes and publishes under way,
// waiting until ctx is done at most; call it once, after the listeners
// feeding Receive have stopped. Messages left unpublished are taken by the
// next repair pass of this or another process.
func (in *Intake) Close(ctx context.Context) error {
	in.mu.Lock()
	stop := in.stop
	in.stop = nil
	in.mu.Unlock()
	if stop == nil {
		return nil
	}
	done := make(chan struct{})
	go func() {
		// Writers finish the batches queued, then the publisher what they
		// accepted; the repair loop stops last.
		close(in.commits)
		in.writers.Wait()
		close(in.publish)
		in.publisher.Wait()
		stop()
		in.repairer.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		stop()
		<-done
		return fmt.Errorf("intake: close: %w", ctx.Err())
	}
}

// Source says where a message came from.
type Source struct {
	// Channel is "mllp" or "kafka"; Peer the remote address.
	Channel, Peer string
	// FrameErr is set when the frame was cut off (too large, or not
	// terminated): the message is then rejected. TooLarge says it was
	// cut off at the size limit.
	FrameErr error
	TooLarge bool
	// Sender is the sending system the connection's TLS client
	// certificate identifies (Senders.Identify); nil: no identity to
	// check. A message whose MSH-3 or MSH-4 its identity does not allow is
	// rejected (AR, ERR-3 207) and stored as rejected.
	Sender *Sender
}

// Receive stores one message and returns the acknowledgment to send (nil
// when none is to be sent) and the stored record. The acknowledgment is AA
// or CA only once the message is committed; when the store fails it is AE
// or CE, so that the sender sends it again. In the after-commit mode
// (Config.AfterCommit) an accepted message is processed before Receive
// returns, and the acknowledgment gives the outcome.
func (in *Intake) Receive(ctx context.Context, raw []byte, src Source) (ack []byte, msg *store.HL7Message) {
	now := in.cfg.Now()
	msg = &store.HL7Message{ReceivedAt: now.UTC(), Raw: raw, Channel: src.Channel, Peer: src.Peer}
	h, dec := in.decide(raw, src, msg)

	code, send := dec.Ack(hl7v2.OutcomeAccepted)
	msg.Status = store.MessageReceived
	if dec.Reject {
		msg.Status = store.MessageRejected
		msg.Error = reasons(dec.Errors)
	}
	if send {
		msg.AckCode = string(code)
	}

	p := &pending{msg: msg, done: make(chan struct{})}
	if err := in.submit(ctx, p); err != nil {
		p.err = err
	}
	errs := dec.Errors
	if p.err != nil {
		in.log.Error("hl7 message not stored", "control_id", msg.ControlID, "err", p.err)
		code, send = dec.Ack(hl7v2.OutcomeError)
		errs = append(errs, &hl7v2.Error{Code: hl7v2.CodeApplicationInternal, Severity: hl7v2.SeverityError,
			Msg: "the message could not be stored; send it again"})
	} else {
		switch msg.Status {
		case store.MessageDuplicate:
			code, send = hl7v2.AckCode(msg.AckCode), msg.AckCode != ""
			if in.cfg.AfterCommit != nil && !dec.Reject {
				o, perrs := in.original(ctx, p.orig)
				code, send = dec.Ack(o)
				errs = append(errs, perrs...)
			}
			in.log.Info("hl7 duplicate message", "id", msg.ID, "duplicate_of", msg.DuplicateOf, "control_id", msg.ControlID)
		case store.MessageConflict:
			code, send = dec.Ack(hl7v2.OutcomeError)
			errs = append(errs, &hl7v2.Error{Code: hl7v2.CodeDuplicateKeyIdentifier, Severity: hl7v2.SeverityError,
				Loc: hl7v2.Location{Segment: "MSH", Sequence: 1, Field: 10},
				Msg: "control id already used by a different message from this sending facility"})
			in.log.Warn("hl7 control id conflict", "id", msg.ID, "duplicate_of", msg.DuplicateOf, "control_id", msg.ControlID)
		case store.MessageRejected:
			in.log.Info("hl7 message rejected", "id", msg.ID, "control_id", msg.ControlID, "reason", msg.Error)
		default:
			if in.cfg.AfterCommit != nil {
				o, perrs := in.processed(ctx, msg)
				code, send = dec.Ack(o)
				errs = append(errs, perrs...)
			}
			in.enqueuePublish(msg)
		}
	}
	if !send {
		return nil, msg
	}
	if h == nil && src.FrameErr != nil {
		// No header to answer: the sender learns nothing from an ACK
		// without MSA-2.
		return nil, msg
	}
	ack, err := hl7v2.BuildAck(h, hl7v2.AckOptions{Code: code, Errors: errs, Now: in.cfg.Now})
	if err != nil {
		in.log.Error("hl7 ack not built", "control_id", msg.ControlID, "err", err)
		return nil, msg
	}
	return ack, msg
}

// decide reads the header of raw into msg and decides how to answer. The
// header is nil when it could not be read.
func (in *Intake) decide(raw []byte, src Source, msg *store.HL7Message) (*hl7v2.Header, hl7v2.Decision) {
	h, err := hl7v2.ParseHeader(raw)
	if err != nil {
		h = nil
	}
	var parsed *hl7v2.Message
	if err == nil {
		parsed, err = hl7v2.Parse(raw)
	}
	if h != nil {
		fillHeader(msg, h)
	}
	if parsed != nil {
		fillPatient(msg, parsed)
	}
	if src.FrameErr != nil {
		reason := "frame not terminated"
		if src.TooLarge {
			reason = fmt.Sprintf("message larger than %d bytes", in.cfg.MaxMessageSize)
		}
		dec := hl7v2.Decide(h, nil, in.cfg.Policy)
		dec.Reject = true
		dec.Errors = append(dec.Errors, &hl7v2.Error{Code: hl7v2.CodeApplicationInternal, Severity: hl7v2.SeverityError, Msg: reason})
		return h, dec
	}
	dec := hl7v2.Decide(h, err, in.cfg.Policy)
	if src.Sender != nil && h != nil {
		if errs := src.Sender.check(h); len(errs) > 0 {
			dec.Reject = true
			dec.Errors = append(dec.Errors, errs...)
		}
	}
	return h, dec
}

func fillHeader(m *store.HL7Message, h *hl7v2.Header) {
	m.SendingApp = h.SendingApplication.String()
	m.SendingFacility = h.SendingFacility.String()
	m.ReceivingApp = h.ReceivingApplication.String()
	m.ReceivingFacility = h.ReceivingFacility.String()
	m.ControlID = h.ControlID
	m.Type, m.Trigger, m.Structure = h.Type.Code, h.Type.Trigger, h.Structure()
	m.Version = h.Version
}

// fillPatient sets the patient identifier from PID-3's first repetition.
func fillPatient(m *store.HL7Message, msg *hl7v2.Message) {
	pid := msg.Segment("PID", 1)
	if !pid.Exists() {
		return
	}
	ids := hl7v2.ParseCXs(pid.Field(3))
	if len(ids) == 0 {
		return
	}
	m.PatientID = ids[0].ID
	m.PatientIDSystem = ids[0].AssigningAuthority.String()
}

// reasons joins the messages of errs; they name positions and rules only.
func reasons(errs []*hl7v2.Error) string {
	var b strings.Builder
	for i, e := range errs {
		if i > 0 {
			b.WriteString("; ")
		}
		if e.Loc.Segment != "" {
			b.WriteString(e.Loc.String())
			b.WriteString(": ")
		}
		b.WriteString(e.Msg)
	}
	return b.String()
}

// ParseMessageTypes reads a list of accepted message types such as
// "ADT,ORU^R01,ORM^O01" (a type alone accepts all its trigger events; "*"
// accepts everything, the nil map) into hl7v2.Policy.MessageTypes.
func ParseMessageTypes(s string) (map[string][]string, error) {
	s = strings.TrimSpace(s)
	if s == "*" {
		return nil, nil
	}
	out := map[string][]string{}
	all := map[string]bool{}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		typ, trigger, hasTrigger := strings.Cut(item, "^")
		if !isCode(typ) || (hasTrigger && !isCode(trigger)) {
			return nil, fmt.Errorf("intake: message type %q: expected TYPE or TYPE^TRIGGER, such as ADT or ORU^R01", item)
		}
		if trigger == "" {
			all[typ] = true
			out[typ] = nil
			continue
		}
		if !all[typ] {
			out[typ] = append(out[typ], trigger)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("intake: no message types accepted")
	}
	return out, nil
}

func isCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}
