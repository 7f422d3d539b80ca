// Package changes is the outbox publisher (design page, flow 5): it takes
// committed changes from the store's outbox in commit order and publishes
// each to the fhir.changes topic as a JSON event, keyed by the id of the
// Patient whose compartment the resource is in (else Type/id), so that a
// consumer sees one patient's changes in order. Delivery is at least once:
// the event id (Type/id/_history/version) is stable, so consumers drop
// repeats. Several processes may run it on one database; one publishes at
// a time.
//
// Each tenant's events go to a topic of its own, Topic + "." + tenant
// (the default tenant's to Topic), so that an integrator of one tenant can
// be granted that topic alone (Kafka ACLs) and never reads another
// tenant's changes; the topic is created when its tenant's first event is
// published.
package changes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/fhirhub/fhirhub/adapters/kafka"
	"github.com/fhirhub/fhirhub/store"
)

// Publisher puts records on a topic (kafka.Producer).
type Publisher interface {
	Publish(ctx context.Context, recs ...kafka.Record) error
}

// Config configures the outbox publisher.
type Config struct {
	// Feed is the store's outbox; required.
	Feed store.ChangeFeed
	// Publisher publishes the events; required.
	Publisher Publisher
	// Topic is where the default tenant's events go
	// (kafka.TopicFHIRChanges); other tenants' go to TopicOf(Topic, tenant).
	Topic string
	// EnsureTopic creates a tenant's topic if it does not exist, before
	// its first event is published (nil: the cluster creates topics on
	// first use, or they are created beforehand).
	EnsureTopic func(ctx context.Context, topic string) error
	// Batch bounds the changes published at once.
	Batch int
	// Interval is how long to wait when the outbox was empty.
	Interval time.Duration
	// MaxContent is the largest resource put into an event; larger ones
	// are left out (consumers read them over REST).
	MaxContent int
	// Skip lists resource types whose changes are taken from the outbox
	// without being published.
	Skip   []string
	Logger *slog.Logger
}

// DefaultConfig returns the defaults; Feed and Publisher must be set.
// AuditEvents are not published: the audit trail is for the admin role
// (it would hand every search's criteria to every consumer of the
// topic), and one is written for every request.
func DefaultConfig() Config {
	return Config{Topic: kafka.TopicFHIRChanges, Batch: 500, Interval: 200 * time.Millisecond, MaxContent: 64 << 10,
		Skip: []string{"AuditEvent"}}
}

// Outbox publishes changes until its Run's ctx is cancelled.
type Outbox struct {
	cfg     Config
	log     *slog.Logger
	ensured sync.Map // topics EnsureTopic created
}

// TopicOf returns the topic of tenant's change events: topic for the
// default tenant "", topic + "." + tenant for others (a tenant is a FHIR
// id, whose characters are all valid in a topic name).
func TopicOf(topic, tenant string) string {
	if tenant == "" {
		return topic
	}
	return topic + "." + tenant
}

// New checks cfg and returns the publisher.
func New(cfg Config) (*Outbox, error) {
	if cfg.Feed == nil || cfg.Publisher == nil {
		return nil, errors.New("changes: config: Feed and Publisher are required")
	}
	def := DefaultConfig()
	if cfg.Topic == "" {
		cfg.Topic = def.Topic
	}
	if cfg.Batch <= 0 {
		cfg.Batch = def.Batch
	}
	if cfg.Interval <= 0 {
		cfg.Interval = def.Interval
	}
	if cfg.MaxContent <= 0 {
		cfg.MaxContent = def.MaxContent
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Outbox{cfg: cfg, log: log}, nil
}

// Run publishes changes until ctx is cancelled, then returns nil. A failed
// publish is retried after Interval, doubling up to 30 s.
func (o *Outbox) Run(ctx context.Context) error {
	wait := o.cfg.Interval
	for {
		n, err := o.cfg.Feed.PublishChanges(ctx, o.cfg.Batch, o.cfg.MaxContent, o.publish)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			o.log.Warn("change events not published; retrying", "in", wait, "err", err)
			wait = min(2*wait, 30*time.Second)
		case n == o.cfg.Batch:
			wait = o.cfg.Interval
			continue // more are waiting
		default:
			wait = o.cfg.Interval
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

func (o *Outbox) publish(ctx context.Context, cs []store.Change) error {
	recs := make([]kafka.Record, 0, len(cs))
	for i := range cs {
		if slices.Contains(o.cfg.Skip, cs[i].Type) {
			continue
		}
		topic := TopicOf(o.cfg.Topic, cs[i].Tenant)
		if err := o.ensure(ctx, topic); err != nil {
			return err
		}
		rec, err := Record(topic, &cs[i])
		if err != nil {
			return err
		}
		recs = append(recs, rec)
	}
	if len(recs) == 0 {
		return nil
	}
	return o.cfg.Publisher.Publish(ctx, recs...)
}

// ensure creates a tenant's topic once per process (EnsureTopic).
func (o *Outbox) ensure(ctx context.Context, topic string) error {
	if o.cfg.EnsureTopic == nil || topic == o.cfg.Topic {
		return nil
	}
	if _, ok := o.ensured.Load(topic); ok {
		return nil
	}
	if err := o.cfg.EnsureTopic(ctx, topic); err != nil {
		return fmt.Errorf("changes: topic %s: %w", topic, err)
	}
	o.ensured.Store(topic, true)
	return nil
}

// Event is the JSON value of a fhir.changes record.
type Event struct {
	// ID is stable per resource version: Type/id/_history/version.
	ID           string    `json:"id"`
	ResourceType string    `json:"resourceType"`
	ResourceID   string    `json:"resourceId"`
	Version      int64     `json:"version"`
	Operation    string    `json:"operation"` // create, update, delete
	Time         time.Time `json:"time"`
	// Patient is the id of the Patient whose compartment the resource is in.
	Patient string `json:"patient,omitempty"`
	// Tenant is the owning tenant ("" for the default tenant) and
	// Facility the facility the version is tagged with, if any.
	Tenant   string `json:"tenant,omitempty"`
	Facility string `json:"facility,omitempty"`
	// Resource is the version's JSON when small enough.
	Resource json.RawMessage `json:"resource,omitempty"`
}

// Record headers of fhir.changes.
const (
	HeaderEventID      = "fhirhub-event-id"
	HeaderResourceType = "fhir-resource-type"
	HeaderOperation    = "fhirhub-operation"
	HeaderTenant       = "fhirhub-tenant"
)

// Record returns the fhir.changes record of c.
func Record(topic string, c *store.Change) (kafka.Record, error) {
	ev := Event{ID: c.EventID(), ResourceType: c.Type, ResourceID: c.ID, Version: c.Version, Operation: c.Operation,
		Time: c.Time.UTC(), Patient: c.Compartment, Tenant: c.Tenant, Facility: c.Facility, Resource: c.Content}
	value, err := json.Marshal(ev)
	if err != nil {
		return kafka.Record{}, err
	}
	key := c.Compartment
	if key == "" {
		key = c.Type + "/" + c.ID
	}
	return kafka.Record{Topic: topic, Key: []byte(key), Value: value, Time: c.Time, Headers: []kafka.Header{
		{Key: HeaderEventID, Value: []byte(ev.ID)},
		{Key: HeaderResourceType, Value: []byte(c.Type)},
		{Key: HeaderOperation, Value: []byte(c.Operation)},
		{Key: "fhirhub-version", Value: []byte(strconv.FormatInt(c.Version, 10))},
		{Key: HeaderTenant, Value: []byte(c.Tenant)},
	}}, nil
}
