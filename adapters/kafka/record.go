package kafka

import (
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// Record is one Kafka record as fhirhub sees it.
type Record struct {
	Topic string
	// Key picks the partition: records with equal keys go to the same
	// partition, in publish order. A nil key spreads records randomly.
	// Keys are usually patient identifiers: never log them.
	Key []byte
	// Value is the payload (raw ER7, a JSON event). Never log it.
	Value []byte
	// Headers are ordered; Kafka allows repeated keys.
	Headers []Header
	// Time is the record's timestamp; Publish uses the current time when
	// it is zero.
	Time time.Time

	// Partition and Offset locate a record returned by [Consumer.Fetch];
	// Publish ignores them.
	Partition int
	Offset    int64
}

// Header is one record header.
type Header struct {
	Key   string
	Value []byte
}

// HeaderValue returns the value of the first header named key, and
// whether there was one.
func (r Record) HeaderValue(key string) ([]byte, bool) {
	for _, h := range r.Headers {
		if h.Key == key {
			return h.Value, true
		}
	}
	return nil, false
}

func toMessage(r Record, now time.Time) kafkago.Message {
	m := kafkago.Message{
		Topic: r.Topic,
		Key:   r.Key,
		Value: r.Value,
		Time:  r.Time,
	}
	if m.Time.IsZero() {
		m.Time = now
	}
	if len(r.Headers) > 0 {
		m.Headers = make([]kafkago.Header, len(r.Headers))
		for i, h := range r.Headers {
			m.Headers[i] = kafkago.Header{Key: h.Key, Value: h.Value}
		}
	}
	return m
}

func fromMessage(m kafkago.Message) Record {
	r := Record{
		Topic:     m.Topic,
		Key:       m.Key,
		Value:     m.Value,
		Time:      m.Time,
		Partition: m.Partition,
		Offset:    m.Offset,
	}
	if len(m.Headers) > 0 {
		r.Headers = make([]Header, len(m.Headers))
		for i, h := range m.Headers {
			r.Headers[i] = Header{Key: h.Key, Value: h.Value}
		}
	}
	return r
}
