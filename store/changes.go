package store

import (
	"context"
	"strconv"
	"time"
)

// Change is one committed resource version, as the outbox keeps it until
// it is published (design page, flow 5).
type Change struct {
	// Seq orders changes in commit order (per resource, version order).
	Seq       int64
	Type, ID  string
	Version   int64
	Operation string // create, update or delete
	// Compartment is the id of the Patient whose compartment the resource
	// is in ("" for none); a Patient is in its own.
	Compartment string
	// Tenant and Facility are the version's store.Scope: consumers of a
	// topic that several tenants share must route by them.
	Tenant, Facility string
	Time             time.Time
	// Content is the version's JSON (nil for a delete, or when larger
	// than the limit asked for).
	Content []byte
}

// EventID is the change's stable id, Type/id/_history/version, preceded
// by "tenant/" for a tenant other than the default one: ids are unique
// per tenant only.
func (c *Change) EventID() string {
	id := c.Type + "/" + c.ID + "/_history/" + strconv.FormatInt(c.Version, 10)
	if c.Tenant != "" {
		id = c.Tenant + "/" + id
	}
	return id
}

// ChangeFeed hands out committed changes for publishing.
type ChangeFeed interface {
	// PublishChanges takes up to limit unpublished changes in order and
	// calls publish with them; when publish returns nil they are removed
	// from the outbox, else they stay for the next call. One caller at a
	// time, across processes, gets changes; the others get n = 0. Content
	// is included up to maxContent bytes.
	PublishChanges(ctx context.Context, limit, maxContent int, publish func(ctx context.Context, cs []Change) error) (n int, err error)
}
