// Package store is the contract between fhirhub's FHIR interactions and the
// database that keeps resources: versioned resources, their history, search
// over index values, and transactions (FHIR R4 http.html: versioning,
// history, transactions). store/postgres implements it.
package store

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/fhirhub/fhirhub/fhir"
)

// Sentinel errors callers branch on. Implementations wrap them, so test
// with errors.Is.
var (
	// ErrNotFound: no resource (or version) with that type and id.
	ErrNotFound = errors.New("store: not found")
	// ErrDeleted: the resource exists but its current version is a deletion.
	ErrDeleted = errors.New("store: deleted")
	// ErrVersionConflict: the expected version is not the current one.
	ErrVersionConflict = errors.New("store: version conflict")
	// ErrSchemaTooNew: the database schema is newer than this binary knows.
	ErrSchemaTooNew = errors.New("store: database schema is newer than this binary")
)

// Resource is one version of a resource as stored.
type Resource struct {
	Type        string
	ID          string
	Version     int64
	LastUpdated time.Time
	Deleted     bool
	// Method is the interaction that made this version: POST, PUT, PATCH or DELETE.
	Method string
	// Content is the canonical JSON of the resource with meta.versionId and
	// meta.lastUpdated set; empty for a deletion.
	Content []byte
}

// ETag returns the weak ETag of r's version, W/"n".
func (r *Resource) ETag() string { return `W/"` + strconv.FormatInt(r.Version, 10) + `"` }

// Reference returns "Type/id".
func (r *Resource) Reference() string { return r.Type + "/" + r.ID }

// Reader reads resources, history and search results.
type Reader interface {
	// Read returns the current version of Type/id: ErrNotFound when it never
	// existed; the deletion version (Deleted set) together with ErrDeleted
	// when its current version is a deletion.
	Read(ctx context.Context, typ, id string) (*Resource, error)
	// VRead returns one version: ErrNotFound when there is no such version.
	// A deletion version is returned with ErrDeleted.
	VRead(ctx context.Context, typ, id string, version int64) (*Resource, error)
	// History returns versions newest first (see HistoryQuery).
	History(ctx context.Context, q HistoryQuery) (*HistoryPage, error)
	// Search runs a search; errors are *fhir.Error (invalid, too-costly) or
	// internal.
	Search(ctx context.Context, q *SearchQuery) (*SearchResult, error)
}

// Tx is a database transaction with the write interactions. A Tx is used by
// one goroutine.
type Tx interface {
	Reader
	// Create stores obj (which must have resourceType and id) as version 1,
	// made by method (POST, or PUT for an update that creates). It returns
	// ErrVersionConflict when a resource with that id exists: at once, or
	// from a later call or the commit, since an implementation may gather
	// creates and write them together.
	Create(ctx context.Context, obj fhir.Object, method string) (*Resource, error)
	// Put stores obj as the next version of its resource, or as version 1
	// when none exists (created is then true). With ifVersion > 0 it returns
	// ErrVersionConflict unless the current version is ifVersion. When obj
	// equals the current version apart from meta.versionId/lastUpdated, no
	// version is made and the current one is returned.
	Put(ctx context.Context, obj fhir.Object, ifVersion int64, method string) (r *Resource, created bool, err error)
	// Delete records a deletion version of Type/id and removes it from
	// search. It returns ErrNotFound when there is nothing to delete and the
	// existing deletion version (with ErrDeleted) when already deleted. With
	// ifVersion > 0 it returns ErrVersionConflict unless current.
	Delete(ctx context.Context, typ, id string, ifVersion int64) (*Resource, error)
	// Lock takes the locks with these names until the transaction ends,
	// so that concurrent conditional interactions with the same criteria
	// run one after another. The locks of one call are taken in one order,
	// the same in every transaction.
	Lock(ctx context.Context, names ...string) error
}

// Store is a FHIR resource store.
type Store interface {
	Reader
	// Create stores obj (with resourceType and id) as version 1 in a
	// transaction of its own, the cheapest way to write one resource. It
	// returns ErrVersionConflict when a resource with that id exists.
	Create(ctx context.Context, obj fhir.Object) (*Resource, error)
	// Transaction runs fn in one database transaction and commits when fn
	// returns nil. Serialization failures and deadlocks are retried (fn may
	// run more than once, so it must have no other side effects).
	Transaction(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
}

// HistoryQuery selects versions for _history at instance (Type and ID set),
// type (Type set) or system level.
type HistoryQuery struct {
	Type  string
	ID    string
	Since time.Time // _since: versions updated at or after
	At    time.Time // _at: the versions current at this instant (zero = not set)
	Count int
	// Cursor is the opaque position returned as HistoryPage.Next.
	Cursor string
}

// HistoryPage is one page of history, newest first.
type HistoryPage struct {
	Versions []*Resource
	Total    int64  // -1 when not counted
	Next     string // cursor of the next page, "" at the end
}
