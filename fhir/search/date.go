package search

import (
	"time"

	"github.com/fhirhub/fhirhub/fhir"
)

// ParseDate returns the range of instants [lo, hi] that a FHIR date,
// dateTime or instant covers at its precision (R4 search.html#date,
// datatypes.html#dateTime), at microsecond resolution and in UTC:
//
//	"2024"                       -> 2024-01-01T00:00:00Z .. 2024-12-31T23:59:59.999999Z
//	"2024-03"                    -> the whole of March 2024
//	"2024-03-05"                 -> the whole day
//	"2024-03-05T10:30+01:00"     -> the minute 09:30 UTC (the precision of search values)
//	"2024-03-05T10:30:15Z"       -> that second
//	"2024-03-05T10:30:15.25Z"    -> 10:30:15.250000 .. 10:30:15.259999
//
// Values without an offset are taken as UTC. A leap second (":60") is read
// as second 59. Fractions beyond microseconds are truncated. The error is a
// *fhir.Error with code "value". ParseDate does not allocate unless it fails.
func ParseDate(s string) (lo, hi time.Time, err error) {
	lo, hi, ok := parseDate(s)
	if !ok {
		return time.Time{}, time.Time{}, fhir.Errorf(fhir.IssueValue, "invalid date %q", s)
	}
	return lo, hi, nil
}

func digits(s string, i, n int) (int, bool) {
	if i+n > len(s) {
		return 0, false
	}
	v := 0
	for _, c := range []byte(s[i : i+n]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func parseDate(s string) (lo, hi time.Time, ok bool) {
	year, ok := digits(s, 0, 4)
	if !ok || year == 0 {
		return lo, hi, false
	}
	month, day := 1, 1
	hour, minute, sec, nsec := 0, 0, 0, 0
	i := 4
	years, months, days := 1, 0, 0 // the precision, while there is no time
	if i < len(s) {
		if s[i] != '-' {
			return lo, hi, false
		}
		if month, ok = digits(s, i+1, 2); !ok || month < 1 || month > 12 {
			return lo, hi, false
		}
		i += 3
		years, months = 0, 1
	}
	if i < len(s) {
		if s[i] != '-' {
			return lo, hi, false
		}
		if day, ok = digits(s, i+1, 2); !ok || day < 1 || day > daysIn(year, month) {
			return lo, hi, false
		}
		i += 3
		months, days = 0, 1
	}
	off := 0 // seconds east of UTC
	var step time.Duration
	if i < len(s) {
		if s[i] != 'T' {
			return lo, hi, false
		}
		if hour, ok = digits(s, i+1, 2); !ok || hour > 23 || i+3 >= len(s) || s[i+3] != ':' {
			return lo, hi, false
		}
		if minute, ok = digits(s, i+4, 2); !ok || minute > 59 {
			return lo, hi, false
		}
		i += 6
		step = time.Minute
		if i < len(s) && s[i] == ':' {
			if sec, ok = digits(s, i+1, 2); !ok || sec > 60 {
				return lo, hi, false
			}
			if sec == 60 {
				sec = 59
			}
			i += 3
			step = time.Second
			if i < len(s) && s[i] == '.' {
				i++
				start := i
				scale := int(time.Second)
				for i < len(s) && s[i] >= '0' && s[i] <= '9' {
					if i-start < 6 {
						scale /= 10
						nsec += scale * int(s[i]-'0')
					}
					i++
				}
				if i == start {
					return lo, hi, false
				}
				step = time.Duration(scale)
			}
		}
		if i < len(s) {
			switch s[i] {
			case 'Z':
				i++
			case '+', '-':
				oh, ok1 := digits(s, i+1, 2)
				om, ok2 := digits(s, i+4, 2)
				if !ok1 || !ok2 || s[i+3] != ':' || oh > 14 || om > 59 {
					return lo, hi, false
				}
				off = oh*3600 + om*60
				if s[i] == '-' {
					off = -off
				}
				i += 6
			default:
				return lo, hi, false
			}
		}
		if i != len(s) {
			return lo, hi, false
		}
	}
	lo = time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	var end time.Time
	if step > 0 {
		end = lo.Add(step)
	} else {
		end = lo.AddDate(years, months, days)
	}
	shift := -time.Duration(off) * time.Second
	return lo.Add(shift), end.Add(shift - time.Microsecond), true
}

func daysIn(year, month int) int {
	switch month {
	case 4, 6, 9, 11:
		return 30
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	}
	return 31
}
