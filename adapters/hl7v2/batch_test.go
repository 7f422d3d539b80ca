package hl7v2

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSplitBatchFile(t *testing.T) {
	f, err := SplitBatch(mustRead(t, "testdata/batch_nightly_results.hl7"))
	require.NoError(t, err)
	assert.Equal(t, "NIGHT-RUN-0316.hl7", f.Header.Field(9).String())
	assert.Equal(t, "2", f.Trailer.Field(1).String())
	require.Len(t, f.Batches, 2)
	assert.Equal(t, 4, f.NumMessages())
	assert.Len(t, f.Batches[0].Messages, 3)
	assert.Equal(t, "BATCH-0316-A", f.Batches[0].Header.Field(11).String())
	assert.Equal(t, "Batch A complete", f.Batches[0].Trailer.Field(2).String())
	assert.Len(t, f.Batches[1].Messages, 1)
	for i, want := range []string{"B1-1", "B1-2", "B1-3"} {
		m, err := Parse(f.Batches[0].Messages[i])
		require.NoError(t, err)
		assert.Equal(t, want, m.Header().ControlID)
		assert.Equal(t, 4, m.Len())
		assert.True(t, strings.HasSuffix(string(f.Batches[0].Messages[i]), "|F\r"), "CR-terminated")
	}
}

func TestSplitBatchForms(t *testing.T) {
	msg := "MSH|^~\\&|A||||||ORU^R01|%s|P|2.5\rPID|1\r"
	m1, m2 := strings.Replace(msg, "%s", "1", 1), strings.Replace(msg, "%s", "2", 1)
	tests := []struct {
		name    string
		in      string
		batches []int // messages per batch
	}{
		{"plain concatenated messages", m1 + m2, []int{2}},
		{"LF and blank lines", strings.ReplaceAll(m1+"\r"+m2, "\r", "\n"), []int{2}},
		{"batch without file", "BHS|^~\\&\r" + m1 + m2 + "BTS|2\r", []int{2}},
		{"file without batch", "FHS|^~\\&\r" + m1 + "FTS|1\r", []int{1}},
		{"empty batch", "FHS|^~\\&\rBHS|^~\\&\rBTS|0\rFTS|1\r", []int{0}},
		{"trailers without counts", "FHS|^~\\&\rBHS|^~\\&\r" + m1 + "BTS\rFTS\r", []int{1}},
		{"messages outside batches", "FHS|^~\\&\r" + m1 + "BHS|^~\\&\r" + m2 + "BTS|1\r" + m1 + "FTS|3\r", []int{1, 1, 1}},
		{"custom delimiters", "BHS^~|\\&\rMSH^~|\\&^A\rPID^1\rBTS^1\r", []int{1}},
		{"byte order mark", "\ufeffBHS|^~\\&\r\n" + m1 + "BTS|1\r\n", []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := SplitBatch([]byte(tt.in))
			require.NoError(t, err)
			var got []int
			for _, b := range f.Batches {
				got = append(got, len(b.Messages))
				for _, m := range b.Messages {
					_, err := Parse(m)
					assert.NoError(t, err)
				}
			}
			assert.Equal(t, tt.batches, got)
		})
	}
}

func TestSplitBatchErrors(t *testing.T) {
	msg := "MSH|^~\\&|A||||||ORU^R01|1|P|2.5\rPID|1\r"
	tests := []struct {
		name     string
		in       string
		code     Code
		loc      Location
		withFile bool
	}{
		{"BTS count too high", "BHS|^~\\&\r" + msg + "BTS|2\r", CodeSegmentSequence, Location{Segment: "BTS", Sequence: 1, Field: 1}, true},
		{"BTS count too low", "BHS|^~\\&\r" + msg + msg + "BTS|1\r", CodeSegmentSequence, Location{Segment: "BTS", Sequence: 1, Field: 1}, true},
		{"second batch count", "FHS|^~\\&\rBHS|^~\\&\r" + msg + "BTS|1\rBHS|^~\\&\r" + msg + "BTS|3\rFTS|2\r", CodeSegmentSequence, Location{Segment: "BTS", Sequence: 2, Field: 1}, true},
		{"FTS count", "FHS|^~\\&\rBHS|^~\\&\r" + msg + "BTS|1\rFTS|2\r", CodeSegmentSequence, Location{Segment: "FTS", Sequence: 1, Field: 1}, true},
		{"BTS count not a number", "BHS|^~\\&\r" + msg + "BTS|one\r", CodeDataType, Location{Segment: "BTS", Sequence: 1, Field: 1}, true},
		{"BTS missing", "BHS|^~\\&\r" + msg, CodeSegmentSequence, Location{Segment: "BTS"}, false},
		{"FTS missing", "FHS|^~\\&\r" + msg, CodeSegmentSequence, Location{Segment: "FTS"}, false},
		{"BTS without BHS", msg + "BTS|1\r", CodeSegmentSequence, Location{Segment: "BTS", Sequence: 1, Position: 3}, false},
		{"FTS without FHS", msg + "FTS|1\r", CodeSegmentSequence, Location{Segment: "FTS", Sequence: 1, Position: 3}, false},
		{"second BHS before BTS", "BHS|^~\\&\r" + msg + "BHS|^~\\&\r", CodeSegmentSequence, Location{Segment: "BHS", Sequence: 2, Position: 4}, false},
		{"segment before MSH", "BHS|^~\\&\rPID|1\r" + msg + "BTS|1\r", CodeSegmentSequence, Location{Segment: "PID", Sequence: 1, Position: 2}, false},
		{"segment after FTS", "FHS|^~\\&\r" + msg + "FTS|1\rPID|1\r", CodeSegmentSequence, Location{Segment: "PID", Sequence: 2, Position: 5}, false},
		{"FHS not first", "BHS|^~\\&\rFHS|^~\\&\r", CodeSegmentSequence, Location{Segment: "FHS", Sequence: 1, Position: 2}, false},
		{"not a batch", "PID|1\r", CodeSegmentSequence, Location{Segment: "PID", Sequence: 1, Position: 1}, false},
		{"bad delimiters", "BHS|^^\r", CodeDataType, Location{Segment: "BHS", Sequence: 1, Field: 2}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := SplitBatch([]byte(tt.in))
			e := asErr(t, err)
			assert.Equal(t, tt.code, e.Code)
			assert.Equal(t, tt.loc, e.Loc)
			assert.Equal(t, tt.withFile, f != nil)
		})
	}
	_, err := SplitBatchWithLimits([]byte(strings.Repeat(msg, 10)), Limits{MaxSegments: 5})
	assert.Equal(t, CodeApplicationInternal, asErr(t, err).Code)
	_, err = SplitBatchWithLimits([]byte(msg), Limits{MaxBytes: 5})
	assert.Equal(t, CodeApplicationInternal, asErr(t, err).Code)

	_, err = SplitBatch([]byte("BHS|^~\\&\r" + msg + "BTS|2\r"))
	assert.Equal(t, "hl7v2: BTS^1^1: 100 segment sequence error: BTS-1 batch message count is 2 but there are 1", err.Error())
}
