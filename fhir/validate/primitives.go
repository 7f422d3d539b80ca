package validate

import "strconv"

// primitiveChecks are the format checks of the primitive types
// (datatypes.html#primitive), written out so that the hot ones cost a few
// nanoseconds instead of a regexp match. Each returns "" for a valid value
// (never empty: emptiness is checked before) or what is wrong with it.
// TestPrimitiveChecksMatchSpecRegex holds them to the regexes of the
// specification; where they are stricter, the specification's text says so
// (dates SHALL be valid dates, strings SHALL NOT hold control characters).
var primitiveChecks = map[string]func(string) string{
	"string":       checkString,
	"markdown":     checkString,
	"xhtml":        checkString,
	"code":         checkCode,
	"id":           checkID,
	"uri":          checkURI,
	"url":          checkURI,
	"canonical":    checkURI,
	"oid":          checkOID,
	"uuid":         checkUUID,
	"date":         checkDate,
	"dateTime":     checkDateTime,
	"instant":      checkInstant,
	"time":         checkTime,
	"decimal":      checkDecimal,
	"integer":      checkInteger,
	"unsignedInt":  checkUnsignedInt,
	"positiveInt":  checkPositiveInt,
	"base64Binary": checkBase64,
	"boolean":      func(string) string { return "" }, // a JSON boolean, checked by kind
}

// maxString is the largest string FHIR allows (datatypes.html#string: 1 MB).
const maxString = 1 << 20

// checkString: no control characters but tab, CR and LF, and at most 1 MB.
func checkString(s string) string {
	if len(s) > maxString {
		return "longer than 1 MB"
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return "holds a control character"
		}
	}
	return ""
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// checkCode: [^\s]+(\s[^\s]+)* — no leading, trailing or double whitespace.
func checkCode(s string) string {
	if isSpace(s[0]) || isSpace(s[len(s)-1]) {
		return "a code must not start or end with whitespace"
	}
	for i := 1; i < len(s); i++ {
		if isSpace(s[i]) && isSpace(s[i-1]) {
			return "a code must not hold consecutive whitespace"
		}
	}
	return ""
}

// checkID: [A-Za-z0-9\-\.]{1,64}.
func checkID(s string) string {
	if len(s) > 64 {
		return "an id has at most 64 characters"
	}
	for i := 0; i < len(s); i++ {
		if !idChar(s[i]) {
			return "an id holds only letters, digits, '-' and '.'"
		}
	}
	return ""
}

func idChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.'
}

// checkURI: \S* — no whitespace.
func checkURI(s string) string {
	for i := 0; i < len(s); i++ {
		if isSpace(s[i]) {
			return "a URI must not hold whitespace"
		}
	}
	return ""
}

// checkOID: urn:oid:[0-2](\.(0|[1-9][0-9]*))+.
func checkOID(s string) string {
	const bad = "not an OID (urn:oid:1.2.3)"
	const prefix = "urn:oid:"
	if len(s) < len(prefix)+3 || s[:len(prefix)] != prefix {
		return bad
	}
	s = s[len(prefix):]
	if s[0] < '0' || s[0] > '2' {
		return bad
	}
	i := 1
	if i == len(s) {
		return bad
	}
	for i < len(s) {
		if s[i] != '.' || i+1 == len(s) {
			return bad
		}
		i++
		start := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == start || (s[start] == '0' && i-start > 1) {
			return bad
		}
	}
	return ""
}

// checkUUID: urn:uuid: and a lowercase 8-4-4-4-12 hex UUID.
func checkUUID(s string) string {
	const bad = "not a UUID (urn:uuid: and lowercase hex 8-4-4-4-12)"
	const prefix = "urn:uuid:"
	if len(s) != len(prefix)+36 || s[:len(prefix)] != prefix {
		return bad
	}
	u := s[len(prefix):]
	for i := 0; i < 36; i++ {
		c := u[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return bad
			}
		default:
			if !(isDigit(c) || c >= 'a' && c <= 'f') {
				return bad
			}
		}
	}
	return ""
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// digits returns the value of s[i:i+n] when it is n digits, else -1.
func digits(s string, i, n int) int {
	if i+n > len(s) {
		return -1
	}
	v := 0
	for _, c := range []byte(s[i : i+n]) {
		if !isDigit(c) {
			return -1
		}
		v = v*10 + int(c-'0')
	}
	return v
}

// datePart parses YYYY, YYYY-MM or YYYY-MM-DD at the start of s and
// returns how many bytes it took and whether the day was there, or n == 0
// when s does not start with a valid date. Dates SHALL be valid dates
// (datatypes.html#date): year 0001-9999, month 01-12, a day the month has.
func datePart(s string) (n int, full bool) {
	year := digits(s, 0, 4)
	if year < 1 {
		return 0, false
	}
	if len(s) == 4 || s[4] != '-' {
		return 4, false
	}
	month := digits(s, 5, 2)
	if month < 1 || month > 12 {
		return 0, false
	}
	if len(s) == 7 || s[7] != '-' {
		return 7, false
	}
	day := digits(s, 8, 2)
	if day < 1 || day > daysIn(year, month) {
		return 0, false
	}
	return 10, true
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// timePart parses hh:mm:ss(.f+)? at the start of s (leap second 60 allowed)
// and returns its length, or 0.
func timePart(s string) int {
	h, m, sec := digits(s, 0, 2), digits(s, 3, 2), digits(s, 6, 2)
	if len(s) < 8 || s[2] != ':' || s[5] != ':' || h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 60 {
		return 0
	}
	n := 8
	if n < len(s) && s[n] == '.' {
		n++
		start := n
		for n < len(s) && isDigit(s[n]) {
			n++
		}
		if n == start {
			return 0
		}
	}
	return n
}

// zoneValid reports whether s is exactly Z or +hh:mm/-hh:mm up to 14:00.
func zoneValid(s string) bool {
	if s == "Z" {
		return true
	}
	if len(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' {
		return false
	}
	h, m := digits(s, 1, 2), digits(s, 4, 2)
	if h < 0 || m < 0 || m > 59 {
		return false
	}
	return h <= 13 || h == 14 && m == 0
}

func checkDate(s string) string {
	if n, _ := datePart(s); n == 0 || n != len(s) {
		return "not a valid date (YYYY, YYYY-MM or YYYY-MM-DD)"
	}
	return ""
}

// checkDateTime: a date, or a full date with a time to the second and a
// time zone (datatypes.html#dateTime).
func checkDateTime(s string) string {
	const bad = "not a valid dateTime (YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with a time zone)"
	n, full := datePart(s)
	if n == 0 {
		return bad
	}
	if n == len(s) {
		return ""
	}
	if !full || s[n] != 'T' {
		return bad
	}
	t := timePart(s[n+1:])
	if t == 0 || !zoneValid(s[n+1+t:]) {
		return bad
	}
	return ""
}

// checkInstant: a full date, a time to the second and a time zone.
func checkInstant(s string) string {
	const bad = "not a valid instant (YYYY-MM-DDThh:mm:ss(.sss) with a time zone)"
	n, full := datePart(s)
	if !full || n == len(s) || s[n] != 'T' {
		return bad
	}
	t := timePart(s[n+1:])
	if t == 0 || !zoneValid(s[n+1+t:]) {
		return bad
	}
	return ""
}

func checkTime(s string) string {
	if n := timePart(s); n == 0 || n != len(s) {
		return "not a valid time (hh:mm:ss)"
	}
	return ""
}

// checkDecimal: every JSON number is a valid decimal; the check matters
// for numbers that reach the validator in other forms.
func checkDecimal(s string) string {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == start || (s[start] == '0' && i-start > 1) {
		return "not a valid decimal"
	}
	if i < len(s) && s[i] == '.' {
		i++
		f := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == f {
			return "not a valid decimal"
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		e := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == e {
			return "not a valid decimal"
		}
	}
	if i != len(s) {
		return "not a valid decimal"
	}
	return ""
}

// integerValue parses -?(0|[1-9][0-9]*) within 32 bits.
func integerValue(s string) (int64, bool) {
	i := 0
	if s[0] == '-' {
		i = 1
	}
	if i == len(s) || len(s)-i > 10 || (s[i] == '0' && len(s)-i > 1) {
		return 0, false
	}
	for j := i; j < len(s); j++ {
		if !isDigit(s[j]) {
			return 0, false
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < -1<<31 || v > 1<<31-1 {
		return 0, false
	}
	return v, true
}

func checkInteger(s string) string {
	if _, ok := integerValue(s); !ok {
		return "not an integer in -2147483648..2147483647"
	}
	return ""
}

func checkUnsignedInt(s string) string {
	if v, ok := integerValue(s); !ok || v < 0 || s[0] == '-' {
		return "not an unsignedInt in 0..2147483647"
	}
	return ""
}

func checkPositiveInt(s string) string {
	if v, ok := integerValue(s); !ok || v < 1 {
		return "not a positiveInt in 1..2147483647"
	}
	return ""
}

// checkBase64: (\s*([0-9a-zA-Z\+/=]){4}\s*)+ — groups of four base64
// characters, whitespace allowed between groups only.
func checkBase64(s string) string {
	i, groups := 0, 0
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i == len(s) {
			break
		}
		for k := 0; k < 4; k++ {
			if i >= len(s) || !base64Char(s[i]) {
				return "not valid base64"
			}
			i++
		}
		groups++
	}
	if groups == 0 {
		return "not valid base64"
	}
	return ""
}

func base64Char(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '='
}
