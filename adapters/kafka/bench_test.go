package kafka

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"
)

// BenchmarkPublish measures synchronous, acks=all publishing of 1 KB
// records with distinct keys to a 6-partition topic, one call at a time,
// in batches of 1 and 100 records. The baseline is franz-go's kgo client
// doing the same (ProduceSync, acks=all) against the same broker in the
// same run: it shows what this package's kafka-go path costs against a
// client with its own batching.
//
//	go test ./adapters/kafka -run '^$' -bench Publish
//	KAFKA_BROKERS=host:9092 go test ./adapters/kafka -run '^$' -bench Publish
func BenchmarkPublish(b *testing.B) {
	brokers := MustBrokers(b)
	cfg := testConfig(brokers)
	value := make([]byte, 1024)
	for i := range value {
		value[i] = byte('A' + i%26)
	}

	for _, batch := range []int{1, 100} {
		b.Run(fmt.Sprintf("client=fhirhub/batch=%d", batch), func(b *testing.B) {
			topic := MustTopic(b, cfg, 6)
			p := MustProducer(b, cfg)
			recs := make([]Record, batch)
			ctx := context.Background()
			MustPublish(b, p, Record{Topic: topic, Value: value}) // connect + metadata outside the timer
			b.SetBytes(int64(batch * len(value)))
			for i := 0; b.Loop(); i++ {
				for j := range recs {
					recs[j] = Record{Topic: topic, Key: key(i*batch + j), Value: value}
				}
				if err := p.Publish(ctx, recs...); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "records/s")
		})
	}
	for _, batch := range []int{1, 100} {
		b.Run(fmt.Sprintf("client=kgo-baseline/batch=%d", batch), func(b *testing.B) {
			topic := MustTopic(b, cfg, 6)
			cl, err := kgo.NewClient(
				kgo.SeedBrokers(brokers...),
				kgo.RequiredAcks(kgo.AllISRAcks()),
				kgo.DisableIdempotentWrite(), // like kafka-go: no producer id
				kgo.ProducerLinger(0),
			)
			require.NoError(b, err)
			defer cl.Close()
			ctx := context.Background()
			require.NoError(b, cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: value}).FirstErr())
			recs := make([]*kgo.Record, batch)
			b.SetBytes(int64(batch * len(value)))
			for i := 0; b.Loop(); i++ {
				for j := range recs {
					recs[j] = &kgo.Record{Topic: topic, Key: key(i*batch + j), Value: value, Timestamp: time.Now()}
				}
				if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
