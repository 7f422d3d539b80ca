package intake_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/pipelines/intake"
	"github.com/fhirhub/fhirhub/store"
	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

// TestAfterCommitTransientFailure checks the answer to a message whose
// processing keeps failing for reasons of ours: a bounded number of
// attempts, then AE with ERR-3 207, the message left received; the
// sender's resend is a duplicate that processes the original and is
// answered AA. (The mapping and the FHIR commit run for real in the
// cmd/fhirhub end-to-end tests; here Apply plays a database that is down
// and comes back.)
func TestAfterCommitTransientFailure(t *testing.T) {
	ctx := context.Background()
	st := pgtest.Store(t)
	var calls atomic.Int32
	var down atomic.Bool
	down.Store(true)
	ac := intake.DefaultAfterCommit()
	ac.Attempts, ac.Backoff, ac.Within = 3, time.Millisecond, 5*time.Second
	ac.Apply = func(ctx context.Context, m *store.HL7Message) error {
		calls.Add(1)
		if down.Load() {
			return errors.New("database unavailable")
		}
		return st.FinishMessage(ctx, m.ID, store.MessageOutcome{Status: store.MessageProcessed, At: time.Now()})
	}
	ac.Permanent = func(error) bool { return false }
	ac.Fail = func(context.Context, *store.HL7Message, error, int, time.Time) {
		t.Error("a transient failure failed the message")
	}
	ac.Reason = func(err error) string { return err.Error() }
	cfg := intake.DefaultConfig()
	cfg.Store, cfg.AfterCommit = st, &ac
	in, err := intake.New(cfg)
	require.NoError(t, err)
	require.NoError(t, in.Start(ctx))
	t.Cleanup(func() { _ = in.Close(ctx) })

	ack, msg := in.Receive(ctx, oru("T1", "", "MRN1"), intake.Source{Channel: "mllp"})
	code, control, errCodes := ackOf(t, ack)
	assert.Equal(t, "AE", code)
	assert.Equal(t, "T1", control)
	assert.Equal(t, []string{"207"}, errCodes)
	assert.Contains(t, string(ack), "send it again later")
	assert.Equal(t, int32(3), calls.Load(), "attempts")
	stored, err := st.Message(ctx, msg.ID)
	require.NoError(t, err)
	assert.Equal(t, store.MessageReceived, stored.Status, "left for the pipeline")

	down.Store(false)
	ack, dup := in.Receive(ctx, oru("T1", "", "MRN1"), intake.Source{Channel: "mllp"})
	code, _, errCodes = ackOf(t, ack)
	assert.Equal(t, "AA", code)
	assert.Empty(t, errCodes)
	assert.Equal(t, store.MessageDuplicate, dup.Status)
	stored, err = st.Message(ctx, msg.ID)
	require.NoError(t, err)
	assert.Equal(t, store.MessageProcessed, stored.Status)

	// In enhanced mode the same failure is CE.
	down.Store(true)
	ack, _ = in.Receive(ctx, oru("T2", "AL|NE", "MRN1"), intake.Source{Channel: "mllp"})
	code, _, errCodes = ackOf(t, ack)
	assert.Equal(t, "CE", code)
	assert.Equal(t, []string{"207"}, errCodes)
}
