package changes_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/adapters/kafka"
	"github.com/fhirhub/fhirhub/adapters/kafka/kafkatest"
	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/pipelines/changes"
	"github.com/fhirhub/fhirhub/store"
	"github.com/fhirhub/fhirhub/store/postgres"
	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func obj(t *testing.T, s string) fhir.Object {
	t.Helper()
	v, err := fhir.ParseJSON([]byte(s))
	require.NoError(t, err)
	return v.(fhir.Object)
}

// setup returns a store, the test broker, a topic of its own with
// partitions, and a producer.
func setup(t *testing.T, partitions int) (*postgres.Store, kafka.Config, string, *kafka.Producer) {
	t.Helper()
	s := pgtest.Store(t)
	kcfg := kafkatest.Config(kafkatest.Brokers(t))
	topic := kafkatest.Topic(t, kcfg, "changes", partitions)
	producer, err := kafka.NewProducer(kcfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = producer.Close() })
	return s, kcfg, topic, producer
}

func TestChangesArePublishedInOrderOnce(t *testing.T) {
	ctx := context.Background()
	s, kcfg, topic, producer := setup(t, 3)

	_, err := s.Create(ctx, obj(t, `{"resourceType":"Patient","id":"p1","name":[{"family":"Dlamini"}]}`))
	require.NoError(t, err)
	for i := range 3 {
		_, err = s.Create(ctx, obj(t, fmt.Sprintf(`{"resourceType":"Observation","id":"o%d","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"}}`, i)))
		require.NoError(t, err)
	}
	_, err = s.Create(ctx, obj(t, `{"resourceType":"Organization","id":"org1","name":"Lab"}`))
	require.NoError(t, err)
	require.NoError(t, s.Transaction(ctx, func(ctx context.Context, tx store.Tx) error {
		if _, _, err := tx.Put(ctx, obj(t, `{"resourceType":"Observation","id":"o1","status":"amended","code":{"text":"x"},"subject":{"reference":"Patient/p1"}}`), 0, "PUT"); err != nil {
			return err
		}
		_, err := tx.Delete(ctx, "Observation", "o2", 0)
		return err
	}))
	// A transaction that rolls back leaves no event.
	rollback := fmt.Errorf("roll back")
	err = s.Transaction(ctx, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.Create(ctx, obj(t, `{"resourceType":"Patient","id":"ghost"}`), "POST"); err != nil {
			return err
		}
		return rollback
	})
	require.ErrorIs(t, err, rollback)

	// Two publishers, as two fhirhub processes would run.
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{}, 2)
	for range 2 {
		cfg := changes.DefaultConfig()
		cfg.Feed, cfg.Publisher, cfg.Topic, cfg.Batch, cfg.Interval = s, producer, topic, 2, 10*time.Millisecond
		o, err := changes.New(cfg)
		require.NoError(t, err)
		go func() { _ = o.Run(runCtx); done <- struct{}{} }()
	}
	recs := kafkatest.Consume(t, kcfg, topic, 7)
	cancel()
	<-done
	<-done

	var byKey = map[string][]string{}
	seen := map[string]bool{}
	for _, r := range recs {
		var ev changes.Event
		require.NoError(t, json.Unmarshal(r.Value, &ev))
		assert.False(t, seen[ev.ID], "event %s published twice", ev.ID)
		seen[ev.ID] = true
		byKey[string(r.Key)] = append(byKey[string(r.Key)], ev.Operation+" "+ev.ID)
		if ev.Operation != "delete" {
			assert.Equal(t, ev.ResourceType, fhir.ResourceType(obj(t, string(ev.Resource))), "the resource is in the event")
		}
	}
	assert.Equal(t, map[string][]string{
		"p1": {"create Patient/p1/_history/1", "create Observation/o0/_history/1", "create Observation/o1/_history/1",
			"create Observation/o2/_history/1", "update Observation/o1/_history/2", "delete Observation/o2/_history/2"},
		"Organization/org1": {"create Organization/org1/_history/1"},
	}, byKey, "keyed by patient compartment, in commit order")

	var left int
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT count(*) FROM outbox`).Scan(&left))
	assert.Zero(t, left, "published changes leave the outbox")
}

// TestAuditEventsAreNotPublished: the audit trail leaves the outbox
// without reaching fhir.changes.
func TestAuditEventsAreNotPublished(t *testing.T) {
	ctx := context.Background()
	s, kcfg, topic, producer := setup(t, 1)

	_, err := s.Create(ctx, obj(t, `{"resourceType":"AuditEvent","id":"a1","type":{"code":"rest"},"recorded":"2026-11-02T08:00:00Z",`+
		`"agent":[{"requestor":true}],"source":{"observer":{"display":"fhirhub"}}}`))
	require.NoError(t, err)
	_, err = s.Create(ctx, obj(t, `{"resourceType":"Organization","id":"org1","name":"Lab"}`))
	require.NoError(t, err)

	cfg := changes.DefaultConfig()
	cfg.Feed, cfg.Publisher, cfg.Topic, cfg.Interval = s, producer, topic, 10*time.Millisecond
	o, err := changes.New(cfg)
	require.NoError(t, err)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = o.Run(runCtx); close(done) }()
	recs := kafkatest.Consume(t, kcfg, topic, 1)
	cancel()
	<-done
	assert.Equal(t, "Organization/org1", string(recs[0].Key), "the first event is the Organization's: the AuditEvent before it was skipped")
	var left int
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT count(*) FROM outbox`).Scan(&left))
	assert.Zero(t, left, "the AuditEvent's change left the outbox too")
}

// TestTenantsHaveTopicsOfTheirOwn: each tenant's changes go to a topic
// of its own, created with its first event, and only there; the default
// tenant's stay on the base topic.
func TestTenantsHaveTopicsOfTheirOwn(t *testing.T) {
	ctx := context.Background()
	s, kcfg, topic, producer := setup(t, 2)

	for i, tenant := range []string{"", "acme", "bravo", "acme"} {
		in := store.WithScope(ctx, store.Scope{Tenant: tenant})
		_, err := s.Create(in, obj(t, fmt.Sprintf(`{"resourceType":"Organization","id":"org%d","name":"Lab %s"}`, i, tenant)))
		require.NoError(t, err)
	}
	var ensured []string
	cfg := changes.DefaultConfig()
	cfg.Feed, cfg.Publisher, cfg.Topic, cfg.Interval = s, producer, topic, 10*time.Millisecond
	cfg.EnsureTopic = func(ctx context.Context, name string) error {
		ensured = append(ensured, name)
		return kafka.EnsureTopics(ctx, kcfg, kafka.TopicSpec{Name: name, Partitions: 2})
	}
	o, err := changes.New(cfg)
	require.NoError(t, err)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = o.Run(runCtx); close(done) }()
	byTopic := map[string][]changes.Event{}
	for _, c := range []struct {
		tenant string
		n      int
	}{{"", 1}, {"acme", 2}, {"bravo", 1}} {
		name := changes.TopicOf(topic, c.tenant)
		for _, r := range kafkatest.Consume(t, kcfg, name, c.n) {
			var ev changes.Event
			require.NoError(t, json.Unmarshal(r.Value, &ev))
			byTopic[name] = append(byTopic[name], ev)
			assert.Equal(t, c.tenant, string(headerOf(r, changes.HeaderTenant)))
		}
	}
	cancel()
	<-done
	assert.ElementsMatch(t, []string{topic + ".acme", topic + ".bravo"}, ensured, "each tenant's topic is created once")
	for name, evs := range byTopic {
		for _, ev := range evs {
			assert.Equal(t, name, changes.TopicOf(topic, ev.Tenant), "event %s on the wrong topic", ev.ID)
			assert.Contains(t, string(ev.Resource), "Lab "+ev.Tenant)
		}
	}
	var left int
	require.NoError(t, s.Pool().QueryRow(ctx, `SELECT count(*) FROM outbox`).Scan(&left))
	assert.Zero(t, left)
}

func headerOf(r kafka.Record, key string) []byte {
	for _, h := range r.Headers {
		if h.Key == key {
			return h.Value
		}
	}
	return nil
}
