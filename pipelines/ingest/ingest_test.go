package ingest_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/adapters/kafka"
	"github.com/fhirhub/fhirhub/adapters/kafka/kafkatest"
	"github.com/fhirhub/fhirhub/fhir/search"
	"github.com/fhirhub/fhirhub/fhir/validate"
	"github.com/fhirhub/fhirhub/pipelines/ingest"
	"github.com/fhirhub/fhirhub/pipelines/intake"
	"github.com/fhirhub/fhirhub/service"
	"github.com/fhirhub/fhirhub/store"
	"github.com/fhirhub/fhirhub/store/postgres"
	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

type env struct {
	store    *postgres.Store
	svc      *service.Service
	intake   *intake.Intake
	kcfg     kafka.Config
	producer *kafka.Producer
}

// newService returns a fresh store and the FHIR service over it, with
// their search-parameter registry.
func newService(t *testing.T) (*postgres.Store, *service.Service, *search.Registry) {
	t.Helper()
	reg := search.NewRegistry()
	st := pgtest.StoreWith(t, postgres.Config{Extractor: reg})
	svc, err := service.New(service.Config{Store: st, Validator: validate.New(), Registry: reg, BaseURL: "http://localhost/fhir"})
	require.NoError(t, err)
	return st, svc, reg
}

// start wires the store, the FHIR service, an intake publishing to the
// inbound topic and the ingest pipeline, as `fhirhub serve` does.
func start(t *testing.T) *env {
	t.Helper()
	st, svc, _ := newService(t)
	kcfg := kafkatest.Config(kafkatest.Brokers(t))
	producer, err := kafka.NewProducer(kcfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = producer.Close() })

	icfg := intake.DefaultConfig()
	icfg.Store, icfg.Publisher = st, producer
	icfg.Policy.MessageTypes = nil // everything, so that unsupported types reach the pipeline
	in, err := intake.New(icfg)
	require.NoError(t, err)
	require.NoError(t, in.Start(context.Background()))
	t.Cleanup(func() { _ = in.Close(context.Background()) })

	// Messages first seen on the topic are stored by an intake that does
	// not publish (they are on the topic already).
	fcfg := intake.DefaultConfig()
	fcfg.Store, fcfg.Policy.MessageTypes = st, nil
	firstSight, err := intake.New(fcfg)
	require.NoError(t, err)
	require.NoError(t, firstSight.Start(context.Background()))
	t.Cleanup(func() { _ = firstSight.Close(context.Background()) })

	cfg := ingest.DefaultConfig()
	cfg.Messages, cfg.Receiver, cfg.Service, cfg.DLQ, cfg.Kafka = st, firstSight, svc, producer, kcfg
	cfg.MaxAttempts, cfg.Backoff = 3, 10*time.Millisecond
	p, err := ingest.New(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return &env{store: st, svc: svc, intake: in, kcfg: kcfg, producer: producer}
}

// waitFinished polls until message id is no longer `received`.
func (e *env) waitFinished(t *testing.T, id int64, attempts int) *store.HL7Message {
	t.Helper()
	deadline := time.Now().Add(kafkatest.Timeout)
	for {
		m, err := e.store.Message(context.Background(), id)
		require.NoError(t, err)
		if m.Status != store.MessageReceived && m.Attempts >= attempts {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %d still %s after %d attempts", id, m.Status, m.Attempts)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func adtA01(control, mrn, family string) []byte {
	return []byte("MSH|^~\\&|ADT|HOSP|FHIRHUB|HOSP|20261102083000||ADT^A01^ADT_A01|" + control + "|P|2.5.1\r" +
		"EVN|A01|20261102083000\r" +
		"PID|1||" + mrn + "^^^HOSP^MR||" + family + "^Thandi||19840229|F\r" +
		"PV1|1|I|WARD1^101^A" + strings.Repeat("|", 16) + "V" + control + "\r")
}

func (e *env) search(t *testing.T, typ, q string) []*store.Resource {
	t.Helper()
	params, err := url.ParseQuery(q)
	require.NoError(t, err)
	res, _, _, err := e.svc.Search(context.Background(), typ, params)
	require.NoError(t, err)
	return res.Matches
}

func TestIngestMapsStoresAndIsIdempotent(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	ack, msg := e.intake.Receive(ctx, adtA01("I1", "MRN-77", "Dlamini"), intake.Source{Channel: "mllp"})
	require.Contains(t, string(ack), "MSA|AA|I1")
	m := e.waitFinished(t, msg.ID, 1)
	require.Equal(t, store.MessageProcessed, m.Status, m.Error)
	assert.NotEmpty(t, m.Resources)

	patients := e.search(t, "Patient", "identifier=MRN-77")
	require.Len(t, patients, 1)
	assert.Equal(t, int64(1), patients[0].Version)

	// Replaying the message changes nothing.
	n, err := intake.Replay(ctx, e.store, e.producer, kafka.TopicHL7Inbound, store.MessageQuery{ControlID: "I1"})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	m = e.waitFinished(t, msg.ID, 2)
	assert.Equal(t, store.MessageProcessed, m.Status)
	patients = e.search(t, "Patient", "identifier=MRN-77")
	require.Len(t, patients, 1)
	assert.Equal(t, int64(1), patients[0].Version, "no new version when nothing changed")
}

func TestPoisonMessageGoesToTheDLQAndOthersContinue(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	// An ADT without any patient identifier cannot be mapped.
	poison := []byte("MSH|^~\\&|ADT|HOSP|FHIRHUB|HOSP|20261102083000||ADT^A01^ADT_A01|P1|P|2.5.1\rEVN|A01\rPID|1||||Nobody^Known\r")
	_, bad := e.intake.Receive(ctx, poison, intake.Source{})
	_, good := e.intake.Receive(ctx, adtA01("G1", "MRN-88", "Nkosi"), intake.Source{})

	m := e.waitFinished(t, bad.ID, 1)
	assert.Equal(t, store.MessageError, m.Status)
	assert.NotEmpty(t, m.Error)
	m = e.waitFinished(t, good.ID, 1)
	assert.Equal(t, store.MessageProcessed, m.Status, m.Error)

	dlq := kafkatest.Consume(t, e.kcfg, kafka.TopicHL7DLQ, 1)
	assert.Equal(t, poison, dlq[0].Value)
	reason, ok := dlq[0].HeaderValue("fhirhub-error")
	assert.True(t, ok)
	assert.NotEmpty(t, reason)
	_, ok = dlq[0].HeaderValue("fhirhub-first-failed-at")
	assert.True(t, ok)
}

func TestMessagesProducedToTheTopicAreStoredOnFirstSight(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	raw := adtA01("K1", "MRN-99", "Mokoena")
	require.NoError(t, e.producer.Publish(ctx, kafka.Record{Topic: kafka.TopicHL7Inbound, Key: []byte("MRN-99"), Value: raw}))
	require.NoError(t, e.producer.Publish(ctx, kafka.Record{Topic: kafka.TopicHL7Inbound, Key: []byte("MRN-99"), Value: raw}))

	deadline := time.Now().Add(kafkatest.Timeout)
	for {
		page, err := e.store.Messages(ctx, store.MessageQuery{ControlID: "K1"})
		require.NoError(t, err)
		statuses := map[store.MessageStatus]int{}
		for _, m := range page.Messages {
			statuses[m.Status]++
			assert.Equal(t, "kafka", m.Channel)
		}
		if statuses[store.MessageProcessed] == 1 && statuses[store.MessageDuplicate] == 1 {
			break
		}
		require.True(t, time.Now().Before(deadline), "statuses %v", statuses)
		time.Sleep(20 * time.Millisecond)
	}
	assert.Len(t, e.search(t, "Patient", "identifier=MRN-99"), 1)
}

// TestOutcomeCommitsWithTheEffect: the message's outcome is recorded in
// the FHIR transaction, so a message whose outcome cannot be recorded
// (here, one the message store does not hold) writes nothing, and a
// processed message names what its transaction wrote.
func TestOutcomeCommitsWithTheEffect(t *testing.T) {
	ctx := context.Background()
	st, svc, _ := newService(t)
	cfg := ingest.DefaultConfig()
	cfg.Messages, cfg.Receiver, cfg.Service, cfg.DLQ = st, struct{ ingest.Receiver }{}, svc, struct{ ingest.Publisher }{}
	p, err := ingest.New(cfg)
	require.NoError(t, err)
	msg := func(control, mrn string) *store.HL7Message {
		return &store.HL7Message{ReceivedAt: time.Now(), Raw: adtA01(control, mrn, "Dube"), Channel: "mllp", SendingApp: "ADT",
			SendingFacility: "HOSP", ControlID: control, Type: "ADT", Trigger: "A01", Version: "2.5.1",
			Status: store.MessageReceived, AckCode: "AA"}
	}
	e := &env{store: st, svc: svc}

	unknown := msg("O1", "MRN-O1")
	unknown.ID = 987654
	require.Error(t, p.Apply(ctx, unknown))
	assert.Empty(t, e.search(t, "Patient", "identifier=MRN-O1"), "nothing written without its outcome")

	m := msg("O2", "MRN-O2")
	_, err = st.ReceiveMessages(ctx, []*store.HL7Message{m})
	require.NoError(t, err)
	require.NoError(t, p.Apply(ctx, m))
	got, err := st.Message(ctx, m.ID)
	require.NoError(t, err)
	assert.Equal(t, store.MessageProcessed, got.Status)
	patients := e.search(t, "Patient", "identifier=MRN-O2")
	require.Len(t, patients, 1)
	assert.Contains(t, got.Resources, "Patient/"+patients[0].ID+"/_history/1")
}
