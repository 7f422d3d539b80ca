package hl7v2

import (
	"bytes"
	"strings"
)

// Header is the message header segment MSH read into fields (HL7 v2.5.1
// section 2.14.9): who sent the message to whom, its type, control id,
// processing id, version, acknowledgment types and character set.
type Header struct {
	Delimiters           Delimiters
	SendingApplication   HD     // MSH-3
	SendingFacility      HD     // MSH-4
	ReceivingApplication HD     // MSH-5
	ReceivingFacility    HD     // MSH-6
	Time                 DTM    // MSH-7 (zero when absent or malformed)
	Security             string // MSH-8
	Type                 MSG    // MSH-9
	ControlID            string // MSH-10
	ProcessingID         string // MSH-11.1 (table 0103: P, T, D)
	ProcessingMode       string // MSH-11.2 (table 0207)
	Version              string // MSH-12.1 (table 0104: 2.3.1, 2.5.1 ...)
	SequenceNumber       string // MSH-13
	ContinuationPointer  string // MSH-14
	AcceptAckType        string // MSH-15 (table 0155: AL, NE, ER, SU)
	ApplicationAckType   string // MSH-16 (table 0155)
	Country              string // MSH-17
	CharacterSets        []string
	Charset              Charset // the character set values are read in
	Language             string  // MSH-19.1
	Profiles             []EI    // MSH-21
	// Offset is the number of bytes ParseHeader skipped before "MSH".
	Offset int

	msh Segment // the MSH segment, for copying fields into an ACK
}

// Header reads the message's MSH segment. It does not check it: see
// Header.Validate.
func (m *Message) Header() *Header {
	return headerFrom(m.SegmentAt(0))
}

func headerFrom(s Segment) *Header {
	h := &Header{Delimiters: s.m.delims, Charset: s.m.charset, msh: s}
	h.SendingApplication = ParseHD(s.Field(3))
	h.SendingFacility = ParseHD(s.Field(4))
	h.ReceivingApplication = ParseHD(s.Field(5))
	h.ReceivingFacility = ParseHD(s.Field(6))
	h.Time, _ = ParseTS(s.Field(7), nil)
	h.Security = s.Field(8).String()
	h.Type = ParseMSG(s.Field(9))
	h.ControlID = s.Field(10).String()
	h.ProcessingID = s.Field(11).Comp(1).String()
	h.ProcessingMode = s.Field(11).Comp(2).String()
	h.Version = s.Field(12).Comp(1).String()
	h.SequenceNumber = s.Field(13).String()
	h.ContinuationPointer = s.Field(14).String()
	h.AcceptAckType = s.Field(15).String()
	h.ApplicationAckType = s.Field(16).String()
	h.Country = s.Field(17).String()
	for r := range s.Field(18).Reps() {
		if t := r.String(); t != "" {
			h.CharacterSets = append(h.CharacterSets, t)
		}
	}
	h.Language = s.Field(19).Comp(1).String()
	for r := range s.Field(21).Reps() {
		if ei := ParseEI(r); !ei.IsZero() {
			h.Profiles = append(h.Profiles, ei)
		}
	}
	return h
}

// Structure returns the message structure ID: MSH-9.3 when given, else
// the structure HL7 table 0354 assigns to the type and trigger (ADT^A04
// is ADT_A01), else "CODE_TRIGGER".
func (h *Header) Structure() string {
	if h.Type.Structure != "" {
		return h.Type.Structure
	}
	return StructureFor(h.Type.Code, h.Type.Trigger)
}

// Validate checks the MSH fields a receiver needs: MSH-9.1, MSH-10,
// MSH-11 and MSH-12 present (CodeRequiredFieldMissing), MSH-15 and MSH-16
// from table 0155 (a CodeTableValueNotFound warning: such a value is
// treated as AL).
func (h *Header) Validate() []*Error {
	var errs []*Error
	loc := func(field, comp int) Location {
		return Location{Segment: "MSH", Sequence: 1, Field: field, Component: comp, Position: 1}
	}
	if h.Type.Code == "" {
		errs = append(errs, errAt(CodeRequiredFieldMissing, loc(9, 1), "message type (MSH-9.1) missing"))
	}
	if h.ControlID == "" {
		errs = append(errs, errAt(CodeRequiredFieldMissing, loc(10, 0), "message control id (MSH-10) missing"))
	}
	if h.ProcessingID == "" {
		errs = append(errs, errAt(CodeRequiredFieldMissing, loc(11, 0), "processing id (MSH-11) missing"))
	}
	if h.Version == "" {
		errs = append(errs, errAt(CodeRequiredFieldMissing, loc(12, 0), "version id (MSH-12) missing"))
	}
	for _, f := range []struct {
		n int
		v string
	}{{15, h.AcceptAckType}, {16, h.ApplicationAckType}} {
		switch f.v {
		case "", "AL", "NE", "ER", "SU":
		default:
			e := errAt(CodeTableValueNotFound, loc(f.n, 0), "acknowledgment type not in table 0155, treated as AL")
			e.Severity = SeverityWarning
			errs = append(errs, e)
		}
	}
	return errs
}

// ParseHeader reads the MSH segment of data as far as it can, for
// answering messages that cannot be parsed: it skips a byte order mark and
// any bytes before the first "MSH" that is followed by valid delimiters
// (Header.Offset says how many), reads up to the first line end or the end
// of the data, and does not require the rest of the message to be
// well-formed. It fails only when no MSH with valid delimiters is found;
// the error then carries CodeSegmentSequence or CodeDataType.
//
// It costs a search through data and a parse of the MSH segment alone.
func ParseHeader(data []byte) (*Header, error) {
	base := 0
	if bytes.HasPrefix(data, bom) {
		base = 3
	}
	var firstErr error
	for from := base; from < len(data); {
		i := bytes.Index(data[from:], []byte("MSH"))
		if i < 0 {
			break
		}
		at := from + i
		from = at + 1
		d, _, err := delimitersFrom(data[at:])
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		line := data[at:]
		if j := bytes.IndexAny(line, "\r\n"); j >= 0 {
			line = line[:j]
		}
		m := &Message{delims: d, raw: append([]byte(nil), line...)}
		if err := m.indexFrom(0, DefaultLimits()); err != nil || len(m.segs) != 1 {
			continue
		}
		m.charset = detectCharset(m)
		h := headerFrom(m.SegmentAt(0))
		h.Offset = at
		return h, nil
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return nil, errAt(CodeSegmentSequence, Location{Segment: "MSH", Sequence: 1, Position: 1}, "no MSH segment found")
}

// versionAtLeast reports whether version v (such as "2.3.1") is at least
// major.minor.patch; a version it cannot read counts as recent.
func versionAtLeast(v string, want ...int) bool {
	parts := strings.Split(strings.TrimSpace(v), ".")
	for i, w := range want {
		n := 0
		if i < len(parts) {
			var ok bool
			if n, ok = atoiSmall(parts[i]); !ok {
				return true
			}
		}
		if n != w {
			return n > w
		}
	}
	return true
}

func atoiSmall(s string) (int, bool) {
	if s == "" || len(s) > 4 || !allDigits(s) {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}
