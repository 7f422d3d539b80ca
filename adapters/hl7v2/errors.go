package hl7v2

import (
	"strconv"
	"strings"
)

// Code is an HL7 table 0357 "Message error condition codes" value, the code
// an ACK carries in ERR-3 (v2.5+) or ERR-1.4 (v2.3/2.4).
type Code int

// Table 0357 codes (HL7 v2.5.1 section 2.15.5.3; 104 is from v2.7).
const (
	CodeAccepted                Code = 0
	CodeSegmentSequence         Code = 100
	CodeRequiredFieldMissing    Code = 101
	CodeDataType                Code = 102
	CodeTableValueNotFound      Code = 103
	CodeValueTooLong            Code = 104
	CodeUnsupportedMessageType  Code = 200
	CodeUnsupportedEventCode    Code = 201
	CodeUnsupportedProcessingID Code = 202
	CodeUnsupportedVersionID    Code = 203
	CodeUnknownKeyIdentifier    Code = 204
	CodeDuplicateKeyIdentifier  Code = 205
	CodeApplicationRecordLocked Code = 206
	CodeApplicationInternal     Code = 207
)

// Text returns the table 0357 description of c, or "" for a code the table
// does not hold.
func (c Code) Text() string {
	switch c {
	case CodeAccepted:
		return "Message accepted"
	case CodeSegmentSequence:
		return "Segment sequence error"
	case CodeRequiredFieldMissing:
		return "Required field missing"
	case CodeDataType:
		return "Data type error"
	case CodeTableValueNotFound:
		return "Table value not found"
	case CodeValueTooLong:
		return "Value too long"
	case CodeUnsupportedMessageType:
		return "Unsupported message type"
	case CodeUnsupportedEventCode:
		return "Unsupported event code"
	case CodeUnsupportedProcessingID:
		return "Unsupported processing id"
	case CodeUnsupportedVersionID:
		return "Unsupported version id"
	case CodeUnknownKeyIdentifier:
		return "Unknown key identifier"
	case CodeDuplicateKeyIdentifier:
		return "Duplicate key identifier"
	case CodeApplicationRecordLocked:
		return "Application record locked"
	case CodeApplicationInternal:
		return "Application internal error"
	}
	return ""
}

// Severity is an HL7 table 0516 error severity, written to ERR-4.
type Severity byte

// Severities of table 0516.
const (
	SeverityError       Severity = 'E'
	SeverityWarning     Severity = 'W'
	SeverityInformation Severity = 'I'
)

// Location says where in a message an error was found, with the parts of
// the ERL datatype (ERR-2): segment ID, segment sequence (1 for the first
// segment of that name), field position, repetition, component and
// subcomponent, all 1-based and 0 when unknown. Position is the 1-based
// index of the segment among all segments of the message (0 when unknown);
// it is for logs and is not written to ERR.
type Location struct {
	Segment   string
	Sequence  int
	Field     int
	Rep       int
	Component int
	Sub       int
	Position  int
}

// String returns the location in ERL form, SEG^seq^field^rep^comp^sub,
// without trailing empty parts.
func (l Location) String() string {
	return l.join('^')
}

func (l Location) join(sep byte) string {
	parts := []string{l.Segment, itoa0(l.Sequence), itoa0(l.Field), itoa0(l.Rep), itoa0(l.Component), itoa0(l.Sub)}
	n := len(parts)
	for n > 0 && parts[n-1] == "" {
		n--
	}
	return strings.Join(parts[:n], string(sep))
}

func itoa0(n int) string {
	if n <= 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// Error is the error type of this package: a table 0357 code, a severity,
// the location in the message and a message safe to log and to return in
// ERR-8 (it names positions and rules, never values from the message, so
// it carries no patient data). Err is an optional cause.
type Error struct {
	Code     Code
	Severity Severity
	Loc      Location
	Msg      string
	Err      error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("hl7v2: ")
	if e.Loc.Segment != "" {
		b.WriteString(e.Loc.String())
		b.WriteString(": ")
	}
	b.WriteString(strconv.Itoa(int(e.Code)))
	if t := e.Code.Text(); t != "" {
		b.WriteString(" ")
		b.WriteString(strings.ToLower(t))
	}
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(e.Msg)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

func errAt(code Code, loc Location, msg string) *Error {
	return &Error{Code: code, Severity: SeverityError, Loc: loc, Msg: msg}
}
