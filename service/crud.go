package service

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/store"
)

// checkType returns a not-found error unless typ is an R4 resource type.
func (s *Service) checkType(typ string) error {
	if !s.cfg.Validator.IsResourceType(typ) {
		return fhir.Errorf(fhir.IssueNotFound, "unknown resource type %q", typ)
	}
	return nil
}

// prepare checks obj for a write to typ (id as given, or "" to assign):
// its resourceType, its id against the URL, and the R4 definitions.
func (s *Service) prepare(ctx context.Context, obj fhir.Object, typ, id string) error {
	if err := s.checkType(typ); err != nil {
		return err
	}
	rt, ok := obj["resourceType"].(string)
	if !ok {
		return fhir.Errorf(fhir.IssueRequired, "resourceType is missing").At("resourceType")
	}
	if rt != typ {
		return fhir.Errorf(fhir.IssueInvalid, "resourceType %q does not match the URL's type %q", rt, typ).At("resourceType")
	}
	if id != "" {
		bodyID, has := obj["id"]
		if !has {
			return fhir.Errorf(fhir.IssueRequired, "the resource must have an id matching the URL").At(typ + ".id")
		}
		if bodyID != id {
			return fhir.Errorf(fhir.IssueInvalid, "id in the body does not match the id in the URL").At(typ + ".id")
		}
		if !fhir.ValidID(id) {
			return fhir.Errorf(fhir.IssueValue, "invalid id").At(typ + ".id")
		}
	}
	if err := s.cfg.Validator.Resource(obj); err != nil {
		return err
	}
	return s.registerSearchParameter(ctx, obj)
}

// Read returns the current version of typ/id.
func (s *Service) Read(ctx context.Context, typ, id string) (*store.Resource, error) {
	if err := s.checkType(typ); err != nil {
		return nil, err
	}
	return s.cfg.Store.Read(ctx, typ, id)
}

// VRead returns one version of typ/id.
func (s *Service) VRead(ctx context.Context, typ, id string, version int64) (*store.Resource, error) {
	if err := s.checkType(typ); err != nil {
		return nil, err
	}
	return s.cfg.Store.VRead(ctx, typ, id, version)
}

// History returns a page of history (instance, type or system level).
func (s *Service) History(ctx context.Context, q store.HistoryQuery) (*store.HistoryPage, error) {
	if q.Type != "" {
		if err := s.checkType(q.Type); err != nil {
			return nil, err
		}
	}
	return s.cfg.Store.History(ctx, q)
}

// Search parses params for a search on typ ("" for all types) and runs it.
// Warnings name parameters that were ignored.
func (s *Service) Search(ctx context.Context, typ string, params url.Values) (*store.SearchResult, *store.SearchQuery, []fhir.Issue, error) {
	return s.search(ctx, s.cfg.Store, typ, params)
}

func (s *Service) search(ctx context.Context, r store.Reader, typ string, params url.Values) (*store.SearchResult, *store.SearchQuery, []fhir.Issue, error) {
	if typ != "" {
		if err := s.checkType(typ); err != nil {
			return nil, nil, nil, err
		}
	}
	q, warnings, err := ParseSearch(s.cfg.Registry, typ, params, s.parseOptions()...)
	if err != nil {
		return nil, nil, warnings, err
	}
	res, err := r.Search(ctx, q)
	return res, q, warnings, err
}

// parseOptions are the ParseSearch options of this server.
func (s *Service) parseOptions() []ParseOption {
	return []ParseOption{WithBaseURL(s.cfg.BaseURL), WithResourceTypes(s.cfg.Validator.ResourceTypes())}
}

// Create stores obj as a new typ resource with a server-assigned id. With
// ifNoneExist (search criteria, as in the If-None-Exist header) it returns
// the one existing match instead (Status 200), and fails with 412 on
// several matches.
func (s *Service) Create(ctx context.Context, typ string, obj fhir.Object, ifNoneExist string) (Result, error) {
	if ifNoneExist == "" {
		// One statement, one round trip: nothing to read first.
		obj["id"] = s.cfg.NewID()
		if err := s.prepare(ctx, obj, typ, ""); err != nil {
			return Result{}, err
		}
		if _, err := guardWrite(ctx, s.cfg.Store, typ, "", obj); err != nil {
			return Result{}, err
		}
		r, err := s.cfg.Store.Create(ctx, obj)
		if err != nil {
			return Result{}, err
		}
		return Result{Resource: r, Status: http.StatusCreated}, nil
	}
	var res Result
	err := s.cfg.Store.Transaction(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		res, err = s.create(ctx, tx, typ, obj, ifNoneExist, "")
		return err
	})
	return res, err
}

// create is Create inside tx; id, when set, is the id to give the new
// resource (transactions assign ids before processing).
func (s *Service) create(ctx context.Context, tx store.Tx, typ string, obj fhir.Object, ifNoneExist, id string) (Result, error) {
	if ifNoneExist != "" {
		matches, err := s.matchCriteria(ctx, tx, typ, ifNoneExist, lockIfNone)
		if err != nil {
			return Result{}, err
		}
		switch len(matches) {
		case 0:
		case 1:
			return Result{Resource: matches[0], Status: http.StatusOK}, nil
		default:
			return Result{}, multipleMatches("If-None-Exist")
		}
	}
	if id == "" {
		id = s.cfg.NewID()
	}
	// The client's id, if any, is ignored on create (http.html#create).
	obj["id"] = id
	return s.insertNew(ctx, tx, typ, obj, "POST")
}

// insertNew stores obj, whose id is new and server-assigned, as version 1
// of a typ resource made by method.
func (s *Service) insertNew(ctx context.Context, tx store.Tx, typ string, obj fhir.Object, method string) (Result, error) {
	if err := s.prepare(ctx, obj, typ, ""); err != nil {
		return Result{}, err
	}
	if _, err := guardWrite(ctx, tx, typ, "", obj); err != nil {
		return Result{}, err
	}
	r, err := tx.Create(ctx, obj, method)
	if err != nil {
		return Result{}, err
	}
	return Result{Resource: r, Status: http.StatusCreated}, nil
}

// Update stores obj as the new current version of typ/id, creating it when
// it does not exist (update as create). ifMatch > 0 requires that version
// to be current (412 otherwise).
func (s *Service) Update(ctx context.Context, typ, id string, obj fhir.Object, ifMatch int64) (Result, error) {
	var res Result
	err := s.cfg.Store.Transaction(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		res, err = s.update(ctx, tx, typ, id, obj, ifMatch, "PUT")
		return err
	})
	return res, err
}

func (s *Service) update(ctx context.Context, tx store.Tx, typ, id string, obj fhir.Object, ifMatch int64, method string) (Result, error) {
	if err := s.prepare(ctx, obj, typ, id); err != nil {
		return Result{}, err
	}
	return s.updatePrepared(ctx, tx, typ, id, obj, ifMatch, method)
}

// updatePrepared is update of an obj that prepare accepted.
func (s *Service) updatePrepared(ctx context.Context, tx store.Tx, typ, id string, obj fhir.Object, ifMatch int64, method string) (Result, error) {
	seen, err := guardWrite(ctx, tx, typ, id, obj)
	if err != nil {
		return Result{}, err
	}
	if ifMatch == 0 && seen > 0 {
		// Replace only the version the guard decided on.
		r, created, err := tx.Put(ctx, obj, seen, method)
		if err != nil {
			return Result{}, err
		}
		return Result{Resource: r, Status: statusOfPut(created)}, nil
	}
	r, created, err := tx.Put(ctx, obj, ifMatch, method)
	if err != nil {
		if ifMatch > 0 && (errors.Is(err, store.ErrVersionConflict) || errors.Is(err, store.ErrNotFound)) {
			return Result{}, fmt.Errorf("%w: %w", ErrPreconditionFailed, err)
		}
		return Result{}, err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return Result{Resource: r, Status: status}, nil
}

func statusOfPut(created bool) int {
	if created {
		return http.StatusCreated
	}
	return http.StatusOK
}

// ConditionalUpdate updates the one typ resource matching criteria, creates
// one when none matches (with the body's id if it has one), and fails with
// 412 when several match.
func (s *Service) ConditionalUpdate(ctx context.Context, typ, criteria string, obj fhir.Object, ifMatch int64) (Result, error) {
	var res Result
	err := s.cfg.Store.Transaction(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		res, err = s.conditionalUpdate(ctx, tx, typ, criteria, obj, ifMatch, "")
		return err
	})
	return res, err
}

func (s *Service) conditionalUpdate(ctx context.Context, tx store.Tx, typ, criteria string, obj fhir.Object, ifMatch int64, newID string) (Result, error) {
	matches, err := s.matchCriteria(ctx, tx, typ, criteria, lockIfNone)
	if err != nil {
		return Result{}, err
	}
	switch len(matches) {
	case 0:
		id, _ := obj["id"].(string)
		if id == "" {
			if newID == "" {
				newID = s.cfg.NewID()
			}
			obj["id"] = newID
			if ifMatch == 0 {
				// A new server-assigned id names no resource: a create,
				// which a transaction writes with its other creates.
				return s.insertNew(ctx, tx, typ, obj, "PUT")
			}
			id = newID
		}
		return s.update(ctx, tx, typ, id, obj, ifMatch, "PUT")
	case 1:
		id := matches[0].ID
		if bodyID, has := obj["id"]; has && bodyID != id {
			return Result{}, fhir.Errorf(fhir.IssueInvalid, "the id in the body is not the id of the resource matching the criteria").At(typ + ".id")
		}
		obj["id"] = id
		return s.update(ctx, tx, typ, id, obj, ifMatch, "PUT")
	default:
		return Result{}, multipleMatches("conditional update")
	}
}

// Delete deletes typ/id. Deleting a deleted resource succeeds again;
// deleting one that never existed is 404 (http.html#delete allows either;
// a 404 tells a client it has the wrong id).
func (s *Service) Delete(ctx context.Context, typ, id string, ifMatch int64) (Result, error) {
	if err := s.checkType(typ); err != nil {
		return Result{}, err
	}
	var res Result
	err := s.cfg.Store.Transaction(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		res, err = s.delete(ctx, tx, typ, id, ifMatch)
		return err
	})
	return res, err
}

func (s *Service) delete(ctx context.Context, tx store.Tx, typ, id string, ifMatch int64) (Result, error) {
	seen, err := guardWrite(ctx, tx, typ, id, nil)
	if err != nil {
		return Result{}, err
	}
	if ifMatch == 0 && seen > 0 {
		// Delete only the version the guard decided on.
		r, err := tx.Delete(ctx, typ, id, seen)
		if err != nil && !errors.Is(err, store.ErrDeleted) {
			return Result{}, err
		}
		return Result{Resource: r, Status: http.StatusNoContent}, nil
	}
	r, err := tx.Delete(ctx, typ, id, ifMatch)
	switch {
	case errors.Is(err, store.ErrDeleted):
		return Result{Resource: r, Status: http.StatusNoContent}, nil
	case ifMatch > 0 && errors.Is(err, store.ErrVersionConflict):
		return Result{}, fmt.Errorf("%w: %w", ErrPreconditionFailed, err)
	case err != nil:
		return Result{}, err
	}
	return Result{Resource: r, Status: http.StatusNoContent}, nil
}

// ConditionalDelete deletes the typ resource matching criteria: none is
// success with nothing deleted, several is 412.
func (s *Service) ConditionalDelete(ctx context.Context, typ, criteria string) (Result, error) {
	var res Result
	err := s.cfg.Store.Transaction(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		res, err = s.conditionalDelete(ctx, tx, typ, criteria)
		return err
	})
	return res, err
}

func (s *Service) conditionalDelete(ctx context.Context, tx store.Tx, typ, criteria string) (Result, error) {
	matches, err := s.matchCriteria(ctx, tx, typ, criteria, lockAlways)
	if err != nil {
		return Result{}, err
	}
	switch len(matches) {
	case 0:
		return Result{Status: http.StatusNoContent}, nil
	case 1:
		return s.delete(ctx, tx, typ, matches[0].ID, 0)
	default:
		return Result{}, multipleMatches("conditional delete")
	}
}

func multipleMatches(what string) error {
	return fmt.Errorf("%w: %w", ErrPreconditionFailed,
		fhir.Errorf(fhir.IssueMultipleMatches, "the %s criteria match more than one resource", what))
}

// lockMode says when matchCriteria takes the transaction locks of the
// criteria (CriteriaLocks), which keep concurrent conditional interactions
// whose criteria can match one resource from both seeing "no match" and
// creating twice.
type lockMode uint8

const (
	// lockNone: a plain search (conditional references).
	lockNone lockMode = iota
	// lockIfNone: search first, and only when nothing matches take the
	// lock and search again. A match is committed data that a concurrent
	// conditional create would see too, so it needs no lock; reference
	// data that every HL7 message ensures (its sender's Organization, a
	// ward) then does not make all transactions queue on one lock.
	lockIfNone
	// lockAlways: lock, then search (conditional delete, whose match a
	// concurrent conditional create must not return).
	lockAlways
)

// matchCriteria returns up to two current resources of typ matching the
// search criteria (a query string without '?'), locking as mode says.
// Unknown parameters are an error here: ignoring one would widen the
// match. ctx's CriteriaGuard, if any, confines or refuses the search.
func (s *Service) matchCriteria(ctx context.Context, tx store.Tx, typ, criteria string, mode lockMode) ([]*store.Resource, error) {
	if err := s.checkType(typ); err != nil {
		return nil, err
	}
	// Clients send "identifier=x", "?identifier=x" or "Patient?identifier=x".
	if i := strings.IndexByte(criteria, '?'); i >= 0 {
		criteria = criteria[i+1:]
	}
	params, err := url.ParseQuery(criteria)
	if err != nil || len(params) == 0 {
		return nil, fhir.Errorf(fhir.IssueInvalid, "invalid or empty search criteria %q", criteria)
	}
	// The locks are those of the criteria as sent, so that confined and
	// unconfined writers of the same criteria wait for each other.
	locks := CriteriaLocks(typ, params)
	if g := criteriaGuardOf(ctx); g != nil {
		if err := g(ctx, typ, params); err != nil {
			return nil, err
		}
	}
	q, warnings, err := ParseSearch(s.cfg.Registry, typ, params, s.parseOptions()...)
	if err != nil {
		return nil, err
	}
	if len(warnings) > 0 {
		return nil, &fhir.Error{Code: fhir.IssueInvalid, Message: "unknown or unsupported parameter in conditional criteria: " + warnings[0].Diagnostics, More: warnings[1:]}
	}
	q.Count = 2
	q.Total = store.TotalNone
	q.Include, q.RevInclude, q.Sort = nil, nil, nil
	lock := func() error { return tx.Lock(ctx, locks...) }
	if mode == lockAlways {
		if err := lock(); err != nil {
			return nil, err
		}
	}
	res, err := tx.Search(ctx, q)
	if err != nil {
		return nil, err
	}
	if mode == lockIfNone && len(res.Matches) == 0 {
		// Under READ COMMITTED the search after the lock sees what a
		// transaction that held it committed.
		if err := lock(); err != nil {
			return nil, err
		}
		if res, err = tx.Search(ctx, q); err != nil {
			return nil, err
		}
	}
	return res.Matches, nil
}
