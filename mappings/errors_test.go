package mappings_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/mappings"
)

// TestMapErrors: a message that cannot be mapped gives an error naming
// the segment and field, never a value of the message (they are PHI and
// the error is logged).
func TestMapErrors(t *testing.T) {
	const msh = "MSH|^~\\&|EHR|HOSP|||20250101120000+0200||"
	for _, c := range []struct {
		name, msg string
		code      fhir.IssueType
		at        string
		secret    string // a value of the message the error must not show
	}{
		{"unsupported type", msh + "SIU^S12|C1|P|2.5.1\rPID|1||MRN-SECRET^^^H^MR\r", fhir.IssueNotSupported, "MSH-9", "MRN-SECRET"},
		{"unsupported trigger", msh + "ADT^A17|C1|P|2.5.1\rPID|1||MRN-SECRET^^^H^MR\r", fhir.IssueNotSupported, "MSH-9", "MRN-SECRET"},
		{"no control id", msh + "ADT^A01||P|2.5.1\rPID|1||MRN-SECRET^^^H^MR\rPV1|1|I|||||||||||||||||V1\r", fhir.IssueInvalid, "MSH-10", "MRN-SECRET"},
		{"no PID", msh + "ADT^A01|C1|P|2.5.1\rEVN|A01\r", fhir.IssueInvalid, "PID", ""},
		{"no patient identifier", msh + "ADT^A01|C1|P|2.5.1\rPID|1||^^^H^MR||Secretname^Zoe\r", fhir.IssueInvalid, "PID-3", "Secretname"},
		{"visit event without visit", msh + "ADT^A01|C1|P|2.5.1\rPID|1||MRN-SECRET^^^H^MR\rPV1|1|I|W1\r", fhir.IssueInvalid, "PV1-19", "MRN-SECRET"},
		{"bad birth date", msh + "ADT^A04|C1|P|2.5.1\rPID|1||MRN-1^^^H^MR||X^Y||19801341\r", fhir.IssueInvalid, "PID-7", "19801341"},
		{"result without PID", msh + "ORU^R01|C1|P|2.5.1\rOBR|1||F1|X^Y^L\rOBX|1|NM|A^B^L||1\r", fhir.IssueInvalid, "PID", ""},
		{"result without code", msh + "ORU^R01|C1|P|2.5.1\rPID|1||MRN-1^^^H^MR\rOBR|1||F1|X^Y^L\rOBX|1|NM|||42.5\r", fhir.IssueInvalid, "OBX-3", "42.5"},
		{"second OBX at fault", msh + "ORU^R01|C1|P|2.5.1\rPID|1||MRN-1^^^H^MR\rOBR|1||F1|X^Y^L\rOBX|1|NM|A^B^L||1\rOBX|2|NM|A^B^L||2||||||F|||2025139\r", fhir.IssueInvalid, "OBX[2]-14", "2025139"},
		{"result without order", msh + "ORU^R01|C1|P|2.5.1\rPID|1||MRN-SECRET^^^H^MR\rPV1|1|O\r", fhir.IssueInvalid, "OBR", "MRN-SECRET"},
		{"report without service", msh + "ORU^R01|C1|P|2.5.1\rPID|1||MRN-1^^^H^MR\rOBR|1||F1\r", fhir.IssueInvalid, "OBR-4", ""},
		{"merge without MRG", msh + "ADT^A40|C1|P|2.5.1\rPID|1||MRN-1^^^H^MR\r", fhir.IssueInvalid, "MRG", ""},
		{"undecodable PDF", msh + "ORU^R01|C1|P|2.5.1\rPID|1||MRN-1^^^H^MR\rOBR|1||F1|X^Y^L\rOBX|1|ED|R^Report^L||^AP^PDF^Base64^!!SECRET!!\r", fhir.IssueInvalid, "OBX-5", "SECRET"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := mappings.Map(MustParse(t, []byte(c.msg)), mappings.Options{})
			require.Error(t, err)
			fe := fhir.AsError(err)
			require.NotNil(t, fe, "%v", err)
			assert.Equal(t, c.code, fe.Code)
			assert.Equal(t, []string{c.at}, fe.Expression)
			assert.True(t, strings.HasPrefix(fe.Message, c.at), "%q names the field first", fe.Message)
			assert.Equal(t, c.code == fhir.IssueNotSupported, errors.Is(err, mappings.ErrUnsupported))
			if c.secret != "" {
				assert.NotContains(t, err.Error(), c.secret)
				assert.NotContains(t, fe.Message, c.secret)
			}
		})
	}
}

func TestSupported(t *testing.T) {
	for _, tr := range []string{"A01", "A02", "A03", "A04", "A05", "A06", "A07", "A08", "A11", "A12", "A13", "A28", "A31", "A40"} {
		assert.True(t, mappings.Supported("ADT", tr), tr)
	}
	assert.True(t, mappings.Supported("ORU", "R01"))
	assert.True(t, mappings.Supported("ORM", "O01"))
	assert.True(t, mappings.Supported("OMI", "O23"))
	assert.False(t, mappings.Supported("ADT", "A17"))
	assert.False(t, mappings.Supported("SIU", "S12"))
}
