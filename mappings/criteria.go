package mappings

import (
	"slices"
	"strings"

	"github.com/fhirhub/fhirhub/fhir"
)

// This file builds the search criteria of conditional entries
// ("Patient?identifier=system|value"): the business keys that make a
// mapping idempotent. FHIR R4 search.html#escaping says "\", ",", "$" and
// "|" inside a value are escaped with "\"; the URL then carries the text
// percent-encoded where url.ParseQuery would otherwise misread it.

// token is a system|value pair of a token search parameter.
type token struct{ system, value string }

// tokenOf returns the token of an Identifier made by this package.
func tokenOf(id fhir.Object) token {
	s, _ := id["system"].(string)
	v, _ := id["value"].(string)
	return token{s, v}
}

// criteria returns "param=t1,t2" (FHIR OR), the tokens escaped; "" when
// there is no token.
func criteria(param string, ts ...token) string {
	var b strings.Builder
	for i, t := range ts {
		t.system, t.value = cleanText(t.system), cleanText(t.value)
		if t.value == "" || slices.ContainsFunc(ts[:i], func(u token) bool { return cleanText(u.system) == t.system && cleanText(u.value) == t.value }) {
			continue
		}
		if b.Len() == 0 {
			b.WriteString(param)
			b.WriteByte('=')
		} else {
			b.WriteByte(',')
		}
		if t.system != "" {
			b.WriteString(queryEscape(searchEscape(t.system)))
			b.WriteByte('|')
		}
		b.WriteString(queryEscape(searchEscape(t.value)))
	}
	return b.String()
}

// searchEscape escapes the characters FHIR search gives a meaning inside
// a parameter value.
func searchEscape(s string) string {
	if !strings.ContainsAny(s, `\,$|`) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\', ',', '$', '|':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// queryEscape percent-encodes what url.ParseQuery would misread (%, &, +,
// ;, #, =), white space, control characters and non-ASCII bytes, and keeps
// the rest readable.
func queryEscape(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c <= ' ' || c >= 0x7f || strings.IndexByte("%&+;#=", c) >= 0:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
