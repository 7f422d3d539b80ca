package mappings

import (
	"strings"
	"time"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/fhir"
)

// Options are what a mapping needs besides the message. The zero Options
// is usable.
type Options struct {
	// MessageRef names the stored message ("hl7v2-message/123"). It becomes
	// meta.source of every resource written and of the Provenance. When
	// empty, a URN built from MSH-3, MSH-4 and MSH-10 is used.
	MessageRef string
	// IdentifierSystem maps an assigning authority (CX.4, EI.2-4, XCN.9,
	// PL.4 ...) to an Identifier.system URI; nil, or "" returned, falls
	// back to DefaultIdentifierSystem. Deployments that know the OIDs or
	// URIs of their authorities set it, and must keep it stable: the system
	// is part of every conditional key.
	IdentifierSystem func(authority hl7v2.HD) string
	// Location is the time zone of message times that carry no offset
	// (HL7 v2.5.1 section 2.A.22: the sender's local time); nil means UTC.
	Location *time.Location
	// Now is used only when a message has no usable MSH-7, for
	// Provenance.recorded; nil means time.Now.
	Now func() time.Time
}

// Supported reports whether Map maps messages of type code (MSH-9.1) and
// trigger (MSH-9.2). It costs a map lookup.
func Supported(code, trigger string) bool {
	switch code {
	case "ADT":
		_, ok := adtTriggers[trigger]
		return ok
	case "ORU":
		return trigger == "R01"
	case "ORM":
		return trigger == "O01"
	case "OMI":
		return trigger == "O23"
	}
	return false
}

// Map maps m to a FHIR R4 transaction Bundle by its type (MSH-9): ADT
// events (see MapADT), ORU^R01 (MapORU), ORM^O01 and OMI^O23 (MapOrder).
// Another type returns an error with ErrUnsupported in its chain.
//
// Map is pure and deterministic: the same message and options give the
// same Bundle, byte for byte once encoded with fhir.MarshalJSON. Errors
// are *fhir.Error values naming the segment and field at fault (in
// Expression), never a value of the message.
func Map(m *hl7v2.Message, opt Options) (fhir.Object, error) {
	if m == nil {
		return nil, fieldError("MSH", nil, "no message")
	}
	t := m.Header().Type
	switch t.Code {
	case "ADT":
		return MapADT(m, opt)
	case "ORU":
		if t.Trigger == "R01" {
			return MapORU(m, opt)
		}
	case "ORM", "OMI":
		if Supported(t.Code, t.Trigger) {
			return MapOrder(m, opt)
		}
	}
	return nil, unsupported(safeType(t))
}

// safeType returns MSH-9 for an error message, reduced to the characters
// a message type can have so that nothing else of the message leaks.
func safeType(t hl7v2.MSG) string {
	s := t.Code + "^" + t.Trigger
	if len(s) > 16 {
		s = s[:16]
	}
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '^' || r == '_' {
			return r
		}
		return '?'
	}, s)
}
