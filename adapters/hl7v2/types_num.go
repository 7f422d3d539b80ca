package hl7v2

import (
	"strconv"
	"strings"
)

// This file holds the numeric datatypes (HL7 v2.5.1 section 2.A): NM, SN
// and CQ.

// NM is a number, kept as canonical decimal text so that no precision is
// lost: "+007.50" reads as "7.50", ".5" as "0.5". The zero NM is empty.
type NM struct {
	Text string
}

// ParseNM reads an NM: an optional sign, digits and an optional decimal
// point (HL7 v2.5.1 section 2.A.47; no exponent). Surrounding spaces are
// ignored; "" gives the zero NM. Anything else is a CodeDataType error
// without a location: set it from the Value the text came from
// (Value.Location).
func ParseNM(s string) (NM, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return NM{}, nil
	}
	neg := false
	switch s[0] {
	case '+':
		s = s[1:]
	case '-':
		neg, s = true, s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" && frac == "" || !allDigits(intPart) || !allDigits(frac) {
		return NM{}, errAt(CodeDataType, Location{}, "not a number (NM)")
	}
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" {
		intPart = "0"
	}
	out := intPart
	if hasDot && frac != "" {
		out += "." + frac
	}
	if neg && strings.Trim(out, "0.") != "" {
		out = "-" + out
	}
	return NM{Text: out}, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// IsZero reports whether n is empty.
func (n NM) IsZero() bool { return n.Text == "" }

// Float64 returns n as a float64 (0 when empty).
func (n NM) Float64() float64 {
	f, _ := strconv.ParseFloat(n.Text, 64)
	return f
}

// SN is a structured numeric: a comparison (">^100"), a ratio
// ("^1^:^128"), a range ("^10^-^20") or a categorical result ("^2^+").
type SN struct {
	Comparator string // SN.1: > < >= <= = <>
	Num1       NM     // SN.2
	Separator  string // SN.3: - + / . : (or a suffix)
	Num2       NM     // SN.4
}

// ParseSN reads an SN; a part that is not a number is a CodeDataType
// error located at that part.
func ParseSN(v Value) (SN, error) {
	v = asComposite(v)
	p := split(v)
	var sn SN
	var err error
	sn.Comparator = strings.TrimSpace(p.at(1).String())
	switch sn.Comparator {
	case "", ">", "<", ">=", "<=", "=", "<>":
	default:
		return SN{}, errAt(CodeDataType, v.partLocation(1), "invalid comparator (SN.1)")
	}
	if sn.Num1, err = ParseNM(p.at(2).String()); err != nil {
		return SN{}, errAt(CodeDataType, v.partLocation(2), "not a number (SN.2)")
	}
	sn.Separator = p.at(3).String()
	if sn.Num2, err = ParseNM(p.at(4).String()); err != nil {
		return SN{}, errAt(CodeDataType, v.partLocation(4), "not a number (SN.4)")
	}
	return sn, nil
}

// CQ is a composite quantity with units (OBR-9, TQ1-2 ...).
type CQ struct {
	Quantity NM  // CQ.1
	Units    CWE // CQ.2
}

// ParseCQ reads a CQ; a quantity that is not a number is a CodeDataType
// error located at CQ.1.
func ParseCQ(v Value) (CQ, error) {
	v = asComposite(v)
	p := split(v)
	q, err := ParseNM(p.at(1).String())
	if err != nil {
		return CQ{}, errAt(CodeDataType, v.partLocation(1), "not a number (CQ.1)")
	}
	return CQ{Quantity: q, Units: ParseCWE(p.at(2))}, nil
}
