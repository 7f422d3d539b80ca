package kafka

import (
	"context"
	"errors"
	"fmt"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// The topics of the system (DESIGN.md, "Kafka").
const (
	// TopicHL7Inbound carries raw ER7 HL7 v2 messages, keyed by patient
	// identifier (PID-3, first repetition) or else the sending facility.
	TopicHL7Inbound = "hl7v2.inbound"
	// TopicHL7DLQ carries HL7 v2 messages that failed processing, with
	// error, attempts and first-failed-at headers; same key as inbound.
	TopicHL7DLQ = "hl7v2.dlq"
	// TopicFHIRChanges carries resource change events, keyed by patient
	// id for patient-compartment resources, else "Type/id".
	TopicFHIRChanges = "fhir.changes"
	// TopicPXJourneyEvents carries patient-journey events, keyed by
	// patient identifier.
	TopicPXJourneyEvents = "px.journey-events"
	// TopicCoverageEligibility carries eligibility checks to run, keyed by
	// medical-aid member number.
	TopicCoverageEligibility = "coverage.eligibility"
)

// DefaultPartitions is the partition count of topics created without an
// explicit count by [EnsureTopics] against the embedded broker, and by the
// embedded broker itself.
const DefaultPartitions = 6

// SystemTopics returns the names of all topics of the system, in a new
// slice the caller may modify.
func SystemTopics() []string {
	return []string{
		TopicHL7Inbound,
		TopicHL7DLQ,
		TopicFHIRChanges,
		TopicPXJourneyEvents,
		TopicCoverageEligibility,
	}
}

// TopicSpec describes a topic for [EnsureTopics].
type TopicSpec struct {
	Name string
	// Partitions is the partition count; 0 means the broker's default
	// (num.partitions; DefaultPartitions on the embedded broker).
	Partitions int
	// ReplicationFactor is the replica count; 0 means the broker's default
	// (default.replication.factor; 1 on the embedded broker). Production
	// clusters should use 3.
	ReplicationFactor int
	// Configs are topic-level configs such as "retention.ms"; may be nil.
	Configs map[string]string
}

// EnsureTopics creates the topics that do not exist yet and waits until the
// cluster's metadata lists every one of them with a leader for each
// partition. It is idempotent: existing topics are left as they are, even
// when their partition count differs from the spec. It costs one
// CreateTopics round trip plus metadata polls until the topics are visible,
// bounded by ctx.
func EnsureTopics(ctx context.Context, cfg Config, topics ...TopicSpec) error {
	if len(topics) == 0 {
		return nil
	}
	if err := cfg.validate(); err != nil {
		return fmt.Errorf("kafka: ensure topics: %w", err)
	}
	req := &kafkago.CreateTopicsRequest{Topics: make([]kafkago.TopicConfig, 0, len(topics))}
	names := make([]string, 0, len(topics))
	for _, t := range topics {
		if err := validateTopicName(t.Name); err != nil {
			return fmt.Errorf("kafka: ensure topics: %w", err)
		}
		if t.Partitions < 0 || t.ReplicationFactor < 0 {
			return fmt.Errorf("kafka: ensure topics: topic %q: negative partitions or replication factor", t.Name)
		}
		tc := kafkago.TopicConfig{
			Topic:             t.Name,
			NumPartitions:     orBrokerDefault(t.Partitions),
			ReplicationFactor: orBrokerDefault(t.ReplicationFactor),
		}
		for k, v := range t.Configs {
			tc.ConfigEntries = append(tc.ConfigEntries, kafkago.ConfigEntry{ConfigName: k, ConfigValue: v})
		}
		req.Topics = append(req.Topics, tc)
		names = append(names, t.Name)
	}

	tr := cfg.transport()
	defer tr.CloseIdleConnections()
	client := &kafkago.Client{Addr: kafkago.TCP(cfg.Brokers...), Transport: tr, Timeout: requestTimeout}

	resp, err := client.CreateTopics(ctx, req)
	if err != nil {
		return fmt.Errorf("kafka: ensure topics: create: %w", err)
	}
	for _, name := range names {
		terr := resp.Errors[name]
		if terr == nil || errors.Is(terr, kafkago.TopicAlreadyExists) {
			continue
		}
		return fmt.Errorf("kafka: ensure topics: create %q: %w", name, terr)
	}
	if err := waitForTopics(ctx, client, names); err != nil {
		return fmt.Errorf("kafka: ensure topics: %w", err)
	}
	cfg.logger().Debug("kafka topics ensured", "topics", names)
	return nil
}

// waitForTopics polls metadata until every topic is listed without error
// and each of its partitions has a leader. Real clusters create topics
// asynchronously, so a producer started right after CreateTopics returns
// could otherwise see UNKNOWN_TOPIC_OR_PARTITION.
func waitForTopics(ctx context.Context, client *kafkago.Client, names []string) error {
	const poll = 50 * time.Millisecond
	for {
		md, err := client.Metadata(ctx, &kafkago.MetadataRequest{Topics: names})
		var lastErr error
		if err != nil {
			lastErr = err
		} else {
			lastErr = topicsReady(md, names)
		}
		if lastErr == nil {
			return nil
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("waiting for topics: %w (last: %w)", ctx.Err(), lastErr)
		case <-t.C:
		}
	}
}

func topicsReady(md *kafkago.MetadataResponse, names []string) error {
	byName := make(map[string]kafkago.Topic, len(md.Topics))
	for _, t := range md.Topics {
		byName[t.Name] = t
	}
	for _, name := range names {
		t, ok := byName[name]
		switch {
		case !ok:
			return fmt.Errorf("topic %q: not in metadata", name)
		case t.Error != nil:
			return fmt.Errorf("topic %q: %w", name, t.Error)
		case len(t.Partitions) == 0:
			return fmt.Errorf("topic %q: no partitions yet", name)
		}
		for _, p := range t.Partitions {
			if p.Error != nil {
				return fmt.Errorf("topic %q partition %d: %w", name, p.ID, p.Error)
			}
			if p.Leader.Host == "" {
				return fmt.Errorf("topic %q partition %d: no leader yet", name, p.ID)
			}
		}
	}
	return nil
}

func orBrokerDefault(n int) int {
	if n == 0 {
		return -1 // CreateTopics v4+: use the broker's default
	}
	return n
}

// validateTopicName applies Kafka's topic name rules: 1 to 249 characters
// from [a-zA-Z0-9._-], and not "." or "..".
func validateTopicName(name string) error {
	if name == "" {
		return errors.New("empty topic name")
	}
	if len(name) > 249 {
		return fmt.Errorf("topic name longer than 249 characters: %q...", name[:32])
	}
	if name == "." || name == ".." {
		return fmt.Errorf("invalid topic name %q", name)
	}
	for _, r := range name {
		ok := r == '.' || r == '_' || r == '-' ||
			(r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		if !ok {
			return fmt.Errorf("topic name %q: character %q not allowed (use [a-zA-Z0-9._-])", name, r)
		}
	}
	return nil
}
