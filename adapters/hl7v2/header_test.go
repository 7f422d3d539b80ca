package hl7v2

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHeader(t *testing.T) {
	h := MustReadTestdata(t, "adt_a01_admit.hl7").Header()
	assert.Equal(t, DefaultDelimiters(), h.Delimiters)
	assert.Equal(t, HD{NamespaceID: "SYNTH-EHR"}, h.SendingApplication)
	assert.Equal(t, "MAIN-HOSP", h.SendingFacility.NamespaceID)
	assert.Equal(t, HD{NamespaceID: "FHIRHUB"}, h.ReceivingApplication)
	assert.Equal(t, "20250314083015+0200", h.Time.String())
	assert.Equal(t, MSG{Code: "ADT", Trigger: "A01", Structure: "ADT_A01"}, h.Type)
	assert.Equal(t, "ADT0001", h.ControlID)
	assert.Equal(t, "P", h.ProcessingID)
	assert.Equal(t, "2.5.1", h.Version)
	assert.Equal(t, "AL", h.AcceptAckType)
	assert.Equal(t, "NE", h.ApplicationAckType)
	assert.Equal(t, "ZAF", h.Country)
	assert.Equal(t, []string{"UNICODE UTF-8"}, h.CharacterSets)
	assert.Equal(t, CharsetUTF8, h.Charset)
	assert.Equal(t, "en", h.Language)
	assert.Empty(t, h.Validate())
	assert.Equal(t, "ADT_A01", h.Structure())

	h = MustParse(t, "MSH|^~\\&|||||||ADT^A04|1|P|2.3|||||||||P1^^1.2.3^ISO~P2\r").Header()
	assert.Equal(t, "ADT_A01", h.Structure(), "inferred from table 0354")
	assert.Equal(t, []EI{{EntityID: "P1", UniversalID: "1.2.3", UniversalIDType: "ISO"}, {EntityID: "P2"}}, h.Profiles)
}

func TestStructureFor(t *testing.T) {
	for in, want := range map[[2]string]string{
		{"ADT", "A04"}: "ADT_A01", {"ADT", "A08"}: "ADT_A01", {"ADT", "A03"}: "ADT_A03", {"ADT", "A40"}: "ADT_A39",
		{"ADT", "A31"}: "ADT_A05", {"ORU", "R01"}: "ORU_R01", {"ORM", "O01"}: "ORM_O01", {"OMI", "O23"}: "OMI_O23",
		{"SIU", "S14"}: "SIU_S12", {"MDM", "T02"}: "MDM_T02", {"ACK", "A01"}: "ACK", {"ZZZ", "Z01"}: "ZZZ_Z01", {"QRY", ""}: "QRY",
	} {
		assert.Equal(t, want, StructureFor(in[0], in[1]), in)
	}
}

func TestHeaderValidate(t *testing.T) {
	h := MustParse(t, "MSH|^~\\&|A|B|C|D|x||^A01||||||XX|ER\r").Header()
	errs := h.Validate()
	require.Len(t, errs, 5)
	want := []struct {
		code  Code
		field int
		sev   Severity
	}{
		{CodeRequiredFieldMissing, 9, SeverityError},
		{CodeRequiredFieldMissing, 10, SeverityError},
		{CodeRequiredFieldMissing, 11, SeverityError},
		{CodeRequiredFieldMissing, 12, SeverityError},
		{CodeTableValueNotFound, 15, SeverityWarning},
	}
	for i, w := range want {
		assert.Equal(t, w.code, errs[i].Code)
		assert.Equal(t, w.field, errs[i].Loc.Field)
		assert.Equal(t, "MSH", errs[i].Loc.Segment)
		assert.Equal(t, w.sev, errs[i].Severity)
	}
}

func TestParseHeaderBrokenInput(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		offset  int
		control string
		delims  string
	}{
		{"whole message", "MSH|^~\\&|A|B|C|D|20250101||ADT^A01|C1|P|2.5\rPID|1\r", 0, "C1", `|^~\&`},
		{"garbage before", "\x00\x0b\x0bjunk\r\nMSH|^~\\&|A|B|C|D|20250101||ADT^A01|C2|P|2.5\r", 9, "C2", `|^~\&`},
		{"garbage on the line", "xxMSH|^~\\&|A|B|C|D|20250101||ADT^A01|C3|P|2.5", 2, "C3", `|^~\&`},
		{"byte order mark", "\ufeffMSH|^~\\&|A|B|C|D|20250101||ADT^A01|C4|P|2.5\r", 3, "C4", `|^~\&`},
		{"truncated", "MSH|^~\\&|A|B|C|D|20250101||ADT^A01|C5", 0, "C5", `|^~\&`},
		{"broken body", "MSH|^~\\&|A|B|C|D|x||ADT^A01|C6|P|2.5\rMSH|again\r\x00\x01", 0, "C6", `|^~\&`},
		{"invalid MSH first, valid later", "MSH|^^\rMSH!@*?%!A!B!C!D!!!ADT@A01!C7!P!2.3", 7, "C7", `!@*?%`},
		{"custom delimiters", "MSH^~|\\&^A^B^C^D^^^ADT~A24^C8^T^2.4", 0, "C8", `^~|\&`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ParseHeader([]byte(tt.in))
			require.NoError(t, err)
			assert.Equal(t, tt.offset, h.Offset)
			assert.Equal(t, tt.control, h.ControlID)
			assert.Equal(t, tt.delims, h.Delimiters.String())
			assert.Equal(t, "A", h.SendingApplication.NamespaceID)
			assert.Equal(t, "ADT", h.Type.Code)
		})
	}
	for _, tt := range []struct {
		in   string
		code Code
	}{
		{"", CodeSegmentSequence},
		{"PID|1||X\r", CodeSegmentSequence},
		{"\x00\x01\x02 binary", CodeSegmentSequence},
		{"MSH|^^\\&|A", CodeDataType},
		{"MSH", CodeDataType},
	} {
		h, err := ParseHeader([]byte(tt.in))
		assert.Nil(t, h)
		assert.Equal(t, tt.code, asErr(t, err).Code, "%q", tt.in)
	}
}
