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
	emit := func(r rune) {
		switch {
		case unicode.IsSpace(r):
			pending = b.Len() > 0
			return
		case unicode.Is(unicode.Mn, r):
			return
		}
		if pending {
			b.WriteByte(' ')
			pending = false
		}
		r = unicode.ToLower(r)
		if f := fold(r); f != "" {
			b.WriteString(f)
		} else {
			b.WriteRune(r)
		}
	}
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			emit(rune(c))
			i++
			continue
		}
		// The canonical decomposition of one character (NFD; the order
		// of combining marks does not matter as they are all dropped).
		p := norm.NFD.PropertiesString(s[i:])
		if r, n := utf8.DecodeRuneInString(s[i:]); r >= hangulFirst && r <= hangulLast {
			// Hangul syllables decompose algorithmically (Unicode 3.12).
			si := r - hangulFirst
			emit(0x1100 + si/588)
			emit(0x1161 + si%588/28)
			if t := si % 28; t != 0 {
				emit(0x11A7 + t)
			}
			i += n
			continue
		}
		if d := p.Decomposition(); d != nil {
			for len(d) > 0 {
				r, n := utf8.DecodeRune(d)
				emit(r)
				d = d[n:]
			}
		} else {
			r, _ := utf8.DecodeRuneInString(s[i:])
			emit(r)
		}
		i += max(p.Size(), 1)
	}
	return b.String()
}

// The precomposed Hangul syllables.
const hangulFirst, hangulLast = 0xAC00, 0xD7A3

// fold maps lower-case letters with a stroke, and ligatures, which have
// no canonical decomposition.
func fold(r rune) string {
	switch r {
	case 'ø':
		return "o"
	case 'ł':
		return "l"
	case 'đ':
		return "d"
	case 'ħ':
		return "h"
	case 'ı':
		return "i"
	case 'æ':
		return "ae"
	case 'œ':
		return "oe"
	case 'ß':
		return "ss"
	}
	return ""
}
