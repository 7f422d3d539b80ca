package hl7v2

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeEscapes(t *testing.T) {
	tests := []struct {
		name       string
		msh        string // MSH-1 and MSH-2
		raw        string // ZZZ-1 as written
		str, text  string
		decodedRaw bool // String keeps raw text
	}{
		{"plain", `|^~\&`, `abc`, "abc", "abc", false},
		{"delimiters", `|^~\&`, `a\F\b\S\c\T\d\R\e\E\f`, `a|b^c&d~e\f`, `a|b^c&d~e\f`, false},
		{"truncation declared", `|^~\&#`, `cut\P\`, "cut#", "cut#", false},
		{"truncation undeclared", `|^~\&`, `cut\P\`, `cut\P\`, `cut\P\`, false},
		{"hex ASCII", `|^~\&`, `\X414243\`, "ABC", "ABC", false},
		{"hex UTF-8 pair", `|^~\&`, `caf\XC3A9\`, "café", "café", false},
		{"hex split UTF-8", `|^~\&`, `caf\XC3\\XA9\`, "café", "café", false},
		{"hex line break", `|^~\&`, `a\X0D0A\b`, "a\r\nb", "a\r\nb", false},
		{"hex lower case", `|^~\&`, `\x41\`, `\x41\`, `\x41\`, false},
		{"hex odd digits", `|^~\&`, `\X414\`, `\X414\`, `\X414\`, false},
		{"hex not hex", `|^~\&`, `\XZZ\`, `\XZZ\`, `\XZZ\`, false},
		{"line break", `|^~\&`, `one\.br\two`, `one\.br\two`, "one\ntwo", false},
		{"space command", `|^~\&`, `one\.sp 2\two`, `one\.sp 2\two`, "one\n\n\ntwo", false},
		{"skip command", `|^~\&`, `a\.sk 3\b`, `a\.sk 3\b`, "a   b", false},
		{"centre and fill", `|^~\&`, `a\.ce\b\.fi\c\.nf\d\.in +4\e\.ti -2\f`, `a\.ce\b\.fi\c\.nf\d\.in +4\e\.ti -2\f`, "a\nbcdef", false},
		{"highlight", `|^~\&`, `\H\bold\N\ text`, `\H\bold\N\ text`, "bold text", false},
		{"huge space count", `|^~\&`, `a\.sp 999999999\b`, `a\.sp 999999999\b`, "a" + strings.Repeat("\n", 101) + "b", false},
		{"unterminated", `|^~\&`, `C:\temp`, `C:\temp`, `C:\temp`, false},
		{"unknown sequence", `|^~\&`, `a\Q\b`, `a\Q\b`, `a\Q\b`, false},
		{"charset switch kept", `|^~\&`, `\C2842\x`, `\C2842\x`, `\C2842\x`, false},
		{"local sequence kept", `|^~\&`, `\Zabc\x`, `\Zabc\x`, `\Zabc\x`, false},
		{"empty sequence", `|^~\&`, `a\\b`, `a\\b`, `a\\b`, false},
		{"custom escape", `!@*?%`, `a?F?b?S?c?E?`, `a!b@c?`, `a!b@c?`, false},
		{"no escape character", `|^~`, `a\F\b`, `a\F\b`, `a\F\b`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := tt.msh[:1]
			m := MustParse(t, "MSH"+tt.msh+"\rZZZ"+fs+tt.raw+"\r")
			v := MustGet(t, m, "ZZZ-1")
			assert.Equal(t, tt.raw, v.Raw())
			assert.Equal(t, tt.str, v.String())
			assert.Equal(t, tt.text, v.Text())
		})
	}
}

func TestCharsets(t *testing.T) {
	tests := []struct {
		name    string
		msh18   string
		value   []byte
		want    string
		charset Charset
	}{
		{"UTF-8 declared", "UNICODE UTF-8", []byte("Zoë"), "Zoë", CharsetUTF8},
		{"UTF-8 undeclared", "", []byte("Zoë"), "Zoë", CharsetUTF8},
		{"8859/1 declared", "8859/1", []byte("Zo\xeb"), "Zoë", CharsetLatin1},
		{"8859/1 declared, hex escape", "8859/1", []byte(`Zo\XEB\`), "Zoë", CharsetLatin1},
		{"ISO IR100", "ISO IR100", []byte("Zo\xeb"), "Zoë", CharsetLatin1},
		{"8859/15 euro", "8859/15", []byte("5 \xa4"), "5 €", CharsetLatin9},
		{"undeclared 8-bit is 8859/1", "", []byte("Zo\xeb"), "Zoë", CharsetLatin1},
		{"ASCII declared, 8-bit is 8859/1", "ASCII", []byte("Zo\xeb"), "Zoë", CharsetLatin1},
		{"UTF-8 declared but 8-bit is 8859/1", "UNICODE UTF-8", []byte("Zo\xeb"), "Zoë", CharsetLatin1},
		{"unsupported set, UTF-8 bytes", "ISO IR87", []byte("Zoë"), "Zoë", CharsetUTF8},
		{"UTF-8 hex escape not UTF-8", "", []byte(`Zo\XEB\`), "Zoë", CharsetUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := append([]byte("MSH|^~\\&|||||||ADT^A01|1|P|2.5||||||"+tt.msh18+"\rPID|||"), tt.value...)
			m, err := Parse(data)
			require.NoError(t, err)
			assert.Equal(t, tt.charset, m.Charset())
			assert.Equal(t, tt.want, MustGet(t, m, "PID-3").String())
		})
	}
}

func TestCharsetFor(t *testing.T) {
	for in, want := range map[string]Charset{"": CharsetUTF8, "ASCII": CharsetUTF8, "8859/1": CharsetLatin1,
		" 8859/15 ": CharsetLatin9, "unicode utf-8": CharsetUTF8} {
		c, ok := CharsetFor(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, c, in)
	}
	_, ok := CharsetFor("ISO IR87")
	assert.False(t, ok)
}

func TestLatin1Testdata(t *testing.T) {
	m := MustReadTestdata(t, "adt_a03_discharge_latin1.hl7")
	assert.Equal(t, CharsetLatin1, m.Charset())
	assert.Equal(t, "Lefèvre", MustGet(t, m, "PID-5.1").String())
	assert.Equal(t, "Anaïs", MustGet(t, m, "PID-5.2").String())
	assert.Equal(t, "3 Rue de l\\Église", MustGet(t, m, "PID-11.1").String())
	assert.Equal(t, "Évolution favorable\nContrôle à J+10 & ablation des fils", MustGet(t, m, "OBX-5").Text())
}

func TestEscape(t *testing.T) {
	m := MustParse(t, "MSH|^~\\&#|\r")
	assert.Equal(t, `a\F\b\S\c\R\d\E\e\T\f\P\`, m.Escape(`a|b^c~d\e&f#`))
	assert.Equal(t, `line\X0D\\X0A\next`, m.Escape("line\r\nnext"))
	assert.Equal(t, "Zoë 中", m.Escape("Zoë 中"))

	latin := MustParse(t, "MSH|^~\\&"+strings.Repeat("|", 16)+"8859/1\r")
	assert.Equal(t, "Zo\xeb ?", latin.Escape("Zoë 中"))

	latin9 := MustParse(t, "MSH|^~\\&"+strings.Repeat("|", 16)+"8859/15\r")
	assert.Equal(t, "\xa4 ? \xe9", latin9.Escape("€ ¤ é"))

	noEsc := MustParse(t, "MSH|^~|\r")
	assert.Equal(t, "a b  c", noEsc.Escape("a|b^\nc"), "no escape character: delimiters become spaces")
	noEscQ := MustParse(t, "MSH?("+strings.Repeat("?", 16)+"8859/1\r")
	assert.Equal(t, "a  b", noEscQ.Escape("a?中b"), "the replacement for 中 is '?', a delimiter here")

	custom := MustParse(t, "MSH!@*?%"+strings.Repeat("!", 16)+"8859/1\r")
	assert.Equal(t, CharsetLatin1, custom.Charset())
	assert.Equal(t, "Zo\xeb ?E? ?F?", custom.Escape("Zoë 中 !"), "'?' is the escape character here")
}

// TestEscapeUUEncoded reads hapi's escaped uuencoded file as a field
// value: it decodes to the uuencoded text and escapes back to the same
// bytes.
func TestEscapeUUEncoded(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(externalDir(t, "hl7v2"), "hapi-hl7v2", "uuencoded_escaped.txt"))
	require.NoError(t, err)
	m, err := NewMessage(DefaultDelimiters())
	require.NoError(t, err)
	_, err = m.AddSegment("OBX")
	require.NoError(t, err)
	require.NoError(t, m.SetRaw("OBX-5", string(data)))
	text := MustGet(t, m, "OBX-5").String()
	assert.True(t, strings.HasPrefix(text, "begin 644 WAV.DAT\r\nM)5!$1BTQ"), text[:40])
	assert.Equal(t, string(data), m.Escape(text))
}
