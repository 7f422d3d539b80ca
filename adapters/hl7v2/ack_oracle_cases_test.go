package hl7v2

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// ackOptionSets are acknowledgment options that reach every branch of
// BuildAck: each code, texts to escape (delimiters, line breaks, the text
// `""`, characters outside Latin-1), errors with full, partial and empty
// locations, codes without a table text, both severities and none, times
// with positive, negative and no offset.
func ackOptionSets(decided []*Error) []AckOptions {
	east := func() time.Time { return time.Date(2025, 3, 14, 8, 30, 16, 0, time.FixedZone("", 2*3600)) }
	west := func() time.Time { return time.Date(2024, 12, 31, 23, 59, 59, 999, time.FixedZone("", -5*3600-30*60)) }
	utc := func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	errs := []*Error{
		errAt(CodeUnsupportedVersionID, Location{Segment: "MSH", Sequence: 1, Field: 12}, "version not supported"),
		{Code: CodeDataType, Severity: SeverityWarning, Loc: Location{Segment: "PID", Sequence: 1, Field: 3, Rep: 2, Component: 1, Sub: 4}, Msg: "odd | ^ ~ \\ & # value\r\nnext"},
		{Code: CodeApplicationInternal, Msg: ""},
		{Code: Code(999), Severity: SeverityInformation, Loc: Location{Field: 7}, Msg: "Müller 中"},
		{Code: CodeRequiredFieldMissing, Severity: SeverityError, Loc: Location{Segment: "Z|^", Component: 2}, Msg: `""`},
	}
	var out []AckOptions
	for i, code := range []AckCode{AckAccept, AckError, AckReject, AckCommitAccept, AckCommitError, AckCommitReject} {
		out = append(out,
			AckOptions{Code: code, ControlID: "A1", Now: east, Errors: decided},
			AckOptions{Code: code, ControlID: fmt.Sprintf("ID|%d^~\\&#\r", i), Now: west, Text: "Fehler bei Müller! | ^ \\.br\\ 中"},
			AckOptions{Code: code, ControlID: "X", Now: utc, Text: `""`, Errors: errs[:1]},
			AckOptions{Code: code, ControlID: "Y", Now: east, Errors: errs},
			AckOptions{Code: code, ControlID: "Z", Now: west, Errors: errs[1:]},
		)
	}
	return out
}

// ackOracleHeaders are headers beyond the corpus: few encoding characters,
// signs as delimiters, old versions, character sets given in several ways,
// enhanced mode.
var ackOracleHeaders = []string{
	"MSH|^~\\&|A|B|C|D|x||ADT^A01|9|P|2.2",
	"MSH|^~\\&|A|B|C|D|x||ADT^A01|9|P|2.3",
	"MSH|^~\\&|A|B|C|D|x||ADT^A01|9|P|2.3.1|||AL|NE",
	"MSH|^~\\&|A|B|C|D|x||ADT|9|P|2.1",
	"MSH|^~\\&|A|B|C|D|x||ADT^A01|9|P|2.4|||||DE|8859/1",
	"MSH|^~\\&|A|B|C|D|x||ADT^A01|9|P|2.5|||||DE|8859/15~UNICODE UTF-8",
	"MSH|^~\\&|A|B|C|D|x||ADT^A01|9|P|2.5|||||DE|\"\"",
	"MSH|^~\\&|A|B|C|D|x||ADT^A01|9|P|2.5|||||DE|\\X38\\859/1^x",
	"MSH|^~\\&|A|B|C|D|x||ADT^A01|9|P|2.5|||||DE|ISO ır100",
	"MSH|^~\\&|A|B|C|D|x||ADT^A01|9|P|2.5|||||DE|SHIFT JIS",
	"MSH|^~\\&#|A|B|C|D|x||ORU^R01^ORU_R01|C\\T\\1|P^T|2.7.1^DEU|||ER|SU",
	"MSH|^~\\|A|B|C|D|x||ADT^A01|9|P|2.3",
	"MSH|^~|A|B|C|D|x||ADT^A01|9|P|2.3",
	"MSH|^|A|B|C|D|x||ADT^A01|9|P|2.5",
	"MSH|^|A|B|C|D|x||ADT^A01|9|P|2.3",
	"MSH+^~\\&+A+B+C+D+x++ADT^A01+9+P+2.5",
	"MSH|-~\\&|A|B|C|D|x||ADT-A01|9|P|2.4",
	"MSH!@*?%!A!B!C@x%y!D!x!!ADT@A01!9!P!2.4!!!!!!8859/1",
	"MSH|^~\\&||||||ADT^A01||||",
	"MSH|^~\\&|A|B|C|D|x||ADT^A\\S\\01^ADT_A01|9|P|",
}

// TestBuildAckMatchesOracle: the direct encoder gives the bytes of the
// encoder built on Set and SetRaw for every corpus message, the extra
// headers and no header, under every option set.
func TestBuildAckMatchesOracle(t *testing.T) {
	var headers []*Header
	var names []string
	msgs, _ := corpus(t)
	for _, c := range msgs {
		h, err := ParseHeader(c.data)
		require.NoError(t, err, c.name)
		headers, names = append(headers, h), append(names, c.name)
		if m, err := Parse(c.data); err == nil {
			headers, names = append(headers, m.Header()), append(names, c.name+" (parsed)")
		}
	}
	for _, s := range ackOracleHeaders {
		headers, names = append(headers, mustHeader(t, s)), append(names, s)
	}
	headers, names = append(headers, nil), append(names, "no header")
	compared := 0
	for i, h := range headers {
		var decided []*Error
		if h != nil {
			decided = Decide(h, nil, DefaultPolicy()).Errors
		}
		for j, o := range ackOptionSets(decided) {
			want, werr := buildAckOracle(h, o)
			got, err := BuildAck(h, o)
			require.Equal(t, werr == nil, err == nil, "%s, options %d: errors %v / %v", names[i], j, werr, err)
			require.Equal(t, string(want), string(got), "%s, options %d", names[i], j)
			compared++
		}
	}
	t.Logf("%d acknowledgments compared", compared)
}

// BenchmarkBuildAck measures an AA for a lab result, beside the oracle.
func BenchmarkBuildAck(b *testing.B) {
	h := mustHeader(b, "MSH|^~\\&|LIS|LAB^1.2.3^ISO|HUB|HOSP|20250314083016||ORU^R01^ORU_R01|C12345678|P|2.5.1")
	for _, c := range []struct {
		name  string
		build func(*Header, AckOptions) ([]byte, error)
	}{{"direct", BuildAck}, {"oracle", buildAckOracle}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.build(h, AckOptions{Code: AckAccept}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
