package hl7v2

// Delimiters are the separators a message declares in MSH-1 (field
// separator) and MSH-2 (encoding characters: component, repetition,
// escape, subcomponent and, from v2.7, truncation), HL7 v2.5.1 section
// 2.5.4 "Message delimiters". A character a message does not declare is 0:
// some old messages declare only three encoding characters.
type Delimiters struct {
	Field        byte
	Component    byte
	Repetition   byte
	Escape       byte
	Subcomponent byte
	Truncation   byte
}

// DefaultDelimiters returns the recommended delimiters |^~\& without a
// truncation character.
func DefaultDelimiters() Delimiters {
	return Delimiters{Field: '|', Component: '^', Repetition: '~', Escape: '\\', Subcomponent: '&'}
}

// EncodingCharacters returns the MSH-2 text for d: the declared encoding
// characters in their fixed order, up to the first one not declared.
func (d Delimiters) EncodingCharacters() string {
	var b [5]byte
	n := 0
	for _, c := range [...]byte{d.Component, d.Repetition, d.Escape, d.Subcomponent, d.Truncation} {
		if c == 0 {
			break
		}
		b[n] = c
		n++
	}
	return string(b[:n])
}

// String returns MSH-1 followed by MSH-2, as they appear after "MSH".
func (d Delimiters) String() string {
	return string(d.Field) + d.EncodingCharacters()
}

// validDelimiter reports whether c may serve as a delimiter: a printable
// ASCII character that is neither a letter, a digit nor a space.
func validDelimiter(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return false
	}
	return !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z')
}

// Validate reports whether d can delimit a message: every declared
// character valid and distinct, the field separator declared and at least
// the component separator declared after it.
func (d Delimiters) Validate() error {
	if !validDelimiter(d.Field) {
		return &Error{Code: CodeDataType, Severity: SeverityError,
			Loc: Location{Segment: "MSH", Sequence: 1, Field: 1}, Msg: "invalid field separator"}
	}
	chars := [...]byte{d.Field, d.Component, d.Repetition, d.Escape, d.Subcomponent, d.Truncation}
	if d.Component == 0 {
		return &Error{Code: CodeDataType, Severity: SeverityError,
			Loc: Location{Segment: "MSH", Sequence: 1, Field: 2}, Msg: "no encoding characters"}
	}
	ended := false
	for i := 1; i < len(chars); i++ {
		c := chars[i]
		if c == 0 {
			ended = true
			continue
		}
		bad := ended || !validDelimiter(c)
		for j := 0; j < i && !bad; j++ {
			bad = chars[j] == c
		}
		if bad {
			return &Error{Code: CodeDataType, Severity: SeverityError,
				Loc: Location{Segment: "MSH", Sequence: 1, Field: 2}, Msg: "invalid encoding characters"}
		}
	}
	return nil
}

// delimitersFrom reads MSH-1 and MSH-2 from a header segment that starts
// at seg[0] (a three-letter name such as MSH, FHS or BHS). It returns the
// delimiters and the length of MSH-2.
func delimitersFrom(seg []byte) (Delimiters, int, error) {
	var d Delimiters
	if len(seg) < 4 {
		return d, 0, &Error{Code: CodeDataType, Severity: SeverityError,
			Loc: Location{Segment: "MSH", Sequence: 1, Field: 1}, Msg: "header segment too short for delimiters"}
	}
	d.Field = seg[3]
	n := 0
	for i := 4; i < len(seg); i++ {
		c := seg[i]
		if c == d.Field || c == '\r' || c == '\n' {
			break
		}
		if n == 5 {
			return Delimiters{}, 0, &Error{Code: CodeDataType, Severity: SeverityError,
				Loc: Location{Segment: "MSH", Sequence: 1, Field: 2}, Msg: "more than five encoding characters"}
		}
		switch n {
		case 0:
			d.Component = c
		case 1:
			d.Repetition = c
		case 2:
			d.Escape = c
		case 3:
			d.Subcomponent = c
		case 4:
			d.Truncation = c
		}
		n++
	}
	if err := d.Validate(); err != nil {
		return Delimiters{}, 0, err
	}
	return d, n, nil
}
