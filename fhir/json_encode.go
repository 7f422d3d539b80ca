package fhir

import (
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"
)

// MarshalJSON encodes v (as returned by ParseJSON, or built from the same
// value kinds) in fhirhub's canonical form: no insignificant whitespace;
// object keys with "resourceType", "id" and "meta" first, then in
// alphabetical order, each "_x" primitive-extension key right after "x";
// numbers exactly as parsed. Encoding the same value twice yields the same
// bytes, so stored JSON can be compared byte for byte.
func MarshalJSON(v any) []byte {
	return AppendJSON(make([]byte, 0, 1024), v)
}

// AppendJSON appends the canonical encoding of v to dst.
func AppendJSON(dst []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...)
	case bool:
		if x {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case string:
		return appendString(dst, x)
	case json.Number:
		return append(dst, x...)
	case float64:
		return strconv.AppendFloat(dst, x, 'f', -1, 64)
	case int:
		return strconv.AppendInt(dst, int64(x), 10)
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case []any:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendJSON(dst, e)
		}
		return append(dst, ']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, compareKeys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, k)
			dst = append(dst, ':')
			dst = AppendJSON(dst, x[k])
		}
		return append(dst, '}')
	case []map[string]any:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendJSON(dst, e)
		}
		return append(dst, ']')
	case []string:
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, e)
		}
		return append(dst, ']')
	case json.RawMessage:
		return append(dst, x...)
	default:
		// Values of other Go types are encoded with encoding/json: they come
		// from our own code (never from a request), so an error is a bug.
		b, err := json.Marshal(x)
		if err != nil {
			panic("fhir: cannot encode value: " + err.Error())
		}
		return append(dst, b...)
	}
}

func keyRank(k string) int {
	switch k {
	case "resourceType":
		return 0
	case "id":
		return 1
	case "meta":
		return 2
	}
	return 3
}

func compareKeys(a, b string) int {
	ra, rb := keyRank(a), keyRank(b)
	if ra != rb {
		return ra - rb
	}
	a0, b0 := a, b
	if len(a0) > 0 && a0[0] == '_' {
		a0 = a0[1:]
	}
	if len(b0) > 0 && b0[0] == '_' {
		b0 = b0[1:]
	}
	if a0 != b0 {
		if a0 < b0 {
			return -1
		}
		return 1
	}
	// "x" before "_x"
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

const hexDigits = "0123456789abcdef"

func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
