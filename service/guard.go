package service

import (
	"context"
	"errors"
	"net/url"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/store"
)

// Write is one resource write as a WriteGuard sees it.
type Write struct {
	Type, ID string
	// Current is the version replaced or deleted; nil when there is none
	// (a create, an update that creates, or a deleted resource).
	Current *store.Resource
	// Next is the resource to store; nil for a delete.
	Next fhir.Object
}

// WriteGuard decides each write of a request inside its transaction,
// after validation and before the store writes: an error refuses the
// write (and, in a transaction Bundle, the whole Bundle). The version it
// saw as Current is the one replaced: a concurrent change makes the write
// fail with store.ErrVersionConflict rather than replace a version the
// guard did not see.
type WriteGuard func(ctx context.Context, w Write) error

type guardKey struct{}

// WithWriteGuard returns ctx with g deciding the writes made with it
// (create, update, patch, delete, conditional ones, Bundle entries).
func WithWriteGuard(ctx context.Context, g WriteGuard) context.Context {
	return context.WithValue(ctx, guardKey{}, g)
}

func guardOf(ctx context.Context) WriteGuard {
	g, _ := ctx.Value(guardKey{}).(WriteGuard)
	return g
}

// guardWrite runs ctx's guard on a write of typ/id (next nil: a delete)
// and returns the version the write must replace (0: no condition to
// add).
func guardWrite(ctx context.Context, r store.Reader, typ, id string, next fhir.Object) (int64, error) {
	g := guardOf(ctx)
	if g == nil {
		return 0, nil
	}
	var cur *store.Resource
	if id != "" {
		c, err := r.Read(ctx, typ, id)
		switch {
		case err == nil:
			cur = c
		case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrDeleted):
		default:
			return 0, err
		}
	}
	if err := g(ctx, Write{Type: typ, ID: id, Current: cur, Next: next}); err != nil {
		return 0, err
	}
	if cur == nil {
		return 0, nil
	}
	return cur.Version, nil
}

// CriteriaGuard decides each search that a request's conditional
// interaction makes to resolve its criteria (If-None-Exist, conditional
// update, patch and delete, the same in Bundle entries) or a conditional
// reference of a Bundle ("Patient?identifier=..."), before it runs: it may
// add parameters to params, the parsed criteria of typ, that confine the
// search (AND), or refuse it with an error. What the criteria match
// decides what is written, so a search outside what the caller may see
// would reveal whether a resource exists there.
type CriteriaGuard func(ctx context.Context, typ string, params url.Values) error

type criteriaGuardKey struct{}

// WithCriteriaGuard returns ctx with g deciding the criteria searches made
// with it.
func WithCriteriaGuard(ctx context.Context, g CriteriaGuard) context.Context {
	return context.WithValue(ctx, criteriaGuardKey{}, g)
}

func criteriaGuardOf(ctx context.Context) CriteriaGuard {
	g, _ := ctx.Value(criteriaGuardKey{}).(CriteriaGuard)
	return g
}
