package mappings

import (
	"strings"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/fhir"
)

// This file maps the v2 time datatypes DTM, TS and DT (HL7 v2.5.1 section
// 2.A.22/2.A.21/2.A.77) to FHIR date, dateTime and instant
// (datatypes.html#primitive), as the v2-to-FHIR IG's DTM[dateTime] and
// DTM[instant] maps do: the precision sent is kept (a year stays a year,
// a day a date), times keep the offset they were sent with, and a time
// without offset is read in Options.Location. FHIR has no hour or minute
// precision for a time: those are written with ":00" seconds.

// ts reads the TS/DTM at v (at location at). An absent or null value
// gives the zero DTM; a malformed one is an error naming the field.
func (b *builder) ts(v hl7v2.Value, at string) (hl7v2.DTM, error) {
	if v.IsEmpty() {
		return hl7v2.DTM{}, nil
	}
	d, err := hl7v2.ParseTS(v, b.loc)
	if err != nil {
		return hl7v2.DTM{}, fieldError(at, err, "not a valid date/time")
	}
	return checkYear(d, at)
}

// tsOrZero reads a TS where a bad value only loses a detail (the time of
// an event, of a Provenance): the zero DTM for a malformed value.
func (b *builder) tsOrZero(v hl7v2.Value) hl7v2.DTM {
	d, err := b.ts(v, "")
	if err != nil {
		return hl7v2.DTM{}
	}
	return d
}

// checkYear rejects the year 0, which FHIR dates do not have.
func checkYear(d hl7v2.DTM, at string) (hl7v2.DTM, error) {
	if !d.IsZero() && d.Time.Year() < 1 {
		return hl7v2.DTM{}, fieldError(at, nil, "not a valid date/time: year 0")
	}
	return d, nil
}

// dtmText reads a DTM given as text (a component already read by an
// hl7v2 datatype parser, such as CX.7 or XPN.12).
func (b *builder) dtmText(s, at string) (hl7v2.DTM, error) {
	d, err := hl7v2.ParseDTM(s, b.loc)
	if err != nil {
		return hl7v2.DTM{}, fieldError(at, err, "not a valid date/time")
	}
	return checkYear(d, at)
}

// dateTime returns d as a FHIR dateTime, "" for the zero DTM.
func dateTime(d hl7v2.DTM) string {
	switch d.Precision {
	case hl7v2.PrecisionNone:
		return ""
	case hl7v2.PrecisionYear, hl7v2.PrecisionMonth, hl7v2.PrecisionDay:
		return date(d)
	}
	return timeOfDay(d)
}

// date returns the date part of d as a FHIR date at d's precision (at most
// a day), "" for the zero DTM. The date is the one written in the message,
// in the offset it was written with.
func date(d hl7v2.DTM) string {
	switch d.Precision {
	case hl7v2.PrecisionNone:
		return ""
	case hl7v2.PrecisionYear:
		return d.Time.Format("2006")
	case hl7v2.PrecisionMonth:
		return d.Time.Format("2006-01")
	}
	return d.Time.Format("2006-01-02")
}

// instant returns d as a FHIR instant: a dateTime with at least seconds
// and an offset. A DTM less precise than a day has no instant: "".
func instant(d hl7v2.DTM) string {
	if d.Precision < hl7v2.PrecisionDay {
		return ""
	}
	return timeOfDay(d)
}

func timeOfDay(d hl7v2.DTM) string {
	layout := "2006-01-02T15:04:05"
	if d.Precision == hl7v2.PrecisionFraction && d.FractionDigits > 0 {
		layout += "." + strings.Repeat("0", d.FractionDigits)
	}
	return d.Time.Format(layout + "Z07:00")
}

// period returns a Period of start and end (either may be zero), nil when
// both are.
func period(start, end hl7v2.DTM) fhir.Object {
	p := fhir.Object{}
	if s := dateTime(start); s != "" {
		p["start"] = s
	}
	if e := dateTime(end); e != "" {
		p["end"] = e
	}
	if len(p) == 0 {
		return nil
	}
	return p
}

// setPeriod sets obj.period from the texts of an effective and an
// expiration date (XAD-12/13, XPN-10/11, CX-7/8), at being the field for
// an error.
func (b *builder) setPeriod(obj fhir.Object, effective, expiration, at string) error {
	start, err := b.dtmText(effective, at)
	if err != nil {
		return err
	}
	end, err := b.dtmText(expiration, at)
	if err != nil {
		return err
	}
	if p := period(start, end); p != nil {
		obj["period"] = p
	}
	return nil
}
