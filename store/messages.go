package store

import (
	"context"
	"time"
)

// MessageStatus is where an HL7 v2 message stands.
type MessageStatus string

// Message statuses. Received, processed and error messages claim their
// (sending facility, control id) key; the others never get processed.
const (
	// MessageReceived: stored and acknowledged, waiting to be processed.
	MessageReceived MessageStatus = "received"
	// MessageProcessed: its FHIR effect is committed.
	MessageProcessed MessageStatus = "processed"
	// MessageError: processing failed for good (see Error); replay re-drives it.
	MessageError MessageStatus = "error"
	// MessageRejected: refused when received (bad header, unsupported
	// version or type, unreadable, oversize).
	MessageRejected MessageStatus = "rejected"
	// MessageDuplicate: the same message again (same key and body).
	MessageDuplicate MessageStatus = "duplicate"
	// MessageConflict: a different body under a key already claimed.
	MessageConflict MessageStatus = "conflict"
)

// ValidMessageStatus reports whether s is one of the statuses above.
func ValidMessageStatus(s string) bool {
	switch MessageStatus(s) {
	case MessageReceived, MessageProcessed, MessageError, MessageRejected, MessageDuplicate, MessageConflict:
		return true
	}
	return false
}

// HL7Message is one received HL7 v2 message with the header fields it is
// searched by. Raw and PatientID are patient data: never log them.
type HL7Message struct {
	ID         int64
	ReceivedAt time.Time
	// Raw is the message as received (for a rejected frame, what was read).
	Raw []byte
	// Channel is how it came ("mllp", "kafka"); Peer the remote address or
	// topic/partition/offset.
	Channel, Peer string
	// MSH-3 to MSH-6 as HD strings (namespace^universal id^type).
	SendingApp, SendingFacility, ReceivingApp, ReceivingFacility string
	ControlID                                                    string // MSH-10
	Type, Trigger, Structure                                     string // MSH-9
	Version                                                      string // MSH-12
	// PatientID is PID-3's first repetition (CX.1) and PatientIDSystem its
	// assigning authority (CX.4).
	PatientID, PatientIDSystem string
	Status                     MessageStatus
	// AckCode is MSA-1 of the acknowledgment sent (AA, AE, AR, CA, CE, CR),
	// what a duplicate is answered with again.
	AckCode string
	// Error is why a message was rejected or failed: positions and rules,
	// never values from the message.
	Error    string
	Attempts int
	// DuplicateOf is the id of the message that claims the key, for
	// duplicates and conflicts.
	DuplicateOf int64
	ProcessedAt time.Time // zero until processed
	// Published says an accepted message is on the hl7v2.inbound topic.
	Published bool
	// Resources are the Type/id/_history/n the message's processing wrote.
	Resources []string
}

// Claims reports whether a message with status s claims its key.
func (s MessageStatus) Claims() bool {
	return s == MessageReceived || s == MessageProcessed || s == MessageError
}

// MessageQuery selects messages for the operator API. Zero fields do not
// filter. Results are newest first.
type MessageQuery struct {
	Status          MessageStatus
	Type, Trigger   string
	SendingApp      string
	SendingFacility string
	PatientID       string
	ControlID       string
	Since, Before   time.Time // received at or after Since, before Before
	Count           int       // page size (0: 50; at most 500)
	// Cursor is the opaque position returned as MessagePage.Next.
	Cursor string
	// WithRaw includes Raw in the results.
	WithRaw bool
}

// MessagePage is one page of messages, newest first.
type MessagePage struct {
	Messages []*HL7Message
	Next     string // cursor of the next page, "" at the end
}

// MessageStore keeps HL7 v2 messages. Errors are internal unless stated.
type MessageStore interface {
	// ReceiveMessages stores messages in one transaction and sets their ID.
	// A message whose status claims its key (received) and whose key is
	// already claimed is stored as a duplicate (same body) or conflict
	// (other body) instead, with DuplicateOf set; its AckCode is then that
	// of the claimant, and the claimant is returned at the same index
	// (nil otherwise). Keys repeated within ms are handled in order.
	ReceiveMessages(ctx context.Context, ms []*HL7Message) (originals []*HL7Message, err error)
	// Message returns one message with its raw bytes, or ErrNotFound.
	Message(ctx context.Context, id int64) (*HL7Message, error)
	// Messages lists messages (see MessageQuery); a bad cursor is a
	// *fhir.Error (invalid).
	Messages(ctx context.Context, q MessageQuery) (*MessagePage, error)
	// MarkPublished records that the messages are on the inbound topic.
	MarkPublished(ctx context.Context, ids []int64) error
	// Unpublished returns up to limit accepted messages received before
	// the given time that are not yet published, oldest first, with Raw.
	Unpublished(ctx context.Context, before time.Time, limit int) ([]*HL7Message, error)
	// FinishMessage records the outcome of processing message id: status
	// processed (with the resources written) or error (with the reason);
	// it counts one more attempt. ErrNotFound when there is no such id.
	FinishMessage(ctx context.Context, id int64, o MessageOutcome) error
}

// MessageOutcome is the result of processing a message.
type MessageOutcome struct {
	Status MessageStatus // MessageProcessed or MessageError
	// Error is, for MessageError, why (positions and rules, no values);
	// for MessageProcessed, an optional note (updates superseded by newer
	// messages), no values either.
	Error     string
	Resources []string // Type/id/_history/n written
	At        time.Time
}
