package intake_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/adapters/kafka"
	"github.com/fhirhub/fhirhub/adapters/kafka/kafkatest"
	"github.com/fhirhub/fhirhub/pipelines/intake"
	"github.com/fhirhub/fhirhub/store"
	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

func producer(t *testing.T, cfg kafka.Config) *kafka.Producer {
	t.Helper()
	p, err := kafka.NewProducer(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func startIntake(t *testing.T, cfg intake.Config) *intake.Intake {
	t.Helper()
	in, err := intake.New(cfg)
	require.NoError(t, err)
	require.NoError(t, in.Start(context.Background()))
	t.Cleanup(func() { _ = in.Close(context.Background()) })
	return in
}

// waitPublished polls until n messages are marked published.
func waitPublished(t *testing.T, s interface {
	Messages(context.Context, store.MessageQuery) (*store.MessagePage, error)
}, n int) {
	t.Helper()
	deadline := time.Now().Add(kafkatest.Timeout)
	for {
		page, err := s.Messages(context.Background(), store.MessageQuery{Count: 500})
		require.NoError(t, err)
		published := 0
		for _, m := range page.Messages {
			if m.Published {
				published++
			}
		}
		if published >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages published", published, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPublishAcceptedMessages(t *testing.T) {
	ctx := context.Background()
	s := pgtest.Store(t)
	kcfg := kafkatest.Config(kafkatest.Brokers(t))
	topic := kafkatest.Topic(t, kcfg, "inbound", 3)
	cfg := intake.DefaultConfig()
	cfg.Store, cfg.Publisher, cfg.Topic = s, producer(t, kcfg), topic
	in := startIntake(t, cfg)

	for i := range 6 {
		in.Receive(ctx, oru(fmt.Sprintf("P%d", i), "", fmt.Sprintf("MRN%d", i%2)), intake.Source{Channel: "mllp"})
	}
	in.Receive(ctx, oru("P0", "", "MRN0"), intake.Source{}) // duplicate: not published again
	in.Receive(ctx, []byte("garbage\r"), intake.Source{})   // rejected: not published
	recs := kafkatest.Consume(t, kcfg, topic, 6)
	waitPublished(t, s, 6)

	byKey := map[string][]string{}
	for _, r := range recs {
		id, ok := r.HeaderValue(intake.HeaderMessageID)
		require.True(t, ok)
		m, err := s.Message(ctx, mustInt(t, string(id)))
		require.NoError(t, err)
		assert.Equal(t, m.Raw, r.Value)
		typ, _ := r.HeaderValue(intake.HeaderType)
		assert.Equal(t, "ORU^R01", string(typ))
		control, _ := r.HeaderValue(intake.HeaderControlID)
		byKey[string(r.Key)] = append(byKey[string(r.Key)], string(control))
	}
	assert.Equal(t, map[string][]string{"CITYLAB|MRN0": {"P0", "P2", "P4"}, "CITYLAB|MRN1": {"P1", "P3", "P5"}}, byKey,
		"keyed by patient identifier, in order per patient")
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	_, err := fmt.Sscan(s, &n)
	require.NoError(t, err)
	return n
}

// A message stored and acknowledged by a process that died before
// publishing is published when an intake starts again.
func TestRepairPublishesWhatAnEarlierRunLeft(t *testing.T) {
	ctx := context.Background()
	s := pgtest.Store(t)
	crashed := intake.DefaultConfig()
	crashed.Store = s // no publisher: stored and ACKed, never published
	first := startIntake(t, crashed)
	for i := range 3 {
		ack, _ := first.Receive(ctx, oru(fmt.Sprintf("R%d", i), "", "MRN9"), intake.Source{})
		code, _, _ := ackOf(t, ack)
		require.Equal(t, "AA", code)
	}

	kcfg := kafkatest.Config(kafkatest.Brokers(t))
	topic := kafkatest.Topic(t, kcfg, "inbound", 1)
	cfg := intake.DefaultConfig()
	cfg.Store, cfg.Publisher, cfg.Topic = s, producer(t, kcfg), topic
	startIntake(t, cfg)
	recs := kafkatest.Consume(t, kcfg, topic, 3)
	for i, r := range recs {
		control, _ := r.HeaderValue(intake.HeaderControlID)
		assert.Equal(t, fmt.Sprintf("R%d", i), string(control))
	}
	waitPublished(t, s, 3)
}

// While the broker is down messages are still stored and acknowledged;
// the repair loop publishes them once it is back.
func TestPublishAfterBrokerOutage(t *testing.T) {
	ctx := context.Background()
	s := pgtest.Store(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there yet

	kcfg := kafkatest.Config([]string{addr})
	kcfg.MaxAttempts = 1
	cfg := intake.DefaultConfig()
	cfg.Store, cfg.Publisher = s, producer(t, kcfg)
	cfg.RepairInterval, cfg.RepairAge = 100*time.Millisecond, time.Millisecond
	startIntake(t, cfg).Receive(ctx, oru("O1", "", "MRN1"), intake.Source{})
	m, err := s.Messages(ctx, store.MessageQuery{ControlID: "O1"})
	require.NoError(t, err)
	require.Len(t, m.Messages, 1)
	assert.Equal(t, "AA", m.Messages[0].AckCode, "acknowledged once stored, broker or not")

	kafkatest.Embedded(t, kafka.EmbeddedConfig{Addr: addr, Topics: kafka.SystemTopics()})
	recs := kafkatest.Consume(t, kcfg, kafka.TopicHL7Inbound, 1)
	control, _ := recs[0].HeaderValue(intake.HeaderControlID)
	assert.Equal(t, "O1", string(control))
	waitPublished(t, s, 1)
}

func TestReplay(t *testing.T) {
	ctx := context.Background()
	s := pgtest.Store(t)
	cfg := intake.DefaultConfig()
	cfg.Store = s
	in := startIntake(t, cfg)
	var ids []int64
	for i := range 4 {
		_, m := in.Receive(ctx, oru(fmt.Sprintf("Y%d", i), "", "MRN1"), intake.Source{})
		ids = append(ids, m.ID)
	}
	in.Receive(ctx, oru("Y0", "", "MRN1"), intake.Source{}) // a duplicate, never replayed
	for _, id := range []int64{ids[1], ids[3]} {
		require.NoError(t, s.FinishMessage(ctx, id, store.MessageOutcome{Status: store.MessageError, Error: "PID-3: no identifier", At: time.Now()}))
	}

	kcfg := kafkatest.Config(kafkatest.Brokers(t))
	topic := kafkatest.Topic(t, kcfg, "replay", 1)
	p := producer(t, kcfg)
	n, err := intake.Replay(ctx, s, p, topic, store.MessageQuery{Status: store.MessageError})
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	n, err = intake.Replay(ctx, s, p, topic, store.MessageQuery{ControlID: "Y0"})
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the duplicate of Y0 is not replayed")
	recs := kafkatest.Consume(t, kcfg, topic, 3)
	var got []string
	for _, r := range recs {
		c, _ := r.HeaderValue(intake.HeaderControlID)
		got = append(got, string(c))
	}
	assert.Equal(t, []string{"Y1", "Y3", "Y0"}, got, "in the order received")

	_, err = intake.Replay(ctx, s, p, topic, store.MessageQuery{Status: store.MessageDuplicate})
	assert.Error(t, err)
}
