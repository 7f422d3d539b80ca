package hl7v2

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var ackNow = func() time.Time { return time.Date(2025, 3, 14, 8, 30, 16, 0, time.FixedZone("", 2*3600)) }

func mustHeader(tb testing.TB, msg string) *Header {
	tb.Helper()
	h, err := ParseHeader([]byte(msg))
	require.NoError(tb, err)
	return h
}

func TestDecide(t *testing.T) {
	const base = "MSH|^~\\&|LIS|LAB|HUB|HOSP|20250314||ORU^R01^ORU_R01|C1|P|2.5.1"
	policy := DefaultPolicy()
	policy.MessageTypes = map[string][]string{"ORU": {"R01"}, "ADT": nil}
	type ack struct {
		code AckCode
		send bool
	}
	tests := []struct {
		name      string
		msg       string
		mode      AckMode
		reject    bool
		codes     []Code
		accepted  ack // Ack(OutcomeAccepted)
		failed    ack // Ack(OutcomeError)
		appAccept ack // ApplicationAck(OutcomeAccepted)
	}{
		{"original", base, ModeOriginal, false, nil, ack{"AA", true}, ack{"AE", true}, ack{"", false}},
		{"enhanced AL/NE", base + "|||AL|NE", ModeEnhanced, false, nil, ack{"CA", true}, ack{"CE", true}, ack{"AA", false}},
		{"enhanced NE/AL", base + "|||NE|AL", ModeEnhanced, false, nil, ack{"CA", false}, ack{"CE", false}, ack{"AA", true}},
		{"enhanced ER/ER", base + "|||ER|ER", ModeEnhanced, false, nil, ack{"CA", false}, ack{"CE", true}, ack{"AA", false}},
		{"enhanced SU/SU", base + "|||SU|SU", ModeEnhanced, false, nil, ack{"CA", true}, ack{"CE", false}, ack{"AA", true}},
		{"enhanced, MSH-15 empty", base + "||||AL", ModeEnhanced, false, nil, ack{"CA", true}, ack{"CE", true}, ack{"AA", true}},
		{"enhanced, unknown condition", base + "|||XX|NE", ModeEnhanced, false, []Code{CodeTableValueNotFound},
			ack{"CA", true}, ack{"CE", true}, ack{"AA", false}},
		{"unsupported version", strings.Replace(base, "2.5.1", "3.0", 1), ModeOriginal, true,
			[]Code{CodeUnsupportedVersionID}, ack{"AR", true}, ack{"AR", true}, ack{"", false}},
		{"unsupported version, enhanced", strings.Replace(base, "2.5.1", "2.9", 1) + "|||AL|AL", ModeEnhanced, true,
			[]Code{CodeUnsupportedVersionID}, ack{"CR", true}, ack{"CR", true}, ack{"AR", true}},
		{"unsupported type", strings.Replace(base, "ORU^R01^ORU_R01", "SIU^S12", 1), ModeOriginal, true,
			[]Code{CodeUnsupportedMessageType}, ack{"AR", true}, ack{"AR", true}, ack{"", false}},
		{"unsupported event", strings.Replace(base, "ORU^R01^ORU_R01", "ORU^R30", 1), ModeOriginal, true,
			[]Code{CodeUnsupportedEventCode}, ack{"AR", true}, ack{"AR", true}, ack{"", false}},
		{"any ADT event", strings.Replace(base, "ORU^R01^ORU_R01", "ADT^A99", 1), ModeOriginal, false,
			nil, ack{"AA", true}, ack{"AE", true}, ack{"", false}},
		{"unsupported processing id", strings.Replace(base, "|P|", "|X|", 1), ModeOriginal, true,
			[]Code{CodeUnsupportedProcessingID}, ack{"AR", true}, ack{"AR", true}, ack{"", false}},
		{"missing control id and version", "MSH|^~\\&|LIS|LAB|HUB|HOSP|20250314||ORU^R01||P", ModeOriginal, true,
			[]Code{CodeRequiredFieldMissing, CodeRequiredFieldMissing}, ack{"AR", true}, ack{"AR", true}, ack{"", false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(mustHeader(t, tt.msg), nil, policy)
			assert.Equal(t, tt.mode, d.Mode)
			assert.Equal(t, tt.reject, d.Reject)
			var codes []Code
			for _, e := range d.Errors {
				codes = append(codes, e.Code)
			}
			assert.Equal(t, tt.codes, codes)
			code, send := d.Ack(OutcomeAccepted)
			assert.Equal(t, tt.accepted, ack{code, send}, "accepted")
			code, send = d.Ack(OutcomeError)
			assert.Equal(t, tt.failed, ack{code, send}, "error")
			code, send = d.ApplicationAck(OutcomeAccepted)
			assert.Equal(t, tt.appAccept, ack{code, send}, "application")
		})
	}

	// No MSH, or a message that does not parse: reject.
	h, err := ParseHeader([]byte("garbage"))
	d := Decide(h, err, policy)
	assert.True(t, d.Reject)
	require.Len(t, d.Errors, 1)
	assert.Equal(t, CodeSegmentSequence, d.Errors[0].Code)
	code, _ := d.Ack(OutcomeAccepted)
	assert.Equal(t, AckReject, code)

	d = Decide(mustHeader(t, base), errors.New("store unavailable"), policy)
	assert.True(t, d.Reject)
	assert.Equal(t, CodeApplicationInternal, d.Errors[0].Code)

	d = Decide(mustHeader(t, base), nil, Policy{})
	assert.False(t, d.Reject, "an empty policy accepts everything")
	code, _ = d.Ack(OutcomeRejected)
	assert.Equal(t, AckReject, code)
}

func TestBuildAck(t *testing.T) {
	const oru = "MSH|^~\\&|LIS|LAB^1.2.3^ISO|HUB|HOSP|20250314||ORU^R01^ORU_R01|C\\T\\1|P|2.5.1"
	tests := []struct {
		name string
		msg  string // "" for no header
		opts AckOptions
		want []string
	}{
		{"original AA", oru, AckOptions{Code: AckAccept}, []string{
			`MSH|^~\&|HUB|HOSP|LIS|LAB^1.2.3^ISO|20250314083016+0200||ACK^R01^ACK|A1|P|2.5.1`,
			`MSA|AA|C\T\1`,
		}},
		{"original AR with errors", oru, AckOptions{Code: AckReject, Errors: []*Error{
			errAt(CodeUnsupportedVersionID, Location{Segment: "MSH", Sequence: 1, Field: 12}, "version not supported"),
			{Code: CodeDataType, Severity: SeverityWarning, Loc: Location{Segment: "PID", Sequence: 1, Field: 3, Rep: 2, Component: 1}, Msg: "odd | value"},
		}}, []string{
			`MSH|^~\&|HUB|HOSP|LIS|LAB^1.2.3^ISO|20250314083016+0200||ACK^R01^ACK|A1|P|2.5.1`,
			`MSA|AR|C\T\1|version not supported`,
			`ERR||MSH^1^12|203^Unsupported version id^HL70357|E||||version not supported`,
			`ERR||PID^1^3^2^1|102^Data type error^HL70357|W||||odd \F\ value`,
		}},
		{"original AE with text", oru, AckOptions{Code: AckError, Text: "mapping failed: OBX-5 & unit"}, []string{
			`MSH|^~\&|HUB|HOSP|LIS|LAB^1.2.3^ISO|20250314083016+0200||ACK^R01^ACK|A1|P|2.5.1`,
			`MSA|AE|C\T\1|mapping failed: OBX-5 \T\ unit`,
		}},
		{"enhanced CA", oru + "|||AL|NE", AckOptions{Code: AckCommitAccept}, []string{
			`MSH|^~\&|HUB|HOSP|LIS|LAB^1.2.3^ISO|20250314083016+0200||ACK^R01^ACK|A1|P|2.5.1|||NE|NE`,
			`MSA|CA|C\T\1`,
		}},
		{"enhanced CR", oru + "|||AL|AL", AckOptions{Code: AckCommitReject, Errors: []*Error{
			errAt(CodeUnsupportedMessageType, Location{Segment: "MSH", Sequence: 1, Field: 9, Component: 1}, "message type not supported")}}, []string{
			`MSH|^~\&|HUB|HOSP|LIS|LAB^1.2.3^ISO|20250314083016+0200||ACK^R01^ACK|A1|P|2.5.1|||NE|NE`,
			`MSA|CR|C\T\1|message type not supported`,
			`ERR||MSH^1^9^^1|200^Unsupported message type^HL70357|E||||message type not supported`,
		}},
		{"v2.3 ERR-1", "MSH|^~\\&|A|B|C|D|x||ADT^A08|9|T|2.3", AckOptions{Code: AckReject, Errors: []*Error{
			errAt(CodeRequiredFieldMissing, Location{Segment: "PID", Sequence: 1, Field: 3}, "PID-3 missing"),
			errAt(CodeApplicationInternal, Location{}, "internal"),
		}}, []string{
			`MSH|^~\&|C|D|A|B|20250314083016+0200||ACK^A08|A1|T|2.3`,
			`MSA|AR|9|PID-3 missing`,
			`ERR|PID^1^3^101&Required field missing&HL70357~^^^207&Application internal error&HL70357`,
		}},
		{"v2.2 message type", "MSH|^~\\&|A|B|C|D|x||ADT^A01|9|P|2.2", AckOptions{Code: AckAccept}, []string{
			`MSH|^~\&|C|D|A|B|20250314083016+0200||ACK^A01|A1|P|2.2`,
			`MSA|AA|9`,
		}},
		{"custom delimiters and charset", "MSH!@*?%!A!B!C@x%y!D!x!!ADT@A01!9!P!2.4!!!!!!8859/1", AckOptions{Code: AckError, Text: "Fehler bei Müller!"}, []string{
			"MSH!@*?%!C@x%y!D!A!B!20250314083016+0200!!ACK@A01@ACK!A1!P!2.4!!!!!!8859/1",
			"MSA!AE!9!Fehler bei M\xfcller?F?",
		}},
		{"'+' as field separator: time in UTC", "MSH+^~\\&+A+B+C+D+x++ADT^A01+9+P+2.5", AckOptions{Code: AckAccept}, []string{
			`MSH+^~\&+C+D+A+B+20250314063016++ACK^A01^ACK+A1+P+2.5`,
			`MSA+AA+9`,
		}},
		{"no header", "", AckOptions{Code: AckReject, Errors: []*Error{
			errAt(CodeSegmentSequence, Location{Segment: "MSH", Sequence: 1}, "no MSH segment found")}}, []string{
			`MSH|^~\&|||||20250314083016+0200||ACK^^ACK|A1|P|2.5.1`,
			`MSA|AR||no MSH segment found`,
			`ERR||MSH^1|100^Segment sequence error^HL70357|E||||no MSH segment found`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h *Header
			if tt.msg != "" {
				h = mustHeader(t, tt.msg)
			}
			tt.opts.ControlID, tt.opts.Now = "A1", ackNow
			got, err := BuildAck(h, tt.opts)
			require.NoError(t, err)
			assert.Equal(t, strings.Join(tt.want, "\r")+"\r", string(got))
			m, err := Parse(got)
			require.NoError(t, err)
			assert.Equal(t, "ACK", m.Header().Type.Code)
		})
	}
}

func TestBuildAckDefaults(t *testing.T) {
	h := mustHeader(t, "MSH|^~\\&|A|B|C|D|x||ADT^A01|9")
	got, err := BuildAck(h, AckOptions{Code: AckAccept})
	require.NoError(t, err)
	m, err := Parse(got)
	require.NoError(t, err)
	mh := m.Header()
	assert.Len(t, mh.ControlID, 20)
	assert.Equal(t, "P", mh.ProcessingID)
	assert.Equal(t, "2.5.1", mh.Version)
	assert.WithinDuration(t, time.Now(), mh.Time.Time, time.Minute)
	again, _ := BuildAck(h, AckOptions{Code: AckAccept})
	m2, _ := Parse(again)
	assert.NotEqual(t, mh.ControlID, m2.Header().ControlID)

	_, err = BuildAck(h, AckOptions{Code: "XX"})
	assert.Error(t, err)
}

// TestAckCorpus: every corpus message gets an ACK that parses, swaps
// sender and receiver and echoes MSH-10.
func TestAckCorpus(t *testing.T) {
	msgs, _ := corpus(t)
	for _, c := range msgs {
		h, err := ParseHeader(c.data)
		require.NoError(t, err, c.name)
		d := Decide(h, nil, DefaultPolicy())
		code, _ := d.Ack(OutcomeAccepted)
		ack, err := BuildAck(h, AckOptions{Code: code, Errors: d.Errors, Now: ackNow})
		require.NoError(t, err, c.name)
		m, err := Parse(ack)
		require.NoError(t, err, c.name)
		mh := m.Header()
		assert.Equal(t, h.Delimiters, mh.Delimiters, c.name)
		assert.Equal(t, h.SendingApplication, mh.ReceivingApplication, c.name)
		assert.Equal(t, h.ReceivingFacility, mh.SendingFacility, c.name)
		assert.Equal(t, h.ControlID, m.Segment("MSA", 1).Field(2).String(), c.name)
		assert.Equal(t, h.Version, mh.Version, c.name)
		assert.Equal(t, string(code), m.Segment("MSA", 1).Field(1).String(), c.name)
	}
}
