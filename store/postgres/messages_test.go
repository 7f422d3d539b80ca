package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/store"
	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

func testMessage(facility, control, body string, at time.Time) *store.HL7Message {
	return &store.HL7Message{
		ReceivedAt: at, Raw: []byte("MSH|^~\\&|LAB|" + facility + "|||20260101||ORU^R01|" + control + "|P|2.5.1\rPID|||" + body + "\r"),
		Channel: "mllp", SendingApp: "LAB", SendingFacility: facility, ControlID: control, Type: "ORU", Trigger: "R01",
		Version: "2.5.1", PatientID: body, Status: store.MessageReceived, AckCode: "AA",
	}
}

func TestReceiveMessagesDuplicatesAndConflicts(t *testing.T) {
	ctx := context.Background()
	s := pgtest.Store(t)
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)

	first := testMessage("HOSP", "1", "MRN1", t0)
	origs, err := s.ReceiveMessages(ctx, []*store.HL7Message{first})
	require.NoError(t, err)
	require.NotZero(t, first.ID)
	assert.Nil(t, origs[0])
	assert.Equal(t, store.MessageReceived, first.Status)

	// The same message again (with LF terminators, as some senders write
	// on resend), the same control id from another facility, another body
	// under the key, and a key repeated inside one batch.
	again := testMessage("HOSP", "1", "MRN1", t0.Add(time.Second))
	again.Raw = []byte(string(first.Raw[:len(first.Raw)-1]) + "\n")
	for i, b := range again.Raw {
		if b == '\r' {
			again.Raw[i] = '\n'
		}
	}
	other := testMessage("CLINIC", "1", "MRN1", t0.Add(time.Second))
	changed := testMessage("HOSP", "1", "MRN2", t0.Add(time.Second))
	inBatch1 := testMessage("HOSP", "2", "MRN3", t0.Add(time.Second))
	inBatch2 := testMessage("HOSP", "2", "MRN3", t0.Add(time.Second))
	rejected := testMessage("HOSP", "1", "MRN1", t0.Add(time.Second))
	rejected.Status, rejected.AckCode, rejected.Error = store.MessageRejected, "AR", "unsupported version"
	batch := []*store.HL7Message{again, other, changed, inBatch1, inBatch2, rejected}
	origs, err = s.ReceiveMessages(ctx, batch)
	require.NoError(t, err)

	assert.Equal(t, store.MessageDuplicate, again.Status)
	assert.Equal(t, first.ID, again.DuplicateOf)
	assert.Equal(t, "AA", again.AckCode)
	require.NotNil(t, origs[0])
	assert.Equal(t, first.ID, origs[0].ID)

	assert.Equal(t, store.MessageReceived, other.Status, "control ids are per sending facility")
	assert.Nil(t, origs[1])

	assert.Equal(t, store.MessageConflict, changed.Status)
	assert.Equal(t, first.ID, changed.DuplicateOf)
	assert.NotEmpty(t, changed.Error)

	assert.Equal(t, store.MessageReceived, inBatch1.Status)
	assert.Equal(t, store.MessageDuplicate, inBatch2.Status)
	assert.Equal(t, inBatch1.ID, inBatch2.DuplicateOf)

	assert.Equal(t, store.MessageRejected, rejected.Status, "a rejected message claims nothing")
	assert.Zero(t, rejected.DuplicateOf)

	for _, m := range append(batch, first) {
		require.NotZero(t, m.ID)
		got, err := s.Message(ctx, m.ID)
		require.NoError(t, err)
		assert.Equal(t, m.Status, got.Status)
		assert.Equal(t, m.Raw, got.Raw, "raw bytes kept as received")
	}
	_, err = s.Message(ctx, 1<<40)
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func TestReceiveMessagesConcurrentSameKey(t *testing.T) {
	ctx := context.Background()
	s := pgtest.Store(t)
	const n = 40
	msgs := make([]*store.HL7Message, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range msgs {
		msgs[i] = testMessage("HOSP", "42", "MRN42", time.Now())
		wg.Add(1)
		go func(m *store.HL7Message) {
			defer wg.Done()
			_, err := s.ReceiveMessages(ctx, []*store.HL7Message{m})
			errs <- err
		}(msgs[i])
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	claimants := 0
	for _, m := range msgs {
		if m.Status == store.MessageReceived {
			claimants++
		} else {
			assert.Equal(t, store.MessageDuplicate, m.Status)
		}
	}
	assert.Equal(t, 1, claimants, "exactly one of the racing copies claims the key")
}

func TestMessagesFilterAndPage(t *testing.T) {
	ctx := context.Background()
	s := pgtest.Store(t)
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	var batch []*store.HL7Message
	for i := range 25 {
		m := testMessage("HOSP", fmt.Sprint(i), fmt.Sprintf("MRN%d", i%5), t0.Add(time.Duration(i)*time.Minute))
		if i%2 == 1 {
			m.Type, m.Trigger = "ADT", "A01"
		}
		batch = append(batch, m)
	}
	_, err := s.ReceiveMessages(ctx, batch)
	require.NoError(t, err)

	// Paging newest first through everything, three at a time.
	var seen []string
	cursor := ""
	for {
		page, err := s.Messages(ctx, store.MessageQuery{Count: 3, Cursor: cursor})
		require.NoError(t, err)
		for _, m := range page.Messages {
			assert.Nil(t, m.Raw, "no raw unless asked")
			seen = append(seen, m.ControlID)
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	require.Len(t, seen, 25)
	assert.Equal(t, "24", seen[0])
	assert.Equal(t, "0", seen[24])

	cases := []struct {
		name string
		q    store.MessageQuery
		want int
	}{
		{"type", store.MessageQuery{Type: "ADT"}, 12},
		{"type and trigger", store.MessageQuery{Type: "ORU", Trigger: "R01"}, 13},
		{"patient", store.MessageQuery{PatientID: "MRN0"}, 5},
		{"control id", store.MessageQuery{ControlID: "7"}, 1},
		{"time range", store.MessageQuery{Since: t0.Add(5 * time.Minute), Before: t0.Add(10 * time.Minute)}, 5},
		{"status", store.MessageQuery{Status: store.MessageReceived}, 25},
		{"no match", store.MessageQuery{Status: store.MessageError}, 0},
		{"sender", store.MessageQuery{SendingFacility: "HOSP", SendingApp: "LAB"}, 25},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.Count = 500
			tc.q.WithRaw = true
			page, err := s.Messages(ctx, tc.q)
			require.NoError(t, err)
			assert.Len(t, page.Messages, tc.want)
			for _, m := range page.Messages {
				assert.NotEmpty(t, m.Raw)
			}
		})
	}

	_, err = s.Messages(ctx, store.MessageQuery{Cursor: "not-a-cursor"})
	var fe *fhir.Error
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, fhir.IssueInvalid, fe.Code)
}

func TestUnpublishedAndMarkPublished(t *testing.T) {
	ctx := context.Background()
	s := pgtest.Store(t)
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	a, b := testMessage("HOSP", "1", "MRN1", t0), testMessage("HOSP", "2", "MRN2", t0)
	dup := testMessage("HOSP", "1", "MRN1", t0)
	rej := testMessage("HOSP", "3", "MRN3", t0)
	rej.Status = store.MessageRejected
	_, err := s.ReceiveMessages(ctx, []*store.HL7Message{a, b, dup, rej})
	require.NoError(t, err)

	un, err := s.Unpublished(ctx, t0.Add(time.Second), 10)
	require.NoError(t, err)
	require.Len(t, un, 2, "only accepted claimants are published")
	assert.Equal(t, a.ID, un[0].ID)
	assert.Equal(t, a.Raw, un[0].Raw)

	require.NoError(t, s.MarkPublished(ctx, []int64{a.ID}))
	got, err := s.Message(ctx, a.ID)
	require.NoError(t, err)
	assert.True(t, got.Published)
	got, err = s.Message(ctx, dup.ID)
	require.NoError(t, err)
	assert.False(t, got.Published, "a duplicate is never published")
	un, err = s.Unpublished(ctx, t0.Add(time.Second), 10)
	require.NoError(t, err)
	require.Len(t, un, 1)
	assert.Equal(t, b.ID, un[0].ID)
	un, err = s.Unpublished(ctx, t0, 10)
	require.NoError(t, err)
	assert.Empty(t, un, "messages received at or after the cut-off are left to their receiver")
}

func TestFinishMessage(t *testing.T) {
	ctx := context.Background()
	s := pgtest.Store(t)
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	m, dup := testMessage("HOSP", "1", "MRN1", t0), testMessage("HOSP", "1", "MRN1", t0)
	_, err := s.ReceiveMessages(ctx, []*store.HL7Message{m, dup})
	require.NoError(t, err)

	require.NoError(t, s.FinishMessage(ctx, m.ID, store.MessageOutcome{Status: store.MessageError, Error: "PID-3: no identifier", At: t0}))
	require.NoError(t, s.FinishMessage(ctx, m.ID, store.MessageOutcome{Status: store.MessageProcessed,
		Resources: []string{"Patient/1/_history/1"}, At: t0.Add(time.Minute)}))
	got, err := s.Message(ctx, m.ID)
	require.NoError(t, err)
	assert.Equal(t, store.MessageProcessed, got.Status)
	assert.Equal(t, 2, got.Attempts)
	assert.Empty(t, got.Error, "a later success clears the error")
	assert.Equal(t, []string{"Patient/1/_history/1"}, got.Resources)
	assert.True(t, got.ProcessedAt.Equal(t0.Add(time.Minute)))

	assert.ErrorIs(t, s.FinishMessage(ctx, dup.ID, store.MessageOutcome{Status: store.MessageProcessed}), store.ErrNotFound,
		"a duplicate is never processed")
	assert.Error(t, s.FinishMessage(ctx, m.ID, store.MessageOutcome{Status: store.MessageRejected}))
}
