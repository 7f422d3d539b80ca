package validate

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestPrimitiveChecksMatchSpecRegex holds the hand-written checks to the
// regexes of the specification, on hand-picked values and on a million
// random ones per type drawn from the characters that matter. A check may
// reject what the regex accepts only where the text of datatypes.html is
// stricter than its regex, as excused by stricterThanRegex.
func TestPrimitiveChecksMatchSpecRegex(t *testing.T) {
	v := New()
	samples := map[string][]string{
		"date":         {"2021", "2021-02", "2021-02-28", "2020-02-29", "2021-02-29", "0001", "0000", "99999", "2021-1", "2021-00", "2021-13", "2021-12-32", "2021-04-31", "2021-01-01T00:00:00Z", "1900-02-29", "2000-02-29"},
		"dateTime":     {"2021", "2021-01-01T10:00:00Z", "2021-01-01T10:00:00.1+14:00", "2021-01-01T10:00:00-13:59", "2021-01-01T10:00:00+14:01", "2021-01-01T10:00Z", "2021-01-01T10:00:00", "2021-01T10:00:00Z", "2021-01-01T23:59:60Z", "2021-01-01T24:00:00Z", "2021-01-01T10:00:00.Z", "2021-01-01t10:00:00Z"},
		"instant":      {"2021-01-01T10:00:00Z", "2021-01-01T10:00:00.000+02:00", "2021-01-01", "2021-01-01T10:00:00", "2021-01-01T10:00Z"},
		"time":         {"00:00:00", "23:59:60", "24:00:00", "10:00", "10:00:00.5", "10:00:00.", "1:00:00"},
		"code":         {"a", "a b", "a  b", " a", "a ", "a\tb", "a\t\tb", "ü", "a\nb"},
		"id":           {"a", "A-z.0", strings.Repeat("a", 64), strings.Repeat("a", 65), "a_b", "a b", "ä"},
		"uri":          {"http://x", "urn:uuid:1", "a b", "a\tb", "%zz", "ä"},
		"url":          {"http://x", "a b"},
		"canonical":    {"http://x|1.0", "a b"},
		"oid":          {"urn:oid:1.2.3", "urn:oid:1", "urn:oid:3.1", "urn:oid:1.02", "urn:oid:1.", "1.2.3", "urn:oid:0.0"},
		"uuid":         {"urn:uuid:057aa36e-b892-9964-75b9-ffb46b097e34", "urn:uuid:057AA36E-b892-9964-75b9-ffb46b097e34", "057aa36e-b892-9964-75b9-ffb46b097e34", "urn:uuid:057aa36e-b8929-964-75b9-ffb46b097e34"},
		"decimal":      {"0", "-0", "1.5", "1.50e-3", "1E5", "01", "1.", ".5", "+1", "1e", "-"},
		"integer":      {"0", "-0", "7", "-2147483648", "2147483647", "2147483648", "1.0", "01", "1e2"},
		"unsignedInt":  {"0", "7", "-1", "2147483647", "2147483648", "00"},
		"positiveInt":  {"1", "0", "-1", "2147483647", "2147483648", "01"},
		"base64Binary": {"aGVsbG8=", "aGVs bG8=", "aGV sbG8=", "abc", " aGVs\n", "aGVs!G8="},
		"string":       {"a", "   ", "a\tb\r\nc", "a\fb", "a\x00b", "a\x0bb", "ä"},
		"markdown":     {"# a", "a\x01"},
	}
	for name, values := range samples {
		td := v.t.types[name]
		if td == nil || td.regex == nil {
			t.Fatalf("%s: no regex in the tables", name)
		}
		for _, s := range values {
			comparePrimitive(t, td, s)
		}
	}

	alphabets := map[string]string{
		"date":         "0123456789-",
		"dateTime":     "0123456789-T:.Z+",
		"instant":      "0123456789-T:.Z+",
		"time":         "0123456789:.",
		"code":         "ab \t\n",
		"id":           "aZ09-._ ",
		"uri":          "a:/ \t",
		"oid":          "urn:oid0123.",
		"uuid":         "urn:id0123456789abcdefA-",
		"decimal":      "0123456789-.eE+",
		"integer":      "0123456789-.e",
		"unsignedInt":  "0123456789-",
		"positiveInt":  "0123456789-",
		"base64Binary": "aZ09+/= \n!",
		"string":       "a \t\r\n\f\x00\x0b",
	}
	templates := map[string][]string{
		// Random strings rarely hit the long formats: mutate valid ones.
		"date":     {"2020-02-29", "2021-12-31", "1999-04-30"},
		"dateTime": {"2020-02-29T23:59:59.999+14:00", "2021-01-01T00:00:00Z", "2021-06"},
		"instant":  {"2020-02-29T23:59:60.1-13:59", "2021-01-01T00:00:00Z"},
		"time":     {"23:59:59.999"},
		"oid":      {"urn:oid:1.2.840.10008"},
		"uuid":     {"urn:uuid:057aa36e-b892-9964-75b9-ffb46b097e34"},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 1_000_000
	for name, alphabet := range alphabets {
		td := v.t.types[name]
		for i := 0; i < n/len(alphabets); i++ {
			var s string
			if tpl := templates[name]; len(tpl) > 0 && i%2 == 0 {
				b := []byte(tpl[rng.IntN(len(tpl))])
				for k := rng.IntN(3); k >= 0; k-- {
					b[rng.IntN(len(b))] = alphabet[rng.IntN(len(alphabet))]
				}
				if rng.IntN(4) == 0 {
					b = b[:rng.IntN(len(b))+1]
				}
				s = string(b)
			} else {
				b := make([]byte, 1+rng.IntN(12))
				for k := range b {
					b[k] = alphabet[rng.IntN(len(alphabet))]
				}
				s = string(b)
			}
			if !comparePrimitive(t, td, s) {
				return
			}
		}
	}
}

// comparePrimitive reports whether the check of td and its regex agree on
// s, or disagree only as stricterThanRegex allows.
func comparePrimitive(t *testing.T, td *typeDef, s string) bool {
	t.Helper()
	checkOK := td.check(s) == ""
	regexOK := td.regex.MatchString(s)
	if checkOK == regexOK || (!checkOK && regexOK && stricterThanRegex(td.name, s)) {
		return true
	}
	t.Errorf("%s %q: check accepts %v, regex of the specification accepts %v", td.name, s, checkOK, regexOK)
	return false
}

// stricterThanRegex reports whether the specification's text rejects s,
// which the regex of type name accepts.
func stricterThanRegex(name, s string) bool {
	switch name {
	case "date", "dateTime", "instant":
		// "Dates SHALL be valid dates": the regex allows 2021-02-31.
		d := s
		if len(d) > 10 {
			d = d[:10]
		}
		if len(d) == 10 {
			_, err := time.Parse("2006-01-02", d)
			return err != nil
		}
	case "string", "markdown":
		// No control characters but tab, CR and LF; the regex's \S lets
		// most of them through.
		return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\t' && r != '\r' && r != '\n' })
	case "integer", "unsignedInt", "positiveInt":
		// 32-bit values; the regex has no bound.
		v, err := strconv.ParseInt(s, 10, 64)
		return err != nil || v < -1<<31 || v > 1<<31-1
	}
	return false
}
