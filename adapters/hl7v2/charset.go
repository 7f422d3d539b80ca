package hl7v2

import (
	"strings"
	"unicode/utf8"
)

// Charset is the character set a message's values are decoded from and
// encoded to; decoded values are always UTF-8 Go strings.
type Charset uint8

// Supported character sets.
const (
	// CharsetUTF8 is UNICODE UTF-8; ASCII is its subset.
	CharsetUTF8 Charset = iota
	// CharsetLatin1 is ISO 8859-1 (MSH-18 "8859/1", "ISO IR100").
	CharsetLatin1
	// CharsetLatin9 is ISO 8859-15 (MSH-18 "8859/15").
	CharsetLatin9
)

func (c Charset) String() string {
	switch c {
	case CharsetLatin1:
		return "8859/1"
	case CharsetLatin9:
		return "8859/15"
	}
	return "UNICODE UTF-8"
}

// CharsetFor maps an MSH-18 value (HL7 table 0211) to a Charset. ok is
// false for a value this package does not decode (ISO 2022 sets, UTF-16,
// GB 18030 ...); "" and "ASCII" map to CharsetUTF8.
func CharsetFor(msh18 string) (c Charset, ok bool) {
	switch strings.ToUpper(strings.TrimSpace(msh18)) {
	case "", "ASCII", "ISO IR6", "UNICODE UTF-8", "UTF-8", "UTF8":
		return CharsetUTF8, true
	case "8859/1", "ISO IR100", "ISO-8859-1", "ISO_IR 100":
		return CharsetLatin1, true
	case "8859/15", "ISO-8859-15":
		return CharsetLatin9, true
	}
	return CharsetUTF8, false
}

// detectCharset decides the character set of a parsed message from the
// first repetition of MSH-18. A message declaring 8859/1 or 8859/15 is
// read in that set. Any other message is read as UTF-8 when its bytes are
// valid UTF-8 and as 8859/1 when they are not: undeclared (or ASCII, or
// unsupported) 8-bit text is far more often Latin-1 than anything else.
func detectCharset(m *Message) Charset {
	declared := m.SegmentAt(0).Field(18).String()
	if c, ok := CharsetFor(declared); ok && c != CharsetUTF8 {
		return c
	}
	if !m.high || utf8.Valid(m.raw) {
		return CharsetUTF8
	}
	return CharsetLatin1
}

// latin9 holds the code points where ISO 8859-15 differs from 8859-1.
var latin9 = map[byte]rune{
	0xA4: '€', 0xA6: 'Š', 0xA8: 'š', 0xB4: 'Ž', 0xB8: 'ž', 0xBC: 'Œ', 0xBD: 'œ', 0xBE: 'Ÿ',
}

// appendUTF8 appends b, text in charset c, to dst as UTF-8.
func appendUTF8(dst, b []byte, c Charset) []byte {
	switch c {
	case CharsetUTF8:
		if utf8.Valid(b) {
			return append(dst, b...)
		}
		// Hex escapes can produce bytes that are not UTF-8: read those
		// bytes as Latin-1 rather than losing them.
		for len(b) > 0 {
			r, n := utf8.DecodeRune(b)
			if r == utf8.RuneError && n <= 1 {
				dst = utf8.AppendRune(dst, rune(b[0]))
				b = b[1:]
				continue
			}
			dst = append(dst, b[:n]...)
			b = b[n:]
		}
		return dst
	case CharsetLatin9:
		for _, x := range b {
			if r, ok := latin9[x]; ok {
				dst = utf8.AppendRune(dst, r)
			} else {
				dst = utf8.AppendRune(dst, rune(x))
			}
		}
		return dst
	}
	for _, x := range b {
		if x < 0x80 {
			dst = append(dst, x)
		} else {
			dst = utf8.AppendRune(dst, rune(x))
		}
	}
	return dst
}

// appendCharset appends rune r to dst in charset c; a rune c cannot hold
// becomes '?'.
func appendCharset(dst []byte, r rune, c Charset) []byte {
	switch c {
	case CharsetUTF8:
		return utf8.AppendRune(dst, r)
	case CharsetLatin9:
		for b, x := range latin9 {
			if x == r {
				return append(dst, b)
			}
		}
		if r < 0x100 {
			if _, taken := latin9[byte(r)]; !taken {
				return append(dst, byte(r))
			}
		}
		return append(dst, '?')
	}
	if r < 0x100 {
		return append(dst, byte(r))
	}
	return append(dst, '?')
}

func hasHigh(b []byte) bool {
	for _, x := range b {
		if x >= 0x80 {
			return true
		}
	}
	return false
}
