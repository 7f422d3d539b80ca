package hl7v2

// This file holds the coded datatypes (HL7 v2.5.1 section 2.A): CWE and
// its predecessors and siblings CE and CNE, which share its first nine
// components.

// CWE is a coded element: a code with its text and coding system, an
// alternate coding, and the original text.
type CWE struct {
	Identifier                     string // .1
	Text                           string // .2
	CodingSystem                   string // .3 (table 0396: LN, SCT, HL70357 ...)
	AlternateIdentifier            string // .4
	AlternateText                  string // .5
	AlternateCodingSystem          string // .6
	CodingSystemVersion            string // .7 (CWE, CNE)
	AlternateCodingSystemVersion   string // .8 (CWE, CNE)
	OriginalText                   string // .9 (CWE, CNE)
	SecondAlternateIdentifier      string // .10 (v2.7+)
	SecondAlternateText            string // .11 (v2.7+)
	SecondAlternateCodingSystem    string // .12 (v2.7+)
	SecondAlternateCodingSystemVer string // .13 (v2.7+)
	CodingSystemOID                string // .14 (v2.7+)
}

// CE is the coded element of v2.1-2.5 (first six components of CWE).
type CE = CWE

// CNE is the coded element with no exceptions: a CWE whose code must come
// from the table.
type CNE = CWE

// ParseCWE reads a CWE (and a CE or a CNE).
func ParseCWE(v Value) CWE {
	v = asComposite(v)
	p := split(v)
	if v.IsEmpty() {
		return CWE{}
	}
	return CWE{
		Identifier:                     p.at(1).String(),
		Text:                           p.at(2).String(),
		CodingSystem:                   p.at(3).String(),
		AlternateIdentifier:            p.at(4).String(),
		AlternateText:                  p.at(5).String(),
		AlternateCodingSystem:          p.at(6).String(),
		CodingSystemVersion:            p.at(7).String(),
		AlternateCodingSystemVersion:   p.at(8).String(),
		OriginalText:                   p.at(9).String(),
		SecondAlternateIdentifier:      p.at(10).String(),
		SecondAlternateText:            p.at(11).String(),
		SecondAlternateCodingSystem:    p.at(12).String(),
		SecondAlternateCodingSystemVer: p.at(13).String(),
		CodingSystemOID:                p.at(14).String(),
	}
}

// ParseCE reads a CE.
func ParseCE(v Value) CE { return ParseCWE(v) }

// ParseCNE reads a CNE.
func ParseCNE(v Value) CNE { return ParseCWE(v) }

// IsZero reports whether c has no part.
func (c CWE) IsZero() bool { return c == CWE{} }

// ParseCWEs reads every repetition of a repeating coded field.
func ParseCWEs(field Value) []CWE {
	out := make([]CWE, 0, field.NumReps())
	for r := range field.Reps() {
		out = append(out, ParseCWE(r))
	}
	return out
}

// ParseST reads a string (ST, ID, IS): its text with escapes resolved.
func ParseST(v Value) string { return v.String() }

// ParseTX reads text data (TX, FT): formatting commands rendered, the
// repetitions of a field joined by line breaks.
func ParseTX(v Value) string { return v.Text() }

// ParseFT reads formatted text; it is ParseTX.
func ParseFT(v Value) string { return v.Text() }
