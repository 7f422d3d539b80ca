package service

import (
	"context"

	"github.com/fhirhub/fhirhub/store"
)

// Update is an entry of a transaction that updates by criteria (PUT or
// PATCH on Type?criteria) as BundleOptions.Review sees it: its criteria
// resolved, nothing written yet.
type Update struct {
	// Index is the entry's position in Bundle.entry.
	Index int
	// Method is PUT or PATCH.
	Method string
	// Type and Criteria are those of the request URL ("Patient",
	// "identifier=urn:mrn|1").
	Type, Criteria string
	// Matches are the current resources the criteria match: none, one,
	// or two when they select several (the entry then fails).
	Matches []*store.Resource

	e *entry
}

// Ensure turns a PUT into an ensure: a POST with ifNoneExist on the same
// criteria, which creates the resource as the PUT would when nothing
// matches, and changes nothing when something does. Other entries refer
// to it by its fullUrl as before.
func (u *Update) Ensure() {
	e := u.e
	if e.method != "PUT" {
		return
	}
	e.method, e.rawURL, e.ifNone, e.query = "POST", e.typ, e.query, ""
	u.Method = "POST"
}

// Drop removes a PATCH: it changes nothing, and its response entry has
// status 200 and no location.
func (u *Update) Drop() {
	if u.e.method == "PATCH" {
		u.e.dropped = true
	}
}

// reviewUpdates calls review with the transaction's conditional PUT and
// PATCH entries whose criteria are resolved; it returns review's error as
// it is.
func reviewUpdates(ctx context.Context, entries []*entry, review func(context.Context, []*Update) error) error {
	var updates []*Update
	for _, e := range entries {
		if (e.method == "PUT" || e.method == "PATCH") && e.id == "" && e.query != "" && e.resolved {
			updates = append(updates, &Update{Index: e.index, Method: e.method, Type: e.typ, Criteria: e.query, Matches: e.matched, e: e})
		}
	}
	if len(updates) == 0 {
		return nil
	}
	return review(ctx, updates)
}
