package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fhirhub/fhirhub/adapters/hl7v2"
	"github.com/fhirhub/fhirhub/adapters/kafka"
	"github.com/fhirhub/fhirhub/adapters/kafka/kafkatest"
	"github.com/fhirhub/fhirhub/adapters/mllp"
	"github.com/fhirhub/fhirhub/store/postgres/pgtest"
)

// TestMLLPConcurrentConnections runs the serve wiring of MLLP, intake,
// store and broker with 200 connections sending at once: every message is
// answered AA, stored once, and published.
func TestMLLPConcurrentConnections(t *testing.T) {
	ctx := context.Background()
	st := pgtest.Store(t)
	kcfg := kafkatest.Config(kafkatest.Brokers(t))
	producer, err := kafka.NewProducer(kcfg)
	require.NoError(t, err)
	defer producer.Close()
	cfg := config{MLLPAddr: "127.0.0.1:0", MLLPMaxMessage: 1 << 20, MLLPReadTimeout: 10 * time.Second,
		MLLPIdleTimeout: time.Minute, HL7MessageTypes: "ADT,ORU^R01"}
	srv, stop, err := startMLLP(ctx, &cfg, st, producer, nil, slog.New(slog.DiscardHandler))
	require.NoError(t, err)

	const conns, per = 200, 5
	var wg sync.WaitGroup
	failures := make(chan string, conns*per)
	for c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client, err := mllp.NewClient(mllp.DefaultClientConfig(srv.Addr().String()))
			if err != nil {
				failures <- err.Error()
				return
			}
			defer client.Close()
			for i := range per {
				ack, err := client.Send(ctx, hl7Message(fmt.Sprintf("E%d-%d", c, i), c))
				if err != nil {
					failures <- err.Error()
					return
				}
				m, err := hl7v2.Parse(ack)
				if err != nil || m.Segment("MSA", 1).Field(1).String() != "AA" {
					failures <- fmt.Sprintf("E%d-%d: %q", c, i, ack)
				}
			}
		}()
	}
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Error(f)
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, srv.Shutdown(sctx))
	stop() // drains the publisher

	var stored, published int
	require.NoError(t, st.Pool().QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE id NOT IN (SELECT id FROM hl7_message_unpublished)) FROM hl7_message WHERE status = 'received'`).
		Scan(&stored, &published))
	assert.Equal(t, conns*per, stored)
	recs := kafkatest.Consume(t, kcfg, kafka.TopicHL7Inbound, conns*per)
	assert.Len(t, recs, conns*per)
	assert.Equal(t, stored, published, "closing the intake publishes what it accepted")
}
