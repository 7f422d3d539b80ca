package hl7v2

import (
	"bytes"
	"crypto/rand"
	"strconv"
	"time"
	"unicode/utf8"
)

// AckOptions are the parts of an acknowledgment that do not come from the
// message acknowledged.
type AckOptions struct {
	// Code is MSA-1.
	Code AckCode
	// ControlID is MSH-10 of the acknowledgment; when empty a random
	// 20-character id is used.
	ControlID string
	// Now gives MSH-7; nil means time.Now.
	Now func() time.Time
	// Text is MSA-3, a short text for people; when empty the first error's
	// message is used for AE, AR, CE and CR. It is escaped, and must not
	// hold patient data.
	Text string
	// Errors become ERR segments: one per error from v2.5 (ERR-2 location,
	// ERR-3 code from table 0357, ERR-4 severity, ERR-8 message), ERR-1
	// repetitions in one segment before v2.5.
	Errors []*Error
}

// BuildAck returns the general acknowledgment message ACK (HL7 v2.5.1
// section 2.14.1) for the message whose header is h, ended by CR:
//
//	MSH|^~\&|<MSH-5>|<MSH-6>|<MSH-3>|<MSH-4>|<now>||ACK^<trigger>^ACK|<new id>|<MSH-11>|<MSH-12>
//	MSA|<code>|<MSH-10>|<text>
//	ERR|...
//
// It uses the delimiters, version (MSH-12), processing id (MSH-11) and
// character set (MSH-18) of the message and swaps sender and receiver.
// MSH-9 has no structure component before v2.3.1. When the message was in
// enhanced mode the acknowledgment asks for no acknowledgment itself
// (MSH-15 and MSH-16 NE). h may be nil for a message whose MSH could not
// be read: the acknowledgment then has the default delimiters, version
// 2.5.1 and an empty MSA-2.
//
// The bytes are written directly into one buffer (the receiver answers
// every message with one, so it must be cheap); they are those of a
// message built with NewMessage, SetRaw and Set, which the tests check.
func BuildAck(h *Header, o AckOptions) ([]byte, error) {
	switch o.Code {
	case AckAccept, AckError, AckReject, AckCommitAccept, AckCommitError, AckCommitReject:
	default:
		return nil, errAt(CodeApplicationInternal, Location{}, "invalid acknowledgment code")
	}
	d := DefaultDelimiters()
	if h != nil {
		d = h.Delimiters
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	version, trigger := "2.5.1", ""
	var src Segment
	if h != nil {
		src = h.msh
		trigger = h.Type.Trigger
		if h.Version != "" {
			version = h.Version
		}
	}
	raw := func(field int) []byte { return src.Field(field).RawBytes() }
	charset := ackCharset(d, raw(18))
	text := o.Text
	if text == "" && o.Code != AckAccept && o.Code != AckCommitAccept && len(o.Errors) > 0 {
		text = o.Errors[0].Msg
	}

	n := 160 + len(raw(3)) + len(raw(4)) + len(raw(5)) + len(raw(6)) + len(raw(10)) + len(raw(18)) +
		len(o.ControlID) + 3*len(text)
	for _, e := range o.Errors {
		n += 96 + 3*len(e.Msg)
	}
	b := make([]byte, 0, n)

	// MSH: the message's delimiters, sender and receiver swapped.
	b = append(b, "MSH"...)
	b = append(b, d.Field)
	b = appendEncodingCharacters(b, d)
	b = append(b, d.Field)
	b = append(b, raw(5)...)
	b = append(b, d.Field)
	b = append(b, raw(6)...)
	b = append(b, d.Field)
	b = append(b, raw(3)...)
	b = append(b, d.Field)
	b = append(b, raw(4)...)
	b = append(b, d.Field)
	b = appendAckTime(b, now(), d)
	b = append(b, d.Field, d.Field) // MSH-8 empty
	b = append(b, "ACK"...)
	if versionAtLeast(version, 2, 3, 1) {
		b = append(b, d.Component)
		b = appendEscaped(b, trigger, d, CharsetUTF8)
		b = append(b, d.Component)
		b = append(b, "ACK"...)
	} else if trigger != "" {
		b = append(b, d.Component)
		b = appendEscaped(b, trigger, d, CharsetUTF8)
	}
	b = append(b, d.Field)
	if o.ControlID != "" {
		b = appendEscaped(b, o.ControlID, d, CharsetUTF8)
	} else {
		b = appendControlID(b)
	}
	b = append(b, d.Field)
	if p := raw(11); len(p) > 0 {
		b = append(b, p...)
	} else {
		b = append(b, 'P')
	}
	b = append(b, d.Field)
	if v := raw(12); len(v) > 0 {
		b = append(b, v...)
	} else {
		b = appendEscaped(b, version, d, CharsetUTF8)
	}
	enhanced := h != nil && (h.AcceptAckType != "" || h.ApplicationAckType != "")
	if cs := raw(18); enhanced || len(cs) > 0 {
		b = append(b, d.Field, d.Field, d.Field) // MSH-13, MSH-14 empty
		if enhanced {
			b = append(b, "NE"...)
		}
		b = append(b, d.Field)
		if enhanced {
			b = append(b, "NE"...)
		}
		if len(cs) > 0 {
			b = append(b, d.Field, d.Field)
			b = append(b, cs...)
		}
	}
	b = append(b, '\r')

	// MSA: the code, the message's control id and the text.
	b = append(b, "MSA"...)
	b = append(b, d.Field)
	b = append(b, o.Code...)
	ctl := raw(10)
	if len(ctl) > 0 || text != "" {
		b = append(b, d.Field)
		b = append(b, ctl...)
	}
	if text != "" {
		b = append(b, d.Field)
		if text == `""` && d.Escape != 0 {
			// As Set writes it: text, not the null.
			b = append(b, d.Escape, 'X', '2', '2', '2', '2', d.Escape)
		} else {
			b = appendEscaped(b, text, d, charset)
		}
	}
	b = append(b, '\r')
	return appendErrs(b, d, charset, version, o.Errors), nil
}

// appendEncodingCharacters appends MSH-2 for d (Delimiters.EncodingCharacters).
func appendEncodingCharacters(b []byte, d Delimiters) []byte {
	for _, c := range [...]byte{d.Component, d.Repetition, d.Escape, d.Subcomponent, d.Truncation} {
		if c == 0 {
			break
		}
		b = append(b, c)
	}
	return b
}

// appendAckTime appends MSH-7: t with its offset, or in UTC without one
// when '+' or '-' is a delimiter, rather than an escape sequence few
// receivers would read.
func appendAckTime(b []byte, t time.Time, d Delimiters) []byte {
	start := len(b)
	b = t.AppendFormat(b, "20060102150405-0700")
	for _, c := range b[start:] {
		if c != 0 && (c == d.Field || c == d.Component || c == d.Repetition || c == d.Escape ||
			c == d.Subcomponent || c == d.Truncation) {
			return t.UTC().AppendFormat(b[:start], "20060102150405")
		}
	}
	return b
}

// ackCharset returns the character set the text of an acknowledgment
// whose MSH-18 is the raw field cs is written in: the one its first value
// names, UTF-8 when it names none this package writes.
func ackCharset(d Delimiters, cs []byte) Charset {
	if len(cs) == 0 || string(cs) == `""` {
		return CharsetUTF8
	}
	first := cs
	for i, c := range cs {
		if c != 0 && (c == d.Repetition || c == d.Component || c == d.Subcomponent) {
			first = cs[:i]
			break
		}
	}
	if len(first) == 0 {
		return CharsetUTF8
	}
	m := Message{delims: d, charset: CharsetUTF8, high: true}
	if c, ok := CharsetFor(m.decode(first, false)); ok {
		return c
	}
	return CharsetUTF8
}

// appendErrs appends the ERR segments for errs in the layout of version:
// one per error from v2.5 (ERR-2 location, ERR-3 code from table 0357,
// ERR-4 severity, ERR-8 message), ERR-1 repetitions in one segment before.
// Values are escaped in charset.
func appendErrs(b []byte, d Delimiters, charset Charset, version string, errs []*Error) []byte {
	if len(errs) == 0 {
		return b
	}
	var num [20]byte
	// parts appends the non-empty-ended list of parts joined by sep, each
	// escaped; numbers <= 0 are empty.
	loc := func(b []byte, sep byte, seg string, nums ...int) []byte {
		last := len(nums) - 1
		for last >= 0 && nums[last] <= 0 {
			last--
		}
		if seg == "" && last < 0 {
			return b
		}
		b = appendEscaped(b, seg, d, charset)
		for _, x := range nums[:last+1] {
			b = append(b, sep)
			if x > 0 {
				b = append(b, strconv.AppendInt(num[:0], int64(x), 10)...)
			}
		}
		return b
	}
	code := func(b []byte, e *Error, sep byte) []byte {
		b = strconv.AppendInt(b, int64(e.Code), 10)
		b = append(b, sep)
		b = appendEscaped(b, e.Code.Text(), d, charset)
		b = append(b, sep)
		return append(b, "HL70357"...)
	}
	if !versionAtLeast(version, 2, 5) {
		// v2.1-2.4: one ERR whose ERR-1 (ELD) repeats: segment ID ^
		// sequence ^ field position ^ code identifying error (CE).
		b = append(b, "ERR"...)
		b = append(b, d.Field)
		for i, e := range errs {
			if i > 0 {
				if d.Repetition == 0 {
					break
				}
				b = append(b, d.Repetition)
			}
			l := e.Loc
			start := len(b)
			b = loc(b, d.Component, l.Segment, l.Sequence, l.Field)
			for n := bytes.Count(b[start:], []byte{d.Component}); n < 3; n++ {
				b = append(b, d.Component)
			}
			if d.Subcomponent != 0 {
				b = code(b, e, d.Subcomponent)
			} else {
				b = strconv.AppendInt(b, int64(e.Code), 10)
			}
		}
		return append(b, '\r')
	}
	for _, e := range errs {
		l := e.Loc
		sev := e.Severity
		if sev == 0 {
			sev = SeverityError
		}
		b = append(b, "ERR"...)
		b = append(b, d.Field, d.Field)
		b = loc(b, d.Component, l.Segment, l.Sequence, l.Field, l.Rep, l.Component, l.Sub)
		b = append(b, d.Field)
		b = code(b, e, d.Component)
		b = append(b, d.Field)
		b = utf8.AppendRune(b, rune(sev)) // as string(sev) gives it
		if e.Msg != "" {
			b = append(b, d.Field, d.Field, d.Field, d.Field)
			b = appendEscaped(b, e.Msg, d, charset)
		}
		b = append(b, '\r')
	}
	return b
}

// appendControlID appends 20 random upper-case hexadecimal digits.
func appendControlID(b []byte) []byte {
	var r [10]byte
	_, _ = rand.Read(r[:])
	for _, x := range r {
		b = append(b, hexDigits[x>>4], hexDigits[x&15])
	}
	return b
}
