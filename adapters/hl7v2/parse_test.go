package hl7v2

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDelimiters(t *testing.T) {
	tests := []struct {
		name string
		msh  string
		want Delimiters
		enc  string
	}{
		{"standard", `MSH|^~\&|A`, Delimiters{'|', '^', '~', '\\', '&', 0}, `^~\&`},
		{"v2.7 truncation", `MSH|^~\&#|A`, Delimiters{'|', '^', '~', '\\', '&', '#'}, `^~\&#`},
		{"three encoding characters", `MSH|^~}|A`, Delimiters{'|', '^', '~', '}', 0, 0}, `^~}`},
		{"caret as field separator", `MSH^~|\&^A`, Delimiters{'^', '~', '|', '\\', '&', 0}, `~|\&`},
		{"all custom", `MSH!@*?%!A`, Delimiters{'!', '@', '*', '?', '%', 0}, `@*?%`},
		{"nothing after MSH-2", `MSH|^~\&`, Delimiters{'|', '^', '~', '\\', '&', 0}, `^~\&`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := MustParse(t, tt.msh+"\r")
			assert.Equal(t, tt.want, m.Delimiters())
			assert.Equal(t, tt.enc, m.Delimiters().EncodingCharacters())
			assert.Equal(t, string(tt.want.Field), MustGet(t, m, "MSH-1").String())
			assert.Equal(t, tt.enc, MustGet(t, m, "MSH-2").String())
			assert.Equal(t, tt.msh+"\r", string(m.Encode()))
		})
	}
}

func TestParseInvalidDelimiters(t *testing.T) {
	tests := []struct {
		name  string
		msh   string
		field int
	}{
		{"letter as field separator", `MSHX^~\&X`, 1},
		{"space as field separator", `MSH ^~\& A`, 1},
		{"no encoding characters", `MSH||A`, 2},
		{"repeated encoding character", `MSH|^^\&|A`, 2},
		{"six encoding characters", `MSH|^~\&#!|A`, 2},
		{"digit as encoding character", `MSH|^~1&|A`, 2},
		{"too short", `MSH`, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.msh))
			e := asErr(t, err)
			assert.Equal(t, CodeDataType, e.Code)
			assert.Equal(t, Location{Segment: "MSH", Sequence: 1, Field: tt.field}, e.Loc)
		})
	}
}

func TestParseSegmentTerminators(t *testing.T) {
	want := "MSH|^~\\&|A\rPID|1\rZZZ|x\r"
	tests := map[string]string{
		"CR":                        "MSH|^~\\&|A\rPID|1\rZZZ|x\r",
		"LF":                        "MSH|^~\\&|A\nPID|1\nZZZ|x\n",
		"CRLF":                      "MSH|^~\\&|A\r\nPID|1\r\nZZZ|x\r\n",
		"mixed":                     "MSH|^~\\&|A\r\nPID|1\nZZZ|x\r",
		"no final terminator":       "MSH|^~\\&|A\rPID|1\rZZZ|x",
		"byte order mark":           "\ufeffMSH|^~\\&|A\rPID|1\rZZZ|x\r",
		"leading and blank lines":   "\r\n\nMSH|^~\\&|A\r\r\nPID|1\n\n\nZZZ|x\r\n\r\n",
		"byte order mark with CRLF": "\ufeffMSH|^~\\&|A\r\nPID|1\r\nZZZ|x\r\n",
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			m := MustParse(t, in)
			require.Equal(t, 3, m.Len())
			assert.Equal(t, []string{"MSH", "PID", "ZZZ"}, names(m))
			assert.Equal(t, want, string(m.Encode()))
			assert.Equal(t, "x", MustGet(t, m, "ZZZ-1").String())
		})
	}
}

func names(m *Message) []string {
	var out []string
	for s := range m.Segments() {
		out = append(out, s.Name())
	}
	return out
}

func TestParseStructure(t *testing.T) {
	m := MustParse(t, lines(
		`MSH|^~\&|SEND|FAC|||20250101||ADT^A01|1|P|2.5`,
		`PID|1||A1^^^H&1.2.3&ISO^MR~B2^^^N^NI||DOE^JANE^Q^^^^L||19700101|F|||""|`,
		`ZXY|first||third`,
		`ZXY|second`,
	))
	pid := m.Segment("PID", 1)
	require.True(t, pid.Exists())
	assert.Equal(t, 1, pid.Index())
	assert.Equal(t, 12, pid.NumFields(), "a trailing empty field counts")

	f3 := pid.Field(3)
	assert.Equal(t, 2, f3.NumReps())
	assert.Equal(t, 5, f3.NumComps(), "components of the first repetition")
	assert.Equal(t, "A1", f3.String())
	assert.Equal(t, "B2", f3.Rep(2).String())
	assert.Equal(t, "NI", f3.Rep(2).Comp(5).String())
	assert.Equal(t, 3, f3.Comp(4).NumSubs())
	assert.Equal(t, "1.2.3", f3.Comp(4).Sub(2).String())
	assert.Equal(t, "H", f3.Comp(4).String(), "a component reads its first subcomponent")
	assert.Equal(t, `A1^^^H&1.2.3&ISO^MR~B2^^^N^NI`, f3.Raw())
	assert.False(t, f3.Rep(3).Exists())
	assert.False(t, f3.Comp(6).Exists())
	assert.Equal(t, "", f3.Rep(3).Comp(1).String())

	// A primitive is its own first component and subcomponent.
	f8 := pid.Field(8)
	assert.Equal(t, "F", f8.Comp(1).Sub(1).String())
	assert.False(t, f8.Comp(2).Exists())
	assert.False(t, f8.Comp(1).Sub(2).Exists())

	// Empty and null.
	assert.True(t, pid.Field(2).Exists())
	assert.True(t, pid.Field(2).IsEmpty())
	assert.False(t, pid.Field(2).IsNull())
	assert.True(t, pid.Field(11).IsNull())
	assert.False(t, pid.Field(11).IsEmpty())
	assert.Equal(t, "", pid.Field(11).String())
	assert.False(t, pid.Field(13).Exists())
	assert.True(t, pid.Field(13).IsEmpty())

	// Z-segments are kept, in order, with their occurrences.
	assert.Equal(t, "third", m.Segment("ZXY", 1).Field(3).String())
	assert.Equal(t, "second", MustGet(t, m, "ZXY[2]-1").String())
	assert.Equal(t, 2, m.Segment("ZXY", 2).Sequence())
	assert.Equal(t, Location{Segment: "ZXY", Sequence: 2, Field: 1, Position: 4}, m.Segment("ZXY", 2).Location(1))
	n := 0
	for range m.SegmentsNamed("ZXY") {
		n++
	}
	assert.Equal(t, 2, n)
	assert.False(t, m.Segment("ZXY", 3).Exists())
	assert.False(t, m.Segment("ZXY", 0).Exists())
	assert.False(t, m.SegmentAt(9).Exists())
	assert.Equal(t, "", m.SegmentAt(9).Field(1).String())

	// MSH counts MSH-1 as a field.
	msh := m.SegmentAt(0)
	assert.Equal(t, "SEND", msh.Field(3).String())
	assert.Equal(t, 12, msh.NumFields())
	assert.Equal(t, "MSH", msh.Field(0).String())
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		lim  Limits
		code Code
		loc  Location
	}{
		{"empty", "", Limits{}, CodeSegmentSequence, Location{Segment: "MSH", Sequence: 1, Position: 1}},
		{"not MSH", "PID|1\rMSH|^~\\&", Limits{}, CodeSegmentSequence, Location{Segment: "MSH", Sequence: 1, Position: 1}},
		{"garbage before MSH", "xxMSH|^~\\&|", Limits{}, CodeSegmentSequence, Location{Segment: "MSH", Sequence: 1, Position: 1}},
		{"two messages", "MSH|^~\\&|\rPID|\rMSH|^~\\&|\r", Limits{}, CodeSegmentSequence, Location{Segment: "MSH", Sequence: 1, Position: 3}},
		{"batch envelope", "MSH|^~\\&|\rBTS|1\r", Limits{}, CodeSegmentSequence, Location{Segment: "BTS", Sequence: 1, Position: 2}},
		{"too large", "MSH|^~\\&|0123456789", Limits{MaxBytes: 10}, CodeApplicationInternal, Location{}},
		{"too many segments", "MSH|^~\\&|\rA\rB\rC\r", Limits{MaxSegments: 3}, CodeApplicationInternal, Location{}},
		{"too many delimiters", "MSH|^~\\&|\rPID|^^^^^^^^^^\r", Limits{MaxNodes: 10}, CodeApplicationInternal, Location{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseWithLimits([]byte(tt.in), tt.lim)
			e := asErr(t, err)
			assert.Equal(t, tt.code, e.Code)
			assert.Equal(t, tt.loc, e.Loc)
			assert.Equal(t, SeverityError, e.Severity)
			assert.NotEmpty(t, e.Msg)
		})
	}
}

// TestParseErrorHasNoData: error messages name positions, not values.
func TestParseErrorHasNoData(t *testing.T) {
	_, err := Parse([]byte("PID|1||SECRET-MRN^^^H||DOE^JANE\rMSH|^~\\&|"))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "SECRET")
	assert.NotContains(t, err.Error(), "DOE")
	assert.Equal(t, "hl7v2: MSH^1: 100 segment sequence error: message does not start with an MSH segment", err.Error())
}

func TestParseCopiesInput(t *testing.T) {
	in := []byte("MSH|^~\\&|A\rPID|1||X\r")
	m, err := Parse(in)
	require.NoError(t, err)
	copy(in, strings.Repeat("#", len(in)))
	assert.Equal(t, "X", MustGet(t, m, "PID-3").String())
}

func TestParseLargeMessage(t *testing.T) {
	// A realistic large message: 5,000 OBX segments and a 4 MB value.
	var b strings.Builder
	b.WriteString("MSH|^~\\&|A|B|C|D|20250101||ORU^R01|1|P|2.5.1\rPID|1||X\rOBR|1\r")
	for i := 0; i < 5000; i++ {
		b.WriteString("OBX|1|NM|2951-2^Sodium^LN||139|mmol/L|135-145|N|||F\r")
	}
	b.WriteString("OBX|2|ED|PDF||^AP^PDF^Base64^" + strings.Repeat("QUJD", 1<<20) + "\r")
	m, err := Parse([]byte(b.String()))
	require.NoError(t, err)
	assert.Equal(t, 5004, m.Len())
	assert.Equal(t, b.String(), string(m.Encode()))
	assert.Equal(t, 4<<20, len(MustGet(t, m, "OBX[5001]-5.5").String()))
}
