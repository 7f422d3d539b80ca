package hl7v2

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		in    string
		want  Path
		canon string
	}{
		{"PID-3", Path{Segment: "PID", Field: 3}, "PID-3"},
		{"PID-3[2]", Path{Segment: "PID", Field: 3, Rep: 2, repGiven: true}, "PID-3[2]"},
		{"PID-3[2].1", Path{Segment: "PID", Field: 3, Rep: 2, repGiven: true, Comp: 1}, "PID-3[2].1"},
		{"PID-3(2)-1", Path{Segment: "PID", Field: 3, Rep: 2, repGiven: true, Comp: 1}, "PID-3[2].1"},
		{"PID.3(2).1", Path{Segment: "PID", Field: 3, Rep: 2, repGiven: true, Comp: 1}, "PID-3[2].1"},
		{"PID-5.1.2", Path{Segment: "PID", Field: 5, Comp: 1, Sub: 2}, "PID-5.1.2"},
		{"OBX[2]-5", Path{Segment: "OBX", Occurrence: 2, Field: 5}, "OBX[2]-5"},
		{"OBX(10)-5[1].2.3", Path{Segment: "OBX", Occurrence: 10, Field: 5, Rep: 1, repGiven: true, Comp: 2, Sub: 3}, "OBX[10]-5[1].2.3"},
		{"ZX1-1", Path{Segment: "ZX1", Field: 1}, "ZX1-1"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := ParsePath(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, p)
			assert.Equal(t, tt.canon, p.String())
		})
	}
	for _, bad := range []string{"", "PID", "PID-", "PID-0", "PID-x", "-3", "PID-3[0]", "PID-3[", "PID-3[2", "PID-3(2]",
		"PID-3.0", "PID-3.1.0", "PID-3.1.2.3", "PID-3 ", "PID-3[2]x", "PID-99999", "PID-1.1000", "PID[0]-1", "TOOLONGSEG-1"} {
		_, err := ParsePath(bad)
		assert.Error(t, err, bad)
	}
	assert.Panics(t, func() { MustParsePath("PID") })
}

func TestGet(t *testing.T) {
	m := MustParse(t, lines(
		`MSH|^~\&|A|B|C|D|20250101||ORU^R01^ORU_R01|42|P|2.5.1`,
		`PID|1||A1^^^H&1.2.3&ISO^MR~B2^^^N^NI||DOE^JANE^Q`,
		`OBX|1|NM|1^one||5`,
		`OBX|2|ST|2^two||five`,
	))
	tests := map[string]string{
		"MSH-9":        "ORU",
		"MSH-9.2":      "R01",
		"MSH-10":       "42",
		"PID-3":        "A1",
		"PID-3[2]":     "B2",
		"PID-3[2].5":   "NI",
		"PID-3(2)-5":   "NI",
		"PID-3.4":      "H",
		"PID-3.4.2":    "1.2.3",
		"PID-5":        "DOE",
		"PID-5.2":      "JANE",
		"OBX-5":        "5",
		"OBX[2]-5":     "five",
		"OBX[3]-5":     "",
		"PID-3[3]":     "",
		"PID-99":       "",
		"NTE-1":        "",
		"PID-3[2].9.9": "",
	}
	for path, want := range tests {
		assert.Equal(t, want, MustGet(t, m, path).String(), path)
	}
	assert.Equal(t, `A1^^^H&1.2.3&ISO^MR~B2^^^N^NI`, MustGet(t, m, "PID-3").Raw())
	assert.Equal(t, `B2^^^N^NI`, MustGet(t, m, "PID-3[2]").Raw())
	assert.Equal(t, `H&1.2.3&ISO`, MustGet(t, m, "PID-3.4").Raw())
	_, err := m.Get("PID-")
	assert.Error(t, err)
	assert.Equal(t, Location{Segment: "PID", Sequence: 1, Field: 3, Rep: 1, Component: 4, Sub: 2, Position: 2},
		MustGet(t, m, "PID-3.4.2").Location())
	assert.Equal(t, Location{Segment: "OBX", Sequence: 2, Field: 5, Position: 4}, MustGet(t, m, "OBX[2]-5").Location())
	assert.Equal(t, Location{}, MustGet(t, m, "OBX[3]-5").Location())
	assert.Equal(t, "B2", m.At(MustParsePath("PID-3[2].1")).String())
}
