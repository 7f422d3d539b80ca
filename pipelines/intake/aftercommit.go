package intake

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/store"
)

// AfterCommit is the acknowledgment mode in which a message is answered
// only once its FHIR effect is committed (design page, flow 2, option
// --ack=after-commit), for senders that want application errors on the
// connection (HL7 v2.5.1 section 2.9.2, original mode: the receiving
// application processes the message, then answers):
//
//   - processed: AA (CA in enhanced mode);
//   - it cannot be mapped or validated: AE (CE) with an ERR segment giving
//     the reason and, where known, its position; the message is stored
//     with status error and copied to the DLQ, as the ingest pipeline does;
//   - a transient failure (database unavailable, conflicting writes) that
//     lasts beyond Attempts or Within: AE (CE) with ERR-3 207 (application
//     internal error) asking the sender to send the message again. The
//     message stays received and is processed by the ingest pipeline; a
//     resend is a duplicate, answered with the outcome by then.
//
// The message is still stored first (so a crash leaves a re-drivable
// record) and still published to the inbound topic once answered, so that
// the topic holds every accepted message whatever the mode; the ingest
// pipeline skips the ones already processed or failed. A duplicate is
// answered with its original's outcome: processed AA, error AE with the
// reason, and an original still received (its first attempt failed
// transiently, or the process stopped) is processed first.
type AfterCommit struct {
	// Apply makes one attempt at processing a stored message and records
	// it processed (ingest.Pipeline.Apply); required.
	Apply func(ctx context.Context, m *store.HL7Message) error
	// Permanent reports whether an error of Apply would repeat on another
	// attempt (ingest.IsPermanent); required.
	Permanent func(err error) bool
	// Fail records a permanent failure: status error with the reason, and
	// a copy on the DLQ (ingest.Pipeline.Fail); required.
	Fail func(ctx context.Context, m *store.HL7Message, err error, attempts int, firstFailure time.Time)
	// Reason is the text Fail records for err (ingest.Reason): positions
	// and rules, no patient data; it goes into the ERR segment.
	Reason func(err error) string
	// Attempts bounds the attempts at a message whose failures are
	// transient, Within the time they may take together, Backoff the
	// first wait between them (doubled each time).
	Attempts int
	Within   time.Duration
	Backoff  time.Duration
}

// DefaultAfterCommit returns the retry bounds: 4 attempts within 5 s, so
// that a sender's usual ACK timeout (10 to 30 s) is not reached.
func DefaultAfterCommit() AfterCommit {
	return AfterCommit{Attempts: 4, Within: 5 * time.Second, Backoff: 100 * time.Millisecond}
}

func (ac *AfterCommit) check() error {
	if ac.Apply == nil || ac.Permanent == nil || ac.Fail == nil || ac.Reason == nil {
		return errors.New("intake: config: AfterCommit needs Apply, Permanent, Fail and Reason")
	}
	def := DefaultAfterCommit()
	if ac.Attempts <= 0 {
		ac.Attempts = def.Attempts
	}
	if ac.Within <= 0 {
		ac.Within = def.Within
	}
	if ac.Backoff <= 0 {
		ac.Backoff = def.Backoff
	}
	return nil
}

// retryLater is the ERR of a message whose processing failed transiently.
// ERR-3 is 207 (application internal error) rather than 206 (application
// record locked): the causes are ours (database unavailable, write
// conflicts), not a record the sender could wait for, and 207 is what the
// intake already answers when it cannot store a message, so a sender sees
// one code for "our side failed, send it again".
func retryLater() *hl7v2.Error {
	return &hl7v2.Error{Code: hl7v2.CodeApplicationInternal, Severity: hl7v2.SeverityError,
		Msg: "the message could not be processed now; send it again later"}
}

// processed returns the outcome of m's processing for the acknowledgment,
// processing it now when it is still received. m needs Raw then.
func (in *Intake) processed(ctx context.Context, m *store.HL7Message) (hl7v2.Outcome, []*hl7v2.Error) {
	ac := in.cfg.AfterCommit
	switch m.Status {
	case store.MessageProcessed:
		return hl7v2.OutcomeAccepted, nil
	case store.MessageError:
		return hl7v2.OutcomeError, []*hl7v2.Error{failure(m.Error)}
	}
	pctx, cancel := context.WithTimeout(ctx, ac.Within)
	defer cancel()
	wait := ac.Backoff
	var first time.Time
	for attempt := 1; ; attempt++ {
		err := ac.Apply(pctx, m)
		if err == nil {
			m.Status = store.MessageProcessed
			return hl7v2.OutcomeAccepted, nil
		}
		if first.IsZero() {
			first = in.cfg.Now()
		}
		// A failure caused by our own deadline is never the message's.
		if pctx.Err() == nil && ac.Permanent(err) {
			ac.Fail(context.WithoutCancel(ctx), m, err, attempt, first)
			m.Status, m.Error = store.MessageError, ac.Reason(err)
			in.log.Info("hl7 message failed; answered with the reason", "id", m.ID, "control_id", m.ControlID, "err", err)
			return hl7v2.OutcomeError, []*hl7v2.Error{failure(m.Error)}
		}
		if attempt >= ac.Attempts || pctx.Err() != nil || !sleep(pctx, wait) {
			in.log.Warn("hl7 message not processed in time; asked to send it again", "id", m.ID,
				"control_id", m.ControlID, "attempts", attempt, "err", err)
			return hl7v2.OutcomeError, []*hl7v2.Error{retryLater()}
		}
		wait *= 2
	}
}

// original returns the outcome of the message a duplicate repeats (orig,
// without Raw), processing it first when it is still received.
func (in *Intake) original(ctx context.Context, orig *store.HL7Message) (hl7v2.Outcome, []*hl7v2.Error) {
	if orig == nil {
		return hl7v2.OutcomeError, []*hl7v2.Error{retryLater()}
	}
	if orig.Status == store.MessageReceived {
		full, err := in.cfg.Store.Message(ctx, orig.ID)
		if err != nil {
			in.log.Warn("hl7 original message not read", "id", orig.ID, "err", err)
			return hl7v2.OutcomeError, []*hl7v2.Error{retryLater()}
		}
		orig = full
	}
	return in.processed(ctx, orig)
}

// failure is the ERR of a message that cannot be processed, from the
// reason recorded with it: ERR-3 207 (the message is well formed: the
// application's rules refuse it, which table 0357 has no narrower code
// for), ERR-2 the position the reason starts with ("PID-3: no patient
// identifier"), ERR-8 the reason.
func failure(reason string) *hl7v2.Error {
	e := &hl7v2.Error{Code: hl7v2.CodeApplicationInternal, Severity: hl7v2.SeverityError, Msg: reason}
	if e.Msg == "" {
		e.Msg = "the message could not be processed"
	}
	if at, _, ok := strings.Cut(reason, ": "); ok {
		e.Loc = location(at)
	}
	return e
}

// location reads a terse path ("OBX[4]-5") or segment id ("OBR") into an
// ERR-2 location; the zero Location for anything else.
func location(s string) hl7v2.Location {
	if p, err := hl7v2.ParsePath(s); err == nil {
		return hl7v2.Location{Segment: p.Segment, Sequence: max(p.Occurrence, 1), Field: p.Field, Rep: p.Rep, Component: p.Comp}
	}
	if len(s) == 3 && isCode(s) && s[0] >= 'A' && s[0] <= 'Z' {
		return hl7v2.Location{Segment: s, Sequence: 1}
	}
	return hl7v2.Location{}
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
