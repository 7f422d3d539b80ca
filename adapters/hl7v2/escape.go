package hl7v2

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"
)

// decode resolves the escape sequences of one leaf (HL7 v2.5.1 section
// 2.7 "Use of escape sequences in text fields") and converts it to UTF-8.
//
// \F\ \S\ \T\ \R\ \E\ and \P\ become the delimiter they name; \Xhh..\
// becomes the bytes hh.. in the message's character set. Formatting
// commands (\.br\ \.sp n\ \.sk n\ \.ce\ \.in n\ \.ti n\ \.fi\ \.nf\ \H\ \N\)
// are kept as written unless text is set, when they are rendered: line
// breaks for .br .sp and .ce, spaces for .sk, nothing for the others.
// Character set switches (\C..\ \M..\), locally defined sequences (\Z..\),
// unknown sequences and an escape character without a closing one are
// kept as literal text.
func (m *Message) decode(b []byte, text bool) string {
	esc := m.delims.Escape
	if esc == 0 || bytes.IndexByte(b, esc) < 0 {
		if !m.high || !hasHigh(b) || m.charset == CharsetUTF8 && utf8.Valid(b) {
			return string(b)
		}
		return string(appendUTF8(make([]byte, 0, len(b)+8), b, m.charset))
	}
	buf := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		c := b[i]
		if c != esc {
			buf = append(buf, c)
			i++
			continue
		}
		j := bytes.IndexByte(b[i+1:], esc)
		if j < 0 {
			buf = append(buf, b[i:]...)
			break
		}
		end := i + 1 + j + 1
		var ok bool
		buf, ok = m.appendEscape(buf, b[i+1:end-1], text)
		if !ok {
			buf = append(buf, b[i:end]...)
		}
		i = end
	}
	return string(appendUTF8(make([]byte, 0, len(buf)+8), buf, m.charset))
}

// appendEscape appends the meaning of the escape sequence seq (without
// its escape characters) to buf; ok is false when seq is to be kept
// literally.
func (m *Message) appendEscape(buf, seq []byte, text bool) ([]byte, bool) {
	d := m.delims
	if len(seq) == 1 {
		var c byte
		switch seq[0] {
		case 'F':
			c = d.Field
		case 'S':
			c = d.Component
		case 'T':
			c = d.Subcomponent
		case 'R':
			c = d.Repetition
		case 'E':
			c = d.Escape
		case 'P':
			c = d.Truncation
		case 'H', 'N':
			if text {
				return buf, true
			}
			return buf, false
		}
		if c == 0 {
			return buf, false
		}
		return append(buf, c), true
	}
	if len(seq) == 0 {
		return buf, false
	}
	switch seq[0] {
	case 'X':
		hex := seq[1:]
		if len(hex) == 0 || len(hex)%2 != 0 {
			return buf, false
		}
		start := len(buf)
		for k := 0; k < len(hex); k += 2 {
			hi, ok1 := unhex(hex[k])
			lo, ok2 := unhex(hex[k+1])
			if !ok1 || !ok2 {
				return buf[:start], false
			}
			buf = append(buf, hi<<4|lo)
		}
		return buf, true
	case '.':
		if !text {
			return buf, false
		}
		cmd, arg := formatCommand(seq[1:])
		switch cmd {
		case "br":
			return append(buf, '\n'), true
		case "sp":
			n := countArg(arg, 1)
			for k := 0; k <= n; k++ {
				buf = append(buf, '\n')
			}
			return buf, true
		case "ce":
			return append(buf, '\n'), true
		case "sk":
			n := countArg(arg, 1)
			for k := 0; k < n; k++ {
				buf = append(buf, ' ')
			}
			return buf, true
		case "fi", "nf", "in", "ti":
			return buf, true
		}
	}
	return buf, false
}

// formatCommand splits ".sp 2" style commands (without the dot) into the
// two-letter command and its argument.
func formatCommand(s []byte) (cmd, arg string) {
	if len(s) < 2 {
		return "", ""
	}
	return string(s[:2]), strings.TrimSpace(string(s[2:]))
}

// countArg reads a small non-negative count; anything else is def. The
// count is capped so that a hostile \.sp 999999999\ stays cheap.
func countArg(s string, def int) int {
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(strings.TrimPrefix(s, "+"))
	if err != nil || n < 0 {
		return def
	}
	return min(n, 100)
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

const hexDigits = "0123456789ABCDEF"

// appendEscaped appends s, a UTF-8 string, to dst as an escaped ER7 value
// in charset c: each delimiter becomes its escape sequence (\F\ \S\ \T\
// \R\ \E\ \P\) and CR and LF become \X0D\ and \X0A\, so that reading the
// value back gives s again. A character c cannot hold becomes '?'. Without
// a declared escape character a delimiter (or line break) cannot be
// escaped and becomes a space, which is never a delimiter.
func appendEscaped(dst []byte, s string, d Delimiters, c Charset) []byte {
	for i := 0; i < len(s); {
		x := s[i]
		if x >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			i += n
			before := len(dst)
			dst = appendCharset(dst, r, c)
			if len(dst) != before+1 || dst[before] != '?' {
				continue
			}
			// The replacement '?' may itself be a delimiter.
			dst = dst[:before]
		} else {
			i++
		}
		if x >= utf8.RuneSelf {
			x = '?'
		}
		code := delimiterCode(x, d)
		if x == '\r' || x == '\n' {
			code = 'X'
		}
		switch {
		case code == 0:
			dst = append(dst, x)
		case d.Escape == 0:
			dst = append(dst, ' ')
		case code == 'X':
			dst = append(dst, d.Escape, 'X', hexDigits[x>>4], hexDigits[x&15], d.Escape)
		default:
			dst = append(dst, d.Escape, code, d.Escape)
		}
	}
	return dst
}

// delimiterCode returns the escape code of delimiter x (F S T R E P), or 0
// when x is not one of d's.
func delimiterCode(x byte, d Delimiters) byte {
	switch x {
	case 0:
		return 0
	case d.Field:
		return 'F'
	case d.Component:
		return 'S'
	case d.Subcomponent:
		return 'T'
	case d.Repetition:
		return 'R'
	case d.Escape:
		return 'E'
	case d.Truncation:
		return 'P'
	}
	return 0
}

// Escape returns s escaped for a value of m: delimiters as escape
// sequences, line breaks as \X0D\ and \X0A\, text in m's character set.
func (m *Message) Escape(s string) string {
	return string(appendEscaped(nil, s, m.delims, m.charset))
}
