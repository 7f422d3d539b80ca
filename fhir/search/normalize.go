package search

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Normalize returns the form in which string search parameters are
// compared (R4 search.html#string: "case and accent insensitive"): lower
// case, diacritics removed (canonical decomposition, NFD, then dropping
// the non-spacing marks: "Müller" -> "muller", "ÉLODIE" -> "elodie"), a few
// letters that do not decompose folded to their base letters (ø, ł, đ, ħ,
// ı; æ, œ and ß to ae, oe and ss), and every run of white space made one
// space, without leading or trailing space. ASCII input takes a fast path
// without decomposition.
func Normalize(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	var b strings.Builder
	b.Grow(len(s))
	pending := false // a space is due before the next character
	if ascii {
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
				pending = b.Len() > 0
				continue
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			}
			if pending {
				b.WriteByte(' ')
				pending = false
			}
			b.WriteByte(c)
		}
		return b.String()
	}
	var it norm.Iter
	it.InitString(norm.NFD, s)
	for !it.Done() {
		seg := it.Next()
		for len(seg) > 0 {
			r, n := utf8.DecodeRune(seg)
			seg = seg[n:]
			switch {
			case unicode.IsSpace(r):
				pending = b.Len() > 0
				continue
			case unicode.Is(unicode.Mn, r):
				continue
			}
			if pending {
				b.WriteByte(' ')
				pending = false
			}
			r = unicode.ToLower(r)
			if f, ok := folds[r]; ok {
				b.WriteString(f)
			} else {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// folds are lower-case letters with a stroke or ligatures, which have no
// canonical decomposition.
var folds = map[rune]string{
	'ø': "o", 'ł': "l", 'đ': "d", 'ħ': "h", 'ı': "i",
	'æ': "ae", 'œ': "oe", 'ß': "ss",
}
