package hl7v2

import (
	"errors"
	"slices"
)

// AckCode is an acknowledgment code (HL7 table 0008) for MSA-1.
type AckCode string

// Acknowledgment codes: original mode (and enhanced-mode application
// acknowledgments) AA, AE, AR; enhanced-mode accept acknowledgments CA,
// CE, CR.
const (
	AckAccept       AckCode = "AA"
	AckError        AckCode = "AE"
	AckReject       AckCode = "AR"
	AckCommitAccept AckCode = "CA"
	AckCommitError  AckCode = "CE"
	AckCommitReject AckCode = "CR"
)

// AckMode is the acknowledgment mode of a message (HL7 v2.5.1 section
// 2.9): original, or enhanced when MSH-15 or MSH-16 is valued.
type AckMode uint8

// Acknowledgment modes.
const (
	ModeOriginal AckMode = iota
	ModeEnhanced
)

func (m AckMode) String() string {
	if m == ModeEnhanced {
		return "enhanced"
	}
	return "original"
}

// Outcome is what the receiver made of a message.
type Outcome uint8

// Outcomes: accepted (stored, or processed); an error while storing or
// processing it (AE, CE); rejected for what it is (AR, CR).
const (
	OutcomeAccepted Outcome = iota
	OutcomeError
	OutcomeRejected
)

// Policy says which messages a receiver takes. Empty lists accept any
// value.
type Policy struct {
	// Versions holds the MSH-12.1 values accepted.
	Versions []string
	// MessageTypes maps each accepted MSH-9.1 to its accepted MSH-9.2
	// values; a nil or empty list accepts every trigger, a nil map every
	// type.
	MessageTypes map[string][]string
	// ProcessingIDs holds the MSH-11.1 values accepted (P, T, D).
	ProcessingIDs []string
}

// DefaultPolicy accepts versions 2.1 to 2.8.2, every message type and the
// processing ids P (production), T (training) and D (debugging).
func DefaultPolicy() Policy {
	return Policy{
		Versions: []string{"2.1", "2.2", "2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6",
			"2.7", "2.7.1", "2.8", "2.8.1", "2.8.2"},
		ProcessingIDs: []string{"P", "T", "D"},
	}
}

// Decision is what a receiver should answer to a message, decided from
// its header before the message is stored (see Decide).
type Decision struct {
	Mode AckMode
	// Accept and Application are the effective MSH-15 and MSH-16 conditions
	// (AL, NE, ER, SU) in enhanced mode.
	Accept, Application string
	// Reject is set when the message must be rejected whatever happens
	// next: bad or missing MSH, unsupported version, type, event or
	// processing id.
	Reject bool
	// Errors holds the reasons, for ERR segments: errors with Reject,
	// warnings otherwise.
	Errors []*Error
}

// Decide decides how to acknowledge a message from its header h (nil when
// it could not be read) and the error ParseHeader or Parse returned. The
// message is rejected (AR, or CR in enhanced mode) when its MSH cannot be
// read, when MSH-9.1, MSH-10, MSH-11 or MSH-12 is missing, and when the
// policy does not accept its version (CodeUnsupportedVersionID), type
// (CodeUnsupportedMessageType), trigger event (CodeUnsupportedEventCode)
// or processing id (CodeUnsupportedProcessingID).
//
// Enhanced mode applies when MSH-15 or MSH-16 is valued; an empty or
// unknown condition in that mode counts as AL (always), so that a sender
// is never left waiting for an answer it might have expected.
func Decide(h *Header, parseErr error, p Policy) Decision {
	var d Decision
	if h == nil {
		d.Reject = true
		d.Errors = append(d.Errors, asError(parseErr, "message header (MSH) could not be read"))
		return d
	}
	if h.AcceptAckType != "" || h.ApplicationAckType != "" {
		d.Mode = ModeEnhanced
		d.Accept, d.Application = condition(h.AcceptAckType), condition(h.ApplicationAckType)
	}
	if parseErr != nil {
		d.Reject = true
		d.Errors = append(d.Errors, asError(parseErr, "message could not be parsed"))
	}
	for _, e := range h.Validate() {
		if e.Severity == SeverityError {
			d.Reject = true
		}
		d.Errors = append(d.Errors, e)
	}
	loc := func(field, comp int) Location {
		return Location{Segment: "MSH", Sequence: 1, Field: field, Component: comp, Position: 1}
	}
	if h.Version != "" && len(p.Versions) > 0 && !slices.Contains(p.Versions, h.Version) {
		d.Reject = true
		d.Errors = append(d.Errors, errAt(CodeUnsupportedVersionID, loc(12, 0), "version not supported"))
	}
	if h.Type.Code != "" && p.MessageTypes != nil {
		triggers, ok := p.MessageTypes[h.Type.Code]
		switch {
		case !ok:
			d.Reject = true
			d.Errors = append(d.Errors, errAt(CodeUnsupportedMessageType, loc(9, 1), "message type not supported"))
		case len(triggers) > 0 && !slices.Contains(triggers, h.Type.Trigger):
			d.Reject = true
			d.Errors = append(d.Errors, errAt(CodeUnsupportedEventCode, loc(9, 2), "trigger event not supported"))
		}
	}
	if h.ProcessingID != "" && len(p.ProcessingIDs) > 0 && !slices.Contains(p.ProcessingIDs, h.ProcessingID) {
		d.Reject = true
		d.Errors = append(d.Errors, errAt(CodeUnsupportedProcessingID, loc(11, 1), "processing id not supported"))
	}
	return d
}

func condition(c string) string {
	switch c {
	case "AL", "NE", "ER", "SU":
		return c
	}
	return "AL"
}

// asError returns err as an *Error, wrapping other errors with
// CodeApplicationInternal.
func asError(err error, msg string) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeApplicationInternal, Severity: SeverityError, Msg: msg, Err: err}
}

// Ack returns the acknowledgment to send on the connection the message
// came on, for outcome o, and whether to send one at all. In original mode
// it is the one acknowledgment, AA, AE or AR, always sent. In enhanced mode
// it is the accept acknowledgment, CA, CE or CR, sent as MSH-15 asks: AL
// always, NE never, ER on CE or CR only, SU on CA only. A Decision with
// Reject answers AR or CR whatever o is.
func (d Decision) Ack(o Outcome) (AckCode, bool) {
	if d.Reject {
		o = OutcomeRejected
	}
	if d.Mode == ModeOriginal {
		return [...]AckCode{AckAccept, AckError, AckReject}[o], true
	}
	code := [...]AckCode{AckCommitAccept, AckCommitError, AckCommitReject}[o]
	return code, wanted(d.Accept, o)
}

// ApplicationAck returns the enhanced-mode application acknowledgment for
// outcome o (AA, AE or AR, sent to the sender as a message of its own once
// the message is processed) and whether MSH-16 asks for it. In original
// mode it returns false: Ack is the application acknowledgment.
func (d Decision) ApplicationAck(o Outcome) (AckCode, bool) {
	if d.Mode == ModeOriginal {
		return "", false
	}
	if d.Reject {
		o = OutcomeRejected
	}
	return [...]AckCode{AckAccept, AckError, AckReject}[o], wanted(d.Application, o)
}

func wanted(cond string, o Outcome) bool {
	switch cond {
	case "NE":
		return false
	case "ER":
		return o != OutcomeAccepted
	case "SU":
		return o == OutcomeAccepted
	}
	return true
}
