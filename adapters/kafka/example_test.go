package kafka_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/fhirhub/fhirhub/adapters/kafka"
)

// Publish an HL7 v2 message keyed by patient identifier, then consume it in
// a consumer group and commit it after its effect.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	broker, err := kafka.StartEmbedded(ctx, kafka.DefaultEmbeddedConfig())
	if err != nil {
		log.Fatal(err)
	}
	defer broker.Close()

	cfg := kafka.DefaultConfig()
	cfg.Brokers = broker.Brokers()

	producer, err := kafka.NewProducer(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer producer.Close()
	err = producer.Publish(ctx, kafka.Record{
		Topic:   kafka.TopicHL7Inbound,
		Key:     []byte("MRN-12345"),
		Value:   []byte("MSH|^~\\&|LIS|LAB|FHIRHUB|HOSP|20260301123000||ORU^R01|MSG0001|P|2.5.1"),
		Headers: []kafka.Header{{Key: "message-id", Value: []byte("MSG0001")}},
	})
	if err != nil {
		log.Fatal(err)
	}

	consumer, err := kafka.NewConsumer(cfg, "ingest", kafka.TopicHL7Inbound)
	if err != nil {
		log.Fatal(err)
	}
	defer consumer.Close()
	rec, err := consumer.Fetch(ctx)
	if err != nil {
		log.Fatal(err)
	}
	id, _ := rec.HeaderValue("message-id")
	fmt.Printf("%s offset %d: message %s\n", rec.Topic, rec.Offset, id)
	// ... apply the message's effect durably, then:
	if err := consumer.Commit(ctx, rec); err != nil {
		log.Fatal(err)
	}
	// Output:
	// hl7v2.inbound offset 0: message MSG0001
}
