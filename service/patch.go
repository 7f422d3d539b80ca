package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/store"
)

// Patch applies a JSON Patch to the current version of typ/id and stores
// the result as a new version after validating it. ifMatch > 0 requires
// that version to be current.
func (s *Service) Patch(ctx context.Context, typ, id string, patch []byte, ifMatch int64) (Result, error) {
	if err := s.checkType(typ); err != nil {
		return Result{}, err
	}
	var res Result
	err := s.cfg.Store.Transaction(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		res, err = s.patch(ctx, tx, typ, id, patch, ifMatch, nil)
		return err
	})
	return res, err
}

// ConditionalPatch patches the one typ resource matching criteria.
func (s *Service) ConditionalPatch(ctx context.Context, typ, criteria string, patch []byte, ifMatch int64) (Result, error) {
	var res Result
	err := s.cfg.Store.Transaction(ctx, func(ctx context.Context, tx store.Tx) error {
		matches, err := s.matchCriteria(ctx, tx, typ, criteria, lockIfNone)
		if err != nil {
			return err
		}
		switch len(matches) {
		case 0:
			return fmt.Errorf("service: conditional patch: %w", store.ErrNotFound)
		case 1:
			res, err = s.patch(ctx, tx, typ, matches[0].ID, patch, ifMatch, matches[0])
			return err
		default:
			return multipleMatches("conditional patch")
		}
	})
	return res, err
}

// patch applies patch to typ/id inside tx. known, when set, is the
// resource as tx read it last (a search of its criteria), used instead of
// reading it again.
func (s *Service) patch(ctx context.Context, tx store.Tx, typ, id string, patch []byte, ifMatch int64, known *store.Resource) (Result, error) {
	// Read, apply, write with the version read as the condition. Without
	// If-Match, a write of the resource by a concurrent transaction
	// between the read and the write (the practitioner many HL7 messages
	// name) is no conflict for the client: the write waited for that
	// transaction, and the patch is applied again to what it committed.
	for attempt := 1; ; attempt++ {
		res, err := s.patchOnce(ctx, tx, typ, id, patch, ifMatch, known)
		if ifMatch > 0 || attempt == maxPatchAttempts || !errors.Is(err, store.ErrVersionConflict) {
			return res, err
		}
		known = nil
	}
}

// maxPatchAttempts bounds the retries of a patch whose resource keeps
// changing under it.
const maxPatchAttempts = 5

func (s *Service) patchOnce(ctx context.Context, tx store.Tx, typ, id string, patch []byte, ifMatch int64, known *store.Resource) (Result, error) {
	cur := known
	if cur == nil || cur.Type != typ || cur.ID != id || cur.Deleted || len(cur.Content) == 0 {
		var err error
		if cur, err = tx.Read(ctx, typ, id); err != nil {
			return Result{}, err
		}
	}
	if ifMatch > 0 && cur.Version != ifMatch {
		return Result{}, fmt.Errorf("%w: %w", ErrPreconditionFailed, store.ErrVersionConflict)
	}
	obj, err := fhir.ParseObject(cur.Content)
	if err != nil {
		return Result{}, fmt.Errorf("service: patch: stored %s: %w", cur.Reference(), err)
	}
	patched, err := ApplyJSONPatch(obj, patch)
	if err != nil {
		return Result{}, err
	}
	out, ok := patched.(map[string]any)
	if !ok {
		return Result{}, fhir.Errorf(fhir.IssueInvalid, "the patch does not leave a resource")
	}
	if fhir.ResourceType(out) != typ || fhir.ResourceID(out) != id {
		return Result{}, fhir.Errorf(fhir.IssueInvalid, "a patch must not change resourceType or id")
	}
	// meta.versionId and meta.lastUpdated are set by the store whatever
	// the patch did to them.
	if err := s.prepare(ctx, out, typ, id); err != nil {
		return Result{}, err
	}
	if guardOf(ctx) == nil {
		// A patch that changes nothing (a message processed again) writes
		// nothing, as the store would decide after reading the resource
		// once more.
		if r := unchangedBy(out, cur, "PATCH"); r != nil {
			return Result{Resource: r, Status: http.StatusOK}, nil
		}
	}
	res, err := s.updatePrepared(ctx, tx, typ, id, out, cur.Version, "PATCH")
	if errors.Is(err, ErrPreconditionFailed) && ifMatch == 0 {
		// Changed since we read it: a plain conflict, the client may retry.
		return Result{}, fmt.Errorf("service: patch: %w", store.ErrVersionConflict)
	}
	return res, err
}

// unchangedBy returns the version cur as the outcome of writing obj, when
// obj equals it apart from meta.versionId and meta.lastUpdated: the store
// makes no new version then (store.Tx Put). It returns nil otherwise. It
// sets obj's version metadata to cur's, as the store does before it
// compares.
func unchangedBy(obj fhir.Object, cur *store.Resource, method string) *store.Resource {
	fhir.SetMeta(obj, strconv.FormatInt(cur.Version, 10), cur.LastUpdated)
	content := fhir.MarshalJSON(obj)
	if !bytes.Equal(content, cur.Content) {
		return nil
	}
	return &store.Resource{Type: cur.Type, ID: cur.ID, Version: cur.Version, LastUpdated: cur.LastUpdated, Method: method, Content: content}
}
