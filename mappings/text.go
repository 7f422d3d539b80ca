package mappings

import (
	"strings"
	"unicode/utf8"

	"github.com/fhirhub/fhirhub/fhir"
)

// This file keeps message text within what FHIR strings may hold (R4
// datatypes.html#string): no control characters other than tab, carriage
// return and line feed, and valid UTF-8. Messages can carry others (an
// escaped \X00\, a stray framing byte); they carry no meaning, so they are
// dropped, the same way in resources and in the search criteria that must
// match them.

// cleanText returns s without the characters a FHIR string must not hold.
func cleanText(s string) string {
	ok := utf8.ValidString(s)
	for i := 0; ok && i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			ok = false
		}
	}
	if ok {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r < ' ' && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// cleanAll applies cleanText to every string in v, in place, and drops
// the strings, objects and arrays that it leaves empty (FHIR has no empty
// values); it returns v, or nil when v itself is left empty. Keys are
// cleaned where they are read (see identifierFromCX), so that a criteria
// and the content it must match are made of the same text.
func cleanAll(v any) any {
	switch x := v.(type) {
	case string:
		if c := cleanText(x); c != "" {
			return c
		}
		return nil
	case fhir.Object:
		for k, e := range x {
			if c := cleanAll(e); c != nil {
				x[k] = c
			} else if e != nil { // a JSON null (in a patch) stays
				delete(x, k)
			}
		}
		if len(x) == 0 {
			return nil
		}
	case []any:
		out := x[:0]
		for _, e := range x {
			if c := cleanAll(e); c != nil {
				out = append(out, c)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	return v
}

// cleanPatch cleans the values of JSON Patch operations and drops the
// operations whose value cleaning leaves empty (an "add" of nothing).
func cleanPatch(ops []any) []any {
	out := ops[:0]
	for _, o := range ops {
		op, ok := o.(fhir.Object)
		if !ok {
			continue
		}
		if v, has := op["value"]; has && v != nil {
			c := cleanAll(v)
			if c == nil {
				continue
			}
			op["value"] = c
		}
		out = append(out, op)
	}
	return out
}
