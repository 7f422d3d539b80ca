package hl7v2

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// ED is encapsulated data (HL7 v2.5.1 section 2.A.24), such as a PDF
// report in OBX-5 of an ORU.
type ED struct {
	SourceApplication HD     // ED.1
	TypeOfData        string // ED.2 (table 0191: AP application, IM image, TEXT ...)
	DataSubtype       string // ED.3 (table 0291: PDF, JPEG, XML ...)
	Encoding          string // ED.4 (table 0299: A, Hex, Base64)
	Data              string // ED.5, escapes resolved
}

// ParseED reads an ED.
func ParseED(v Value) ED {
	v = asComposite(v)
	p := split(v)
	return ED{
		SourceApplication: ParseHD(p.at(1)),
		TypeOfData:        p.at(2).String(),
		DataSubtype:       p.at(3).String(),
		Encoding:          p.at(4).String(),
		Data:              p.at(5).String(),
	}
}

// Bytes decodes Data by Encoding: Base64 and Hex ignore white space and
// line breaks (some senders wrap the text with \X0D\\X0A\ or \.br\);
// A (or none, or the "ASCII" some senders write) returns the text. An
// unknown encoding is a CodeTableValueNotFound error, undecodable text a
// CodeDataType error.
func (e ED) Bytes() ([]byte, error) {
	switch strings.ToUpper(e.Encoding) {
	case "", "A", "ASCII":
		return []byte(e.Data), nil
	case "BASE64":
		clean := stripSpace(e.Data)
		b, err := base64.StdEncoding.DecodeString(clean)
		if err != nil {
			b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(clean, "="))
		}
		if err != nil {
			return nil, &Error{Code: CodeDataType, Severity: SeverityError, Loc: Location{Component: 5}, Msg: "ED.5 is not Base64", Err: err}
		}
		return b, nil
	case "HEX":
		b, err := hex.DecodeString(stripSpace(e.Data))
		if err != nil {
			return nil, &Error{Code: CodeDataType, Severity: SeverityError, Loc: Location{Component: 5}, Msg: "ED.5 is not hexadecimal", Err: err}
		}
		return b, nil
	}
	return nil, errAt(CodeTableValueNotFound, Location{Component: 4}, "unknown ED.4 encoding")
}

// stripSpace removes white space and the \.br\ formatting command.
func stripSpace(s string) string {
	s = strings.ReplaceAll(s, `\.br\`, "")
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
}
