package hl7v2

import (
	"strconv"
	"strings"
	"time"
)

// This file holds the date and time datatypes (HL7 v2.5.1 section 2.A):
// DTM, TS (a DTM with a deprecated precision component) and DT.

// Precision is how much of a DTM was given.
type Precision uint8

// Precisions from year to fraction of a second.
const (
	PrecisionNone Precision = iota
	PrecisionYear
	PrecisionMonth
	PrecisionDay
	PrecisionHour
	PrecisionMinute
	PrecisionSecond
	PrecisionFraction // 1 to 4 digits after the second, see DTM.FractionDigits
)

// DTM is a point in time with the precision it was given at:
// YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ].
type DTM struct {
	// Time is the instant; parts not given are at their start (month 1,
	// day 1, midnight). Without an offset it is in the location passed to
	// ParseDTM.
	Time           time.Time
	Precision      Precision
	FractionDigits int  // 1-4 when Precision is PrecisionFraction
	HasOffset      bool // an offset +/-ZZZZ was given
}

// IsZero reports whether d is empty.
func (d DTM) IsZero() bool { return d.Precision == PrecisionNone }

// ParseDTM reads a DTM (or a DT, or a TS's first component). loc is the
// time zone of a value without offset (nil means UTC). "" gives the zero
// DTM; malformed text or an impossible date is a CodeDataType error
// without a location (ParseTS locates it).
func ParseDTM(s string, loc *time.Location) (DTM, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return DTM{}, nil
	}
	if loc == nil {
		loc = time.UTC
	}
	bad := func(why string) (DTM, error) {
		return DTM{}, errAt(CodeDataType, Location{}, "invalid date/time (DTM): "+why)
	}
	var d DTM
	body, offset := s, ""
	if i := strings.IndexAny(s, "+-"); i >= 0 {
		body, offset = s[:i], s[i:]
	}
	digits, frac, hasDot := strings.Cut(body, ".")
	if !allDigits(digits) || !allDigits(frac) {
		return bad("not digits")
	}
	parts := [6]int{0, 1, 1, 0, 0, 0}
	switch len(digits) {
	case 4, 6, 8, 10, 12, 14:
	default:
		return bad("wrong number of digits")
	}
	widths := [...]int{4, 2, 2, 2, 2, 2}
	pos := 0
	for k := 0; pos < len(digits); k++ {
		parts[k], _ = strconv.Atoi(digits[pos : pos+widths[k]])
		pos += widths[k]
		d.Precision = Precision(k + 1)
	}
	nanos := 0
	if hasDot {
		if len(digits) != 14 || len(frac) < 1 || len(frac) > 4 {
			return bad("fraction of a second without seconds or with more than four digits")
		}
		n, _ := strconv.Atoi(frac)
		for k := len(frac); k < 9; k++ {
			n *= 10
		}
		nanos = n
		d.Precision = PrecisionFraction
		d.FractionDigits = len(frac)
	}
	if parts[1] < 1 || parts[1] > 12 || parts[2] < 1 || parts[2] > 31 || parts[3] > 23 || parts[4] > 59 || parts[5] > 59 {
		return bad("field out of range")
	}
	if offset != "" {
		if len(offset) != 5 || !allDigits(offset[1:]) {
			return bad("offset is not +/-ZZZZ")
		}
		h, _ := strconv.Atoi(offset[1:3])
		mi, _ := strconv.Atoi(offset[3:5])
		if h > 23 || mi > 59 {
			return bad("offset out of range")
		}
		sec := h*3600 + mi*60
		if offset[0] == '-' {
			sec = -sec
		}
		loc = time.FixedZone(offset, sec)
		d.HasOffset = true
	}
	d.Time = time.Date(parts[0], time.Month(parts[1]), parts[2], parts[3], parts[4], parts[5], nanos, loc)
	if d.Time.Day() != parts[2] {
		return bad("no such day")
	}
	return d, nil
}

// ParseTS reads a TS: DTM in TS.1 (TS.2, the degree of precision, is
// deprecated and ignored). A malformed value is a CodeDataType error
// located at TS.1.
func ParseTS(v Value, loc *time.Location) (DTM, error) {
	c := asComposite(v)
	d, err := ParseDTM(c.Part(1).String(), loc)
	if e, ok := err.(*Error); ok {
		e.Loc = c.partLocation(1)
	}
	return d, err
}

// String formats d back to HL7 text at its precision, with its offset if
// it had one.
func (d DTM) String() string {
	if d.Precision == PrecisionNone {
		return ""
	}
	layouts := [...]string{"", "2006", "200601", "20060102", "2006010215", "200601021504", "20060102150405"}
	var s string
	if d.Precision == PrecisionFraction {
		s = d.Time.Format("20060102150405") + "." + d.Time.Format(".0000")[1:1+d.FractionDigits]
	} else {
		s = d.Time.Format(layouts[d.Precision])
	}
	if d.HasOffset {
		s += d.Time.Format("-0700")
	}
	return s
}
