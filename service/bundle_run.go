package service

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/fhirhub/fhirhub/fhir"
	"github.com/fhirhub/fhirhub/store"
)

// This file lets the entries of a transaction use what the transaction
// resolved and wrote before them (lockUnmatched, resolveTargets, earlier
// entries) instead of searching and reading again, so that an HL7 v2
// message's Bundle costs few statements:
//
//   - a POST whose ifNoneExist criteria matched nothing, under their
//     locks, creates at once: no concurrent transaction can have created
//     a match since (it would have held the same locks), and one created
//     by an earlier entry of this transaction is looked for in memory
//     (createdMayMatch). The store then gathers the creates and writes
//     them together, which a search between them would prevent;
//   - a conditional PUT that matched nothing creates its resource under
//     a new id like such a POST; one that matched a resource compares its
//     content with the match and writes nothing when only the version
//     metadata differs, as the store would after reading it again;
//   - a conditional PATCH starts from what its criteria matched, or, when
//     they matched nothing at first, from the resource an earlier entry
//     created that they match (patchMatches); a patch that changes
//     nothing writes nothing (patchOnce).
//
// A resource an entry has written is not taken from the start of the
// transaction again (txRun). Under a WriteGuard, which must see every
// write the store makes, writes are not skipped.

// txRun is what one attempt of a transaction has written so far.
type txRun struct {
	written map[string]bool // Type/id of every resource written
	created []*createdResource
	updated map[string]bool // types with a resource written other than by a create
	// speculated: a PUT by id created its resource because it was absent
	// when read (runPutByID).
	speculated bool
}

func newTxRun() *txRun { return &txRun{written: map[string]bool{}, updated: map[string]bool{}} }

// createdResource is a resource an entry of the transaction created, and
// its identifier tokens once needed.
type createdResource struct {
	res    *store.Resource
	obj    fhir.Object // as created; nil once rewritten (res holds it then)
	tokens [][2]string // identifier (system, value) pairs
	known  bool        // tokens is set
}

// wrote records what entry e wrote.
func (r *txRun) wrote(e *entry) {
	res := e.result.Resource
	if e.method == "GET" || e.method == "HEAD" || res == nil {
		return
	}
	r.written[res.Reference()] = true
	switch {
	case (e.method == "POST" || e.method == "PUT") && e.result.Status == http.StatusCreated:
		r.created = append(r.created, &createdResource{res: res, obj: e.resource})
	case (e.method == "PUT" || e.method == "PATCH") && r.rewrote(res):
		// A resource this transaction created, written again (an HL7 v2
		// message's Bundle patches the Patient it creates): the created
		// list holds what it is now, and still knows every resource of
		// the type the transaction wrote.
	default:
		r.updated[res.Type] = true
	}
}

// rewrote replaces, in the created list, the resource res is a new
// version of with res, whose identifiers are read when a criteria needs
// them (tokensMatch); false when res is not one the transaction created.
func (r *txRun) rewrote(res *store.Resource) bool {
	for _, c := range r.created {
		if c.res.Type == res.Type && c.res.ID == res.ID {
			c.res, c.obj, c.tokens, c.known = res, nil, nil, false
			return true
		}
	}
	return false
}

// runCreate performs a POST that its ifNoneExist did not match when the
// transaction resolved it (or that has no ifNoneExist).
func (s *Service) runCreate(ctx context.Context, tx store.Tx, e *entry, run *txRun) error {
	ifNone := e.ifNone
	if e.resolved && len(e.matched) == 0 && !s.createdMayMatch(run, e) {
		ifNone = ""
	}
	var err error
	e.result, err = s.create(ctx, tx, e.typ, e.resource, ifNone, e.assigned)
	return err
}

// runConditionalPut performs a conditional PUT whose target the
// transaction resolved (e.assigned).
func (s *Service) runConditionalPut(ctx context.Context, tx store.Tx, e *entry, run *txRun) error {
	var err error
	switch {
	case e.fresh && e.ifMatch == 0:
		// A new server-assigned id names no resource: a create, which
		// the store writes with the transaction's other creates.
		e.result, err = s.insertNew(ctx, tx, e.typ, e.resource, "PUT")
		return err
	case e.resolved && len(e.matched) == 1 && e.matched[0].ID == e.assigned && e.ifMatch == 0 &&
		guardOf(ctx) == nil && !run.written[e.matched[0].Reference()]:
		if err := s.prepare(ctx, e.resource, e.typ, e.assigned); err != nil {
			return err
		}
		if r := unchangedBy(e.resource, e.matched[0], "PUT"); r != nil {
			e.result = Result{Resource: r, Status: http.StatusOK}
			return nil
		}
		e.result, err = s.updatePrepared(ctx, tx, e.typ, e.assigned, e.resource, 0, "PUT")
		return err
	}
	e.result, err = s.update(ctx, tx, e.typ, e.assigned, e.resource, e.ifMatch, "PUT")
	return err
}

// readTargets reads the resource of each PUT by id (without If-Match)
// before the transaction writes, so that the PUT compares with it, or
// creates it with the transaction's other creates when it is absent,
// instead of reading it when it runs, between creates that the store then
// writes in two statements. A concurrent transaction may create an absent
// one before this one writes it; the store reports that as a version
// conflict, and transaction runs again without reading targets first.
func readTargets(ctx context.Context, tx store.Tx, entries []*entry) error {
	for _, e := range entries {
		if e.method != "PUT" || e.id == "" || e.ifMatch != 0 {
			continue
		}
		r, err := tx.Read(ctx, e.typ, e.id)
		switch {
		case err == nil:
			e.current = r
		case errors.Is(err, store.ErrNotFound):
			e.absent = true
		case errors.Is(err, store.ErrDeleted):
		default:
			return err
		}
	}
	return nil
}

// runPutByID performs a PUT by id whose target readTargets read.
func (s *Service) runPutByID(ctx context.Context, tx store.Tx, e *entry, run *txRun) error {
	if err := s.prepare(ctx, e.resource, e.typ, e.id); err != nil {
		return err
	}
	if e.absent {
		r, err := tx.Create(ctx, e.resource, "PUT")
		if err != nil {
			return err
		}
		run.speculated = true
		e.result = Result{Resource: r, Status: http.StatusCreated}
		return nil
	}
	if r := unchangedBy(e.resource, e.current, "PUT"); r != nil {
		e.result = Result{Resource: r, Status: http.StatusOK}
		return nil
	}
	var err error
	e.result, err = s.updatePrepared(ctx, tx, e.typ, e.id, e.resource, 0, "PUT")
	return err
}

// patchMatches returns the resources a conditional PATCH's criteria
// match, and whether each is as the transaction last read or wrote it
// (the patch may start from it). With run, criteria that matched nothing
// when the transaction began are decided in memory when they can be: by
// identifier only, no resource of the type written other than created,
// and each created one known to match or not (matchesCreated).
func (s *Service) patchMatches(ctx context.Context, tx store.Tx, e *entry, run *txRun) ([]*store.Resource, bool, error) {
	if run == nil {
		m, err := s.entryMatches(ctx, tx, e, e.query, true)
		return m, false, err
	}
	if e.resolved && len(e.matched) > 0 {
		return e.matched, !run.written[e.matched[0].Reference()], nil
	}
	if e.resolved && !run.updated[e.typ] {
		if m, ok := s.matchesCreated(run, e); ok {
			return m, true, nil
		}
	}
	m, err := s.entryMatches(ctx, tx, e, e.query, true)
	return m, true, err // searched now: nothing written since
}

// matchesCreated returns the resources created in run that e's criteria
// match, false when it cannot tell: a parameter other than identifier, or
// a created resource whose identifiers differ from a value only in case.
func (s *Service) matchesCreated(run *txRun, e *entry) ([]*store.Resource, bool) {
	params, err := url.ParseQuery(e.cond.query)
	if err != nil {
		return nil, false
	}
	for name := range params {
		if name != "identifier" {
			return nil, false
		}
	}
	var out []*store.Resource
	for _, c := range run.created {
		if c.res.Type != e.typ {
			continue
		}
		exact, may := s.tokensMatch(c, params)
		if may && !exact {
			return nil, false
		}
		if exact {
			out = append(out, c.res)
		}
	}
	return out, true
}

// createdMayMatch reports whether a resource an earlier entry of the
// transaction created may match e's criteria, so that e must search them
// again. It knows identifier tokens; any other parameter may match.
func (s *Service) createdMayMatch(run *txRun, e *entry) bool {
	var params url.Values
	for _, c := range run.created {
		if c.res.Type != e.typ {
			continue
		}
		if params == nil {
			var err error
			if params, err = url.ParseQuery(e.cond.query); err != nil {
				return true
			}
		}
		if _, may := s.tokensMatch(c, params); may {
			return true
		}
	}
	return false
}

// tokensMatch compares the identifier parameters of params with c's
// identifiers: exact when each has a value one of whose alternatives is
// one of them, as a search finds (system and value equal); may when each
// has one that may be, codes compared without case (a false "may" costs a
// search, a false "no" a duplicate). Other parameters are not looked at.
func (s *Service) tokensMatch(c *createdResource, params url.Values) (exact, may bool) {
	exact, may = true, true
	for name, values := range params {
		if name != "identifier" {
			continue
		}
		if !c.known {
			obj := c.obj
			if obj == nil { // rewritten since it was created: its stored content
				var err error
				if obj, err = fhir.ParseObject(c.res.Content); err != nil {
					return false, true
				}
			}
			vals, err := s.cfg.Registry.Extract(obj)
			if err != nil {
				return false, true
			}
			for _, t := range vals.Tokens {
				if t.Param == "identifier" {
					c.tokens = append(c.tokens, [2]string{t.System, t.Code})
				}
			}
			c.known = true
		}
		for _, v := range values {
			e, m := tokenValueMatch(splitOr(v), c.tokens)
			exact, may = exact && e, may && m
		}
	}
	return exact, may
}

// tokenValueMatch compares a token search value's alternatives
// ("system|code", "|code", "code", "system|") with tokens.
func tokenValueMatch(alts []string, tokens [][2]string) (exact, may bool) {
	for _, a := range alts {
		var system, code string
		hasSystem := false
		switch parts := splitEscaped(a, '|'); len(parts) {
		case 1:
			code = unescape(parts[0])
		case 2:
			system, code, hasSystem = unescape(parts[0]), unescape(parts[1]), true
		default: // not a token value: the search says what it matches
			return false, true
		}
		for _, t := range tokens {
			if hasSystem && t[0] != system {
				continue
			}
			switch {
			case code == "" && hasSystem, t[1] == code:
				return true, true
			case strings.EqualFold(t[1], code):
				may = true
			}
		}
	}
	return false, may
}
