package hl7v2

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBuildMessage(t *testing.T) {
	m, err := NewMessage(DefaultDelimiters())
	require.NoError(t, err)
	assert.Equal(t, "MSH|^~\\&\r", string(m.Encode()))
	require.NoError(t, m.Set("MSH-9.1", "ADT"))
	require.NoError(t, m.Set("MSH-9.2", "A01"))
	require.NoError(t, m.Set("MSH-10", "X|1"))
	require.NoError(t, m.SetRaw("MSH-12", "2.5.1"))
	pid, err := m.AddSegment("PID")
	require.NoError(t, err)
	assert.Equal(t, 1, pid.Index())
	require.NoError(t, m.Set("PID-3[2].4.2", "1.2.3"))
	require.NoError(t, m.Set("PID-5", "O'Brien^Seán"))
	require.NoError(t, m.Set("PID-5.2", "Zoë"))
	require.NoError(t, m.Set("PID-3[1]", "A1"))
	assert.Equal(t, lines(
		`MSH|^~\&|||||||ADT^A01|X\F\1||2.5.1`,
		`PID|||A1~^^^&1.2.3||O'Brien\S\Seán^Zoë`,
	), string(m.Encode()))
	assert.Equal(t, "X|1", m.Header().ControlID)

	// Replacing a whole field drops its components; a component keeps the
	// rest.
	require.NoError(t, m.Set("PID-5", "Doe"))
	assert.Equal(t, "Doe", MustGet(t, m, "PID-5").Raw())
	require.NoError(t, m.SetRaw("PID-5", "Doe^Jane^^^Dr"))
	require.NoError(t, m.Set("PID-5.2", ""))
	assert.Equal(t, "Doe^^^^Dr", MustGet(t, m, "PID-5").Raw())
	require.NoError(t, m.SetNull("PID-7"))
	assert.True(t, MustGet(t, m, "PID-7").IsNull())
	require.NoError(t, m.Set("PID-8", `""`))
	assert.False(t, MustGet(t, m, "PID-8").IsNull())
	assert.Equal(t, `""`, MustGet(t, m, "PID-8").String())

	// A second segment of the same name.
	_, err = m.AddSegment("NTE")
	require.NoError(t, err)
	_, err = m.AddSegment("NTE")
	require.NoError(t, err)
	require.NoError(t, m.Set("NTE[2]-3", "second"))
	assert.Equal(t, "NTE|||second", segText(m.Segment("NTE", 2)))
	assert.Equal(t, "NTE", segText(m.Segment("NTE", 1)))
}

// segText returns the ER7 text of a segment.
func segText(s Segment) string { return string(s.Encode()) }

func TestSetErrors(t *testing.T) {
	m, err := NewMessage(DefaultDelimiters())
	require.NoError(t, err)
	_, err = m.AddSegment("PID")
	require.NoError(t, err)
	for _, tt := range []struct {
		name, path, raw string
		set             bool
	}{
		{"missing segment", "OBX-5", "x", true},
		{"MSH-1", "MSH-1", "#", true},
		{"MSH-2", "MSH-2", "^~", true},
		{"bad path", "PID-", "x", true},
		{"field separator in a field", "PID-3", "a|b", false},
		{"repetition in a repetition", "PID-3[1]", "a~b", false},
		{"component in a component", "PID-3.1", "a^b", false},
		{"subcomponent in a subcomponent", "PID-3.1.1", "a&b", false},
		{"line break", "PID-3", "a\rb", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.set {
				assert.Error(t, m.Set(tt.path, tt.raw))
			}
			assert.Error(t, m.SetRaw(tt.path, tt.raw))
		})
	}
	assert.Equal(t, "MSH|^~\\&\rPID\r", string(m.Encode()), "failed sets change nothing")
	for _, name := range []string{"", "MSH", "BHS", "FTS", "A|B", "A\rB", "A^B", "TOOLONGID"} {
		_, err := m.AddSegment(name)
		assert.Error(t, err, name)
	}
	_, err = NewMessage(Delimiters{Field: '|', Component: '|'})
	assert.Error(t, err)
}

// TestSetOnParsedMessage changes a parsed message and keeps the rest of it
// byte for byte.
func TestSetOnParsedMessage(t *testing.T) {
	m := MustReadTestdata(t, "adt_a08_update_custom_delims.hl7")
	before := string(m.Encode())
	require.NoError(t, m.Set("PID-5.2", "Lerato!Grace"))
	require.NoError(t, m.Set("PID-13", "x"))
	after := string(m.Encode())
	assert.Equal(t, "Lerato!Grace", MustGet(t, m, "PID-5.2").String())
	assert.Equal(t, "Mokoena@Lerato?F?Grace@@@Mrs", MustGet(t, m, "PID-5").Raw())
	assert.Equal(t, strings.Replace(strings.Replace(before, "Mokoena@Lerato@", "Mokoena@Lerato?F?Grace@", 1), `!""!`, "!x!", 1), after)
}

// TestPropertyEncodeParse: a message built with random delimiters,
// segments and values (delimiters, escape characters, line breaks and
// non-ASCII text among them) encodes to text that parses back to the same
// values and encodes to the same text again: parse(encode(x)) == x.
func TestPropertyEncodeParse(t *testing.T) {
	delimSets := []Delimiters{
		DefaultDelimiters(),
		{'|', '^', '~', '\\', '&', '#'},
		{'!', '@', '*', '?', '%', 0},
		{'^', '~', '|', '\\', '&', 0},
	}
	alphabet := []rune("abcXYZ019 |^~\\&#!@*?%\r\n\"éÜß€中🙂.-")
	for iter := 0; iter < 300; iter++ {
		r := rand.New(rand.NewPCG(uint64(iter), 7))
		d := delimSets[r.IntN(len(delimSets))]
		latin1 := r.IntN(4) == 0
		m, err := NewMessage(d)
		require.NoError(t, err)
		if latin1 {
			require.NoError(t, m.Set("MSH-18", "8859/1"))
		}
		type key struct{ seg, occ, f, rep, c, s int }
		model := map[key]string{}
		nseg := 1 + r.IntN(5)
		for s := 0; s < nseg; s++ {
			_, err := m.AddSegment(fmt.Sprintf("Z%02d", s%3))
			require.NoError(t, err)
		}
		occ := func(s int) int { return s/3 + 1 }
		for k := 0; k < 20; k++ {
			s := r.IntN(nseg)
			kk := key{s % 3, occ(s), 1 + r.IntN(8), 1 + r.IntN(3), 1 + r.IntN(4), 1 + r.IntN(3)}
			var b strings.Builder
			for n := r.IntN(12); n > 0; n-- {
				c := alphabet[r.IntN(len(alphabet))]
				if latin1 && c > 0xFF {
					c = 'q'
				}
				b.WriteRune(c)
			}
			v := b.String()
			if d.Escape == 0 {
				v = strings.Map(func(c rune) rune {
					if strings.ContainsRune(d.String()+"\r\n", c) {
						return 'x'
					}
					return c
				}, v)
			}
			path := fmt.Sprintf("Z%02d[%d]-%d[%d].%d.%d", kk.seg, kk.occ, kk.f, kk.rep, kk.c, kk.s)
			require.NoError(t, m.Set(path, v), path)
			model[kk] = v
		}
		enc := m.Encode()
		m2, err := Parse(enc)
		require.NoError(t, err, "iteration %d: %q", iter, enc)
		assert.Equal(t, string(enc), string(m2.Encode()), "iteration %d", iter)
		for kk, want := range model {
			path := fmt.Sprintf("Z%02d[%d]-%d[%d].%d.%d", kk.seg, kk.occ, kk.f, kk.rep, kk.c, kk.s)
			got := MustGet(t, m2, path)
			assert.False(t, got.IsNull())
			assert.Equal(t, want, got.String(), "iteration %d %s in %q", iter, path, enc)
		}
	}
}
